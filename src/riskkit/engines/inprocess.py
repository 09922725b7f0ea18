"""The in-process interpreter of :mod:`riskkit.engines.expr`: NumPy over a validated pack's pandas frames.

This is the reference engine (and the default): vectorised, chunked so temporaries stay bounded, and the one every
other engine is tested against.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.engines.core import Bins, Partial, Periods
from riskkit.engines.expr import ByLevel, Count, Expr, FirstOf, Hist, JoinOne, Spec, Total

CATEGORIES = schema.HARM_CATEGORIES
K = len(CATEGORIES)
CHUNK_ROWS = 1_000_000  # bounds the temporaries of one aggregation pass


class Groups:
    """Row keys (period × category) with a Malaysian-scope mask; counts land in arrays of (scope, period, K, ...)."""

    def __init__(self, period: np.ndarray, category: np.ndarray, malaysia: np.ndarray | None) -> None:
        self.valid = (period >= 0) & (category >= 0)
        self.g = period.astype(np.int64) * K + category.astype(np.int64)
        self.malaysia = np.ones(len(period), dtype=bool) if malaysia is None else malaysia

    def count(
        self,
        mask: np.ndarray | None = None,
        level: np.ndarray | None = None,
        levels: int = 1,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        sel = self.valid if mask is None else self.valid & mask
        idx = self.g[sel] * levels + (0 if level is None else level[sel].astype(np.int64))
        size = 2 * K * levels
        mys = self.malaysia[sel]
        both = np.concatenate([idx[mys], idx + size])  # scope 0 (Malaysia) then scope 1 (global): one pass
        if weights is None:
            out = np.bincount(both, minlength=2 * size)
        else:  # whole numbers summed exactly (int64), never through floats
            w = weights[sel]
            out = np.zeros(2 * size, dtype=np.int64)
            np.add.at(out, both, np.concatenate([w[mys], w]))
        return out.reshape(2, 2, K, levels)

    def hist(self, minutes: np.ndarray, mask: np.ndarray, layout: Bins) -> np.ndarray:
        """Duration histogram per (scope, period, category) in the layout's bins."""
        return self.count(mask, layout.index(minutes), layout.size)


# ------------------------------------------------------------------------------------------------ values


@dataclass
class V:
    """An evaluated expression: values, which of them are present (None = all), and how to read them."""

    v: Any  # np.ndarray, a pandas Series (text) or a scalar (literal)
    ok: np.ndarray | None
    kind: str  # ts | bool | code | num | text | lit
    levels: tuple[str, ...] | None = None

    def present(self, n: int) -> np.ndarray:
        return np.ones(n, dtype=bool) if self.ok is None else self.ok


