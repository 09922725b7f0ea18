"""Read DSA Transparency Database dumps as Arrow tables of strings in the daily-dump CSV form.

Inputs are CSV chunks, their zip-of-zips packaging (checksum ``.sha1`` files and other members are skipped and
listed) or Parquet. Every table comes back with one string column per dump column, never null, lists as JSON arrays
and dates as ``YYYY-MM-DD HH:MM:SS`` — Parquet is converted to that form — so the mapping sees one shape.

CSV files up to :data:`WHOLE_FILE_BYTES` are parsed whole by Arrow's multi-threaded reader (a dump chunk holds
about 100,000 statements); larger ones are streamed block by block, so memory stays bounded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from riskkit.exceptions import ParameterError, RiskkitError

WHOLE_FILE_BYTES = 256 << 20
BLOCK_BYTES = 1 << 20
SKIPPED_SUFFIXES = (".sha1",)
#: Zip limits, checked on every member's declared sizes before it is opened (Python's zipfile never inflates a
#: member past its declared size): a member may inflate to at most MAX_ZIP_RATIO times its compressed size (dump
#: CSV compresses about 10-20 times), an inner zip — read into memory — to at most MAX_INNER_ZIP_BYTES, and zips
#: nest at most MAX_ZIP_DEPTH deep (the dump is a zip of zips).
MAX_ZIP_RATIO = 200
MAX_INNER_ZIP_BYTES = 2 << 30
MAX_ZIP_DEPTH = 2
READABLE_SUFFIXES = (".csv", ".zip", ".parquet")


class DsaImportError(RiskkitError):
    """The dump cannot be imported as it is (conflicting ids, unreadable file, several platforms for one pack…);
    nothing is written."""


@dataclass
class Inputs:
    """The files given, their checksums, and what was skipped (checksum files, unknown zip members)."""

    files: list[Path] = field(default_factory=list)
    described: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def collect(paths: list[Path]) -> Inputs:
    """Check the inputs exist and have a known suffix; ``.sha1`` files are skipped (listed in ``skipped``).

    Their SHA-256 is computed by :func:`checksums` (in a thread, while the import reads them)."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ParameterError("no such input file: " + ", ".join(missing))
    out = Inputs()
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in SKIPPED_SUFFIXES:
            out.skipped.append(path.name)
            continue
        if suffix not in READABLE_SUFFIXES:
            raise ParameterError(f"{path}: expected a dump .csv, .zip (of zips) or .parquet file (or a .sha1, skipped)")
        out.files.append(path)
        out.described.append({"file": path.name, "bytes": path.stat().st_size})
    if not out.files:
        raise ParameterError("no dump file among the inputs (only checksum files)")
    return out


