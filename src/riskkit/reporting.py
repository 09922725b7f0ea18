"""Regulator and public report tables, the Online Safety Plan status, the record-keeping export, and disclosure
control for everything public.

Public outputs are only ever built as :class:`PublicTable`, which enforces the disclosure rules in code:

- a count below the threshold (default 10) is shown as ``<10``;
- a rate is withheld when its denominator or its numerator is below the threshold (a published rate and a
  published denominator would give the numerator back);
- complementary suppression: within every group of cells that add up to a published total, a single suppressed
  cell is never left alone — the next smallest cell is suppressed too, so no hidden cell can be recovered by
  subtraction;
- no free text from the data: every text cell must come from riskkit's own vocabularies (labels of harms, metrics,
  enums); anything else raises :class:`DisclosureError` instead of being published.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.audit import AuditResult
from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.datapack import DataPack
from riskkit.exceptions import RiskkitError
from riskkit.framework import Library, load_library
from riskkit.metrics import ALL, Metrics
from riskkit.risk import Assessment

DEFAULT_THRESHOLD = 10
WITHHELD = "withheld"
#: riskkit's own wording allowed in public tables besides its labels and enums.
PHRASES = (
    "Reversal rate on appeal: automated decisions",
    "Local moderators (full-time equivalent, average)",
    "Training hours per moderator",
    "Wellbeing-support hours per moderator",
    "Languages moderated locally",
    "Features launched",
)


class DisclosureError(RiskkitError):
    """A public table would publish something the disclosure rules forbid."""


# ------------------------------------------------------------------------------------------------ disclosure control


def _vocabulary(library: Library | None = None) -> set[str]:
    """Every text a public table may contain: riskkit's labels and enums, never data."""
    lib = library or load_library()
    words: set[str] = {ALL, "all categories", "total", "<", WITHHELD, "yes", "no", "", *PHRASES}
    for key in schema.HARM_CATEGORIES:
        words |= {key, lib.harm_label(key, "en"), lib.harm_label(key, "ms")}
    for t in schema.TABLES.values():
        for c in t.columns:
            words.update(c.enum or ())
    from riskkit.metrics import registry

    for m in registry(lib).values():
        words |= {m.id, m.label_en, m.label_ms, m.unit}
    for fw in lib.frameworks.values():
        for section in fw.sections:
            for e in fw.entries(section):
                words |= {e.label_en, e.label_ms}
    return words


