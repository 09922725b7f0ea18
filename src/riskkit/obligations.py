"""The obligations register: every duty of the framework library with its status in the cycle and the evidence.

Evidence of an obligation ``instrument:ref_id`` comes from three places:

- audit items whose checklist ``references`` cite it (compliant → met, partial → partial, non-compliant or
  contradicted by data → not met, not applicable, not assessed);
- targets whose ``answers`` cite it (met, missed → not met; no data and no number are no evidence);
- the assessments riskkit performs for its ``covered_by`` (the systemic risk assessment: met, or partial when a
  quality check failed; the half-yearly report in half-year cycles and the annual report in calendar years: met).

The status follows from that evidence by the rules of the ``compliance_method`` framework, tried in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from riskkit.audit import AuditResult
from riskkit.cycles import Cycle
from riskkit.library import Library
from riskkit.library.models import Obligation
from riskkit.risk import Assessment

REGISTER_COLUMNS = (
    "obligation",
    "instrument",
    "instrument_name",
    "section",
    "title",
    "summary",
    "status",
    "status_label",
    "rule",
    "evidence",
    "items",
    "targets",
    "findings",
    "owner",
    "due",
    "previous_status",
    "trend",
    "confidence",
    "source",
    "basis",
    "expected",
)
#: Order from best to worst, for trends.
RANK = {"met": 0, "partly_met": 1, "not_met": 2}
_ITEM_OUTCOME = {
    "compliant": "met",
    "partial": "partial",
    "non_compliant": "not_met",
    "contradicted": "not_met",
    "not_applicable": "not_applicable",
    "not_assessed": "none",
}


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: where it comes from, what it says, and whether it is mandatory."""

    kind: str  # item | target | activity
    ref: str
    outcome: str  # met | partial | not_met | not_applicable | none
    text: str
    mandatory: bool = True


def register(
    library: Library,
    cycle: Cycle,
    audits: Iterable[AuditResult],
    targets: pd.DataFrame,
    assessment: Assessment,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per obligation of every instrument: status, evidence, owners, the earliest due date of its open
    findings and the trend against the previous cycle's register (``previous``)."""
    audits = list(audits)
    by_ref = _item_evidence(audits)
    target_evidence = _target_evidence(targets)
    findings = _open_findings(audits)
    risk_failed = bool((assessment.checks["status"] == "FAIL").any())
    before = {} if previous is None else dict(zip(previous["obligation"], previous["status"], strict=True))
    method = library.compliance_method
    rows = []
    for fw in library.instruments():
        for ob in fw.obligations:
            in_force = ob.applies_on(cycle.last_day, fw.in_force)
            ref = f"{fw.id}:{ob.ref_id}"
            evidence = list(by_ref.get(ref, [])) + list(target_evidence.get(ref, []))
            evidence += _activity_evidence(ob.covered_by, cycle, risk_failed)
            rule = next(r for r in method.rules if _holds(r.when, evidence, in_force))
            items = [e.ref for e in evidence if e.kind == "item"]
            open_ = [f for item in items for f in findings.get(item, [])]
            status = rule.status
            previous_status = before.get(ref)
            rows.append(
                {
                    "obligation": ref,
                    "instrument": fw.id,
                    "instrument_name": fw.short_name.en if fw.short_name else fw.name.en,
                    "section": ob.section or "",
                    "title": ob.label.en,
                    "summary": ob.summary.en,
                    "status": status,
                    "status_label": method.label(status),
                    "rule": rule.label.en,
                    "evidence": _evidence_text(ob, evidence),
                    "items": ";".join(items),
                    "targets": ";".join(e.ref for e in evidence if e.kind == "target"),
                    "findings": ";".join(sorted({f["finding_id"] for f in open_})),
                    "owner": "; ".join(sorted({f["owner"] for f in open_ if f["owner"]} | _owners(audits, items))),
                    "due": min((f["due_date"] for f in open_ if f["due_date"]), default=""),
                    "previous_status": previous_status or "",
                    "trend": _trend(previous_status, status),
                    "confidence": ob.confidence,
                    "source": ob.source,
                    "basis": ob.basis or "",
                    "expected": ob.expected or "",
                }
            )
    return pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))


