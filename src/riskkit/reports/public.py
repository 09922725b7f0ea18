"""The public annual report's tables, in each language it is published in: every one a
:class:`~riskkit.reports.disclosure.PublicTable`, every text from the library's labels or the report's wording."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.library import Library
from riskkit.metrics import ALL, Metrics, registry
from riskkit.reports.disclosure import Disclosure, PublicTable
from riskkit.reports.wording import Wording
from riskkit.result import CycleResult

#: The public tables, in reading order.
TABLES = ("harm", "handling", "support", "rates", "reports", "requests")
#: Child safety first, then the other harms in the contract's order.
HARM_ORDER = ("csam", "child_self_harm", *[h for h in schema.HARM_CATEGORIES if h not in ("csam", "child_self_harm")])


def _mys(m: Metrics, metric: str, category: str = ALL, dimension: str = "", level: str = "") -> pd.Series | None:
    return m.row(metric, category, "malaysia", dimension, level)


def public_tables(
    m: Metrics, features_launched: int, disclosure: Disclosure, library: Library, words: Wording, lang: str
) -> dict[str, PublicTable]:
    """Every public table in ``lang``, keyed as :data:`TABLES`. Suppression depends on the numbers only, so every
    language hides the same cells."""
    return {
        "harm": public_harm_table(m, disclosure, library, words, lang),
        "handling": public_handling_table(m, disclosure, library, words, lang),
        "support": public_support_table(m, features_launched, disclosure, words, lang),
        "rates": public_rates_table(m, disclosure, words, lang),
        "reports": public_reports_table(m, disclosure, words, lang),
        "requests": public_requests_table(m, disclosure, words, lang),
    }


def public_harm_table(m: Metrics, disclosure: Disclosure, library: Library, words: Wording, lang: str) -> PublicTable:
    """Enforcement by harm, child safety first: actions (counts, with the total)."""
    harm, actions, total = words.t("col_harm", lang), words.t("col_actions", lang), words.t("total", lang)
    rows = []
    for h in HARM_ORDER:
        r = _mys(m, "actions_enforced", h)
        rows.append({harm: library.harm_label(h, lang), actions: 0.0 if r is None else r["value"]})
    r = _mys(m, "actions_enforced")
    rows.append({harm: total, actions: 0.0 if r is None else r["value"]})
    return PublicTable.from_counts(
        words.t("table_harm", lang),
        pd.DataFrame(rows),
        label_column=harm,
        disclosure=disclosure,
        total_row=total,
        withheld=words.t("withheld", lang),
    )


def public_handling_table(
    m: Metrics, disclosure: Disclosure, library: Library, words: Wording, lang: str
) -> PublicTable:
    """How quickly and how proactively harm was handled, by harm (rates withheld on small numbers)."""
    harm, hours = words.t("col_harm", lang), words.t("col_hours", lang)
    rows = []
    for h in (*HARM_ORDER, ALL):
        p = _mys(m, "proactive_rate", h)
        t = _mys(m, "tta_median_h", h)
        rows.append(
            {
                harm: words.t("total", lang) if h == ALL else library.harm_label(h, lang),
                "num": np.nan if p is None else p["numerator"],
                "den": np.nan if p is None else p["denominator"],
                hours: np.nan if t is None else t["value"],
            }
        )
    return PublicTable.from_rates(
        words.t("table_handling", lang),
        pd.DataFrame(rows),
        label_column=harm,
        rate_columns={words.t("col_proactive", lang): ("num", "den")},
        value_columns=[hours],
        disclosure=disclosure,
        withheld=words.t("withheld", lang),
    )


def public_reports_table(m: Metrics, disclosure: Disclosure, words: Wording, lang: str) -> PublicTable:
    """User reports by reporter type (counts with total)."""
    columns = (words.t("col_reporter", lang), words.t("col_reports", lang))
    levels = {k: words.t(f"reporter_{k}", lang) for k in schema.REPORTER_TYPES}
    return _breakdown(m, "reports_received", "reporter_type", levels, columns, "table_reports", disclosure, words, lang)


#: Request kinds never published: ONSA s.61 forbids revealing that a communications-data disclosure notice exists,
#: so the public table leaves them out of its rows and of its total.
SECRET_REQUEST_KINDS = ("disclosure_notice",)


def public_requests_table(m: Metrics, disclosure: Disclosure, words: Wording, lang: str) -> PublicTable:
    """Authority requests by kind (counts with total), without the kinds whose existence must stay secret."""
    columns = (words.t("col_kind", lang), words.t("col_requests", lang))
    levels = {k: words.t(f"request_{k}", lang) for k in schema.REQUEST_KINDS if k not in SECRET_REQUEST_KINDS}
    return _breakdown(
        m, "requests_received", "kind", levels, columns, "table_requests", disclosure, words, lang, SECRET_REQUEST_KINDS
    )


def _breakdown(
    m: Metrics,
    metric: str,
    dimension: str,
    levels: dict[str, str],
    columns: Sequence[str],
    title: str,
    disclosure: Disclosure,
    words: Wording,
    lang: str,
    hidden: Sequence[str] = (),
) -> PublicTable:
    """A count split by ``levels`` with its total; ``hidden`` levels are left out of the rows and the total."""
    label, value = columns
    rows = []
    for level, shown in levels.items():
        r = _mys(m, metric, ALL, dimension, level)
        rows.append({label: shown, value: 0.0 if r is None else r["value"]})
    total = words.t("total", lang)
    r = _mys(m, metric)
    secret = sum(float(h["value"]) for level in hidden if (h := _mys(m, metric, ALL, dimension, level)) is not None)
    rows.append({label: total, value: 0.0 if r is None else r["value"] - secret})
    return PublicTable.from_counts(
        words.t(title, lang),
        pd.DataFrame(rows),
        label_column=label,
        disclosure=disclosure,
        total_row=total,
        withheld=words.t("withheld", lang),
    )


def public_rates_table(m: Metrics, disclosure: Disclosure, words: Wording, lang: str) -> PublicTable:
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
    measure = words.t("col_measure", lang)
    rows = []
    for metric in ids:
        r = _mys(m, metric)
        if r is not None:
            d = m.definitions[metric]
            rows.append(
                {measure: d.label_ms if lang == "ms" else d.label_en, "num": r["numerator"], "den": r["denominator"]}
            )
    auto = _mys(m, "reversal_rate", ALL, "decision_by", "automated")
    if auto is not None:
        rows.append(
            {measure: words.t("measure_reversal_automated", lang), "num": auto["numerator"], "den": auto["denominator"]}
        )
    return PublicTable.from_rates(
        words.t("table_rates", lang),
        pd.DataFrame(rows, columns=[measure, "num", "den"]),
        label_column=measure,
        rate_columns={words.t("col_share", lang): ("num", "den")},
        disclosure=disclosure,
        withheld=words.t("withheld", lang),
    )


def public_support_table(
    m: Metrics, features_launched: int, disclosure: Disclosure, words: Wording, lang: str
) -> PublicTable:
    """Moderator support and change during the period: averages and counts, never names."""
    values = [
        ("measure_moderators", m.value("moderators_fte"), "{:,.0f}"),
        ("measure_training", m.value("training_hours_per_moderator"), "{:,.1f}"),
        ("measure_wellbeing", m.value("wellbeing_hours_per_moderator"), "{:,.1f}"),
        ("measure_languages", m.value("languages_covered"), "{:,.0f}"),
        ("measure_features", float(features_launched), "{:,.0f}"),
    ]
    withheld = words.t("withheld", lang)
    measure, value = words.t("col_measure", lang), words.t("col_value", lang)
    rows = [{measure: words.t(k, lang), value: withheld if math.isnan(v) else fmt.format(v)} for k, v, fmt in values]
    table = PublicTable(words.t("table_support", lang), pd.DataFrame(rows), threshold=disclosure.threshold)
    # averages and levels, not counts of people; the number of launches is not personal data
    table.check(disclosure, counts=False)
    return table


def public_summary(
    tables: dict[str, PublicTable], library: Library, words: Wording, lang: str, year: str, threshold: int
) -> list[str]:
    """The year in plain language, sentence by sentence, from the disclosed tables only (a figure hidden there is
    hidden here: ``<10`` reads "fewer than 10", a withheld share gets a sentence saying so)."""
    withheld = words.t("withheld", lang)

    def cell(key: str, label: str, column: str) -> str:
        frame = tables[key].frame
        value = str(frame.loc[frame.iloc[:, 0] == label, words.t(column, lang)].iloc[0])
        return words.t("fewer_than", lang, threshold=threshold) if value.startswith("<") else value

    total = words.t("total", lang)
    sentences = [
        words.t("summary_actions", lang, year=year, actions=cell("harm", total, "col_actions")),
        words.t(
            "summary_child",
            lang,
            csam=cell("harm", library.harm_label("csam", lang), "col_actions"),
            self_harm=cell("harm", library.harm_label("child_self_harm", lang), "col_actions"),
        ),
    ]
    share = cell("handling", total, "col_proactive")
    sentences.append(
        words.t("summary_proactive_withheld", lang)
        if share == withheld
        else words.t("summary_proactive", lang, share=share)
    )
    sentences.append(
        words.t(
            "summary_reports",
            lang,
            reports=cell("reports", total, "col_reports"),
            requests=cell("requests", total, "col_requests"),
        )
    )
    reversal = registry(library)["reversal_rate"]
    label = reversal.label_ms if lang == "ms" else reversal.label_en
    if label in set(tables["rates"].frame.iloc[:, 0]):
        share = cell("rates", label, "col_share")
        sentences.append(
            words.t("summary_reversal_withheld", lang)
            if share == withheld
            else words.t("summary_reversal", lang, share=share)
        )
    return sentences


def public_comparison(harm: PublicTable, previous: CycleResult | None, words: Wording, lang: str) -> str:
    """Enforcement actions against the previous year's disclosed total; the first year says there is none."""
    key = f"public.{lang}.harm"
    if previous is None or key not in previous.tables:
        return words.t("change_first_year", lang)
    total, column = words.t("total", lang), words.t("col_actions", lang)

    def total_of(frame: pd.DataFrame) -> str:
        return str(frame.loc[frame.iloc[:, 0] == total, column].iloc[0])

    before, after = total_of(previous[key]), total_of(harm.frame)
    try:
        b, a = float(before.replace(",", "")), float(after.replace(",", ""))
        direction = "rose" if a > b else "fell" if a < b else "unchanged"
    except ValueError:  # a hidden total ("<10", withheld): no direction
        direction = "changed"
    return words.t(
        "change_compared",
        lang,
        previous=previous.cycle_id,
        direction=words.t(direction, lang),
        before=before,
        after=after,
    )
