"""KPIs from a data pack for a reporting cycle, with denominators, Wilson intervals and change vs the previous cycle.

Every metric is defined once, in the metric registry (``frameworks/metric-registry.yaml``); this module computes
them and refuses to emit anything unregistered. The computation is built from mergeable partial aggregates —
counts and fixed-width one-minute duration histograms, all plain sums — defined once, engine-neutrally, in
:mod:`riskkit.partials`; an engine (:mod:`riskkit.engines`: in-process NumPy, DuckDB, Spark, a warehouse) computes
them and this module finalises them into rates, Wilson intervals, tests and nearest-rank percentiles — one
finaliser for every engine, so the numbers are identical whichever computed the sums. Percentiles always come from
the histograms, never from an engine's quantile function.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.cycles import Cycle, parse
from riskkit.engines import core, inprocess
from riskkit.library import Clock, Library
from riskkit.pack import DataPack, TableNotAvailable

SCOPES = ("malaysia", "global")
CATEGORIES = schema.HARM_CATEGORIES
K = len(CATEGORIES)
ALL = "all"
CHUNK_ROWS = 1_000_000  # bounds the temporaries of one aggregation pass
Z95 = 1.959963984540054
#: Why time to action and detection-based clocks are not available for packs with ``time_basis: decision``.
NO_DETECTION_TIME = "not available: statements of reasons carry no detection time"

#: The columns compute() reads; pass to load_datapack(columns=...) to load large packs lean.
REQUIRED_COLUMNS: dict[str, list[str]] = {
    "actions": [
        "action_id",
        "category",
        "surface",
        "detected_at",
        "actioned_at",
        "detection_source",
        "decision_by",
        "action",
        "in_malaysia",
        "rationale",
        "policy_ref",
        "content_posted_at",
        "user_notified_at",
    ],
    "reports": [
        "received_at",
        "category",
        "reporter_type",
        "acknowledged_at",
        "assessed_at",
        "resolved_at",
        "outcome",
        "action_id",
        "in_malaysia",
    ],
    "appeals": ["action_id", "filed_at", "decided_at", "outcome"],
}

COLUMNS = (
    "cycle",
    "scope",
    "category",
    "dimension",
    "level",
    "metric",
    "value",
    "numerator",
    "denominator",
    "ci_low",
    "ci_high",
    "unit",
    "small_denominator",
    "previous_value",
    "change",
    "p_value",
    "significant",
)


# ------------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class MetricDef:
    """One registered metric."""

    id: str
    label_en: str
    label_ms: str
    definition: str
    formula: str
    unit: str
    kind: str  # count | rate | duration | value | flag
    table: str
    higher_is_better: bool | None
    answers: tuple[str, ...]
    notes: str = ""


def registry(library: Library, overrides: Mapping[str, Any] | None = None) -> dict[str, MetricDef]:
    """Metric id -> definition, with one ``sla.<clock>`` entry per clock of the (overridden) SLA policy."""
    out: dict[str, MetricDef] = {}
    template = None
    for e in library.metric_registry.metrics:
        m = MetricDef(
            id=e.ref_id,
            label_en=e.label.en,
            label_ms=e.label.ms,
            definition=" ".join(e.definition.split()),
            formula=e.formula,
            unit=e.unit,
            kind=e.kind,
            table=e.table,
            higher_is_better=e.higher_is_better,
            answers=tuple(e.answers),
            notes=" ".join((e.notes or "").split()),
        )
        if e.template:
            template = m
        else:
            out[m.id] = m
    if template is not None:
        for clock in library.sla_policy(overrides).clocks:
            en, ms = _hours(clock.hours), _hours(clock.hours)
            if clock.reading is not None:
                en, ms = f"{en}; {clock.reading_text('en')}", f"{ms}; {clock.reading_text('ms')}"
            out[f"sla.{clock.ref_id}"] = MetricDef(
                id=f"sla.{clock.ref_id}",
                label_en=f"{clock.label_en} ({en})",
                label_ms=f"{clock.label_ms} ({ms})",
                definition=f"{clock.label_en}: {_clock_events(clock)} within {_hours(clock.hours)}"
                f"{'; ' + clock.reading_text() if clock.reading else ''}. {template.definition}",
                formula=template.formula,
                unit=template.unit,
                kind=template.kind,
                table=clock.table,
                higher_is_better=True,
                answers=(f"{clock.provision} [{clock.confidence}]{' (overridden)' if clock.overridden else ''}",),
            )
    return out


def definitions_frame(library: Library, ids: list[str] | None = None) -> pd.DataFrame:
    """Registry as a table (for reports and the README), optionally only ``ids``, in registry order."""
    reg = registry(library)
    rows = [
        {
            "metric": m.id,
            "label": m.label_en,
            "definition": m.definition,
            "formula": m.formula,
            "unit": m.unit,
            "higher_is_better": m.higher_is_better,
            "answers": "; ".join(m.answers),
        }
        for m in reg.values()
        if ids is None or m.id in ids
    ]
    return pd.DataFrame(rows)


def definitions_markdown(library: Library) -> str:
    """The registry as a Markdown page (docs/metrics.md is this, regenerated by `riskkit metrics --definitions`)."""
    fw = library.metric_registry
    path = library.paths[fw.id]
    lines = [
        "# Metric definitions",
        "",
        f"Generated from `{path.name}` (registry `{fw.id}` version {fw.version}) by "
        "`riskkit metrics --definitions`; do not edit by hand.",
        "",
    ]
    head = path.read_text(encoding="utf-8").split("\nid:", 1)[0]
    lines += [line[2:] if line.startswith("# ") else line[1:] for line in head.splitlines()[3:] if line.startswith("#")]
    lines += [
        "",
        "| metric | label | definition | formula | unit | better | answers |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in registry(library).values():
        better = {True: "higher", False: "lower", None: "—"}[m.higher_is_better]
        cells = [f"`{m.id}`", m.label_en, m.definition + (f" *{m.notes}*" if m.notes else ""), f"`{m.formula}`"]
        cells += [m.unit, better, "; ".join(m.answers)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _hours(h: float) -> str:
    return f"{h:g} h"


def _clock_events(clock: Clock) -> str:
    """The start and stop events of a clock, in words."""
    if not clock.paths:
        return f"{clock.start} to {clock.stop} of `{clock.table}`"
    words = []
    for p in clock.paths:
        if p.path == "user_reported":
            words.append(
                f"user-reported items from `reports.{p.start}` to the linked decision (`reports.{p.link}` → "
                f"`actions.{p.stop}`), one count per report"
                + (
                    f"; a report closed ({p.closed_at}) as {'/'.join(p.closed_outcomes)} without one is a decision not to act"
                    if p.closed_outcomes
                    else ""
                )
            )
        else:
            words.append(
                f"own-initiative items (detection_source {'/'.join(p.detection_sources)}) from `actions.{p.start}` "
                f"to `actions.{p.stop}`"
            )
    only = "; stopped only by " + ", ".join(clock.stop_actions) if clock.stop_actions else "; any decision stops it"
    return "; ".join(words) + only


# ------------------------------------------------------------------------------------------------ result


@dataclass
class Metrics:
    """The tidy metrics table of a cycle plus helpers; ``table`` has the columns of :data:`COLUMNS`."""

    cycle: Cycle
    previous: Cycle
    table: pd.DataFrame
    unavailable: dict[str, str] = field(default_factory=dict)  # metric group -> why
    definitions: dict[str, MetricDef] = field(default_factory=dict)
    _positions: dict[tuple[str, str, str, str, str], int] | None = field(default=None, repr=False, compare=False)
    _indexed_rows: int = field(default=-1, repr=False, compare=False)

    def value(
        self, metric: str, category: str = ALL, scope: str = "malaysia", dimension: str = "", level: str = ""
    ) -> float:
        """One value (NaN when the metric is not available)."""
        row = self.row(metric, category, scope, dimension, level)
        return float("nan") if row is None else float(row["value"])

    def row(
        self, metric: str, category: str = ALL, scope: str = "malaysia", dimension: str = "", level: str = ""
    ) -> pd.Series | None:
        """The table's row for one metric, category, scope and breakdown level (None when absent)."""
        position = self._index().get((metric, category, scope, dimension, level))
        return None if position is None else self.table.iloc[position]

    def _index(self) -> dict[tuple[str, str, str, str, str], int]:
        """(metric, category, scope, dimension, level) -> row position, built once (lookups are hot in scoring)."""
        if self._positions is None or self._indexed_rows != len(self.table):
            keys = zip(
                self.table["metric"],
                self.table["category"],
                self.table["scope"],
                self.table["dimension"],
                self.table["level"],
                strict=True,
            )
            positions: dict[tuple[str, str, str, str, str], int] = {}
            for i, key in enumerate(keys):
                positions.setdefault(key, i)
            self._positions, self._indexed_rows = positions, len(self.table)
        return self._positions

    def wide(self, scope: str = "malaysia", column: str = "value", metrics: list[str] | None = None) -> pd.DataFrame:
        """Categories × metrics (no breakdowns), in registry order."""
        t = self.table[(self.table["scope"] == scope) & (self.table["dimension"] == "")]
        if metrics is not None:
            t = t[t["metric"].isin(metrics)]
        out = t.pivot_table(index="category", columns="metric", values=column, aggfunc="first", sort=False)
        order = [m for m in self.definitions if m in out.columns]
        cats = [c for c in (ALL, *CATEGORIES) if c in out.index]
        return out.reindex(index=cats, columns=order)

    def breakdown(self, metric: str, dimension: str, scope: str = "malaysia", category: str = ALL) -> pd.DataFrame:
        """Rows of one metric split by a dimension (e.g. reversal_rate by decision_by)."""
        t = self.table
        return t[
            (t["metric"] == metric)
            & (t["dimension"] == dimension)
            & (t["scope"] == scope)
            & (t["category"] == category)
        ].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ partial aggregates


