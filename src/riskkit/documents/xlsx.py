"""One writer for every workbook riskkit makes: a cover sheet, then one typed, filterable sheet per table.

Every cell is typed by its column's kind — real numbers, percentages, Excel dates and datetimes, never numbers
stored as text — so a reader can sort, filter and sum. Datetimes are shown in Malaysian time (the column label says
"(MYT)"), missing values are empty cells.

**Formula injection.** openpyxl stores any string starting with ``=`` as a formula, and Excel runs it. Here every
text cell is an explicit string cell (``data_type = "s"``: an inline string, never an ``<f>`` element), and text
starting with ``= + - @``, tab or carriage return also gets Excel's *quotePrefix* style — what Excel itself records
when someone types ``'=...`` — so it stays text even after someone edits the cell. The visible value is the original
text; nothing is prepended (unlike CSV, see :func:`riskkit.documents.tabular.neutralise`). Text that openpyxl would
read as an error value (``#N/A``) is kept as text the same way.

Text is otherwise kept as written, except what a worksheet cannot hold: control characters other than tab and line
feed become U+FFFD, carriage returns become line feeds (Excel's in-cell line break; XML readers turn them into line
feeds anyway), a literal ``_xHHHH_`` is escaped as ECMA-376 requires (``_x005F_xHHHH_``) so Excel shows it as
written, and text longer than 32,767 characters (Excel's cell limit) is cut there, ending with an ellipsis.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from riskkit.documents import DocumentError
from riskkit.documents.files import atomic_path
from riskkit.documents.tabular import DANGEROUS_FIRST

Kind = Literal["text", "integer", "number", "percent", "date", "datetime", "hours"]
KINDS: tuple[str, ...] = get_args(Kind)
#: Excel number format of each kind (``text`` has none).
FORMATS: dict[str, str] = {
    "integer": "#,##0",
    "number": "#,##0.00",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "hours": "#,##0.0",
}
TIMEZONE = "Asia/Kuala_Lumpur"
MYT = "(MYT)"
COVER = "Cover"
MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767  # characters in one cell
MIN_WIDTH, MAX_WIDTH = 8, 60
FORBIDDEN_IN_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="F3F5F7", end_color="F3F5F7")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="90A4AE"))
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Column:
    """One column of a data sheet: ``key`` in the frame, the ``label`` shown, the ``kind`` that types its cells,
    and optionally an Excel ``number_format`` instead of the kind's (e.g. ``"0.000"``)."""

    key: str
    label: str
    kind: Kind = "text"
    number_format: str | None = None
    kinds: str | None = None  # a column of the frame giving each row's kind (a column of mixed units)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def header(self) -> str:
        """The label as written: a datetime column's says it is Malaysian time."""
        if self.kind == "datetime" and MYT not in self.label:
            return f"{self.label} {MYT}"
        return self.label

    @property
    def format(self) -> str | None:
        """The Excel number format of this column's cells (``None`` for text)."""
        return self.number_format or FORMATS.get(self.kind)


@dataclass(frozen=True)
class Sheet:
    """A data sheet: its tab ``name`` (made safe and unique when written), a ``title`` (on the cover's contents
    and as the printed page header), the rows, the columns to write in order (``None``: every column of the frame,
    kinds taken from its dtypes) and an optional ``note`` for the cover."""

    name: str
    title: str
    frame: pd.DataFrame
    columns: Sequence[Column] | None = None
    note: str | None = None


@dataclass(frozen=True)
class Cover:
    """The first sheet: label/value rows (run, platform, cycle, sources, …), then the workbook's contents."""

    fields: Sequence[tuple[str, str]] = field(default_factory=tuple)


def infer_columns(frame: pd.DataFrame) -> list[Column]:
    """Columns for every column of ``frame``: integers, floats and datetimes typed, everything else text."""
    columns = []
    for key in frame.columns:
        dtype = frame[key].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind = "text"
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "integer"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "number"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = "datetime"
        elif pd.api.types.is_timedelta64_dtype(dtype):
            kind = "hours"
        else:
            kind = "text"
        columns.append(Column(str(key), str(key), kind))
    return columns


