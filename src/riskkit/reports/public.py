"""The public annual report's tables: every one a :class:`~riskkit.reports.disclosure.PublicTable`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.library import Library
from riskkit.metrics import ALL, Metrics
from riskkit.reports.disclosure import PHRASES, WITHHELD, Disclosure, PublicTable


def _mys(m: Metrics, metric: str, category: str = ALL, dimension: str = "", level: str = "") -> pd.Series | None:
    return m.row(metric, category, "malaysia", dimension, level)


def public_harm_table(m: Metrics, disclosure: Disclosure, library: Library) -> PublicTable:
    """Enforcement by harm, child safety first: actions (counts, with the total)."""
    lib = library
    order = ["csam", "child_self_harm", *[h for h in schema.HARM_CATEGORIES if h not in ("csam", "child_self_harm")]]
    rows = []
    for h in order:
        r = _mys(m, "actions_enforced", h)
        rows.append({"harm": lib.harm_label(h), "enforcement actions": 0.0 if r is None else r["value"]})
    total = _mys(m, "actions_enforced")
    rows.append({"harm": "total", "enforcement actions": 0.0 if total is None else total["value"]})
    return PublicTable.from_counts(
        "Harmful content actioned, by harm", pd.DataFrame(rows), label_column="harm", disclosure=disclosure
    )


def public_handling_table(m: Metrics, disclosure: Disclosure, library: Library) -> PublicTable:
    """How quickly and how proactively harm was handled, by harm (rates withheld on small numbers)."""
    lib = library
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
        disclosure=disclosure,
    )


def public_reports_table(m: Metrics, disclosure: Disclosure) -> PublicTable:
    """User reports by reporter type (counts with total)."""
    return _breakdown(
        m,
        "reports_received",
        "reporter_type",
        schema.REPORTER_TYPES,
        ("reporter", "reports"),
        "User reports received, by who reported",
        disclosure,
    )


def public_requests_table(m: Metrics, disclosure: Disclosure) -> PublicTable:
    """Authority requests by kind (counts with total)."""
    return _breakdown(
        m,
        "requests_received",
        "kind",
        schema.REQUEST_KINDS,
        ("kind", "requests"),
        "Requests from authorities, by kind",
        disclosure,
    )


def _breakdown(
    m: Metrics,
    metric: str,
    dimension: str,
    levels: Sequence[str],
    columns: tuple[str, str],
    title: str,
    disclosure: Disclosure,
) -> PublicTable:
    label, value = columns
    rows = []
    for level in levels:
        r = _mys(m, metric, ALL, dimension, level)
        rows.append({label: level, value: 0.0 if r is None else r["value"]})
    total = _mys(m, metric)
    rows.append({label: "total", value: 0.0 if total is None else total["value"]})
    return PublicTable.from_counts(title, pd.DataFrame(rows), label_column=label, disclosure=disclosure)


def public_rates_table(m: Metrics, disclosure: Disclosure) -> PublicTable:
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
        disclosure=disclosure,
    )


def public_support_table(m: Metrics, features_launched: int, disclosure: Disclosure) -> PublicTable:
    """Moderator support and change during the period: averages and counts, never names."""
    launched = features_launched
    values = [
        (PHRASES[1], m.value("moderators_fte"), "{:,.0f}"),
        (PHRASES[2], m.value("training_hours_per_moderator"), "{:,.1f}"),
        (PHRASES[3], m.value("wellbeing_hours_per_moderator"), "{:,.1f}"),
        (PHRASES[4], m.value("languages_covered"), "{:,.0f}"),
        (PHRASES[5], float(launched), "{:,.0f}"),
    ]
    rows = [{"measure": k, "value": WITHHELD if math.isnan(v) else fmt.format(v)} for k, v, fmt in values]
    table = PublicTable("Moderators and product changes", pd.DataFrame(rows), threshold=disclosure.threshold)
    # averages and levels, not counts of people; the number of launches is not personal data
    table.check(disclosure, counts=False)
    return table