#: Shared with every engine (:mod:`riskkit.engines`); kept under their historical names here.
Partial = core.Partial
_Periods = core.Periods
_Groups = inprocess.Groups
_Bins = core.Bins


# ------------------------------------------------------------------------------------------------ compute


def compute(
    pack: DataPack,
    cycle: str | Cycle,
    *,
    library: Library,
    small_n: int | None = None,
    engine: str | Any | None = None,
) -> Metrics:
    """Every registered metric for ``cycle`` (and the previous cycle, for changes) from ``pack``.

    ``engine`` is where the partial aggregates are computed: None (the pack's own engine, in-process for a pack
    read into memory), ``"inprocess"``, ``"duckdb"``, ``"spark"`` or an engine from :func:`riskkit.engines.get`.
    Only partial aggregates come back from an engine; they are finalised here, by the same code for every engine,
    so every engine gives the same table.
    """
    from riskkit import engines, partials

    lib = library
    cyc = parse(cycle)
    conv = lib.metric_registry.conventions
    small = int(small_n if small_n is not None else conv.small_denominator)
    alpha = float(conv.significance_level)
    bins = _Bins(conv.histogram_fine_days, conv.histogram_max_days)
    policy = lib.sla_policy(pack.meta.sla_overrides)
    reg = registry(lib, pack.meta.sla_overrides)
    periods = _Periods(cyc)
    out = _Rows(cyc, reg, periods, small, alpha, bins)
    unavailable: dict[str, str] = {}

    clocks = [c for c in policy.clocks if c.table == "actions"]
    decision = pack.meta.time_basis == "decision"
    if decision:  # the actions are decisions: nothing measured from detection, no open items
        for name in ("tta_median_h", "tta_p90_h", "tta_p99_h", "open_at_cycle_end"):
            unavailable[name] = NO_DETECTION_TIME
        for clock in (c for c in clocks if c.start == "detected_at"):
            unavailable[f"sla.{clock.ref_id}"] = NO_DETECTION_TIME
        clocks = [c for c in clocks if c.start != "detected_at"]
    runner = engines.for_pack(pack, engine)
    on_reports = [c for c in policy.clocks if c.table == "reports"]
    specs = partials.specs(
        runner.columns(pack), clocks + on_reports, pack.meta.cohort_column, deadline_kinds=lib.sla.deadline_kinds()
    )
    parts = runner.partials(pack, specs, periods, bins)
    _finish_actions(out, parts, clocks, decision)

    for name, fn in (
        ("reports", _reports),
        ("appeals", _appeals),
        ("authority_requests", _requests),
        ("authority_requests", _request_deadlines),
        ("actions", _poster_notices),
        ("users", _users),
        ("age_assurance", _age_assurance),
        ("capacity", _capacity),
        ("prevalence_samples", _prevalence),
    ):
        if pack.has(name):
            try:
                fn(out, pack, periods, policy=policy, bins=bins, library=lib, parts=parts, unavailable=unavailable)
            except TableNotAvailable as exc:  # a table only an engine holds, for a computation not ported to it
                unavailable[name] = str(exc)
        else:
            unavailable[name] = pack.not_available(name)
    _cross_table(out, pack, unavailable)
    table = out.frame()
    return Metrics(cyc, cyc.previous(), table, unavailable, reg)