def safe_sheet_names(names: Iterable[str], *, taken: Iterable[str] = (COVER,)) -> list[str]:
    """Tab names Excel accepts, in order: forbidden characters ``[]:*?/\\`` (and control characters) become ``_``,
    no leading or trailing apostrophe, at most 31 characters, never empty or ``History`` (reserved by Excel), and
    unique ignoring case — also against ``taken`` — by a `` (2)``, `` (3)``… suffix."""
    used = {t.casefold() for t in taken}
    out = []
    for raw in names:
        base = FORBIDDEN_IN_NAME.sub("_", str(raw)).strip().strip("'").strip() or "Sheet"
        if base.casefold() == "history":
            base = "History_"
        base = base[:31]
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)].rstrip() + suffix
        used.add(name.casefold())
        out.append(name)
    return out


def write_workbook(
    path: str | os.PathLike[str], cover: Cover, sheets: Sequence[Sheet], *, overwrite: bool = False
) -> Path:
    """Write ``cover`` and ``sheets`` to an xlsx file at ``path``, atomically: the file is complete or absent.

    Data sheets have a bold header row, panes frozen below it, an autofilter over the data, column widths from the
    content (8 to 60 characters), cells typed by kind, and print settings (landscape, fit to width, header row
    repeated, the title as page header, "Page N of M" footer). Raises :class:`DocumentError` if ``path`` exists and
    ``overwrite`` is false, or if a sheet has more rows or columns than Excel allows; returns the path written."""
    if not overwrite and Path(path).exists():  # before any work (atomic_path checks again at the move)
        raise DocumentError(f"{path} already exists (pass overwrite=True to replace it)")
    names = safe_sheet_names(s.name for s in sheets)
    plans = []
    for sheet, name in zip(sheets, names, strict=True):
        columns = list(sheet.columns) if sheet.columns is not None else infer_columns(sheet.frame)
        missing = [c.key for c in columns if c.key not in sheet.frame.columns]
        if missing:
            raise DocumentError(f"sheet {sheet.name!r}: no column(s) {', '.join(map(repr, missing))} in the frame")
        if not columns:
            raise DocumentError(f"sheet {sheet.name!r} has no columns")
        if len(sheet.frame) + 1 > MAX_ROWS or len(columns) > MAX_COLUMNS:
            raise DocumentError(
                f"sheet {sheet.name!r}: {len(sheet.frame):,} rows × {len(columns)} columns do not fit in one "
                f"worksheet (at most {MAX_ROWS - 1:,} rows and {MAX_COLUMNS:,} columns): export it as CSV"
            )
        plans.append((sheet, name, columns))

    wb = Workbook(write_only=True)
    wb.properties.creator = "riskkit"
    _write_cover(wb, cover, [(name, sheet) for sheet, name, _ in plans])
    for sheet, name, columns in plans:
        _write_sheet(wb, name, sheet, columns)
    with atomic_path(path, overwrite=overwrite) as tmp:
        wb.save(tmp)
    return Path(path)


def _write_cover(wb: Workbook, cover: Cover, contents: list[tuple[str, Sheet]]) -> None:
    ws = wb.create_sheet(COVER)
    rows: list[tuple[str, str]] = [(str(k), "" if v is None else str(v)) for k, v in cover.fields]
    listing = [
        (name, f"{sheet.title}{'. ' + sheet.note if sheet.note else ''} ({len(sheet.frame):,} rows)")
        for name, sheet in contents
    ]
    labels = [k for k, _ in rows] + [n for n, _ in listing] + ["Contents"]
    ws.column_dimensions["A"].width = min(max(MIN_WIDTH, *(len(k) + 2 for k in labels)), 40)
    ws.column_dimensions["B"].width = 100
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for label, value in rows:
        ws.append([_label_cell(ws, label), _text_cell(ws, value, wrap=True)])
    if listing:
        if rows:
            ws.append([])
        ws.append([_label_cell(ws, "Contents")])
        for name, text in listing:
            ws.append([_label_cell(ws, name), _text_cell(ws, text, wrap=True)])


