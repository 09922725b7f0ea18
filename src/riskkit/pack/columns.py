"""Type each column of a raw table by the data contract, reporting every value that does not fit."""

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


def typed_frame(
    raw: pd.DataFrame, header: list, table: schema.Table, ctx: FileContext, header_row: int | None
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
    check_table_rules(out, table, ctx)
    out.attrs["file"] = ctx.file
    out.attrs["row_offset"] = ctx.row_offset
    return out


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
    return result