def _chunks(df: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(df), 1), rows):
        yield df.iloc[start : start + rows]


def _present(s: pd.Series) -> np.ndarray:
    """Non-empty cells (validated frames hold missing text as NA; the empty string counts as missing too)."""
    return ~arrays.is_empty(s)


def clock_outcomes(
    start: np.ndarray,
    stop: np.ndarray,
    horizon: np.ndarray,
    clock: Clock,
    category: np.ndarray,
    action: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(within, due) masks of one clock; see the ``sla`` registry entry for the convention."""
    applies = np.isin(category, [CATEGORIES.index(c) for c in clock.categories])
    if action is not None and clock.stop_actions is not None:
        counts = np.isin(action, [schema.ACTIONS.index(x) for x in clock.stop_actions])
        decided_otherwise = (stop != arrays.NAT) & ~counts
        applies &= ~decided_otherwise
    deadline = start + round(clock.hours * 3_600_000_000)
    stopped = (stop != arrays.NAT) & (stop < horizon)
    within = applies & stopped & (stop <= deadline)
    late = applies & stopped & (stop > deadline)
    overdue_open = applies & ~stopped & (deadline < horizon)
    return within, within | late | overdue_open


# ------------------------------------------------------------------------------------------------ rows


class _Rows:
    """Collects tidy rows for the current cycle with the previous cycle's values and tests."""

    def __init__(
        self, cycle: Cycle, reg: dict[str, MetricDef], periods: _Periods, small: int, alpha: float, bins: _Bins
    ) -> None:
        self.cycle, self.reg, self.periods, self.small, self.alpha = cycle, reg, periods, small, alpha
        self.bins = bins
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        metric: str,
        scope: str,
        category: str,
        cur: tuple[float, float | None],
        prev: tuple[float, float | None],
        dimension: str = "",
        level: str = "",
    ) -> None:
        """``cur``/``prev`` are (numerator or value, denominator or None) pairs."""
        m = self.reg.get(metric)
        if m is None:
            raise KeyError(f"metric {metric!r} is not in the metric registry")
        num, den = cur
        pnum, pden = prev
        row: dict[str, Any] = {
            "cycle": self.cycle.id,
            "scope": scope,
            "category": category,
            "dimension": dimension,
            "level": level,
            "metric": metric,
            "unit": m.unit,
        }
        if m.kind == "rate":
            value = num / den if den else float("nan")
            pvalue = pnum / pden if pden else float("nan")
            lo, hi = wilson(num, den) if den else (float("nan"), float("nan"))
            p = two_proportion_p(num, den, pnum, pden)
            row |= {"numerator": num, "denominator": den, "ci_low": lo, "ci_high": hi}
            row["small_denominator"] = bool((den or 0) < self.small)
        elif m.kind == "count":
            value, pvalue = float(num), float(pnum)
            p = poisson_ratio_p(num, pnum, self.periods.lengths[1], self.periods.lengths[0])
            row |= {"numerator": num, "small_denominator": False}
        else:
            value, pvalue = float(num), float(pnum)
            p = float("nan")
            row["small_denominator"] = bool(den is not None and den < self.small)
            if den is not None:
                row["denominator"] = den
        row |= {
            "value": value,
            "previous_value": pvalue,
            "change": value - pvalue if not (math.isnan(value) or math.isnan(pvalue)) else float("nan"),
            "p_value": p,
            "significant": (p < self.alpha) if not math.isnan(p) else pd.NA,
        }
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(COLUMNS))
        df["significant"] = df["significant"].astype("boolean")
        df["small_denominator"] = df["small_denominator"].astype("boolean")
        for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "previous_value", "change", "p_value"):
            df[col] = df[col].astype("float64")
        return df


