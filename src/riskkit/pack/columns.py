"""Type each column of a raw table by the data contract, reporting every value that does not fit.

The one place a table's columns are checked, whatever the format (CSV, XLSX, Parquet, in-memory frames): the
header (each column once, however it is cased or padded), each column's physical type (a Parquet column of
integers is not a timestamp), and each value — numbers finite and within 2^53, counts not negative, times and
months not before 2000 nor after the pack's as-of.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.exceptions import ParameterError
from riskkit.pack.checks import check_table_rules
from riskkit.pack.problems import FileContext, Problem, ValidationReport

_TS_WITH_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


_TS_SHAPE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


_MONTH = r"^\d{4}-(?:0[1-9]|1[0-2])$"


_TRUE = {"true", "t", "yes", "y", "1"}


_FALSE = {"false", "f", "no", "n", "0"}


#: Larger numbers are not exact in a float64 (every count is summed as one): beyond it, a value is a unit mistake.
MAX_EXACT = 2**53

#: Nothing riskkit reports on happened before this instant; earlier times are placeholders or unit mistakes.
EARLIEST = pd.Timestamp("2000-01-01T00:00:00+08:00")

#: Columns that may legitimately hold old times (when a platform first hosted an item): flagged as a warning.
_OLD_TIMES_POSSIBLE = frozenset({"content_posted_at"})


def projected(table: schema.Table, wanted: Sequence[str], report: ValidationReport) -> schema.Table:
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


def _normal(name: object) -> str:
    return str(name).strip().casefold()


def check_header(header: Sequence[object], table: schema.Table, ctx: FileContext, header_row: int | None) -> bool:
    """Check a table's column names as written: every column once (names that differ only in case or surrounding
    spaces are the same column), unknown columns (a warning), required columns present (with a hint when only the
    case differs). False when the table cannot be read (a repeated column: which one holds the data?)."""
    known = set(table.column_names)
    first: dict[str, int] = {}
    usable = True
    for i, name in enumerate(header):
        key = _normal(name)
        if key in first:
            j = first[key]
            same = "the same name" if str(header[j]) == str(name) else "the same name, apart from case or spaces,"
            ctx.problem(
                "duplicate_column",
                row=header_row,
                column=str(name),
                detail=f"column {i + 1} has {same} as column {j + 1} ({str(header[j])!r})",
                expected="each column once",
            )
            usable = False
        else:
            first[key] = i
    stripped = [name.strip() if isinstance(name, str) else name for name in header]
    by_case = {_normal(name): str(name) for name in stripped if name not in known}
    for name in stripped:
        if name not in known and _normal(name) not in known:
            ctx.problem(
                "unknown_column",
                severity="warning",
                row=header_row,
                column=str(name),
                detail="not in the data contract; ignored",
                expected="one of " + ", ".join(table.column_names),
            )
    for col in table.required_columns:
        if col not in stripped:
            found = by_case.get(col)
            ctx.problem(
                "missing_column",
                row=header_row,
                column=col,
                detail=f"found {found!r}: column names are lower case, as in the contract" if found else "",
                expected=f"a `{col}` column ({table.column(col).description})",
            )
    for name in stripped:  # a case variant of an optional column is not silently ignored either
        key = _normal(name)
        if name not in known and key in known and key not in table.required_columns:
            ctx.problem(
                "missing_column",
                severity="warning",
                row=header_row,
                column=key,
                detail=f"found {str(name)!r}, which is ignored: column names are lower case, as in the contract",
                expected=f"the column named `{key}`",
            )
    return usable


def typed_frame(
    raw: pd.DataFrame,
    header: list,
    table: schema.Table,
    ctx: FileContext,
    header_row: int | None,
    *,
    header_checked: bool = False,
) -> pd.DataFrame | None:
    """Check the columns of a raw table and parse each into its contract type; None if unusable.

    ``header`` is the header as written (before any renaming by the reader); ``header_checked`` when the caller
    has already run :func:`check_header` on it (files are checked before their data is read)."""
    ctx.report.rows[ctx.file] = len(raw)
    if not header_checked and not check_header(header, table, ctx, header_row):
        return None
    raw.columns = [c.strip() if isinstance(c, str) else c for c in raw.columns]
    missing = [c for c in table.required_columns if c not in raw.columns]
    if len(raw) == 0:
        ctx.problem("empty_table", detail="the table has no data rows", expected=f"at least one {table.row_unit}")
        return None

    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    unusable = bool(missing)
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        values = raw[col.name].reset_index(drop=True)
        wrong = physical_mismatch(values, col)
        if wrong:
            ctx.problem(
                "wrong_type",
                column=col.name,
                value=wrong,
                detail="the whole column is refused",
                expected=_TYPE_EXPECTED[col.kind],
            )
            unusable = unusable or col.required
            continue
        out[col.name] = _parse_column(values, col, ctx)
    if unusable:
        return None
    check_table_rules(out, table, ctx, raw)
    out.attrs["file"] = ctx.file
    out.attrs["row_offset"] = ctx.row_offset
    return out


#: What each column kind may hold physically (Parquet, in-memory frames): text is always read value by value.
_ACCEPTS: dict[str, frozenset[str]] = {
    "id": frozenset({"text", "integer"}),
    "string": frozenset({"text", "integer", "float", "bool"}),
    "text": frozenset({"text", "integer", "float", "bool"}),
    "timestamp": frozenset({"text", "datetime"}),
    "month": frozenset({"text", "period"}),
    "date": frozenset({"text", "datetime"}),
    "enum": frozenset({"text"}),
    "bool": frozenset({"text", "bool", "integer"}),
    "int": frozenset({"text", "integer", "float"}),
    "float": frozenset({"text", "integer", "float"}),
    "list": frozenset({"text"}),
}

_TYPE_EXPECTED = {
    "id": "identifiers as text (or whole numbers)",
    "string": "text",
    "text": "text",
    "timestamp": "a timestamp column with a timezone, or ISO 8601 text such as 2025-03-01T10:15:00+08:00 "
    "(numbers are not read as epoch seconds: write the times out)",
    "month": "text YYYY-MM such as 2025-03",
    "date": "a date column, or text YYYY-MM-DD",
    "enum": "text, one of the contract's values (numeric codes are not read: write the names)",
    "bool": "a boolean column, or text true/false",
    "int": "a column of whole numbers (an integer type)",
    "float": "a column of numbers",
    "list": "text, names separated by ';'",
}


def _physical(dtype: object) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return _physical(dtype.categories.dtype)
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.PeriodDtype):
        return "period"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "text"
    return str(dtype)


def physical_mismatch(s: pd.Series, col: schema.Column) -> str:
    """A description of ``s``'s type when the column kind cannot hold it (``a column of int64``), else ''.

    Text is always accepted (each value is then parsed and checked); an all-empty column too."""
    kind = _physical(s.dtype)
    if kind in _ACCEPTS[col.kind] or len(s) == 0 or bool(s.isna().all()):
        return ""
    dtype = s.dtype.categories.dtype if isinstance(s.dtype, pd.CategoricalDtype) else s.dtype
    return f"a column of {dtype}" + (" categories" if isinstance(s.dtype, pd.CategoricalDtype) else "")


def _parse_column(s: pd.Series, col: schema.Column, ctx: FileContext) -> pd.Series:
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
        empty = arrays.is_empty(text)
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
        months = pd.PeriodIndex([None if (e or b) else v for v, e, b in zip(values, empty, bad, strict=True)], freq="M")
        as_of_month = ctx.as_of.tz_convert("Asia/Kuala_Lumpur").tz_localize(None).to_period("M")
        early = np.asarray((months < EARLIEST.tz_localize(None).to_period("M")) & ~months.isna(), dtype=bool)
        late = np.asarray((months > as_of_month) & ~months.isna(), dtype=bool)
        ctx.flag("too_early", early, s, col.name, "a month from 2000-01 on")
        ctx.flag("future_timestamp", late, s, col.name, f"a month up to the pack's as-of month {as_of_month}")
        return pd.PeriodIndex(
            [None if (e or lt) else m for m, e, lt in zip(months, early, late, strict=True)], freq="M"
        )
    if col.kind == "date":
        return _parse_dates(s if text is None else text, empty, col, ctx)
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


def _parse_dates(values: pd.Series, empty: np.ndarray, col: schema.Column, ctx: FileContext) -> pd.Series:
    """Calendar dates (naive midnight) for YYYY-MM-DD text or date/datetime values; empty cells are NaT."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("Asia/Kuala_Lumpur").dt.tz_localize(None)
    as_text = values.astype("string") if values.dtype == object else values
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    filled = ~empty
    if filled.any():
        got = pd.to_datetime(as_text[filled], format="ISO8601", errors="coerce")
        if getattr(got.dt, "tz", None) is not None:
            got = got.dt.tz_localize(None)
        parsed[filled] = got.astype("datetime64[us]")
    has_time = (parsed.notna() & (parsed != parsed.dt.normalize())).to_numpy()
    bad = (filled & parsed.isna().to_numpy()) | has_time
    ctx.flag("unparseable", bad, values, col.name, col.expected)
    parsed[bad] = pd.NaT
    last = pd.Timestamp(ctx.as_of.tz_convert("Asia/Kuala_Lumpur").date())
    future = (parsed > last).fillna(False).to_numpy()
    ctx.flag("future_timestamp", future, values, col.name, f"a date on or before the as-of date {last.date()}")
    early = (parsed < EARLIEST.tz_localize(None)).fillna(False).to_numpy()
    ctx.flag("too_early", early, values, col.name, "a date from 2000-01-01 on")
    parsed[future | early] = pd.NaT
    return parsed