@dataclass
class PublicTable:
    """A table cleared for publication. Build it with :meth:`from_counts` / :meth:`from_rates`; ``frame`` holds the
    display strings and ``log`` what was suppressed and why."""

    title: str
    frame: pd.DataFrame
    log: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "column", "reason"]))
    threshold: int = DEFAULT_THRESHOLD

    @classmethod
    def from_counts(
        cls,
        title: str,
        counts: pd.DataFrame,
        *,
        label_column: str,
        total_row: str | None = "total",
        threshold: int = DEFAULT_THRESHOLD,
        library: Library | None = None,
    ) -> PublicTable:
        """Counts per row label (one or more count columns). Each column, with its total row, is a group for
        complementary suppression; so is each row across the count columns when they add up to a total column
        named ``total``."""
        value_cols = [c for c in counts.columns if c != label_column]
        data = counts.set_index(label_column)[value_cols].astype(float)
        hidden = data < threshold
        log = []
        for col in value_cols:
            for row in data.index[hidden[col]]:
                log.append((row, col, f"count below {threshold}"))
        groups: list[list[tuple[Any, str]]] = []
        body = [r for r in data.index if r != total_row]
        if total_row is not None and total_row in data.index:
            groups += [[(r, c) for r in body] for c in value_cols]
        if "total" in value_cols:
            parts = [c for c in value_cols if c != "total"]
            groups += [[(r, c) for c in parts] for r in data.index]
        log += _complementary(data, hidden, groups)
        shown = data.astype(object)
        for col in value_cols:
            shown[col] = [
                f"<{threshold}" if h and (v < threshold) else (WITHHELD if h else f"{v:,.0f}")
                for v, h in zip(data[col], hidden[col], strict=True)
            ]
        frame = shown.reset_index()
        table = cls(title, frame, pd.DataFrame(log, columns=["row", "column", "reason"]), threshold)
        table.check(library)
        return table

    @classmethod
    def from_rates(
        cls,
        title: str,
        rows: pd.DataFrame,
        *,
        label_column: str,
        rate_columns: Mapping[str, tuple[str, str]],
        value_columns: Sequence[str] = (),
        threshold: int = DEFAULT_THRESHOLD,
        percent: bool = True,
        library: Library | None = None,
    ) -> PublicTable:
        """Rates from numerator/denominator columns (``{"shown name": ("num col", "den col")}``); a rate is withheld
        when its numerator or denominator is below the threshold. ``value_columns`` are non-count values (hours,
        FTE) shown as they are, withheld when the row's first denominator is below the threshold."""
        out = pd.DataFrame({label_column: rows[label_column].to_numpy()})
        log = []
        first_den = None
        for name, (num_col, den_col) in rate_columns.items():
            num = rows[num_col].astype(float).to_numpy()
            den = rows[den_col].astype(float).to_numpy()
            first_den = den if first_den is None else first_den
            cells = []
            for label, n, d in zip(out[label_column], num, den, strict=True):
                if not d or math.isnan(d) or d < threshold or (0 < n < threshold):
                    cells.append(WITHHELD)
                    log.append((label, name, f"numerator or denominator below {threshold}"))
                else:
                    cells.append(f"{100 * n / d:.1f}%" if percent else f"{n / d:.3f}")
            out[name] = cells
        for col in value_columns:
            values = rows[col].astype(float).to_numpy()
            cells = []
            for i, (label, v) in enumerate(zip(out[label_column], values, strict=True)):
                if first_den is not None and (math.isnan(first_den[i]) or first_den[i] < threshold):
                    cells.append(WITHHELD)
                    log.append((label, col, f"based on fewer than {threshold} items"))
                else:
                    cells.append("" if math.isnan(v) else f"{v:,.1f}")
            out[col] = cells
        table = cls(title, out, pd.DataFrame(log, columns=["row", "column", "reason"]), threshold)
        table.check(library)
        return table

    def check(self, library: Library | None = None, *, counts: bool = True) -> None:
        """Refuse free text and raw small counts: the last line of defence of every public table.
        ``counts=False`` for tables of averages and levels (no count of people or items)."""
        vocabulary = _vocabulary(library)
        for col in self.frame.columns:
            for value in self.frame[col]:
                text = str(value)
                if _is_number(text) or (text.startswith("<") and _is_number(text[1:])):
                    number = _to_number(text)
                    small = number is not None and 0 < number < self.threshold
                    if counts and small and not text.endswith("%") and "." not in text:
                        raise DisclosureError(f"{self.title}: column {col!r} would publish the small count {text}")
                    continue
                if text.endswith("%") and _is_number(text[:-1]):
                    continue
                if text not in vocabulary:
                    raise DisclosureError(
                        f"{self.title}: column {col!r} holds text that is not one of riskkit's labels "
                        f"(free text from the data must not be published): {text[:60]!r}"
                    )


def _is_number(text: str) -> bool:
    return _to_number(text) is not None


def _to_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _complementary(data: pd.DataFrame, hidden: pd.DataFrame, groups: list[list[tuple[Any, str]]]) -> list:
    """Suppress more cells until no group has exactly one hidden cell (iterate: one suppression can expose
    another group)."""
    log = []
    changed = True
    while changed:
        changed = False
        for cells in groups:
            hidden_cells = [c for c in cells if hidden.at[c]]
            if len(hidden_cells) != 1:
                continue
            candidates = [c for c in cells if not hidden.at[c]]
            if not candidates:
                continue
            smallest = min(candidates, key=lambda c: (data.at[c], str(c)))
            hidden.at[smallest] = True
            log.append((smallest[0], smallest[1], "complementary suppression (protects a hidden cell)"))
            changed = True
    return log


# ------------------------------------------------------------------------------------------------ public tables


def _mys(m: Metrics, metric: str, category: str = ALL, dimension: str = "", level: str = "") -> pd.Series | None:
    return m.row(metric, category, "malaysia", dimension, level)


def public_harm_table(m: Metrics, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None) -> PublicTable:
    """Enforcement by harm, child safety first: actions (counts, with the total)."""
    lib = library or load_library()
    order = ["csam", "child_self_harm", *[h for h in schema.HARM_CATEGORIES if h not in ("csam", "child_self_harm")]]
    rows = []
    for h in order:
        r = _mys(m, "actions_enforced", h)
        rows.append({"harm": lib.harm_label(h), "enforcement actions": 0.0 if r is None else r["value"]})
    total = _mys(m, "actions_enforced")
    rows.append({"harm": "total", "enforcement actions": 0.0 if total is None else total["value"]})
    return PublicTable.from_counts(
        "Harmful content actioned, by harm", pd.DataFrame(rows), label_column="harm", threshold=threshold, library=lib
    )


