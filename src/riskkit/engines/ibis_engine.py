"""The engine interpreter of :mod:`riskkit.engines.expr`: specs compiled through Ibis to DuckDB, Spark or a warehouse.

Per spec and period column, one ``GROUP BY`` over scope × period × category × every level column, summing each
aggregate's condition (a cube of low-cardinality keys), and one ``GROUP BY`` per duration histogram over its bin —
so only partial aggregates (thousands of rows, whatever the table's size) come back to this process.

Timestamps are compared as integer microseconds since the epoch: each backend's own "epoch microseconds" function
(DuckDB ``epoch_us``, Spark ``unix_micros``, BigQuery ``UNIX_MICROS``) on the instant, and the cycle bounds are UTC
instants sent as integers — nothing depends on an engine's session time zone. Percentiles are never computed by
the engine: histograms come back and :mod:`riskkit.metrics` reads them.
"""

from __future__ import annotations

import itertools
import os
import tempfile
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

    def register(self, name: str, table: Any, label: str, wall_clock: Mapping[str, str | None] | None = None) -> None:
        self.tables[name] = Registered(table, label, dict(wall_clock or {}))

    def register_parquet(self, name: str, path: Path, label: str, timezone: str | None) -> Registered:
        """A Parquet file (or folder of files) read in place by the engine."""
        view = f"riskkit_{name}_{next(_names)}"
        try:
            if self.backend == "duckdb":
                table = self.con.read_parquet(str(path), table_name=view)
            else:
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
        if self.backend != "pyspark" or len(queries) < 2:
            return [self._fetch(q) for q in queries]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(self._fetch, queries))

    def partial(self, spec: Spec, periods: Periods, bins: Bins) -> Partial:
        """One spec's partial aggregates (its tables registered)."""
        part = Partial()
        jobs = self.jobs(spec, periods, bins)
        for job, df in zip(jobs, self.run([j.query for j in jobs]), strict=True):
            job.read(df, part)
        return part

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

    def relation(self, rel: Relation) -> Any:
        """The relation as an Ibis table: the contract table with its looked-up columns joined on."""
        base = self.tables[rel.table].table
        for j in rel.joins:
            other = self.tables[j.table].table
            if isinstance(j, JoinOne):
                right = other.select(_rk_key=other[j.on], **{new: other[c] for new, c in j.columns.items()})
            else:
                right = other.group_by(_rk_key=other[j.on]).aggregate(**{j.name: other[j.column].min()})
            base = base.left_join(right, base[j.on] == right["_rk_key"]).drop("_rk_key")
        return base

    def jobs(self, spec: Spec, periods: Periods, bins: Bins) -> list[_Job]:
        """The queries of one spec, each with how its rows fold into the partial."""
        ibis = _ibis()
        t = self.relation(spec.relation)
        c = _Compiler(self, spec, t)
        b0, b1, b2 = (int(x) for x in periods.bounds)

        def period(column: str) -> Any:
            ts = c.column(column)
            return ibis.cases(((ts >= b0) & (ts < b1), 0), ((ts >= b1) & (ts < b2), 1), else_=ibis.null("int8"))

        main = period(spec.when)
        c.horizon = ibis.cases((main == 0, b1), else_=b2)
        keys: dict[str, Any] = {}
        if spec.category is not None:
            keys["_c"] = t[spec.category]
        if spec.malaysia is not None:
            keys["_m"] = c.bool(spec.malaysia)

        by_when: dict[str, list[tuple[str, Any]]] = {}
        for name, agg in spec.aggregates.items():
            by_when.setdefault(agg.when or spec.when, []).append((name, agg))
        out: list[_Job] = []
        for when, aggs in by_when.items():
            p = main if when == spec.when else period(when)
            cube = [(n, a) for n, a in aggs if not isinstance(a, Hist)]
            if cube:
                out.append(self._cube(c, t, p, keys, cube))
            out += [self._hist(c, t, p, keys, name, agg, bins) for name, agg in aggs if isinstance(agg, Hist)]
        return out

    def _cube(self, c: _Compiler, t: Any, p: Any, keys: dict, aggs: list) -> _Job:
        ibis = _ibis()
        level_columns = list(dict.fromkeys(a.column for _, a in aggs if isinstance(a, ByLevel)))
        group = {"_p": p} | keys | {f"_l{i}": t[col] for i, col in enumerate(level_columns)}
        q = t.mutate(**group)
        q = q.filter(q["_p"].notnull())
        sums: dict[str, Any] = {}
        value_of: dict[str, str] = {}
        seen: dict[tuple, str] = {}  # aggregates with the same condition are summed once
        for name, agg in aggs:
            key = ("total" if isinstance(agg, Total) else "count", id(agg.mask), id(getattr(agg, "value", None)))
            if key not in seen:
                if isinstance(agg, Total):
                    expr = ibis.ifelse(c.bool(agg.mask), c.value(agg.value).fill_null(0), 0).sum().cast("int64")
                elif agg.mask.op == "lit" and agg.mask.data is True:
                    expr = q.count()
                else:
                    expr = c.bool(agg.mask).cast("int64").sum()
                seen[key] = f"_v{len(sums)}"
                sums[seen[key]] = expr
            value_of[name] = seen[key]
        q = q.group_by(list(group)).aggregate(**sums)

        def read(df: pd.DataFrame, part: Partial) -> None:
            per, cat, mys = _keys(df)
            for name, agg in aggs:
                values = df[value_of[name]].fillna(0).to_numpy(np.int64)
                if isinstance(agg, ByLevel):
                    raw = df[f"_l{level_columns.index(agg.column)}"].astype("string")
                    if agg.levels is not None:
                        codes = pd.Categorical(raw, categories=list(agg.levels)).codes.astype(np.int64)
                        part.arrays[name] = _scatter(per, cat, mys, values, codes, len(agg.levels))
                    else:
                        codes, labels = pd.factorize(raw, use_na_sentinel=True, sort=True)
                        arr = _scatter(per, cat, mys, values, codes.astype(np.int64), max(len(labels), 1))
                        part.labelled[name] = {str(level): arr[..., i] for i, level in enumerate(labels)}
                else:
                    part.arrays[name] = _scatter(per, cat, mys, values, None, 1)

        return _Job(q, read)

    def _hist(self, c: _Compiler, t: Any, p: Any, keys: dict, name: str, agg: Hist, bins: Bins) -> _Job:
        ibis = _ibis()
        minutes = c.value(agg.minutes)
        coarse = ibis.least(bins.fine + (minutes - bins.fine + 59) // 60, bins.size - 1)
        group = {"_p": p} | keys | {"_b": ibis.cases((minutes < bins.fine, minutes), else_=coarse)}
        q = t.mutate(**group, _keep=c.bool(agg.mask) & minutes.notnull())
        q = q.filter(q["_keep"] & q["_p"].notnull()).group_by(list(group)).aggregate(_n=ibis._.count())

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
        self.horizon: Any = None
        self._cols: dict[str, Any] = {}

    def column(self, name: str) -> Any:
        if name not in self._cols:
            table, contract = self.spec.relation.kind(name)
            kind = schema.table(table).column(contract).kind
            value = self.t[name]
            if kind == "timestamp":
                zone = self.engine.tables[table].wall_clock.get(contract)
                if zone == "":
                    raise EngineError(
                        f"{self.engine.tables[table].label}: column {contract} has no time zone; declare "
                        "`timezone:` in datapack.yaml or store instants"
                    )
                value = self.engine.epoch_us(value, zone)
            self._cols[name] = value
        return self._cols[name]

    def bool(self, e: Expr) -> Any:
        ibis = _ibis()
        if e.op == "lit":
            return ibis.literal(bool(e.data))
        return self.value(e)

    def value(self, e: Expr) -> Any:
        ibis = _ibis()
        op = e.op
        if op == "col":
            return self.column(e.data)
        if op == "lit":
            return ibis.literal(e.data)
        if op == "horizon":
            return self.horizon
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
    out = np.zeros((2, size), dtype=np.int64)
    np.add.at(out[1], idx[ok], values[ok])
    if malaysia is None:
        out[0] = out[1]
    else:
        sel = ok & malaysia
        np.add.at(out[0], idx[sel], values[sel])
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