def _write_sheet(wb: Workbook, name: str, sheet: Sheet, columns: list[Column]) -> None:
    ws = wb.create_sheet(name)
    converted = []
    for col in columns:
        kinds = sheet.frame[col.kinds].tolist() if col.kinds else None
        values, width = _convert(ws, sheet.frame[col.key], col, kinds)
        converted.append(values)
        letter = get_column_letter(len(converted))
        ws.column_dimensions[letter].width = min(max(width, len(col.header) + 4, MIN_WIDTH), MAX_WIDTH)
    last = get_column_letter(len(columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{len(sheet.frame) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = sheet.title.replace("&", "&&")
    ws.oddFooter.center.text = "Page &P of &N"

    header = []
    for col in columns:
        cell = _text_cell(ws, col.header, force_cell=True)
        cell.font, cell.fill, cell.border, cell.alignment = _BOLD, _HEADER_FILL, _HEADER_BORDER, _WRAP_TOP
        header.append(cell)
    ws.append(header)
    for row in zip(*converted, strict=True):
        ws.append(row)


def _label_cell(ws: Any, text: str) -> WriteOnlyCell:
    cell = _text_cell(ws, text, force_cell=True)
    cell.font, cell.alignment = _BOLD, _WRAP_TOP
    return cell


def clean_text(text: str) -> str:
    """``text`` as a worksheet cell can hold it (see the module docstring); the value read back by openpyxl
    equals this, except that a ``_xHHHH_`` escape reads back escaped."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("\ufffd", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "_x" in text:
        text = _XESCAPE.sub(r"_x005F_\1", text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


def _text_cell(ws: Any, value: str, *, wrap: bool = False, force_cell: bool = False) -> Any:
    """A string cell that is never a formula nor an error value; plain text goes in as a plain value (cheaper)."""
    text = clean_text(value)
    risky = text.startswith(DANGEROUS_FIRST) or text in ERROR_CODES
    if not (risky or wrap or force_cell):
        return text
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if risky:
        cell.quotePrefix = True
    if wrap:
        cell.alignment = _WRAP_TOP
    return cell


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _convert(ws: Any, series: pd.Series, col: Column, kinds: list[str] | None = None) -> tuple[list[Any], int]:
    """The cells of one column and the width its longest value needs (``kinds``: one kind per row)."""
    out: list[Any] = []
    width = 0
    if col.kind in ("date", "datetime") and isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(TIMEZONE).dt.tz_localize(None)  # once per column, not per value
    for i, value in enumerate(series.tolist()):
        kind = kinds[i] if kinds is not None and kinds[i] in KINDS else col.kind
        fmt = col.number_format or FORMATS.get(kind)
        if _missing(value):
            out.append(None)
            continue
        typed = _typed(value, kind)
        if typed is None:  # not of the column's kind: keep what was there, as text
            text = _as_text(value)
            out.append(_text_cell(ws, text))
            width = max(width, _text_width(text))
            continue
        if kind == "text":
            out.append(_text_cell(ws, typed))
            width = max(width, _text_width(typed))
            continue
        cell = WriteOnlyCell(ws, value=typed)
        cell.number_format = fmt
        out.append(cell)
        width = max(width, _number_width(typed, kind))
    return out, width + 2


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(_as_text(v) for v in value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _typed(value: object, kind: str) -> Any:
    """``value`` as the Python value openpyxl writes for ``kind``, or ``None`` if it is not one."""
    if kind == "text":
        return _as_text(value)
    if kind in ("integer", "number", "percent", "hours"):
        if kind == "hours" and isinstance(value, dt.timedelta | pd.Timedelta):
            return pd.Timedelta(value).total_seconds() / 3600
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ""))
            except ValueError:
                return None
        try:
            number = float(value)  # numpy and Python numbers, bools
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        if kind == "integer" and number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    stamp = _timestamp(value)
    if stamp is None:
        return None
    return stamp.date() if kind == "date" else stamp.to_pydatetime(warn=False).replace(tzinfo=None)


def _timestamp(value: object) -> pd.Timestamp | None:
    """A naive timestamp in Malaysian time: aware values are converted, naive ones are taken as Malaysian."""
    if isinstance(value, pd.Timestamp) and value.tzinfo is None:
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return pd.Timestamp(value)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TIMEZONE).tz_localize(None)
    return stamp


def _text_width(text: str) -> int:
    return max((len(line) for line in text.split("\n")), default=0)


def _number_width(value: Any, kind: str) -> int:
    if kind in ("date",):
        return 10
    if kind == "datetime":
        return 19
    if kind == "percent":
        return len(f"{value * 100:.1f}%")
    if kind == "integer":
        return len(f"{value:,.0f}")
    if kind == "hours":
        return len(f"{value:,.1f}")
    return len(f"{value:,.2f}")
