"""The explorer's model: a data pack pre-aggregated once into count cubes, queried per selection (no widgets).

Two layers:

* :class:`ExplorerModel` — pure logic, no widgets. It pre-aggregates the pack **once** into small dense count
  cubes (detection month × category × surface × detection source × Malaysian scope × …, plus time-to-action
  histograms, SLA clocks, appeal outcomes and reports) and answers every :class:`Selection` from those cubes, so an
  update costs the same on 80 k or 10 M actions. Only the drill-down table touches rows: a cached boolean mask over
  pre-computed integer codes, then one page.
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
from riskkit.library import Clock, Library
from riskkit.metrics import MetricDef, clock_outcomes, registry
from riskkit.pack import DataPack

CATEGORIES = schema.HARM_CATEGORIES


SOURCES = schema.DETECTION_SOURCES


DECIDERS = schema.DECISION_MAKERS


#: The contract's actions, then the level of an open item (no decision yet: the contract leaves its action empty).
OPEN_ACTION = "open"
ACTIONS = (*schema.ACTIONS, OPEN_ACTION)


SCOPES = ("malaysia", "global")


#: Columns read from the optional tables when :func:`explore` loads a pack from a folder (actions are read whole:
#: the drill-down and the CSV export show every column).
EXPLORER_COLUMNS: dict[str, list[str]] = {
    "reports": ["report_id", "received_at", "category", "action_id", "in_malaysia"],
    "appeals": ["appeal_id", "action_id", "filed_at", "outcome"],
}


#: Time-to-action histogram bins, as upper edges in minutes: 15 min up to 24 h, 1 h up to 7 days, 1 day up to
#: 90 days, then one overflow bin. A duration (rounded up to whole minutes, as in ``riskkit.metrics``) falls in
#: the first bin whose upper edge is >= it, so a bin is (previous edge, edge].
TTA_EDGES_MIN: np.ndarray = np.concatenate(
    [np.arange(15, 1440 + 1, 15), np.arange(1500, 10080 + 1, 60), np.arange(11520, 129600 + 1, 1440)]
).astype(np.int64)


N_TTA_BINS = len(TTA_EDGES_MIN) + 1  # + overflow


#: The histogram chart shows 1-hour bars up to this many hours; the rest is stated in a note.
HIST_DISPLAY_HOURS = 168


#: Appeal state of an enforced action (the most decisive of its appeals).
APPEAL_STATES = ("none", "open", "upheld", "reversed")


_APPEAL_RANK = {"open": 1, "upheld": 2, "reversed": 3}


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
        actions = pack.actions
        self.n_actions = len(actions)

        # ---- codes per action row (kept for the drill-down mask)
        detected = arrays.timestamps_us(actions["detected_at"])
        actioned = arrays.timestamps_us(actions["actioned_at"])
        month_abs = _month_numbers(actions[pack.meta.cohort_column])  # the month an action counts in
        if len(actions) == 0:
            raise ValueError("the pack has no actions: nothing to explore")
        first, last = int(month_abs.min()), int(month_abs.max())
        self.first_month_with_data, self.last_month_with_data = first, last
        self.base = first - first % 12  # January of the first year
        self.n_months = (last - last % 12 + 12) - self.base  # whole years
        self.months = pd.period_range(_period(self.base), periods=self.n_months, freq="M")
        self.month = (month_abs - self.base).astype(np.int16)

        self.surfaces: tuple[str, ...] = _surface_levels(actions["surface"], pack.meta.surfaces)
        self.cat = arrays.codes(actions["category"], CATEGORIES).astype(np.int8)
        self.surf = arrays.codes(actions["surface"], self.surfaces).astype(np.int64).astype(np.int16)
        self.src = arrays.codes(actions["detection_source"], SOURCES).astype(np.int8)
        dec = arrays.codes(actions["decision_by"], DECIDERS)
        act = arrays.codes(actions["action"], schema.ACTIONS)
        act = np.where((act < 0) & arrays.is_empty(actions["action"]), ACTIONS.index(OPEN_ACTION), act)
        self.mys = actions["in_malaysia"].fillna(False).to_numpy(bool)
        valid = (self.cat >= 0) & (self.surf >= 0) & (self.src >= 0) & (dec >= 0) & (act >= 0)
        self.valid = valid
        enforced = (act != ACTIONS.index("no_violation")) & (act != ACTIONS.index(OPEN_ACTION))
        done = actioned != arrays.NAT
        self.minutes = np.where(done, arrays.minutes_between(detected, np.where(done, actioned, detected)), -1)

        M, K, S, D = self.n_months, len(CATEGORIES), len(self.surfaces), len(SOURCES)
        key = np.zeros(len(actions), dtype=np.int64)
        for codes, size in ((self.month, M), (self.cat, K), (self.surf, S), (self.src, D), (self.mys, 2)):
            key = key * size + np.where(valid, codes, 0).astype(np.int64)
        base_size = M * K * S * D * 2

        def cube(mask: np.ndarray, level: np.ndarray | None = None, levels: int = 1) -> np.ndarray:
            sel = valid & mask
            idx = key[sel] * levels + (0 if level is None else level[sel].astype(np.int64))
            return np.bincount(idx, minlength=base_size * levels).reshape(M, K, S, D, 2, levels)

        everything = np.ones(len(actions), dtype=bool)
        self.counts = cube(everything, dec * len(ACTIONS) + act, len(DECIDERS) * len(ACTIONS)).reshape(
            M, K, S, D, 2, len(DECIDERS), len(ACTIONS)
        )
        self.open = cube(~done)[..., 0]
        tta_bin = np.searchsorted(TTA_EDGES_MIN, np.maximum(self.minutes, 0), side="left")
        self.tta = cube(enforced & done, tta_bin, N_TTA_BINS).astype(np.int32)
        horizon = np.full(len(actions), arrays.timestamp_us(self.as_of), dtype=np.int64)
        self.sla: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for clock in self.clocks:
            within, due = clock_outcomes(
                detected, actioned, horizon, clock, self.cat, act if clock.stop_actions else None
            )
            self.sla[clock.ref_id] = (cube(within)[..., 0], cube(due)[..., 0])

        # ---- appeals: state of each enforced action (the most decisive of its appeals)
        self.appeal_state = np.zeros(len(actions), dtype=np.int8)
        appeals = pack.get("appeals")
        if appeals is not None and len(appeals):
            pos = arrays.lookup(actions["action_id"], appeals["action_id"])
            rank = appeals["outcome"].astype("string").map(_APPEAL_RANK).fillna(1).to_numpy(np.int8)
            ok = pos >= 0
            np.maximum.at(self.appeal_state, pos[ok], rank[ok])
        self.appeals = cube(enforced, self.appeal_state, len(APPEAL_STATES)) if appeals is not None else None

        # ---- reports: received month × category × linked action's surface/source (+1 level: not linked)
        reports = pack.get("reports")
        self.reports: np.ndarray | None = None
        if reports is not None:
            r_month = _month_numbers(reports["received_at"]) - self.base
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
            ok = (r_month >= 0) & (r_month < M) & (r_cat >= 0) & (r_surf >= 0) & (r_src >= 0)
            r_key = (((r_month[ok] * K + r_cat[ok]) * (S + 1) + r_surf[ok]) * (D + 1) + r_src[ok]) * 2 + r_mys[ok]
            self.reports = np.bincount(r_key, minlength=M * K * (S + 1) * (D + 1) * 2).reshape(M, K, S + 1, D + 1, 2)

        # ---- what can be shown
        self.metrics: dict[str, ExplorerMetric] = self._metric_catalogue()
        self.cycles: list[Cycle] = self._cycle_options()
        self._mask_cache: dict[tuple[Any, ...], np.ndarray] = {}
        self._order_cache: dict[tuple[str, bool], np.ndarray] = {}
        self._rows_cache: dict[tuple[Any, ...], np.ndarray] = {}
        self.open_seconds = time.perf_counter() - started

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

    def mask(self, sel: Selection) -> np.ndarray:
        """Boolean mask of the action rows matching the selection (cached; built from pre-computed codes)."""
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
            import pyarrow.compute as pc

            ranks = pc.rank(arrays.to_arrow(a["action_id"]), sort_keys="ascending", tiebreaker="dense")
            return ranks.to_numpy(zero_copy_only=False).astype(np.int64), a["action_id"].isna().to_numpy()
        s = a[column]
        levels = tuple(sorted(set(s.dropna().astype("string").unique())))
        codes = arrays.codes(s, levels).astype(np.int64)
        return codes, codes < 0

    def order(self, column: str, ascending: bool) -> np.ndarray:
        """Row positions of all actions sorted by ``column`` (stable; missing values last), cached."""
        if column not in SORT_KEYS:
            raise ValueError(f"cannot sort by {column!r}; choose one of {', '.join(SORT_KEYS)}")
        cached = self._order_cache.get((column, ascending))
        if cached is None:
            key, missing = self._sort_key(column)
            cached = np.lexsort((key if ascending else -key, missing))
            self._order_cache[(column, ascending)] = cached
        return cached

    def rows(self, sel: Selection, sort: str = "detected_at", ascending: bool = False) -> np.ndarray:
        """Row positions of the matching actions in display order."""
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
        a = self.pack.actions.iloc[positions]
        hours = pd.Series(np.where(self.minutes[positions] >= 0, self.minutes[positions] / 60.0, np.nan))
        appeal = pd.Series(np.array(APPEAL_STATES, dtype=object)[self.appeal_state[positions]])
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

    def page(
        self, sel: Selection, page: int = 0, size: int = 20, sort: str = "detected_at", ascending: bool = False
    ) -> pd.DataFrame:
        """One page of the drill-down table."""
        rows = self.rows(sel, sort, ascending)
        start = max(page, 0) * size
        return self.frame(rows[start : start + size])

    def n_pages(self, sel: Selection, size: int = 20) -> int:
        return max(1, math.ceil(int(self.mask(sel).sum()) / size))

    def csv(self, sel: Selection, sort: str = "detected_at", ascending: bool = False) -> str:
        """Every matching action (all columns, Malaysian time, plus ``hours_to_action`` and ``appeal``) as CSV."""
        return self.frame(self.rows(sel, sort, ascending), full=True).to_csv(index=False)

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


def tta_bin(minutes: np.ndarray) -> np.ndarray:
    """Histogram bin of durations in whole minutes (for tests and other engines)."""
    return np.searchsorted(TTA_EDGES_MIN, np.maximum(minutes, 0), side="left")


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


def _month_numbers(ts: pd.Series) -> np.ndarray:
    """Calendar month in Malaysian time as year*12 + month - 1 (int64)."""
    local = ts.dt.tz_convert(REPORTING_TZ).dt.tz_localize(None)
    m = local.to_numpy().astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return m + 1970 * 12


def _period(n: int) -> pd.Period:
    return pd.Period(year=n // 12, month=n % 12 + 1, freq="M")


def _surface_levels(surface: pd.Series, declared: Sequence[str] | None) -> tuple[str, ...]:
    present = sorted(set(surface.dropna().astype("string").unique()))
    if declared:
        return tuple(declared) + tuple(s for s in present if s not in declared)
    return tuple(present)


def _local_text(ts: pd.Series) -> np.ndarray:
    return ts.dt.tz_convert(REPORTING_TZ).dt.strftime("%Y-%m-%d %H:%M").fillna("").to_numpy()