def _cats() -> Iterator[tuple[str, Any]]:
    """(label, index) for each category and for all categories together."""
    yield ALL, slice(None)
    yield from ((c, i) for i, c in enumerate(CATEGORIES))


def _sum(arr: np.ndarray, scope: int, period: int, cat: Any) -> float:
    return float(arr[scope, period, cat].sum())


def _emit_count(out: _Rows, metric: str, arr: np.ndarray, scopes=(0, 1), by_category: bool = True) -> None:
    for s in scopes:
        for label, idx in _cats() if by_category else [(ALL, slice(None))]:
            out.add(metric, SCOPES[s], label, (_sum(arr, s, 1, idx), None), (_sum(arr, s, 0, idx), None))


def _emit_rate(out: _Rows, metric: str, num: np.ndarray, den: np.ndarray, scopes=(0, 1), by_category=True) -> None:
    for s in scopes:
        for label, idx in _cats() if by_category else [(ALL, slice(None))]:
            out.add(
                metric,
                SCOPES[s],
                label,
                (_sum(num, s, 1, idx), _sum(den, s, 1, idx)),
                (_sum(num, s, 0, idx), _sum(den, s, 0, idx)),
            )


def _emit_percentiles(out: _Rows, metrics: dict[str, float], hist: np.ndarray, scopes=(0, 1), by_category=True):
    layout = out.bins
    for s in scopes:
        for label, idx in _cats() if by_category else [(ALL, slice(None))]:
            cur = hist[s, 1, idx].reshape(-1, hist.shape[-1]).sum(axis=0)
            prev = hist[s, 0, idx].reshape(-1, hist.shape[-1]).sum(axis=0)
            for metric, q in metrics.items():
                now, before = percentile_hours(cur, q, layout), percentile_hours(prev, q, layout)
                out.add(metric, SCOPES[s], label, (now, cur.sum()), (before, None))


def _emit_levels(
    out: _Rows, metric: str, arr: np.ndarray, dimension: str, levels: tuple[str, ...] | list[str], scopes=(0, 1)
) -> None:
    """A count split by a dimension (arr: scope, period, K, L); levels never seen in either cycle are left out."""
    for s in scopes:
        for label, idx in _cats():
            for i, level in enumerate(levels):
                cur, prev = float(arr[s, 1, idx, i].sum()), float(arr[s, 0, idx, i].sum())
                if cur or prev:
                    out.add(metric, SCOPES[s], label, (cur, None), (prev, None), dimension, str(level))


def _clock_sums(parts: Mapping[str, Partial], clock: Clock) -> tuple[np.ndarray, np.ndarray] | None:
    """(within, due) of a clock summed over its paths' partials (actions and, for reported items, reports)."""
    found = [
        (p.arrays[f"sla_within:{clock.ref_id}"], p.arrays[f"sla_due:{clock.ref_id}"])
        for p in parts.values()
        if f"sla_within:{clock.ref_id}" in p.arrays
    ]
    if not found:
        return None
    return sum(w for w, _ in found), sum(d for _, d in found)  # type: ignore[return-value]


