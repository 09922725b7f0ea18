"""DSA harmonised transparency report (IR 2024/2835): numbers against an independent computation, EU scope only,
imported statements of reasons keep their categories, CSV/XLSX format, formula injection, CLI exit codes.

The expected values here are computed row by row in plain Python from the generated rows, with the mapping written
out in this file (not read from the framework), so a wrong join, filter, period bound or category rule fails."""

from __future__ import annotations

import csv
import io
import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml

from packs import write_csv
from riskkit import schema
from riskkit.cli import main
from riskkit.exceptions import ParameterError
from riskkit.pack import load_datapack, pack_from_frames
from riskkit.reports import dsa_transparency as dsa
from riskkit.reports.dsa_transparency_html import render

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
MAPPING_ID = "dsa-transparency-mapping"

# riskkit harm -> (category, keyword, KEYWORD_OTHER description), written out independently of the mapping file.
HARM = {
    "csam": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", ""),
    "ncii": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", ""),
    "financial_scam": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "KEYWORD_OTHER", "Financial scams and fraud"),
    "bullying_harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_OTHER", "Bullying and harassment"),
    "hate_speech": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH", ""),
    "violent_extremism": ("STATEMENT_CATEGORY_VIOLENCE", "KEYWORD_OTHER", "Violence, violent extremism"),
    "child_self_harm": ("STATEMENT_CATEGORY_SELF_HARM", "KEYWORD_OTHER", "Content inducing children"),
    "illegal_drugs": ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "KEYWORD_PROHIBITED_PRODUCTS", ""),
    "manipulated_media": (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "KEYWORD_OTHER",
        "Manipulated media",
    ),
    "obscene_indecent": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_ADULT_SEXUAL_MATERIAL", ""),
    "other": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_OTHER", "Other violations"),
}
SOR_OTHER = "Statements of reasons with no specific sub-category keyword"
# source_category values in the generated pack -> (category, keyword, description prefix) they must land on;
# None = not a usable template category, so the harm key decides.
SOURCES: dict[str, tuple[str, str, str] | None] = {
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD/KEYWORD_PHISHING": (
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "KEYWORD_PHISHING",
        "",
    ),
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": ("STATEMENT_CATEGORY_ANIMAL_WELFARE", "KEYWORD_OTHER", SOR_OTHER),
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE/KEYWORD_NUDITY": (  # v1 name, renamed to OTHER_VIOLATION_TC
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "KEYWORD_NUDITY",
        "",
    ),
    "STATEMENT_CATEGORY_VIOLENCE/KEYWORD_PHISHING": (  # keyword of another category
        "STATEMENT_CATEGORY_VIOLENCE",
        "KEYWORD_OTHER",
        "Statements of reasons with keyword KEYWORD_PHISHING",
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "", ""),  # not in 5/6
    "STATEMENT_CATEGORY_MADE_UP": None,
}
PART_CATS = {
    5: {f"c{i}" for i in range(1, 15)},
    6: {f"c{i}" for i in range(1, 16)},
}
HIGH = [  # template order of the high-level categories 1..17
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
]
ALLOWED = {
    3: set(HIGH[:14]) | {HIGH[15]},
    4: set(HIGH[:14]) | {HIGH[16]},
    5: set(HIGH[:14]),
    6: set(HIGH[:15]),
}
RESTRICTION = {  # riskkit action -> Part 5/6 header (trailing spaces as in the template)
    "remove": "Visibility restriction Removal",
    "restrict": "Visibility restriction Other",
    "age_restrict": "Visibility restriction Age restricted",
    "label": "Visibility restriction Labelled ",
    "suspend_account": "Account restriction Suspension",
    "terminate_account": "Account restriction Termination",
}
MEASURES = set(RESTRICTION)  # warn and no_violation are not restrictions
OWN = {"automated", "proactive_human"}
EU_META: dict[str, Any] = {
    "contract": 1,
    "platform": {"name": "Testgram", "service_type": "social_media"},
    "as_of": "2026-08-01T00:00:00Z",
    "eu": {
        "service_name": "Testgram EU",
        "provider_name": "Testgram Holdings B.V.",
        "provider_type": "vlop",
        "member_states": "all",
        "qualitative": {"own_initiative_summary": "We remove, restrict and label content."},
    },
}


def iso(t: datetime | None) -> str:
    return "" if t is None else t.isoformat()


