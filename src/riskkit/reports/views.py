"""Tables for readers: the result's machine tables turned into labelled, typed views shared by HTML and XLSX.

A :class:`View` holds typed values (numbers stay numbers, rates stay fractions) with a column list saying how each
column reads (its label and kind: percent, hours, integer, date…), its title, and its **scope** (Malaysian users or
global, and the period). HTML formats the values for reading; the workbook writes them as real numbers with number
formats. Keys (metric ids, harm keys, row ids) are replaced by labels; they remain only in the data appendix and
the CSV exports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskkit import schema
from riskkit.result import CycleResult

#: Metric unit -> how its value reads (a kind of riskkit.documents.xlsx.Column).
UNIT_KINDS = {"share": "percent", "hours": "hours", "count": "integer", "users": "integer", "actions": "integer"}


@dataclass(frozen=True)
class Col:
    """One column of a view: the frame's ``key``, the ``label`` readers see, how it reads (``kind``), and
    optionally the frame column giving each row's kind (``kinds``) for columns of mixed units."""

    key: str
    label: str
    kind: str = "text"
    kinds: str | None = None


@dataclass
class View:
    """A table for readers: typed values, labelled columns, a title and the scope it covers."""

    name: str
    title: str
    frame: pd.DataFrame
    columns: list[Col]
    scope: str = ""
    note: str = ""
    classes: dict[str, str] = field(default_factory=dict)  # column -> CSS class prefix (status colours)

    @property
    def empty(self) -> bool:
        return self.frame.empty


# --------------------------------------------------------------------------------------------------- wording