def checksums(inputs: Inputs) -> Callable[[], None]:
    """Start hashing the input files in a background thread (hashlib releases the GIL); the returned function
    waits for it and records ``sha256`` in ``inputs.described``."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskkit-sha256")
    futures = [pool.submit(_sha256, path) for path in inputs.files]
    pool.shutdown(wait=False)

    def finish() -> None:
        for entry, future in zip(inputs.described, futures, strict=True):
            entry["sha256"] = future.result()

    return finish


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def tables(
    path: Path,
    rows: int,
    skipped: list[str],
    columns: list[str] | None = None,
    sources: set[str] | None = None,
) -> Iterator[tuple[str, pa.Table, int]]:
    """(source name, table of string columns, first row) for every chunk of ``path``, at most ``rows`` rows each.

    ``first row`` is the row of the chunk's first statement as a spreadsheet shows the file (header = row 1) for
    CSV, and counted from 1 for Parquet. ``columns`` limits what is read (None: everything); ``sources`` limits
    which sources are parsed (None: all)."""
    suffix = path.suffix.lower()
    if sources is not None and path.name not in sources and not any(s.startswith(path.name + "/") for s in sources):
        return
    if suffix == ".csv":
        size = path.stat().st_size
        yield from _csv(path.name, lambda: path.open("rb"), size, rows, columns, native=str(path))
    elif suffix == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise DsaImportError(f"{path.name}: not a readable zip file ({exc})") from None
        with zf:
            yield from _zip(path.name, zf, rows, skipped, columns, sources, depth=1)
    else:
        yield from _parquet(path, rows, columns)


def _zip(
    name: str,
    zf: zipfile.ZipFile,
    rows: int,
    skipped: list[str],
    columns,
    sources: set[str] | None = None,
    depth: int = 1,
) -> Iterator[tuple[str, pa.Table, int]]:
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        member, lower = info.filename, info.filename.lower()
        if info.is_dir():
            continue
        where = f"{name}/{member}"
        if sources is not None and where not in sources and not any(s.startswith(where + "/") for s in sources):
            continue
        if lower.endswith((".zip", ".csv")):
            check_zip_member(where, info, depth)
        if lower.endswith(".zip"):
            # an inner zip holds at most a million statements (the dump format); read whole, then its CSV chunks
            with zf.open(info) as inner:
                data = io.BytesIO(inner.read())
            try:
                inner_zip = zipfile.ZipFile(data)
            except zipfile.BadZipFile as exc:
                raise DsaImportError(f"{where}: not a readable zip file ({exc})") from None
            with inner_zip:
                yield from _zip(where, inner_zip, rows, skipped, columns, sources, depth + 1)
        elif lower.endswith(".csv"):
            yield from _csv(where, lambda info=info: zf.open(info), info.file_size, rows, columns, member=True)
        else:
            skipped.append(where)


def check_zip_member(where: str, info: zipfile.ZipInfo, depth: int) -> None:
    """Refuse a member that would inflate past the stated limits (a zip bomb), before a byte of it is read."""
    size, packed = info.file_size, max(info.compress_size, 1)
    limit = "; nothing was written (limits: riskkit.importers.dsa_read.MAX_ZIP_RATIO / MAX_INNER_ZIP_BYTES)"
    if size > (1 << 20) and size > MAX_ZIP_RATIO * packed:
        raise DsaImportError(
            f"{where}: would inflate from {packed:,} to {size:,} bytes, more than {MAX_ZIP_RATIO} times its "
            f"compressed size (a zip bomb?){limit}"
        )
    if where.lower().endswith(".zip"):
        if depth >= MAX_ZIP_DEPTH:
            raise DsaImportError(f"{where}: zips nested deeper than a dump's zip of zips{limit}")
        if size > MAX_INNER_ZIP_BYTES:
            raise DsaImportError(
                f"{where}: an inner zip of {size:,} bytes, more than the {MAX_INNER_ZIP_BYTES:,} read into memory{limit}"
            )


def _header(name: str, opener: Callable[[], IO[bytes]]) -> list[str]:
    with opener() as raw:
        line = raw.readline(1 << 20)
    try:
        first = next(csv.reader([line.decode("utf-8-sig")]), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DsaImportError(f"{name}: the header row is not readable UTF-8 CSV ({exc})") from None
    if not first:
        raise DsaImportError(f"{name}: empty file (no header row)")
    return [c.strip() for c in first]


def _csv(
    name: str,
    opener: Callable[[], IO[bytes]],
    size: int,
    rows: int,
    columns: list[str] | None,
    native: str | None = None,
    member: bool = False,
) -> Iterator[tuple[str, pa.Table, int]]:
    """``native``: a file path Arrow reads itself (no Python file object in the loop); ``member``: a zip member,
    read into memory first when small enough, for the same reason."""
    header = _header(name, opener)
    wanted = [c for c in header if columns is None or c in columns]
    convert = pcsv.ConvertOptions(
        column_types={c: pa.string() for c in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=wanted if columns is not None else None,
    )
    read = pcsv.ReadOptions(block_size=BLOCK_BYTES, column_names=header, skip_rows=1)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    first_row = 2
    try:
        with opener() as fh:
            if size <= WHOLE_FILE_BYTES:
                source: Any = native or (pa.BufferReader(pa.py_buffer(fh.read())) if member else fh)
                table = pcsv.read_csv(source, read_options=read, parse_options=parse, convert_options=convert)
                table = table.combine_chunks()
                for start in range(0, table.num_rows, rows):
                    part = table.slice(start, rows)
                    yield name, part, first_row + start
                return
            reader = pcsv.open_csv(native or fh, read_options=read, parse_options=parse, convert_options=convert)
            pending: list[pa.RecordBatch] = []
            count = 0
            for batch in reader:
                pending.append(batch)
                count += batch.num_rows
                if count >= rows:
                    yield name, pa.Table.from_batches(pending).combine_chunks(), first_row
                    first_row += count
                    pending, count = [], 0
            if pending:
                yield name, pa.Table.from_batches(pending).combine_chunks(), first_row
    except pa.ArrowInvalid as exc:
        message = str(exc).strip().splitlines()[0]
        if "UTF8" in message or "UTF-8" in message:
            raise DsaImportError(f"{name}: not UTF-8 ({_utf8_location(opener, header)})") from None
        raise DsaImportError(f"{name}: not a readable dump CSV ({message[:300]})") from None


def _utf8_location(opener: Callable[[], IO[bytes]], header: list[str]) -> str:
    """Where the first invalid UTF-8 cell is (only called on the error path)."""
    convert = pcsv.ConvertOptions(column_types={c: pa.binary() for c in header})
    read = pcsv.ReadOptions(column_names=header, skip_rows=1, use_threads=False)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    try:
        with opener() as fh:
            table = pcsv.read_csv(fh, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:  # pragma: no cover - the file is broken in more ways
        return str(exc).splitlines()[0]
    for col in header:
        for i, value in enumerate(table.column(col).to_pylist()):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"row {i + 2}, column {col}: {exc.reason} at byte {exc.start}"
    return "invalid UTF-8"  # pragma: no cover


def _parquet(path: Path, rows: int, columns: list[str] | None) -> Iterator[tuple[str, pa.Table, int]]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DsaImportError(f"{path.name}: not a readable Parquet file ({exc})") from None
    names = [c for c in pf.schema_arrow.names if columns is None or c in columns]
    first_row = 1
    for batch in pf.iter_batches(batch_size=rows, columns=names):
        table = as_csv_strings(pa.Table.from_batches([batch]))
        yield path.name, table, first_row
        first_row += batch.num_rows


def as_csv_strings(table: pa.Table) -> pa.Table:
    """Typed (Parquet) columns in the CSV dump's string form: lists as JSON arrays, dates 'YYYY-MM-DD HH:MM:SS',
    booleans Yes/No, empty for null."""
    out = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        out[name] = _as_string(col)
    return pa.table(out)


def _as_string(col: pa.Array) -> pa.Array:
    kind = col.type
    if pa.types.is_dictionary(kind):
        return _as_string(col.cast(kind.value_type))
    if pa.types.is_string(kind):
        return col.fill_null("")
    if pa.types.is_large_string(kind):
        return col.cast(pa.string()).fill_null("")
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return pc.strftime(col, format="%Y-%m-%d %H:%M:%S").fill_null("")
    if pa.types.is_boolean(kind):
        return pc.if_else(col, "Yes", "No").fill_null("")
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values = col.cast(pa.list_(pa.string()))
        joined = pc.binary_join(values, '","')
        text = pc.binary_join_element_wise('["', joined, '"]', "")
        empty = pc.equal(pc.list_value_length(values), 0)
        return pc.if_else(empty, "[]", text).fill_null("")
    return col.cast(pa.string()).fill_null("")
