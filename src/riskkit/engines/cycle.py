"""The rest of a cycle on an engine: what the risk assessment, the audits and the record keeping read from the
actions, computed as aggregates in the engine (or streamed from it), so a whole run keeps bounded memory.

Each function gives what its in-process counterpart gives for a pack read into memory (tests compare them):

* :func:`action_profile` — median views before action and share involving a minor, per harm (risk register);
* :func:`surfaces_used` — the surfaces that occur in the actions (audit applicability);
* :func:`record_completeness` — the record-keeping completeness by harm (MCMC record-keeping table);
* :func:`write_record_keeping` — every enforcement action of the cycle, streamed in batches to Parquet and CSV.

A median is exact: the engine returns value counts and the median is read from them (as pandas would), never an
engine's quantile function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit import arrays
from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.exceptions import EngineError
from riskkit.reports.records import RECORD_COLUMNS, completeness_table


def on_engine(pack: Any) -> bool:
    """Whether the pack's actions stay in an engine (not a frame in this process)."""
    return "actions" not in pack.tables and getattr(pack, "engine", None) is not None


def _actions(pack: Any) -> tuple[Any, Any]:
    engine = pack.engine
    return engine, engine.tables["actions"]


def _in_cycle(pack: Any, cycle: Cycle) -> Any:
    """Actions whose cohort time (detected_at, or actioned_at for decision-basis packs) falls in the cycle."""
    engine, reg = _actions(pack)
    column = pack.meta.cohort_column
    us = engine.epoch_us(reg.table[column], reg.wall_clock.get(column))
    start, end = arrays.timestamp_us(cycle.start), arrays.timestamp_us(cycle.end)
    return reg.table.filter((us >= start) & (us < end))


def _fetch(engine: Any, expr: Any) -> pd.DataFrame:
    try:
        return expr.to_pyarrow().to_pandas()
    except Exception as exc:
        raise EngineError(f"the {engine.name} engine failed: {str(exc).strip().splitlines()[0][:300]}") from None


def action_profile(pack: Any, cycle: Cycle) -> tuple[dict[str, float], dict[str, float]]:
    """Median views before action and share of items involving a minor, per harm (Malaysian scope, the cycle)."""
    engine, reg = _actions(pack)
    t = _in_cycle(pack, cycle)
    t = t.filter(t["in_malaysia"].fill_null(False))
    reach: dict[str, float] = {}
    minors: dict[str, float] = {}
    if "views_before_action" in reg.table.columns:
        seen = t.filter(t["views_before_action"].notnull())
        counts = _fetch(engine, seen.group_by(["category", "views_before_action"]).aggregate(_n=seen.count()))
        for category, rows in counts.groupby("category", sort=True):
            reach[str(category)] = _median(rows["views_before_action"].to_numpy(float), rows["_n"].to_numpy(np.int64))
    if "involves_minor" in reg.table.columns:
        flag = t["involves_minor"]
        shares = _fetch(
            engine,
            t.group_by("category").aggregate(yes=flag.cast("int64").sum(), n=flag.count()),
        )
        for row in shares.itertuples(index=False):
            if row.n:
                minors[str(row.category)] = float(row.yes) / float(row.n)
    return reach, minors


def _median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of values given with their counts, as pandas computes it (the mean of the two middle values)."""
    order = np.argsort(values)
    values, counts = values[order], counts[order]
    n = int(counts.sum())
    if n == 0:
        return float("nan")
    ends = np.cumsum(counts)
    lo = values[np.searchsorted(ends, (n - 1) // 2, side="right")]
    hi = values[np.searchsorted(ends, n // 2, side="right")]
    return float((lo + hi) / 2)


def surfaces_used(pack: Any) -> set[str]:
    """Every surface that occurs in the actions."""
    engine, reg = _actions(pack)
    df = _fetch(engine, reg.table.select("surface").distinct())
    return {str(s) for s in df["surface"].dropna()}


def _enforced(pack: Any, cycle: Cycle) -> Any:
    t = _in_cycle(pack, cycle)
    return t.filter(t["action"].fill_null("") != "no_violation")


def _kept(value: Any) -> Any:
    """A record field that is kept: not empty and not only blanks."""
    return (value.notnull() & (value.cast("string").strip().length() > 0)).fill_null(False)


def record_completeness(pack: Any, cycle: Cycle) -> pd.DataFrame:
    """Records of the cycle's enforcement actions with a rationale, a policy reference, both — by harm and all."""
    engine, _ = _actions(pack)
    t = _enforced(pack, cycle)
    has_r, has_p = _kept(t["rationale"]), _kept(t["policy_ref"])
    df = _fetch(
        engine,
        t.group_by("category").aggregate(
            actions=t.count(),
            r=has_r.cast("int64").sum(),
            p=has_p.cast("int64").sum(),
            b=(has_r & has_p).cast("int64").sum(),
        ),
    )
    return completeness_table(df)


def write_record_keeping(pack: Any, cycle: Cycle, folder: str | Path, batch_rows: int = 500_000) -> list[Path]:
    """record_keeping_<cycle>.parquet and .csv, streamed from the engine in batches (times in Malaysian time)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from riskkit.documents.tabular import csv_safe

    engine, reg = _actions(pack)
    t = _enforced(pack, cycle)
    cols = [c for c in RECORD_COLUMNS if c in reg.table.columns]
    select = {}
    for c in cols:
        value = t[c]
        if c in reg.wall_clock:  # instants: microseconds in the engine, Malaysian time in the file
            value = engine.epoch_us(value, reg.wall_clock.get(c))
        select[c] = value
    out = Path(folder)
    parquet, csv = out / f"record_keeping_{cycle.id}.parquet", out / f"record_keeping_{cycle.id}.csv"
    writer = csv_writer = None
    try:
        rows = t.select(**select).order_by([pack.meta.cohort_column, "action_id"])  # in time order, deterministic
        for batch in engine.batches(rows, batch_rows):
            columns = []
            for name in batch.schema.names:
                col = batch.column(name)
                if name in reg.wall_clock:
                    col = (
                        col.cast(pa.int64())
                        .cast(pa.timestamp("us", tz="UTC"))
                        .cast(pa.timestamp("us", tz=str(REPORTING_TZ)))
                    )
                columns.append(col)
            table = pa.table(columns, names=batch.schema.names)
            safe = csv_safe(table)  # the CSV rule of every export: no formulas, ISO 8601 times with offsets
            if writer is None:
                writer = pq.ParquetWriter(parquet, table.schema)
                options = pacsv.WriteOptions(quoting_style="needed", delimiter=",")
                csv_writer = pacsv.CSVWriter(csv, safe.schema, write_options=options)
            writer.write_table(table)
            csv_writer.write_table(safe)
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"record keeping from the {engine.name} engine: {str(exc).splitlines()[0][:300]}") from None
    finally:
        if writer is not None:
            writer.close()
            csv_writer.close()
    if writer is None:  # no enforcement action in the cycle: empty files with the columns
        empty = pa.table({c: pa.array([], type=pa.string()) for c in cols})
        pq.write_table(empty, parquet)
        pacsv.write_csv(empty, csv)
    return [csv, parquet]
