"""The engine interpreter of :mod:`riskkit.engines.expr`: specs compiled through Ibis to DuckDB, Spark or a warehouse.

Per spec, one ``GROUP BY`` over scope × every period column × category × every level column, summing each
aggregate's condition (a cube of low-cardinality keys), and one ``GROUP BY`` per duration histogram over its bin —
so only partial aggregates (thousands of rows, whatever the table's size) come back to this process. Row values are
computed in stages (instants, periods and horizon, shared conditions), each once per row.

Timestamps are compared as integer microseconds since the epoch: each backend's own "epoch microseconds" function
(DuckDB ``epoch_us``, Spark ``unix_micros``, BigQuery ``UNIX_MICROS``) on the instant, and the cycle bounds are UTC
instants sent as integers — nothing depends on an engine's session time zone. Percentiles are never computed by
the engine: histograms come back and :mod:`riskkit.metrics` reads them.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.engines.core import Bins, Partial, Periods
from riskkit.engines.expr import ByLevel, Expr, Hist, JoinOne, Relation, Spec, Total
from riskkit.exceptions import EngineError

CATEGORIES = schema.HARM_CATEGORIES
K = len(CATEGORIES)
_names = itertools.count(1)
#: DuckDB's memory limit in this process (RISKKIT_DUCKDB_MEMORY_LIMIT overrides it); beyond it DuckDB spills to disk.
DUCKDB_MEMORY_LIMIT = "1GB"


def _ibis():
    try:
        import ibis
    except ImportError:  # pragma: no cover - the extra is part of the dev install
        raise EngineError("engines need Ibis: pip install 'riskkit[duckdb]' (or [spark])") from None
    return ibis


@dataclass
class Registered:
    """A contract table as the engine sees it: an Ibis table with contract column names, where it came from
    (how problems name it) and, for each timestamp column, the zone of a wall-clock column (None = an instant)."""

    table: Any
    label: str
    wall_clock: dict[str, str | None] = field(default_factory=dict)
    file: Path | None = None


class IbisEngine:
    """An Ibis backend with the pack's tables registered under their contract names."""

    def __init__(self, name: str, con: Any, backend: str) -> None:
        self.name = name  # duckdb | spark | the URL scheme of a warehouse
        self.con = con
        self.backend = backend  # Ibis backend name: duckdb, pyspark, bigquery, …
        self.tables: dict[str, Registered] = {}
        _ibis()
        from riskkit.engines import udfs

        self._epoch_us = udfs.EPOCH_US.get(backend)

    # ------------------------------------------------------------------------------------------- connections

    @classmethod
    def duckdb(cls, database: str | Path = ":memory:", **kwargs: Any) -> IbisEngine:
        ibis = _ibis()
        try:
            con = ibis.duckdb.connect(str(database), **kwargs)
        except Exception as exc:
            raise EngineError(f"cannot open DuckDB database {database}: {_first_line(exc)}") from None
        # bounded memory in this process: DuckDB spills hash tables (keys, references) to disk beyond the limit
        limit = os.environ.get("RISKKIT_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT)
        spill = Path(os.environ.get("RISKKIT_DUCKDB_TEMP", Path(tempfile.gettempdir()) / "riskkit-duckdb"))
        try:
            con.con.execute(f"SET memory_limit = '{limit}'").fetchall()
            con.con.execute(f"SET temp_directory = '{spill}'").fetchall()
            con.con.execute("SET preserve_insertion_order = false").fetchall()  # aggregates need no order
        except Exception as exc:
            raise EngineError(f"DuckDB settings (RISKKIT_DUCKDB_MEMORY_LIMIT={limit}): {_first_line(exc)}") from None
        return cls("duckdb", con, "duckdb")

    @classmethod
    def spark(cls, master: str | None = None, **conf: Any) -> IbisEngine:
        """Spark on ``master`` (default ``local[*]``); ``conf``: Spark settings (``spark.executor.memory`` …) for
        a new session, on top of the usual Spark configuration (spark-defaults.conf)."""
        from riskkit.engines.spark import session

        ibis = _ibis()
        return cls("spark", ibis.pyspark.connect(session(master, **conf)), "pyspark")

    # ------------------------------------------------------------------------------------------- registration

    def register_parquet(self, name: str, path: Path, label: str, timezone: str | None) -> Registered:
        """A Parquet file (or folder of files) read in place by the engine."""
        view = f"riskkit_{name}_{next(_names)}"
        try:
            table = self.con.read_parquet(str(path), table_name=view)
        except Exception as exc:
            raise EngineError(f"{label}: the {self.name} engine cannot read it: {_first_line(exc)}") from None
        reg = Registered(table, label, self.wall_clocks(table, view, name, timezone), file=path)
        self.tables[name] = reg
        return reg

    def register_frame(self, name: str, frame: pd.DataFrame, label: str) -> Registered:
        """A validated pandas frame uploaded into the engine (CSV tables, in-memory packs)."""
        arrow = _arrow(frame, schema.table(name))
        view = f"riskkit_{name}_{next(_names)}"
        try:
            if self.backend == "duckdb":  # a view over the Arrow table (no copy)
                self.con.con.register(view, arrow)
            elif self.backend == "pyspark":
                session = self.con._session
                frame = session.createDataFrame(arrow).cache()  # Arrow in; kept on the executors for every query
                frame.createOrReplaceTempView(view)
            else:
                raise EngineError(f"the {self.name} engine takes tables from the warehouse, not from files")
            table = self.con.table(view)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"{label}: cannot upload it to the {self.name} engine: {_first_line(exc)}") from None
        reg = Registered(table, label, dict.fromkeys(_timestamps(name, table.columns)))
        self.tables[name] = reg
        return reg

    def wall_clocks(self, table: Any, view: str | None, name: str, timezone: str | None) -> dict[str, str | None]:
        """For each timestamp column of the contract: None if the engine column is an instant, else the zone its
        wall-clock values are read in (datapack.yaml ``timezone``; "" when none is declared: an error to report)."""
        out: dict[str, str | None] = {}
        spark_types = None
        if self.backend == "pyspark" and view is not None:
            spark_types = {f.name: type(f.dataType).__name__ for f in self.con._session.table(view).schema.fields}
        for column in _timestamps(name, table.columns):
            dtype = table.schema()[column]
            if not dtype.is_timestamp():
                continue
            if spark_types is not None:
                instant = spark_types.get(column) == "TimestampType"
            else:
                instant = dtype.timezone is not None
            out[column] = None if instant else (timezone or "")
        return out

    # ------------------------------------------------------------------------------------------- bind a pack

    def bind(self, pack: Any, tables: Collection[str]) -> None:
        """Make ``tables`` of an in-memory pack available (uploaded once per engine)."""
        for name in tables:
            if name not in self.tables:
                if name not in pack.tables:
                    raise EngineError(f"the {self.name} engine has no `{name}` table for this pack")
                self.register_frame(name, pack.tables[name], f"{name} (in memory)")

    def columns(self, pack: Any) -> dict[str, list[str]]:
        own = {name: [c for c in reg.table.columns] for name, reg in self.tables.items()}
        if getattr(pack, "engine", None) is self:
            return own | {name: list(df.columns) for name, df in pack.tables.items() if name not in own}
        return {name: list(df.columns) for name, df in pack.tables.items()}

    def partials(self, pack: Any, specs: Mapping[str, Spec], periods: Periods, bins: Bins) -> dict[str, Partial]:
        needed = {t for spec in specs.values() for t in spec.table_columns()}
        if getattr(pack, "engine", None) is not self:  # a pack in memory: its tables are uploaded for this call
            self.tables = {}
        self.bind(pack, sorted(needed - set(self.tables)))
        parts = {name: Partial() for name in specs}
        jobs = [(name, job) for name, spec in specs.items() for job in self.jobs(spec, periods, bins)]
        frames = self.run([job.query for _, job in jobs])
        for (name, job), df in zip(jobs, frames, strict=True):
            job.read(df, parts[name])
        return parts

    def run(self, queries: list[Any]) -> list[pd.DataFrame]:
        """Execute the queries: one after the other on DuckDB (which parallelises each), several at once on Spark
        (whose per-query latency, not work, dominates for aggregated results)."""
        from concurrent.futures import ThreadPoolExecutor

        if self.backend == "duckdb" and len(queries) > 1:
            # compile the next query to SQL here while DuckDB (which releases the GIL) executes the previous one
            ibis = _ibis()
            with ThreadPoolExecutor(max_workers=1) as pool:
                futures = [pool.submit(self._execute_sql, str(ibis.to_sql(q, dialect="duckdb"))) for q in queries]
                return [f.result() for f in futures]
        if self.backend != "pyspark" or len(queries) < 2:
            return [self._fetch(q) for q in queries]
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(self._fetch, queries))

    def _execute_sql(self, sql: str) -> pd.DataFrame:
        try:
            return self.con.con.sql(sql).to_arrow_table().to_pandas()
        except Exception as exc:
            raise EngineError(f"the {self.name} engine failed: {_first_line(exc)}") from None

    def first_instant(self, name: str, column: str) -> pd.Timestamp | None:
        """The earliest instant of ``column`` in table ``name`` (UTC), None when the table or column is absent or
        every cell is empty: one aggregate query."""
        reg = self.tables.get(name)
        if reg is None or column not in reg.table.columns:
            return None
        us = self.epoch_us(reg.table[column], reg.wall_clock.get(column)).min().name("first_us")
        first = self._fetch(reg.table.aggregate(us))["first_us"].iloc[0]
        return None if pd.isna(first) else pd.Timestamp(int(first), unit="us", tz="UTC")

    def epoch_us(self, value: Any, zone: str | None) -> Any:
        """Microseconds since the epoch of an engine timestamp (``zone``: read a wall-clock column in it)."""
        if zone:
            value = self._instant(value, zone)
        if self._epoch_us is not None:
            return self._epoch_us(value)
        return (value.epoch_seconds() * 1_000_000).cast("int64")  # second precision on other backends

    def _instant(self, value: Any, zone: str) -> Any:
        from riskkit.engines import udfs

        if self.backend == "duckdb":
            return udfs.duckdb_in_zone(zone, value)
        if self.backend == "pyspark":  # session time zone is UTC (set by Ibis): wall clock in `zone` -> instant
            return udfs.spark_in_zone(value, zone)
        raise EngineError(f"{self.name}: timestamps without a time zone are not supported; store them as instants")

    def relation(self, rel: Relation, joins: tuple | None = None) -> Any:
        """The relation as an Ibis table: the contract table with its looked-up columns (``joins``: only those)
        joined on."""
        base = self.tables[rel.table].table
        for j in rel.joins if joins is None else joins:
            other = self.tables[j.table].table
            if isinstance(j, JoinOne):
                right = other.select(_rk_key=other[j.on], **{new: other[c] for new, c in j.columns.items()})
            else:
                right = other.group_by(_rk_key=other[j.on]).aggregate(**{j.name: other[j.column].min()})
            base = base.left_join(right, base[j.on] == right["_rk_key"]).drop("_rk_key")
        return base

    def jobs(self, spec: Spec, periods: Periods, bins: Bins) -> list[_Job]:
        """The queries of one spec, each with how its rows fold into the partial: one cube of every count and
        level over all its period columns, and one query per histogram (each joining only the lookups it reads).

        Row values are computed in stages, each once per row: the instants as integer microseconds, then the
        periods and the horizon, then every aggregate's condition as a column; the aggregate only sums."""
        ibis = _ibis()
        b0, b1, b2 = (int(x) for x in periods.bounds)
        whens = list(dict.fromkeys([spec.when, *(a.when for a in spec.aggregates.values() if a.when)]))
        period_of = {w: f"_p{i}" for i, w in enumerate(whens)}
        keys_read = set(whens) | ({spec.category} if spec.category else set())
        keys_read |= spec.malaysia.columns() if spec.malaysia is not None else set()
        prepared: dict[tuple, tuple[Any, _Compiler, dict]] = {}

        def joins_for(reads: set[str]) -> tuple:
            return tuple(j for j in spec.relation.joins if _outputs(j) & (reads | keys_read))

        cube = [(n, a) for n, a in spec.aggregates.items() if not isinstance(a, Hist)]
        hists = [(n, a) for n, a in spec.aggregates.items() if isinstance(a, Hist)]
        readers = [set().union(*(_reads(a) for _, a in cube))] if cube else []
        uses = Counter(joins_for(r) for r in readers + [_reads(a) for _, a in hists])

        def prepare(reads: set[str]) -> tuple[Any, _Compiler, dict]:
            joins = joins_for(reads)
            if joins in prepared:
                return prepared[joins]
            t = self.relation(spec.relation, joins)
            stamps = {}
            for name in sorted(spec.columns()):
                table, contract = spec.relation.kind(name)
                if name in t.columns and schema.table(table).column(contract).kind == "timestamp":
                    stamps[f"_us_{name}"] = _Compiler(self, spec, t).instant(name)
            t = t.mutate(**stamps)
            if self.backend == "duckdb" and uses[joins] > 1 and any(isinstance(j, JoinOne) for j in joins):
                # a lookup read by several queries (the appeals' decisions): joined once into a temporary table of
                # the looked-up table's size (spilled beyond DuckDB's memory limit), not scanning the actions twice;
                # one read by a single query (the reports' linked decisions) is joined in that query
                needed = [col for col in t.columns if col in spec.columns() or col in stamps]
                view = f"riskkit_joined_{next(_names)}"
                sql = ibis.to_sql(t.select(*needed), dialect="duckdb")
                self.con.con.execute(f'CREATE TEMP TABLE "{view}" AS {sql}').fetchall()
                t = self.con.table(view)

            def period(us: Any) -> Any:
                return ibis.cases(((us >= b0) & (us < b1), 0), ((us >= b1) & (us < b2), 1), else_=ibis.null("int8"))

            t = t.mutate(**{period_of[w]: period(t[f"_us_{w}"]) for w in whens})
            t = t.mutate(_h=ibis.cases((t[period_of[spec.when]] == 0, b1), else_=b2))
            c = _Compiler(self, spec, t)
            keys: dict[str, Any] = {}
            if spec.category is not None:
                keys["_c"] = t[spec.category]
            if spec.malaysia is not None:
                keys["_m"] = c.bool(spec.malaysia)
            prepared[joins] = (t, c, keys)
            return prepared[joins]

        out: list[_Job] = []
        if cube:
            t, c, keys = prepare(readers[0])
            out.append(self._cube(c, t, period_of, spec.when, keys, cube))
        for name, agg in hists:
            t, c, keys = prepare(_reads(agg))
            out.append(self._hist(c, t, period_of[agg.when or spec.when], keys, name, agg, bins))
        return out

    def _cube(self, c: _Compiler, t: Any, period_of: dict, main: str, keys: dict, aggs: list) -> _Job:
        ibis = _ibis()
        level_columns = list(dict.fromkeys(a.column for _, a in aggs if isinstance(a, ByLevel)))
        used = list(dict.fromkeys(period_of[a.when or main] for _, a in aggs))
        t, c = c.shared(t, [e for _, a in aggs for e in (a.mask, getattr(a, "value", None)) if e is not None])
        conditions: dict[str, Any] = {}
        value_of: dict[str, str] = {}
        seen: dict[tuple, str] = {}  # aggregates with the same condition are summed once
        for name, agg in aggs:
            key = ("total" if isinstance(agg, Total) else "count", id(agg.mask), id(getattr(agg, "value", None)))
            if key not in seen:
                seen[key] = f"_k{len(conditions)}"
                if isinstance(agg, Total):
                    conditions[seen[key]] = ibis.ifelse(c.bool(agg.mask), c.value(agg.value).fill_null(0), 0)
                else:
                    conditions[seen[key]] = c.bool(agg.mask).cast("int64")
            value_of[name] = seen[key]
        group = {p: t[p] for p in used} | keys | {f"_l{i}": t[col] for i, col in enumerate(level_columns)}
        q = t.mutate(**conditions, **{k: v for k, v in group.items() if k not in used})
        q = q.filter(ibis.or_(*[q[p].notnull() for p in used]))
        q = q.group_by(list(group)).aggregate(**{k: q[k].sum().cast("int64") for k in conditions})

        def read(df: pd.DataFrame, part: Partial) -> None:
            cat, mys = _category_codes(df), (df["_m"].fillna(False).to_numpy(bool) if "_m" in df.columns else None)
            for name, agg in aggs:
                per = df[period_of[agg.when or main]].fillna(-1).to_numpy(np.int64)
                values = df[value_of[name]].fillna(0).to_numpy(np.int64)
                if isinstance(agg, ByLevel):
                    raw = df[f"_l{level_columns.index(agg.column)}"].astype("string")
                    if agg.levels is not None:
                        codes = pd.Categorical(raw, categories=list(agg.levels)).codes.astype(np.int64)
                        part.arrays[name] = _scatter(per, cat, mys, values, codes, len(agg.levels))
                    else:
                        seen_levels = raw[(per >= 0) & (values >= 0)]
                        labels = sorted(set(seen_levels.dropna()))
                        codes = pd.Categorical(raw, categories=labels).codes.astype(np.int64)
                        arr = _scatter(per, cat, mys, values, codes, max(len(labels), 1))
                        part.labelled[name] = {str(level): arr[..., i] for i, level in enumerate(labels)}
                else:
                    part.arrays[name] = _scatter(per, cat, mys, values, None, 1)

        return _Job(q, read)

    def _hist(self, c: _Compiler, t: Any, p: str, keys: dict, name: str, agg: Hist, bins: Bins) -> _Job:
        ibis = _ibis()
        minutes = c.value(agg.minutes)
        coarse = ibis.least(bins.fine + (minutes - bins.fine + 59) // 60, bins.size - 1)
        group = {"_p": t[p]} | keys | {"_b": ibis.cases((minutes < bins.fine, minutes), else_=coarse)}
        q = t.filter(c.bool(agg.mask) & minutes.notnull() & t[p].notnull())
        q = q.mutate(**group).group_by(list(group)).aggregate(_n=ibis._.count())

        def read(df: pd.DataFrame, part: Partial) -> None:
            per, cat, mys = _keys(df)
            values, b = df["_n"].to_numpy(np.int64), df["_b"].to_numpy(np.int64)
            part.arrays[name] = _scatter(per, cat, mys, values, b, bins.size)

        return _Job(q, read)

    def batches(self, q: Any, rows: int) -> Any:
        """The query's rows as Arrow record batches of about ``rows`` rows, streamed (bounded memory)."""
        if self.backend == "duckdb":  # DuckDB's own reader (Ibis' batch reader calls an API DuckDB 2 removed)
            ibis = _ibis()
            return self.con.con.sql(ibis.to_sql(q, dialect="duckdb")).to_arrow_reader(rows)
        return q.to_pyarrow_batches(chunk_size=rows)

    def _fetch(self, q: Any) -> pd.DataFrame:
        try:
            return q.to_pyarrow().to_pandas()
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"the {self.name} engine failed: {_first_line(exc)}") from None