def humanise(key: Any) -> str:
    """``trusted_flagger`` → ``Trusted flagger``; ``18_plus`` → ``18 plus``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def label_of(result: CycleResult, kind: str, key: Any) -> str:
    """The reader's label of a key (harm, metric, status…), from the result's labels table; humanised if unknown."""
    labels = _labels(result)
    return labels.get((kind, str(key)), humanise(key))


def _labels(result: CycleResult) -> dict[tuple[str, str], str]:
    if "labels" not in result.memo:
        t = result["labels"]
        result.memo["labels"] = {(k, key): en for k, key, en in zip(t["kind"], t["key"], t["en"], strict=True)}
    return result.memo["labels"]


def scope_text(result: CycleResult, scope: str = "malaysia") -> str:
    """``Malaysian users · 1 Jan 2026 – 30 Jun 2026 (MYT)``."""
    who = "Malaysian users" if scope == "malaysia" else "All users worldwide"
    return f"{who} · {result.scalars['cycle']['label']}"


def pct(value: float, digits: int = 1) -> str:
    return "not available" if _nan(value) else f"{100 * value:.{digits}f}%"


def hours(value: float) -> str:
    return "not available" if _nan(value) else f"{value:,.1f} h"


def fmt(value: Any, kind: str) -> str:
    """A value as readers see it in HTML."""
    if _nan(value):
        return ""
    if kind == "percent":
        return pct(float(value))
    if kind == "hours":
        return hours(float(value))
    if kind == "integer":
        return f"{float(value):,.0f}"
    if kind == "number":
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 100 or number.is_integer() else f"{number:,.2f}"
    if kind == "date":
        stamp = pd.Timestamp(value)
        return f"{stamp:%-d %b %Y}"
    return str(value)


def change_text(change: float, kind: str) -> str:
    """A change with its unit: ``−2.6 points``, ``+1,234``, ``+0.5 h``."""
    if _nan(change):
        return ""
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    size = abs(change)
    if kind == "percent":
        return f"{sign}{100 * size:.1f} points"
    if kind == "hours":
        return f"{sign}{size:,.1f} h"
    if kind == "integer":
        return f"{sign}{size:,.0f}"
    return f"{sign}{size:,.2f}"


def significance_text(significant: Any) -> str:
    if significant is None or significant is pd.NA or (isinstance(significant, float) and math.isnan(significant)):
        return "not tested"
    return "yes, significant at 5 %" if bool(significant) else "no"


def _nan(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def metric_kind(result: CycleResult, metric: str) -> str:
    d = _definitions(result)
    unit = d.get(metric, {}).get("unit", "")
    return UNIT_KINDS.get(unit, "number")


def _definitions(result: CycleResult) -> dict[str, dict[str, Any]]:
    if "definitions" not in result.memo:
        result.memo["definitions"] = {r["metric"]: r for r in result["metric_definitions"].to_dict("records")}
    return result.memo["definitions"]


# --------------------------------------------------------------------------------------------------- views


def metric_section(result: CycleResult, table: str, title: str, scope: str = "malaysia") -> View:
    """A table of metrics (``mcmc.reports`` …): measure, value with its unit and interval, target, previous cycle,
    change with units and whether it is significant — every number in its own kind."""
    t = result[table]
    targets = _targets_by_metric(result)
    rows = []
    for r in t.to_dict("records"):
        kind = metric_kind(result, r["metric"])
        measure = _metric_label(result, r["metric"])
        if r.get("level"):
            measure += f" — {label_of(result, 'level', r['level'])}"
        target = targets.get((r["metric"], r.get("dimension") or "", r.get("level") or ""))
        rows.append(
            {
                "measure": measure,
                "value": r["value"],
                "interval": _interval(r, kind),
                "based_on": r.get("denominator"),
                "target": _target_text(target, kind),
                "status": _target_status(target),
                "previous": r["previous_value"],
                "change": change_text(r["change"], kind),
                "significant": significance_text(r["significant"]),
                "kind": kind,
            }
        )
    keys = ["measure", "value", "interval", "based_on", "target", "status", "previous", "change", "significant", "kind"]
    frame = pd.DataFrame(rows, columns=keys)
    columns = [
        Col("measure", "Measure"),
        Col("value", "Value", "number", kinds="kind"),
        Col("interval", "95 % interval"),
        Col("based_on", "Based on (items)", "integer"),
        Col("target", "Target"),
        Col("status", "Target met?"),
        Col("previous", "Previous cycle", "number", kinds="kind"),
        Col("change", "Change"),
        Col("significant", "Significant change?"),
    ]
    if not frame.empty and frame["target"].eq("").all():
        columns = [c for c in columns if c.key not in ("target", "status")]
    return View(table, title, frame, columns, scope_text(result, scope), classes={"status": "rk-target-"})


def _metric_label(result: CycleResult, metric: str) -> str:
    return _definitions(result).get(metric, {}).get("label", humanise(metric))


def _interval(row: dict[str, Any], kind: str) -> str:
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if _nan(lo) or _nan(hi):
        return ""
    return f"{fmt(lo, kind)} – {fmt(hi, kind)}"


def _targets_by_metric(result: CycleResult) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(metric, dimension, level) -> the all-harms target of that row (results saved before targets had a
    dimension read as none)."""
    t = result["targets"]
    return {
        (r["metric"], r.get("dimension") or "", r.get("level") or ""): r
        for r in t.to_dict("records")
        if r["category"] == "all"
    }


def _target_text(target: dict[str, Any] | None, kind: str) -> str:
    if target is None:
        return ""
    if target["status"] == "no number":
        return "none set by the regime"
    op = {">=": "at least", "<=": "at most", "==": "exactly", ">": "more than", "<": "less than"}[target["operator"]]
    return f"{op} {fmt(target['target_value'], kind)}"


def _target_status(target: dict[str, Any] | None) -> str:
    if target is None or target["status"] == "no number":
        return ""
    return {"met": "met", "missed": "missed", "no data": "no data"}[target["status"]]


