"""The record-keeping export: every enforcement action of a cycle with its process and rationale."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.documents.tabular import write_csv_arrow
from riskkit.pack import DataPack


def record_keeping(pack: DataPack, cycle: Cycle) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every enforcement action of the cycle with its process and rationale (times in Malaysian time), and the
    completeness of those records by harm. With the actions in an engine, only the completeness is computed (as
    aggregates there) and the records are left empty: :func:`riskkit.reports.exports.write_records` streams them."""
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):
        return pd.DataFrame(columns=list(on_engine.RECORD_COLUMNS)), on_engine.record_completeness(pack, cycle)
    a = pack.actions
    when = a[pack.meta.cohort_column]  # detection, or the decision for packs without detection times
    inside = (when >= cycle.start) & (when < cycle.end) & (a["action"] != "no_violation")
    cols = [
        c
        for c in (
            "action_id",
            "content_id",
            "category",
            "surface",
            "in_malaysia",
            "detection_source",
            "decision_by",
            "action",
            "policy_ref",
            "rationale",
            "detected_at",
            "actioned_at",
            "reported_to_authority",
        )
        if c in a.columns
    ]
    records = a.loc[inside, cols].copy()
    for col in ("detected_at", "actioned_at"):
        records[col] = records[col].dt.tz_convert(REPORTING_TZ)
    has_rationale = records["rationale"].notna() & (records["rationale"].astype(str).str.strip() != "")
    has_policy = records["policy_ref"].notna() & (records["policy_ref"].astype(str).str.strip() != "")
    summary = (
        pd.DataFrame({"category": records["category"].astype(str), "rationale": has_rationale, "policy": has_policy})
        .assign(both=lambda d: d["rationale"] & d["policy"])
        .groupby("category")
        .agg(
            actions=("both", "size"),
            with_rationale=("rationale", "mean"),
            with_policy_ref=("policy", "mean"),
            complete=("both", "mean"),
        )
        .reset_index()
    )
    total = pd.DataFrame(
        [
            {
                "category": "all",
                "actions": len(records),
                "with_rationale": has_rationale.mean(),
                "with_policy_ref": has_policy.mean(),
                "complete": (has_rationale & has_policy).mean(),
            }
        ]
    )
    return records.reset_index(drop=True), pd.concat([summary, total], ignore_index=True)


def write_record_keeping(records: pd.DataFrame, folder: str | Path, cycle: Cycle) -> list[Path]:
    """record_keeping_<cycle>.csv and .parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(folder)
    csv, parquet = out / f"record_keeping_{cycle.id}.csv", out / f"record_keeping_{cycle.id}.parquet"
    table = pa.Table.from_pandas(records, preserve_index=False)
    pq.write_table(table, parquet)
    write_csv_arrow(table, csv, overwrite=True)
    return [csv, parquet]