def _outputs(j: Any) -> set[str]:
    """The columns a lookup adds to its relation."""
    return set(j.columns) if isinstance(j, JoinOne) else {j.name}


def _reads(agg: Any) -> set[str]:
    """The relation columns one aggregate reads."""
    out = {agg.column} if isinstance(agg, ByLevel) else set()
    for e in (getattr(agg, "mask", None), getattr(agg, "minutes", None), getattr(agg, "value", None)):
        if e is not None:
            out |= e.columns()
    return out


@dataclass
class _Job:
    """One query and how its (aggregated) rows fold into a partial."""

    query: Any
    read: Any  # (DataFrame, Partial) -> None


def _keys(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Period, category code and Malaysian scope of each aggregated row."""
    mys = df["_m"].fillna(False).to_numpy(bool) if "_m" in df.columns else None
    return df["_p"].to_numpy(np.int64), _category_codes(df), mys


class _Compiler:
    """Compiles row expressions against one relation (nulls in comparisons read as false, as in-process)."""

    def __init__(self, engine: IbisEngine, spec: Spec, table: Any) -> None:
        self.engine, self.spec, self.t = engine, spec, table
        self._named: dict[int, str] = {}  # shared sub-expressions already computed as columns of ``t``
        self._cols: dict[str, Any] = {}

    def instant(self, name: str) -> Any:
        """A timestamp column as integer microseconds since the epoch (read in datapack.yaml's zone if it is a
        wall clock)."""
        table, contract = self.spec.relation.kind(name)
        zone = self.engine.tables[table].wall_clock.get(contract)
        if zone == "":
            raise EngineError(
                f"{self.engine.tables[table].label}: column {contract} has no time zone; declare "
                "`timezone:` in datapack.yaml or store instants"
            )
        return self.engine.epoch_us(self.t[name], zone)

    def column(self, name: str) -> Any:
        if name not in self._cols:
            stamp = f"_us_{name}"
            self._cols[name] = self.t[stamp] if stamp in self.t.columns else self.t[name]
        return self._cols[name]

    def bool(self, e: Expr) -> Any:
        ibis = _ibis()
        if e.op == "lit":
            return ibis.literal(bool(e.data))
        return self.value(e)

    def shared(self, t: Any, exprs: list[Expr]) -> tuple[Any, _Compiler]:
        """Sub-expressions several conditions share (``enforced``, ``done`` …: the same objects) computed once per
        row, as columns of a stage of their own, innermost first; returns that table and a compiler reading it."""
        from collections import Counter

        uses: Counter = Counter()
        nodes: dict[int, tuple[Expr, int]] = {}

        def visit(e: Expr, depth: int = 0) -> int:
            uses[id(e)] += 1
            height = 1 + max((visit(a) for a in e.args), default=0)
            nodes[id(e)] = (e, height)
            return height

        for e in exprs:
            visit(e)
        common = [(h, e) for key, (e, h) in nodes.items() if uses[key] > 1 and e.op not in ("col", "lit", "horizon")]
        number = {id(e): f"_s{i}" for i, (_, e) in enumerate(common)}  # stable names: the same SQL every run
        out = _Compiler(self.engine, self.spec, t)
        out._cols = {}
        for height in sorted({h for h, _ in common}):
            stage = {number[id(e)]: out.value(e) for h, e in common if h == height}
            t = t.mutate(**stage)
            named = dict(out._named)
            out = _Compiler(self.engine, self.spec, t)
            out._named = named | {id(e): number[id(e)] for h, e in common if h == height}
        return t, out

    def value(self, e: Expr) -> Any:
        name = self._named.get(id(e))
        if name is not None:
            return self.t[name]
        return self._value(e)

    def _value(self, e: Expr) -> Any:
        ibis = _ibis()
        op = e.op
        if op == "col":
            return self.column(e.data)
        if op == "lit":
            return ibis.literal(e.data)
        if op == "horizon":
            return self.t["_h"]
        if op == "and":
            return self.bool(e.args[0]) & self.bool(e.args[1])
        if op == "or":
            return self.bool(e.args[0]) | self.bool(e.args[1])
        if op == "not":
            return ~self.bool(e.args[0])
        if op in ("lt", "le", "gt", "ge", "eq", "ne"):
            a, b = self.value(e.args[0]), self._operand(e.args[1])
            out = {
                "lt": a < b,
                "le": a <= b,
                "gt": a > b,
                "ge": a >= b,
                "eq": a == b,
                "ne": a != b,
            }[op]
            return out.fill_null(False)
        if op == "isin":
            return self.value(e.args[0]).isin(list(e.data)).fill_null(False)
        if op == "notnull":
            return self.value(e.args[0]).notnull()
        if op == "isnull":
            return self.value(e.args[0]).isnull()
        if op == "present":
            v = self.value(e.args[0])
            return (v.notnull() & (v.cast("string").length() > 0)).fill_null(False)
        if op == "fill":
            return self.value(e.args[0]).fill_null(e.args[1].data)
        if op == "add":
            return self.value(e.args[0]) + self._operand(e.args[1])
        if op == "minutes":
            start, stop = self.value(e.args[0]), self.value(e.args[1])
            return (ibis.greatest(stop - start, 0) + 59_999_999) // 60_000_000
        raise EngineError(f"unknown expression {op!r}")

    def _operand(self, e: Expr) -> Any:
        return e.data if e.op == "lit" else self.value(e)


def _timestamps(name: str, columns: Collection[str]) -> list[str]:
    table = schema.table(name)
    return [c.name for c in table.columns if c.kind == "timestamp" and c.name in columns]


def _category_codes(df: pd.DataFrame) -> np.ndarray:
    if "_c" not in df.columns:
        return np.zeros(len(df), dtype=np.int64)
    return pd.Categorical(df["_c"].astype("string"), categories=list(CATEGORIES)).codes.astype(np.int64)


def _scatter(
    period: np.ndarray,
    category: np.ndarray,
    malaysia: np.ndarray | None,
    values: np.ndarray,
    level: np.ndarray | None,
    levels: int,
) -> np.ndarray:
    """Engine rows -> the in-process layout (scope, period, K, levels), summed exactly in int64."""
    ok = (period >= 0) & (period <= 1) & (category >= 0)
    if level is not None:
        ok &= level >= 0
    idx = (period * K + category) * levels + (0 if level is None else level)
    size = 2 * K * levels
    # summed in int64 (exact), straight into the dense layout: a histogram's layout has millions of cells but the
    # engine returns only the non-empty ones, so no dense float buffer is built and converted
    sel = ok if malaysia is None else ok & malaysia
    out = np.zeros(2 * size, dtype=np.int64)
    np.add.at(out, idx[sel], values[sel])  # scope 0 (Malaysia)
    np.add.at(out, idx[ok] + size, values[ok])  # scope 1 (global)
    return out.reshape(2, 2, K, levels)


def _arrow(frame: pd.DataFrame, table: schema.Table) -> Any:
    """A validated frame as an Arrow table of plain types (enums and text as strings, instants in UTC)."""
    import pyarrow as pa

    columns, names = [], []
    for column in table.columns:
        if column.name not in frame.columns or column.kind == "list":
            continue
        s = frame[column.name]
        if column.kind == "timestamp":
            arr = pa.array(pd.to_datetime(s, utc=True).dt.as_unit("us"), type=pa.timestamp("us", tz="UTC"))
        elif column.kind == "bool":
            arr = pa.array(s.astype("boolean"), type=pa.bool_(), from_pandas=True)
        elif column.kind == "int":
            arr = pa.array(s.astype("Int64"), type=pa.int64(), from_pandas=True)
        elif column.kind == "float":
            arr = pa.array(s.astype("float64"), type=pa.float64(), from_pandas=True)
        elif column.kind == "month":
            arr = pa.array(s.astype("string"), type=pa.string(), from_pandas=True)
        elif column.kind == "date":
            arr = pa.array(pd.to_datetime(s).dt.date, type=pa.date32(), from_pandas=True)
        else:
            arr = pa.array(s.astype("string"), type=pa.string(), from_pandas=True)
        columns.append(arr)
        names.append(column.name)
    return pa.table(columns, names=names)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
