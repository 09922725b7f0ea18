"""Deterministic synthetic data pack for a fictional social-media service, "Serambi".

Serambi has about 9.3 million Malaysian monthly users at its peak and is observed from 1 Jan 2025 to
30 Jun 2026 (Asia/Kuala_Lumpur): three complete half-years. Every table of the data contract is filled
with documented patterns (see the README.md written into each pack) so that every metric, figure and
notebook of riskkit has something realistic to show.

Same ``(actions, seed)`` -> byte-identical files. Only ``numpy.random.Generator(PCG64)`` streams spawned
from the seed are used; no wall clock, no dict/set ordering dependence. Generation is vectorised and done
month by month, so 10 million actions fit in well under 4 GB.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from riskkit import schema
from riskkit.exceptions import ParameterError
from riskkit.library import Library

__all__ = ["DEFAULT_ACTIONS", "DEFAULT_SEED", "MAX_ACTIONS", "MIN_ACTIONS", "SampleSummary", "generate"]

DEFAULT_ACTIONS: int = 80_000
DEFAULT_SEED: int = 866
MIN_ACTIONS = 100
MAX_ACTIONS = 50_000_000

PLATFORM = "Serambi"
LICENCE_ID = "ASP(C)-SAMPLE-0001"
TIMEZONE = "Asia/Kuala_Lumpur"
AS_OF_TEXT = "2026-07-10T09:00:00+08:00"
SURFACES = ("feed", "short_video", "live", "messages", "comments", "groups", "search", "ads")

_MYT = timezone(timedelta(hours=8))
_OFFSET = 8 * 3600
_DAY = 86_400
_HOUR = 3_600


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> int:
    """Epoch seconds of a Malaysian wall-clock time (MYT has had no DST since 1982)."""
    return int(datetime(y, m, d, hh, mm, tzinfo=_MYT).timestamp())


START = _at(2025, 1, 1)
END = _at(2026, 7, 1)  # exclusive
AS_OF = _at(2026, 7, 10, 9)
N_DAYS = (END - START) // _DAY  # 546
N_MONTHS = 18
MONTHS = tuple(f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(N_MONTHS))
_MONTH_START = np.array([_at(2025 + m // 12, m % 12 + 1, 1) for m in range(N_MONTHS)] + [END], dtype=np.int64)
_HALF_START = np.array([_at(2025, 1, 1), _at(2025, 7, 1), _at(2026, 1, 1), END], dtype=np.int64)
HALVES = ("2025-H1", "2025-H2", "2026-H1")

# Dated events (MYT) that drive the patterns.
SCAM_CLASSIFIER_AT = _at(2025, 7, 1)  # classifier_scam added to the automated tools
LIVE_AT = _at(2025, 8, 5, 10)  # "Live streaming" launch: the live surface exists from here on
ELECTION_START = _at(2025, 11, 1)
ELECTION_END = _at(2025, 12, 7)  # exclusive (the declared period ends 6 Dec 2025)
ONSA_AT = _at(2026, 1, 1)  # Online Safety Act 2025 in force: faster handling
LLM_TRIAGE_AT = _at(2026, 1, 1)  # llm_triage added: some human decisions become hybrid
AI_TOOL_AT = _at(2026, 2, 10, 10)  # "AI image tool" launch: manipulated media rises
CPC_AT = _at(2026, 6, 1)  # Child Protection Code in force: no accounts under 16

HIGH_RISK_PERIODS = (
    {
        "name": "Sabah state election 2025",
        "start": "2025-11-01",
        "end": "2025-12-06",
        "categories": ["hate_speech", "manipulated_media", "bullying_harassment"],
        "source": "declared by the platform's trust-and-safety team (fictional sample)",
    },
)

FEATURES = (
    {
        "feature": "Live streaming",
        "launched_at": LIVE_AT,
        "surfaces": "live;feed",
        "available_to_minors": True,
        "notes": "Creators broadcast live video with real-time comments and gifts, 16-17 need a parent's consent.",
    },
    {
        "feature": "Group video calls",
        "launched_at": _at(2025, 9, 16, 10),
        "surfaces": "messages;groups",
        "available_to_minors": True,
        "notes": "Video calls of up to 32 people inside groups, minors join only groups of accepted contacts.",
    },
    {
        "feature": "AI image tool",
        "launched_at": AI_TOOL_AT,
        "surfaces": "feed;messages",
        "available_to_minors": False,
        "notes": "Generative image creation and editing, outputs carry a visible 'AI' label and C2PA metadata.",
    },
    {
        "feature": "Age check with MyDigital ID",
        "launched_at": _at(2026, 3, 2, 9),
        "surfaces": "feed;messages;live",
        "available_to_minors": True,
        "notes": "Age verification against official records ahead of the Child Protection Code (1 Jun 2026).",
    },
)

# ------------------------------------------------------------------------------------------ category model
# Every table below is keyed by schema.HARM_CATEGORIES (checked by _by_cat); options follow the schema enums.

#: Share of moderation decisions per category before trends (2025-H1 mix).
BASE_SHARE = {
    "csam": 0.02,
    "ncii": 0.04,
    "financial_scam": 0.26,
    "bullying_harassment": 0.22,
    "hate_speech": 0.08,
    "violent_extremism": 0.03,
    "child_self_harm": 0.03,
    "illegal_drugs": 0.05,
    "manipulated_media": 0.05,
    "obscene_indecent": 0.12,
    "other": 0.10,
}

#: detection_source mix: automated, proactive_human, user_report, trusted_flagger, authority.
DETECTION = {
    "csam": (0.93, 0.04, 0.02, 0.005, 0.005),
    "ncii": (0.35, 0.05, 0.52, 0.06, 0.02),
    "financial_scam": (0.15, 0.08, 0.62, 0.05, 0.10),
    "bullying_harassment": (0.18, 0.07, 0.70, 0.04, 0.01),
    "hate_speech": (0.45, 0.10, 0.38, 0.05, 0.02),
    "violent_extremism": (0.70, 0.12, 0.10, 0.04, 0.04),
    "child_self_harm": (0.55, 0.10, 0.30, 0.04, 0.01),
    "illegal_drugs": (0.60, 0.10, 0.22, 0.03, 0.05),
    "manipulated_media": (0.40, 0.10, 0.40, 0.08, 0.02),
    "obscene_indecent": (0.80, 0.05, 0.14, 0.01, 0.00),
    "other": (0.85, 0.03, 0.12, 0.00, 0.00),
}
#: financial_scam detection once classifier_scam is in use (from Jul 2025).
DETECTION_SCAM_WITH_CLASSIFIER = (0.28, 0.08, 0.50, 0.05, 0.09)

#: decision_by mix (automated, human, hybrid) for items detected by automation / by any other route.
DECISION_AUTO_DETECTED = {
    "csam": (0.90, 0.03, 0.07),
    "ncii": (0.60, 0.15, 0.25),
    "financial_scam": (0.55, 0.20, 0.25),
    "bullying_harassment": (0.15, 0.45, 0.40),
    "hate_speech": (0.15, 0.45, 0.40),
    "violent_extremism": (0.50, 0.20, 0.30),
    "child_self_harm": (0.30, 0.40, 0.30),
    "illegal_drugs": (0.60, 0.15, 0.25),
    "manipulated_media": (0.35, 0.30, 0.35),
    "obscene_indecent": (0.75, 0.10, 0.15),
    "other": (0.92, 0.03, 0.05),
}
DECISION_OTHER = {
    "csam": (0.30, 0.40, 0.30),
    "ncii": (0.05, 0.65, 0.30),
    "financial_scam": (0.15, 0.55, 0.30),
    "bullying_harassment": (0.05, 0.70, 0.25),
    "hate_speech": (0.05, 0.70, 0.25),
    "violent_extremism": (0.05, 0.70, 0.25),
    "child_self_harm": (0.05, 0.70, 0.25),
    "illegal_drugs": (0.15, 0.60, 0.25),
    "manipulated_media": (0.05, 0.65, 0.30),
    "obscene_indecent": (0.30, 0.50, 0.20),
    "other": (0.50, 0.30, 0.20),
}
#: From Jan 2026 (llm_triage) this share of "human" decisions becomes "hybrid".
LLM_HUMAN_TO_HYBRID = 0.35

#: action mix per category.
ACTION_MIX = {
    "csam": {"terminate_account": 0.70, "remove": 0.28, "no_violation": 0.02},
    "ncii": {"remove": 0.75, "suspend_account": 0.10, "terminate_account": 0.05, "no_violation": 0.10},
    "financial_scam": {
        "remove": 0.45,
        "suspend_account": 0.30,
        "terminate_account": 0.10,
        "label": 0.03,
        "no_violation": 0.12,
    },
    "bullying_harassment": {
        "remove": 0.40,
        "warn": 0.25,
        "restrict": 0.15,
        "suspend_account": 0.03,
        "no_violation": 0.17,
    },
    "hate_speech": {
        "remove": 0.50,
        "restrict": 0.12,
        "warn": 0.10,
        "label": 0.05,
        "suspend_account": 0.05,
        "no_violation": 0.18,
    },
    "violent_extremism": {"remove": 0.60, "terminate_account": 0.25, "no_violation": 0.15},
    "child_self_harm": {"restrict": 0.30, "age_restrict": 0.25, "remove": 0.30, "label": 0.05, "no_violation": 0.10},
    "illegal_drugs": {"remove": 0.60, "suspend_account": 0.15, "terminate_account": 0.10, "no_violation": 0.15},
    "manipulated_media": {"label": 0.45, "remove": 0.30, "restrict": 0.10, "no_violation": 0.15},
    "obscene_indecent": {"age_restrict": 0.30, "remove": 0.45, "restrict": 0.10, "warn": 0.05, "no_violation": 0.10},
    "other": {"remove": 0.60, "restrict": 0.10, "suspend_account": 0.10, "warn": 0.05, "no_violation": 0.15},
}

#: Lognormal time to action: base median hours and sigma (of ln hours) per category.
HOURS = {
    "csam": (2.6, 1.35),
    "ncii": (6.0, 1.2),
    "financial_scam": (9.5, 1.3),
    "bullying_harassment": (18.5, 1.2),
    "hate_speech": (15.0, 1.2),
    "violent_extremism": (4.0, 1.3),
    "child_self_harm": (3.0, 1.2),
    "illegal_drugs": (12.0, 1.2),
    "manipulated_media": (18.0, 1.3),
    "obscene_indecent": (5.0, 1.4),
    "other": (8.0, 1.5),
}
#: Median multipliers by detection_source (user reports queue longest).
HOURS_BY_SOURCE = {
    "automated": 0.8,
    "proactive_human": 1.0,
    "user_report": 1.25,
    "trusted_flagger": 0.9,
    "authority": 0.7,
}
HOURS_2026 = 0.8  # ONSA in force, bigger team, llm_triage
HOURS_ELECTION = 1.5  # backlog for the high-risk period's categories
MAX_HOURS = 60 * 24
OPEN_BACKLOG = 0.02  # share of items detected in the last 21 days still queued at as_of

IN_MALAYSIA = {
    "csam": 0.70,
    "ncii": 0.90,
    "financial_scam": 0.78,
    "bullying_harassment": 0.92,
    "hate_speech": 0.90,
    "violent_extremism": 0.80,
    "child_self_harm": 0.92,
    "illegal_drugs": 0.85,
    "manipulated_media": 0.82,
    "obscene_indecent": 0.85,
    "other": 0.84,
}
INVOLVES_MINOR = {
    "csam": 1.0,
    "ncii": 0.15,
    "financial_scam": 0.04,
    "bullying_harassment": 0.20,
    "hate_speech": 0.03,
    "violent_extremism": 0.03,
    "child_self_harm": 0.92,
    "illegal_drugs": 0.03,
    "manipulated_media": 0.04,
    "obscene_indecent": 0.06,
    "other": 0.02,
}
REPORTED_TO_AUTHORITY = {
    "csam": 0.98,
    "ncii": 0.12,
    "financial_scam": 0.18,
    "bullying_harassment": 0.01,
    "hate_speech": 0.03,
    "violent_extremism": 0.40,
    "child_self_harm": 0.10,
    "illegal_drugs": 0.12,
    "manipulated_media": 0.02,
    "obscene_indecent": 0.005,
    "other": 0.002,
}
#: Record-keeping gaps per half-year: share of rows without rationale / policy_ref.
MISSING_RATIONALE = (0.05, 0.035, 0.015)
MISSING_POLICY_REF = (0.03, 0.02, 0.008)

#: Surface mix per category before the live surface exists, and the live share after launch.
SURFACE_MIX = {
    "csam": (
        {"messages": 0.45, "feed": 0.15, "short_video": 0.15, "groups": 0.15, "comments": 0.05, "search": 0.05},
        0.05,
    ),
    "ncii": ({"messages": 0.50, "feed": 0.20, "groups": 0.15, "short_video": 0.10, "comments": 0.05}, 0.02),
    "financial_scam": (
        {"ads": 0.22, "messages": 0.30, "feed": 0.20, "groups": 0.13, "comments": 0.10, "search": 0.05},
        0.05,
    ),
    "bullying_harassment": (
        {"comments": 0.40, "messages": 0.25, "feed": 0.15, "groups": 0.10, "short_video": 0.10},
        0.08,
    ),
    "hate_speech": ({"comments": 0.35, "feed": 0.30, "short_video": 0.15, "groups": 0.15, "search": 0.05}, 0.06),
    "violent_extremism": ({"feed": 0.30, "groups": 0.30, "short_video": 0.20, "messages": 0.15, "search": 0.05}, 0.03),
    "child_self_harm": (
        {"short_video": 0.35, "feed": 0.20, "search": 0.20, "comments": 0.10, "messages": 0.15},
        0.08,
    ),
    "illegal_drugs": ({"messages": 0.35, "groups": 0.25, "feed": 0.15, "search": 0.15, "ads": 0.10}, 0.02),
    "manipulated_media": ({"feed": 0.45, "short_video": 0.25, "messages": 0.15, "groups": 0.10, "ads": 0.05}, 0.02),
    "obscene_indecent": (
        {"short_video": 0.35, "feed": 0.25, "messages": 0.15, "comments": 0.10, "search": 0.05, "groups": 0.10},
        0.15,
    ),
    "other": (
        {"comments": 0.45, "messages": 0.20, "feed": 0.15, "groups": 0.10, "ads": 0.05, "search": 0.05},
        0.03,
    ),
}
VIEWS_BY_SURFACE = {
    "feed": 1.0,
    "short_video": 3.0,
    "live": 2.0,
    "messages": 0.05,
    "comments": 0.3,
    "groups": 0.5,
    "search": 0.2,
    "ads": 4.0,
}

_LABEL = {
    "csam": "child sexual abuse material",
    "ncii": "non-consensual intimate imagery",
    "financial_scam": "financial scam or fraud",
    "bullying_harassment": "bullying or harassment",
    "hate_speech": "hate speech (race, religion, royalty)",
    "violent_extremism": "violent extremism or terrorism",
    "child_self_harm": "content encouraging self-harm by children",
    "illegal_drugs": "sale or promotion of illegal drugs",
    "manipulated_media": "manipulated or synthetic media presented as real",
    "obscene_indecent": "obscene or indecent content",
    "other": "spam or platform manipulation",
}
_POLICY = {
    "csam": "SRB-CG 1.1 Child sexual exploitation; ONSA 2025 priority harmful content",
    "ncii": "SRB-CG 1.3 Non-consensual intimate imagery",
    "financial_scam": "SRB-CG 4.2 Scams and fraud; ONSA 2025 priority harmful content",
    "bullying_harassment": "SRB-CG 2.1 Bullying and harassment",
    "hate_speech": "SRB-CG 2.4 Hateful conduct (3R: race, religion, royalty)",
    "violent_extremism": "SRB-CG 3.1 Dangerous organisations and violent extremism",
    "child_self_harm": "SRB-CG 1.5 Suicide, self-harm and dangerous acts by minors",
    "illegal_drugs": "SRB-CG 4.5 Regulated and illegal goods",
    "manipulated_media": "SRB-CG 5.2 Synthetic and manipulated media",
    "obscene_indecent": "SRB-CG 3.4 Adult nudity and sexual content",
    "other": "SRB-CG 6.1 Spam and inauthentic behaviour",
}
_ACTION_TEXT = {
    "remove": "Content removed",
    "restrict": "Reach restricted",
    "age_restrict": "Restricted to adults (18+)",
    "label": "Context label applied",
    "warn": "Warning sent to the account",
    "suspend_account": "Account suspended for 30 days",
    "terminate_account": "Account terminated",
}

#: Reports: reporter mix (user, parent, child) for user reports; delays; unlinked reports.
REPORTER_MIX = {
    "csam": (0.55, 0.35, 0.10),
    "ncii": (0.80, 0.08, 0.12),
    "bullying_harassment": (0.78, 0.08, 0.14),
    "child_self_harm": (0.60, 0.20, 0.20),
}
REPORTER_MIX_DEFAULT = (0.88, 0.06, 0.06)
ACK_MEDIAN_MIN, ACK_SIGMA = 12.0, 1.0  # acknowledgement: median 12 min
ASSESS_MEDIAN_H, ASSESS_SIGMA = 5.0, 1.1  # assessment: median 5 h
UNLINKED_PER_LINKED = 0.55  # reports that led to no action, per report linked to an action
UNLINKED_OUTCOMES = {"no_violation": 0.45, "dismissed": 0.20, "duplicate": 0.35}
UNLINKED_REPORTERS = {"user": 0.80, "parent": 0.07, "child": 0.08, "trusted_flagger": 0.04, "authority": 0.01}

#: Appeals: probability per action; reversal per decision_by; delays.
APPEAL_RATE = {
    "remove": 0.045,
    "restrict": 0.03,
    "age_restrict": 0.025,
    "label": 0.02,
    "warn": 0.03,
    "suspend_account": 0.09,
    "terminate_account": 0.10,
    "no_violation": 0.0,
}
REVERSAL_RATE = {"automated": 0.20, "human": 0.07, "hybrid": 0.12}
APPEAL_FILE_MEDIAN_H, APPEAL_DECIDE_MEDIAN_H = 30.0, 60.0
APPEAL_BACKLOG = 0.25  # share of appeals filed in the 21 days before as_of still awaiting review

#: Authority requests: one per this many actions (at least 60); agency shares and kinds.
ACTIONS_PER_REQUEST = 120
AGENCIES = {
    "PDRM": (0.45, {"takedown": 0.25, "data_disclosure": 0.45, "preservation": 0.20, "emergency": 0.10}),
    "MCMC": (0.25, {"takedown": 0.85, "data_disclosure": 0.10, "preservation": 0.05}),
    "NSRC": (0.18, {"takedown": 0.55, "data_disclosure": 0.20, "preservation": 0.25}),
    "BNM": (0.12, {"takedown": 0.60, "data_disclosure": 0.40}),
}
RESPONSE_HOURS = {
    "emergency": (1.5, 0.7),
    "takedown": (14.0, 1.0),
    "preservation": (20.0, 0.9),
    "data_disclosure": (96.0, 0.8),
}
REQUEST_OUTCOMES = {
    "emergency": {"complied": 0.95, "partial": 0.05},
    "takedown": {"complied": 0.88, "partial": 0.08, "rejected": 0.04},
    "preservation": {"complied": 0.92, "partial": 0.05, "rejected": 0.03},
    "data_disclosure": {"complied": 0.70, "partial": 0.15, "rejected": 0.15},
}
REQUEST_AWAITING_CLARIFICATION = 0.015  # 2026-H1 requests left open awaiting the agency

#: Users: total MAU grows linearly to the peak; band shares; CPC removal in Jun 2026.
MAU_FIRST, MAU_PEAK = 8_450_000, 9_300_000
BAND_SHARE = {"under_13": 0.012, "13_15": 0.058, "16_17": 0.045, "18_plus": 0.845, "unknown": 0.040}
CPC_KEEP = {"under_13": 0.10, "13_15": 0.15}  # residual undetected accounts after 1 Jun 2026

#: Capacity: tools in the order listed, with the month each entered use.
TOOLS = (
    ("hash_matching", "2025-01"),
    ("classifier_scam", "2025-07"),
    ("classifier_nudity", "2025-01"),
    ("llm_triage", "2026-01"),
    ("age_estimation", "2026-03"),
)
FTE = (120, 123, 126, 129, 132, 135, 138, 141, 144, 147, 150, 153, 160, 165, 170, 174, 177, 180)

#: Prevalence: violating views per 10,000 sampled views (base), scaled by the category's trend.
PREVALENCE_PER_10K = {
    "csam": 0.1,
    "ncii": 0.3,
    "financial_scam": 8.0,
    "bullying_harassment": 6.0,
    "hate_speech": 3.0,
    "violent_extremism": 0.5,
    "child_self_harm": 0.6,
    "illegal_drugs": 1.0,
    "manipulated_media": 2.0,
    "obscene_indecent": 4.0,
    "other": 10.0,
}

#: Hour-of-day weights (MYT) for detections: quiet before dawn, peaks at lunch and late evening.
DIURNAL = np.array(
    [35, 22, 14, 10, 9, 12, 22, 33, 40, 43, 45, 47, 52, 50, 46, 45, 46, 48, 50, 55, 60, 63, 60, 50], dtype=float
)
WEEKDAY = np.array([0.97, 0.96, 0.97, 0.99, 1.03, 1.06, 1.02])  # Monday .. Sunday

ROW_GROUP_ROWS = 250_000
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}

_CATS = schema.HARM_CATEGORIES
_NC = len(_CATS)
_CAT = {c: i for i, c in enumerate(_CATS)}
_DET = {d: i for i, d in enumerate(schema.DETECTION_SOURCES)}
_DEC = {d: i for i, d in enumerate(schema.DECISION_MAKERS)}
_ACT = {a: i for i, a in enumerate(schema.ACTIONS)}
_SURF = {s: i for i, s in enumerate(SURFACES)}
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate` wrote: the pack folder, rows per table and the wall time in seconds."""

    path: Path
    rows: dict[str, int]
    seconds: float


