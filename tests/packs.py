"""Build small data packs on disk for tests: a valid baseline that each test breaks in one way."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

BASE_META: dict[str, Any] = {
    "contract": 1,
    "platform": {"name": "Testgram", "service_type": "social_media", "licence_id": "ASP(C)-TEST"},
    "as_of": "2026-01-10T00:00:00+08:00",
}


def base_tables() -> dict[str, list[dict[str, Any]]]:
    """A valid, tiny pack: three actions, reports, an appeal and one row of every optional table."""
    return {
        "actions": [
            {
                "action_id": "A1",
                "category": "csam",
                "surface": "feed",
                "detected_at": "2025-07-01T10:00:00+08:00",
                "actioned_at": "2025-07-01T11:00:00+08:00",
                "detection_source": "automated",
                "decision_by": "automated",
                "action": "remove",
                "in_malaysia": "true",
                "rationale": "hash match",
                "policy_ref": "CS-1",
            },
            {
                "action_id": "A2",
                "category": "financial_scam",
                "surface": "messages",
                "detected_at": "2025-08-01T10:00:00Z",
                "actioned_at": "2025-08-02T10:00:00Z",
                "detection_source": "user_report",
                "decision_by": "human",
                "action": "suspend_account",
                "in_malaysia": "true",
                "rationale": "phishing link",
                "policy_ref": "SC-2",
            },
            {
                "action_id": "A3",
                "category": "bullying_harassment",
                "surface": "comments",
                "detected_at": "2025-12-30T23:00:00+08:00",
                "actioned_at": "",
                "detection_source": "user_report",
                "decision_by": "hybrid",
                "action": "",
                "in_malaysia": "false",
                "rationale": "",
                "policy_ref": "",
            },
        ],
        "reports": [
            {
                "report_id": "R1",
                "received_at": "2025-08-01T10:00:00Z",
                "category": "financial_scam",
                "reporter_type": "user",
                "acknowledged_at": "2025-08-01T10:30:00Z",
                "assessed_at": "2025-08-01T20:00:00Z",
                "resolved_at": "2025-08-02T10:00:00Z",
                "outcome": "actioned",
                "action_id": "A2",
            },
            {
                "report_id": "R2",
                "received_at": "2025-08-03T10:00:00Z",
                "category": "hate_speech",
                "reporter_type": "parent",
                "acknowledged_at": "2025-08-03T10:05:00Z",
                "assessed_at": "",
                "resolved_at": "",
                "outcome": "open",
                "action_id": "",
            },
        ],
        "appeals": [
            {
                "appeal_id": "P1",
                "action_id": "A2",
                "filed_at": "2025-08-05T10:00:00Z",
                "decided_at": "2025-08-06T10:00:00Z",
                "outcome": "upheld",
            }
        ],
        "authority_requests": [
            {
                "request_id": "Q1",
                "agency": "PDRM",
                "kind": "takedown",
                "received_at": "2025-09-01T09:00:00+08:00",
                "responded_at": "2025-09-01T15:00:00+08:00",
                "outcome": "complied",
            }
        ],
        "users": [
            {"month": "2025-07", "age_band": "18_plus", "mau": "8100000", "age_verified": "0.4"},
            {"month": "2025-07", "age_band": "13_15", "mau": "300000", "age_verified": "0.2"},
        ],
        "capacity": [
            {
                "month": "2025-07",
                "local_moderators_fte": "120.5",
                "languages": "ms;en;zh;ta",
                "training_hours": "800",
                "wellbeing_hours": "300",
                "automated_tools": "hash_matching;classifier_scam",
            }
        ],
        "feature_changes": [
            {
                "feature": "Live streaming",
                "launched_at": "2025-08-15T00:00:00+08:00",
                "surfaces": "live;feed",
                "available_to_minors": "true",
                "notes": "",
            }
        ],
        "prevalence_samples": [
            {
                "sampled_at": "2025-07-31T00:00:00+08:00",
                "category": "csam",
                "views_sampled": "20000",
                "views_violating": "2",
            }
        ],
    }


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None, **kw: Any) -> Path:
    """Write rows as CSV (``header`` defaults to the keys of the first row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = header if header is not None else list(rows[0])
    with path.open("w", newline="", encoding=kw.pop("encoding", "utf-8")) as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore", **kw)
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_pack(
    root: Path,
    tables: dict[str, list[dict[str, Any]]] | None = None,
    meta: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Write a pack (baseline tables unless given; ``drop`` leaves tables out) and return its folder."""
    root.mkdir(parents=True, exist_ok=True)
    data = base_tables() if tables is None else tables
    for name, rows in data.items():
        if name in drop:
            continue
        write_csv(root / f"{name}.csv", rows)
    (root / "datapack.yaml").write_text(yaml.safe_dump(meta if meta is not None else BASE_META, sort_keys=False))
    return root