def _finish_actions(out: _Rows, parts: Mapping[str, Partial], clocks: list[Clock], decision: bool = False) -> None:
    part = parts["actions"]
    a = part.arrays
    _emit_count(out, "decisions", a["decisions"])
    _emit_count(out, "actions_enforced", a["enforced"])
    _emit_count(out, "accounts_actioned", a["accounts"])
    _emit_rate(out, "proactive_rate", a["proactive"], a["enforced"])
    if not decision:
        _emit_percentiles(out, {"tta_median_h": 0.5, "tta_p90_h": 0.9, "tta_p99_h": 0.99}, a["tta_hist"])
        _emit_count(out, "open_at_cycle_end", a["open"])
    if "content_age_hist" in a:
        _emit_percentiles(out, {"content_age_at_decision_median_h": 0.5}, a["content_age_hist"])
    for clock in clocks:
        sums = _clock_sums(parts, clock)
        if sums is not None:
            _emit_clock(out, clock, *sums)
    _emit_rate(out, "record_rationale_share", a["has_rationale"], a["enforced"])
    _emit_rate(out, "record_policy_ref_share", a["has_policy"], a["enforced"])
    _emit_rate(out, "record_complete_share", a["has_both"], a["enforced"])
    _emit_rate(out, "automated_detection_share", a["auto_detect"], a["decisions"])
    _emit_rate(out, "automated_decision_share", a["auto_decide"], a["decisions"])
    _emit_levels(out, "decisions", a["by_action"], "action", schema.ACTIONS)
    _emit_levels(out, "decisions", a["by_source"], "detection_source", schema.DETECTION_SOURCES)
    _emit_levels(out, "decisions", a["by_decider"], "decision_by", schema.DECISION_MAKERS)
    surfaces = sorted(part.labelled.get("surface", {}))
    if surfaces:
        _emit_levels(out, "decisions", _stack(part.labelled["surface"]), "surface", surfaces)
        enforced = part.labelled.get("surface_enforced", {})
        zero = np.zeros_like(part.labelled["surface"][surfaces[0]])
        _emit_levels(out, "actions_enforced", _stack({s: enforced.get(s, zero) for s in surfaces}), "surface", surfaces)


# ------------------------------------------------------------------------------------------------ other tables


def _reports(out: _Rows, pack: DataPack, periods: _Periods, *, policy, parts: dict[str, Partial], **_: Any) -> None:
    a = parts["reports"].arrays
    malaysia = "in_malaysia" in _columns(pack, "reports")
    scopes = (0, 1) if malaysia else (0,)
    _emit_count(out, "reports_received", a["received"], scopes)
    _emit_levels(out, "reports_received", a["by_reporter"], "reporter_type", schema.REPORTER_TYPES, scopes)
    for metric, name in (
        ("report_actioned_rate", "actioned"),
        ("report_dismissal_rate", "dismissed"),
        ("report_duplicate_rate", "duplicate"),
    ):
        _emit_rate(out, metric, a[name], a["closed"], scopes)
    _emit_count(out, "reports_open_at_cycle_end", a["open"], scopes)
    for key, metric in (("ack_hist", "report_ack_median_h"), ("assess_hist", "report_assess_median_h")):
        _emit_percentiles(out, {metric: 0.5}, a[key], scopes)
    for clock in (c for c in policy.clocks if c.table == "reports"):
        _emit_clock(out, clock, a[f"sla_within:{clock.ref_id}"], a[f"sla_due:{clock.ref_id}"], scopes)


def _columns(pack: DataPack, name: str) -> set[str]:
    from riskkit import engines

    return set(engines.for_pack(pack, None).columns(pack).get(name, ()))


def _emit_clock(out: _Rows, clock: Clock, num: np.ndarray, den: np.ndarray, scopes=(0, 1)) -> None:
    """One SLA clock: all its categories together, then each category it applies to."""
    cells = [(ALL, [CATEGORIES.index(c) for c in clock.categories])]
    cells += [(c, CATEGORIES.index(c)) for c in clock.categories]
    for s in scopes:
        for label, idx in cells:
            out.add(
                f"sla.{clock.ref_id}",
                SCOPES[s],
                label,
                (_sum(num, s, 1, idx), _sum(den, s, 1, idx)),
                (_sum(num, s, 0, idx), _sum(den, s, 0, idx)),
            )


def _appeals(out: _Rows, pack: DataPack, periods: _Periods, *, parts: dict[str, Partial], **_: Any) -> None:
    a = parts["appeals"].arrays
    _emit_count(out, "appeals_filed", a["filed"])
    _emit_rate(out, "reversal_rate", a["reversed"], a["decided"])
    rev, tot = a["reversed_by"], a["decided_by"]
    for s in (0, 1):
        for label, idx in _cats():
            for i, level in enumerate(schema.DECISION_MAKERS):
                cur = (float(rev[s, 1, idx, i].sum()), float(tot[s, 1, idx, i].sum()))
                prev = (float(rev[s, 0, idx, i].sum()), float(tot[s, 0, idx, i].sum()))
                if cur[1] or prev[1]:
                    out.add("reversal_rate", SCOPES[s], label, cur, prev, "decision_by", level)
    _emit_percentiles(out, {"appeal_decision_median_h": 0.5}, a["decision_hist"])
    # appeal rate: the cycle's enforcement actions appealed by the cycle end (distinct actions; cohort as for actions)
    acts = parts["actions"].arrays
    _emit_rate(out, "appeal_rate", acts["appealed"], acts["enforced"])


