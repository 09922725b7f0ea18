"""Open a data pack on an engine: its event tables stay in the engine, only small tables are read into memory.

* a **file pack** opened with ``engine="duckdb"`` or ``"spark"``: each event table's Parquet file is registered as
  an engine table (read in place); a CSV event table is read and validated in-process as usual, then uploaded;
* a **warehouse pack** (``source:`` in datapack.yaml, :mod:`riskkit.engines.source`): every table comes from the
  warehouse, through the column and value mapping the pack declares.

Event tables (actions, reports, appeals, authority requests) are validated by queries in the engine
(:mod:`riskkit.engines.checks`); the small tables (users by month, capacity, feature changes, prevalence samples)
and the audit questionnaires are read into memory and validated exactly as in a file pack. Memory in this process
therefore does not grow with the number of actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from riskkit import arrays, schema
from riskkit.engines import get
from riskkit.engines.ibis_engine import IbisEngine
from riskkit.engines.source import ENGINE_TABLES
from riskkit.exceptions import EngineError, InvalidDataPack
from riskkit.library import Library
from riskkit.pack import complete_pack
from riskkit.pack.files import locate_tables, read_table
from riskkit.pack.meta import read_meta
from riskkit.pack.model import DataPack, PackMeta
from riskkit.pack.problems import Problem, ValidationReport


def open_pack(
    path: str | Path,
    *,
    library: Library,
    engine: str | IbisEngine | None = None,
    as_of: str | datetime | None = None,
    spark_master: str | None = None,
    validate: bool = True,
) -> DataPack:
    """Open and validate the pack at ``path`` on ``engine`` (a warehouse pack brings its own); raise
    :class:`InvalidDataPack` with every problem if it is invalid."""
    pack = _open(Path(path), library, engine, as_of, spark_master, validate)
    if not pack.report.ok:
        raise InvalidDataPack(pack.report)
    return pack


def validate_pack(
    path: str | Path,
    *,
    library: Library,
    engine: str | IbisEngine | None = None,
    as_of: str | datetime | None = None,
    spark_master: str | None = None,
) -> ValidationReport:
    """Validate on the engine without raising (``report.ok`` tells whether the pack is valid)."""
    return _open(Path(path), library, engine, as_of, spark_master, True).report


def on_engine(path: str | Path, engine: str | IbisEngine | None) -> bool:
    """Whether the pack at ``path`` is opened on an engine: ``engine`` names one (not ``inprocess``), or the pack is
    a warehouse pack."""
    return (bool(engine) and engine != "inprocess") or is_warehouse(path)


def load_any(
    path: str | Path,
    *,
    library: Library,
    engine: str | IbisEngine | None = None,
    as_of: str | datetime | None = None,
    spark_master: str | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> DataPack:
    """The pack at ``path``, validated: opened on its engine (:func:`on_engine`), else read into memory (only
    ``columns`` of the tables named there). Raises :class:`InvalidDataPack` if it is invalid."""
    if on_engine(path, engine):
        return open_pack(path, library=library, engine=engine, as_of=as_of, spark_master=spark_master)
    from riskkit.pack import load_datapack

    return load_datapack(path, library=library, as_of=as_of, columns=columns)


def is_warehouse(path: str | Path) -> bool:
    """Whether datapack.yaml names a ``source:`` (a warehouse pack)."""
    from riskkit import safe_yaml

    file = Path(path) / "datapack.yaml"
    try:
        raw = safe_yaml.load(file.read_text(encoding="utf-8-sig")) if file.is_file() else None
    except Exception:
        return False
    return isinstance(raw, dict) and "source" in raw


def _open(
    path: Path,
    library: Library,
    engine: str | IbisEngine | None,
    as_of: str | datetime | None,
    spark_master: str | None,
    validate: bool,
) -> DataPack:
    report = ValidationReport(pack=path)
    empty_meta = PackMeta("", "", None, None, pd.Timestamp.now(tz="UTC"))
    if not path.is_dir():
        report.add(Problem("error", "missing_file", str(path), detail="not a folder", expected="a data pack folder"))
        return DataPack(path, empty_meta, {}, {}, {}, report)
    meta = read_meta(path, report, as_of, library)
    if meta is None:
        return DataPack(path, empty_meta, {}, {}, {}, report)
    tz = ZoneInfo(meta.timezone) if meta.timezone else None
    tables: dict[str, pd.DataFrame] = {}
    uploaded: set[str] = set()
    if isinstance(engine, IbisEngine):
        engine.tables = {}  # an engine holds one pack's tables at a time
    source = meta.raw.get("source")
    named: set[str] = set()
    if source is not None:
        from riskkit.engines import source as warehouse

        eng = warehouse.connect(path, source, meta, engine, spark_master, report)
        if eng is None:
            return DataPack(path, meta, {}, {}, {}, report)
        named = set(source.get("tables", {}))
        tables.update(warehouse.small_tables(eng, source, meta, report))
    else:
        eng = engine if isinstance(engine, IbisEngine) else get(engine or "duckdb", spark_master=spark_master)
        if not isinstance(eng, IbisEngine):
            raise EngineError("open_pack needs an engine (duckdb, spark or a warehouse source)")
    # files: every table of a file pack; the tables a warehouse pack keeps as files beside datapack.yaml
    files = {name: file for name, file in locate_tables(path, meta, report).items() if name not in named}
    for name, file in files.items():
        table = schema.for_time_basis(schema.table(name), meta.time_basis)
        label = file.relative_to(path).as_posix()
        if name in ENGINE_TABLES and file.suffix.lower() == ".parquet":
            eng.register_parquet(name, file, label, meta.timezone)
            continue
        frame = read_table(path, file, table, report, tz, meta.as_of)
        arrays.release_arrow_memory()
        if frame is None:
            continue
        if name in ENGINE_TABLES:
            eng.register_frame(name, frame, label)
            uploaded.add(name)
        else:
            tables[name] = frame
    if validate:
        from riskkit.engines.checks import check_tables

        check_tables(eng, meta, report, columns_checked=uploaded)
    where = None if source is None else {t.name: f"source.tables.{t.name}" for t in schema.iter_tables()}
    present = set(tables) | set(eng.tables)
    audits = complete_pack(path, meta, tables, files, report, library, present=present, where=where)
    return DataPack(path, meta, tables, audits, files, report, engine=eng)


def describe(pack: DataPack) -> list[str]:
    """Lines for ``riskkit summary``: each engine table with its row count."""
    eng: Any = pack.engine
    lines = []
    for name, reg in eng.tables.items():
        rows = pack.report.rows.get(reg.label)
        count = f"{rows:>12,} rows" if rows is not None else "rows not counted"
        lines.append(f"  {name:<20} {count} ({eng.name}: {reg.label})")
    return lines
