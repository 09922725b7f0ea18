"""The half-yearly report to MCMC: its tables, the Online Safety Plan status and the compliance challenges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.audit import AuditResult
from riskkit.library import Library
from riskkit.metrics import ALL, Metrics
from riskkit.risk import Assessment


def online_safety_plan(audits: Iterable[AuditResult], library: Library) -> pd.DataFrame:
    """ONSA s.20 Online Safety Plan status: each Risk Mitigation Code and Child Protection Code measure, with the
    status the audits give it (implemented / partially implemented / not implemented / not assessed / no checklist
    item), the evidence and the owners."""
    lib = library
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


def harm_handling(m: Metrics, library: Library) -> pd.DataFrame:
    """Handling of harmful content by harm against the SLA policy (regulator report: exact numbers)."""
    lib = library
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
            r = m.row(metric, h)
            row[metric] = np.nan if r is None else r["value"]
        for metric in [k for k in m.definitions if k.startswith("sla.")]:
            r = m.row(metric, h)
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
