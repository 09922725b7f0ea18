"""Clocks as the Act reads them, judged at the cycle end: hand-built fixtures with hand-computed answers.

Cycle 2025-H2 ends 1 Jan 2026 00:00 MYT. Every row is in Malaysian scope. Times are MYT.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from packs import BASE_META, make_pack
from riskkit.exceptions import InvalidDataPack
from riskkit.metrics import compute
from riskkit.pack import load_datapack, validate_datapack

H2 = "2025-H2"
S22 = "sla.onsa.priority_inaccessible_24h"
CODE = "sla.code2024.csam_report_24h"


def _t(text: str) -> str:
    return f"2025-{text}:00+08:00" if not text.startswith("20") else f"{text}:00+08:00"


def action(aid: str, category: str, source: str, detected: str, actioned: str | None, act: str | None) -> dict:
    return {
        "action_id": aid,
        "category": category,
        "surface": "feed",
        "detected_at": _t(detected),
        "actioned_at": _t(actioned) if actioned else "",
        "detection_source": source,
        "decision_by": "human",
        "action": act or "",
        "in_malaysia": "true",
        "rationale": "r",
        "policy_ref": "p",
    }


def report(
    rid: str, category: str, received: str, link: str = "", resolved: str | None = None, outcome: str = "open"
) -> dict:
    return {
        "report_id": rid,
        "received_at": _t(received),
        "category": category,
        "reporter_type": "user",
        "acknowledged_at": "",
        "assessed_at": "",
        "resolved_at": _t(resolved) if resolved else "",
        "outcome": outcome,
        "action_id": link,
        "in_malaysia": "true",
    }


def first_extract() -> dict[str, list[dict[str, Any]]]:
    """The platform as extracted on 10 Jan 2026."""
    actions = [
        # own-initiative (automated / proactive_human): judged from detected_at
        action("O1", "csam", "automated", "09-01T10:00", "09-01T12:00", "remove"),  # 2 h: within
        action("O2", "financial_scam", "proactive_human", "09-02T10:00", "09-03T12:00", "remove"),  # 26 h: late
        action("O3", "csam", "automated", "09-03T10:00", "09-03T11:00", "no_violation"),  # decided otherwise: out
        action("O4", "csam", "automated", "12-31T08:00", None, None),  # open, deadline after the cycle end: not due
        action("O5", "csam", "automated", "12-30T10:00", "2026-01-03T10:00", "no_violation"),  # decided after: breach
        action("O6", "csam", "automated", "12-29T10:00", None, None),  # open past its deadline: breach
        # decisions that came from reports: judged only through their reports
        action("D1", "financial_scam", "user_report", "09-29T10:00", "10-01T20:00", "remove"),
        action("D2", "csam", "user_report", "11-01T10:00", "11-01T12:00", "no_violation"),
        action("D3", "csam", "trusted_flagger", "12-29T10:00", "2026-01-05T10:00", "remove"),
    ]
    reports = [
        report("R3", "financial_scam", "09-29T10:00", "D1", "10-01T20:00", "actioned"),  # 58 h: late
        report("R1", "financial_scam", "10-01T09:00", "D1", "10-01T20:00", "actioned"),  # 11 h: within
        report("R4", "csam", "11-01T10:00", "D2", "11-01T12:00", "no_violation"),  # no violation in 2 h
        report("R5", "csam", "11-05T10:00", "", "11-05T20:00", "dismissed"),  # closed without a decision, 10 h
        report("R6", "hate_speech", "11-06T10:00", "", "11-08T10:00", "dismissed"),  # closed after 48 h
        report("R7", "financial_scam", "12-30T10:00"),  # open past its deadline at the cycle end: breach
        report("R8", "csam", "12-31T20:00"),  # open, deadline after the cycle end: not due
        report("R9", "csam", "12-29T10:00", "D3"),  # linked decision after the cycle end: breach
    ]
    return {"actions": actions, "reports": reports}


def second_extract() -> dict[str, list[dict[str, Any]]]:
    """The same platform on 1 Mar 2026: later decisions on open items, new rows after the first as-of."""
    tables = first_extract()
    by_id = {a["action_id"]: a for a in tables["actions"]}
    by_id["O4"].update(actioned_at=_t("2026-02-01T10:00"), action="remove")
    by_id["O6"].update(actioned_at=_t("2026-01-20T10:00"), action="remove")
    tables["actions"] += [
        action("D4", "financial_scam", "user_report", "12-30T10:00", "2026-01-15T10:00", "no_violation"),
        action("D5", "csam", "user_report", "12-31T20:00", "2026-01-01T02:00", "remove"),
        action("O7", "csam", "automated", "2026-02-01T10:00", "2026-02-01T11:00", "remove"),
    ]
    reps = {r["report_id"]: r for r in tables["reports"]}
    reps["R7"].update(action_id="D4", resolved_at=_t("2026-01-15T10:00"), outcome="no_violation")
    reps["R8"].update(action_id="D5", resolved_at=_t("2026-01-01T02:00"), outcome="actioned")
    reps["R9"].update(resolved_at=_t("2026-01-05T10:00"), outcome="actioned")
    tables["reports"].append(report("R10", "csam", "2026-02-10T10:00"))
    return tables


def _metrics(tmp_path, library, tables, meta: dict | None = None, name: str = "p"):
    pack = load_datapack(make_pack(tmp_path / name, tables, meta or BASE_META), library=library)
    return compute(pack, H2, library=library)


def _pair(m, metric: str, category: str = "all") -> tuple[float, float]:
    row = m.row(metric, category)
    return float(row["numerator"]), float(row["denominator"])


@pytest.fixture(scope="module")
def first(tmp_path_factory, library):
    return _metrics(tmp_path_factory.mktemp("clocks"), library, first_extract())


def test_s22_report_to_linked_decision_and_own_initiative(first):
    # own-initiative: O1 within; O2 late; O5, O6 breaches; O3 out; O4 not due -> 1 of 4
    # reported: R1 within; R3 late; R7, R9 breaches; R4 (no violation) and R5 (dismissed) out; R8 not due -> 1 of 4
    # D1-D3 came from reports: never counted from their own detected_at
    assert _pair(first, S22) == (2, 8)
    assert first.value(S22) == 0.25
    assert _pair(first, S22, "csam") == (1, 4)  # O1 within; O5, O6, R9 breaches
    assert _pair(first, S22, "financial_scam") == (1, 4)  # R1 within; O2, R3 late; R7 breach


def test_code_24h_default_reading_all_reported_harmful_content(first):
    # any decision answers a report: R1 (11 h), R4 (no violation, 2 h), R5 (dismissed, 10 h) within;
    # R3 (58 h) and R6 (48 h) late; R7 and R9 breaches; R8 not due. Own-initiative items are not reports.
    assert _pair(first, CODE) == (3, 7)
    assert _pair(first, CODE, "hate_speech") == (0, 1)
    assert _pair(first, CODE, "csam") == (2, 3)
    label = first.definitions[CODE].label_en
    assert "reading: all reported harmful content (default)" in label


def test_code_24h_csam_only_reading_chosen_in_datapack(tmp_path, library):
    meta = {
        **BASE_META,
        "sla_overrides": {"code2024.csam_report_24h": {"reading": "csam_only", "source": "legal review 2026-03"}},
    }
    m = _metrics(tmp_path, library, first_extract(), meta)
    assert _pair(m, CODE) == (2, 3)  # R4, R5 within; R9 breach; R8 not due
    assert m.row(CODE, "hate_speech") is None  # the clock does not apply to other harms under this reading
    definition = m.definitions[CODE]
    assert "reading: reports of CSAM only (chosen by the data pack)" in definition.label_en
    assert "(overridden)" in definition.answers[0]


def test_unknown_reading_is_refused_naming_the_known_ones(tmp_path, library):
    meta = {**BASE_META, "sla_overrides": {"code2024.csam_report_24h": {"reading": "csam"}}}
    with pytest.raises(InvalidDataPack) as err:
        load_datapack(make_pack(tmp_path / "p", first_extract(), meta), library=library)
    text = err.value.report.format()
    assert "unknown reading 'csam'" in text and "all_reported, csam_only" in text


def test_closed_cycle_is_the_same_from_two_extracts_weeks_apart(tmp_path, library, first):
    later = _metrics(tmp_path, library, second_extract(), {**BASE_META, "as_of": "2026-03-01T00:00:00+08:00"})
    for metric in (S22, CODE):
        for category in ("all", "csam", "financial_scam"):
            a, b = first.row(metric, category), later.row(metric, category)
            assert (a["numerator"], a["denominator"]) == (b["numerator"], b["denominator"]), (metric, category)
    assert later.value("open_at_cycle_end") == first.value("open_at_cycle_end") + 2  # D4, D5: H2 items decided later


def test_later_decision_does_not_rescue_or_exclude_an_overdue_item(tmp_path, library):
    tables = first_extract()
    # O6 decided "no violation" after the cycle end: still a breach (it was open past its deadline)
    next(a for a in tables["actions"] if a["action_id"] == "O6").update(
        actioned_at=_t("2026-01-02T10:00"), action="no_violation"
    )
    m = _metrics(tmp_path, library, tables)
    assert _pair(m, S22) == (2, 8)
    # the same decision taken before the cycle end leaves it out
    next(a for a in tables["actions"] if a["action_id"] == "O6").update(actioned_at=_t("12-31T10:00"))
    m = _metrics(tmp_path, library, tables, name="q")
    assert _pair(m, S22) == (2, 7)


def test_without_reports_reported_decisions_are_timed_from_detection(tmp_path, library):
    tables = first_extract()
    del tables["reports"]
    m = _metrics(tmp_path, library, tables)
    # every decision from detected_at: O1 within; O2, D1 (58 h) late; O5, O6, D3 breaches; O3, D2 out; O4 not due
    assert _pair(m, S22) == (1, 6)


# ------------------------------------------------------------------------------------------- open items


def test_open_item_with_an_action_is_rejected_naming_row_column_value(tmp_path, library):
    tables = first_extract()
    tables["actions"][3]["action"] = "no_violation"  # O4 is open (no actioned_at)
    tables["actions"][0]["action"] = ""  # O1 is decided: its action is required
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert not report.ok
    (open_,) = report.of("open_item_outcome")
    assert (open_.file, open_.row, open_.column, open_.value) == ("actions.csv", 5, "action", "no_violation")
    assert "action empty while actioned_at is empty" in open_.expected and open_.detail == "actioned_at is empty"
    (missing,) = [p for p in report.of("empty_value") if p.column == "action"]
    assert (missing.row, missing.value, missing.expected) == (2, None, "action set once actioned_at is set")


def test_open_items_are_not_enforcement_actions(first):
    # O4, O6 are open at the extract (no action); O5, D3 were decided after the cycle end
    assert first.value("actions_enforced") == 4  # O1, O2, D1, D3 (O3, O5, D2: no violation)
    assert first.value("open_at_cycle_end") == 4  # O4, O5, O6, D3


# ------------------------------------------------------------------------------------------- appeals cohort


def test_appeals_cohort_is_filed_in_the_cycle_judged_at_its_end(tmp_path, library):
    tables = first_extract()
    tables["actions"].append(action("O0", "csam", "automated", "06-01T10:00", "06-01T11:00", "remove"))
    tables["appeals"] = [
        # filed and decided in H2: reversed
        {"appeal_id": "P1", "action_id": "O1", "filed_at": _t("09-05T10:00"), "decided_at": _t("09-06T10:00"),
         "outcome": "reversed"},
        # filed in H2, decided after the cycle end: filed, not decided at the cycle end
        {"appeal_id": "P2", "action_id": "O2", "filed_at": _t("12-30T10:00"), "decided_at": _t("2026-01-05T10:00"),
         "outcome": "upheld"},
        # filed in H1, decided in H2: an H1 appeal (not decided by H1's end), never in H2's cohort
        {"appeal_id": "P3", "action_id": "O0", "filed_at": _t("06-29T10:00"), "decided_at": _t("07-01T10:00"),
         "outcome": "upheld"},
    ]  # fmt: skip
    m = _metrics(tmp_path, library, tables)
    assert m.value("appeals_filed") == 2
    assert _pair(m, "reversal_rate") == (1, 1)  # P1 only; "decided in the cycle" would give 1 of 2
    assert m.value("appeal_decision_median_h") == 24.0
    prev = m.row("reversal_rate")
    assert math.isnan(prev["previous_value"])  # H1: P3 undecided at H1's end


def test_sample_has_no_open_item_with_an_action(sample_pack):
    a = sample_pack.actions
    assert a.loc[a["actioned_at"].isna(), "action"].isna().all()
    assert a.loc[a["actioned_at"].notna(), "action"].notna().all()
    assert isinstance(a, pd.DataFrame)