def _and(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a & b


class Rows:
    """One chunk of a relation: evaluates expressions against its columns (looked-up columns included)."""

    def __init__(self, spec: Spec, frames: Mapping[str, pd.DataFrame], rows: slice, lookups: dict, periods: Periods):
        self.spec, self.frames, self.rows, self.lookups = spec, frames, rows, lookups
        base = frames[spec.relation.table]
        self.df = base.iloc[rows]
        self.n = len(self.df)
        self._cache: dict[str, V] = {}
        self._memo: dict[int, tuple[Expr, V]] = {}
        when = self.column(spec.when)
        self.period = periods.index(np.where(when.present(self.n), when.v, arrays.NAT))
        self.horizon = periods.horizon(self.period)
        self.periods = periods

    def column(self, name: str) -> V:
        if name not in self._cache:
            self._cache[name] = self._column(name)
        return self._cache[name]

    def _column(self, name: str) -> V:
        rel = self.spec.relation
        for j in rel.joins:
            if isinstance(j, FirstOf) and name == j.name:
                values = self.lookups[j][self.rows]
                ok = values != arrays.NAT
                return V(values, ok, "ts")
            if isinstance(j, JoinOne) and name in j.columns:
                pos = self.lookups[j][self.rows]
                if (j, name) not in self.lookups:  # the looked-up table's column, read once for every chunk
                    other = j.columns[name]
                    self.lookups[(j, name)] = _read(self.frames[j.table][other], schema.table(j.table).column(other))
                full = self.lookups[(j, name)]
                hit = pos >= 0
                safe = np.where(hit, pos, 0)
                if isinstance(full.v, pd.Series):
                    values = full.v.iloc[safe].reset_index(drop=True).where(hit)
                else:
                    values = full.v[safe] if len(full.v) else np.zeros(len(safe), dtype=full.v.dtype)
                ok = hit if full.ok is None else hit & (full.ok[safe] if len(full.ok) else False)
                return V(values, ok, full.kind, full.levels)
        return _read(self.df[name], schema.table(rel.table).column(name))

    def eval(self, e: Expr) -> V:
        """The expression's values on this chunk; a sub-expression shared by several aggregates (the same object,
        e.g. ``enforced``) is evaluated once."""
        hit = self._memo.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        value = self._eval(e)
        self._memo[id(e)] = (e, value)
        return value

    def _eval(self, e: Expr) -> V:
        op = e.op
        if op == "col":
            return self.column(e.data)
        if op == "lit":
            return V(e.data, None, "lit")
        if op == "horizon":
            return V(self.horizon, None, "ts")
        if op in ("and", "or"):
            a, b = (self._bool(x) for x in e.args)
            return V(a & b if op == "and" else a | b, None, "bool")
        if op == "not":
            return V(~self._bool(e.args[0]), None, "bool")
        if op in ("lt", "le", "gt", "ge", "eq", "ne"):
            a, b = (self.eval(x) for x in e.args)
            x, y = _comparable(a, b), _comparable(b, a)
            res = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}.get(op)
            out = res(x, y) if res else (np.equal(x, y) if op == "eq" else np.not_equal(x, y))
            out = np.broadcast_to(out, (self.n,)) & self._ok(_and(a.ok, b.ok))
            return V(np.asarray(out, dtype=bool), None, "bool")
        if op == "isin":
            a = self.eval(e.args[0])
            if a.kind == "code":  # a lookup table over the levels (code -1, empty, reads the last slot: False)
                lut = np.zeros(len(a.levels or ()) + 1, dtype=bool)
                lut[[a.levels.index(x) for x in e.data if a.levels and x in a.levels]] = True
                out = lut[a.v]
            elif a.kind == "text":
                out = arrays.isin(a.v, [str(x) for x in e.data])
            else:
                out = np.isin(a.v, list(e.data)) & self._ok(a.ok)
            return V(out, None, "bool")
        if op in ("notnull", "isnull"):
            a = self.eval(e.args[0])
            ok = self._ok(a.ok)
            return V(ok if op == "notnull" else ~ok, None, "bool")
        if op == "present":
            a = self.eval(e.args[0])
            if a.kind == "text":
                return V(~arrays.is_empty(a.v), None, "bool")
            return V(self._ok(a.ok), None, "bool")
        if op == "fill":
            a, b = (self.eval(x) for x in e.args)
            if a.ok is None:
                return a
            return V(np.where(a.ok, a.v, b.v), None, "bool" if a.kind == "bool" else a.kind, a.levels)
        if op == "add":
            a, b = (self.eval(x) for x in e.args)
            return V(a.v + b.v, _and(a.ok, b.ok), a.kind if a.kind != "lit" else b.kind)
        if op == "minutes":
            a, b = (self.eval(x) for x in e.args)
            ok = self._ok(_and(a.ok, b.ok))
            start = np.where(ok, a.v, 0)
            return V(arrays.minutes_between(start, np.where(ok, b.v, start)), ok, "num")
        raise ValueError(f"unknown expression {op!r}")

    def _ok(self, ok: np.ndarray | None) -> np.ndarray:
        return np.ones(self.n, dtype=bool) if ok is None else ok

    def _bool(self, e: Expr) -> np.ndarray:
        a = self.eval(e)
        if a.kind == "lit":
            return np.full(self.n, bool(a.v))
        values = np.asarray(a.v, dtype=bool)
        return values if a.ok is None else values & a.ok

    def factorized(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Codes (-1 = empty) and distinct values of a free-text column, once per chunk."""
        key = f"factorized:{name}"
        if key not in self._cache:
            codes, levels = pd.factorize(self.column(name).v, use_na_sentinel=True)
            self._cache[key] = V(codes, None, "code", tuple(str(x) for x in levels))
        v = self._cache[key]
        return v.v, list(v.levels or ())


def _comparable(a: V, other: V) -> Any:
    """Values of ``a`` as ``other`` compares them: a text literal against an enum column becomes its code."""
    if a.kind == "lit" and other.kind == "code" and isinstance(a.v, str):
        return other.levels.index(a.v) if other.levels and a.v in other.levels else -2
    if a.kind == "text":
        return a.v.to_numpy(dtype=object)
    return a.v


def _read(series: pd.Series, column: schema.Column) -> V:
    """A typed column as the interpreter reads it."""
    if column.kind == "timestamp":
        values = arrays.timestamps_us(series)
        return V(values, values != arrays.NAT, "ts")
    if column.kind == "enum":
        codes = arrays.codes(series, column.enum or ())
        return V(codes, codes >= 0, "code", tuple(column.enum or ()))
    if column.kind == "bool":
        ok = series.notna().to_numpy(bool)
        return V(series.fillna(False).to_numpy(bool), ok, "bool")
    if column.kind in ("int", "float"):
        ok = series.notna().to_numpy(bool)
        return V(series.fillna(0).to_numpy(np.int64 if column.kind == "int" else np.float64), ok, "num")
    return V(series.reset_index(drop=True), series.notna().to_numpy(bool), "text")


# ------------------------------------------------------------------------------------------------ partials


def _lookups(spec: Spec, frames: Mapping[str, pd.DataFrame], shared: dict) -> dict:
    """Row positions of each join, computed once per call of :func:`partials` (``shared``): hashing ids is the
    expensive part, and the appeals' lookup of their actions serves both the appeals and the appeal rate."""
    base = frames[spec.relation.table]

    def lookup(keys: tuple[str, str], probes: tuple[str, str]) -> np.ndarray:
        if (keys, probes) not in shared:
            shared[(keys, probes)] = arrays.lookup(frames[keys[0]][keys[1]], frames[probes[0]][probes[1]])
        return shared[(keys, probes)]

    out: dict = {}
    for j in spec.relation.joins:
        if isinstance(j, JoinOne):
            out[j] = lookup((j.table, j.on), (spec.relation.table, j.on))
        else:  # FirstOf: earliest referring row per row of the base
            other = frames[j.table]
            pos = lookup((spec.relation.table, j.on), (j.table, j.on))
            when = arrays.timestamps_us(other[j.column])
            ok = (pos >= 0) & (when != arrays.NAT)
            first = np.full(len(base), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, pos[ok], when[ok])
            first[first == np.iinfo(np.int64).max] = arrays.NAT
            out[j] = first
    return out


def chunks(n: int, rows: int = CHUNK_ROWS) -> Iterator[slice]:
    for start in range(0, max(n, 1), rows):
        yield slice(start, start + rows)


def partials(
    specs: Mapping[str, Spec], frames: Mapping[str, pd.DataFrame], periods: Periods, bins: Bins
) -> dict[str, Partial]:
    """Every spec's partial aggregates over validated frames."""
    shared: dict = {}
    return {name: partial(spec, frames, periods, bins, shared) for name, spec in specs.items()}


def partial(
    spec: Spec, frames: Mapping[str, pd.DataFrame], periods: Periods, bins: Bins, shared: dict | None = None
) -> Partial:
    """The spec's partial aggregates over validated frames, summed chunk by chunk."""
    lookups = _lookups(spec, frames, {} if shared is None else shared)
    total = Partial()
    for rows in chunks(len(frames[spec.relation.table])):
        total.add_(_chunk(spec, frames, rows, lookups, periods, bins))
    return total


def _chunk(spec: Spec, frames, rows: slice, lookups: dict, periods: Periods, bins: Bins) -> Partial:
    r = Rows(spec, frames, rows, lookups, periods)
    if spec.category is None:
        category = np.zeros(r.n, dtype=np.int64)
    else:
        c = r.column(spec.category)
        category = np.where(r._ok(c.ok), c.v, -1)
    malaysia = None if spec.malaysia is None else r._bool(spec.malaysia)
    groups: dict[str | None, Groups] = {}

    def grouped(when: str | None) -> Groups:
        if when not in groups:
            if when is None or when == spec.when:
                period = r.period
            else:
                ts = r.column(when)
                period = periods.index(np.where(ts.present(r.n), ts.v, arrays.NAT))
            groups[when] = Groups(period, category, malaysia)
        return groups[when]

    p = Partial()
    for name, agg in spec.aggregates.items():
        g = grouped(agg.when)
        if isinstance(agg, Count):
            p.arrays[name] = g.count(r._bool(agg.mask))
        elif isinstance(agg, Total):
            v = r.eval(agg.value)
            weights = np.where(r._ok(v.ok), v.v, 0).astype(np.int64)
            p.arrays[name] = g.count(r._bool(agg.mask), weights=weights)
        elif isinstance(agg, Hist):
            m = r.eval(agg.minutes)
            mask = r._bool(agg.mask) & r._ok(m.ok)
            p.arrays[name] = g.hist(np.where(mask, m.v, 0), mask, bins)
        elif isinstance(agg, ByLevel):
            mask = r._bool(agg.mask)
            if agg.levels is not None:
                v = r.column(agg.column)
                codes = v.v if v.kind == "code" else arrays.codes(v.v, agg.levels)
                ok = codes >= 0
                p.arrays[name] = g.count(mask & ok, np.maximum(codes, 0), len(agg.levels))
            else:
                codes, levels = r.factorized(agg.column)
                counts = g.count(mask & (codes >= 0), np.maximum(codes, 0), max(len(levels), 1))
                p.labelled[name] = {level: counts[..., i] for i, level in enumerate(levels)}
    return p