def _requests(out: _Rows, pack: DataPack, periods: _Periods, *, parts: dict[str, Partial], **_: Any) -> None:
    part = parts["authority_requests"]
    a = part.arrays
    scope = (0,)
    _emit_count(out, "requests_received", a["received"], scope, by_category=False)
    agencies = part.labelled.get("by_agency", {})
    for col, arr, names in (
        ("kind", a["by_kind"], list(schema.REQUEST_KINDS)),
        ("agency", _stack(agencies), sorted(agencies)),
    ):
        for i, name in enumerate(names):
            cur, prev = float(arr[0, 1, :, i].sum()), float(arr[0, 0, :, i].sum())
            if cur or prev:
                out.add("requests_received", "malaysia", ALL, (cur, None), (prev, None), col, str(name))
    _emit_rate(out, "request_compliance_rate", a["complied"], a["done"], scope, by_category=False)
    _emit_percentiles(
        out, {"request_response_median_h": 0.5, "request_response_p90_h": 0.9}, a["response_hist"], scope, False
    )


def _stack(levels: Mapping[str, np.ndarray]) -> np.ndarray:
    """Labelled counts (level -> (scope, period, K)) as one (scope, period, K, level) array, levels sorted."""
    if not levels:
        return np.zeros((2, 2, K, 0))
    return np.stack([levels[k] for k in sorted(levels)], axis=-1)


def _months(df: pd.DataFrame, cycle: Cycle) -> pd.DataFrame:
    return df[df["month"].isin(cycle.months)]


def _users_summary(df: pd.DataFrame, cycle: Cycle) -> dict[str, float]:
    rows = _months(df, cycle)
    if rows.empty:
        return {}
    mau = rows["mau"].astype("float64")
    total_by_month = mau.groupby(rows["month"]).sum()
    under16 = rows["age_band"].isin(schema.UNDER_16_AGE_BANDS)
    minors = rows["age_band"].isin(schema.MINOR_AGE_BANDS)
    last = rows["month"].max()
    verified = (rows["age_verified"].astype("float64") * mau).sum(min_count=1)
    return {
        "peak_mau": float(total_by_month.max()),
        "mean_mau": float(total_by_month.mean()),
        "mau_sum": float(mau.sum()),
        "minors": float(mau[minors].sum()),
        "under16": float(mau[under16].sum()),
        "under16_last": float(mau[under16 & (rows["month"] == last)].sum()),
        "verified": float(verified) if pd.notna(verified) else float("nan"),
        "verified_den": float(mau[rows["age_verified"].notna()].sum()),
        "months": float(total_by_month.size),
    }


def _users(out: _Rows, pack: DataPack, periods: _Periods, *, library: Library, **_: Any) -> None:
    df = pack.require("users")
    cur, prev = _users_summary(df, out.cycle), _users_summary(df, out.cycle.previous())
    if not cur:
        return
    g = lambda d, k: d.get(k, float("nan"))  # noqa: E731
    threshold = float(library.threshold("licence.user_threshold"))
    out.add("peak_mau", "malaysia", ALL, (cur["peak_mau"], None), (g(prev, "peak_mau"), None))
    met = lambda d: float(d["peak_mau"] >= threshold) if d else float("nan")  # noqa: E731
    out.add("licence_threshold_met", "malaysia", ALL, (met(cur), None), (met(prev), None))
    out.add("minors_share", "malaysia", ALL, (cur["minors"], cur["mau_sum"]), (g(prev, "minors"), g(prev, "mau_sum")))
    out.add(
        "under16_share", "malaysia", ALL, (cur["under16"], cur["mau_sum"]), (g(prev, "under16"), g(prev, "mau_sum"))
    )
    out.add("under16_mau_last_month", "malaysia", ALL, (cur["under16_last"], None), (g(prev, "under16_last"), None))
    out.add(
        "age_verified_share",
        "malaysia",
        ALL,
        (cur["verified"], cur["verified_den"]),
        (g(prev, "verified"), g(prev, "verified_den")),
    )


def _capacity_summary(df: pd.DataFrame, cycle: Cycle, expected: list[str]) -> dict[str, Any]:
    rows = _months(df, cycle)
    if rows.empty:
        return {}
    langs = sorted({x for v in rows["languages"] for x in v})
    last = rows.loc[rows["month"] == rows["month"].max(), "languages"].iloc[0]
    return {
        "fte": float(rows["local_moderators_fte"].mean()),
        "training": float(rows["training_hours"].sum()),
        "wellbeing": float(rows["wellbeing_hours"].sum()),
        "languages": float(len(langs)),
        "missing": float(len([x for x in expected if x not in last])),
    }


