"""Column helpers shared by validation, metrics and the explorer: Arrow views, codes, timestamps, joins.

Everything here is vectorised (NumPy or Arrow kernels); nothing iterates over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: The integer that stands for a missing timestamp in µs arrays.
NAT = np.iinfo(np.int64).min
MINUTE_US = 60_000_000


def to_arrow(values: pd.Series) -> Any:
    """The column as a pyarrow array (zero-copy for Arrow-backed strings)."""
    import pyarrow as pa

    if values.dtype == object:
        values = values.astype("str")
    return pa.array(values, from_pandas=True)


def arrow_chunks(values: pd.Series) -> Any:
    """The column as a ChunkedArray, zero-copy for Arrow-backed strings."""
    import pyarrow as pa

    native = getattr(values.array, "_pa_array", None)  # pandas' ArrowStringArray / ArrowExtensionArray
    if isinstance(native, pa.ChunkedArray):
        return native
    arr = to_arrow(values)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def release_arrow_memory() -> None:
    """Give freed Arrow buffers back to the OS (mimalloc keeps them, doubling the resident size of big packs)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def isin(values: pd.Series, reference: Any) -> np.ndarray:
    """Membership of each value in ``reference`` via a pyarrow hash set (pandas' Arrow-string ``isin`` iterates
    over the reference in Python); empty cells are False."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.CategoricalDtype):
        known = isin(pd.Series(values.cat.categories.astype(str)), reference)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, known[np.maximum(codes, 0)], False)
    arr = to_arrow(values)
    if isinstance(reference, pd.Series):
        if isinstance(reference.dtype, pd.CategoricalDtype):
            reference = pd.Series(reference.cat.categories)
        ref = to_arrow(reference)
    else:
        ref = pa.array([str(x) for x in reference], type=pa.string())
    if isinstance(ref, pa.ChunkedArray):
        ref = ref.combine_chunks()
    return pc.is_in(arr, value_set=ref.cast(arr.type)).fill_null(False).to_numpy(zero_copy_only=False)


def is_empty(text: pd.Series) -> np.ndarray:
    """Cells that are missing or the empty string."""
    import pyarrow.compute as pc

    if isinstance(text.dtype, pd.CategoricalDtype):
        return (text.isna() | (text == "")).to_numpy(bool)
    arr = to_arrow(text)
    return pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True).to_numpy(zero_copy_only=False)


def is_blank(text: pd.Series) -> np.ndarray:
    """Cells that are missing, empty or only whitespace (a categorical column is tested on its categories)."""
    import pyarrow.compute as pc

    if isinstance(text.dtype, pd.CategoricalDtype):
        blank = np.asarray(text.cat.categories.astype(str).str.strip() == "", dtype=bool)
        return np.append(blank, True)[text.cat.codes.to_numpy()]  # code -1 (missing) picks the last slot
    arr = to_arrow(text.astype("string") if text.dtype == object else text)
    return pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0), True).to_numpy(zero_copy_only=False)


def timestamp_us(ts: pd.Timestamp) -> int:
    """µs since the epoch (``Timestamp.value`` is always nanoseconds)."""
    return int(ts.value // 1000)


def timestamps_us(series: pd.Series) -> np.ndarray:
    """Timestamps as int64 µs since the epoch (UTC); empty = :data:`NAT`."""
    s = series
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, utc=True)
    return s.dt.tz_convert("UTC").dt.as_unit("us").array.asi8.copy()


def minutes_between(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Durations in µs arrays, rounded up to whole minutes (negative clipped to 0)."""
    d = np.maximum(stop - start, 0)
    return (d + MINUTE_US - 1) // MINUTE_US


def codes(series: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Integer position of each value in ``levels`` (-1 for missing or anything else)."""
    levels = list(levels)
    if isinstance(series.dtype, pd.CategoricalDtype):
        if list(series.cat.categories) == levels:
            return series.cat.codes.to_numpy()
        lut = np.array([levels.index(c) if c in levels else -1 for c in map(str, series.cat.categories)] + [-1])
        return lut[series.cat.codes.to_numpy()]  # code -1 (missing) picks the last slot
    return pd.Categorical(series.astype("string"), categories=levels).codes


def lookup(keys: pd.Series, probes: pd.Series) -> np.ndarray:
    """Row position in ``keys`` (unique) of each probe, -1 if absent.

    Hashes the smaller side, like a database hash join: few probes (the appeals of the actions) are hashed and the
    keys scanned once; probes about as many as the keys (the reports linking to actions) probe a hash of the keys
    (3× faster there: one hash table instead of three)."""
    import pyarrow.compute as pc

    probe_arr, key_arr = to_arrow(probes), to_arrow(keys)
    if len(probe_arr) * 4 >= len(key_arr):
        where = pc.index_in(probe_arr.cast(key_arr.type), value_set=key_arr)
        return where.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = pc.unique(probe_arr.cast(key_arr.type)).drop_null()
    hit = np.flatnonzero(pc.is_in(key_arr, value_set=distinct).fill_null(False).to_numpy(zero_copy_only=False))
    where = pc.index_in(probe_arr.cast(key_arr.type), value_set=pc.take(key_arr, hit))
    found = where.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if hit.size == 0:  # no probe matches (e.g. every probe empty)
        return np.full(len(found), -1, dtype=np.int64)
    return np.where(found >= 0, hit[np.maximum(found, 0)], -1)
