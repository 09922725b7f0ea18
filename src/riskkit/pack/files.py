"""Locate a pack's files and read them into raw frames: CSV (UTF-8 checked while streaming), Parquet, XLSX."""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.exceptions import RiskkitError
from riskkit.pack.columns import check_header, typed_frame
from riskkit.pack.model import DATAPACK_YAML, PackMeta
from riskkit.pack.problems import FileContext, Problem, ValidationReport

TABLE_EXTENSIONS = (".parquet", ".csv")


AUDIT_EXTENSIONS = (".csv", ".xlsx", ".parquet")


def locate_tables(path: Path, meta: PackMeta, report: ValidationReport) -> dict[str, Path]:
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
        file = inside_pack(path, str(rel), f"tables.{name}", report)
        if file is None:
            continue
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
        elif candidates and inside_folder(path, candidates[0], report):
            found[t.name] = candidates[0]
    return found


def locate_audits(path: Path, meta: PackMeta, report: ValidationReport) -> dict[str, Path]:
    declared = meta.raw.get("audits")
    if isinstance(declared, dict):
        found = {}
        for name, rel in declared.items():
            file = inside_pack(path, str(rel), f"audits.{name}", report)
            if file is None:
                continue
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
    if not folder.is_dir() or not inside_folder(path, folder, report):
        return {}
    return {
        f.stem: f
        for f in sorted(folder.iterdir())
        if f.suffix.lower() in AUDIT_EXTENSIONS and f.is_file() and inside_folder(path, f, report)
    }


def _leaves(pack: Path, file: Path) -> bool:
    """True when ``file`` (a path inside ``pack`` as written) resolves outside it: a symlink leading out, or a loop."""
    try:
        file.resolve(strict=False).relative_to(pack.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def inside_folder(pack: Path, file: Path, report: ValidationReport) -> bool:
    """For a file riskkit finds by its default name (``actions.csv``, ``audits/*.csv``, ``datapack.yaml``): True
    when it resolves inside the pack folder; otherwise an error naming the file, and False. Input is only ever
    read from inside the pack: a symlink to ``/etc`` or to another team's pack is refused, never followed."""
    if not _leaves(pack, file):
        return True
    report.add(
        Problem(
            "error",
            "outside_pack",
            file.relative_to(pack).as_posix(),
            detail="a symlink that resolves outside the pack folder",
            expected="the file or folder itself inside the pack folder (copy it in instead of linking to it)",
        )
    )
    return False


def inside_pack(pack: Path, rel: str, key: str, report: ValidationReport) -> Path | None:
    """``pack/rel`` when it stays inside the pack folder (no absolute path, no ``..``, no symlink leading out);
    otherwise an error naming the datapack.yaml key, and None."""
    candidate = Path(rel)
    reason = ""
    if candidate.is_absolute():
        reason = "an absolute path"
    elif ".." in candidate.parts:
        reason = "a path with '..'"
    elif _leaves(pack, pack / candidate):
        reason = "a path that resolves outside the pack folder (a symlink?)"
    if reason:
        report.add(
            Problem(
                "error",
                "datapack_yaml",
                DATAPACK_YAML,
                column=key,
                value=rel,
                detail=reason,
                expected="a file inside the pack folder, named relative to it",
            )
        )
        return None
    return pack / candidate


class NotUtf8(Exception):
    pass


def decode_text(file: Path, report: ValidationReport) -> str:
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
        raise NotUtf8 from exc


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
                except NotUtf8:
                    return False
                raise
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            report.add(Problem("error", "encoding", rel, row=line, detail="file ends inside a multi-byte character"))
            return False
    return True


def read_table(
    path: Path, file: Path, table: schema.Table, report: ValidationReport, tz: ZoneInfo | None, as_of: pd.Timestamp
) -> pd.DataFrame | None:
    """The file as a typed frame (see :func:`~riskkit.pack.columns.typed_frame`), or None when it is unusable.

    The header is checked as written, before the data is read (a reader would rename a repeated column)."""
    rel = file.relative_to(path).as_posix()
    suffix = file.suffix.lower()
    ctx = FileContext(report, rel, 2 if suffix in (".csv", ".xlsx") else 1, tz, as_of)
    known = set(table.column_names)
    projected = len(table.columns) < len(schema.TABLES[table.name].columns)
    header_row = None if suffix == ".parquet" else 1
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(file).names
            header = [c for c in names if c in known] if projected else names
            if not check_header(header, table, ctx, header_row):
                return None
            arrow = pq.read_table(file, columns=[c for c in names if c in known])
            ctx.nan_cells.update(_nan_cells(arrow))
            raw = arrow.to_pandas(split_blocks=True, self_destruct=True)  # halves the conversion peak
            del arrow
        elif suffix == ".xlsx":
            sheet = pd.read_excel(file, dtype=str, keep_default_na=False, engine="openpyxl", header=None)
            sheet = sheet.fillna("")
            header = [str(c) for c in sheet.iloc[0]] if len(sheet) else []
            if not check_header(header, table, ctx, header_row):
                return None
            raw = sheet.iloc[1:].reset_index(drop=True)
            raw.columns = header
        else:
            if not _check_utf8_file(file, rel, report):
                return None
            header = _csv_header(file)
            if header is not None and not check_header(
                [h for h in header if h.strip() in known] if projected else header, table, ctx, header_row
            ):
                return None
            raw = pd.read_csv(
                file,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
                usecols=(lambda c: c.strip() in known) if projected else None,
            )
            if header is None:
                header = list(raw.columns)
                check_header(header, table, ctx, header_row)
    except RiskkitError:
        raise
    except Exception as exc:  # pandas / pyarrow / openpyxl raise many types for unreadable files
        line = re.search(r"Expected \d+ fields in line (\d+)", str(exc))
        row = int(line.group(1)) if line else None
        detail, expected = _first_line(exc), _expected_format(suffix)
        report.add(Problem("error", "malformed_file", rel, row=row, detail=detail, expected=expected))
        return None

    return typed_frame(raw, header, table, ctx, header_row=header_row, header_checked=True)


def _csv_header(file: Path) -> list[str] | None:
    """The first record of a CSV file as written (None for an empty file: the reader reports it)."""
    with file.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), None)


def _nan_cells(arrow: Any) -> dict[str, np.ndarray]:
    """Per floating-point column of an Arrow table, where it holds NaN (as opposed to null), when it does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {}
    for name, column in zip(arrow.column_names, arrow.columns, strict=True):
        if pa.types.is_floating(column.type):
            mask = pc.fill_null(pc.is_nan(column), False).to_numpy(zero_copy_only=False)
            if mask.any():
                out[name] = mask
    return out


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _expected_format(suffix: str) -> str:
    return {
        ".parquet": "a readable Parquet file",
        ".xlsx": "a readable Excel workbook whose first sheet has the questionnaire columns",
    }.get(suffix, "a CSV file with a header row and the same number of fields on every row")