def _capacity(out: _Rows, pack: DataPack, periods: _Periods, *, library: Library, **_: Any) -> None:
    expected = list(library.threshold("moderation.local_languages"))
    df = pack.require("capacity")
    cur, prev = _capacity_summary(df, out.cycle, expected), _capacity_summary(df, out.cycle.previous(), expected)
    if not cur:
        return
    g = lambda d, k: d.get(k, float("nan"))  # noqa: E731
    per = lambda d, k: d[k] / d["fte"] if d and d["fte"] > 0 else float("nan")  # noqa: E731
    out.add("moderators_fte", "malaysia", ALL, (cur["fte"], None), (g(prev, "fte"), None))
    out.add(
        "training_hours_per_moderator", "malaysia", ALL, (per(cur, "training"), None), (per(prev, "training"), None)
    )
    out.add(
        "wellbeing_hours_per_moderator", "malaysia", ALL, (per(cur, "wellbeing"), None), (per(prev, "wellbeing"), None)
    )
    out.add("languages_covered", "malaysia", ALL, (cur["languages"], None), (g(prev, "languages"), None))
    out.add("local_languages_missing", "malaysia", ALL, (cur["missing"], None), (g(prev, "missing"), None))


def _prevalence(out: _Rows, pack: DataPack, periods: _Periods, *, parts: dict[str, Partial], **_: Any) -> None:
    a = parts["prevalence_samples"].arrays
    _emit_rate(out, "violating_view_rate", a["violating"], a["sampled"], (0,))


def _request_deadlines(
    out: _Rows,
    pack: DataPack,
    periods: _Periods,
    *,
    library: Library,
    parts: dict[str, Partial],
    unavailable: dict[str, str],
    **_: Any,
) -> None:
    """Requests that state their own deadline (sla_policy.yaml request_deadlines), judged at the cycle end: all
    kinds together and by kind; and how many of those kinds came without a stated deadline."""
    if not library.sla.deadline_kinds():
        return
    a = parts["authority_requests"].arrays
    if "deadline_counted" not in a:
        why = "not available: the authority_requests table has no due_at column (the deadline each request states)"
        unavailable["request_on_time_rate"] = unavailable["requests_without_deadline"] = why
        return
    scope = (0,)
    _emit_rate(out, "request_on_time_rate", a["deadline_within"], a["deadline_counted"], scope, by_category=False)
    num, den = a["deadline_within_by_kind"], a["deadline_counted_by_kind"]
    for k in library.sla.deadline_kinds():
        i = schema.REQUEST_KINDS.index(k)
        cur = (float(num[0, 1, :, i].sum()), float(den[0, 1, :, i].sum()))
        prev = (float(num[0, 0, :, i].sum()), float(den[0, 0, :, i].sum()))
        if cur[1] or prev[1]:
            out.add("request_on_time_rate", "malaysia", ALL, cur, prev, "kind", k)
    _emit_count(out, "requests_without_deadline", a["deadline_missing"], scope, by_category=False)


def _poster_notices(
    out: _Rows, pack: DataPack, periods: _Periods, *, parts: dict[str, Partial], unavailable: dict[str, str], **_: Any
) -> None:
    """ONSA s.26: decisions that made content or an account inaccessible, taken by the cycle end, with a written
    notice to the poster by the cycle end (actions.user_notified_at)."""
    a = parts["actions"].arrays
    if "poster_decided" not in a:
        unavailable["poster_notice_share"] = "not available: the actions table has no user_notified_at column"
        return
    _emit_rate(out, "poster_notice_share", a["poster_told"], a["poster_decided"])


def _age_assurance(out: _Rows, pack: DataPack, periods: _Periods, *, library: Library, **_: Any) -> None:
    """The Child Protection Code transition (age_assurance table), from the window's first month to the cycle end."""
    from riskkit.calendar import transition_window  # the calendar reads the library's dated duties

    window = transition_window(library)
    if window is None:
        return
    df = pack.require("age_assurance")
    cur, prev = _transition(df, out.cycle, window), _transition(df, out.cycle.previous(), window)
    if not cur:
        return
    g = lambda d, k: d.get(k, (float("nan"), float("nan")))  # noqa: E731
    for metric in (
        "age_existing_verified_share",
        "age_under16_notified_share",
        "age_under16_full_window_share",
        "age_under16_data_exported_share",
        "age_new_verified_share",
    ):
        out.add(metric, "malaysia", ALL, g(cur, metric), g(prev, metric))
    for metric in ("age_existing_verification_due_share", "age_existing_on_pace"):
        out.add(metric, "malaysia", ALL, (g(cur, metric)[0], None), (g(prev, metric)[0], None))


