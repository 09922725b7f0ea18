"""Writing the sample pack's tables: Arrow columns, Parquet row groups with fixed options, CSV text.

Everything here is deterministic: fixed Parquet options and row-group sizes, ``\\n`` line ends, UTF-8, and columns
in the data contract's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskkit import schema

ROW_GROUP_ROWS = 250_000
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}
TIMESTAMP = pa.timestamp("us", tz="UTC")
_DICT8 = pa.dictionary(pa.int8(), pa.string())

#: File of each table in the pack.
TABLE_FILES = {
    "actions": "actions.parquet",
    "reports": "reports.parquet",
    "appeals": "appeals.parquet",
    "authority_requests": "authority_requests.csv",
    "users": "users.csv",
    "capacity": "capacity.csv",
    "feature_changes": "feature_changes.csv",
    "prevalence_samples": "prevalence_samples.csv",
    "age_assurance": "age_assurance.csv",
}

#: Arrow types of the Parquet tables' columns.
ARROW_TYPES: dict[str, dict[str, pa.DataType]] = {
    "actions": {
        "action_id": pa.string(),
        "category": _DICT8,
        "surface": _DICT8,
        "detected_at": TIMESTAMP,
        "actioned_at": TIMESTAMP,
        "detection_source": _DICT8,
        "decision_by": _DICT8,
        "action": _DICT8,
        "in_malaysia": pa.bool_(),
        "rationale": pa.dictionary(pa.int16(), pa.string()),
        "policy_ref": _DICT8,
        "content_id": pa.string(),
        "involves_minor": pa.bool_(),
        "views_before_action": pa.int64(),
        "reported_to_authority": pa.bool_(),
        "user_notified_at": TIMESTAMP,
    },
    "reports": {
        "report_id": pa.string(),
        "received_at": TIMESTAMP,
        "category": _DICT8,
        "reporter_type": _DICT8,
        "acknowledged_at": TIMESTAMP,
        "assessed_at": TIMESTAMP,
        "resolved_at": TIMESTAMP,
        "outcome": _DICT8,
        "action_id": pa.string(),
        "in_malaysia": pa.bool_(),
    },
    "appeals": {
        "appeal_id": pa.string(),
        "action_id": pa.string(),
        "filed_at": TIMESTAMP,
        "decided_at": TIMESTAMP,
        "outcome": _DICT8,
    },
}


def ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded sequence numbers ``start+1 .. start+n`` (vectorised)."""
    digits = pc.utf8_lpad(
        pc.cast(pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64)), pa.string()), width, "0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as a tz-aware UTC timestamp column (null where ``missing``)."""
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=TIMESTAMP, mask=missing)


def dictionary(codes: np.ndarray, values: tuple[str, ...] | list[str], missing: np.ndarray | None = None) -> pa.Array:
    """Codes into ``values`` as a dictionary column (null where ``missing``)."""
    index_type = pa.int8() if len(values) < 128 else pa.int16()
    indices = pa.array(codes.astype(index_type.to_pandas_dtype()), type=index_type, mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def local_text(seconds: np.ndarray, offset: int, missing: np.ndarray | None = None) -> np.ndarray:
    """ISO 8601 local time with its UTC offset (``offset`` seconds east), '' where missing."""
    sign, minutes = ("+" if offset >= 0 else "-"), abs(offset) // 60
    text = np.datetime_as_string((seconds.astype(np.int64) + offset).astype("datetime64[s]"), unit="s")
    text = np.char.add(text.astype(object).astype(str), f"{sign}{minutes // 60:02d}:{minutes % 60:02d}")
    if missing is not None:
        text = np.where(missing, "", text)
    return text


def bool_text(values: np.ndarray) -> np.ndarray:
    """Booleans as the contract's CSV text."""
    return np.where(values, "true", "false")


def contract_columns(table: schema.Table, names: Any) -> list[schema.Column]:
    """The contract's columns the generator fills, in contract order (every required one, no unknown one).

    An optional column added to the contract later is left out until the generator learns it (the tests say so).
    """
    unknown = set(names) - set(table.column_names)
    missing = set(table.required_columns) - set(names)
    if unknown or missing:
        raise AssertionError(f"{table.name}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
    return [c for c in table.columns if c.name in names]


def arrow_schema(table: schema.Table, types: dict[str, pa.DataType]) -> pa.Schema:
    """The Arrow schema of ``table`` with the given column types, in contract order."""
    return pa.schema(
        [pa.field(c.name, types[c.name], nullable=c.nullable or not c.required) for c in contract_columns(table, types)]
    )


def arrow_table(columns: dict[str, pa.Array], sch: pa.Schema) -> pa.Table:
    """``columns`` as a table of schema ``sch`` (its column order)."""
    return pa.Table.from_arrays([columns[f.name] for f in sch], schema=sch)


def write_csv(path: Path, table: schema.Table, columns: dict[str, Any]) -> int:
    """Write the contract table ``table`` as CSV text; returns its rows."""
    names = [c.name for c in contract_columns(table, columns)]
    return write_frame(path, pd.DataFrame({k: np.asarray(columns[k], dtype=object) for k in names}))


def write_frame(path: Path, frame: pd.DataFrame) -> int:
    """Write ``frame`` as CSV (UTF-8, ``\\n`` line ends, no index); returns its rows."""
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


class ParquetSink:
    """Buffers Arrow tables and writes row groups of about ROW_GROUP_ROWS rows with fixed options."""

    def __init__(self, path: Path, sch: pa.Schema) -> None:
        self.writer = pq.ParquetWriter(path, sch, **PARQUET_OPTIONS)
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        """Buffer ``table``; write a row group once enough rows are buffered."""
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one row group."""
        if self.buffer:
            table = pa.concat_tables(self.buffer)
            self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
            self.rows += table.num_rows
            self.buffer, self.buffered = [], 0

    def close(self) -> int:
        """Write what is left and close the file; returns the rows written."""
        self.flush()
        self.writer.close()
        return self.rows
