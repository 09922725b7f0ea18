"""The record-keeping export: every enforcement action of a cycle with its process and rationale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskkit import arrays
from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.documents.tabular import write_csv_arrow
from riskkit.pack import DataPack

RECORD_COLUMNS = (
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


def record_keeping(pack: DataPack, cycle: Cycle) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every enforcement action of the cycle with its process and rationale (times in Malaysian time), and the
    completeness of those records by harm. With the actions in an engine, only the completeness is computed (as
    aggregates there) and the records are left empty: :func:`riskkit.reports.exports.write_records` streams them."""
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):
        return pd.DataFrame(columns=list(RECORD_COLUMNS)), record_completeness(pack, cycle)
    return record_rows(pack, cycle), record_completeness(pack, cycle)


def _enforced_in(pack: DataPack, cycle: Cycle) -> np.ndarray:
    """The cycle's enforcement actions (by the column that puts an action in a cycle)."""
    a = pack.actions
    when = a[pack.meta.cohort_column]  # detection, or the decision for packs without detection times
    return ((when >= cycle.start) & (when < cycle.end) & (a["action"] != "no_violation")).to_numpy(bool)


def record_rows(pack: DataPack, cycle: Cycle) -> pd.DataFrame:
    """Every enforcement action of the cycle with its process and rationale, times in Malaysian time."""
    a = pack.actions
    records = a.loc[_enforced_in(pack, cycle), [c for c in RECORD_COLUMNS if c in a.columns]].copy()
    for col in ("detected_at", "actioned_at"):
        records[col] = records[col].dt.tz_convert(REPORTING_TZ)
    return records.reset_index(drop=True)


def record_completeness(pack: DataPack, cycle: Cycle) -> pd.DataFrame:
    """Records of the cycle's enforcement actions with a rationale, a policy reference, both — by harm and all
    (aggregated in the engine when the actions stay there)."""
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):
        return on_engine.record_completeness(pack, cycle)
    a = pack.actions
    inside = _enforced_in(pack, cycle)
    rationale, policy = ~arrays.is_blank(a["rationale"]) & inside, ~arrays.is_blank(a["policy_ref"]) & inside
    category = a["category"].astype("category")
    names = np.asarray(category.cat.categories.astype(str))
    codes = category.cat.codes.to_numpy()
    ok = codes >= 0

    def per_category(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask & ok], minlength=len(names))

    counts = pd.DataFrame(
        {
            "category": names,
            "actions": per_category(inside),
            "r": per_category(rationale),
            "p": per_category(policy),
            "b": per_category(rationale & policy),
        }
    )
    return completeness_table(counts[counts["actions"] > 0])


def completeness_table(counts: pd.DataFrame) -> pd.DataFrame:
    """The completeness table from counts per harm (``category, actions, r, p, b``: with a rationale, a policy
    reference, both), one row per harm by name, then all — the same for every engine."""
    df = counts.assign(category=counts["category"].astype(str)).sort_values("category", kind="stable")
    rows = [
        {
            "category": r.category,
            "actions": int(r.actions),
            "with_rationale": r.r / r.actions,
            "with_policy_ref": r.p / r.actions,
            "complete": r.b / r.actions,
        }
        for r in df.itertuples(index=False)
    ]
    total = int(df["actions"].sum())
    nan = float("nan")
    rows.append(
        {
            "category": "all",
            "actions": total,
            "with_rationale": df["r"].sum() / total if total else nan,
            "with_policy_ref": df["p"].sum() / total if total else nan,
            "complete": df["b"].sum() / total if total else nan,
        }
    )
    out = pd.DataFrame(rows, columns=["category", "actions", "with_rationale", "with_policy_ref", "complete"])
    return out.astype({"actions": "int64"})


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