def status_counts(result: CycleResult) -> View:
    t = result["summary.status_counts"]
    frame = pd.DataFrame({"status": t["label"], "obligations": t["obligations"], "key": t["status"]})
    return View(
        "status_counts",
        "Obligations by status",
        frame,
        [Col("status", "Status"), Col("obligations", "Obligations", "integer")],
        f"Every obligation of the Code 2024, the Online Safety Act and the 2026 codes · {result.scalars['cycle']['label']}",
    )


def not_met(result: CycleResult) -> View:
    t = result["summary.not_met"]
    frame = pd.DataFrame(
        {
            "instrument": t["instrument_name"],
            "section": t["section"],
            "obligation": t["title"],
            "due": pd.to_datetime(t["due"].replace("", None)),
            "owner": t["owner"],
            "evidence": t["evidence"],
        }
    )
    return View(
        "not_met",
        "Obligations not met, with the due date of their findings",
        frame,
        [
            Col("instrument", "Instrument"),
            Col("section", "Section"),
            Col("obligation", "Obligation"),
            Col("due", "Due", "date"),
            Col("owner", "Owner"),
            Col("evidence", "Evidence"),
        ],
        scope_text(result),
    )


def top_risks(result: CycleResult) -> View:
    t = result["summary.top_risks"]
    frame = pd.DataFrame(
        {
            "risk": t["risk"],
            "band": t["residual"].map(humanise),
            "score": t["score"],
            "response": t["response"].map(humanise),
        }
    )
    return View(
        "top_risks",
        "Highest residual risks",
        frame,
        [
            Col("risk", "Risk"),
            Col("band", "Residual band"),
            Col("score", "Residual score", "number"),
            Col("response", "Response"),
        ],
        scope_text(result),
        classes={"band": "rk-band-"},
    )


def targets_view(result: CycleResult, missed_only: bool = False) -> View:
    t = result["targets"]
    if missed_only:
        t = t[t["status"] == "missed"]
    kinds = [metric_kind(result, m) for m in t["metric"]]
    frame = pd.DataFrame(
        {
            "target": t["label"],
            "value": t["value"],
            "target_value": [
                "none set by the regime" if s == "no number" else _target_text(r, k)
                for s, r, k in zip(t["status"], t.to_dict("records"), kinds, strict=True)
            ],
            "status": t["status"].map({"met": "met", "missed": "missed", "no data": "no data", "no number": ""}),
            "basis": [
                f"{n} [{c}]" if n else f"{src} [{c}]{' (overridden)' if o else ''}"
                for n, src, c, o in zip(t["no_number"], t["source"], t["confidence"], t["overridden"], strict=True)
            ],
            "kind": kinds,
        }
    )
    title = "Clocks and targets missed" if missed_only else "Targets"
    return View(
        "targets",
        title,
        frame,
        [
            Col("target", "Target"),
            Col("value", "Value", "number", kinds="kind"),
            Col("target_value", "Target"),
            Col("status", "Met?"),
            Col("basis", "Basis [confidence]"),
        ],
        scope_text(result),
        classes={"status": "rk-target-"},
    )


def obligations_view(result: CycleResult, instruments: Sequence[str] | None = None, name: str = "obligations") -> View:
    t = result["obligations"]
    if instruments is not None:
        t = t[t["instrument"].isin(instruments)]
    frame = pd.DataFrame(
        {
            "instrument": t["instrument_name"],
            "section": t["section"],
            "obligation": t["title"],
            "status": t["status_label"],
            "status_key": t["status"],
            "evidence": t["evidence"],
            "owner": t["owner"],
            "due": pd.to_datetime(t["due"].replace("", None)),
            "trend": t["trend"].map(
                lambda v: {"new": "first assessed", "better": "better", "worse": "worse"}.get(v, v)
            ),
            "confidence": _confidence_text(t),
        }
    )
    return View(
        name,
        "Obligations register" if instruments is None else "Online Safety Plan status (ONSA s.20)",
        frame,
        [
            Col("instrument", "Instrument"),
            Col("section", "Section"),
            Col("obligation", "Obligation"),
            Col("status", "Status"),
            Col("evidence", "Evidence"),
            Col("owner", "Owner"),
            Col("due", "Due", "date"),
            Col("trend", "Since the previous cycle"),
            Col("confidence", "Source confidence"),
        ],
        scope_text(result),
        classes={"status": "rk-ob-"},
    )


