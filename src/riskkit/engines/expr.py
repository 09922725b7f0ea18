"""A small, engine-neutral language for the partial aggregates: row expressions and what is summed over them.

The metrics are built from sums — counts of rows that satisfy a condition, split by scope × period × category
(× a level), and fixed-width duration histograms — so one declarative definition (:class:`Spec`) can be run by two
interpreters: :mod:`riskkit.engines.inprocess` (NumPy over pandas frames, the reference) and
:mod:`riskkit.engines.ibis_engine` (compiled through Ibis to DuckDB, Spark or a warehouse). Only the partials come
back from an engine; :mod:`riskkit.metrics` finalises them once for every engine.

Semantics both interpreters implement (so their partials are equal, not merely close):

* a timestamp is an integer number of microseconds since the epoch (UTC); cycle bounds are UTC instants;
* every comparison or membership test with an empty (null) operand is **false** (SQL's ``COALESCE(…, FALSE)``),
  so ``&``, ``|`` and ``~`` only ever see true or false;
* :meth:`Expr.minutes_until` is the duration rounded up to whole minutes, negative durations clipped to 0;
* an enum value outside the contract's levels counts as empty (validated packs have none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_BOOL_OPS = frozenset({"and", "or", "not", "lt", "le", "gt", "ge", "eq", "ne", "isin", "notnull", "isnull", "present"})


class Expr:
    """A row expression. Build with :func:`col`, :func:`lit`, operators and the methods below."""

    __slots__ = ("args", "data", "op")
    __hash__ = object.__hash__

    def __init__(self, op: str, args: tuple[Expr, ...] = (), data: Any = None) -> None:
        self.op, self.args, self.data = op, args, data

    # boolean algebra (operands are never null)
    def __and__(self, other: Expr) -> Expr:
        return Expr("and", (self, _wrap(other)))

    def __or__(self, other: Expr) -> Expr:
        return Expr("or", (self, _wrap(other)))

    def __invert__(self) -> Expr:
        return Expr("not", (self,))

    # comparisons: false when either side is empty
    def __lt__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("lt", (self, _wrap(other)))

    def __le__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("le", (self, _wrap(other)))

    def __gt__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("gt", (self, _wrap(other)))

    def __ge__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("ge", (self, _wrap(other)))

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("eq", (self, _wrap(other)))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        return Expr("ne", (self, _wrap(other)))

    # integer arithmetic on microseconds (empty in, empty out)
    def __add__(self, other: Any) -> Expr:
        return Expr("add", (self, _wrap(other)))

    def isin(self, values: Iterable[Any]) -> Expr:
        """True when the value is one of ``values`` (false when empty)."""
        return Expr("isin", (self,), tuple(values))

    def notnull(self) -> Expr:
        return Expr("notnull", (self,))

    def isnull(self) -> Expr:
        return Expr("isnull", (self,))

    def present(self) -> Expr:
        """Text that is neither empty nor the empty string (record-keeping fields)."""
        return Expr("present", (self,))

    def fill(self, value: Any) -> Expr:
        """The value, or ``value`` where it is empty (e.g. ``in_malaysia`` empty = not in scope)."""
        return Expr("fill", (self, _wrap(value)))

    def minutes_until(self, stop: Expr) -> Expr:
        """Whole minutes from this timestamp to ``stop``, rounded up, negative clipped to 0 (empty if either is)."""
        return Expr("minutes", (self, stop))

    @property
    def is_bool(self) -> bool:
        return self.op in _BOOL_OPS or (self.op == "lit" and isinstance(self.data, bool))

    def columns(self) -> set[str]:
        """Every column this expression reads."""
        out = {self.data} if self.op == "col" else set()
        for a in self.args:
            out |= a.columns()
        return out

    def __repr__(self) -> str:
        if self.op == "col":
            return str(self.data)
        if self.op == "lit":
            return repr(self.data)
        if self.op in ("horizon",):
            return "HORIZON"
        inner = ", ".join(map(repr, self.args))
        return f"{self.op}({inner}{', ' + repr(self.data) if self.data is not None else ''})"


def col(name: str) -> Expr:
    """A column of the relation, by its contract name (joined columns: the name the join gave them)."""
    return Expr("col", (), name)


def lit(value: Any) -> Expr:
    return Expr("lit", (), value)


def _wrap(value: Any) -> Expr:
    return value if isinstance(value, Expr) else lit(value)


TRUE = lit(True)
#: The end of the row's cycle (exclusive, µs): outcomes are judged there. Rows outside both cycles are never counted.
HORIZON = Expr("horizon")


# ------------------------------------------------------------------------------------------------ relations


@dataclass(frozen=True, eq=False)  # hashed by identity (``columns`` is a mapping)
class JoinOne:
    """Columns of another table looked up by key (the other table's key is unique): ``{new name: its column}``.
    Rows without a match get empty values."""

    table: str
    on: str
    columns: Mapping[str, str]


@dataclass(frozen=True)
class FirstOf:
    """The earliest ``column`` of the rows of ``table`` that refer to this row through ``on`` (empty if none)."""

    table: str
    on: str
    column: str
    name: str


@dataclass(frozen=True)
class Relation:
    """A contract table, optionally with looked-up columns."""

    table: str
    joins: tuple[JoinOne | FirstOf, ...] = ()

    def kind(self, column: str) -> tuple[str, str]:
        """(table, contract column) a column of this relation comes from."""
        for j in self.joins:
            if isinstance(j, JoinOne) and column in j.columns:
                return j.table, j.columns[column]
            if isinstance(j, FirstOf) and column == j.name:
                return j.table, j.column
        return self.table, column


# ------------------------------------------------------------------------------------------------ aggregates


@dataclass(frozen=True)
class Count:
    """Rows where ``mask`` holds, per scope × period × category. ``when`` overrides the spec's period column."""

    mask: Expr = TRUE
    when: str | None = None


@dataclass(frozen=True)
class ByLevel:
    """Rows where ``mask`` holds, per scope × period × category × level of ``column``: the contract's ``levels``
    (an enum), or — ``levels=None`` — every distinct non-empty text (a free-text dimension such as surface)."""

    column: str
    levels: tuple[str, ...] | None
    mask: Expr = TRUE
    when: str | None = None


@dataclass(frozen=True)
class Hist:
    """Duration histogram (the registry's fixed-width bins) of ``minutes`` over rows where ``mask`` holds."""

    minutes: Expr
    mask: Expr
    when: str | None = None


@dataclass(frozen=True)
class Total:
    """Sum of a whole-number column (empty = 0) over rows where ``mask`` holds."""

    value: Expr
    mask: Expr = TRUE
    when: str | None = None


Aggregate = Count | ByLevel | Hist | Total


@dataclass(frozen=True)
class Spec:
    """The partial aggregates of one relation.

    ``when``: the timestamp column that puts a row in the previous or the current cycle (and gives
    :data:`HORIZON`); ``category``: the harm-category column (None = every row in the first category slot, for
    tables without one); ``malaysia``: the Malaysian-scope condition (None = every row is in both scopes).
    """

    name: str
    relation: Relation
    when: str
    category: str | None
    malaysia: Expr | None
    aggregates: dict[str, Aggregate] = field(default_factory=dict)

    def columns(self) -> set[str]:
        """Every relation column the spec reads."""
        out = {self.when} | ({self.category} if self.category else set())
        if self.malaysia is not None:
            out |= self.malaysia.columns()
        for agg in self.aggregates.values():
            if agg.when:
                out.add(agg.when)
            if isinstance(agg, ByLevel):
                out.add(agg.column)
            for e in _exprs(agg):
                out |= e.columns()
        return out

    def table_columns(self) -> dict[str, set[str]]:
        """Contract columns read per table (joins included): what a lean load or an engine query needs."""
        out: dict[str, set[str]] = {self.relation.table: set()}
        for c in self.columns():
            table, name = self.relation.kind(c)
            out.setdefault(table, set()).add(name)
        for j in self.relation.joins:
            out[self.relation.table].add(j.on)
            out.setdefault(j.table, set()).add(j.on if isinstance(j, FirstOf) else _key(j))
        return out


def _key(j: JoinOne) -> str:
    return j.on


def _exprs(agg: Aggregate) -> list[Expr]:
    if isinstance(agg, Hist):
        return [agg.minutes, agg.mask]
    if isinstance(agg, Total):
        return [agg.value, agg.mask]
    return [agg.mask]
