"""Where the partial aggregates are computed: in-process (NumPy over pandas, the reference) or in an engine.

An engine evaluates the engine-neutral specs of :mod:`riskkit.partials` (written in :mod:`riskkit.engines.expr`)
and returns only partial aggregates; :func:`riskkit.metrics.compute` finalises them with one piece of code.

* ``inprocess`` — the pack's tables are pandas frames in this process (the default for file packs).
* ``duckdb`` — DuckDB embedded, through Ibis; a file pack's Parquet files are registered as tables (read in
  place, never loaded into this process).
* ``spark`` — PySpark through Ibis; ``spark_master`` (or ``RISKKIT_SPARK_MASTER``) names a cluster such as
  ``spark://host:7077``, default ``local[*]``.
* a warehouse pack (``source:`` in datapack.yaml) brings its own Ibis backend: see :mod:`riskkit.engines.source`.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from riskkit.engines.core import Bins, Partial, Periods
from riskkit.engines.expr import Spec
from riskkit.exceptions import EngineError

#: Engine names the command line accepts.
NAMES = ("inprocess", "duckdb", "spark")
SPARK_MASTER_ENV = "RISKKIT_SPARK_MASTER"

__all__ = ["NAMES", "Engine", "EngineError", "InProcess", "for_pack", "get"]


class Engine(Protocol):
    name: str

    def columns(self, pack: Any) -> Mapping[str, Collection[str]]:
        """Columns of each table of ``pack`` this engine sees (contract names)."""
        ...

    def partials(self, pack: Any, specs: Mapping[str, Spec], periods: Periods, bins: Bins) -> dict[str, Partial]:
        """The partial aggregates of every spec."""
        ...


class InProcess:
    """The reference engine: NumPy over the pack's validated pandas frames."""

    name = "inprocess"

    def columns(self, pack: Any) -> dict[str, list[str]]:
        return {name: list(df.columns) for name, df in pack.tables.items()}

    def partials(self, pack: Any, specs: Mapping[str, Spec], periods: Periods, bins: Bins) -> dict[str, Partial]:
        from riskkit.engines import inprocess

        missing = sorted({t for spec in specs.values() for t in spec.table_columns() if t not in pack.tables})
        if missing:
            raise EngineError(
                f"the in-process engine needs the pack's tables in memory; {', '.join(missing)} "
                f"live in {getattr(pack.engine, 'name', 'an engine')} (use --engine {getattr(pack.engine, 'name', '')})"
            )
        return inprocess.partials(specs, pack.tables, periods, bins)


def get(engine: str | Engine | None = None, *, spark_master: str | None = None) -> Engine:
    """An engine by name (``inprocess``, ``duckdb``, ``spark``), or ``engine`` itself when it is one already."""
    if engine is None or engine == "inprocess":
        return InProcess()
    if not isinstance(engine, str):
        return engine
    name = engine.strip().lower()
    if name == "duckdb":
        from riskkit.engines.ibis_engine import IbisEngine

        return IbisEngine.duckdb()
    if name in ("spark", "pyspark"):
        from riskkit.engines.ibis_engine import IbisEngine

        return IbisEngine.spark(spark_master or os.environ.get(SPARK_MASTER_ENV) or None)
    raise EngineError(f"unknown engine {engine!r}: expected one of {', '.join(NAMES)}")


def for_pack(pack: Any, engine: str | Engine | None = None) -> Engine:
    """The engine that computes ``pack``'s partials: ``engine`` if given, else the pack's own (a warehouse pack's
    backend, or in-process for a pack read into memory)."""
    own = getattr(pack, "engine", None)
    if engine is None:
        return own if own is not None else InProcess()
    if own is not None and (engine is own or engine == own.name):
        return own
    return get(engine)