def generate(seed: int = 7, n: int = 900) -> dict[str, list[dict[str, Any]]]:
    """Rows of an EU-scoped pack: decisions around both period bounds, some with unknown scope or ground."""
    rnd = random.Random(seed)
    t0 = datetime(2025, 12, 1, tzinfo=UTC)

    def when(days: float = 215) -> datetime:
        return t0 + timedelta(seconds=rnd.randrange(int(days * 86400)))

    actions = []
    for i in range(n):
        detected = when()
        open_ = rnd.random() < 0.05
        actioned = None if open_ else detected + timedelta(minutes=rnd.randrange(1, 6000))
        actions.append(
            {
                "action_id": f"A{i:04d}",
                "category": rnd.choice(schema.HARM_CATEGORIES),
                "surface": "feed",
                "detected_at": iso(detected),
                "actioned_at": iso(actioned),
                "detection_source": rnd.choice(schema.DETECTION_SOURCES),
                "decision_by": rnd.choice(schema.DECISION_MAKERS),
                "action": _unless(open_, rnd.choice(schema.ACTIONS)),  # empty while open (drawn anyway)
                "in_malaysia": rnd.choice(["true", "false"]),
                "rationale": "",
                "policy_ref": "",
                "in_eu": rnd.choices(["true", "false", ""], [6, 3, 1])[0],
                "decision_ground": rnd.choices(["illegal", "terms", ""], [3, 5, 2])[0],
                "source_category": rnd.choices([*SOURCES, ""], [1] * len(SOURCES) + [12])[0],
            }
        )
    # on the period bounds: the period is [1 Jan, 1 Jul) in UTC (07:30 on 1 July in Kuala Lumpur is still in H1)
    for i, at in enumerate(("2026-01-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00", "2026-07-01T07:30:00+08:00")):
        actions.append(
            {
                **actions[0],
                "action_id": f"E{i}",
                "category": "csam",
                "detected_at": "2025-12-31T00:00:00+00:00",
                "actioned_at": at,
                "detection_source": "automated",
                "action": "remove",
                "in_eu": "true",
                "decision_ground": "terms",
                "source_category": "",
            }
        )
    reports = []
    for i in range(n // 2):
        linked = rnd.choice(actions) if rnd.random() < 0.75 else None
        received = when()
        reports.append(
            {
                "report_id": f"R{i:04d}",
                "received_at": iso(received),
                "category": rnd.choice(schema.HARM_CATEGORIES),
                "reporter_type": rnd.choice(schema.REPORTER_TYPES),
                "acknowledged_at": "",
                "assessed_at": "",
                "resolved_at": "",
                "outcome": "actioned" if linked else "dismissed",
                "action_id": linked["action_id"] if linked else "",
                "in_eu": rnd.choices(["true", "false", ""], [6, 3, 1])[0],
            }
        )
    appeals = []
    decided_actions = [a for a in actions if a["actioned_at"]]
    for i in range(n // 3):
        a = rnd.choice(decided_actions)
        filed = datetime.fromisoformat(a["actioned_at"]) + timedelta(minutes=rnd.randrange(1, 20000))
        decided = None if rnd.random() < 0.1 else filed + timedelta(minutes=rnd.randrange(1, 9000))
        appeals.append(
            {
                "appeal_id": f"P{i:04d}",
                "action_id": a["action_id"],
                "filed_at": iso(filed),
                "decided_at": iso(decided),
                "outcome": "open" if decided is None else rnd.choice(["upheld", "upheld", "reversed"]),
            }
        )
    requests = []
    order_sources = ["", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_VIOLENCE/KEYWORD_HUMAN_TRAFFICKING"]
    for i in range(n // 5):
        received = when()
        outcome = rnd.choice(schema.REQUEST_OUTCOMES)
        requests.append(
            {
                "request_id": f"Q{i:04d}",
                "agency": "Polizei",
                "kind": rnd.choice(schema.REQUEST_KINDS),
                "received_at": iso(received),
                "responded_at": "" if outcome == "open" else iso(received + timedelta(minutes=rnd.randrange(5, 5000))),
                "outcome": outcome,
                "eu_member_state": rnd.choice(["DE", "FR", "GR", "EL", "IT", ""]),
                "source_category": rnd.choice(order_sources),
                "items": str(rnd.randrange(1, 12)),
                "acknowledged_at": iso(received + timedelta(minutes=rnd.randrange(0, 300))),
            }
        )
    return {"actions": actions, "reports": reports, "appeals": appeals, "authority_requests": requests}


def frames(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(r, dtype=str) for name, r in rows.items()}


def ts(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def inside(t: datetime | None) -> bool:
    return t is not None and START <= t < END


def hours(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 3600


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict[str, Any]]]:
    return generate()


def build(rows_or_frames, meta: dict[str, Any], library, cycle: str = "2026-H1", **kw: Any) -> dsa.TransparencyReport:
    data = rows_or_frames if isinstance(next(iter(rows_or_frames.values())), pd.DataFrame) else frames(rows_or_frames)
    return dsa.build(pack_from_frames(data, meta, library=library), cycle, library=library, **kw)


@pytest.fixture(scope="module")
def report(rows, library) -> dsa.TransparencyReport:
    return build(rows, EU_META, library, publication_date="2026-08-20")


# ------------------------------------------------------------------------------------------------ reading results


def wide_rows(table: pd.DataFrame, code_col: str, scope_col: str | None = None) -> dict[tuple, dict[str, Any]]:
    """(scope, category, keyword, description) -> row; TOTAL and high-level rows have keyword ''."""
    out: dict[tuple, dict[str, Any]] = {}
    current = ""
    for record in table.to_dict("records"):
        code = record[code_col]
        scope = record[scope_col] if scope_col else ""
        desc = record['Description of the sub-category "Other"'] or ""
        if code == "TOTAL":
            current, key = "", (scope, "TOTAL", "", "")
        elif code.startswith("STATEMENT_CATEGORY_"):
            current, key = code, (scope, code, "", "")
        else:
            key = (scope, current, code, desc)
        assert key not in out, key
        out[key] = record
    return out


def other_key(result: dict[tuple, Any], scope: str, cat: str, prefix: str) -> tuple:
    """The KEYWORD_OTHER row of ``cat`` whose description starts with ``prefix``."""
    keys = [k for k in result if k[:3] == (scope, cat, "KEYWORD_OTHER") and k[3].startswith(prefix)]
    assert len(keys) == 1, (cat, prefix, keys)
    return keys[0]


def long_value(table: pd.DataFrame, indicator: str, scope: str) -> Any:
    hit = table[(table["Indicator"].str.strip() == indicator) & (table["Scope"].str.strip() == scope)]
    assert len(hit) == 1, (indicator, scope)
    return hit["Value"].iloc[0]


def expected_category(part: int, harm: str, source: str) -> tuple[str, str, str] | None:
    """Where an item lands in a part, by the rules written out here."""
    resolved = SOURCES.get(source) if source else None
    if resolved is not None and resolved[0] in ALLOWED[part]:
        return resolved
    cat, kw, desc = HARM[harm]
    return (cat, kw, desc) if cat in ALLOWED[part] else None


def check_wide(result: dict[tuple, Any], expected: Counter, column: str, scope: str = "") -> None:
    """Keyword rows, high-level rows and TOTAL of ``column`` equal the expected counts (0 where absent)."""
    high: Counter = Counter()
    total = 0
    for place, n in expected.items():
        total += n
        if place is None:
            continue
        cat, kw, desc = place
        high[cat] += n
        if kw:
            key = other_key(result, scope, cat, desc) if kw == "KEYWORD_OTHER" else (scope, cat, kw, "")
            assert result[key][column] == n, (column, key)
    assert result[(scope, "TOTAL", "", "")][column] == total, column
    for key, row in result.items():
        if key[0] == scope and key[2] == "" and key[1] != "TOTAL":
            assert row[column] == high[key[1]], (column, key)
    keyword_total = sum(n for place, n in expected.items() if place and place[1])
    assert sum(r[column] for k, r in result.items() if k[0] == scope and k[2]) == keyword_total, column


# ------------------------------------------------------------------------------------------------ numbers


def test_own_initiative_parts_match_an_independent_count(rows, report):
    by_part: dict[int, dict[str, Counter]] = {5: defaultdict(Counter), 6: defaultdict(Counter)}
    for a in rows["actions"]:
        if not (a["in_eu"] == "true" and inside(ts(a["actioned_at"]))):
            continue
        if a["detection_source"] not in OWN or a["action"] not in MEASURES:
            continue
        part = 5 if (a["decision_ground"] or "terms") == "illegal" else 6
        place = expected_category(part, a["category"], a["source_category"])
        counts = by_part[part]
        counts["Number of measures taken at the provider's own initiative "][place] += 1
        if a["detection_source"] == "automated" and a["decision_by"] == "automated":
            counts["Number of measures taken after detection with solely automated means "][place] += 1
        counts[RESTRICTION[a["action"]]][place] += 1
    for part, counts in by_part.items():
        table = report.parts[part]
        result = wide_rows(table, table.columns[3])
        assert sum(counts["Number of measures taken at the provider's own initiative "].values()) > 20
        for column in (
            "Number of measures taken at the provider's own initiative ",
            "Number of measures taken after detection with solely automated means ",
            *RESTRICTION.values(),
        ):
            check_wide(result, counts[column], column)
        for column in (  # no riskkit action is such a restriction: not available, so blank (not 0)
            "Visibility restriction Demoted",
            "Visibility restriction Disable",
            "Visibility restriction Interaction restricted",
            "Monetary restriction Suspension",
            "Provision of the service Termination",
        ):
            assert table[column].isna().all(), column
            cov = report.coverage.set_index(["part", "field"])
            assert cov.loc[(part, column.strip()), "status"] == "not available"
    # the v1 category name, the keyword of another category and the unknown category all went somewhere sensible
    assert sum(by_part[6]["Number of measures taken at the provider's own initiative "].values()) > 0


def test_notices_match_an_independent_count_and_medians(rows, report):
    actions = {a["action_id"]: a for a in rows["actions"]}
    received: Counter = Counter()
    received_tf: Counter = Counter()
    law: Counter = Counter()
    terms_tf: Counter = Counter()
    waits: dict[Any, list[float]] = defaultdict(list)
    waits_tf: list[float] = []
    for r in rows["reports"]:
        if r["in_eu"] != "true":
            continue
        place = expected_category(4, r["category"], "")
        tf = r["reporter_type"] == "trusted_flagger"
        if inside(ts(r["received_at"])):
            received[place] += 1
            received_tf[place] += tf
        a = actions.get(r["action_id"])
        if a and a["action"] in MEASURES and inside(ts(a["actioned_at"])):
            ground = a["decision_ground"] or "terms"
            law[place] += ground == "illegal"
            terms_tf[place] += ground == "terms" and tf
            h = hours(a["actioned_at"], r["received_at"])
            if h >= 0:
                waits[place].append(h)
                waits["TOTAL"].append(h)
                if tf:
                    waits_tf.append(h)
    table = report.parts[4]
    result = wide_rows(table, "Category of illegal content")
    assert sum(received.values()) > 50 and sum(law.values()) > 5
    check_wide(result, received, "Number of notices received ")
    check_wide(result, received_tf, "Number of notices received from Trusted flaggers")
    check_wide(result, received, "Number of specific items of information included in the total number of notices")
    check_wide(result, law, "Number of actions taken on the basis of the law")
    check_wide(
        result,
        terms_tf,
        "Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)",
    )
    assert result[("", "TOTAL", "", "")]["Median time to take action"] == median(waits["TOTAL"])
    assert result[("", "TOTAL", "", "")]["Median time to take action (Trusted Flagger notices)"] == median(waits_tf)
    scams = other_key(result, "", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "Financial scams")
    assert result[scams]["Median time to take action"] == median(waits[HARM["financial_scam"]])
    # the high-level median pools the events of its keyword rows (two riskkit keys land in cyber violence)
    pooled = waits[HARM["ncii"]] + waits[HARM["bullying_harassment"]]
    cyber = result[("", "STATEMENT_CATEGORY_CYBER_VIOLENCE", "", "")]["Median time to take action"]
    assert cyber == median(pooled)
    # harm 'other' and 'obscene_indecent' map to category 15, which Part 4 does not have: TOTAL only
    assert received[None] > 0
    assert "TOTAL only" in table.loc[0, "Contextual information on Number of notices received "]


def test_orders_by_member_state_and_category(rows, report):
    table = report.parts[3]
    result = wide_rows(table, "Category of illegal content", "Scope")
    received: dict[str, Counter] = defaultdict(Counter)
    items: dict[str, int] = Counter()
    ack: dict[str, list[float]] = defaultdict(list)
    effect_info: dict[str, list[float]] = defaultdict(list)
    order_place = {
        "": (HIGH[15], "", ""),
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": (HIGH[10], "KEYWORD_OTHER", "Orders citing no specific sub-category"),
        "STATEMENT_CATEGORY_VIOLENCE/KEYWORD_HUMAN_TRAFFICKING": (HIGH[13], "KEYWORD_HUMAN_TRAFFICKING", ""),
    }
    for q in rows["authority_requests"]:
        state = {"GR": "EL"}.get(q["eu_member_state"], q["eu_member_state"])
        if not state:
            continue
        kind = {"takedown": "act", "data_disclosure": "info", "emergency": "info", "disclosure_notice": "info"}.get(
            q["kind"]
        )
        if kind is None:
            continue
        for scope in ("TOTAL", state):
            if inside(ts(q["received_at"])) and kind == "act":
                received[scope][order_place[q["source_category"]]] += 1
                items[scope] += int(q["items"])
            if kind == "act" and inside(ts(q["acknowledged_at"])):
                ack[scope].append(hours(q["acknowledged_at"], q["received_at"]))
            if kind == "info" and q["outcome"] in ("complied", "partial") and inside(ts(q["responded_at"])):
                effect_info[scope].append(hours(q["responded_at"], q["received_at"]))
    blocks = list(dict.fromkeys(table["Scope"]))
    assert blocks == ["TOTAL", "FR", "DE", "EL", "IT"]  # Member State blocks in the template's order, GR -> EL
    assert len(table) == 91 + 4 * 91  # every block carries the 9c row the template's block omits
    for scope in blocks:
        check_wide(result, received[scope], "Number of orders to act against illegal content received", scope)
        total = result[(scope, "TOTAL", "", "")]
        column = "Number of specific items of information included in the total number of orders to act against illegal content"
        assert total[column] == items[scope]
        column = "Median time to inform the authority of the receipt of the order to act against illegal content"
        assert total[column] == median(ack[scope])
        assert total["Median time to give effect to the order to provide information"] == median(effect_info[scope])
    assert received["TOTAL"][order_place[""]] > 0  # orders citing no provision: category 16


def test_complaints_and_automation_match_an_independent_count(rows, report):
    actions = {a["action_id"]: a for a in rows["actions"]}
    total = upheld = reversed_ = new = visibility = account = no_action_notice = 0
    waits: list[float] = []
    for p in rows["appeals"]:
        a = actions[p["action_id"]]
        if a["in_eu"] != "true":
            continue
        if inside(ts(p["filed_at"])):
            total += 1
            visibility += a["action"] in ("remove", "restrict", "age_restrict", "label")
            account += a["action"] in ("suspend_account", "terminate_account")
            no_action_notice += a["action"] == "no_violation" and a["detection_source"] == "user_report"
        if inside(ts(p["decided_at"])) and p["outcome"] != "open":
            upheld += p["outcome"] == "upheld"
            reversed_ += p["outcome"] == "reversed"
            new += p["outcome"] == "reversed" and a["action"] == "no_violation"
            waits.append(hours(p["decided_at"], p["filed_at"]))
    t7 = report.parts[7]
    complaints = "Number of complaints submitted to the internal-complaints mechanism"
    assert total > 30
    assert long_value(t7, complaints, "Total number") == total
    assert long_value(t7, complaints, "Decisions upheld") == upheld
    assert long_value(t7, complaints, "Decisions reversed") == reversed_
    assert long_value(t7, complaints, "Median time") == median(waits)
    assert long_value(t7, complaints, "Decisions partially reversed") is None  # not in the contract
    assert (
        long_value(t7, "Number of restrictions newly imposed as a result of an internal complaint", "Total number")
        == new
    )
    basis = "Complaint regarding a decision to remove or disable access to or restrict visibility of information"
    assert long_value(t7, basis, "Total number") == visibility
    assert (
        long_value(t7, "Complaint regarding a decision to suspend or terminate an account", "Total number") == account
    )
    notice = "Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16"
    assert long_value(t7, notice, "Total number") == no_action_notice
    assert (
        long_value(t7, "Complaint regarding a decision to restrict the ability to monetise information", "Total number")
        is None
    )

    solely = Counter()
    for a in rows["actions"]:
        if a["in_eu"] == "true" and inside(ts(a["actioned_at"])) and a["action"] in MEASURES:
            for flow in ("all", "own") if a["detection_source"] in OWN else ("all",):
                solely[(flow, a["decision_by"])] += 1
    t8 = report.parts[8]
    assert (
        long_value(t8, "Number of measures solely taken by automated means", "Total number")
        == solely[("all", "automated")]
    )
    assert long_value(t8, "Number of measures not taken by automated means", "Total number") == solely[("all", "human")]
    assert (
        long_value(t8, "Number of measures solely taken by automated means", "Own-initiative")
        == solely[("own", "automated")]
    )
    context = t8[(t8["Indicator"].str.strip() == "Number of measures not taken by automated means")]
    assert f"{solely[('all', 'hybrid')]} partly automated" in context["Contextual Information"].iloc[0]
    notices = Counter()
    for r in rows["reports"]:
        a = actions.get(r["action_id"])
        if r["in_eu"] == "true" and inside(ts(r["received_at"])) and a:
            notices[(r["reporter_type"] == "trusted_flagger", a["decision_by"])] += 1
    value = long_value(t8, "Number of notices solely processed by automated means", "NAM Total")
    assert value == notices[(True, "automated")] + notices[(False, "automated")]
    assert (
        long_value(t8, "Number of notices not processed by automated means", "NAM Trusted Flagger")
        == notices[(True, "human")]
    )


def test_identification_and_qualitative_come_from_datapack_yaml(report):
    t1 = report.parts[1].set_index("Indicator")["Value"]
    assert t1["Name of the service provider"] == "Testgram Holdings B.V."
    assert t1["Date of the publication of the report"] == "2026-08-20"
    assert t1["Date of the publication of the latest previous report"] is None
    assert (t1["Starting date of reporting period"], t1["Ending date of reporting period"]) == (
        "2026-01-01",
        "2026-06-30",
    )
    assert set(report.parts[5]["Service"]) == {"Testgram EU"}
    assert set(report.parts[5]["Reporting period"]) == {"2026-01-01/2026-06-30"}
    t11 = report.parts[11]
    assert t11["Value"].iloc[0] == "We remove, restrict and label content."
    assert t11["Value"].iloc[1:].isna().all()
    cov = report.coverage.set_index(["part", "field"])["status"]
    assert cov[(11, "Summary of the content moderation engaged in at the providers’ own initiative")] == "filled"
    assert cov[(11, "Safeguards applied to the use of automated means")] == "not available"


def test_structure_sums_and_row_counts(report):
    def extra_other_rows(n: int) -> int:  # a category may carry several KEYWORD_OTHER rows, one per description
        table = report.parts[n]
        other = table[table[table.columns[3]] == "KEYWORD_OTHER"]
        return len(other) - len(HIGH[:15] if n == 6 else HIGH[:14])

    assert [len(report.parts[n]) for n in (1, 2, 7, 11)] == [5, 100, 47, 11]
    assert extra_other_rows(5) >= 1  # category 14 holds violent_extremism and a foreign keyword
    for n, rows in ((4, 91), (5, 90), (6, 98)):
        assert len(report.parts[n]) == rows + extra_other_rows(n), n
    assert len(report.parts[8]) == 20 + 5 * 24 and len(report.parts[9]) == 3 + 24 and len(report.parts[10]) == 1 + 27
    for n in (4, 5, 6):
        table = report.parts[n]
        result = wide_rows(table, table.columns[3])
        counts = [c.header for c in report.layout.parts[n].columns if c.type == "count"]
        for column in counts:
            if table[column].isna().all():
                continue
            high = sum(r[column] for k, r in result.items() if k[1] != "TOTAL" and k[2] == "")
            assert high <= result[("", "TOTAL", "", "")][column]  # TOTAL = high-level rows + unplaced items
            for cat in {k[1] for k in result if k[2]}:
                subs = [r[column] for k, r in result.items() if k[1] == cat and k[2]]
                assert sum(subs) == result[("", cat, "", "")][column], (n, column, cat)


def test_every_field_has_one_status_and_a_reason(report):
    cov = report.coverage
    assert set(cov["status"]) <= set(dsa.STATUSES)
    assert cov["why"].str.len().gt(10).all()
    assert not cov.duplicated(["part", "field"]).any()
    counts = report.coverage_counts()
    assert counts == {"filled": 69, "not available": 76, "not applicable": 0}  # a VLOP: every row applies (README)


def test_rows_for_other_provider_types_are_not_applicable(rows, library):
    meta = {**EU_META, "as_of": "2027-01-10T00:00:00Z", "eu": {**EU_META["eu"], "provider_type": "hosting"}}
    report = build(rows, meta, library, "2026")
    t7 = report.parts[7]
    assert t7["Value"].iloc[0] is not None  # 'All' row
    assert t7["Value"].iloc[1:].isna().all()  # online-platform rows: blank for a hosting service
    cov = report.coverage
    na = cov[cov["status"] == "not applicable"]
    assert len(na) > 30 and na["why"].str.contains("the provider is a Hosting service").all()
    assert report.parts[4]["Number of notices received "].notna().all()  # hosting rows apply
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == ("2026-01-01", "2026-12-31")


# ------------------------------------------------------------------------------------------------ EU scope only


def test_pack_without_eu_scope_exports_not_available_never_other_numbers(rows, library):
    plain = frames(rows)
    plain["actions"] = plain["actions"].drop(columns=["in_eu", "decision_ground"])
    plain["reports"] = plain["reports"].drop(columns=["in_eu"])
    plain["authority_requests"] = plain["authority_requests"].drop(columns=["eu_member_state"])
    report = build(plain, EU_META, library)
    for n in range(3, 11):
        table, part = report.parts[n], report.layout.parts[n]
        values = [c.header for c in part.columns if c.role == "value"]
        assert table[values].isna().all().all(), n  # blank, never a number from the Malaysian or global data
        assert set(report.coverage.loc[report.coverage["part"] == n, "status"]) == {"not available"}, n
    why = report.coverage.set_index(["part", "field"])["why"]
    assert "no `in_eu` column" in why[(5, "Number of measures taken at the provider's own initiative")]
    assert "no `eu_member_state` column" in why[(3, "Number of orders to provide information")]


def test_the_sample_has_no_eu_part(sample_pack, library):
    report = dsa.build(sample_pack, "2026-H1", library=library)
    counts = report.coverage_counts()
    assert counts == {"filled": 4, "not available": 141, "not applicable": 0}
    for n in range(3, 11):
        values = [c.header for c in report.layout.parts[n].columns if c.role == "value"]
        assert report.parts[n][values].isna().all().all(), n
    assert report.settings.service_name == "Serambi" and report.settings.provider_type is None


# ------------------------------------------------------------------------------------------------ DSA import


def test_imported_statements_of_reasons_keep_their_categories(tmp_path, library):
    """A pack as the DSA importer writes it (decision times only, day resolution, the statement's category kept in
    source_category), with the EU scope and decision ground the importer is to set from territorial_scope and
    decision_ground: written directly, so this does not depend on the importer (being rewritten)."""
    specs = [  # (source_category, riskkit harm the import mapping gives, decision ground, how many)
        ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD/KEYWORD_PHISHING", "financial_scam", "illegal", 3),
        ("STATEMENT_CATEGORY_ANIMAL_WELFARE", "other", "terms", 2),
        ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "other", "illegal", 4),
        ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS/KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "csam", "terms", 5),
        ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC/KEYWORD_NUDITY", "obscene_indecent", "terms", 1),
        ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "other", "illegal", 2),
    ]
    actions = []
    for source, harm, ground, count in specs:
        for _ in range(count):
            actions.append(
                {
                    "action_id": f"P{len(actions):06d}",
                    "category": harm,
                    "surface": "feed",
                    "detected_at": "2026-02-01T00:00:00+00:00",
                    "actioned_at": "2026-02-02T00:00:00+00:00",
                    "detection_source": "automated",
                    "decision_by": "automated",
                    "action": "remove",
                    "in_malaysia": "false",
                    "rationale": "",
                    "policy_ref": "",
                    "source_category": source,
                    "in_eu": "true",  # territorial_scope ["DE","AT"]
                    "decision_ground": ground,
                }
            )
    malaysian = {**actions[0], "action_id": "P000099", "in_malaysia": "true", "in_eu": "false"}  # scope ["MY"]
    meta = {
        "contract": 1,
        "platform": {"name": "Contoh", "service_type": "social_media"},
        "as_of": "2026-07-05T00:00:00+00:00",
        "time_resolution": "day",
        "time_basis": "decision",
        "eu": {"provider_type": "vlop", "provider_name": "Contoh B.V."},
    }
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    write_csv(pack_dir / "actions.csv", [*actions, malaysian])
    (pack_dir / "datapack.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    report = dsa.build(load_datapack(pack_dir, library=library), "2026-H1", library=library)
    column = "Number of measures taken at the provider's own initiative "
    p5 = wide_rows(report.parts[5], "Category of illegal content")
    p6 = wide_rows(report.parts[6], report.parts[6].columns[3])
    assert p5[("", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "KEYWORD_PHISHING", "")][column] == 3
    assert p5[("", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "", "")][column] == 3
    assert p5[("", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "", "")][column] == 4
    assert p5[("", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "", "")][column] == 2
    assert p5[("", "TOTAL", "", "")][column] == 9
    assert p6[("", "STATEMENT_CATEGORY_ANIMAL_WELFARE", "", "")][column] == 2  # riskkit 'other', category kept
    key = other_key(p6, "", "STATEMENT_CATEGORY_ANIMAL_WELFARE", SOR_OTHER)
    assert p6[key][column] == 2
    assert p6[("", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "")][column] == 5
    assert p6[("", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "KEYWORD_NUDITY", "")][column] == 1
    assert p6[("", "TOTAL", "", "")][column] == 8  # the Malaysian statement is not in the EU report
    solely = "Number of measures taken after detection with solely automated means "
    assert p6[("", "TOTAL", "", "")][solely] == 8
    cov = report.coverage.set_index(["part", "field"])["status"]
    assert cov[(4, "Number of notices received")] == "not available"  # an import has no notice log
    assert "whole days" in " ".join(report.notes)


# ------------------------------------------------------------------------------------------------ files


def test_csv_parts_are_rfc4180_utf8_with_the_layout_headers(report, tmp_path):
    files = dsa.write(report, tmp_path / "out")
    names = {p.name for p in files}
    assert {f"Part_{n}_{report.layout.parts[n].name}.csv" for n in range(1, 12)} <= names
    assert {"coverage.csv", "dsa_transparency_2026-H1.xlsx", "review.html", "provenance.json"} <= names
    for n, part in report.layout.parts.items():
        raw = (tmp_path / "out" / report.file_name(n)).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
        text = raw.decode("utf-8")  # UTF-8
        assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")  # CRLF line ends only
        parsed = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        assert parsed[0] == part.headers  # byte-exact, trailing spaces and NBSPs included
        assert len(parsed) == 1 + len(report.parts[n]) and {len(r) for r in parsed} == {len(part.headers)}
    text = (tmp_path / "out" / report.file_name(5)).read_text(encoding="utf-8")
    assert '"Description of the sub-category ""Other"""' in text.splitlines()[0]  # RFC 4180 quote doubling
    nbsp = (tmp_path / "out" / report.file_name(10)).read_text(encoding="utf-8")
    assert "reporting period\u00a0," in nbsp
    p6 = list(csv.DictReader(io.StringIO((tmp_path / "out" / report.file_name(6)).read_text("utf-8"), newline="")))
    assert p6[0]["Number of measures taken at the provider's own initiative "] == str(
        report.parts[6].loc[0, "Number of measures taken at the provider's own initiative "]
    )
    wb = openpyxl.load_workbook(tmp_path / "out" / "dsa_transparency_2026-H1.xlsx")
    sheets = [p.sheet for _, p in sorted(report.layout.parts.items())]
    assert wb.sheetnames == ["Cover", *sheets, "coverage"]  # the template's sheet names, after riskkit's cover
    ws = wb["6_own_initiative_TC"]
    assert [c.value for c in ws[1]] == report.layout.parts[6].headers
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold and ws.auto_filter.ref
    assert ws["D14"].value == "STATEMENT_CATEGORY_CYBER_VIOLENCE"  # Annex II: cyber violence on row 14
    assert isinstance(ws["F2"].value, int)
    p1 = wb["1_report_identification"]
    assert p1["D3"].value.date() == date(2026, 8, 20) and p1["D3"].number_format == "yyyy-mm-dd"  # typed per row
    assert p1["D2"].value == "Testgram Holdings B.V." and p1["D2"].data_type == "s"
    cov = list(csv.DictReader(io.StringIO((tmp_path / "out" / "coverage.csv").read_text("utf-8"), newline="")))
    assert len(cov) == len(report.coverage) and set(cov[0]) == set(dsa.COVERAGE_COLUMNS)


def test_formula_injection_is_neutralised(rows, library, tmp_path):
    meta = {
        **EU_META,
        "eu": {
            **EU_META["eu"],
            "service_name": '=HYPERLINK("http://evil.example","x")',
            "provider_name": "@SUM(1+1)",
            "qualitative": {
                "own_initiative_summary": "+cmd|' /C calc'!A0",
                "automated_means": "-2+3 <script>alert(1)</script>",
                "automated_safeguards": "\tTabbed",
            },
        },
    }
    data = frames(rows)
    data["actions"].loc[0:40, "source_category"] = "STATEMENT_CATEGORY_VIOLENCE/=1+1"
    data["actions"].loc[0:40, ["in_eu", "detection_source", "action", "decision_ground"]] = [
        "true",
        "automated",
        "remove",
        "terms",
    ]
    data["actions"].loc[0:40, "actioned_at"] = "2026-03-01T00:00:00+00:00"
    data["actions"].loc[0:40, "detected_at"] = "2026-02-28T00:00:00+00:00"
    report = build(data, meta, library)
    out = tmp_path / "out"
    dsa.write(report, out)
    part1 = list(csv.reader(io.StringIO((out / report.file_name(1)).read_text("utf-8"), newline="")))
    assert part1[1][1] == '\'=HYPERLINK("http://evil.example","x")' and part1[1][3] == "'@SUM(1+1)"
    part11 = list(csv.reader(io.StringIO((out / report.file_name(11)).read_text("utf-8"), newline="")))
    values = [r[4] for r in part11[1:]]
    assert values[0] == "'+cmd|' /C calc'!A0" and values[2] == "'-2+3 <script>alert(1)</script>"
    assert values[5] == "'\tTabbed"
    for path in out.glob("*.csv"):  # no cell anywhere starts a formula
        for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline="")):
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), path.name
    wb = openpyxl.load_workbook(out / "dsa_transparency_2026-H1.xlsx")
    cell = wb["1_report_identification"]["B2"]  # typed text with Excel's quote prefix: shown as written, never run
    assert cell.value == '=HYPERLINK("http://evil.example","x")' and cell.data_type == "s" and cell.quotePrefix
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate)
    page = (out / "review.html").read_text("utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the description derived from the data sits in column E of Part 6, neutralised only if it starts dangerously
    assert "Statements of reasons with keyword =1+1" in (out / report.file_name(6)).read_text("utf-8")


def test_review_page_is_offline_and_escaped(report):
    page = render(report)
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "<script" not in page and "http://" not in page.replace("http://data.europa.eu", "")
    assert "src=" not in page and "<link" not in page
    assert "Testgram EU" in page and "Part 6 — " in page and "not available" in page


def test_write_leaves_nothing_partial_on_failure(report, tmp_path, monkeypatch):
    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dsa, "write_xlsx", boom)
    with pytest.raises(ParameterError, match="nothing was written"):
        dsa.write(report, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ settings, CLI


def test_eu_settings_defaults_and_member_state_order(rows, library):
    plain = {k: v for k, v in EU_META.items() if k != "eu"}
    s = dsa.eu_settings(pack_from_frames(frames(rows), plain, library=library).meta)
    assert (s.service_name, s.provider_type, s.declared, len(s.member_states)) == ("Testgram", None, False, 27)
    meta = {**EU_META, "eu": {"member_states": ["SE", "GR", "AT"]}}
    s = dsa.eu_settings(pack_from_frames(frames(rows), meta, library=library).meta)
    assert s.member_states == ("AT", "EL", "SE") and s.service_name == "Testgram" and s.declared
    report = build(rows, {**meta, "eu": {**meta["eu"], "provider_type": "vlop"}}, library)
    assert list(report.parts[10]["Scope"]) == ["TOTAL", "AT", "EL", "SE"]  # the AMAR rows of those Member States


def test_schema_documents_the_new_columns_and_keys():
    text = schema.describe()
    for needle in (
        "| in_eu | bool |",
        "| decision_ground | enum: illegal, terms |",
        "| eu_member_state | enum:",
        "| eu.provider_type |",
        "| eu.qualitative.<indicator> |",
    ):
        assert needle in text, needle


def _unless(open_: bool, value: str) -> str:
    return "" if open_ else value


def write_pack(root: Path, rows: dict[str, list[dict[str, Any]]], meta: dict[str, Any]) -> Path:
    root.mkdir(parents=True)
    for name, r in rows.items():
        write_csv(root / f"{name}.csv", r)
    (root / "datapack.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    return root


def test_cli_exit_codes_and_no_partial_output(rows, tmp_path, capsys):
    pack = write_pack(tmp_path / "pack", rows, EU_META)
    out = tmp_path / "reports" / "eu"
    assert main(["export", "dsa-transparency", "--data", str(pack), "--cycle", "2026-H1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "coverage:" in printed and "wrote 15 files" in printed
    first = (out / "Part_6_own_initiative_TC.csv").read_bytes()

    # not empty, no --overwrite: refused, untouched
    assert main(["export", "dsa-transparency", "--data", str(pack), "--cycle", "2026-H1", "--out", str(out)]) == 2
    assert "exists and is not empty; pass --overwrite" in capsys.readouterr().err
    assert (out / "Part_6_own_initiative_TC.csv").read_bytes() == first
    # a VLOP reports half-years: a calendar year is refused, nothing written
    bad = tmp_path / "reports" / "year"
    assert main(["export", "dsa-transparency", "--data", str(pack), "--cycle", "2026", "--out", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "reports every half-year" in err and "Traceback" not in err and not bad.exists()
    # a period not over at the pack's as_of
    assert main(["export", "dsa-transparency", "--data", str(pack), "--cycle", "2026-H2", "--out", str(bad)]) == 2
    assert "is not over at the pack's as_of" in capsys.readouterr().err and not bad.exists()
    # bad datapack.yaml eu block
    meta = {**EU_META, "eu": {"provider_type": "platform"}}
    other = write_pack(tmp_path / "pack2", rows, meta)
    assert main(["export", "dsa-transparency", "--data", str(other), "--cycle", "2026-H1", "--out", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "column eu.provider_type: value 'platform'" in err and "Traceback" not in err and not bad.exists()
    # invalid pack
    (other / "actions.csv").write_text("action_id\nA1\n", encoding="utf-8")
    assert main(["export", "dsa-transparency", "--data", str(other), "--cycle", "2026-H1", "--out", str(bad)]) == 2
    assert "INVALID" in capsys.readouterr().err and not bad.exists()
    # unknown cycle, missing framework folder
    assert main(["export", "dsa-transparency", "--data", str(pack), "--cycle", "2026-Q1", "--out", str(bad)]) == 2
    args = ["--data", str(pack), "--cycle", "2026-H1", "--out", str(bad), "--frameworks", str(tmp_path / "nope")]
    assert main(["export", "dsa-transparency", *args]) == 2
    assert "no such framework file or folder" in capsys.readouterr().err and not bad.exists()
    # --overwrite replaces the folder; a publication date is checked
    args = ["--data", str(pack), "--cycle", "2026-H1", "--out", str(out), "--overwrite"]
    assert main(["export", "dsa-transparency", *args, "--publication-date", "20-08-2026"]) == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err
    assert main(["export", "dsa-transparency", *args, "--publication-date", "2026-08-20"]) == 0
    assert "2026-08-20" in (out / "Part_1_summary.csv").read_text("utf-8")
    leftovers = [p.name for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]
    assert leftovers == [] and sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["eu"]


def test_cli_frameworks_option_replaces_the_mapping(rows, tmp_path, library):
    raw = yaml.safe_load(library.paths[MAPPING_ID].read_text(encoding="utf-8"))
    raw["version"] = "1.0.1"
    for entry in raw["actions"]:
        if entry["action"] == "warn":  # a team decides warnings are measures labelled "Other visibility"
            entry["measure"] = True
            entry["restrictions"] = ["own.restriction.visibility_other"]
    folder = tmp_path / "fw"
    folder.mkdir()
    (folder / "mapping.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    pack = write_pack(tmp_path / "pack", rows, EU_META)
    out = tmp_path / "out"
    args = ["--data", str(pack), "--cycle", "2026-H1", "--out", str(out), "--frameworks", str(folder)]
    assert main(["export", "dsa-transparency", *args]) == 0
    default = build(rows, EU_META, library)
    column = "Number of measures taken at the provider's own initiative "
    published = list(csv.DictReader(io.StringIO((out / "Part_6_own_initiative_TC.csv").read_text("utf-8"), newline="")))
    assert int(published[0][column]) > default.parts[6].loc[0, column]
    assert '"dsa-transparency-mapping": "1.0.1"' in (out / "provenance.json").read_text("utf-8")