def _confidence_text(t: pd.DataFrame) -> pd.Series:
    """``S`` or ``S (draft text only)``: a duty reported only for a draft of its instrument says so."""
    basis = t["basis"] if "basis" in t.columns else pd.Series("", index=t.index)
    return t["confidence"] + basis.map(lambda b: " (draft text only)" if b == "draft" else "")


def calendar_view(result: CycleResult, table: str = "calendar", title: str = "Compliance calendar") -> View:
    """Dated duties (transition deadlines, report periods, EU DSA reports, reassessment triggers), then the duties
    whose date is not yet set because their instrument is pending."""
    from riskkit.calendar import EVENT_WORDS

    t = result[table]
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(pd.Series(list(t["date"]), index=t.index, dtype="object")),
            "what": t["title"],
            "kind": t["event"].map(lambda e: EVENT_WORDS.get(e, humanise(e))),
            "instrument": t["instrument_name"],
            "detail": t["detail"],
            "status": t["status"],
            "confidence": t["confidence"],
        }
    )
    return View(
        table.replace(".", "_"),
        title,
        frame,
        [
            Col("date", "Date (MYT)", "date"),
            Col("what", "What"),
            Col("kind", "Kind"),
            Col("instrument", "Instrument"),
            Col("detail", "Detail"),
            Col("status", "Status"),
            Col("confidence", "Source confidence"),
        ],
        f"Dates in Asia/Kuala_Lumpur, from the frameworks and the data pack as of {_as_of_text(result)}",
        note="A duty whose instrument is not yet made has no date; it is listed last.",
    )


def coming_up(result: CycleResult) -> View:
    """The executive summary's "coming up": what falls due in the next six months, then what is pending."""
    return calendar_view(result, "summary.coming_up", "Coming up in the next six months, then pending duties")


def _as_of_text(result: CycleResult) -> str:
    return f"{pd.Timestamp(result.scalars['as_of']):%-d %b %Y}"


def harm_handling(result: CycleResult) -> View:
    """Handling by harm: decisions, enforcement, proactive share, time to action and each clock's share."""
    t = result["mcmc.harm_handling"]
    clocks = [c for c in t.columns if c.startswith("sla.")]
    frame = t.rename(columns={"harm": "harm"}).copy()
    frame["harm"] = frame["harm"].map(lambda h: "All harms" if h == "all" else h)
    columns = [
        Col("harm", "Harm"),
        Col("decisions", "Decisions", "integer"),
        Col("actions_enforced", "Enforcement actions", "integer"),
        Col("proactive_rate", "Found proactively", "percent"),
        Col("tta_median_h", "Median time to action", "hours"),
        Col("tta_p90_h", "90th percentile time to action", "hours"),
        Col("open_at_cycle_end", "Open at cycle end", "integer"),
    ]
    columns += [Col(c, _metric_label(result, c), "percent") for c in clocks]
    return View("harm_handling", "Handling of harmful content by harm", frame, columns, scope_text(result))


