"""Warehouse packs: datapack.yaml names a ``source:`` — a backend and, per contract table, a table or SQL query —
instead of files. The platform's own column names and enum values are mapped to the contract's in the engine.

.. code-block:: yaml

    source:
      backend: duckdb                     # duckdb | pyspark | an Ibis URL: bigquery://project/dataset, …
      database: warehouse.duckdb          # duckdb only: the database file (read only), relative to the pack
      tables:
        actions:
          table: trust_safety.decisions   # a table or view (schema-qualified if needed) …
          columns: {action_id: decision_id, detected_at: flagged_at}     # contract column: warehouse column
          values: {action: {takedown: remove, geo_block: restrict}}     # contract column: {warehouse: contract}
        reports:
          sql: SELECT * FROM trust_safety.user_reports WHERE market = 'MY'  # … or a query
        appeals:
          parquet: s3://lake/appeals/     # … or Parquet files, a (partitioned) folder or a glob, read in place

Credentials never appear in the pack: a URL may hold ``${VARIABLE}`` placeholders filled from the environment,
and a password written into the URL is refused; BigQuery, Snowflake, Databricks and Trino also read their usual
configuration (application-default credentials, connection files) through their Ibis backends.

Event tables (actions, reports, appeals, authority requests) stay in the engine; the small ones (users, capacity,
feature changes, prevalence samples) are fetched and validated in memory, exactly like files. Tables the source does
not name are read from files in the pack folder as usual (e.g. capacity.csv kept by hand).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from riskkit import schema
from riskkit.engines.ibis_engine import IbisEngine, _first_line, _names
from riskkit.exceptions import EngineError
from riskkit.pack.model import DATAPACK_YAML, PackMeta
from riskkit.pack.problems import FileContext, Problem, ValidationReport

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Backend names accepted without a URL.
LOCAL_BACKENDS = {"duckdb": "duckdb", "pyspark": "pyspark", "spark": "pyspark"}


def _bad(report: ValidationReport, key: str, value: Any, expected: str, detail: str = "") -> None:
    report.add(
        Problem("error", "datapack_yaml", DATAPACK_YAML, column=key, value=str(value), expected=expected, detail=detail)
    )


def expand(url: str) -> str:
    """``${VARIABLE}`` placeholders filled from the environment (EngineError naming any that is not set)."""
    missing = [name for name in _PLACEHOLDER.findall(url) if name not in os.environ]
    if missing:
        raise EngineError(
            "source.backend needs the environment variable(s) " + ", ".join(missing) + " (credentials are never "
            "written in datapack.yaml)"
        )
    return _PLACEHOLDER.sub(lambda m: os.environ[m.group(1)], url)


def connect(
    path: Path,
    source: Any,
    meta: PackMeta,
    engine: str | IbisEngine | None,
    spark_master: str | None,
    report: ValidationReport,
) -> IbisEngine | None:
    """The engine of a warehouse pack with its tables registered (contract names, mapped), or None after reporting
    why it cannot be used."""
    from riskkit.pack import manifest

    typed = manifest.Source.model_validate(source)  # already checked with datapack.yaml
    backend = typed.backend
    kind = LOCAL_BACKENDS.get(backend.lower())
    if kind is None and "://" not in backend:
        _bad(
            report,
            "source.backend",
            backend,
            "duckdb, pyspark, or an Ibis connection URL such as bigquery://project/dataset",
        )
        return None
    if "://" in backend and urlparse(backend).password and not _PLACEHOLDER.search(urlparse(backend).password or ""):
        _bad(
            report,
            "source.backend",
            _redacted(backend),
            "a URL without a password: write ${VARIABLE} and set it in the environment",
            "credentials never belong in datapack.yaml",
        )
        return None
    if isinstance(engine, IbisEngine):
        eng = engine
    else:
        wanted = (engine or "").lower()
        if wanted == "inprocess":
            raise EngineError(
                "this is a warehouse pack (source: in datapack.yaml): its tables are read in the warehouse, "
                "not in this process; leave out --engine or give its backend"
            )
        eng = _open(path, typed, kind, wanted, spark_master)
    for name, spec in typed.tables.items():
        reg_source(eng, path, name, spec, meta, report)
    return eng


def _redacted(url: str) -> str:
    u = urlparse(url)
    return url.replace(f":{u.password}@", ":***@") if u.password else url


def _open(path: Path, typed: Any, kind: str | None, wanted: str, spark_master: str | None) -> IbisEngine:
    if kind == "duckdb":
        if wanted and wanted != "duckdb":
            raise EngineError(f"this pack's tables are in DuckDB (source: in datapack.yaml), not in {wanted}")
        if typed.database is None:
            return IbisEngine.duckdb()
        db = Path(typed.database)
        db = db if db.is_absolute() else path / db
        if not db.is_file():
            raise EngineError(f"source.database: no DuckDB database at {db}")
        return IbisEngine.duckdb(db, read_only=True)
    if kind == "pyspark":
        if wanted and wanted not in ("spark", "pyspark"):
            raise EngineError(f"this pack's tables are in Spark (source: in datapack.yaml), not in {wanted}")
        return IbisEngine.spark(spark_master or os.environ.get("RISKKIT_SPARK_MASTER") or None)
    import ibis

    url = expand(typed.backend)
    scheme = urlparse(url).scheme
    if wanted and wanted != scheme:
        raise EngineError(f"this pack's tables are in {scheme} (source: in datapack.yaml), not in {wanted}")
    try:
        con = ibis.connect(url)
    except ModuleNotFoundError as exc:
        raise EngineError(
            f"source.backend {scheme}: the Ibis backend is not installed (pip install 'ibis-framework[{scheme}]'): "
            f"{_first_line(exc)}"
        ) from None
    except Exception as exc:
        raise EngineError(f"source.backend: cannot connect to {_redacted(typed.backend)}: {_first_line(exc)}") from None
    return IbisEngine(scheme, con, getattr(con, "name", scheme))


def _relation(eng: IbisEngine, spec: Any, path: Path) -> Any:
    if spec.parquet is not None:  # a data lake: Parquet files, a (partitioned) folder or a glob, read in place
        where = spec.parquet if "://" in spec.parquet or Path(spec.parquet).is_absolute() else str(path / spec.parquet)
        view = f"riskkit_lake_{next(_names)}"
        if eng.backend == "duckdb":
            if Path(where).is_dir():
                where = str(Path(where) / "**" / "*.parquet")
            return eng.con.read_parquet(where, table_name=view)
        return eng.con.read_parquet(where, table_name=view)
    if spec.sql is not None:
        if eng.backend == "duckdb":  # a temporary view (also on a read-only database), read like a table
            view = f"riskkit_query_{next(_names)}"
            eng.con.con.execute(f'CREATE TEMP VIEW "{view}" AS {spec.sql}')
            return eng.con.table(view)
        return eng.con.sql(spec.sql)
    *database, name = spec.table.split(".")
    if not database:
        return eng.con.table(name)
    return eng.con.table(name, database=tuple(database) if len(database) > 1 else database[0])


def label(eng: IbisEngine, name: str, spec: Any) -> str:
    """How problems name a warehouse table: ``actions (duckdb table trust_safety.decisions)``."""
    where = f"table {spec.table}" if spec.table is not None else ("query" if spec.sql else f"parquet {spec.parquet}")
    return f"{name} ({eng.name} {where})"


def reg_source(eng: IbisEngine, path: Path, name: str, spec: Any, meta: PackMeta, report: ValidationReport) -> None:
    """Register one warehouse table under its contract name, columns renamed and values mapped; problems with the
    mapping are reported against datapack.yaml."""
    import ibis

    where = label(eng, name, spec)
    key = f"source.tables.{name}"
    try:
        raw = _relation(eng, spec, path)
    except Exception as exc:
        what = spec.table or spec.parquet or "sql"
        _bad(report, key, what, "a table, view, query or Parquet files the backend can read", _first_line(exc))
        return
    contract = schema.table(name)
    known = set(contract.column_names)
    for column in spec.columns:
        if column not in known:
            _bad(report, f"{key}.columns.{column}", column, f"a column of the `{name}` contract table")
    for column in spec.values:
        if column not in known:
            _bad(report, f"{key}.values.{column}", column, f"a column of the `{name}` contract table")
    select: dict[str, Any] = {}
    for column in contract.columns:
        src = spec.columns.get(column.name, column.name)
        if src not in raw.columns:
            if column.name in spec.columns:
                _bad(
                    report,
                    f"{key}.columns.{column.name}",
                    src,
                    f"a column of {where}: " + ", ".join(raw.columns),
                )
            continue
        value = raw[src]
        mapping = spec.values.get(column.name)
        if mapping:
            targets = set(mapping.values())
            if all(isinstance(v, bool) for v in targets):
                value = value.cast("string").substitute(mapping, else_=ibis.null("boolean"))
            else:
                value = value.cast("string").substitute({k: str(v) for k, v in mapping.items()}, else_=value)
        select[column.name] = value
    table = raw.select(**select) if select else raw.select()
    view = None
    if eng.backend == "pyspark":  # Spark's own types tell an instant from a wall clock: look at a view of it
        view = f"riskkit_{name}_{next(_names)}"
        table = eng.con.create_view(view, table, overwrite=True)
    eng.tables[name] = _registered(eng, table, where, view, name, meta.timezone)


def _registered(eng: IbisEngine, table: Any, where: str, view: str | None, name: str, timezone: str | None) -> Any:
    from riskkit.engines.ibis_engine import Registered

    return Registered(table, where, eng.wall_clocks(table, view, name, timezone))


#: The event tables: kept in the engine, aggregated there, never read whole into this process.
ENGINE_TABLES = ("actions", "reports", "appeals", "authority_requests")
#: Every other contract table (a few rows per month) is read whole into memory and validated exactly like files.
SMALL_TABLES = tuple(name for name in schema.TABLES if name not in ENGINE_TABLES)


def small_tables(eng: IbisEngine, source: Any, meta: PackMeta, report: ValidationReport) -> dict[str, pd.DataFrame]:
    """Fetch the small tables the source names and type them as files are typed (same problems, rows from 1)."""
    from zoneinfo import ZoneInfo

    from riskkit.pack.columns import typed_frame

    tz = ZoneInfo(meta.timezone) if meta.timezone else None
    out: dict[str, pd.DataFrame] = {}
    for name in [n for n in SMALL_TABLES if n in eng.tables]:
        reg = eng.tables.pop(name)
        try:
            raw = reg.table.to_pyarrow().to_pandas()
        except Exception as exc:
            raise EngineError(f"{reg.label}: the {eng.name} engine failed: {_first_line(exc)}") from None
        raw = _as_text_cells(raw, schema.table(name))
        table = schema.for_time_basis(schema.table(name), meta.time_basis)
        ctx = FileContext(report, reg.label, 1, tz, meta.as_of)
        frame = typed_frame(raw, list(raw.columns), table, ctx, header_row=None)
        if frame is not None:
            out[name] = frame
    return out


def _as_text_cells(raw: pd.DataFrame, table: schema.Table) -> pd.DataFrame:
    """Warehouse types the contract keeps as text: months as YYYY-MM, lists joined with ';'."""
    for column in table.columns:
        if column.name not in raw.columns:
            continue
        s = raw[column.name]
        if column.kind == "month" and (pd.api.types.is_datetime64_any_dtype(s) or s.map(_is_date).any()):
            raw[column.name] = pd.to_datetime(s.astype("string")).dt.strftime("%Y-%m").where(s.notna())
        elif column.kind == "list" and s.map(lambda v: isinstance(v, list | tuple) or hasattr(v, "tolist")).any():
            raw[column.name] = s.map(lambda v: ";".join(map(str, list(v))) if v is not None else None)
    return raw


def _is_date(value: Any) -> bool:
    import datetime

    return isinstance(value, datetime.date)
