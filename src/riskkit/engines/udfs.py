"""Backend built-in functions the engine calls through Ibis (imported only when an engine is used).

No ``from __future__ import annotations`` here: Ibis reads these signatures at definition time (an argument
without a type accepts any timestamp, with or without a time zone).
"""

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.scalar.builtin(name="epoch_us")
def duckdb_epoch_us(ts) -> dt.int64:
    """DuckDB: microseconds since the epoch of an instant."""


@ibis.udf.scalar.builtin(name="unix_micros")
def unix_micros(ts) -> dt.int64:
    """Spark, Databricks, BigQuery: microseconds since the epoch of an instant."""


@ibis.udf.scalar.builtin(name="timezone")
def duckdb_in_zone(zone: str, ts) -> dt.Timestamp(timezone="UTC"):
    """DuckDB: the instant of a wall-clock timestamp read in ``zone``."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def spark_in_zone(ts, zone: str) -> dt.timestamp:
    """Spark (session time zone UTC, as Ibis sets it): the instant of a wall-clock timestamp read in ``zone``."""


#: Each backend's function from a timestamp (an instant) to integer microseconds since the epoch.
EPOCH_US = {"duckdb": duckdb_epoch_us, "pyspark": unix_micros, "bigquery": unix_micros, "databricks": unix_micros}
