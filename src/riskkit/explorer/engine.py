"""The explorer on an engine (DuckDB, Spark, a warehouse): the cubes by aggregate queries, the drill-down by paged
queries, the CSV export streamed — only cubes, one page or one batch at a time come back to this process.

The row codes are the Ibis counterparts of those :class:`~riskkit.explorer.model.ExplorerModel` computes with
NumPy: the Malaysian month from UTC month bounds sent as integer epoch microseconds (never the engine session's
time zone), the time-to-action bin by integer arithmetic on whole minutes, the SLA clocks from the same
expressions as ``riskkit metrics`` (:func:`riskkit.partials.clock_exprs`) judged at the pack's ``as_of``. Each query
groups by the codes and counts; :mod:`riskkit.explorer.cubes` reshapes the groups exactly as it reshapes rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskkit import arrays
from riskkit.engines.expr import Relation, Spec, col
from riskkit.engines.ibis_engine import _Compiler, _ibis
from riskkit.exceptions import EngineError
from riskkit.explorer.cubes import (
    ACTIONS,
    APPEAL_RANK,
    APPEAL_STATES,
    CATEGORIES,
    DECIDERS,
    N_TTA_BINS,
    OPEN_ACTION,
    SOURCES,
    Cubes,
    action_cubes,
    decision_valid,
    keyed,
    month_number,
    month_starts_us,
    scatter,
    surface_levels,
    tta_segments,
)
from riskkit.library import Clock
from riskkit.partials import clock_exprs  # the same clock definition as riskkit metrics

#: Rows per batch when the CSV export streams from the engine.
CSV_BATCH_ROWS = 100_000

#: Timestamp columns the explorer reads from the actions.
_STAMPS = ("detected_at", "actioned_at")


@dataclass(frozen=True)
class RowFilter:
    """A validated selection as the engine filters rows: cycle as [start, end) UTC µs, categories, surfaces,
    sources (empty = all) and scope; ``key`` identifies it for caching."""

    key: tuple[Any, ...]
    span_us: tuple[int, int]
    categories: tuple[str, ...]
    surfaces: tuple[str, ...]
    sources: tuple[str, ...]
    scope: str


class EngineExplorer:
    """The explorer's queries on a pack whose actions stay in an engine (``pack.engine``)."""

    def __init__(self, pack: Any, clocks: Sequence[Clock]) -> None:
        self.pack = pack
        self.engine = pack.engine
        self.clocks = tuple(clocks)
        if "actions" not in self.engine.tables:
            raise EngineError(f"the {self.engine.name} engine has no `actions` table for this pack")
        self.reg = self.engine.tables["actions"]
        self.cohort = pack.meta.cohort_column
        self.as_of_us = arrays.timestamp_us(pack.meta.as_of)
        self.surfaces: tuple[str, ...] = ()
        self._counts: dict[tuple[Any, ...], int] = {}

    # ------------------------------------------------------------------------------------------- row codes

    def _spec(self, table: str) -> Spec:
        return Spec("explorer", Relation(table), self.cohort, "category", None)

    def _actions(self) -> Any:
        """The actions with ``_us_<column>``: each timestamp the explorer reads as integer epoch µs."""
        t = self.reg.table
        c = _Compiler(self.engine, self._spec("actions"), t)
        names = dict.fromkeys([*_STAMPS, self.cohort])
        return t.mutate(**{f"_us_{n}": c.instant(n) for n in names if n in t.columns})

    def _minutes(self, t: Any) -> Any:
        """Whole minutes from detection to action, rounded up, negative clipped (empty when not actioned)."""
        ibis = _ibis()
        start, stop = t["_us_detected_at"], t["_us_actioned_at"]
        minutes = (ibis.greatest(stop - start, 0) + 59_999_999) // 60_000_000
        return ibis.ifelse(stop.isnull() | start.isnull(), ibis.null("int64"), minutes)  # GREATEST skips nulls

    def _decided(self, t: Any) -> Any:
        """Rows whose decider and action are contract values (the in-process cubes leave the others out)."""
        action = t["action"].cast("string")
        open_item = action.isnull() | (action.strip() == "")  # the contract leaves an open item's action empty
        known = action.isin(list(ACTIONS)).fill_null(False) | open_item
        return t["decision_by"].isin(list(DECIDERS)).fill_null(False) & known

    def _appeal_states(self) -> Any | None:
        """Per appealed action: the most decisive of its appeals (1 open or other, 2 upheld, 3 reversed)."""
        reg = self.engine.tables.get("appeals")
        if reg is None:
            return None
        ibis = _ibis()
        ap = reg.table
        if "outcome" in ap.columns:
            ranks = [(ap["outcome"] == name, rank) for name, rank in APPEAL_RANK.items() if rank != 1]
            rank = ibis.cases(*ranks, else_=1) if ranks else ibis.literal(1)
        else:
            rank = ibis.literal(1)
        return ap.group_by(_rk_key=ap["action_id"]).aggregate(_st=rank.max())

    def _with_appeal(self, t: Any) -> Any:
        """``t`` with ``_st``: its appeal state (0 none)."""
        states = self._appeal_states()
        if states is None:
            return t.mutate(_st=_ibis().literal(0))
        j = t.left_join(states, t["action_id"] == states["_rk_key"]).drop("_rk_key")
        return j.mutate(_st=j["_st"].fill_null(0))

    @staticmethod
    def _month(us: Any, bounds: Sequence[int]) -> Any:
        """Month index of an instant among consecutive month starts (-1 outside or empty)."""
        ibis = _ibis()
        branches = [(us < bounds[0], -1)] + [(us < b, i) for i, b in enumerate(bounds[1:])]
        return ibis.cases(*branches, else_=-1)

    @staticmethod
    def _tta_bin(minutes: Any) -> Any:
        """:func:`riskkit.explorer.cubes.tta_bin` in the engine: integer arithmetic per run of equal-width bins."""
        ibis = _ibis()
        branches = [(minutes <= 0, 0)]
        for prev, width, first, last in tta_segments():
            branches.append((minutes <= last, first + (minutes - prev - 1) // width))
        return ibis.cases(*branches, else_=N_TTA_BINS - 1)

    # ------------------------------------------------------------------------------------------- cubes

    def span(self) -> tuple[int, int, int]:
        """(actions, first and last Malaysian month with data) — one aggregate query."""
        t = self._actions()
        us = t[f"_us_{self.cohort}"]
        df = self.engine.run([t.aggregate(_n=t.count(), _lo=us.min(), _hi=us.max())])[0]
        n, lo, hi = df["_n"].iloc[0], df["_lo"].iloc[0], df["_hi"].iloc[0]
        if pd.isna(n) or int(n) == 0 or pd.isna(lo):
            raise ValueError("the pack has no actions: nothing to explore")
        first, last = (month_number(pd.Timestamp(int(v), unit="us", tz="UTC")) for v in (lo, hi))
        return int(n), first, last

    def cubes(self, base: int, n_months: int, declared: Sequence[str] | None) -> tuple[tuple[str, ...], Cubes]:
        """(surfaces, every cube) over months ``base`` … ``base + n_months - 1``: four aggregate queries."""
        ibis = _ibis()
        bounds = month_starts_us(base, n_months)
        t = self._actions()
        empty = t["action"].isnull() | (t["action"].cast("string").strip() == "")
        t = t.mutate(
            action=ibis.ifelse(empty, OPEN_ACTION, t["action"].cast("string")),  # an open item's own level
            _mo=self._month(t[f"_us_{self.cohort}"], bounds),
            _my=t["in_malaysia"].fill_null(False),
            _h=ibis.literal(self.as_of_us, type="int64"),
        )
        keys = ["_mo", "category", "surface", "detection_source", "_my"]

        # decisions: every row, by decider and action; open items and each clock's within / due summed
        c = _Compiler(self.engine, self._spec("actions"), t)
        sums = {"_open": t["_us_actioned_at"].isnull()}
        for i, clock in enumerate(self.clocks):
            within, due = clock_exprs(clock, col("category"), col("action") if clock.stop_actions else None)
            sums[f"_w{i}"], sums[f"_d{i}"] = c.bool(within), c.bool(due)
        q = t.mutate(**{k: v.cast("int64") for k, v in sums.items()})
        decisions = q.group_by([*keys, "decision_by", "action"]).aggregate(
            _n=q.count(), **{k: q[k].sum() for k in sums}
        )

        # time to action of enforced, actioned decisions, by bin
        enforced = self._decided(t) & ~t["action"].isin(["no_violation", OPEN_ACTION])
        done = t.filter(enforced & t["_us_actioned_at"].notnull())
        done = done.mutate(_bin=self._tta_bin(self._minutes(done)))
        tta = done.group_by([*keys, "_bin"]).aggregate(_n=done.count())

        queries = [decisions, tta]
        if "appeals" in self.engine.tables:
            a = self._with_appeal(t.filter(enforced))
            queries.append(a.group_by([*keys, "_st"]).aggregate(_n=a.count()))
        if "reports" in self.engine.tables:
            queries.append(self._reports_query(bounds))
        frames = self.engine.run(queries)

        d = frames[0]
        present = d["surface"].dropna().astype("string").unique()
        self.surfaces = surface_levels([str(s) for s in present], declared)
        M, K, S, D = n_months, len(CATEGORIES), len(self.surfaces), len(SOURCES)
        shape = (M, K, S, D, 2)

        def codes(df: pd.DataFrame) -> list[np.ndarray]:
            return [
                df["_mo"].fillna(-1).to_numpy(np.int64),
                arrays.codes(df["category"], CATEGORIES).astype(np.int64),
                arrays.codes(df["surface"], self.surfaces).astype(np.int64),
                arrays.codes(df["detection_source"], SOURCES).astype(np.int64),
                df["_my"].fillna(False).to_numpy(bool).astype(np.int64),
            ]

        dec = arrays.codes(d["decision_by"], DECIDERS).astype(np.int64)
        act = arrays.codes(d["action"], ACTIONS).astype(np.int64)
        rows = keyed(shape, codes(d), decision_valid(dec, act))
        weights = {"n": _ints(d["_n"]), "open": _ints(d["_open"])}
        for i, clock in enumerate(self.clocks):
            weights[f"within:{clock.ref_id}"], weights[f"due:{clock.ref_id}"] = _ints(d[f"_w{i}"]), _ints(d[f"_d{i}"])
        counts, open_, sla = action_cubes(rows, dec, act, weights, self.clocks)

        h = frames[1]
        tta_cube = scatter(keyed(shape, codes(h)), _ints(h["_n"]), _ints(h["_bin"]), N_TTA_BINS).astype(np.int32)
        rest = iter(frames[2:])
        appeals = None
        if "appeals" in self.engine.tables:
            ap = next(rest)
            appeals = scatter(keyed(shape, codes(ap)), _ints(ap["_n"]), _ints(ap["_st"]), len(APPEAL_STATES))
        reports = None
        if "reports" in self.engine.tables:
            r = next(rest)
            linked = r["_lk"].fillna(False).to_numpy(bool)
            surf = np.where(linked, arrays.codes(r["_ls"], self.surfaces), S)
            src = np.where(linked, arrays.codes(r["_lsrc"], SOURCES), D)
            r_codes = [
                r["_mo"].fillna(-1).to_numpy(np.int64),
                arrays.codes(r["category"], CATEGORIES).astype(np.int64),
                surf.astype(np.int64),
                src.astype(np.int64),
                r["_my"].fillna(False).to_numpy(bool).astype(np.int64),
            ]
            reports = scatter(keyed((M, K, S + 1, D + 1, 2), r_codes), _ints(r["_n"]))[..., 0]
        return self.surfaces, Cubes(counts, open_, tta_cube, sla, appeals, reports)

    def _reports_query(self, bounds: Sequence[int]) -> Any:
        """Reports by received month × category × linked action's surface and source × scope."""
        ibis = _ibis()
        reg = self.engine.tables["reports"]
        r = reg.table
        us = _Compiler(self.engine, Spec("explorer", Relation("reports"), "received_at", "category", None), r).instant(
            "received_at"
        )
        r = r.mutate(
            _mo=self._month(us, bounds),
            _my=r["in_malaysia"].fill_null(False) if "in_malaysia" in r.columns else ibis.literal(True),
        )
        if "action_id" in r.columns:
            a = self.reg.table
            linked = a.select(
                _rk_key=a["action_id"], _ls=a["surface"], _lsrc=a["detection_source"], _lk=ibis.literal(True)
            )
            r = r.left_join(linked, r["action_id"] == linked["_rk_key"]).drop("_rk_key")
        else:
            r = r.mutate(_ls=ibis.null("string"), _lsrc=ibis.null("string"), _lk=ibis.literal(False))
        return r.group_by(["_mo", "category", "_ls", "_lsrc", "_lk", "_my"]).aggregate(_n=r.count())

    # ------------------------------------------------------------------------------------------- drill-down

    def _selected(self, f: RowFilter) -> Any:
        """The actions matching a selection (the rows the in-process mask keeps)."""
        t = self._actions()
        us = t[f"_us_{self.cohort}"]
        lo, hi = f.span_us
        pred = (us >= lo) & (us < hi) & self._decided(t)
        pred &= t["category"].isin(list(CATEGORIES)).fill_null(False) & t["surface"].notnull()
        pred &= t["detection_source"].isin(list(SOURCES)).fill_null(False)
        for column, values in (("category", f.categories), ("surface", f.surfaces), ("detection_source", f.sources)):
            if values:
                pred &= t[column].isin(list(values)).fill_null(False)
        if f.scope == "malaysia":
            pred &= t["in_malaysia"].fill_null(False)
        return t.filter(pred)

    def count(self, f: RowFilter) -> int:
        """Actions matching a selection: one count query, cached per selection."""
        hit = self._counts.get(f.key)
        if hit is None:
            t = self._selected(f)
            hit = int(self.engine.run([t.aggregate(_n=t.count())])[0]["_n"].iloc[0])
            if len(self._counts) >= 16:
                self._counts.clear()
            self._counts[f.key] = hit
        return hit

    def _ordered(self, f: RowFilter, sort: str, ascending: bool) -> Any:
        """The matching rows with their minutes and appeal state, in display order: the sort column (missing values
        last), then ``action_id``."""
        ibis = _ibis()
        t = self._with_appeal(self._selected(f))
        t = t.mutate(_min=self._minutes(t))
        key = {
            "detected_at": t["_us_detected_at"],
            "actioned_at": t["_us_actioned_at"],
            "hours_to_action": t["_min"],
            "appeal": t["_st"],
        }.get(sort, t[sort] if sort in t.columns else None)
        if key is None:
            raise ValueError(f"cannot sort by {sort!r}: the actions have no such column")
        order = [key.isnull(), key if ascending else ibis.desc(key)]
        if sort != "action_id":
            order.append(t["action_id"])
        return t.order_by(order)

    def page(self, f: RowFilter, start: int, size: int, sort: str, ascending: bool) -> pd.DataFrame:
        """Rows ``start`` … ``start + size - 1`` of the selection in display order: one query with LIMIT/OFFSET."""
        from riskkit.explorer.model import rows_frame

        t = self._ordered(f, sort, ascending)
        wanted = ["action_id", *(f"_us_{c}" for c in _STAMPS), "category", "surface", "detection_source"]
        wanted += ["decision_by", "action", "in_malaysia", "_min", "_st"]
        table = self._slice(t.select(*wanted), max(start, 0), max(size, 0))
        a = _typed(table, {f"_us_{c}": c for c in _STAMPS})
        return rows_frame(a, _minutes_of(a), a["_st"].to_numpy(np.int64), full=False)

    def _slice(self, q: Any, start: int, size: int) -> Any:
        """Rows ``start`` … ``start + size - 1`` of an ordered query as an Arrow table: LIMIT/OFFSET in the engine.
        On Spark through its DataFrame (``offset``, Spark 3.4+): Ibis would emulate OFFSET with a row number."""
        try:
            if self.engine.backend == "pyspark":
                df = self.engine.con._session.sql(self.engine.con.compile(q)).offset(start).limit(size)
                return df.toArrow()
            return q.limit(size, offset=start).to_pyarrow()
        except Exception as exc:
            raise EngineError(
                f"the {self.engine.name} engine failed: {str(exc).strip().splitlines()[0][:300]}"
            ) from None

    def _full_columns(self) -> list[str]:
        return [c for c in self.reg.table.columns if not c.startswith("_")]

    def full_batches(
        self, f: RowFilter, sort: str, ascending: bool, rows: int = CSV_BATCH_ROWS
    ) -> Iterator[pd.DataFrame]:
        """Every matching row with every column (as the CSV export writes them), streamed in batches of about
        ``rows`` rows in display order."""
        from riskkit.explorer.model import rows_frame

        t = self._ordered(f, sort, ascending)
        stamps = {c for c in self.reg.wall_clock if c in self._full_columns()}
        select = {
            c: (t[f"_us_{c}"] if f"_us_{c}" in t.columns else self._instant(t, c)) if c in stamps else t[c]
            for c in self._full_columns()
        }
        q = t.select(**select, _rk_min=t["_min"], _rk_st=t["_st"])
        import pyarrow as pa

        try:
            for batch in self.engine.batches(q, rows):
                if batch.num_rows == 0:
                    continue
                a = _typed(pa.Table.from_batches([batch]), {c: c for c in stamps})
                minutes = a.pop("_rk_min").fillna(-1).to_numpy(np.int64)
                state = a.pop("_rk_st").fillna(0).to_numpy(np.int64)
                yield rows_frame(a, minutes, state, full=True)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(
                f"CSV export from the {self.engine.name} engine: {str(exc).splitlines()[0][:300]}"
            ) from None

    def _instant(self, t: Any, column: str) -> Any:
        return _Compiler(self.engine, self._spec("actions"), t).instant(column)

    def empty_frame(self) -> pd.DataFrame:
        """The CSV export's columns without rows."""
        return pd.DataFrame(columns=[*self._full_columns(), "hours_to_action", "appeal"])


def _ints(s: pd.Series) -> np.ndarray:
    return s.fillna(0).to_numpy(np.int64)


def _minutes_of(a: pd.DataFrame) -> np.ndarray:
    return a["_min"].fillna(-1).to_numpy(np.int64)


def _typed(table: Any, stamps: dict[str, str]) -> pd.DataFrame:
    """Fetched rows as the in-process frames type them: epoch-µs columns (``stamps``: fetched name -> contract
    name) as UTC instants, booleans and whole numbers nullable."""
    import pyarrow as pa

    columns = {}
    for name in table.column_names:
        arr = table.column(name)
        if name in stamps:
            arr = arr.cast(pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        columns[stamps.get(name, name)] = arr
    mapper = {pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}.get
    out = pa.table(columns).to_pandas(types_mapper=mapper)
    for name in stamps.values():
        out[name] = out[name].astype("datetime64[us, UTC]")
    return out
