"""Read and validate a data pack folder into typed pandas frames.

A pack is a folder with ``datapack.yaml`` and tables as CSV, Parquet (or, for questionnaires, XLSX). Validation
collects every problem — file, row as a spreadsheet shows it (header = row 1; Parquet rows count from 1), column,
value and what was expected — before anything is computed. Input files are only ever read.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError, InvalidDataPack, ParameterError, RiskkitError
from riskkit.validation import EXAMPLES_KEPT, Problem, Severity, ValidationReport

DATAPACK_YAML = "datapack.yaml"
TABLE_EXTENSIONS = (".parquet", ".csv")
AUDIT_EXTENSIONS = (".csv", ".xlsx", ".parquet")

_TS_WITH_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_TS_SHAPE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"
_MONTH = r"^\d{4}-(?:0[1-9]|1[0-2])$"
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class TableNotAvailable(RiskkitError):
    """A computation needs a table the pack does not have."""


@dataclass(frozen=True)
class HighRiskPeriod:
    """A declared high-risk period (elections, national crises) from datapack.yaml."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp  # inclusive last day, as declared
    categories: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class PackMeta:
    """What datapack.yaml says about the pack."""

    platform_name: str
    service_type: str
    licence_id: str | None
    timezone: str | None
    as_of: pd.Timestamp
    surfaces: tuple[str, ...] | None = None
    age_verified_unit: str | None = None
    time_resolution: str = "second"
    sla_overrides: Mapping[str, Any] = field(default_factory=dict)
    high_risk_periods: tuple[HighRiskPeriod, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    time_basis: str = "detection"

    @property
    def cohort_column(self) -> str:
        """The actions column that puts an action in a cycle: detected_at, or actioned_at with time_basis decision."""
        return "actioned_at" if self.time_basis == "decision" else "detected_at"


@dataclass
class DataPack:
    """A validated data pack: typed frames per table (categoricals for enums, tz-aware UTC timestamps)."""

    path: Path
    meta: PackMeta
    tables: dict[str, pd.DataFrame]
    audits: dict[str, pd.DataFrame]
    files: dict[str, Path]
    report: ValidationReport

    def has(self, name: str) -> bool:
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the pack does not have it."""
        return self.tables.get(name)

    def require(self, name: str) -> pd.DataFrame:
        """The table, or :class:`TableNotAvailable` with the "not available" wording."""
        if name not in self.tables:
            raise TableNotAvailable(self.not_available(name))
        return self.tables[name]

    def not_available(self, name: str) -> str:
        """``not available (no `users` table)`` — the sentence notebooks print instead of failing."""
        return f"not available (no `{name}` table)"

    @property
    def actions(self) -> pd.DataFrame:
        return self.tables["actions"]


# --------------------------------------------------------------------------------------------------- public API


def load_datapack(
    path: str | Path,
    *,
    as_of: str | datetime | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> DataPack:
    """Read and validate the pack at ``path``; raise :class:`InvalidDataPack` (with every problem) if invalid.

    ``columns`` optionally projects tables (``{"actions": [...]}``): only those columns are read and validated,
    which is how large packs are loaded for a computation that needs a few columns (see
    ``riskkit.metrics.REQUIRED_COLUMNS``). Tables not named are read whole.
    """
    pack = _read(Path(path), as_of, columns or {})
    if not pack.report.ok:
        raise InvalidDataPack(pack.report)
    return pack


def validate_datapack(path: str | Path, *, as_of: str | datetime | None = None) -> ValidationReport:
    """Validate without raising: the report lists every problem (``report.ok`` tells whether it is valid)."""
    return _read(Path(path), as_of, {}).report


def pack_from_frames(
    tables: Mapping[str, pd.DataFrame],
    meta: Mapping[str, Any],
    *,
    audits: Mapping[str, pd.DataFrame] | None = None,
    as_of: str | datetime | None = None,
) -> DataPack:
    """Validate in-memory frames exactly as files would be (for importers, notebooks and tests).

    ``meta`` is what datapack.yaml would hold (``tables:`` is ignored). Problems name the table as
    ``<name> (in memory)`` and rows from 1. Raises :class:`InvalidDataPack` if invalid.
    """
    report = ValidationReport(pack=Path("<in memory>"))
    parsed = _parse_meta(dict(meta), report, as_of) or PackMeta("", "", None, None, pd.Timestamp.now(tz="UTC"))
    tz = ZoneInfo(parsed.timezone) if parsed.timezone else None
    typed: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        table = schema.for_time_basis(schema.table(name), parsed.time_basis)
        ctx = _Ctx(report, f"{name} (in memory)", 1, tz, parsed.as_of)
        df = _typed_frame(frame.copy(), list(frame.columns), table, ctx, header_row=None)
        if df is not None:
            typed[name] = df
    if "actions" not in tables:
        report.add(Problem("error", "missing_table", "actions", expected="an `actions` table"))
    for t in schema.iter_tables():
        if not t.multi and not t.required and t.name not in tables:
            report.unavailable[t.name] = t.enables
    typed_audits: dict[str, pd.DataFrame] = {}
    for name, frame in (audits or {}).items():
        ctx = _Ctx(report, f"audits/{name} (in memory)", 1, tz, parsed.as_of)
        df = _typed_frame(frame.copy(), list(frame.columns), schema.AUDIT_TABLE, ctx, header_row=None)
        if df is not None:
            typed_audits[name] = df
    _check_audit_items(typed_audits, report)
    _check_references(typed, {}, Path("."), report, parsed)
    _finish_users(typed, {}, Path("."), report, parsed)
    pack = DataPack(Path("<in memory>"), parsed, typed, typed_audits, {}, report)
    if not report.ok:
        raise InvalidDataPack(report)
    return pack


# --------------------------------------------------------------------------------------------------- reading


@dataclass
class _Ctx:
    """Where we are: the report, the file being read and how its rows are numbered."""

    report: ValidationReport
    file: str
    row_offset: int  # add to a 0-based record index to get the row as the file shows it
    tz: ZoneInfo | None
    as_of: pd.Timestamp

    @property
    def text_input(self) -> bool:
        """True for CSV/XLSX (every cell is text), False for Parquet and in-memory frames (typed)."""
        return self.row_offset == 2

    def flag(
        self,
        kind: str,
        mask: np.ndarray | pd.Series,
        values: pd.Series | None,
        column: str | None,
        expected: str = "",
        detail: str = "",
        severity: Severity = "error",
        related: tuple[str, pd.Series] | None = None,
    ) -> int:
        """Record one problem per True in ``mask`` (examples capped, totals exact); return how many.

        ``related`` names another column whose value on the same row is shown in the message.
        """
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions[:EXAMPLES_KEPT]:
            value = None if values is None else _cell_text(values.iloc[pos])
            text = detail if related is None else f"{related[0]} is {_cell_text(related[1].iloc[pos])}"
            self.report.add(
                Problem(severity, kind, self.file, int(pos) + self.row_offset, column, value, expected, text)
            )
        rest = len(positions) - min(len(positions), EXAMPLES_KEPT)
        if rest:
            self.report.totals[(severity, kind)] += rest
        return len(positions)

    def problem(self, kind: str, severity: Severity = "error", **kw: Any) -> None:
        self.report.add(Problem(severity, kind, self.file, **kw))


def _cell_text(value: Any) -> str:
    if value is None or (not isinstance(value, (str, tuple, list)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return (value.tz_convert("Asia/Kuala_Lumpur") if value.tzinfo else value).isoformat()
    return str(value)


def _read(path: Path, as_of: str | datetime | None, columns: Mapping[str, Sequence[str]]) -> DataPack:
    report = ValidationReport(pack=path)
    empty_meta = PackMeta("", "", None, None, pd.Timestamp.now(tz="UTC"))
    if not path.is_dir():
        report.add(Problem("error", "missing_file", str(path), detail="not a folder", expected="a data pack folder"))
        return DataPack(path, empty_meta, {}, {}, {}, report)
    meta = _read_meta(path, report, as_of) or empty_meta
    tz = ZoneInfo(meta.timezone) if meta.timezone else None

    files = _locate_tables(path, meta, report)
    contracts = {
        name: schema.table(name) if columns.get(name) is None else _projected(schema.table(name), columns[name], report)
        for name in files
    }
    contracts = {name: schema.for_time_basis(t, meta.time_basis) for name, t in contracts.items()}

    def read_one(name: str) -> tuple[pd.DataFrame | None, ValidationReport]:
        # each table gets its own report so parallel reading stays deterministic; merged in table order below
        own = ValidationReport(pack=path)
        frame = _read_table(path, files[name], contracts[name], own, tz, meta.as_of)
        _release_arrow_memory()  # a big table's Arrow buffers are garbage once it is a pandas frame
        return frame, own

    # Tables are read in parallel threads: Arrow and pandas kernels release the GIL, so the big tables overlap.
    with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1) or 1) as pool:
        results = list(pool.map(read_one, files))
    tables: dict[str, pd.DataFrame] = {}
    for name, (df, own) in zip(files, results, strict=True):
        report.merge(own)
        if df is not None:
            tables[name] = df
    for t in schema.iter_tables():
        if t.multi or t.name in files:
            continue
        if t.required:
            report.add(
                Problem(
                    "error",
                    "missing_table",
                    f"{t.name}.csv|.parquet",
                    expected=f"a `{t.name}` table ({t.enables}); name it in datapack.yaml under tables:",
                )
            )
        else:
            report.unavailable[t.name] = t.enables
            report.add(
                Problem("info", "not_available", f"{t.name}", detail=f"no `{t.name}` table: cannot assess {t.enables}")
            )

    audits: dict[str, pd.DataFrame] = {}
    for name, file in _locate_audits(path, meta, report).items():
        df = _read_table(path, file, schema.AUDIT_TABLE, report, tz, meta.as_of)
        if df is not None:
            audits[name] = df
            files[f"audits/{name}"] = file
    _check_audit_items(audits, report)

    _check_references(tables, files, path, report, meta)
    _finish_users(tables, files, path, report, meta)
    _release_arrow_memory()
    return DataPack(path, meta, tables, audits, files, report)


def _check_audit_items(audits: dict[str, pd.DataFrame], report: ValidationReport) -> None:
    """Questionnaire answers must name items of the audit's checklist (the file's name is the audit's)."""
    if not audits:
        return
    from riskkit.framework import load_library

    checklists = load_library().checklists()
    for name, df in audits.items():
        ctx = _Ctx(report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, pd.Timestamp.now(tz="UTC"))
        if name not in checklists:
            ctx.problem(
                "unknown_column",
                severity="warning",
                detail=f"no checklist for audit '{name}'; the answers are kept but cannot be scored",
                expected="an audit named after a checklist: " + ", ".join(checklists),
            )
            continue
        known = [e.ref_id for e in checklists[name].entries("items")]
        bad = df["item_id"].notna().to_numpy() & ~_isin(df["item_id"], known)
        ctx.flag("dangling_reference", bad, df["item_id"], "item_id", f"an item of checklist {checklists[name].id}")


def _release_arrow_memory() -> None:
    """Give freed Arrow buffers back to the OS (mimalloc keeps them, doubling the resident size of big packs)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _read_meta(path: Path, report: ValidationReport, as_of: str | datetime | None) -> PackMeta | None:
    file = path / DATAPACK_YAML
    if not file.is_file():
        report.add(
            Problem(
                "error",
                "missing_file",
                DATAPACK_YAML,
                expected="datapack.yaml naming the platform (see README, 'The data contract')",
            )
        )
        return None
    try:
        raw = yaml.safe_load(_decode_text(file, report) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add(
            Problem(
                "error",
                "datapack_yaml",
                DATAPACK_YAML,
                row=(mark.line + 1) if mark else None,
                detail=f"YAML syntax error: {getattr(exc, 'problem', exc)}",
                expected="valid YAML",
            )
        )
        return None
    except _NotUtf8:
        return None
    return _parse_meta(raw, report, as_of)


def _parse_meta(raw: Any, report: ValidationReport, as_of: str | datetime | None) -> PackMeta | None:
    """Validate the datapack.yaml mapping (from the file, or given in memory)."""
    if not isinstance(raw, dict):
        report.add(Problem("error", "datapack_yaml", DATAPACK_YAML, expected="a mapping of keys (platform:, tables:…)"))
        return None

    def bad(key: str, value: Any, expected: str) -> None:
        report.add(Problem("error", "datapack_yaml", DATAPACK_YAML, column=key, value=str(value), expected=expected))

    contract = raw.get("contract", schema.CONTRACT_VERSION)
    if contract != schema.CONTRACT_VERSION:
        bad(
            "contract",
            contract,
            f"{schema.CONTRACT_VERSION} (this riskkit reads data contract {schema.CONTRACT_VERSION})",
        )
    platform = raw.get("platform") if isinstance(raw.get("platform"), dict) else {}
    name = platform.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("platform.name", name, "the service's name")
        name = ""
    service_type = platform.get("service_type")
    if service_type not in schema.SERVICE_TYPES:
        bad("platform.service_type", service_type, "one of " + ", ".join(schema.SERVICE_TYPES))
    timezone = raw.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            bad("timezone", timezone, "an IANA timezone such as Asia/Kuala_Lumpur")
            timezone = None
    stamp = as_of if as_of is not None else raw.get("as_of")
    try:
        as_of_ts = pd.Timestamp(stamp) if stamp is not None else pd.Timestamp.now(tz="UTC")
        if as_of_ts.tzinfo is None:
            if timezone is None:
                raise ValueError("naive")
            as_of_ts = as_of_ts.tz_localize(ZoneInfo(str(timezone)))
        as_of_ts = as_of_ts.tz_convert("UTC")
    except (ValueError, TypeError):
        bad("as_of", stamp, "an ISO 8601 timestamp with offset, e.g. 2026-07-10T09:00:00+08:00")
        as_of_ts = pd.Timestamp.now(tz="UTC")
    surfaces = raw.get("surfaces")
    if surfaces is not None and not (isinstance(surfaces, list) and all(isinstance(s, str) for s in surfaces)):
        bad("surfaces", surfaces, "a list of surface names")
        surfaces = None
    resolution = raw.get("time_resolution", "second")
    if resolution not in schema.TIME_RESOLUTIONS:
        bad("time_resolution", resolution, "one of " + ", ".join(schema.TIME_RESOLUTIONS))
        resolution = "second"
    basis = raw.get("time_basis", "detection")
    if basis not in schema.TIME_BASES:
        bad("time_basis", basis, "one of " + ", ".join(schema.TIME_BASES))
        basis = "detection"
    unit = raw.get("age_verified_unit")
    if unit is not None and unit not in ("share", "count"):
        bad("age_verified_unit", unit, "share or count")
        unit = None
    overrides = raw.get("sla_overrides") or {}
    if not isinstance(overrides, dict):
        bad("sla_overrides", overrides, "a mapping clock_id -> {hours, source}")
        overrides = {}
    elif overrides:
        from riskkit.framework import load_library

        try:
            load_library().sla_policy(overrides)
        except FrameworkError as exc:
            for text in exc.problems or (str(exc),):
                bad("sla_overrides", text, "known clock ids with positive hours (frameworks/sla_policy.yaml)")
            overrides = {}
    for key in ("tables", "audits"):
        if raw.get(key) is not None and not isinstance(raw.get(key), dict):
            bad(key, raw.get(key), "a mapping name -> file")
    periods = _read_periods(raw.get("high_risk_periods"), bad)
    return PackMeta(
        platform_name=name,
        service_type=str(service_type or ""),
        licence_id=platform.get("licence_id"),
        timezone=str(timezone) if timezone else None,
        as_of=as_of_ts,
        surfaces=tuple(surfaces) if surfaces else None,
        age_verified_unit=unit,
        time_resolution=str(resolution),
        sla_overrides=overrides,
        high_risk_periods=periods,
        raw=raw,
        time_basis=str(basis),
    )


def _read_periods(value: Any, bad) -> tuple[HighRiskPeriod, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        bad("high_risk_periods", value, "a list of {name, start, end, categories}")
        return ()
    periods = []
    for i, item in enumerate(value, start=1):
        key = f"high_risk_periods[{i}]"
        if not isinstance(item, dict) or not item.get("name"):
            bad(key, item, "a mapping with name, start, end and categories")
            continue
        try:
            start, end = pd.Timestamp(str(item.get("start"))), pd.Timestamp(str(item.get("end")))
        except (ValueError, TypeError):
            bad(f"{key}.start/end", f"{item.get('start')} / {item.get('end')}", "dates as YYYY-MM-DD")
            continue
        if end < start:
            bad(f"{key}.end", item.get("end"), f"a date on or after start {item.get('start')}")
            continue
        cats = item.get("categories") or list(schema.HARM_CATEGORIES)
        unknown = [c for c in cats if c not in schema.HARM_CATEGORIES]
        if unknown:
            bad(f"{key}.categories", ", ".join(map(str, unknown)), "harm keys: " + ", ".join(schema.HARM_CATEGORIES))
            continue
        periods.append(HighRiskPeriod(str(item["name"]), start, end, tuple(cats), str(item.get("source", ""))))
    return tuple(periods)


def _locate_tables(path: Path, meta: PackMeta, report: ValidationReport) -> dict[str, Path]:
    """Table name -> file: as named in datapack.yaml, else ``<name>.parquet`` or ``<name>.csv`` in the folder."""
    declared = meta.raw.get("tables") if isinstance(meta.raw.get("tables"), dict) else {}
    found: dict[str, Path] = {}
    for name, rel in declared.items():
        if name not in schema.TABLES or schema.TABLES[name].multi:
            report.add(
                Problem(
                    "error",
                    "datapack_yaml",
                    DATAPACK_YAML,
                    column=f"tables.{name}",
                    value=str(name),
                    expected="a table of the contract: " + ", ".join(t for t in schema.TABLES if t != "audits"),
                )
            )
            continue
        file = path / str(rel)
        if not file.is_file():
            report.add(Problem("error", "missing_file", str(rel), detail=f"named in datapack.yaml for table `{name}`"))
            continue
        if file.suffix.lower() not in TABLE_EXTENSIONS:
            report.add(Problem("error", "malformed_file", str(rel), expected="a .csv or .parquet file"))
            continue
        found[name] = file
    for t in schema.iter_tables():
        if t.multi or t.name in found or t.name in declared:
            continue
        candidates = [path / f"{t.name}{ext}" for ext in TABLE_EXTENSIONS if (path / f"{t.name}{ext}").is_file()]
        if len(candidates) > 1:
            report.add(
                Problem(
                    "error",
                    "datapack_yaml",
                    DATAPACK_YAML,
                    column=f"tables.{t.name}",
                    detail=f"both {t.name}.parquet and {t.name}.csv exist",
                    expected="one file per table, or name the one to use under tables:",
                )
            )
        elif candidates:
            found[t.name] = candidates[0]
    return found


def _locate_audits(path: Path, meta: PackMeta, report: ValidationReport) -> dict[str, Path]:
    declared = meta.raw.get("audits")
    if isinstance(declared, dict):
        found = {}
        for name, rel in declared.items():
            file = path / str(rel)
            if not file.is_file():
                report.add(
                    Problem("error", "missing_file", str(rel), detail=f"named in datapack.yaml for audit `{name}`")
                )
            elif file.suffix.lower() not in AUDIT_EXTENSIONS:
                report.add(Problem("error", "malformed_file", str(rel), expected="a .csv, .xlsx or .parquet file"))
            else:
                found[str(name)] = file
        return found
    folder = path / "audits"
    if not folder.is_dir():
        return {}
    return {f.stem: f for f in sorted(folder.iterdir()) if f.suffix.lower() in AUDIT_EXTENSIONS and f.is_file()}


class _NotUtf8(Exception):
    pass


def _decode_text(file: Path, report: ValidationReport) -> str:
    """Decode a small text file as UTF-8 (BOM accepted) or report where it is not."""
    data = file.read_bytes()
    _check_utf8_bytes(data, file.name, report)
    return data.decode("utf-8-sig")


def _check_utf8_bytes(data: bytes, rel: str, report: ValidationReport, start_line: int = 1) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = start_line + data.count(b"\n", 0, exc.start)
        bad = data[exc.start : exc.end]
        byte_in_line = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        report.add(
            Problem(
                "error",
                "encoding",
                rel,
                row=line,
                value=bad.hex(" "),
                detail=f"byte {byte_in_line} of line {line} is not UTF-8",
                expected="UTF-8 text (UTF-8 with BOM and CRLF line ends are fine); re-save as 'CSV UTF-8'",
            )
        )
        raise _NotUtf8 from exc


def _check_utf8_file(file: Path, rel: str, report: ValidationReport) -> bool:
    """Stream the file through an incremental UTF-8 decoder (bounded memory); True if it is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with file.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                try:
                    _check_utf8_bytes(chunk, rel, report, start_line=line)
                except _NotUtf8:
                    return False
                raise
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            report.add(Problem("error", "encoding", rel, row=line, detail="file ends inside a multi-byte character"))
            return False
    return True


def _projected(table: schema.Table, wanted: Sequence[str], report: ValidationReport) -> schema.Table:
    """The table's contract restricted to ``wanted`` columns (keys and time orders only where fully kept)."""
    import dataclasses

    unknown = [c for c in wanted if c not in table.column_names]
    if unknown:
        raise ParameterError(f"columns for table {table.name!r} not in the data contract: {', '.join(unknown)}")
    keep = set(wanted)
    report.add(
        Problem(
            "info",
            "projection",
            table.name,
            detail="only " + ", ".join(c for c in table.column_names if c in keep) + " were read and validated",
        )
    )
    return dataclasses.replace(
        table,
        columns=tuple(c for c in table.columns if c.name in keep),
        primary_key=table.primary_key if set(table.primary_key) <= keep else (),
        foreign_keys=tuple(fk for fk in table.foreign_keys if fk.column in keep),
        time_orders=tuple(o for o in table.time_orders if {o.earlier, o.later} <= keep),
    )


def _read_table(
    path: Path, file: Path, table: schema.Table, report: ValidationReport, tz: ZoneInfo | None, as_of: pd.Timestamp
) -> pd.DataFrame | None:
    rel = file.relative_to(path).as_posix()
    suffix = file.suffix.lower()
    ctx = _Ctx(report, rel, 2 if suffix in (".csv", ".xlsx") else 1, tz, as_of)
    known = set(table.column_names)
    projected = len(table.columns) < len(schema.TABLES[table.name].columns)
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(file).names
            arrow = pq.read_table(file, columns=[c for c in names if c in known])
            raw = arrow.to_pandas(split_blocks=True, self_destruct=True)  # halves the conversion peak
            del arrow
            header = [c for c in names if c in known] if projected else names
        elif suffix == ".xlsx":
            raw = pd.read_excel(file, dtype=str, keep_default_na=False, engine="openpyxl")
            raw = raw.fillna("")
            header = [str(c) for c in raw.columns]
        else:
            if not _check_utf8_file(file, rel, report):
                return None
            raw = pd.read_csv(
                file,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
                usecols=(lambda c: c.strip() in known) if projected else None,
            )
            header = list(raw.columns)
    except RiskkitError:
        raise
    except Exception as exc:  # pandas / pyarrow / openpyxl raise many types for unreadable files
        line = re.search(r"Expected \d+ fields in line (\d+)", str(exc))
        row = int(line.group(1)) if line else None
        detail, expected = _first_line(exc), _expected_format(suffix)
        report.add(Problem("error", "malformed_file", rel, row=row, detail=detail, expected=expected))
        return None

    return _typed_frame(raw, header, table, ctx, header_row=None if suffix == ".parquet" else 1)


def _typed_frame(
    raw: pd.DataFrame, header: list, table: schema.Table, ctx: _Ctx, header_row: int | None
) -> pd.DataFrame | None:
    """Check the columns of a raw table and parse each into its contract type; None if unusable."""
    known = set(table.column_names)
    ctx.report.rows[ctx.file] = len(raw)
    header = [h.strip() if isinstance(h, str) else h for h in header]
    raw.columns = [c.strip() if isinstance(c, str) else c for c in raw.columns]
    for col in header:
        if col not in known:
            ctx.problem(
                "unknown_column",
                severity="warning",
                row=header_row,
                column=str(col),
                detail="not in the data contract; ignored",
                expected="one of " + ", ".join(table.column_names),
            )
    missing = [c for c in table.required_columns if c not in raw.columns]
    for col in missing:
        ctx.problem(
            "missing_column",
            row=header_row,
            column=col,
            expected=f"a `{col}` column ({table.column(col).description})",
        )
    if len(raw) == 0:
        ctx.problem("empty_table", detail="the table has no data rows", expected=f"at least one {table.row_unit}")
        return None

    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    for col in table.columns:
        if col.name in raw.columns:
            out[col.name] = _parse_column(raw[col.name].reset_index(drop=True), col, ctx)
    if missing:
        return None
    _check_table_rules(out, table, ctx)
    out.attrs["file"] = ctx.file
    out.attrs["row_offset"] = ctx.row_offset
    return out


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _expected_format(suffix: str) -> str:
    return {
        ".parquet": "a readable Parquet file",
        ".xlsx": "a readable Excel workbook whose first sheet has the questionnaire columns",
    }.get(suffix, "a CSV file with a header row and the same number of fields on every row")


# --------------------------------------------------------------------------------------------------- columns


def _arrow(values: pd.Series) -> Any:
    """The column as a pyarrow array (zero-copy for Arrow-backed strings)."""
    import pyarrow as pa

    if values.dtype == object:
        values = values.astype("str")
    return pa.array(values, from_pandas=True)


def _isin(values: pd.Series, reference: Any) -> np.ndarray:
    """Membership of each value in ``reference`` via a pyarrow hash set (pandas' Arrow-string ``isin`` iterates
    over the reference in Python); empty cells are False."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.CategoricalDtype):
        known = _isin(pd.Series(values.cat.categories.astype(str)), reference)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, known[np.maximum(codes, 0)], False)
    arr = _arrow(values)
    if isinstance(reference, pd.Series):
        if isinstance(reference.dtype, pd.CategoricalDtype):
            reference = pd.Series(reference.cat.categories)
        ref = _arrow(reference)
    else:
        ref = pa.array([str(x) for x in reference], type=pa.string())
    if isinstance(ref, pa.ChunkedArray):
        ref = ref.combine_chunks()
    return pc.is_in(arr, value_set=ref.cast(arr.type)).fill_null(False).to_numpy(zero_copy_only=False)


def _empty(text: pd.Series) -> np.ndarray:
    """Cells that are missing or the empty string."""
    import pyarrow.compute as pc

    if isinstance(text.dtype, pd.CategoricalDtype):
        return (text.isna() | (text == "")).to_numpy(bool)
    arr = _arrow(text)
    return pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True).to_numpy(zero_copy_only=False)


def _parse_column(s: pd.Series, col: schema.Column, ctx: _Ctx) -> pd.Series:
    """Typed version of one column; every unreadable value is reported."""
    if col.kind == "timestamp":
        return _parse_timestamps(s, col, ctx)
    if isinstance(s.dtype, pd.CategoricalDtype):
        text = None
        empty = s.isna().to_numpy()
    elif pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        text = s.astype("str") if s.dtype == object else s
        if ctx.text_input:  # CSV/XLSX cells: surrounding blanks are formatting, not data
            text = text.str.strip()
        empty = _empty(text)
    else:
        text = None
        empty = s.isna().to_numpy()
    if not col.nullable and empty.any():
        ctx.flag("empty_value", empty, None, col.name, col.expected)

    if col.kind in ("id", "string", "text"):
        if text is None and isinstance(s.dtype, pd.CategoricalDtype):  # Parquet dictionary: keep it compact
            return s.cat.remove_categories([""]) if "" in s.cat.categories else s
        res = text if text is not None else s.astype("str")
        return res.where(~empty) if empty.any() else res
    if col.kind == "enum":
        return _parse_enum(s if text is None else text, empty, col, ctx)
    if col.kind == "bool":
        return _parse_bool(s, text, empty, col, ctx)
    if col.kind in ("int", "float"):
        return _parse_number(s, text, empty, col, ctx)
    if col.kind == "month":
        values = text if text is not None else s.astype("string")
        bad = ~empty & ~values.fillna("").str.match(_MONTH).to_numpy()
        ctx.flag("unparseable", bad, s, col.name, col.expected)
        return pd.PeriodIndex([None if (e or b) else v for v, e, b in zip(values, empty, bad, strict=True)], freq="M")
    if col.kind == "date":
        parsed = pd.to_datetime(text if text is not None else s, format="ISO8601", errors="coerce")
        has_time = parsed.notna() & (parsed != parsed.dt.normalize())
        bad = (~empty & parsed.isna().to_numpy()) | has_time.to_numpy()
        ctx.flag("unparseable", bad, s, col.name, col.expected)
        parsed[bad] = pd.NaT
        future = parsed.notna() & (parsed.dt.date > ctx.as_of.tz_convert("UTC").date())
        ctx.flag("future_timestamp", future, s, col.name, f"a date on or before the as-of date {ctx.as_of.date()}")
        return parsed
    if col.kind == "list":
        values = text if text is not None else s.astype("string")
        return pd.Series(
            [
                () if e else tuple(p.strip() for p in str(v).split(";") if p.strip())
                for v, e in zip(values, empty, strict=True)
            ],
            index=s.index,
            dtype=object,
        )
    raise AssertionError(f"unhandled column kind {col.kind}")


def _parse_enum(values: pd.Series, empty: np.ndarray, col: schema.Column, ctx: _Ctx) -> pd.Series:
    dtype = pd.CategoricalDtype(categories=list(col.enum or ()), ordered=False)
    known = _isin(values, dtype.categories)
    if isinstance(values.dtype, pd.CategoricalDtype):  # Parquet dictionary columns: recode, never stringify
        cat = values.cat.set_categories(list(dtype.categories))
    else:
        cat = values.where(known).astype(dtype)
    bad = ~empty & ~known
    ctx.flag("enum", bad, values, col.name, col.expected)
    return cat


def _parse_bool(s: pd.Series, text: pd.Series | None, empty: np.ndarray, col: schema.Column, ctx: _Ctx) -> pd.Series:
    if text is None and pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    lowered = (text if text is not None else s.astype("string")).str.lower()
    result = pd.Series(pd.NA, index=s.index, dtype="boolean")
    result[lowered.isin(_TRUE).fillna(False).to_numpy()] = True
    result[lowered.isin(_FALSE).fillna(False).to_numpy()] = False
    bad = ~empty & result.isna().to_numpy()
    ctx.flag("unparseable", bad, s, col.name, col.expected)
    return result


def _parse_number(s: pd.Series, text: pd.Series | None, empty: np.ndarray, col: schema.Column, ctx: _Ctx) -> pd.Series:
    numbers = pd.to_numeric(text if text is not None else s, errors="coerce").astype("float64")
    unreadable = ~empty & numbers.isna().to_numpy()
    if col.kind == "int":
        unreadable |= (numbers.notna() & (numbers % 1 != 0)).to_numpy()
    ctx.flag("unparseable", unreadable, s, col.name, col.expected)
    numbers[unreadable] = np.nan
    if col.minimum is not None:
        low = (numbers < col.minimum).to_numpy()
        kind = "negative" if col.minimum == 0 else "out_of_range"
        ctx.flag(kind, low, s, col.name, col.expected)
        numbers[low] = np.nan
    if col.maximum is not None:
        high = (numbers > col.maximum).to_numpy()
        ctx.flag("out_of_range", high, s, col.name, col.expected)
        numbers[high] = np.nan
    return numbers.astype("Int64") if col.kind == "int" else numbers


def _parse_timestamps(s: pd.Series, col: schema.Column, ctx: _Ctx) -> pd.Series:
    """Tz-aware UTC timestamps. Naive values are errors unless datapack.yaml names a timezone."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        empty = blank = s.isna().to_numpy()
        if getattr(s.dt, "tz", None) is None:
            if ctx.tz is None:
                ctx.flag(
                    "naive_timestamp",
                    ~empty,
                    s,
                    col.name,
                    "timestamps with a timezone (or `timezone:` in datapack.yaml)",
                    detail="Parquet column has no timezone",
                )
                result = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
            else:
                result = s.dt.tz_localize(ctx.tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        else:
            result = s.dt.tz_convert("UTC")
        result = result.astype("datetime64[us, UTC]")
    else:
        text = (s.astype("str") if s.dtype == object else s).str.strip()
        empty = blank = (text.isna() | (text == "")).to_numpy()
        shaped = text.fillna("").str.contains(_TS_SHAPE, regex=True).to_numpy()
        has_offset = shaped & text.fillna("").str.contains(_TS_WITH_OFFSET, regex=True).to_numpy()
        result = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        if has_offset.any():
            parsed = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
            result[has_offset] = parsed.astype("datetime64[us, UTC]")
        naive = shaped & ~has_offset
        if naive.any():
            parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            if ctx.tz is not None:
                localized = parsed.dt.tz_localize(ctx.tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
                result[naive] = localized.astype("datetime64[us, UTC]")
            else:
                readable = np.zeros(len(s), dtype=bool)
                readable[np.flatnonzero(naive)] = parsed.notna().to_numpy()
                ctx.flag(
                    "naive_timestamp",
                    readable,
                    s,
                    col.name,
                    "an offset such as +08:00 or Z, or `timezone:` in datapack.yaml",
                    detail="no timezone offset",
                )
                naive &= ~readable  # reported; not also "unparseable"
                empty = empty | readable
        unreadable = ~empty & result.isna().to_numpy()
        ctx.flag("unparseable", unreadable, s, col.name, col.expected)
    if not col.nullable:
        ctx.flag("empty_value", blank, None, col.name, col.expected)
    future = (result > ctx.as_of).fillna(False).to_numpy()
    ctx.flag(
        "future_timestamp",
        future,
        s,
        col.name,
        f"a time on or before the pack's as-of {ctx.as_of.tz_convert('Asia/Kuala_Lumpur').isoformat()}",
    )
    return result


# --------------------------------------------------------------------------------------------------- rules


def _check_table_rules(df: pd.DataFrame, table: schema.Table, ctx: _Ctx) -> None:
    referenced = len(table.primary_key) == 1 and (table.name, table.primary_key[0]) in _REFERENCED
    if table.primary_key and all(c in df.columns for c in table.primary_key) and not referenced:
        _check_duplicates(df, table, ctx)  # referenced keys are checked with their references (_check_keys)
    for order in table.time_orders:
        if order.earlier in df.columns and order.later in df.columns:
            bad = (df[order.later] < df[order.earlier]).fillna(False).to_numpy()
            ctx.flag(
                "time_order",
                bad,
                df[order.later],
                order.later,
                f"{order.later} on or after {order.earlier}",
                related=(order.earlier, df[order.earlier]),
            )
    for column, other, wording in schema.ROW_RULES.get(table.name, ()):
        if column in df.columns and other in df.columns:
            bad = (df[column] > df[other]).fillna(False).to_numpy()
            ctx.flag("out_of_range", bad, df[column], column, wording)


def _check_duplicates(df: pd.DataFrame, table: schema.Table, ctx: _Ctx) -> None:
    key = list(table.primary_key)
    keyed = df[key]
    if len(key) == 1:
        dup = df[key[0]].duplicated(keep="first").to_numpy() & df[key[0]].notna().to_numpy()
    else:
        dup = (keyed.duplicated(keep="first") & keyed.notna().all(axis=1)).to_numpy()
    if not dup.any():
        return
    complete = keyed.notna().all(axis=1)
    first_rows: dict[tuple, int] = {}
    involved = keyed[keyed.duplicated(keep=False) & complete]
    for pos, row in zip(np.flatnonzero(df.index.isin(involved.index)), involved.itertuples(index=False), strict=True):
        first_rows.setdefault(tuple(row), pos + ctx.row_offset)
    values = keyed.astype("string").agg(" / ".join, axis=1) if len(key) > 1 else keyed[key[0]]
    positions = np.flatnonzero(dup)
    for pos in positions[:EXAMPLES_KEPT]:
        k = tuple(keyed.iloc[pos])
        ctx.report.add(
            Problem(
                "error",
                "duplicate_key",
                ctx.file,
                int(pos) + ctx.row_offset,
                " + ".join(key),
                _cell_text(values.iloc[pos]),
                f"a unique {' + '.join(key)}",
                f"same key as row {first_rows.get(k)}",
            )
        )
    if len(positions) > EXAMPLES_KEPT:
        ctx.report.totals[("error", "duplicate_key")] += len(positions) - EXAMPLES_KEPT


def _check_references(
    tables: dict[str, pd.DataFrame], files: dict[str, Path], path: Path, report: ValidationReport, meta: PackMeta
) -> None:
    _check_keys(tables, report, meta)
    for name, df in tables.items():
        ctx = _Ctx(report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, meta.as_of)
        if meta.surfaces and name == "actions" and "surface" in df.columns:
            bad = df["surface"].notna().to_numpy() & ~_isin(df["surface"], meta.surfaces)
            ctx.flag(
                "enum", bad, df["surface"], "surface", "a surface listed in datapack.yaml: " + ", ".join(meta.surfaces)
            )
        if meta.surfaces and name == "feature_changes" and "surfaces" in df.columns:
            bad = np.array([any(x not in meta.surfaces for x in v) for v in df["surfaces"]], dtype=bool)
            ctx.flag(
                "enum",
                bad,
                df["surfaces"].map(";".join),
                "surfaces",
                "surfaces listed in datapack.yaml: " + ", ".join(meta.surfaces),
            )


#: (table, column) pairs other tables refer to; their uniqueness is checked together with the references.
_REFERENCED = sorted({(fk.ref_table, fk.ref_column) for t in schema.TABLES.values() for fk in t.foreign_keys})


def _check_keys(tables: dict[str, pd.DataFrame], report: ValidationReport, meta: PackMeta) -> None:
    """Uniqueness of each referenced key and every foreign key into it, from one dictionary encoding.

    Hashing ten million ids is the dominant validation cost, so the key column and all referencing columns are
    encoded in a single pass (Arrow shares the dictionary across chunks): a code seen twice in the key column is a
    duplicate, a referencing code never seen in it is dangling."""
    for target_name, key in _REFERENCED:
        target = tables.get(target_name)
        if target is None or key not in target.columns:
            continue
        refs = [
            (name, fk)
            for name, df in tables.items()
            for fk in schema.table(name).foreign_keys
            if (fk.ref_table, fk.ref_column) == (target_name, key) and fk.column in df.columns
        ]
        codes, size = _key_codes([target[key]] + [tables[name][fk.column] for name, fk in refs])
        own = codes[: len(target)]
        counts = np.bincount(own[own >= 0], minlength=size)
        if (counts > 1).any():  # rare: report with the exact, first-row-naming path
            t_ctx = _Ctx(
                report, target.attrs.get("file", target_name), target.attrs.get("row_offset", 2), None, meta.as_of
            )
            _check_duplicates(target, schema.table(target_name), t_ctx)
        offset = len(target)
        for name, fk in refs:
            df = tables[name]
            seg = codes[offset : offset + len(df)]
            offset += len(df)
            bad = (seg >= 0) & (counts[np.maximum(seg, 0)] == 0)
            ctx = _Ctx(report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, meta.as_of)
            expected = f"an {key} that exists in {target.attrs.get('file', target_name)}"
            ctx.flag("dangling_reference", bad, df[fk.column], fk.column, expected)


def _key_codes(columns: list[pd.Series]) -> tuple[np.ndarray, int]:
    """Dictionary codes (-1 for empty) of the columns concatenated, and the dictionary size.

    Uses each column's own Arrow chunks (no combined copy) and keeps only the int32 codes."""
    import pyarrow as pa

    arrays = [_arrow_chunks(c) for c in columns]
    first = arrays[0].type
    kind = first if pa.types.is_string(first) or pa.types.is_large_string(first) else pa.large_string()
    chunks = [ch if ch.type == kind else ch.cast(kind) for a in arrays for ch in a.chunks]
    encoded = pa.chunked_array(chunks, type=kind).dictionary_encode()
    del chunks, arrays
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), 0
    size = len(encoded.chunks[0].dictionary)
    codes = np.concatenate(
        [ch.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False) for ch in encoded.chunks]
    )
    del encoded
    _release_arrow_memory()
    return codes, size


def _arrow_chunks(values: pd.Series) -> Any:
    """The column as a ChunkedArray, zero-copy for Arrow-backed strings."""
    import pyarrow as pa

    native = getattr(values.array, "_pa_array", None)  # pandas' ArrowStringArray / ArrowExtensionArray
    if isinstance(native, pa.ChunkedArray):
        return native
    arr = _arrow(values)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _finish_users(
    tables: dict[str, pd.DataFrame], files: dict[str, Path], path: Path, report: ValidationReport, meta: PackMeta
) -> None:
    """Normalise users.age_verified to a share of mau, checking it against the declared or inferred unit."""
    users = tables.get("users")
    if users is None or "age_verified" not in users.columns:
        return
    ctx = _Ctx(report, users.attrs.get("file", "users"), users.attrs.get("row_offset", 2), None, meta.as_of)
    values = users["age_verified"]
    unit = meta.age_verified_unit
    if unit is None:
        unit = "share" if bool((values.dropna() <= 1).all()) else "count"
        ctx.problem(
            "inferred",
            severity="info",
            column="age_verified",
            detail=f"read as a {unit} ({'every value <= 1' if unit == 'share' else 'some values > 1'})",
            expected="age_verified_unit: share|count in datapack.yaml",
        )
    mau = users["mau"].astype("float64")
    if unit == "share":
        bad = (values > 1).fillna(False).to_numpy()
        ctx.flag("out_of_range", bad, values, "age_verified", "a share between 0 and 1 (age_verified_unit: share)")
        share = values.where(~bad)
    else:
        bad = (values > mau).fillna(False).to_numpy()
        ctx.flag("out_of_range", bad, values, "age_verified", "a count no larger than mau (age_verified_unit: count)")
        share = (values / mau.where(mau > 0)).where(~bad)
    users["age_verified"] = share.astype("float64")
    users.attrs["age_verified_unit"] = unit


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