def _parse_enum(values: pd.Series, empty: np.ndarray, col: schema.Column, ctx: FileContext) -> pd.Series:
    dtype = pd.CategoricalDtype(categories=list(col.enum or ()), ordered=False)
    known = arrays.isin(values, dtype.categories)
    if isinstance(values.dtype, pd.CategoricalDtype):  # Parquet dictionary columns: recode, never stringify
        cat = values.cat.set_categories(list(dtype.categories))
    else:
        cat = values.where(known).astype(dtype)
    bad = ~empty & ~known
    ctx.flag("enum", bad, values, col.name, col.expected)
    return cat


def _parse_bool(
    s: pd.Series, text: pd.Series | None, empty: np.ndarray, col: schema.Column, ctx: FileContext
) -> pd.Series:
    if text is None and pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    lowered = (text if text is not None else s.astype("string")).str.lower()
    result = pd.Series(pd.NA, index=s.index, dtype="boolean")
    result[lowered.isin(_TRUE).fillna(False).to_numpy()] = True
    result[lowered.isin(_FALSE).fillna(False).to_numpy()] = False
    bad = ~empty & result.isna().to_numpy()
    ctx.flag("unparseable", bad, s, col.name, col.expected)
    return result


def _parse_number(
    s: pd.Series, text: pd.Series | None, empty: np.ndarray, col: schema.Column, ctx: FileContext
) -> pd.Series:
    numbers = pd.to_numeric(text if text is not None else s, errors="coerce").astype("float64")
    nan_cells = ctx.nan_cells.get(col.name)
    if nan_cells is not None:  # a Parquet NaN is not an empty cell (Arrow tells null and NaN apart)
        ctx.flag("unparseable", nan_cells, s, col.name, "a number (NaN is not one: leave the cell empty if unknown)")
        empty = empty & ~nan_cells
    infinite = np.isinf(numbers.to_numpy())
    ctx.flag("out_of_range", infinite, s, col.name, "a finite number (not inf)")
    numbers[infinite] = np.nan
    unreadable = ~empty & ~infinite & numbers.isna().to_numpy()
    if nan_cells is not None:
        unreadable &= ~nan_cells
    if col.kind == "int":
        unreadable |= (numbers.notna() & (numbers % 1 != 0)).to_numpy()
    ctx.flag("unparseable", unreadable, s, col.name, col.expected)
    numbers[unreadable] = np.nan
    huge = (numbers.abs() > MAX_EXACT).to_numpy()
    ctx.flag("out_of_range", huge, s, col.name, f"{col.expected}, at most {MAX_EXACT:,} (2^53)")
    numbers[huge] = np.nan
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


def _parse_timestamps(s: pd.Series, col: schema.Column, ctx: FileContext) -> pd.Series:
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
    early = (result < EARLIEST).fillna(False).to_numpy()
    old_ok = col.name in _OLD_TIMES_POSSIBLE
    ctx.flag(
        "too_early",
        early,
        s,
        col.name,
        "a time from 1 Jan 2000 on",
        severity="warning" if old_ok else "error",
    )
    if not old_ok:
        result[early] = pd.NaT
    return result