def public_handling_table(
    m: Metrics, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None
) -> PublicTable:
    """How quickly and how proactively harm was handled, by harm (rates withheld on small numbers)."""
    lib = library or load_library()
    rows = []
    for h in ["csam", "child_self_harm", *[x for x in schema.HARM_CATEGORIES if x not in ("csam", "child_self_harm")]]:
        p = _mys(m, "proactive_rate", h)
        t = _mys(m, "tta_median_h", h)
        rows.append(
            {
                "harm": lib.harm_label(h),
                "num": np.nan if p is None else p["numerator"],
                "den": np.nan if p is None else p["denominator"],
                "median hours to action": np.nan if t is None else t["value"],
            }
        )
    return PublicTable.from_rates(
        "Proactive detection and speed, by harm",
        pd.DataFrame(rows),
        label_column="harm",
        rate_columns={"found proactively": ("num", "den")},
        value_columns=["median hours to action"],
        threshold=threshold,
        library=lib,
    )


def public_reports_table(m: Metrics, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None) -> PublicTable:
    """User reports by reporter type (counts with total)."""
    return _breakdown(
        m,
        "reports_received",
        "reporter_type",
        schema.REPORTER_TYPES,
        ("reporter", "reports"),
        "User reports received, by who reported",
        threshold,
        library,
    )


def public_requests_table(
    m: Metrics, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None
) -> PublicTable:
    """Authority requests by kind (counts with total)."""
    return _breakdown(
        m,
        "requests_received",
        "kind",
        schema.REQUEST_KINDS,
        ("kind", "requests"),
        "Requests from authorities, by kind",
        threshold,
        library,
    )


def _breakdown(
    m: Metrics,
    metric: str,
    dimension: str,
    levels: Sequence[str],
    columns: tuple[str, str],
    title: str,
    threshold: int,
    library: Library | None,
) -> PublicTable:
    label, value = columns
    rows = []
    for level in levels:
        r = _mys(m, metric, ALL, dimension, level)
        rows.append({label: level, value: 0.0 if r is None else r["value"]})
    total = _mys(m, metric)
    rows.append({label: "total", value: 0.0 if total is None else total["value"]})
    return PublicTable.from_counts(title, pd.DataFrame(rows), label_column=label, threshold=threshold, library=library)


def public_rates_table(m: Metrics, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None) -> PublicTable:
    """Headline rates (automation, appeals, reversals, report handling), each withheld on small numbers."""
    ids = [
        "automated_detection_share",
        "automated_decision_share",
        "appeal_rate",
        "reversal_rate",
        "sla.onsa.report_ack_1h",
        "sla.onsa.report_assess_12h",
        "request_compliance_rate",
    ]
    rows = []
    for metric in ids:
        r = _mys(m, metric)
        if r is not None:
            rows.append({"measure": m.definitions[metric].label_en, "num": r["numerator"], "den": r["denominator"]})
    auto = _mys(m, "reversal_rate", ALL, "decision_by", "automated")
    if auto is not None:
        rows.append({"measure": PHRASES[0], "num": auto["numerator"], "den": auto["denominator"]})
    return PublicTable.from_rates(
        "How decisions are made and reviewed",
        pd.DataFrame(rows, columns=["measure", "num", "den"]),
        label_column="measure",
        rate_columns={"share": ("num", "den")},
        threshold=threshold,
        library=library,
    )


def public_support_table(
    m: Metrics, pack: DataPack, cycle: Cycle, threshold: int = DEFAULT_THRESHOLD, library: Library | None = None
) -> PublicTable:
    """Moderator support and change during the period: averages and counts, never names."""
    features = pack.get("feature_changes")
    launched = (
        0
        if features is None
        else int(((features["launched_at"] >= cycle.start) & (features["launched_at"] < cycle.end)).sum())
    )
    values = [
        (PHRASES[1], m.value("moderators_fte"), "{:,.0f}"),
        (PHRASES[2], m.value("training_hours_per_moderator"), "{:,.1f}"),
        (PHRASES[3], m.value("wellbeing_hours_per_moderator"), "{:,.1f}"),
        (PHRASES[4], m.value("languages_covered"), "{:,.0f}"),
        (PHRASES[5], float(launched), "{:,.0f}"),
    ]
    rows = [{"measure": k, "value": WITHHELD if math.isnan(v) else fmt.format(v)} for k, v, fmt in values]
    table = PublicTable("Moderators and product changes", pd.DataFrame(rows), threshold=threshold)
    # averages and levels, not counts of people; the number of launches is not personal data
    table.check(library, counts=False)
    return table


