"""Read and validate a data pack folder into typed pandas frames.

A pack is a folder with ``datapack.yaml`` and tables as CSV, Parquet (or, for questionnaires, XLSX). Validation
collects every problem — file, row as a spreadsheet shows it (header = row 1; Parquet rows count from 1), column,
value and what was expected — before anything is computed. Input files are only ever read.

Modules: :mod:`~riskkit.pack.meta` (datapack.yaml), :mod:`~riskkit.pack.files` (locating and reading files),
:mod:`~riskkit.pack.columns` (typing columns), :mod:`~riskkit.pack.checks` (rules across rows and tables),
:mod:`~riskkit.pack.problems` (the report), :mod:`~riskkit.pack.model` (the loaded pack).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from riskkit import arrays, schema
from riskkit.exceptions import InvalidDataPack
from riskkit.library import Library
from riskkit.pack.checks import check_audit_items, check_references, finish_users
from riskkit.pack.columns import projected, typed_frame
from riskkit.pack.files import locate_audits, locate_tables, read_table
from riskkit.pack.meta import parse_meta, read_meta
from riskkit.pack.model import DataPack, HighRiskPeriod, PackMeta, TableNotAvailable
from riskkit.pack.problems import FileContext, Problem, ValidationReport

__all__ = [
    "DataPack",
    "HighRiskPeriod",
    "PackMeta",
    "TableNotAvailable",
    "ValidationReport",
    "describe_pack",
    "load_datapack",
    "pack_from_frames",
    "validate_datapack",
]


def load_datapack(
    path: str | Path,
    *,
    library: Library,
    as_of: str | datetime | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> DataPack:
    """Read and validate the pack at ``path``; raise :class:`InvalidDataPack` (with every problem) if invalid.

    ``columns`` optionally projects tables (``{"actions": [...]}``): only those columns are read and validated,
    which is how large packs are loaded for a computation that needs a few columns (see
    ``riskkit.metrics.REQUIRED_COLUMNS``). Tables not named are read whole.
    """
    pack = _read(Path(path), as_of, columns or {}, library)
    if not pack.report.ok:
        raise InvalidDataPack(pack.report)
    return pack


def validate_datapack(path: str | Path, *, library: Library, as_of: str | datetime | None = None) -> ValidationReport:
    """Validate without raising: the report lists every problem (``report.ok`` tells whether it is valid)."""
    return _read(Path(path), as_of, {}, library).report


def pack_from_frames(
    tables: Mapping[str, pd.DataFrame],
    meta: Mapping[str, Any],
    *,
    library: Library,
    audits: Mapping[str, pd.DataFrame] | None = None,
    as_of: str | datetime | None = None,
) -> DataPack:
    """Validate in-memory frames exactly as files would be (for importers, notebooks and tests).

    ``meta`` is what datapack.yaml would hold (``tables:`` is ignored). Problems name the table as
    ``<name> (in memory)`` and rows from 1. Raises :class:`InvalidDataPack` if invalid.
    """
    report = ValidationReport(pack=Path("<in memory>"))
    parsed = parse_meta(dict(meta), report, as_of, library) or PackMeta("", "", None, None, pd.Timestamp.now(tz="UTC"))
    tz = ZoneInfo(parsed.timezone) if parsed.timezone else None
    typed: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        table = schema.for_time_basis(schema.table(name), parsed.time_basis)
        ctx = FileContext(report, f"{name} (in memory)", 1, tz, parsed.as_of)
        df = typed_frame(frame.copy(), list(frame.columns), table, ctx, header_row=None)
        if df is not None:
            typed[name] = df
    if "actions" not in tables:
        report.add(Problem("error", "missing_table", "actions", expected="an `actions` table"))
    for t in schema.iter_tables():
        if not t.multi and not t.required and t.name not in tables:
            report.unavailable[t.name] = t.enables
    typed_audits: dict[str, pd.DataFrame] = {}
    for name, frame in (audits or {}).items():
        ctx = FileContext(report, f"audits/{name} (in memory)", 1, tz, parsed.as_of)
        df = typed_frame(frame.copy(), list(frame.columns), schema.AUDIT_TABLE, ctx, header_row=None)
        if df is not None:
            typed_audits[name] = df
    check_audit_items(typed_audits, report, library)
    check_references(typed, {}, Path("."), report, parsed)
    finish_users(typed, {}, Path("."), report, parsed)
    pack = DataPack(Path("<in memory>"), parsed, typed, typed_audits, {}, report)
    if not report.ok:
        raise InvalidDataPack(report)
    return pack


def _read(path: Path, as_of: str | datetime | None, columns: Mapping[str, Sequence[str]], library: Library) -> DataPack:
    report = ValidationReport(pack=path)
    empty_meta = PackMeta("", "", None, None, pd.Timestamp.now(tz="UTC"))
    if not path.is_dir():
        report.add(Problem("error", "missing_file", str(path), detail="not a folder", expected="a data pack folder"))
        return DataPack(path, empty_meta, {}, {}, {}, report)
    meta = read_meta(path, report, as_of, library) or empty_meta
    tz = ZoneInfo(meta.timezone) if meta.timezone else None

    files = locate_tables(path, meta, report)
    contracts = {
        name: schema.table(name) if columns.get(name) is None else projected(schema.table(name), columns[name], report)
        for name in files
    }
    contracts = {name: schema.for_time_basis(t, meta.time_basis) for name, t in contracts.items()}

    def read_one(name: str) -> tuple[pd.DataFrame | None, ValidationReport]:
        # each table gets its own report so parallel reading stays deterministic; merged in table order below
        own = ValidationReport(pack=path)
        frame = read_table(path, files[name], contracts[name], own, tz, meta.as_of)
        arrays.release_arrow_memory()  # a big table's Arrow buffers are garbage once it is a pandas frame
        return frame, own

    # Tables are read in parallel threads: Arrow and pandas kernels release the GIL, so the big tables overlap.
    with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1) or 1) as pool:
        results = list(pool.map(read_one, files))
    tables: dict[str, pd.DataFrame] = {}
    for name, (df, own) in zip(files, results, strict=True):
        report.merge(own)
        if df is not None:
            tables[name] = df
    audits = complete_pack(path, meta, tables, files, report, library, present=set(files))
    arrays.release_arrow_memory()
    return DataPack(path, meta, tables, audits, files, report)


def complete_pack(
    path: Path,
    meta: PackMeta,
    tables: dict[str, pd.DataFrame],
    files: dict[str, Path],
    report: ValidationReport,
    library: Library,
    *,
    present: set[str],
    where: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """What every pack reader does after its tables: each absent contract table reported (an error if required,
    else what it leaves unassessed; ``where`` names the datapack.yaml key of a warehouse table), the audit
    questionnaires read and checked, the references and users finished. Returns the audits."""
    tz = ZoneInfo(meta.timezone) if meta.timezone else None
    for t in schema.iter_tables():
        if t.multi or t.name in present:
            continue
        if t.required:
            located = (where or {}).get(t.name, f"{t.name}.csv|.parquet")
            key = "tables:" if where is None else "source: tables:"
            expected = f"a `{t.name}` table ({t.enables}); name it in datapack.yaml under {key}"
            report.add(Problem("error", "missing_table", located, expected=expected))
        else:
            report.unavailable[t.name] = t.enables
            report.add(
                Problem("info", "not_available", f"{t.name}", detail=f"no `{t.name}` table: cannot assess {t.enables}")
            )
    audits: dict[str, pd.DataFrame] = {}
    for name, file in locate_audits(path, meta, report).items():
        df = read_table(path, file, schema.AUDIT_TABLE, report, tz, meta.as_of)
        if df is not None:
            audits[name] = df
            files[f"audits/{name}"] = file
    check_audit_items(audits, report, library)
    check_references(tables, files, path, report, meta)
    finish_users(tables, files, path, report, meta)
    return audits


def describe_pack(pack: DataPack) -> str:
    """A short text summary of a valid pack (platform, tables and rows, period covered, unavailable tables)."""
    m = pack.meta
    lines = [
        f"{m.platform_name} ({m.service_type}{', licence ' + m.licence_id if m.licence_id else ''})",
        f"data as of {m.as_of.tz_convert('Asia/Kuala_Lumpur'):%Y-%m-%d %H:%M} MYT",
    ]
    for name, df in pack.tables.items():
        span = ""
        ts_cols = [c.name for c in schema.table(name).columns if c.kind == "timestamp" and c.name in df.columns]
        if ts_cols:
            first = df[ts_cols[0]].min()
            last = df[ts_cols[0]].max()
            if pd.notna(first):
                span = f", {ts_cols[0]} {first.tz_convert('Asia/Kuala_Lumpur'):%Y-%m-%d} … {last.tz_convert('Asia/Kuala_Lumpur'):%Y-%m-%d}"
        elif "month" in df.columns and len(df):
            span = f", months {df['month'].min()} … {df['month'].max()}"
        lines.append(f"  {name:<20} {len(df):>12,} rows{span}")
    for name, df in pack.audits.items():
        lines.append(f"  audits/{name:<13} {len(df):>12,} answers")
    for name, enables in pack.report.unavailable.items():
        lines.append(f"  {name:<20} not available: cannot assess {enables}")
    return "\n".join(lines)