def register_view(result: CycleResult, top: int | None = None) -> View:
    r = result["risk.register"]
    if top is not None:
        r = r.head(top)
    frame = pd.DataFrame(
        {
            "risk": [f"{h} on {humanise(s).lower()}" for h, s in zip(r["harm_label"], r["surface"], strict=True)],
            "likelihood": r["likelihood"],
            "severity": r["severity"],
            "inherent": r["inherent_band"].map(humanise),
            "effectiveness": r["effectiveness"],
            "residual_score": r["residual_score"],
            "residual": r["residual_band"].map(humanise),
            "response": r["response"].map(humanise),
            "trend": r["trend"].map(lambda v: {"new": "first assessed", "same": "unchanged"}.get(v, v)),
            "triggers": r["triggers"].map(lambda v: ", ".join(humanise(x) for x in str(v).split(";") if x)),
        }
    )
    return View(
        "risk_register",
        "Risk register (harm × surface, highest residual first)",
        frame,
        [
            Col("risk", "Risk"),
            Col("likelihood", "Likelihood (1–5)", "integer"),
            Col("severity", "Severity (1–5)", "integer"),
            Col("inherent", "Inherent band"),
            Col("effectiveness", "Control effectiveness (1–5)", "number"),
            Col("residual_score", "Residual score", "number"),
            Col("residual", "Residual band"),
            Col("response", "Response"),
            Col("trend", "Since the previous cycle"),
            Col("triggers", "Reassessment triggers"),
        ],
        scope_text(result),
        classes={"inherent": "rk-band-", "residual": "rk-band-"},
    )


def audit_items(result: CycleResult, audit: str) -> View:
    t = result[f"audit.{audit}.items"]
    frame = pd.DataFrame(
        {
            "item": t["item_id"],
            "question": t["question"],
            "domain": t["domain_label"],
            "mandatory": t["mandatory"].map({True: "yes", False: "no"}),
            "answer": t["status"].map(lambda s: humanise(s) if s else "not answered"),
            "result": t["result"].map(lambda v: label_of(result, "audit_result", v)),
            "maturity": t["maturity"],
            "data": [
                "" if not exp else f"{meaning or exp} — {_outcome_words(out, value)}"
                for exp, meaning, out, value in zip(
                    t["data_expected"], t["data_meaning"], t["data_test"], t["data_value"], strict=True
                )
            ],
            "evidence": t["evidence"],
            "owner": t["owner"],
        }
    )
    return View(
        f"audit_{audit}",
        "Every item",
        frame,
        [
            Col("item", "Item"),
            Col("question", "Question"),
            Col("domain", "Domain"),
            Col("mandatory", "Mandatory"),
            Col("answer", "Answer"),
            Col("result", "Result"),
            Col("maturity", "Maturity (0–4)", "integer"),
            Col("data", "Tested against the data"),
            Col("evidence", "Evidence"),
            Col("owner", "Owner"),
        ],
        f"The platform's answers for {result.scalars['cycle']['label']}",
        classes={"result": "rk-result-"},
    )


def _outcome_words(outcome: str, value: Any) -> str:
    shown = "" if _nan(value) else f" (value {float(value):,.4g})"
    return {"pass": "holds", "fail": "does not hold"}.get(outcome, "no data") + shown


def records_completeness(result: CycleResult) -> View:
    t = result["mcmc.record_keeping"]
    frame = t.copy()
    frame["category"] = frame["category"].map(lambda k: "All harms" if k == "all" else label_of(result, "harm", k))
    return View(
        "record_keeping",
        "Completeness of the records of enforcement actions",
        frame,
        [
            Col("category", "Harm"),
            Col("actions", "Enforcement actions", "integer"),
            Col("with_rationale", "With a rationale", "percent"),
            Col("with_policy_ref", "With a policy reference", "percent"),
            Col("complete", "Complete", "percent"),
        ],
        "All enforcement actions of the cycle, in Malaysia and elsewhere (record keeping covers every decision) · "
        + result.scalars["cycle"]["label"],
    )


def labels_table(library: Any) -> pd.DataFrame:
    """The reader's label of every key a view may show (built at evaluation, saved with the result)."""
    rows: list[tuple[str, str, str, str]] = []
    for key in schema.HARM_CATEGORIES:
        rows.append(("harm", key, library.harm_label(key, "en"), library.harm_label(key, "ms")))
    for r in library.audit_methodology.results:
        rows.append(("audit_result", r.ref_id, r.label.en, r.label.ms))
    for s in library.compliance_method.statuses:
        rows.append(("obligation_status", s.ref_id, s.label.en, s.label.ms))
    for enum in (
        schema.DETECTION_SOURCES,
        schema.DECISION_MAKERS,
        schema.ACTIONS,
        schema.REPORTER_TYPES,
        schema.REQUEST_KINDS,
        schema.AGE_BANDS,
    ):
        for key in enum:
            rows.append(("level", key, humanise(key), humanise(key)))
    return pd.DataFrame(rows, columns=["kind", "key", "en", "ms"]).drop_duplicates(["kind", "key"])