# ------------------------------------------------------------------------------------------------ MCMC report tables


def online_safety_plan(audits: Iterable[AuditResult], library: Library | None = None) -> pd.DataFrame:
    """ONSA s.20 Online Safety Plan status: each Risk Mitigation Code and Child Protection Code measure, with the
    status the audits give it (implemented / partially implemented / not implemented / not assessed / no checklist
    item), the evidence and the owners."""
    lib = library or load_library()
    items = pd.concat([a.items.assign(audit=a.audit) for a in audits], ignore_index=True) if audits else None
    obligations = pd.concat(
        [lib.obligations(instrument_id="rmc-2026"), lib.obligations(instrument_id="cpc-2026")], ignore_index=True
    )
    rows = []
    for ob in obligations.itertuples():
        ref = f"{ob.framework_id}:{ob.ref_id}"
        linked = (
            items[items["references"].fillna("").str.split(";").map(lambda refs, ref=ref: ref in refs)]
            if items is not None
            else pd.DataFrame()
        )
        assessed = linked[linked["result"].isin(["compliant", "partial", "non_compliant"])] if len(linked) else linked
        if not len(linked):
            status = "no checklist item"
        elif not len(assessed):
            status = "not assessed"
        elif (assessed["result"] == "non_compliant").any():
            status = "not implemented"
        elif (assessed["result"] == "partial").any():
            status = "partially implemented"
        else:
            status = "implemented"
        rows.append(
            {
                "instrument": ob.framework_id,
                "measure": ob.ref_id,
                "summary": ob.summary_en,
                "status": status,
                "items": ";".join(f"{r.audit}:{r.item_id}={r.result}" for r in linked.itertuples())
                if len(linked)
                else "",
                "evidence": "; ".join(sorted({e for e in linked["evidence"] if e})) if len(linked) else "",
                "owner": "; ".join(sorted({o for o in linked["owner"] if o})) if len(linked) else "",
                "confidence": ob.confidence,
            }
        )
    return pd.DataFrame(rows)