def summary(register_frame: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Counts by status (every status listed, in the method's order)."""
    counts = register_frame["status"].value_counts()
    return pd.DataFrame(
        [
            {"status": s.ref_id, "label": s.label.en, "obligations": int(counts.get(s.ref_id, 0))}
            for s in library.compliance_method.statuses
        ]
    )


def plan_status(register_frame: pd.DataFrame, instruments: tuple[str, ...] = ("rmc-2026", "cpc-2026")) -> pd.DataFrame:
    """The Online Safety Plan (ONSA s.20): the measures of the Risk Mitigation and Child Protection Codes, with the
    register's own status — one status for a measure wherever it is shown."""
    plan = register_frame[register_frame["instrument"].isin(instruments)]
    return plan.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------- evidence


def _evidence_text(ob: Obligation, evidence: list[Evidence]) -> str:
    """The evidence in words; a pending duty says what it waits for."""
    text = "; ".join(e.text for e in evidence)
    if ob.pending:
        waits = f"awaiting the instrument that sets it: {ob.expected}" if ob.expected else "awaiting its instrument"
        return f"{waits}; {text}" if text else waits
    return text or "no evidence in this cycle"


def _item_evidence(audits: list[AuditResult]) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    for a in audits:
        for item in a.items.itertuples():
            outcome = _ITEM_OUTCOME.get(item.result, "none")
            label = "not met — contradicted by data" if item.result == "contradicted" else item.result.replace("_", " ")
            text = f"{item.item_id} ({a.audit.replace('_', ' ')} audit): {label}"
            if item.data_expected:
                text += f" — data: {item.data_meaning or item.data_expected} {_test_word(item.data_test)}"
            for ref in str(item.references or "").split(";"):
                if ref:
                    out.setdefault(ref, []).append(Evidence("item", item.item_id, outcome, text, bool(item.mandatory)))
    return out


def _test_word(outcome: str) -> str:
    return {"pass": "(holds)", "fail": "(does not hold)"}.get(outcome, "(no data)")


def _target_evidence(targets: pd.DataFrame) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    outcome = {"met": "met", "missed": "not_met"}
    for t in targets.itertuples():
        if t.status not in outcome:
            continue
        text = f"target {t.label}: {t.status}"
        for ref in str(t.answers or "").split(";"):
            if ref:
                out.setdefault(ref, []).append(Evidence("target", t.target, outcome[t.status], text))
    return out


def _activity_evidence(covered_by: Iterable[str], cycle: Cycle, risk_failed: bool) -> list[Evidence]:
    out = []
    for cover in covered_by:
        if cover == "risk_assessment":
            outcome = "partial" if risk_failed else "met"
            why = "with failed quality checks" if risk_failed else "quality checks passed"
            out.append(Evidence("activity", cover, outcome, f"systemic risk assessment of {cycle.id}: {why}", False))
        elif cover == "half_yearly_report" and cycle.kind == "half":
            out.append(Evidence("activity", cover, "met", f"half-yearly report for {cycle.id} produced", False))
        elif cover == "annual_report" and cycle.kind == "year":
            out.append(Evidence("activity", cover, "met", f"annual public report for {cycle.id} produced", False))
    return out


def _holds(condition: str, evidence: list[Evidence], in_force: bool) -> bool:
    assessed = [e for e in evidence if e.outcome in ("met", "partial", "not_met")]
    if condition == "not_in_force":
        return not in_force
    if condition == "mandatory_failed_or_target_missed":
        return any(e.outcome == "not_met" and (e.mandatory or e.kind == "target") for e in evidence)
    if condition == "any_partial_or_failed":
        return any(e.outcome in ("partial", "not_met") for e in assessed)
    if condition == "all_assessed_met":
        return bool(assessed) and all(e.outcome == "met" for e in assessed)
    if condition == "all_not_applicable":
        return bool(evidence) and all(e.outcome == "not_applicable" for e in evidence)
    return condition == "always"


def _open_findings(audits: list[AuditResult]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for a in audits:
        open_ = a.findings[a.findings["status"].isin(["open", "overdue"])]
        for f in open_.to_dict("records"):
            out.setdefault(f["item_id"], []).append(f)
    return out


def _owners(audits: list[AuditResult], items: list[str]) -> set[str]:
    wanted = set(items)
    return {
        str(o)
        for a in audits
        for i, o in zip(a.items["item_id"], a.items["owner"], strict=True)
        if i in wanted and o and str(o).strip()
    }


def _trend(before: str | None, now: str) -> str:
    if not before:
        return "new"
    if before not in RANK or now not in RANK:
        return "changed" if before != now else "unchanged"
    delta = RANK[now] - RANK[before]
    return "unchanged" if delta == 0 else ("worse" if delta > 0 else "better")


def due_soonest(register_frame: pd.DataFrame) -> date | None:
    """The earliest due date among the register's open findings (None when there is none)."""
    due = [d for d in register_frame["due"] if d]
    return date.fromisoformat(min(due)) if due else None