def context(result: CycleResult) -> View:
    t = result["context"]
    return View(
        "context",
        "The service and its users",
        t.rename(columns={"item": "item", "value": "value"}),
        [Col("item", "Item"), Col("value", "Value")],
        scope_text(result),
    )


def risk_summary(result: CycleResult) -> View:
    t = result["mcmc.risk_summary"]
    frame = t.rename(columns={"harm_label": "harm", "highest residual score": "highest"})
    columns = [Col("harm", "Harm")]
    columns += [Col(b, f"Surfaces in band {b}", "integer") for b in ("critical", "high", "medium", "low") if b in frame]
    columns.append(Col("highest", "Highest residual score", "number"))
    return View("risk_summary", "Residual risk by harm", frame, columns, scope_text(result))


def triggers(result: CycleResult, table: str = "risk.triggers") -> View:
    t = result[table]
    frame = pd.DataFrame(
        {
            "trigger": t["label"],
            "detail": t["detail"],
            "harms": t["harms"].map(
                lambda v: "all harms" if v == "all" else ", ".join(label_of(result, "harm", h) for h in v.split(";"))
            ),
            "surfaces": t["surfaces"].map(lambda v: "all surfaces" if v == "all" else v.replace(";", ", ")),
        }
    )
    return View(
        "triggers",
        "Reassessment triggers that fired",
        frame,
        [Col("trigger", "Trigger"), Col("detail", "What happened"), Col("harms", "Harms"), Col("surfaces", "Surfaces")],
        scope_text(result),
    )


def challenges(result: CycleResult) -> View:
    t = result["mcmc.compliance_challenges"]
    frame = pd.DataFrame(
        {
            "source": t["source"].map(humanise),
            "item": t["item"],
            "issue": t["issue"],
            "severity": t["severity"].map(humanise),
            "status": t["status"].map(humanise),
            "due": pd.to_datetime(t["due"].replace("", None)),
        }
    )
    return View(
        "compliance_challenges",
        "Compliance challenges: open findings and failed checks",
        frame,
        [
            Col("source", "Source"),
            Col("item", "Items"),
            Col("issue", "Issue"),
            Col("severity", "Severity"),
            Col("status", "Status"),
            Col("due", "Due", "date"),
        ],
        scope_text(result),
    )


def significant_changes(result: CycleResult) -> View:
    t = result["mcmc.significant_changes"]
    kinds = [metric_kind(result, m) for m in t["metric"]]
    frame = pd.DataFrame(
        {
            "measure": [_metric_label(result, m) for m in t["metric"]],
            "harm": t["category"].map(lambda c: "All harms" if c == "all" else label_of(result, "harm", c)),
            "previous": t["previous_value"],
            "value": t["value"],
            "change": [change_text(c, k) for c, k in zip(t["change"], kinds, strict=True)],
            "kind": kinds,
        }
    )
    return View(
        "significant_changes",
        "Changes against the previous cycle that are significant at 5 %",
        frame,
        [
            Col("measure", "Measure"),
            Col("harm", "Harm"),
            Col("previous", "Previous cycle", "number", kinds="kind"),
            Col("value", "This cycle", "number", kinds="kind"),
            Col("change", "Change"),
        ],
        scope_text(result),
    )


