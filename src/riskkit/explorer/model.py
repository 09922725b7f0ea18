"""The explorer's model: a data pack pre-aggregated once into count cubes, queried per selection (no widgets).

Two layers:

* :class:`ExplorerModel` — pure logic, no widgets. It pre-aggregates the pack **once** into small dense count
  cubes (detection month × category × surface × detection source × Malaysian scope × …, plus time-to-action
  histograms, SLA clocks, appeal outcomes and reports) and answers every :class:`Selection` from those cubes, so an
  update costs the same on 80 k or 10 M actions. Only the drill-down table touches rows: a cached boolean mask over
  pre-computed integer codes, then one page. On a pack whose actions stay in an engine (a warehouse pack, or
  ``open_pack(..., engine=...)``) the cubes come from aggregate queries (:mod:`riskkit.explorer.engine`, reshaped
  by the same :mod:`riskkit.explorer.cubes`) and each page is one ordered query with LIMIT/OFFSET.
* :class:`Explorer` — the ipywidgets view: controls, three plotly ``FigureWidget`` charts updated in place, the
  drill-down table with CSV export, and the registry definitions of what is shown.

Conventions (shown in the explorer under the definitions): an item belongs to the month it was *detected* in
(Malaysian time); outcomes (actioned, appealed, reversed, SLA met) are taken **as of the extract** (``as_of``),
whereas ``riskkit metrics`` judges them at the cycle end; appeals and linked reports are counted against the
detection month of their action.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.cycles import REPORTING_TZ, Cycle, parse
from riskkit.explorer.cubes import (
    ACTIONS,
    APPEAL_RANK,
    APPEAL_STATES,
    N_TTA_BINS,
    OPEN_ACTION,
    TTA_EDGES_MIN,
    Cubes,
    action_cubes,
    decision_valid,
    keyed,
    month_numbers,
    scatter,
    surface_levels,
    tta_bin,
)
from riskkit.library import Clock, Library
from riskkit.metrics import MetricDef, clock_outcomes, registry
from riskkit.pack import DataPack

CATEGORIES = schema.HARM_CATEGORIES


SOURCES = schema.DETECTION_SOURCES


DECIDERS = schema.DECISION_MAKERS


SCOPES = ("malaysia", "global")


#: Columns read from the optional tables when :func:`explore` loads a pack from a folder (actions are read whole:
#: the drill-down and the CSV export show every column).
EXPLORER_COLUMNS: dict[str, list[str]] = {
    "reports": ["report_id", "received_at", "category", "action_id", "in_malaysia"],
    "appeals": ["appeal_id", "action_id", "filed_at", "outcome"],
}


#: The histogram chart shows 1-hour bars up to this many hours; the rest is stated in a note.
HIST_DISPLAY_HOURS = 168


#: Sort keys of the drill-down table.
SORT_KEYS = (
    "detected_at",
    "actioned_at",
    "hours_to_action",
    "category",
    "surface",
    "detection_source",
    "decision_by",
    "action",
    "action_id",
    "appeal",
)


#: Columns of the drill-down table (the CSV export has every actions column plus ``hours_to_action``/``appeal``).
TABLE_COLUMNS = (
    "action_id",
    "detected (MYT)",
    "actioned (MYT)",
    "hours_to_action",
    "category",
    "surface",
    "detection_source",
    "decision_by",
    "action",
    "in_malaysia",
    "appeal",
)


#: Largest export offered as an in-page download link; larger exports are written to a file.
CSV_LINK_MAX_ROWS = 50_000


#: Largest CSV :meth:`ExplorerModel.csv` builds in memory from an engine (beyond: ``write_csv`` streams to a file).
CSV_TEXT_MAX_ROWS = 200_000


CONVENTIONS = (
    "Explorer conventions: an item belongs to the month it was detected in (Malaysian time); outcomes "
    "(actioned, appealed, reversed, SLA met) are as of the extract ({as_of}), whereas `riskkit metrics` judges "
    "them at the cycle end; appeals and linked reports count in the detection month of their action. Durations "
    "are rounded up to whole minutes; percentiles are nearest-rank on 15-minute bins (1 h beyond 24 h), "
    "reported as the bin's upper edge. A surface or detection-source filter keeps only reports linked to a "
    "matching action."
)


@dataclass(frozen=True)
class Selection:
    """What the explorer shows. Empty ``categories``/``surfaces``/``sources`` mean *all*."""

    cycle: str
    compare: str | None = None
    categories: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    metric: str = "actions_enforced"
    scope: str = "malaysia"

    def key(self) -> tuple[Any, ...]:
        """The part that decides which rows match (not the metric or the comparison)."""
        return (self.cycle, self.categories, self.surfaces, self.sources, self.scope)


@dataclass(frozen=True)
class ExplorerMetric:
    """A metric the explorer can trend: its registry id, how it is computed from the cubes, and its unit."""

    id: str
    kind: str  # count | rate | duration
    label: str
    needs: str = "actions"  # table it needs
    quantile: float | None = None
    clock: Clock | None = None


@dataclass
class Trend:
    """Monthly values of the selected metric for the cycle and (positionally aligned) the comparison cycle."""

    metric: str
    label: str
    unit: str
    months: list[str]
    values: list[float | None]
    numerators: list[float | None]
    denominators: list[float | None]
    compare_months: list[str] = field(default_factory=list)
    compare_values: list[float | None] = field(default_factory=list)
    total: float | None = None
    compare_total: float | None = None


@dataclass
class Histogram:
    """Time-to-action distribution of enforced, actioned items (1-hour display bins) and the SLA deadlines."""

    hours: list[float]  # left edge of each display bin
    counts: list[int]
    percent: list[float]
    compare_percent: list[float] | None
    n: int
    compare_n: int | None
    beyond: int  # actioned after HIST_DISPLAY_HOURS
    open: int  # decisions with no actioned_at
    median_h: float
    p90_h: float
    deadlines: list[tuple[float, str]]  # (hours, label) of the clocks that apply to the selected categories
    within: dict[str, tuple[int, int]]  # clock ref_id -> (within, due)


@dataclass
class Funnel:
    """Report → action → appeal → reversal for the cycle and the comparison cycle (None = not available)."""

    stages: list[str]
    values: list[float | None]
    compare_values: list[float | None] | None
    notes: list[str]


class ExplorerModel:
    """Pre-aggregated pack: answers every :class:`Selection` from count cubes built once in ``__init__``."""

    def __init__(self, pack: DataPack, *, library: Library) -> None:
        started = time.perf_counter()
        lib = library
        self.pack = pack
        self.as_of: pd.Timestamp = pack.meta.as_of
        self.registry: dict[str, MetricDef] = registry(lib, pack.meta.sla_overrides)
        self.clocks: tuple[Clock, ...] = tuple(
            c for c in lib.sla_policy(pack.meta.sla_overrides).clocks if c.table == "actions"
        )
        self.engine_rows: Any = None  # the drill-down's queries when the actions stay in an engine
        from riskkit.engines.cycle import on_engine

        if on_engine(pack):
            from riskkit.explorer.engine import EngineExplorer

            source = EngineExplorer(pack, self.clocks)
            self.n_actions, first, last = source.span()
            self._set_months(first, last)
            self.surfaces, built = source.cubes(self.base, self.n_months, pack.meta.surfaces)
            self.engine_rows = source
        else:
            built = self._inprocess_cubes(pack)
        self.counts, self.open, self.tta, self.sla = built.counts, built.open, built.tta, built.sla
        self.appeals, self.reports = built.appeals, built.reports

        # ---- what can be shown
        self.metrics: dict[str, ExplorerMetric] = self._metric_catalogue()
        self.cycles: list[Cycle] = self._cycle_options()
        self._mask_cache: dict[tuple[Any, ...], np.ndarray] = {}
        self._order_cache: dict[tuple[str, bool], np.ndarray] = {}
        self._rows_cache: dict[tuple[Any, ...], np.ndarray] = {}
        self.open_seconds = time.perf_counter() - started

    def _set_months(self, first: int, last: int) -> None:
        """The months the cubes cover: whole years around the first and last month with data."""
        self.first_month_with_data, self.last_month_with_data = first, last
        self.base = first - first % 12  # January of the first year
        self.n_months = (last - last % 12 + 12) - self.base  # whole years
        self.months = pd.period_range(_period(self.base), periods=self.n_months, freq="M")

    def _inprocess_cubes(self, pack: DataPack) -> Cubes:
        """The cubes from the pack's frames (the reference), keeping the per-row codes for the drill-down."""
        actions = pack.actions
        self.n_actions = len(actions)
        if len(actions) == 0:
            raise ValueError("the pack has no actions: nothing to explore")
        detected = arrays.timestamps_us(actions["detected_at"])
        actioned = arrays.timestamps_us(actions["actioned_at"])
        month_abs = month_numbers(actions[pack.meta.cohort_column])  # the month an action counts in
        self._set_months(int(month_abs.min()), int(month_abs.max()))
        self.month = (month_abs - self.base).astype(np.int16)

        self.surfaces = surface_levels(actions["surface"].dropna().astype("string").unique(), pack.meta.surfaces)
        self.cat = arrays.codes(actions["category"], CATEGORIES).astype(np.int8)
        self.surf = arrays.codes(actions["surface"], self.surfaces).astype(np.int64).astype(np.int16)
        self.src = arrays.codes(actions["detection_source"], SOURCES).astype(np.int8)
        dec = arrays.codes(actions["decision_by"], DECIDERS)
        act = arrays.codes(actions["action"], schema.ACTIONS)
        act = np.where((act < 0) & arrays.is_empty(actions["action"]), ACTIONS.index(OPEN_ACTION), act)
        self.mys = actions["in_malaysia"].fillna(False).to_numpy(bool)
        M, K, S, D = self.n_months, len(CATEGORIES), len(self.surfaces), len(SOURCES)
        rows = keyed((M, K, S, D, 2), (self.month, self.cat, self.surf, self.src, self.mys), decision_valid(dec, act))
        self.valid = rows.valid
        enforced = (act != ACTIONS.index("no_violation")) & (act != ACTIONS.index(OPEN_ACTION))
        done = actioned != arrays.NAT
        self.minutes = np.where(done, arrays.minutes_between(detected, np.where(done, actioned, detected)), -1)

        weights: dict[str, np.ndarray] = {"n": np.ones(len(actions), dtype=bool), "open": ~done}
        horizon = np.full(len(actions), arrays.timestamp_us(self.as_of), dtype=np.int64)
        for clock in self.clocks:
            within, due = clock_outcomes(
                detected, actioned, horizon, clock, self.cat, act if clock.stop_actions else None
            )
            weights[f"within:{clock.ref_id}"], weights[f"due:{clock.ref_id}"] = within, due
        counts, open_, sla = action_cubes(rows, dec, act, weights, self.clocks)
        tta = scatter(rows, enforced & done, tta_bin(self.minutes), N_TTA_BINS).astype(np.int32)

        # ---- appeals: state of each enforced action (the most decisive of its appeals)
        self.appeal_state = np.zeros(len(actions), dtype=np.int8)
        appeals = pack.get("appeals")
        if appeals is not None and len(appeals):
            pos = arrays.lookup(actions["action_id"], appeals["action_id"])
            rank = appeals["outcome"].astype("string").map(APPEAL_RANK).fillna(1).to_numpy(np.int8)
            ok = pos >= 0
            np.maximum.at(self.appeal_state, pos[ok], rank[ok])
        appeal_cube = scatter(rows, enforced, self.appeal_state, len(APPEAL_STATES)) if appeals is not None else None

        # ---- reports: received month × category × linked action's surface/source (+1 level: not linked)
        reports = pack.get("reports")
        report_cube: np.ndarray | None = None
        if reports is not None:
            r_month = month_numbers(reports["received_at"]) - self.base
            r_cat = arrays.codes(reports["category"], CATEGORIES)
            if "in_malaysia" in reports.columns:
                r_mys = reports["in_malaysia"].fillna(False).to_numpy(bool)
            else:
                r_mys = np.ones(len(reports), dtype=bool)
            r_surf = np.full(len(reports), S, dtype=np.int64)
            r_src = np.full(len(reports), D, dtype=np.int64)
            if "action_id" in reports.columns:
                pos = arrays.lookup(actions["action_id"], reports["action_id"])
                hit = pos >= 0
                r_surf[hit] = self.surf[pos[hit]]
                r_src[hit] = self.src[pos[hit]]
            r_rows = keyed((M, K, S + 1, D + 1, 2), (r_month, r_cat, r_surf, r_src, r_mys))
            report_cube = scatter(r_rows, np.ones(len(reports), dtype=bool))[..., 0]
        return Cubes(counts, open_, tta, sla, appeal_cube, report_cube)

    # ------------------------------------------------------------------ catalogue

    def _metric_catalogue(self) -> dict[str, ExplorerMetric]:
        def label(mid: str) -> str:
            return self.registry[mid].label_en if mid in self.registry else mid

        out = [
            ExplorerMetric("actions_enforced", "count", label("actions_enforced")),
            ExplorerMetric("decisions", "count", label("decisions")),
            ExplorerMetric("accounts_actioned", "count", label("accounts_actioned")),
            ExplorerMetric("proactive_rate", "rate", label("proactive_rate")),
            ExplorerMetric("automated_detection_share", "rate", label("automated_detection_share")),
            ExplorerMetric("automated_decision_share", "rate", label("automated_decision_share")),
            ExplorerMetric("tta_median_h", "duration", label("tta_median_h"), quantile=0.5),
            ExplorerMetric("tta_p90_h", "duration", label("tta_p90_h"), quantile=0.9),
            ExplorerMetric("tta_p99_h", "duration", label("tta_p99_h"), quantile=0.99),
        ]
        out += [ExplorerMetric(f"sla.{c.ref_id}", "rate", label(f"sla.{c.ref_id}"), clock=c) for c in self.clocks]
        if self.reports is not None:
            out.append(ExplorerMetric("reports_received", "count", label("reports_received"), needs="reports"))
        if self.appeals is not None:
            out.append(ExplorerMetric("appeal_rate", "rate", label("appeal_rate"), needs="appeals"))
            out.append(ExplorerMetric("reversal_rate", "rate", label("reversal_rate"), needs="appeals"))
        return {m.id: m for m in out if m.id in self.registry}

    def _cycle_options(self) -> list[Cycle]:
        out: list[Cycle] = []
        for year in range(self.months[0].year, self.months[-1].year + 1):
            for cyc in (Cycle(year, 1), Cycle(year, 2), Cycle(year, None)):
                lo, hi = self._month_span(cyc)
                if lo <= self.last_month_with_data - self.base and hi > self.first_month_with_data - self.base:
                    out.append(cyc)
        return out

    def cycle_label(self, cycle: Cycle) -> str:
        """Dropdown label: the id, with *incomplete* when the cycle ends after the extract."""
        return cycle.id + (" (incomplete)" if not cycle.is_complete(self.as_of) else "")

    def default_selection(self, cycle: str | None = None) -> Selection:
        """The latest complete half-year in the data (or ``cycle``), compared with the cycle before it."""
        if cycle is not None:
            cyc = self._cycle(cycle)
        else:
            halves = [c for c in self.cycles if c.half is not None]
            complete = [c for c in halves if c.is_complete(self.as_of)]
            cyc = (complete or halves or self.cycles)[-1]
        prev = cyc.previous()
        return Selection(cycle=cyc.id, compare=prev.id if prev in self.cycles else None)

    def validate(self, sel: Selection) -> Selection:
        """``sel`` with its values checked (unknown values raise ``ValueError``) and put in canonical order."""
        self._cycle(sel.cycle)
        if sel.compare is not None:
            self._cycle(sel.compare)

        def ordered(values: Iterable[str], allowed: Sequence[str], what: str) -> tuple[str, ...]:
            values = tuple(values)
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(allowed)}")
            return tuple(v for v in allowed if v in values)

        if sel.metric not in self.metrics:
            raise ValueError(f"metric {sel.metric!r} is not available here; choose one of {', '.join(self.metrics)}")
        if sel.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {sel.scope!r}")
        return replace(
            sel,
            categories=ordered(sel.categories, CATEGORIES, "category"),
            surfaces=ordered(sel.surfaces, self.surfaces, "surface"),
            sources=ordered(sel.sources, SOURCES, "detection source"),
        )

    def _cycle(self, cycle: str | Cycle) -> Cycle:
        cyc = parse(cycle)
        if cyc not in self.cycles:
            raise ValueError(
                f"no actions in {cyc.id}: the pack covers {_period(self.first_month_with_data)} to "
                f"{_period(self.last_month_with_data)}; choose one of {', '.join(c.id for c in self.cycles)}"
            )
        return cyc

    def _month_span(self, cycle: Cycle) -> tuple[int, int]:
        start = cycle.start.year * 12 + cycle.start.month - 1 - self.base
        return start, start + len(cycle.months)

    # ------------------------------------------------------------------ cube reduction

    def _index(self, values: tuple[str, ...], levels: Sequence[str]) -> np.ndarray | None:
        return None if not values else np.array([levels.index(v) for v in values], dtype=np.int64)

    def _reduce(self, arr: np.ndarray, sel: Selection, cycle: Cycle, sources: np.ndarray | None = None) -> np.ndarray:
        """``arr`` (month, category, surface, source, scope, ...) restricted to the cycle's months and summed over
        the selected categories, surfaces, sources (``sources`` overrides them) and scope → (month, ...).

        For the reports cube, whose surface and source axes have an extra last level (not linked to an action),
        that level counts only while its axis is not filtered."""
        lo, hi = self._month_span(cycle)
        a = arr[lo:hi]
        mys = np.array([1]) if sel.scope == "malaysia" else None
        src = self._index(sel.sources, SOURCES) if sources is None else sources
        for axis, idx in (
            (4, mys),
            (3, src),
            (2, self._index(sel.surfaces, self.surfaces)),
            (1, self._index(sel.categories, CATEGORIES)),
        ):
            if idx is not None:
                a = np.take(a, idx, axis=axis)
            a = a.sum(axis=axis)
        return a

    def _proactive_sources(self, sel: Selection, names: Sequence[str]) -> np.ndarray:
        chosen = sel.sources or SOURCES
        return np.array([SOURCES.index(s) for s in chosen if s in names], dtype=np.int64)

    def _parts(self, sel: Selection, cycle: Cycle, metric: ExplorerMetric) -> tuple[np.ndarray, np.ndarray | None]:
        """(numerator per month, denominator per month or None); for durations, the histogram per month."""
        enforced_idx = [i for i, a in enumerate(ACTIONS) if a not in ("no_violation", OPEN_ACTION)]
        account_idx = [ACTIONS.index(a) for a in schema.ACCOUNT_ACTIONS]
        mid = metric.id
        if metric.kind == "duration":
            return self._reduce(self.tta, sel, cycle), None
        if metric.clock is not None:
            within, due = self.sla[metric.clock.ref_id]
            return self._reduce(within, sel, cycle), self._reduce(due, sel, cycle)
        if mid == "reports_received":
            assert self.reports is not None
            return self._reduce(self.reports, sel, cycle), None
        if mid in ("appeal_rate", "reversal_rate"):
            assert self.appeals is not None
            st = self._reduce(self.appeals, sel, cycle)
            if mid == "appeal_rate":
                return st[:, 1:].sum(axis=1), st.sum(axis=1)
            return st[:, 3], st[:, 2:].sum(axis=1)
        counts = self._reduce(self.counts, sel, cycle)  # (m, decider, action)
        decisions = counts.sum(axis=(1, 2))
        enforced = counts[:, :, enforced_idx].sum(axis=(1, 2))
        if mid == "decisions":
            return decisions, None
        if mid == "actions_enforced":
            return enforced, None
        if mid == "accounts_actioned":
            return counts[:, :, account_idx].sum(axis=(1, 2)), None
        if mid == "automated_decision_share":
            return counts[:, DECIDERS.index("automated")].sum(axis=1), decisions
        if mid == "proactive_rate":
            src = self._proactive_sources(sel, ("automated", "proactive_human"))
            pro = self._reduce(self.counts, sel, cycle, src)[:, :, enforced_idx].sum(axis=(1, 2))
            return pro, enforced
        if mid == "automated_detection_share":
            src = self._proactive_sources(sel, ("automated",))
            auto = self._reduce(self.counts, sel, cycle, src).sum(axis=(1, 2))
            return auto, decisions
        raise KeyError(mid)

    # ------------------------------------------------------------------ answers

    def trend(self, sel: Selection) -> Trend:
        """The selected metric month by month, for the cycle and the comparison cycle."""
        metric = self.metrics[sel.metric]
        definition = self.registry[metric.id]
        cyc = self._cycle(sel.cycle)
        values, nums, dens, total = self._series(sel, cyc, metric)
        out = Trend(
            metric=metric.id,
            label=metric.label,
            unit=definition.unit,
            months=[p.strftime("%b %Y") for p in cyc.months],
            values=values,
            numerators=nums,
            denominators=dens,
            total=total,
        )
        if sel.compare is not None:
            comp = self._cycle(sel.compare)
            cvalues, _, _, ctotal = self._series(sel, comp, metric)
            n = len(out.months)
            out.compare_months = [p.strftime("%b %Y") for p in comp.months][:n]
            out.compare_values = (cvalues + [None] * n)[:n]
            out.compare_total = ctotal
        return out

    def _series(
        self, sel: Selection, cycle: Cycle, metric: ExplorerMetric
    ) -> tuple[list[float | None], list[float | None], list[float | None], float | None]:
        """(value, numerator, denominator per month; value over the cycle). Months outside the pack's data (before
        its first or after its last detection month) have no value rather than a zero."""
        num, den = self._parts(sel, cycle, metric)
        lo, _ = self._month_span(cycle)
        first, last = self.first_month_with_data - self.base, self.last_month_with_data - self.base
        covered = [first <= lo + i <= last for i in range(len(num))]
        if metric.kind == "duration":
            q = float(metric.quantile or 0.5)
            values = [none_if_nan(percentile_hours(h, q)) for h in num]
            nums: list[float | None] = [float(h.sum()) for h in num]
            dens: list[float | None] = [None] * len(values)
            total = none_if_nan(percentile_hours(num.sum(axis=0), q))
        elif den is None:
            values = [float(v) for v in num]
            nums, dens, total = list(values), [None] * len(values), float(num.sum())
        else:
            values = [float(n) / float(d) if d else None for n, d in zip(num, den, strict=True)]
            nums, dens = [float(v) for v in num], [float(v) for v in den]
            total = float(num.sum()) / float(den.sum()) if den.sum() else None

        def keep(xs: list[float | None]) -> list[float | None]:
            return [x if ok else None for x, ok in zip(xs, covered, strict=True)]

        return keep(values), keep(nums), keep(dens), total

    def value(self, sel: Selection, cycle: str | None = None) -> float | None:
        """The selected metric over a whole cycle (default: the selection's)."""
        metric = self.metrics[sel.metric]
        return self._series(sel, self._cycle(cycle or sel.cycle), metric)[3]

    def histogram(self, sel: Selection) -> Histogram:
        """Time-to-action distribution of the selection's enforced, actioned items, with the SLA deadlines."""
        cyc = self._cycle(sel.cycle)
        fine = self._reduce(self.tta, sel, cyc).sum(axis=0)
        hours, counts = _display_bins(fine)
        n = int(fine.sum())
        compare_percent, compare_n = None, None
        if sel.compare is not None:
            cfine = self._reduce(self.tta, sel, self._cycle(sel.compare)).sum(axis=0)
            compare_n = int(cfine.sum())
            compare_percent = _percent(_display_bins(cfine)[1], compare_n)
        cats = set(sel.categories or CATEGORIES)
        deadlines: dict[float, list[str]] = {}
        within: dict[str, tuple[int, int]] = {}
        for clock in self.clocks:
            applies = sorted(cats & set(clock.categories), key=CATEGORIES.index)
            if not applies:
                continue
            deadlines.setdefault(float(clock.hours), []).append(f"{clock.ref_id} ({', '.join(applies)})")
            w, d = self.sla[clock.ref_id]
            within[clock.ref_id] = (int(self._reduce(w, sel, cyc).sum()), int(self._reduce(d, sel, cyc).sum()))
        return Histogram(
            hours=hours,
            counts=counts,
            percent=_percent(counts, n),
            compare_percent=compare_percent,
            n=n,
            compare_n=compare_n,
            beyond=n - int(sum(counts)),
            open=int(self._reduce(self.open, sel, cyc).sum()),
            median_h=percentile_hours(fine, 0.5),
            p90_h=percentile_hours(fine, 0.9),
            deadlines=[(h, "; ".join(labels)) for h, labels in sorted(deadlines.items())],
            within=within,
        )

    def funnel(self, sel: Selection) -> Funnel:
        """Reports received → actions enforced → actions appealed → reversed on appeal."""
        stages = ["reports received", "actions enforced", "actions appealed", "reversed on appeal"]
        notes = []
        if self.reports is None:
            notes.append("reports: " + self.pack.not_available("reports"))
        if self.appeals is None:
            notes.append("appeals: " + self.pack.not_available("appeals"))

        def values(cycle: Cycle) -> list[float | None]:
            enforced_idx = [i for i, a in enumerate(ACTIONS) if a not in ("no_violation", OPEN_ACTION)]
            enforced = float(self._reduce(self.counts, sel, cycle)[:, :, enforced_idx].sum())
            reports = None if self.reports is None else float(self._reduce(self.reports, sel, cycle).sum())
            appealed = reversed_ = None
            if self.appeals is not None:
                st = self._reduce(self.appeals, sel, cycle).sum(axis=0)
                appealed, reversed_ = float(st[1:].sum()), float(st[3])
            return [reports, enforced, appealed, reversed_]

        compare = values(self._cycle(sel.compare)) if sel.compare is not None else None
        return Funnel(stages, values(self._cycle(sel.cycle)), compare, notes)

    def definitions(self, sel: Selection) -> pd.DataFrame:
        """Registry definitions of what the selection shows: the chosen metric, then those behind the charts."""
        ids = [sel.metric, "tta_median_h", "tta_p90_h"]
        cats = set(sel.categories or CATEGORIES)
        ids += [f"sla.{c.ref_id}" for c in self.clocks if cats & set(c.categories)]
        ids += ["reports_received", "actions_enforced", "appeal_rate", "reversal_rate"]
        seen: list[str] = []
        for mid in ids:
            if mid in self.registry and mid not in seen:
                seen.append(mid)
        rows = []
        for mid in seen:
            m = self.registry[mid]
            rows.append(
                {
                    "metric": m.id,
                    "label": m.label_en,
                    "definition": m.definition,
                    "formula": m.formula,
                    "unit": m.unit,
                    "answers": "; ".join(m.answers),
                    "shown in": "trend" if mid == sel.metric else "charts",
                }
            )
        return pd.DataFrame(rows)

    def summary(self, sel: Selection) -> dict[str, Any]:
        """Headline numbers for the selection: matching decisions and the metric for both cycles."""
        cyc = self._cycle(sel.cycle)
        out: dict[str, Any] = {
            "cycle": cyc.id,
            "decisions": int(self._reduce(self.counts, sel, cyc).sum()),
            "metric": sel.metric,
            "value": self.value(sel),
            "compare": sel.compare,
            "compare_value": self.value(sel, sel.compare) if sel.compare else None,
        }
        return out

    # ------------------------------------------------------------------ drill-down

    def _in_memory(self, what: str) -> None:
        if self.engine_rows is not None:
            raise ValueError(
                f"{what} needs the actions in memory; they stay in the {self.engine_rows.engine.name} engine "
                "(use count(), page(), csv() or write_csv())"
            )

    def mask(self, sel: Selection) -> np.ndarray:
        """Boolean mask of the action rows matching the selection (cached; built from pre-computed codes).
        In-process only: on an engine the rows are selected by the engine's queries."""
        self._in_memory("the row mask")
        key = sel.key()
        hit = self._mask_cache.get(key)
        if hit is not None:
            return hit
        lo, hi = self._month_span(self._cycle(sel.cycle))
        m = self.valid & (self.month >= lo) & (self.month < hi)
        for values, levels, codes in (
            (sel.categories, CATEGORIES, self.cat),
            (sel.surfaces, self.surfaces, self.surf),
            (sel.sources, SOURCES, self.src),
        ):
            if values:
                lut = np.zeros(len(levels) + 1, dtype=bool)  # last slot: code -1
                lut[[levels.index(v) for v in values]] = True
                m &= lut[codes]
        if sel.scope == "malaysia":
            m &= self.mys
        if len(self._mask_cache) >= 4:
            self._mask_cache.clear()
        self._mask_cache[key] = m
        return m

    def count(self, sel: Selection) -> int:
        """Number of actions matching the selection (the drill-down's rows): the mask in-process, a count query on
        an engine (cached per selection)."""
        if self.engine_rows is None:
            return int(self.mask(sel).sum())
        return self.engine_rows.count(self._engine_selection(sel))

    def _span_us(self, sel: Selection) -> tuple[int, int]:
        """The selection's cycle as [start, end) UTC instants (µs) of its first and after its last month."""
        from riskkit.explorer.cubes import month_starts_us

        lo, hi = self._month_span(self._cycle(sel.cycle))
        bounds = month_starts_us(self.base + lo, hi - lo)
        return bounds[0], bounds[-1]

    def _action_rank(self) -> np.ndarray:
        """Rank of each action's ``action_id`` (ascending, dense): the sort key and every order's tie-break."""
        cached = self._order_cache.get(("_id", True))
        if cached is None:
            import pyarrow.compute as pc

            ranks = pc.rank(arrays.to_arrow(self.pack.actions["action_id"]), sort_keys="ascending", tiebreaker="dense")
            cached = ranks.to_numpy(zero_copy_only=False).astype(np.int64)
            self._order_cache[("_id", True)] = cached
        return cached

    def _sort_key(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(int64 or float key, missing) for a sort column; categorical columns sort by label."""
        a = self.pack.actions
        if column == "detected_at":
            return arrays.timestamps_us(a["detected_at"]), np.zeros(len(a), dtype=bool)
        if column == "actioned_at":
            v = arrays.timestamps_us(a["actioned_at"])
            return np.where(v == arrays.NAT, 0, v), v == arrays.NAT
        if column == "hours_to_action":
            return self.minutes.astype(np.int64), self.minutes < 0
        if column == "appeal":
            return self.appeal_state.astype(np.int64), np.zeros(len(a), dtype=bool)
        if column == "action_id":
            return self._action_rank(), a["action_id"].isna().to_numpy()
        s = a[column]
        levels = tuple(sorted(set(s.dropna().astype("string").unique())))
        codes = arrays.codes(s, levels).astype(np.int64)
        return codes, codes < 0

    def order(self, column: str, ascending: bool) -> np.ndarray:
        """Row positions of all actions sorted by ``column`` (missing values last; ties by ``action_id``), cached."""
        _check_sort(column)
        self._in_memory("the row order")
        cached = self._order_cache.get((column, ascending))
        if cached is None:
            key, missing = self._sort_key(column)
            cached = np.lexsort((self._action_rank(), key if ascending else -key, missing))
            self._order_cache[(column, ascending)] = cached
        return cached

    def rows(self, sel: Selection, sort: str = "detected_at", ascending: bool = False) -> np.ndarray:
        """Row positions of the matching actions in display order (in-process)."""
        key = (*sel.key(), sort, ascending)
        hit = self._rows_cache.get(key)
        if hit is None:
            order = self.order(sort, ascending)
            hit = order[self.mask(sel)[order]]
            if len(self._rows_cache) >= 4:
                self._rows_cache.clear()
            self._rows_cache[key] = hit
        return hit

    def frame(self, positions: np.ndarray, *, full: bool = False) -> pd.DataFrame:
        """Action rows at ``positions`` as shown in the table (``full``: every column, for the CSV export)."""
        self._in_memory("frame()")
        return rows_frame(
            self.pack.actions.iloc[positions], self.minutes[positions], self.appeal_state[positions], full=full
        )

    def page(
        self, sel: Selection, page: int = 0, size: int = 20, sort: str = "detected_at", ascending: bool = False
    ) -> pd.DataFrame:
        """One page of the drill-down table (on an engine: one ordered query with LIMIT/OFFSET)."""
        _check_sort(sort)
        start = max(page, 0) * size
        if self.engine_rows is not None:
            return self.engine_rows.page(self._engine_selection(sel), start, size, sort, ascending)
        rows = self.rows(sel, sort, ascending)
        return self.frame(rows[start : start + size])

    def n_pages(self, sel: Selection, size: int = 20) -> int:
        return max(1, math.ceil(self.count(sel) / size))

    def csv(self, sel: Selection, sort: str = "detected_at", ascending: bool = False) -> str:
        """Every matching action (all columns, Malaysian time, plus ``hours_to_action`` and ``appeal``) as CSV.
        On an engine at most :data:`CSV_TEXT_MAX_ROWS` rows (beyond, :meth:`write_csv` streams them to a file)."""
        _check_sort(sort)
        if self.engine_rows is None:
            return self.frame(self.rows(sel, sort, ascending), full=True).to_csv(index=False)
        n = self.count(sel)
        if n > CSV_TEXT_MAX_ROWS:
            raise ValueError(
                f"{n:,} actions match: too many for a CSV in memory (at most {CSV_TEXT_MAX_ROWS:,} from an engine); "
                "write_csv(selection, path) streams them to a file"
            )
        import io

        out = io.StringIO()
        self.write_csv(sel, out, sort, ascending)
        return out.getvalue()

    def write_csv(self, sel: Selection, target: Any, sort: str = "detected_at", ascending: bool = False) -> int:
        """Write every matching action as CSV (as :meth:`csv`) to ``target`` (a path or a text stream); returns the
        number of rows. On an engine the rows are streamed in batches: memory does not grow with them."""
        _check_sort(sort)
        from pathlib import Path

        if isinstance(target, (str, Path)):
            with open(target, "w", encoding="utf-8", newline="") as stream:
                return self.write_csv(sel, stream, sort, ascending)
        if self.engine_rows is None:
            df = self.frame(self.rows(sel, sort, ascending), full=True)
            df.to_csv(target, index=False)
            return len(df)
        n = 0
        for chunk in self.engine_rows.full_batches(self._engine_selection(sel), sort, ascending):
            chunk.to_csv(target, index=False, header=n == 0)
            n += len(chunk)
        if n == 0:
            self.engine_rows.empty_frame().to_csv(target, index=False)
        return n

    def _engine_selection(self, sel: Selection) -> Any:
        from riskkit.explorer.engine import RowFilter

        sel = self.validate(sel)
        return RowFilter(sel.key(), self._span_us(sel), sel.categories, sel.surfaces, sel.sources, sel.scope)

    def export_name(self, sel: Selection) -> str:
        """A file name describing the selection."""
        parts = ["riskkit-actions", sel.cycle, sel.scope]
        for values in (sel.categories, sel.surfaces, sel.sources):
            if values:
                parts.append("+".join(values) if len(values) <= 2 else f"{len(values)}sel")
        return "_".join(parts).replace("/", "-") + ".csv"


def percentile_hours(hist: np.ndarray, q: float) -> float:
    """Nearest-rank percentile of a :data:`TTA_EDGES_MIN` histogram in hours (the bin's upper edge; NaN if empty
    or in the overflow bin)."""
    n = int(hist.sum())
    if n == 0:
        return float("nan")
    rank = max(1, math.ceil(q * n - 1e-9))
    index = int(np.searchsorted(np.cumsum(hist), rank))
    if index >= len(TTA_EDGES_MIN):
        return float("nan")
    return float(TTA_EDGES_MIN[index]) / 60.0


def _display_bins(fine: np.ndarray) -> tuple[list[float], list[int]]:
    """Fine bins → 1-hour display bins up to HIST_DISPLAY_HOURS (bins are (lo, hi], so 1 h bars merge cleanly)."""
    hours = np.arange(HIST_DISPLAY_HOURS)
    hour_of_bin = (TTA_EDGES_MIN - 1) // 60  # the 1-hour bar a fine bin belongs to
    counts = np.zeros(HIST_DISPLAY_HOURS, dtype=np.int64)
    keep = hour_of_bin < HIST_DISPLAY_HOURS
    np.add.at(counts, hour_of_bin[keep], fine[: len(TTA_EDGES_MIN)][keep])
    return hours.astype(float).tolist(), counts.tolist()


def _percent(counts: Sequence[int], n: int) -> list[float]:
    return [100.0 * c / n if n else 0.0 for c in counts]


def none_if_nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _period(n: int) -> pd.Period:
    return pd.Period(year=n // 12, month=n % 12 + 1, freq="M")


def _check_sort(column: str) -> None:
    if column not in SORT_KEYS:
        raise ValueError(f"cannot sort by {column!r}; choose one of {', '.join(SORT_KEYS)}")


def rows_frame(a: pd.DataFrame, minutes: np.ndarray, appeal_state: np.ndarray, *, full: bool = False) -> pd.DataFrame:
    """Action rows as the drill-down table shows them (``full``: every column, for the CSV export), from the rows'
    typed columns (UTC instants, enums), durations in whole minutes (-1: not actioned) and appeal states. The same
    for rows read in memory and rows fetched from an engine."""
    hours = pd.Series(np.where(minutes >= 0, minutes / 60.0, np.nan))
    appeal = pd.Series(np.array(APPEAL_STATES, dtype=object)[np.asarray(appeal_state, dtype=np.int64)])
    if full:
        out = a.reset_index(drop=True).copy()
        for col in out.columns:
            if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                out[col] = out[col].dt.tz_convert(REPORTING_TZ)
        out["hours_to_action"] = hours.round(4)
        out["appeal"] = appeal
        return out
    return pd.DataFrame(
        {
            "action_id": a["action_id"].to_numpy(),
            "detected (MYT)": _local_text(a["detected_at"]),
            "actioned (MYT)": _local_text(a["actioned_at"]),
            "hours_to_action": hours.round(2).to_numpy(),
            "category": a["category"].astype("string").to_numpy(),
            "surface": a["surface"].astype("string").to_numpy(),
            "detection_source": a["detection_source"].astype("string").to_numpy(),
            "decision_by": a["decision_by"].astype("string").to_numpy(),
            "action": a["action"].astype("string").to_numpy(),
            "in_malaysia": a["in_malaysia"].to_numpy(),
            "appeal": appeal.to_numpy(),
        },
        columns=list(TABLE_COLUMNS),
    )


def _local_text(ts: pd.Series) -> np.ndarray:
    return ts.dt.tz_convert(REPORTING_TZ).dt.strftime("%Y-%m-%d %H:%M").fillna("").to_numpy()