def record_keeping(pack: DataPack, cycle: Cycle) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every enforcement action of the cycle with its process and rationale (times in Malaysian time), and the
    completeness of those records by harm."""
    a = pack.actions
    inside = (a["detected_at"] >= cycle.start) & (a["detected_at"] < cycle.end) & (a["action"] != "no_violation")
    cols = [
        c
        for c in (
            "action_id",
            "content_id",
            "category",
            "surface",
            "in_malaysia",
            "detection_source",
            "decision_by",
            "action",
            "policy_ref",
            "rationale",
            "detected_at",
            "actioned_at",
            "reported_to_authority",
        )
        if c in a.columns
    ]
    records = a.loc[inside, cols].copy()
    for col in ("detected_at", "actioned_at"):
        records[col] = records[col].dt.tz_convert(REPORTING_TZ)
    has_rationale = records["rationale"].notna() & (records["rationale"].astype(str).str.strip() != "")
    has_policy = records["policy_ref"].notna() & (records["policy_ref"].astype(str).str.strip() != "")
    summary = (
        pd.DataFrame({"category": records["category"].astype(str), "rationale": has_rationale, "policy": has_policy})
        .assign(both=lambda d: d["rationale"] & d["policy"])
        .groupby("category")
        .agg(
            actions=("both", "size"),
            with_rationale=("rationale", "mean"),
            with_policy_ref=("policy", "mean"),
            complete=("both", "mean"),
        )
        .reset_index()
    )
    total = pd.DataFrame(
        [
            {
                "category": "all",
                "actions": len(records),
                "with_rationale": has_rationale.mean(),
                "with_policy_ref": has_policy.mean(),
                "complete": (has_rationale & has_policy).mean(),
            }
        ]
    )
    return records.reset_index(drop=True), pd.concat([summary, total], ignore_index=True)


def write_record_keeping(records: pd.DataFrame, folder: str | Path, cycle: Cycle) -> list[Path]:
    """record_keeping_<cycle>.csv and .parquet."""
    out = Path(folder)
    csv, parquet = out / f"record_keeping_{cycle.id}.csv", out / f"record_keeping_{cycle.id}.parquet"
    records.to_csv(csv, index=False)
    records.to_parquet(parquet, index=False)
    return [csv, parquet]


def harm_handling(m: Metrics, library: Library | None = None) -> pd.DataFrame:
    """Handling of harmful content by harm against the SLA policy (regulator report: exact numbers)."""
    lib = library or load_library()
    rows = []
    for h in (ALL, *schema.HARM_CATEGORIES):
        row: dict[str, Any] = {"harm": h if h == ALL else lib.harm_label(h)}
        for metric in (
            "decisions",
            "actions_enforced",
            "proactive_rate",
            "tta_median_h",
            "tta_p90_h",
            "open_at_cycle_end",
        ):
            r = _mys(m, metric, h)
            row[metric] = np.nan if r is None else r["value"]
        for metric in [k for k in m.definitions if k.startswith("sla.")]:
            r = _mys(m, metric, h)
            row[metric] = np.nan if r is None else r["value"]
        rows.append(row)
    return pd.DataFrame(rows)


def metric_section(m: Metrics, ids: Sequence[str], dimension: str = "") -> pd.DataFrame:
    """Selected metrics (Malaysian scope, all harms) with the previous cycle and the significance flag."""
    t = m.table
    rows = t[
        (t["scope"] == "malaysia") & (t["category"] == ALL) & (t["dimension"] == dimension) & t["metric"].isin(ids)
    ]
    cols = [
        "metric",
        "level",
        "value",
        "numerator",
        "denominator",
        "ci_low",
        "ci_high",
        "previous_value",
        "change",
        "significant",
    ]
    out = rows[cols].copy()
    out.insert(1, "label", out["metric"].map(lambda k: m.definitions[k].label_en))
    return out.reset_index(drop=True)


def risk_summary(assessment: Assessment) -> pd.DataFrame:
    """Residual risk bands per harm (count of surfaces in each band) and the highest residual."""
    r = assessment.register
    table = pd.crosstab(r["harm_label"], r["residual_band"]).reindex(
        columns=["critical", "high", "medium", "low"], fill_value=0
    )
    table["highest residual score"] = r.groupby("harm_label")["residual_score"].max()
    return table.sort_values(["critical", "high", "highest residual score"], ascending=False).reset_index()


def compliance_challenges(audits: Iterable[AuditResult], assessment: Assessment) -> pd.DataFrame:
    """Open findings of every audit and every failed quality check: what the half-yearly report calls compliance
    challenges."""
    rows = []
    for a in audits:
        for f in a.findings[a.findings["status"].isin(["open", "overdue"])].itertuples():
            rows.append(
                {
                    "source": f"audit: {a.audit}",
                    "item": f.item_id,
                    "issue": f.description,
                    "severity": f.severity,
                    "status": f.status,
                    "due": f.due_date,
                }
            )
        for c in a.checks[a.checks["status"] != "OK"].itertuples():
            rows.append(
                {
                    "source": f"audit checks: {a.audit}",
                    "item": c.items,
                    "issue": c.description,
                    "severity": "high" if c.status == "FAIL" else "medium",
                    "status": c.status,
                    "due": "",
                }
            )
    for c in assessment.checks[assessment.checks["status"] != "OK"].itertuples():
        rows.append(
            {
                "source": "risk register checks",
                "item": c.row_ids,
                "issue": c.description,
                "severity": "high" if c.status == "FAIL" else "medium",
                "status": c.status,
                "due": "",
            }
        )
    return pd.DataFrame(rows, columns=["source", "item", "issue", "severity", "status", "due"])


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame], cover: Mapping[str, Any]) -> Path:
    """An .xlsx with a cover sheet (provenance) and one sheet per table, written atomically."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.partial.xlsx")
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        pd.DataFrame(list(cover.items()), columns=["item", "value"]).to_excel(xl, sheet_name="cover", index=False)
        for name, df in sheets.items():
            frame = df.copy()
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            frame.to_excel(xl, sheet_name=name[:31], index=False)
    tmp.replace(out)
    return out