def risks_moved(result: CycleResult) -> View:
    t = result["mcmc.risks_moved"]
    frame = pd.DataFrame(
        {
            "risk": [f"{h} on {humanise(s).lower()}" for h, s in zip(t["harm_label"], t["surface"], strict=True)],
            "before": t["previous_residual_band"].map(lambda v: humanise(v) if isinstance(v, str) else ""),
            "now": t["residual_band"].map(humanise),
            "trend": t["trend"].map({"up": "higher", "down": "lower"}),
        }
    )
    return View(
        "risks_moved",
        "Residual risks that moved",
        frame,
        [Col("risk", "Risk"), Col("before", "Previous band"), Col("now", "Band now"), Col("trend", "Direction")],
        scope_text(result),
    )


def public_table(result: CycleResult, key: str, lang: str = "en") -> View:
    """A disclosed public table as published in ``lang`` (its cells and headers are already the reader's text)."""
    t = result[f"public.{lang}.{key}"]
    title = result.scalars["public"]["titles"][lang][key]
    return View(f"public_{key}", title, t, [Col(c, c) for c in t.columns], public_scope(result, lang))


def public_scope(result: CycleResult, lang: str = "en") -> str:
    """``Malaysian users · 1 January – 31 December 2026`` in ``lang`` (a half-year keeps its period label)."""
    from riskkit.reports.wording import load_wording

    words, cycle = load_wording(), result.scalars["cycle"]
    period = words.t("year_period", lang, year=cycle["id"]) if cycle["kind"] == "year" else cycle["label"]
    return words.t("scope", lang, period=period)


def _risk_names(result: CycleResult) -> dict[str, str]:
    r = result["risk.register"]
    return {
        i: f"{h} on {humanise(s).lower()}" for i, h, s in zip(r["row_id"], r["harm_label"], r["surface"], strict=True)
    }


def _name_from_id(result: CycleResult, row_id: str) -> str:
    """``R-child_self_harm-groups`` → ``Content inducing children to self-harm on groups`` (a risk no longer in
    the register, so not in its names)."""
    harm, _, surface = str(row_id).removeprefix("R-").rpartition("-")
    return f"{label_of(result, 'harm', harm)} on {humanise(surface).lower()}"


def risk_checks(result: CycleResult) -> View:
    """The register's quality checks, naming the risks concerned (not their ids)."""
    t = result["risk.checks"]
    names = _risk_names(result)
    which = []
    for ids in t["row_ids"]:
        text = str(ids)
        more = text.rstrip().endswith("…")
        shown = [names.get(i.strip(), i.strip()) for i in text.rstrip(" …").split(",") if i.strip()]
        which.append(", ".join(shown) + (" and more" if more else ""))
    frame = pd.DataFrame(
        {
            "check": t["description"],
            "result": t["status"],
            "risks": t["rows"],
            "which": which,
            "result_key": t["status"],
        }
    )
    return View(
        "risk_checks",
        "Quality checks on the register",
        frame,
        [Col("check", "Check"), Col("result", "Result"), Col("risks", "Risks", "integer"), Col("which", "Which")],
        scope_text(result),
        classes={"result": "rk-status-"},
    )


def register_changes(result: CycleResult) -> View | None:
    """Band changes against the previous run's register (None without a previous run)."""
    t = result.get("risk.changes_since_previous_run")
    if t is None:
        return None
    names = _risk_names(result)
    frame = pd.DataFrame(
        {
            "risk": [names.get(i) or _name_from_id(result, i) for i in t["row_id"]],
            "before": t["residual_band_before"].map(lambda v: humanise(v) if isinstance(v, str) else ""),
            "now": t["residual_band"].map(lambda v: humanise(v) if isinstance(v, str) else ""),
            "change": t["change"].map(lambda v: {"new": "new risk", "dropped": "no longer assessed"}.get(v, v)),
        }
    )
    return View(
        "register_changes",
        "Band changes since the previous run",
        frame,
        [Col("risk", "Risk"), Col("before", "Band before"), Col("now", "Band now"), Col("change", "Change")],
        scope_text(result),
    )