def _transition(df: pd.DataFrame, cycle: Cycle, window: Any) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of each transition metric at the end of ``cycle``; empty before the window."""
    first = pd.Period(window.first, freq="M")
    last_month = cycle.months[-1]
    if last_month < first:
        return {}
    existing = df[(df["cohort"] == "existing") & (df["month"] >= first) & (df["month"] <= last_month)]
    in_window = existing[existing["month"] <= pd.Period(window.last, freq="M")]
    new = df[(df["cohort"] == "new") & df["month"].isin(cycle.months)]
    total = lambda frame, col: float(frame[col].astype("float64").sum())  # noqa: E731
    base = float(in_window.sort_values("month")["accounts_in_scope"].iloc[-1]) if len(in_window) else float("nan")
    acted = total(existing, "restricted") + total(existing, "suspended")
    elapsed = (min(cycle.end.date(), window.last + timedelta(days=1)) - window.first).days
    due_share = min(max(elapsed / window.days, 0.0), 1.0)
    verified = (total(in_window, "verified"), base)
    share = verified[0] / verified[1] if verified[1] else float("nan")
    on_pace = float("nan") if math.isnan(share) else float(share >= due_share)
    return {
        "age_existing_verified_share": verified,
        "age_existing_verification_due_share": (due_share, float("nan")),
        "age_existing_on_pace": (on_pace, float("nan")),
        "age_under16_notified_share": (total(existing, "notified"), total(existing, "found_under_16")),
        "age_under16_full_window_share": (acted - total(existing, "actioned_early"), acted),
        "age_under16_data_exported_share": (total(existing, "data_exported"), total(existing, "notified")),
        "age_new_verified_share": (total(new, "verified"), total(new, "accounts_in_scope")),
    }


def _cross_table(out: _Rows, pack: DataPack, unavailable: dict[str, str]) -> None:
    """Metrics that combine tables: per-user and per-moderator rates."""
    rows = {(r["metric"], r["scope"], r["category"], r["dimension"]): r for r in out.rows}
    enforced = rows.get(("actions_enforced", "malaysia", ALL, ""))
    peak = rows.get(("peak_mau", "malaysia", ALL, ""))
    fte = rows.get(("moderators_fte", "malaysia", ALL, ""))
    users = pack.get("users")

    def ratio(a: float, b: float, scale: float = 1.0) -> float:
        return a / (b / scale) if b and not math.isnan(b) else float("nan")

    if peak is not None and enforced is not None:
        for label in (ALL, *CATEGORIES):
            e = rows.get(("actions_enforced", "malaysia", label, ""))
            if e is not None:
                out.add(
                    "actions_per_million_users",
                    "malaysia",
                    label,
                    (ratio(e["value"], peak["value"], 1e6), None),
                    (ratio(e["previous_value"], peak["previous_value"], 1e6), None),
                )
    if fte is not None and enforced is not None:
        out.add(
            "actions_per_moderator",
            "malaysia",
            ALL,
            (ratio(enforced["value"], fte["value"]), None),
            (ratio(enforced["previous_value"], fte["previous_value"]), None),
        )
    if fte is not None and users is not None:
        cur = _users_summary(users, out.cycle).get("mean_mau", float("nan"))
        prev = _users_summary(users, out.cycle.previous()).get("mean_mau", float("nan"))
        out.add(
            "moderators_per_million_users",
            "malaysia",
            ALL,
            (ratio(fte["value"], cur, 1e6), None),
            (ratio(fte["previous_value"], prev, 1e6), None),
        )


# ------------------------------------------------------------------------------------------------ statistics


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    if not n or successes < 0 or successes > n:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def two_proportion_p(x1: float, n1: float | None, x2: float, n2: float | None) -> float:
    """Two-sided p-value of the pooled two-proportion z-test, without continuity correction (NaN if either
    denominator is empty; 1.0 when the pooled variance is 0, i.e. both cycles at 0 % or both at 100 %)."""
    if not n1 or not n2 or any(map(_isnan, (x1, x2, n1, n2))):
        return float("nan")
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def poisson_ratio_p(x1: float, x2: float, t1: float, t2: float) -> float:
    """Two-sided p-value that two Poisson counts share a rate, given exposures t1, t2: the conditional binomial test
    (x1 given n = x1 + x2 is Binomial(n, w), w = t1 / (t1 + t2)) by its normal approximation with a 0.5 continuity
    correction, z = max(|x1 - n w| - 0.5, 0) / sqrt(n w (1 - w)), p = 2 (1 - Phi(z)); NaN when both counts are 0.
    The metric registry's conventions state the same test."""
    if _isnan(x1) or _isnan(x2):
        return float("nan")
    n = x1 + x2
    if n == 0:
        return float("nan")
    w = t1 / (t1 + t2)
    sd = math.sqrt(n * w * (1 - w))
    z = max(abs(x1 - n * w) - 0.5, 0.0) / sd
    return math.erfc(z / math.sqrt(2))


def percentile_hours(hist: np.ndarray, q: float, layout: _Bins | None = None) -> float:
    """Nearest-rank percentile of a duration histogram, in hours (NaN if empty or in the overflow bin)."""
    n = int(hist.sum())
    if n == 0:
        return float("nan")
    rank = max(1, math.ceil(q * n - 1e-9))
    index = int(np.searchsorted(np.cumsum(hist), rank))
    if layout is None:  # plain one-minute bins, last = overflow
        return float("nan") if index >= len(hist) - 1 else index / 60.0
    return layout.minutes(index) / 60.0


def _isnan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