# ------------------------------------------------------------------------------------------------ public API


def generate(
    out: str | Path,
    actions: int = DEFAULT_ACTIONS,
    seed: int = DEFAULT_SEED,
    *,
    library: Library,
    overwrite: bool = False,
) -> SampleSummary:
    """Write the Serambi sample data pack (``datapack.yaml``, tables, README.md) into ``out``.

    Refuses a non-empty ``out`` unless ``overwrite``; writes into a temporary sibling folder and renames it
    into place at the end, so an interrupted run never leaves a half-written pack.
    """
    started = time.perf_counter()
    if isinstance(actions, bool) or not isinstance(actions, int | np.integer):
        raise ParameterError(f"actions must be a whole number, got {actions!r}")
    if not MIN_ACTIONS <= actions <= MAX_ACTIONS:
        raise ParameterError(f"actions must be between {MIN_ACTIONS:,} and {MAX_ACTIONS:,}, got {actions:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative whole number, got {seed!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ParameterError(
            f"{out} exists and is not empty; choose an empty folder or pass overwrite=True (--overwrite)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        rows = _write_pack(tmp, int(actions), int(seed), library)
        if out.exists():
            old = tmp.with_name(tmp.name.replace(".partial-", ".old-"))
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SampleSummary(path=out, rows=rows, seconds=time.perf_counter() - started)


# ------------------------------------------------------------------------------------------------ helpers


def _by_cat(table: dict[str, Any]) -> list[Any]:
    """Values of a per-category table in schema order (every category exactly once)."""
    if set(table) != set(_CATS):
        raise AssertionError(f"category table keys differ from schema.HARM_CATEGORIES: {sorted(table)}")
    return [table[c] for c in _CATS]


def _cum(rows: list[list[float]] | np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities (last column exactly 1)."""
    p = np.asarray(rows, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    return cum


def _probs(mapping: dict[str, float], options: tuple[str, ...]) -> list[float]:
    unknown = set(mapping) - set(options)
    if unknown:
        raise AssertionError(f"unknown options {sorted(unknown)}")
    return [mapping.get(o, 0.0) for o in options]


def _pick(rng: np.random.Generator, cum: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One categorical draw per row from the distribution ``cum[group[row]]``."""
    u = rng.random(len(group))
    return (u[:, None] >= cum[group]).sum(axis=1).astype(np.int8)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded sequence numbers ``start+1 .. start+n`` (vectorised)."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64)), pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def _ts(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=_TS, mask=missing)


def _dict(codes: np.ndarray, values: tuple[str, ...] | list[str], missing: np.ndarray | None = None) -> pa.Array:
    index_type = pa.int8() if len(values) < 128 else pa.int16()
    indices = pa.array(codes.astype(index_type.to_pandas_dtype()), type=index_type, mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def _half_of(seconds: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_HALF_START, seconds, side="right") - 1, 0, 2)


def _month_of(seconds: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_MONTH_START, seconds, side="right") - 1, 0, N_MONTHS - 1)


def _myt_text(seconds: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """ISO 8601 with +08:00 offset, '' where missing."""
    text = np.datetime_as_string((seconds.astype(np.int64) + _OFFSET).astype("datetime64[s]"), unit="s")
    text = np.char.add(text.astype(object).astype(str), "+08:00")
    if missing is not None:
        text = np.where(missing, "", text)
    return text


def _bool_text(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false")


def _contract_columns(table: schema.Table, names: Any) -> list[schema.Column]:
    """The contract's columns the generator fills, in contract order (every required one, no unknown one).

    An optional column added to the contract later is left out until the generator learns it (the tests say so).
    """
    unknown = set(names) - set(table.column_names)
    missing = set(table.required_columns) - set(names)
    if unknown or missing:
        raise AssertionError(f"{table.name}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
    return [c for c in table.columns if c.name in names]


def _arrow_schema(table: schema.Table, types: dict[str, pa.DataType]) -> pa.Schema:
    return pa.schema(
        [
            pa.field(c.name, types[c.name], nullable=c.nullable or not c.required)
            for c in _contract_columns(table, types)
        ]
    )


def _write_csv(path: Path, table: schema.Table, columns: dict[str, Any]) -> int:
    names = [c.name for c in _contract_columns(table, columns)]
    frame = pd.DataFrame({k: np.asarray(columns[k], dtype=object) for k in names})
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


# ------------------------------------------------------------------------------------------------ trends


def _mau_totals() -> np.ndarray:
    """Total Malaysian MAU per month before the June 2026 removal of under-16 accounts (peak in May 2026)."""
    peak_month = N_MONTHS - 2
    t = np.minimum(np.arange(N_MONTHS), peak_month)
    return MAU_FIRST + (MAU_PEAK - MAU_FIRST) * t / peak_month


def _day_multipliers() -> np.ndarray:
    """Relative daily intensity per (day, category): users x weekday x category trends."""
    day_start = START + np.arange(N_DAYS, dtype=np.int64) * _DAY
    month = _month_of(day_start)
    mau = _mau_totals()[month] / MAU_FIRST
    weekday = WEEKDAY[(np.arange(N_DAYS) + 2) % 7]  # 1 Jan 2025 was a Wednesday
    w = np.outer(mau * weekday, np.array(_by_cat(BASE_SHARE)))
    # financial_scam: gentle rise through 2025-H2, sharp growth in 2026-H1 (scam syndicates moving in).
    scam = np.array([1.0] * 6 + [1.0, 1.03, 1.06, 1.09, 1.12, 1.15] + [1.6, 1.8, 2.0, 2.15, 2.3, 2.4])
    w[:, _CAT["financial_scam"]] *= scam[month]
    # Sabah state election (declared high-risk period).
    election = (day_start >= ELECTION_START) & (day_start < ELECTION_END)
    w[election, _CAT["hate_speech"]] *= 3.0
    w[election, _CAT["manipulated_media"]] *= 3.0
    w[election, _CAT["bullying_harassment"]] *= 1.4
    # AI image tool: manipulated media 1.8x at launch rising to 2.5x after 120 days.
    since_ai = (day_start - AI_TOOL_AT) / _DAY
    after_ai = since_ai >= 0
    w[after_ai, _CAT["manipulated_media"]] *= 1.8 + 0.7 * np.minimum(1.0, since_ai[after_ai] / 120)
    # Live streaming: more obscene content and child self-harm challenges.
    after_live = day_start >= LIVE_AT - 10 * _HOUR
    w[after_live, _CAT["obscene_indecent"]] *= 1.15
    w[after_live, _CAT["child_self_harm"]] *= 1.10
    return w


# ------------------------------------------------------------------------------------------------ actions


class _Tables:
    """Probability tables derived once from the category model."""

    def __init__(self) -> None:
        surf_pre, surf_post = [], []
        for mix, live in _by_cat(SURFACE_MIX):
            pre = _probs(mix, SURFACES)
            surf_pre.append(pre)
            post = [p * (1 - live) / sum(pre) for p in pre]
            post[_SURF["live"]] = live
            surf_post.append(post)
        self.surface = _cum(surf_pre + surf_post)  # group = cat + NC * after_live
        det = [list(d) for d in _by_cat(DETECTION)]
        det_late = [list(d) for d in det]
        det_late[_CAT["financial_scam"]] = list(DETECTION_SCAM_WITH_CLASSIFIER)
        self.detection = _cum(det + det_late)  # group = cat + NC * after_scam_classifier
        rows = []
        for auto_table in (DECISION_OTHER, DECISION_AUTO_DETECTED):
            for llm in (False, True):
                for a, h, y in _by_cat(auto_table):
                    if llm:
                        a, h, y = a, h * (1 - LLM_HUMAN_TO_HYBRID), y + h * LLM_HUMAN_TO_HYBRID
                    rows.append([a, h, y])
        self.decision = _cum(rows)  # group = cat + NC * (llm + 2 * auto_detected)
        self.action = _cum([_probs(m, schema.ACTIONS) for m in _by_cat(ACTION_MIX)])
        hours = np.array(_by_cat(HOURS), dtype=float)
        self.hours_median, self.hours_sigma = hours[:, 0], hours[:, 1]
        self.hours_source = np.array([HOURS_BY_SOURCE[d] for d in schema.DETECTION_SOURCES])
        self.in_my = np.array(_by_cat(IN_MALAYSIA))
        self.minor = np.array(_by_cat(INVOLVES_MINOR))
        self.to_authority = np.array(_by_cat(REPORTED_TO_AUTHORITY))
        self.views_surface = np.array([VIEWS_BY_SURFACE[s] for s in SURFACES])
        # rationale dictionary: index = cat * n_actions + action
        self.rationales = [
            f"No violation found after review for {_LABEL[c]}."
            if a == "no_violation"
            else f"{_ACTION_TEXT[a]}: {_LABEL[c]}."
            for c in _CATS
            for a in schema.ACTIONS
        ]
        self.policies = _by_cat(_POLICY)
        self.reporters = _cum([REPORTER_MIX.get(c, REPORTER_MIX_DEFAULT) for c in _CATS])
        self.appeal_rate = np.array([APPEAL_RATE[a] for a in schema.ACTIONS])
        self.reversal = np.array([REVERSAL_RATE[d] for d in schema.DECISION_MAKERS])


def _cell_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Actions per (day, category): multinomial on the trend intensities, every category in every half-year."""
    w = _day_multipliers()
    counts = rng.multinomial(n, (w / w.sum()).ravel()).reshape(w.shape)
    half = _half_of(START + np.arange(N_DAYS, dtype=np.int64) * _DAY)
    days = [np.flatnonzero(half == h) for h in range(3)]
    for h in range(3):
        for c in range(_NC):
            if counts[days[h], c].sum() == 0:  # only possible for tiny packs: move one from the largest group
                groups = np.array([counts[days[g]].sum(axis=0) for g in range(3)])
                gh, gc = np.unravel_index(np.argmax(groups), groups.shape)
                counts[days[gh][np.argmax(counts[days[gh], gc])], gc] -= 1
                counts[days[h][int(rng.integers(len(days[h])))], c] += 1
    return counts


def _month_actions(rng: np.random.Generator, t: _Tables, counts: np.ndarray, first_day: int) -> dict[str, np.ndarray]:
    """Vectorised attributes of one month's actions, sorted by detected_at."""
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    day = first_day + cell // _NC
    hour = rng.choice(24, size=cell.size, p=DIURNAL / DIURNAL.sum())
    detected = START + day.astype(np.int64) * _DAY + hour * _HOUR + rng.integers(0, _HOUR, cell.size)
    order = np.argsort(detected, kind="stable")
    detected = detected[order]
    cat = (cell % _NC)[order].astype(np.int8)
    n = cat.size
    del cell, day, hour, order

    half = _half_of(detected)
    surface = _pick(rng, t.surface, cat + _NC * (detected >= LIVE_AT))
    source = _pick(rng, t.detection, cat + _NC * (detected >= SCAM_CLASSIFIER_AT))
    auto = source == _DET["automated"]
    decision = _pick(rng, t.decision, cat + _NC * ((detected >= LLM_TRIAGE_AT) + 2 * auto))
    action = _pick(rng, t.action, cat)

    median = t.hours_median[cat] * t.hours_source[source]
    median = np.where(detected >= ONSA_AT, median * HOURS_2026, median)
    hrp = np.isin(cat, [_CAT[c] for c in HIGH_RISK_PERIODS[0]["categories"]])
    median = np.where(hrp & (detected >= ELECTION_START) & (detected < ELECTION_END), median * HOURS_ELECTION, median)
    hours = np.clip(_lognormal(rng, median, t.hours_sigma[cat], n), 0.01, MAX_HOURS)
    actioned = detected + np.maximum(30, np.rint(hours * _HOUR)).astype(np.int64)
    backlog = (detected >= END - 21 * _DAY) & (rng.random(n) < OPEN_BACKLOG)
    is_open = (actioned > AS_OF) | backlog

    in_my = rng.random(n) < t.in_my[cat]
    missing_rationale = rng.random(n) < np.array(MISSING_RATIONALE)[half]
    missing_policy = rng.random(n) < np.array(MISSING_POLICY_REF)[half]
    minor = rng.random(n) < t.minor[cat]
    violation = action != _ACT["no_violation"]
    to_authority = (rng.random(n) < t.to_authority[cat]) & violation
    content_no = rng.integers(1_000_000_000, 10_000_000_000, n)
    account = np.isin(action, [_ACT[a] for a in schema.ACCOUNT_ACTIONS])
    pre_publication = auto & (rng.random(n) < 0.55)
    views = _lognormal(rng, 40.0 * (1.0 + hours) ** 0.8 * t.views_surface[surface], 1.3, n)
    views = np.where(pre_publication, 0, np.minimum(np.floor(views), 5e7)).astype(np.int64)
    return {
        "cat": cat,
        "surface": surface,
        "detected": detected,
        "actioned": actioned,
        "open": is_open,
        "source": source,
        "decision": decision,
        "action": action,
        "in_my": in_my,
        "rationale": cat.astype(np.int16) * len(schema.ACTIONS) + action,
        "missing_rationale": missing_rationale,
        "missing_policy": missing_policy,
        "content_no": content_no,
        "account": account,
        "minor": minor,
        "views": views,
        "to_authority": to_authority,
    }


def _actions_table(a: dict[str, np.ndarray], ids: pa.Array, t: _Tables, sch: pa.Schema) -> pa.Table:
    content = pc.cast(pa.array(a["content_no"]), pa.string())
    content = pc.if_else(
        pa.array(a["account"]),
        pc.binary_join_element_wise("u", content, ""),
        pc.binary_join_element_wise("c", content, ""),
    )
    cols = {
        "action_id": ids,
        "category": _dict(a["cat"], _CATS),
        "surface": _dict(a["surface"], SURFACES),
        "detected_at": _ts(a["detected"]),
        "actioned_at": _ts(a["actioned"], a["open"]),
        "detection_source": _dict(a["source"], schema.DETECTION_SOURCES),
        "decision_by": _dict(a["decision"], schema.DECISION_MAKERS),
        "action": _dict(a["action"], schema.ACTIONS),
        "in_malaysia": pa.array(a["in_my"]),
        "rationale": _dict(a["rationale"], t.rationales, a["missing_rationale"]),
        "policy_ref": _dict(a["cat"], t.policies, a["missing_policy"]),
        "content_id": content,
        "involves_minor": pa.array(a["minor"]),
        "views_before_action": pa.array(a["views"], mask=a["open"]),
        "reported_to_authority": pa.array(a["to_authority"]),
    }
    return pa.Table.from_arrays([cols[f.name] for f in sch], schema=sch)


# ------------------------------------------------------------------------------------------------ reports


def _month_reports(
    rng: np.random.Generator, t: _Tables, a: dict[str, np.ndarray], action_ids: pa.Array
) -> dict[str, Any]:
    """Reports linked to this month's reported actions, plus reports that led to no action."""
    linked = np.flatnonzero(a["source"] >= _DET["user_report"])
    nl = linked.size
    received_l = a["detected"][linked]
    cat_l = a["cat"][linked]
    src = a["source"][linked]
    reporter_l = _pick(rng, t.reporters, cat_l)  # 0 user, 1 parent, 2 child
    reporter_l = np.where(src == _DET["trusted_flagger"], 3, np.where(src == _DET["authority"], 4, reporter_l))
    open_l = a["open"][linked]
    in_my_l = a["in_my"][linked]
    resolved_l = a["actioned"][linked]
    outcome_l = np.where(a["action"][linked] == _ACT["no_violation"], 1, 0)
    outcome_l = np.where(open_l, 4, outcome_l)

    n_un = round(nl * UNLINKED_PER_LINKED) if nl else 0
    base = rng.integers(0, max(nl, 1), n_un)
    outcome_u = _pick(rng, _cum([_probs(UNLINKED_OUTCOMES, schema.REPORT_OUTCOMES)]), np.zeros(n_un, np.int8))
    dup = outcome_u == schema.REPORT_OUTCOMES.index("duplicate")
    jitter = np.where(
        dup,
        np.rint(_lognormal(rng, 2.0 * _HOUR, 1.0, n_un)),
        rng.integers(-2 * _DAY, 2 * _DAY, n_un),
    ).astype(np.int64)
    received_u = np.clip(received_l[base] + jitter, START, END - 1) if nl else np.zeros(0, np.int64)
    cat_u = cat_l[base] if nl else np.zeros(0, np.int8)
    reporter_u = _pick(rng, _cum([_probs(UNLINKED_REPORTERS, schema.REPORTER_TYPES)]), np.zeros(n_un, np.int8))
    resolve_u = np.where(dup, _lognormal(rng, 2.0, 1.0, n_un), _lognormal(rng, 10.0, 1.1, n_un))
    resolved_u = received_u + np.maximum(60, np.rint(resolve_u * _HOUR)).astype(np.int64)
    open_u = resolved_u > AS_OF
    outcome_u = np.where(open_u, 4, outcome_u)

    received = np.concatenate([received_l, received_u])
    resolved = np.concatenate([resolved_l, resolved_u])
    is_open = np.concatenate([open_l, open_u])
    m = received.size
    ack = received + np.maximum(5, np.rint(_lognormal(rng, ACK_MEDIAN_MIN * 60, ACK_SIGMA, m))).astype(np.int64)
    assess = received + np.maximum(60, np.rint(_lognormal(rng, ASSESS_MEDIAN_H * _HOUR, ASSESS_SIGMA, m))).astype(
        np.int64
    )
    assess = np.where(is_open, assess, np.minimum(assess, resolved))
    ack = np.minimum(ack, assess)
    order = np.argsort(received, kind="stable")
    action_idx = np.concatenate([linked, np.full(n_un, -1)])[order]
    return {
        "received": received[order],
        "cat": np.concatenate([cat_l, cat_u])[order],
        "reporter": np.concatenate([reporter_l, reporter_u])[order].astype(np.int8),
        "ack": ack[order],
        "assess": assess[order],
        "resolved": resolved[order],
        "open": is_open[order],
        "outcome": np.concatenate([outcome_l, outcome_u])[order].astype(np.int8),
        "action_idx": action_idx,
        "action_ids": action_ids,
        "in_my": np.concatenate([in_my_l, in_my_l[base] if nl else np.zeros(0, bool)])[order],
    }


def _reports_table(r: dict[str, Any], ids: pa.Array, sch: pa.Schema) -> pa.Table:
    idx = r["action_idx"]
    no_link = idx < 0
    linked_ids = r["action_ids"].take(pa.array(np.where(no_link, 0, idx), mask=no_link))
    cols = {
        "report_id": ids,
        "received_at": _ts(r["received"]),
        "category": _dict(r["cat"], _CATS),
        "reporter_type": _dict(r["reporter"], schema.REPORTER_TYPES),
        "acknowledged_at": _ts(r["ack"], r["ack"] > AS_OF),
        "assessed_at": _ts(r["assess"], r["assess"] > AS_OF),
        "resolved_at": _ts(r["resolved"], r["open"]),
        "outcome": _dict(r["outcome"], schema.REPORT_OUTCOMES),
        "action_id": linked_ids,
        "in_malaysia": pa.array(r["in_my"]),
    }
    return pa.Table.from_arrays([cols[f.name] for f in sch], schema=sch)


# ------------------------------------------------------------------------------------------------ appeals


def _month_appeals(rng: np.random.Generator, t: _Tables, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = a["cat"].size
    appealed = (rng.random(n) < t.appeal_rate[a["action"]]) & ~a["open"]
    idx = np.flatnonzero(appealed)
    k = idx.size
    filed = a["actioned"][idx] + np.maximum(300, np.rint(_lognormal(rng, APPEAL_FILE_MEDIAN_H * _HOUR, 1.0, k)))
    decided = filed + np.maximum(600, np.rint(_lognormal(rng, APPEAL_DECIDE_MEDIAN_H * _HOUR, 0.9, k)))
    reversed_ = rng.random(k) < t.reversal[a["decision"][idx]]
    keep = filed <= AS_OF
    idx, filed, decided, reversed_ = (
        idx[keep],
        filed[keep].astype(np.int64),
        decided[keep].astype(np.int64),
        reversed_[keep],
    )
    is_open = (decided > AS_OF) | ((filed >= AS_OF - 21 * _DAY) & (rng.random(filed.size) < APPEAL_BACKLOG))
    outcome = np.where(is_open, 2, np.where(reversed_, 1, 0)).astype(np.int8)
    order = np.argsort(filed, kind="stable")
    return {
        "action_idx": idx[order],
        "filed": filed[order],
        "decided": decided[order],
        "open": is_open[order],
        "outcome": outcome[order],
    }


def _appeals_table(p: dict[str, np.ndarray], ids: pa.Array, action_ids: pa.Array, sch: pa.Schema) -> pa.Table:
    cols = {
        "appeal_id": ids,
        "action_id": action_ids.take(pa.array(p["action_idx"])),
        "filed_at": _ts(p["filed"]),
        "decided_at": _ts(p["decided"], p["open"]),
        "outcome": _dict(p["outcome"], schema.APPEAL_OUTCOMES),
    }
    return pa.Table.from_arrays([cols[f.name] for f in sch], schema=sch)


# ------------------------------------------------------------------------------------------------ event tables


class _Stats:
    """Exact figures of the generated events, gathered month by month for the pack's README."""

    def __init__(self, daily: np.ndarray) -> None:
        z = np.zeros
        self.daily = daily  # actions per (day, category)
        self.count, self.proactive = z((3, _NC), np.int64), z((3, _NC), np.int64)
        self.closed, self.breach = z((3, _NC), np.int64), z((3, _NC), np.int64)
        self.closed_rep, self.breach_rep = z((_NC, 2), np.int64), z((_NC, 2), np.int64)
        self.decision = z((_NC, len(schema.DECISION_MAKERS)), np.int64)
        self.action = z((_NC, len(schema.ACTIONS)), np.int64)
        self.surface = z(len(SURFACES), np.int64)
        self.half_n, self.no_rationale, self.no_policy = z(3, np.int64), z(3, np.int64), z(3, np.int64)
        self.in_my = self.open_actions = self.reported_actions = 0
        self.hours: list[tuple[np.ndarray, np.ndarray]] = []
        self.report_outcome = z(len(schema.REPORT_OUTCOMES), np.int64)
        self.reporter = z(len(schema.REPORTER_TYPES), np.int64)
        self.linked = self.ack_ok = self.ack_n = self.assess_ok = self.assess_n = 0
        self.appeals = self.appealable = self.appeals_open = 0
        self.appeal_decided = z(len(schema.DECISION_MAKERS), np.int64)
        self.appeal_reversed = z(len(schema.DECISION_MAKERS), np.int64)

    def add(self, a: dict[str, np.ndarray], r: dict[str, Any], p: dict[str, np.ndarray]) -> None:
        def count(keys: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
            return np.bincount(keys, minlength=int(np.prod(shape))).reshape(shape)

        cat = a["cat"].astype(np.intp)
        half = _half_of(a["detected"])
        hc = half * _NC + cat
        closed = ~a["open"]
        hours = (a["actioned"] - a["detected"]) / _HOUR
        late = closed & (hours > 24)
        reported = (a["source"] >= _DET["user_report"]).astype(np.intp)
        self.count += count(hc, (3, _NC))
        self.proactive += count(hc[a["source"] <= _DET["proactive_human"]], (3, _NC))
        self.closed += count(hc[closed], (3, _NC))
        self.breach += count(hc[late], (3, _NC))
        self.closed_rep += count((cat * 2 + reported)[closed], (_NC, 2))
        self.breach_rep += count((cat * 2 + reported)[late], (_NC, 2))
        self.decision += count(cat * len(schema.DECISION_MAKERS) + a["decision"], self.decision.shape)
        self.action += count(cat * len(schema.ACTIONS) + a["action"], self.action.shape)
        self.surface += count(a["surface"].astype(np.intp), self.surface.shape)
        self.half_n += count(half, (3,))
        self.no_rationale += count(half[a["missing_rationale"]], (3,))
        self.no_policy += count(half[a["missing_policy"]], (3,))
        self.in_my += int(a["in_my"].sum())
        self.open_actions += int(a["open"].sum())
        self.reported_actions += int(reported.sum())
        self.hours.append((a["cat"][closed], hours[closed].astype(np.float32)))
        self.report_outcome += count(r["outcome"].astype(np.intp), self.report_outcome.shape)
        self.reporter += count(r["reporter"].astype(np.intp), self.reporter.shape)
        self.linked += int((r["action_idx"] >= 0).sum())
        acked, assessed = r["ack"] <= AS_OF, r["assess"] <= AS_OF
        self.ack_n += int(acked.sum())
        self.ack_ok += int((acked & (r["ack"] - r["received"] <= _HOUR)).sum())
        self.assess_n += int(assessed.sum())
        self.assess_ok += int((assessed & (r["assess"] - r["received"] <= 12 * _HOUR)).sum())
        self.appeals += p["filed"].size
        self.appealable += int((a["action"] != _ACT["no_violation"]).sum())
        self.appeals_open += int(p["open"].sum())
        decided = ~p["open"]
        maker = a["decision"][p["action_idx"]].astype(np.intp)
        self.appeal_decided += count(maker[decided], self.appeal_decided.shape)
        self.appeal_reversed += count(maker[decided & (p["outcome"] == 1)], self.appeal_reversed.shape)

    def hour_quantiles(self) -> np.ndarray:
        """(median, p90) hours to action per category, closed items."""
        cats = np.concatenate([c for c, _ in self.hours])
        hours = np.concatenate([h for _, h in self.hours])
        out = np.full((_NC, 2), np.nan)
        for c in range(_NC):
            values = hours[cats == c]
            if values.size:
                out[c] = np.percentile(values, [50, 90])
        return out


class _ParquetSink:
    """Buffers Arrow tables and writes row groups of about ROW_GROUP_ROWS rows with fixed options."""

    def __init__(self, path: Path, sch: pa.Schema) -> None:
        self.writer = pq.ParquetWriter(path, sch, **PARQUET_OPTIONS)
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            table = pa.concat_tables(self.buffer)
            self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
            self.rows += table.num_rows
            self.buffer, self.buffered = [], 0

    def close(self) -> int:
        self.flush()
        self.writer.close()
        return self.rows


def _write_events(folder: Path, n: int, streams: Iterator[np.random.Generator]) -> tuple[dict[str, int], _Stats]:
    """actions, reports and appeals, month by month (bounded memory)."""
    rng_a, rng_r, rng_p = next(streams), next(streams), next(streams)
    t = _Tables()
    counts = _cell_counts(rng_a, n)
    stats = _Stats(counts)
    sch_a = _arrow_schema(
        schema.ACTIONS_TABLE,
        {
            "action_id": pa.string(),
            "category": pa.dictionary(pa.int8(), pa.string()),
            "surface": pa.dictionary(pa.int8(), pa.string()),
            "detected_at": _TS,
            "actioned_at": _TS,
            "detection_source": pa.dictionary(pa.int8(), pa.string()),
            "decision_by": pa.dictionary(pa.int8(), pa.string()),
            "action": pa.dictionary(pa.int8(), pa.string()),
            "in_malaysia": pa.bool_(),
            "rationale": pa.dictionary(pa.int16(), pa.string()),
            "policy_ref": pa.dictionary(pa.int8(), pa.string()),
            "content_id": pa.string(),
            "involves_minor": pa.bool_(),
            "views_before_action": pa.int64(),
            "reported_to_authority": pa.bool_(),
        },
    )
    sch_r = _arrow_schema(
        schema.REPORTS_TABLE,
        {
            "report_id": pa.string(),
            "received_at": _TS,
            "category": pa.dictionary(pa.int8(), pa.string()),
            "reporter_type": pa.dictionary(pa.int8(), pa.string()),
            "acknowledged_at": _TS,
            "assessed_at": _TS,
            "resolved_at": _TS,
            "outcome": pa.dictionary(pa.int8(), pa.string()),
            "action_id": pa.string(),
            "in_malaysia": pa.bool_(),
        },
    )
    sch_p = _arrow_schema(
        schema.APPEALS_TABLE,
        {
            "appeal_id": pa.string(),
            "action_id": pa.string(),
            "filed_at": _TS,
            "decided_at": _TS,
            "outcome": pa.dictionary(pa.int8(), pa.string()),
        },
    )
    sinks = {
        "actions": _ParquetSink(folder / "actions.parquet", sch_a),
        "reports": _ParquetSink(folder / "reports.parquet", sch_r),
        "appeals": _ParquetSink(folder / "appeals.parquet", sch_p),
    }
    day_of_month = _month_of(START + np.arange(N_DAYS + 1, dtype=np.int64) * _DAY)
    n_a = n_r = n_p = 0
    for m in range(N_MONTHS):
        days = np.flatnonzero(day_of_month[:N_DAYS] == m)
        a = _month_actions(rng_a, t, counts[days[0] : days[-1] + 1], int(days[0]))
        ids = _ids("A", n_a, a["cat"].size, 8)
        n_a += a["cat"].size
        sinks["actions"].add(_actions_table(a, ids, t, sch_a))
        r = _month_reports(rng_r, t, a, ids)
        sinks["reports"].add(_reports_table(r, _ids("R", n_r, r["received"].size, 8), sch_r))
        n_r += r["received"].size
        p = _month_appeals(rng_p, t, a)
        sinks["appeals"].add(_appeals_table(p, _ids("AP", n_p, p["filed"].size, 7), ids, sch_p))
        n_p += p["filed"].size
        stats.add(a, r, p)
        del a, r, p, ids
    return {name: sink.close() for name, sink in sinks.items()}, stats


def _authority_frame(n_actions: int, rng: np.random.Generator) -> dict[str, Any]:
    n = max(60, n_actions // ACTIONS_PER_REQUEST)
    agencies = list(AGENCIES)
    day_start = START + np.arange(N_DAYS, dtype=np.int64) * _DAY
    w = _day_multipliers()
    total = w.sum(axis=1)
    scam = w[:, _CAT["financial_scam"]] / w[:, _CAT["financial_scam"]].mean()
    weights = np.stack([AGENCIES[g][0] * (total * scam if g in ("NSRC", "BNM") else total) for g in agencies], axis=1)
    counts = rng.multinomial(n, (weights / weights.sum()).ravel()).reshape(weights.shape)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day, agency = cell // len(agencies), (cell % len(agencies)).astype(np.int8)
    office = np.array([1] * 8 + [6] * 10 + [2] * 6, dtype=float)  # agencies write mostly in office hours
    received = day_start[day] + rng.choice(24, size=cell.size, p=office / office.sum()) * _HOUR
    received += rng.integers(0, _HOUR, cell.size)
    order = np.argsort(received, kind="stable")
    received, agency = received[order], agency[order]
    kinds = list(schema.REQUEST_KINDS)
    kind = _pick(rng, _cum([_probs(AGENCIES[g][1], schema.REQUEST_KINDS) for g in agencies]), agency)
    med = np.array([RESPONSE_HOURS[k][0] for k in kinds])[kind]
    sig = np.array([RESPONSE_HOURS[k][1] for k in kinds])[kind]
    responded = received + np.maximum(300, np.rint(_lognormal(rng, med * _HOUR, sig, cell.size))).astype(np.int64)
    outcome = _pick(rng, _cum([_probs(REQUEST_OUTCOMES[k], schema.REQUEST_OUTCOMES) for k in kinds]), kind)
    waiting = (received >= _HALF_START[2]) & (rng.random(cell.size) < REQUEST_AWAITING_CLARIFICATION)
    is_open = (responded > AS_OF) | waiting
    if not is_open.any():  # small packs: the latest request is still being handled
        is_open[-1] = True
    outcome = np.where(is_open, schema.REQUEST_OUTCOMES.index("open"), outcome)
    return {
        "request_id": _ids("AR", 0, cell.size, 6).to_numpy(zero_copy_only=False),
        "agency": np.array(agencies, dtype=object)[agency],
        "kind": np.array(kinds, dtype=object)[kind],
        "received_at": _myt_text(received),
        "responded_at": _myt_text(responded, is_open),
        "outcome": np.array(schema.REQUEST_OUTCOMES, dtype=object)[outcome],
    }


def _users_frame(rng: np.random.Generator) -> dict[str, list[Any]]:
    totals = _mau_totals()
    peak = int(np.argmax(totals))
    noise = 1 + rng.normal(0, 0.002, N_MONTHS)
    totals = totals * noise
    totals = np.minimum(totals, np.where(np.arange(N_MONTHS) == peak, np.inf, 0.998 * totals[peak]))
    months, bands, mau, verified = [], [], [], []
    for m, month in enumerate(MONTHS):
        noise = 1 + rng.normal(0, 0.004, len(schema.AGE_BANDS))
        shares = np.array([BAND_SHARE[b] for b in schema.AGE_BANDS]) * noise
        if m >= 12:  # 2026: age checks move "unknown" accounts into bands
            shares[schema.AGE_BANDS.index("unknown")] *= 1 - 0.06 * (m - 11)
        counts = totals[m] * shares / shares.sum()
        for b, band in enumerate(schema.AGE_BANDS):
            value = counts[b]
            if month == MONTHS[-1] and band in CPC_KEEP:
                value *= CPC_KEEP[band]
            months.append(month)
            bands.append(band)
            mau.append(round(value))
            verified.append(_verified_share(band, m))
    return {"month": months, "age_band": bands, "mau": mau, "age_verified": [f"{v:.4f}" for v in verified]}


def _verified_share(band: str, m: int) -> float:
    """Share of the band's accounts with a verified age: a trickle in 2025, sharp rise in 2026."""
    if band in ("unknown", "under_13"):
        return 0.0
    ramp_2026 = {"18_plus": (0.10, 0.14, 0.25, 0.40, 0.52, 0.63), "16_17": (0.12, 0.18, 0.35, 0.55, 0.70, 0.85)}
    ramp_2026["13_15"] = (0.10, 0.15, 0.30, 0.45, 0.55, 0.04)  # those left in June are the unverified residue
    if m < 12:
        return {"18_plus": 0.030, "16_17": 0.020, "13_15": 0.020}[band] + 0.002 * m
    return ramp_2026[band][m - 12]


def _capacity_frame(rng: np.random.Generator) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {c: [] for c in schema.CAPACITY_TABLE.column_names}
    for m, month in enumerate(MONTHS):
        fte = FTE[m] + float(rng.normal(0, 0.8))
        per_fte_training = 6.0 + (3.0 if month in ("2025-10", "2025-11") else 0.0) + (2.0 if m >= 12 else 0.0)
        per_fte_wellbeing = 2.5 if m < 12 else 4.0
        out["month"].append(month)
        out["local_moderators_fte"].append(f"{fte:.1f}")
        out["languages"].append("ms;en;zh;ta")
        out["training_hours"].append(f"{fte * per_fte_training * float(rng.uniform(0.95, 1.05)):.1f}")
        out["wellbeing_hours"].append(f"{fte * per_fte_wellbeing * float(rng.uniform(0.9, 1.1)):.1f}")
        out["automated_tools"].append(";".join(name for name, since in TOOLS if since <= month))
    return out


def _prevalence_frame(rng: np.random.Generator) -> dict[str, list[Any]]:
    w = _day_multipliers()
    base = np.array(_by_cat(BASE_SHARE))
    month_of_day = _month_of(START + np.arange(N_DAYS, dtype=np.int64) * _DAY)
    rate = np.array(_by_cat(PREVALENCE_PER_10K)) / 10_000
    out: dict[str, list[Any]] = {c: [] for c in schema.PREVALENCE_TABLE.column_names}
    for m in range(N_MONTHS):
        trend = w[month_of_day == m].mean(axis=0) / base / (_mau_totals()[m] / MAU_FIRST)
        sampled_at = _MONTH_START[m] + 14 * _DAY + 12 * _HOUR  # 15th of the month, noon MYT
        views = rng.integers(10_000, 50_001, _NC)
        violating = rng.binomial(views, np.minimum(rate * trend, 1.0))
        for c in range(_NC):
            out["sampled_at"].append(_myt_text(np.array([sampled_at]))[0])
            out["category"].append(_CATS[c])
            out["views_sampled"].append(int(views[c]))
            out["views_violating"].append(int(violating[c]))
    return out


def _features_frame() -> dict[str, list[Any]]:
    rows = sorted(FEATURES, key=lambda f: f["launched_at"])
    return {
        "feature": [f["feature"] for f in rows],
        "launched_at": list(_myt_text(np.array([f["launched_at"] for f in rows]))),
        "surfaces": [f["surfaces"] for f in rows],
        "available_to_minors": list(_bool_text(np.array([f["available_to_minors"] for f in rows]))),
        "notes": [f["notes"] for f in rows],
    }


# ------------------------------------------------------------------------------------------------ audits


def _checklists(library: Library) -> list[tuple[str, list[str]]]:
    """(audit name, item ref_ids) of every checklist of the library."""
    return [(audit, [item.ref_id for item in fw.items]) for audit, fw in library.checklists().items()]


def _audit_answers(rng: np.random.Generator, library: Library) -> dict[str, pd.DataFrame]:
    """Answers to every item of every checklist framework, one frame per framework short name."""
    owners = ("Trust & Safety Policy", "Product Integrity", "Legal & Compliance")
    lead = {"child": "Child Safety", "accessib": "Accessibility", "design": "Product Integrity"}
    statuses = np.array(schema.AUDIT_STATUSES, dtype=object)
    answers: dict[str, pd.DataFrame] = {}
    for name, refs in _checklists(library):
        k = len(refs)
        status = statuses[_pick(rng, _cum([[0.55, 0.25, 0.12, 0.08]]), np.zeros(k, np.int8))]
        maturity = np.select(
            [status == "met", status == "partial", status == "not_met"],
            [rng.integers(3, 5, k), np.full(k, 2), rng.integers(0, 2, k)],
            -1,
        )
        answers[name] = pd.DataFrame(
            {
                "item_id": refs,
                "status": status,
                "maturity": ["" if v < 0 else str(v) for v in maturity],
                "evidence": [f"SRB-EV-{name}-{i + 1:03d} (sample evidence register)" for i in range(k)],
                "owner": [
                    next((v for key, v in lead.items() if key in name), owners[0])
                    if i < 0.6
                    else owners[int(i * 10) % 3]
                    for i in rng.random(k)
                ],
                "notes": [
                    "Not applicable to Serambi's services (sample)." if s == "not_applicable" else "" for s in status
                ],
                "assessed_by": "Serambi T&S compliance team (sample)",
                "assessed_on": "2026-06-26",
            },
            columns=[c.name for c in schema.AUDIT_TABLE.columns if c.required],
        )
    _designed_answers(answers)
    return answers


#: Answers set on purpose so the audits have something to find (documented in the pack's README):
#: CS-AGE-02 claims no under-16 accounts although the users table still has them in June 2026 (a contradiction
#: the data test flags); SBD-RESP-01 is answered met with no evidence (a quality-check warning).
DESIGNED_ANSWERS = {
    ("child_safety", "CS-AGE-02"): {
        "status": "met",
        "maturity": "3",
        "evidence": "Age gate with MyDigital ID checks live from 2026-06-01 (SRB-EV-CS-AGE-02)",
        "notes": "Under-16 registrations are blocked; existing accounts restricted after notice.",
    },
    ("safety_by_design", "SBD-RESP-01"): {"status": "met", "maturity": "3", "evidence": ""},
}


def _designed_answers(answers: dict[str, pd.DataFrame]) -> None:
    for (audit, item), values in DESIGNED_ANSWERS.items():
        frame = answers.get(audit)
        if frame is None or item not in set(frame["item_id"]):
            continue
        for column, value in values.items():
            frame.loc[frame["item_id"] == item, column] = value


# ------------------------------------------------------------------------------------------------ the pack


def _write_pack(folder: Path, n: int, seed: int, library: Library) -> dict[str, int]:
    streams = iter(np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(8))
    rows, stats = _write_events(folder, n, streams)
    small = {
        "authority_requests": _authority_frame(n, next(streams)),
        "users": _users_frame(next(streams)),
        "capacity": _capacity_frame(next(streams)),
        "feature_changes": _features_frame(),
        "prevalence_samples": _prevalence_frame(next(streams)),
    }
    for name, columns in small.items():
        rows[name] = _write_csv(folder / f"{name}.csv", schema.TABLES[name], columns)
    audits = {}
    for name, frame in _audit_answers(next(streams), library).items():
        (folder / "audits").mkdir(exist_ok=True)
        frame.to_csv(folder / "audits" / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
        audits[name] = f"audits/{name}.csv"
        rows[f"audits/{name}"] = len(frame)
    meta = {
        "contract": schema.CONTRACT_VERSION,
        "platform": {
            "name": PLATFORM,
            "service_type": "social_media",
            "licence_id": LICENCE_ID,
            "description": f"Fictional service generated by riskkit.sample (seed {seed}). Not real data.",
        },
        "timezone": TIMEZONE,
        "as_of": AS_OF_TEXT,
        "generator": {"name": "riskkit.sample", "seed": seed, "actions": n},
        "tables": {
            "actions": "actions.parquet",
            "reports": "reports.parquet",
            "appeals": "appeals.parquet",
            "authority_requests": "authority_requests.csv",
            "users": "users.csv",
            "capacity": "capacity.csv",
            "feature_changes": "feature_changes.csv",
            "prevalence_samples": "prevalence_samples.csv",
        },
        "age_verified_unit": "share",
        "surfaces": list(SURFACES),
        "high_risk_periods": [dict(p) for p in HIGH_RISK_PERIODS],
        "audits": audits,
    }
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False)
    (folder / "datapack.yaml").write_text(text, encoding="utf-8")
    (folder / "README.md").write_text(_readme(n, seed, rows, stats, small), encoding="utf-8")
    return rows


# ------------------------------------------------------------------------------------------------ README


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _md(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _day_index(at: int) -> int:
    return (at - START) // _DAY


def _readme(n: int, seed: int, rows: dict[str, int], st: _Stats, small: dict[str, dict[str, Any]]) -> str:
    """The pack's README: the fictional platform, every pattern with its design values and measured values."""
    files = {
        "actions": "actions.parquet",
        "reports": "reports.parquet",
        "appeals": "appeals.parquet",
        **{k: f"{k}.csv" for k in small},
    }
    out: list[str] = [
        "# Serambi — sample data pack (fictional, not real data)",
        "",
        f"Generated by `riskkit.sample` with seed {seed} and {n:,} moderation decisions "
        f"(`riskkit sample --out DIR --actions {n} --seed {seed}` rebuilds it byte for byte "
        "with the same riskkit, numpy and pyarrow versions). Design values come from the constants of "
        "`riskkit/sample.py`; every other number below was measured on this pack when it was written.",
        "",
        "**Serambi** is a fictional social-media service licensed in Malaysia (ASP(C) licence "
        f"`{LICENCE_ID}`): a feed, short videos, live streaming (from Aug 2025), messages, comments, groups, "
        "search and ads, with about 9.3 million Malaysian monthly users at its peak (May 2026). The pack covers "
        "1 Jan 2025 – 30 Jun 2026 in Asia/Kuala_Lumpur (three complete half-years: 2025-H1, 2025-H2, 2026-H1); "
        "data was extracted on 10 Jul 2026 09:00 MYT (`as_of`). Event volumes are a scaled-down sample — a real "
        "service of this size takes millions of decisions per half-year; rates, shares and times are what matter.",
        "",
        "## Files",
        "",
        _md(
            ["table", "file", "rows", "one row per"],
            [[k, f"`{f}`", f"{rows[k]:,}", schema.TABLES[k].row_unit] for k, f in files.items()],
        ),
        "",
        "Parquet timestamps are tz-aware UTC; CSV timestamps are ISO 8601 with `+08:00`; lists are joined by `;`; "
        "an empty cell is a null. `datapack.yaml` declares the platform, `as_of`, the surfaces, `age_verified_unit: "
        "share` and the Sabah-election high-risk period; `audits:` lists questionnaires once checklist frameworks "
        "exist in riskkit's library.",
        "",
        "## Timeline",
        "",
        _md(
            ["when (MYT)", "event", "effect in the data"],
            [
                ["Jan 2025", "start; tools hash_matching, classifier_nudity", "baseline"],
                ["Jul 2025", "classifier_scam in use", "financial_scam proactive rate rises"],
                ["5 Aug 2025", "Live streaming launched", "`live` surface appears (none before)"],
                ["16 Sep 2025", "Group video calls launched", "messages and groups"],
                [
                    "1 Nov – 6 Dec 2025",
                    "Sabah state election (declared high-risk period)",
                    "hate speech and manipulated media ×3, bullying ×1.4, their handling ×1.5 slower",
                ],
                [
                    "1 Jan 2026",
                    "Online Safety Act 2025 in force; llm_triage in use",
                    "handling ×0.8 faster, "
                    f"{LLM_HUMAN_TO_HYBRID:.0%} of human decisions become hybrid, local moderators {FTE[11]} → {FTE[12]} FTE",
                ],
                ["Jan–Jun 2026", "scam syndicates move in", "financial_scam ×1.6 → ×2.4"],
                ["10 Feb 2026", "AI image tool launched (not for minors)", "manipulated media ×1.8 → ×2.5"],
                ["2 Mar 2026", "Age check with MyDigital ID; age_estimation in use", "age verification climbs"],
                [
                    "1 Jun 2026",
                    "Risk Mitigation and Child Protection Codes in force",
                    "under-16 accounts removed (residual undetected accounts remain)",
                ],
            ],
        ),
        "",
    ]

    # 1. category mix
    total = st.count.sum(axis=0)
    out += [
        "## 1. Category mix (actions per half-year)",
        "",
        "Design: base shares "
        + ", ".join(f"{c} {BASE_SHARE[c]:.0%}" for c in _CATS)
        + "; every category in every half-year (guaranteed even for tiny packs).",
        "",
        _md(
            ["category", *HALVES, "share of all"],
            [
                [c, *(f"{st.count[h, i]:,}" for h in range(3)), _pct(_ratio(total[i], total.sum()))]
                for i, c in enumerate(_CATS)
            ]
            + [["**total**", *(f"{st.count[h].sum():,}" for h in range(3)), "100%"]],
        ),
        "",
    ]

    # 2. detection
    out += [
        "## 2. Proactive detection (automated or proactive_human)",
        "",
        "Design: CSAM mostly hash matching (97%); financial_scam 23% before classifier_scam (Jul 2025), 36% "
        "after; bullying_harassment 25%.",
        "",
        _md(
            ["category", *HALVES],
            [[c, *(_pct(_ratio(st.proactive[h, i], st.count[h, i])) for h in range(3))] for i, c in enumerate(_CATS)],
        ),
        "",
    ]

    # 3. decision_by and action
    dec_tot = st.decision.sum(axis=1)
    act_tot = st.action.sum(axis=1)
    out += [
        "## 3. Who decides and what is done",
        "",
        "decision_by: mostly automated for CSAM, spam (`other`) and nudity; human or hybrid for bullying and hate. "
        "Action mix per category as designed in `ACTION_MIX` (CSAM → terminate_account/remove, scams → "
        "remove/suspend_account, bullying → remove/warn/restrict, some no_violation everywhere).",
        "",
        _md(
            ["category", *schema.DECISION_MAKERS, *schema.ACTIONS],
            [
                [
                    c,
                    *(_pct(_ratio(st.decision[i, j], dec_tot[i])) for j in range(len(schema.DECISION_MAKERS))),
                    *(_pct(_ratio(st.action[i, j], act_tot[i])) for j in range(len(schema.ACTIONS))),
                ]
                for i, c in enumerate(_CATS)
            ],
        ),
        "",
    ]

    # 4. time to action
    q = st.hour_quantiles()
    closed_all, breach_all = st.closed.sum(axis=0), st.breach.sum(axis=0)
    pri = [_CAT["csam"], _CAT["financial_scam"]]
    out += [
        "## 4. Time to action (detected_at → actioned_at)",
        "",
        "Design: lognormal hours, base median × source factor (automated 0.8, proactive_human 1.0, user_report "
        "1.25, trusted_flagger 0.9, authority 0.7) × 0.8 from 2026 × 1.5 for the election categories during the "
        f"election; capped at {MAX_HOURS // 24} days; actioned_at never before detected_at nor after as_of. "
        f"{st.open_actions:,} actions are still open at as_of (actioned_at empty): those whose decision would fall "
        f"after as_of and {OPEN_BACKLOG:.0%} of the last 21 days' detections (queue backlog). Open items carry "
        "the action proposed at triage.",
        "",
        _md(
            [
                "category",
                "base median h",
                "sigma",
                "median h",
                "p90 h",
                "> 24 h",
                "> 24 h 2025-H1",
                "2025-H2",
                "2026-H1",
            ],
            [
                [
                    c,
                    f"{HOURS[c][0]:g}",
                    f"{HOURS[c][1]:g}",
                    f"{q[i, 0]:.1f}",
                    f"{q[i, 1]:.1f}",
                    _pct(_ratio(breach_all[i], closed_all[i])),
                    *(_pct(_ratio(st.breach[h, i], st.closed[h, i])) for h in range(3)),
                ]
                for i, c in enumerate(_CATS)
            ],
        ),
        "",
        "Priority content (csam, financial_scam) past 24 h: "
        + _pct(_ratio(st.breach_rep[pri, 1].sum(), st.closed_rep[pri, 1].sum()))
        + " when reported (user_report, trusted_flagger, authority) vs "
        + _pct(_ratio(st.breach_rep[pri, 0].sum(), st.closed_rep[pri, 0].sum()))
        + " when found proactively.",
        "",
    ]

    # 5. record keeping, scope, surfaces
    out += [
        "## 5. Scope, record-keeping and surfaces",
        "",
        f"- in_malaysia: {_pct(_ratio(st.in_my, n))} of actions (design 70% CSAM … 92% bullying).",
        "- rationale missing: "
        + ", ".join(f"{h} {_pct(_ratio(st.no_rationale[i], st.half_n[i]))}" for i, h in enumerate(HALVES))
        + "; policy_ref missing: "
        + ", ".join(f"{h} {_pct(_ratio(st.no_policy[i], st.half_n[i]))}" for i, h in enumerate(HALVES))
        + " (record-keeping completeness improving but below 100%).",
        "- surfaces: "
        + ", ".join(f"{s} {_pct(_ratio(st.surface[i], n))}" for i, s in enumerate(SURFACES))
        + "; no `live` action before the 5 Aug 2025 launch.",
        "- optional columns: content_id (`c…` content, `u…` account for account actions), involves_minor "
        "(always for CSAM, 92% child_self_harm), views_before_action (0 for 55% of automated catches, empty "
        "while open), reported_to_authority (98% of CSAM violations, 40% violent extremism, 18% scams).",
        "",
    ]

    # 6. trends
    d = st.daily
    scam = st.count[:, _CAT["financial_scam"]]
    e0, e1 = _day_index(ELECTION_START), _day_index(ELECTION_END)
    b0 = e0 - (e1 - e0)
    ai = _day_index(AI_TOOL_AT)
    pre_ai = _day_index(ELECTION_END)

    def per_day(cat: str, lo: int, hi: int) -> float:
        return d[lo:hi, _CAT[cat]].sum() / (hi - lo)

    out += [
        "## 6. Trends",
        "",
        f"- financial_scam: {scam[1]:,} in 2025-H2 → {scam[2]:,} in 2026-H1 ({_ratio(scam[2], scam[1]) - 1:+.0%}).",
    ]
    for c in HIGH_RISK_PERIODS[0]["categories"]:
        out.append(
            f"- {c}: {per_day(c, e0, e1):.1f} actions/day during the Sabah election (1 Nov – 6 Dec 2025) vs "
            f"{per_day(c, b0, e0):.1f}/day in the {e1 - e0} days before (×{_ratio(per_day(c, e0, e1), per_day(c, b0, e0)):.1f})."
        )
    out += [
        f"- manipulated_media: {per_day('manipulated_media', pre_ai, ai):.1f}/day from 7 Dec 2025 to 9 Feb 2026 "
        f"vs {per_day('manipulated_media', ai, N_DAYS):.1f}/day after the AI image tool "
        f"(×{_ratio(per_day('manipulated_media', ai, N_DAYS), per_day('manipulated_media', pre_ai, ai)):.1f}).",
        "",
    ]

    # 7. reports
    ro = st.report_outcome
    out += [
        "## 7. Reports",
        "",
        f"- {rows['reports']:,} reports; every action detected by user_report, trusted_flagger or authority "
        f"({st.reported_actions:,}) has exactly one report linked by action_id ({st.linked:,} linked). "
        f"{UNLINKED_PER_LINKED:.0%} more reports led to no action (no_violation, dismissed, duplicate; action_id "
        "empty).",
        "- outcomes: " + ", ".join(f"{o} {ro[i]:,}" for i, o in enumerate(schema.REPORT_OUTCOMES)) + ".",
        "- reporter_type: "
        + ", ".join(f"{t} {st.reporter[i]:,}" for i, t in enumerate(schema.REPORTER_TYPES))
        + " (parents and children report more CSAM, bullying and child self-harm).",
        f"- acknowledged within 1 h: {_pct(_ratio(st.ack_ok, st.ack_n))} (design median {ACK_MEDIAN_MIN:g} min); "
        f"assessed within 12 h: {_pct(_ratio(st.assess_ok, st.assess_n))} (design median {ASSESS_MEDIAN_H:g} h, "
        "never after the decision).",
        f"- open at as_of: {ro[schema.REPORT_OUTCOMES.index('open')]:,} (outcome open, resolved_at empty).",
        "- in_malaysia: copied from the linked action (unlinked reports: from the reported item).",
        "",
    ]

    # 8. appeals
    out += [
        "## 8. Appeals",
        "",
        f"- {st.appeals:,} appeals = {_pct(_ratio(st.appeals, st.appealable))} of actions other than no_violation "
        "(account actions are appealed most); filed after actioned_at (median "
        f"{APPEAL_FILE_MEDIAN_H:g} h), decided after filing (median {APPEAL_DECIDE_MEDIAN_H:g} h).",
        "- reversal rate of decided appeals: "
        + ", ".join(
            f"{m} {_pct(_ratio(st.appeal_reversed[i], st.appeal_decided[i]))} (design {REVERSAL_RATE[m]:.0%})"
            for i, m in enumerate(schema.DECISION_MAKERS)
        )
        + ".",
        f"- open at as_of: {st.appeals_open:,} (decision after as_of, or {APPEAL_BACKLOG:.0%} of those filed in "
        "the last 21 days still awaiting review).",
        "",
    ]

    # 9. authority requests
    ar = pd.DataFrame(small["authority_requests"])
    received = pd.to_datetime(ar["received_at"], format="ISO8601", utc=True)
    responded = pd.to_datetime(ar["responded_at"].replace("", None), format="ISO8601", utc=True)
    ar["hours"] = (responded - received).dt.total_seconds() / 3600
    by_kind = ar.groupby("kind")["hours"].median()
    out += [
        "## 9. Authority requests",
        "",
        f"{len(ar):,} requests (one per {ACTIONS_PER_REQUEST} actions, at least 60) from PDRM, MCMC, NSRC (National "
        "Scam Response Centre) and BNM (Bank Negara Malaysia); NSRC and BNM follow the scam trend.",
        "",
        _md(
            ["agency", *schema.REQUEST_KINDS, "total"],
            [
                [
                    g,
                    *(int(((ar.agency == g) & (ar.kind == k)).sum()) for k in schema.REQUEST_KINDS),
                    int((ar.agency == g).sum()),
                ]
                for g in AGENCIES
            ],
        ),
        "",
        "- outcomes: "
        + ", ".join(f"{o} {int((ar.outcome == o).sum()):,}" for o in schema.REQUEST_OUTCOMES)
        + f" (open: response after as_of, or {REQUEST_AWAITING_CLARIFICATION:.1%} of 2026-H1 requests awaiting "
        "the agency's clarification; data_disclosure is rejected most, 15%, for want of legal basis).",
        "- median response: "
        + ", ".join(f"{k} {by_kind.get(k, float('nan')):.1f} h" for k in schema.REQUEST_KINDS)
        + " (emergency fastest).",
        "",
    ]

    # 10. users
    users = pd.DataFrame(small["users"])
    users["age_verified"] = users["age_verified"].astype(float)
    mau = users.pivot(index="month", columns="age_band", values="mau")
    verified = users.pivot(index="month", columns="age_band", values="age_verified")
    totals = mau.sum(axis=1)
    out += [
        "## 10. Users (Malaysian MAU per month and age band)",
        "",
        f"- total MAU {totals.iloc[0]:,} in {totals.index[0]} → peak {totals.max():,} in {totals.idxmax()}; "
        f"lowest {totals.min():,} ({totals.idxmin()}): always above the 8,000,000 licence threshold.",
        "- band shares before June 2026: "
        + ", ".join(f"{b} {BAND_SHARE[b]:.1%}" for b in schema.AGE_BANDS)
        + "; `unknown` shrinks in 2026 as age checks assign bands.",
        f"- Child Protection Code (1 Jun 2026): under_13 {mau.loc['2026-05', 'under_13']:,} → "
        f"{mau.loc['2026-06', 'under_13']:,}, 13_15 {mau.loc['2026-05', '13_15']:,} → {mau.loc['2026-06', '13_15']:,} "
        "(residual undetected accounts).",
        "- age_verified (share of the band): "
        + ", ".join(
            f"{b} {verified.loc['2025-12', b]:.0%} (2025-12) → {verified.loc['2026-06', b]:.0%} (2026-06)"
            for b in ("18_plus", "16_17")
        )
        + "; 13_15 residue in 2026-06 is largely unverified.",
        "",
    ]

    # 11. capacity, 12. features, 13. prevalence
    cap = pd.DataFrame(small["capacity"])
    tools = [f"{name} from {since}" for name, since in TOOLS]
    feats = pd.DataFrame(small["feature_changes"])
    prev = pd.DataFrame(small["prevalence_samples"])
    sums = prev.groupby("category")[["views_sampled", "views_violating"]].sum()
    out += [
        "## 11. Capacity",
        "",
        f"- local_moderators_fte {cap.local_moderators_fte.iloc[0]} ({cap.month.iloc[0]}) → "
        f"{cap.local_moderators_fte.iloc[-1]} ({cap.month.iloc[-1]}); languages ms;en;zh;ta.",
        "- training 6 h per FTE per month (9 h in Oct–Nov 2025 for the election, +2 h from 2026); wellbeing "
        "2.5 h per FTE (4 h from 2026).",
        "- automated_tools: " + ", ".join(tools) + ".",
        "",
        "## 12. Feature changes",
        "",
        _md(
            ["feature", "launched_at", "surfaces", "available_to_minors"],
            feats[["feature", "launched_at", "surfaces", "available_to_minors"]].values.tolist(),
        ),
        "",
        "Launches fall in 2025-H2 and 2026-H1; 2025-H1 has none (a half-year without a new-feature trigger).",
        "",
        "## 13. Prevalence samples",
        "",
        f"{len(prev)} rows: one labelled sample per month and category (15th, noon MYT), 10,000–50,000 views each; "
        "violating views follow the category's trend. Violating views per 10,000 over the whole pack: "
        + ", ".join(
            f"{c} {1e4 * _ratio(sums.loc[c, 'views_violating'], sums.loc[c, 'views_sampled']):.1f}" for c in _CATS
        )
        + ".",
        "",
        "## 14. Audits",
        "",
        "Questionnaire answers are written to `audits/<framework>.csv` for every checklist framework in riskkit's "
        "library (55% met, 25% partial, 12% not_met, 8% not_applicable), with two answers set on purpose: "
        "CS-AGE-02 (no accounts under 16) is answered *met* although the users table still counts under-16 users in "
        "June 2026, a contradiction the child-safety audit's data test flags; SBD-RESP-01 is *met* with no "
        "evidence, which the quality checks flag. "
        + (
            "this pack has: " + ", ".join(f"`{k}`" for k in rows if k.startswith("audits/")) + "."
            if any(k.startswith("audits/") for k in rows)
            else "none were available when this pack was generated."
        ),
        "",
    ]
    return "\n".join(out)
