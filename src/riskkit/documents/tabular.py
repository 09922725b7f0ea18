"""CSV exports and the one rule against formula injection.

A spreadsheet that opens a CSV runs any cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
treat a leading tab or carriage return the same way), so text from a data pack — a rationale, an evidence note —
could run ``=HYPERLINK(...)`` or worse on an analyst's machine. :func:`neutralise` is OWASP's rule for CSV: such text
gets a leading single quote, which spreadsheets show as text. Numbers, dates and booleans are not text and are left
alone. xlsx needs no quote (cells are typed there): see :mod:`riskkit.documents.xlsx`.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit.documents.files import atomic_path

#: First characters that make a spreadsheet read a cell as a formula.
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` with a single quote in front if it starts with ``= + - @``, tab or carriage return, else unchanged."""
    return "'" + text if text.startswith(DANGEROUS_FIRST) else text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every text cell (object, string and categorical
    columns; non-text values in object columns are kept as they are)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
            continue
        if pd.api.types.is_object_dtype(s.dtype):
            values = s.to_numpy(dtype=object, copy=True)
            risky = np.fromiter((isinstance(v, str) and v.startswith(DANGEROUS_FIRST) for v in values), bool, len(s))
            values[risky] = ["'" + v for v in values[risky]]
            out[col] = pd.Series(values, index=s.index, name=col, dtype=object)
        else:
            risky = s.str.startswith(DANGEROUS_FIRST).fillna(False).astype(bool)
            out[col] = s.mask(risky, "'" + s)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False, bom: bool = False) -> Path:
    """Write ``frame`` (without its index) as RFC 4180 CSV: UTF-8, comma-separated, CRLF line ends, fields quoted
    when they hold a comma, quote or line break, quotes doubled; every text cell passed through :func:`neutralise`.

    Missing values are empty fields. Written atomically (see :func:`riskkit.documents.files.atomic_path`); an
    existing file is replaced only with ``overwrite=True``;
    ``bom=True`` adds a UTF-8 byte-order mark, which some Excel versions need to read non-ASCII text right.
    Returns the path written."""
    safe = neutralise_frame(frame)
    with atomic_path(path, overwrite=overwrite) as tmp:
        safe.to_csv(
            tmp,
            index=False,
            encoding="utf-8-sig" if bom else "utf-8",
            lineterminator="\r\n",
            quoting=csv.QUOTE_MINIMAL,
            doublequote=True,
        )
    return Path(path)


def write_csv_arrow(table: Any, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a large pyarrow table as CSV with the same rule as :func:`write_csv`, vectorised in Arrow (for exports
    of millions of rows, where pandas' writer takes minutes): text columns through :func:`neutralise`, dictionary
    columns decoded, timestamps as ISO 8601 with their offset, fields quoted only when needed, CRLF line ends."""
    import pyarrow.csv as pacsv

    safe = csv_safe(table)
    options = pacsv.WriteOptions(quoting_style="needed", delimiter=",")
    with atomic_path(path, overwrite=overwrite) as tmp:
        pacsv.write_csv(safe, tmp, options)
    return Path(path)


def csv_safe(table: Any) -> Any:
    """The table (or record batch) as :func:`write_csv_arrow` writes it: text neutralised, dictionaries decoded,
    timestamps as ISO 8601 with their offset (also for exports streamed batch by batch)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pattern = r"^[=+\-@\t\r]"  # DANGEROUS_FIRST as a regular expression
    columns = []
    for field_, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field_.type):
            column = column.cast(field_.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            quote = pa.scalar("'", type=column.type)
            risky = pc.match_substring_regex(column, pattern)
            column = pc.if_else(risky, pc.binary_join_element_wise(quote, column, pa.scalar("", column.type)), column)
        elif pa.types.is_timestamp(column.type) and column.type.tz:
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S%z")
        columns.append(column)
    return pa.table(columns, names=table.column_names)
