"""The tables every report opens with: scope and context, data quality, headline metrics, inputs and versions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd

from riskkit import __version__, schema
from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.library import Library
from riskkit.metrics import Metrics
from riskkit.pack import DataPack

KEY_METRICS = (
    "decisions",
    "actions_enforced",
    "proactive_rate",
    "tta_median_h",
    "tta_p90_h",
    "sla.code2024.csam_report_24h",
    "sla.onsa.priority_inaccessible_24h",
    "sla.onsa.report_ack_1h",
    "sla.onsa.report_assess_12h",
    "appeal_rate",
    "reversal_rate",
    "record_complete_share",
    "peak_mau",
    "minors_share",
    "under16_mau_last_month",
    "age_verified_share",
    "moderators_per_million_users",
)


def context_table(pack: DataPack, cycle: Cycle, m: Metrics, library: Library) -> pd.DataFrame:
    """Scope and context: the platform, the cycle, users against the licence threshold."""
    threshold = library.threshold_entry("licence.user_threshold")
    peak = m.value("peak_mau")
    limit = float(threshold.value)  # type: ignore[arg-type]
    rows = [
        ("Platform", pack.meta.platform_name),
        ("Service type", pack.meta.service_type.replace("_", " ")),
        ("Licence", pack.meta.licence_id or "not stated"),
        ("Cycle", f"{cycle.id}: {cycle.label}"),
        ("Data as of", f"{pack.meta.as_of.tz_convert(REPORTING_TZ):%Y-%m-%d %H:%M} MYT"),
        ("Timestamp resolution", _resolution(pack)),
        (
            "Peak Malaysian monthly users",
            "not available (no `users` table)" if pd.isna(peak) else f"{peak:,.0f}",
        ),
        (
            "Licence threshold",
            f"{limit:,.0f} users [{threshold.confidence}]"
            + ("" if pd.isna(peak) else (" — reached" if peak >= limit else " — not reached")),
        ),
        ("Users under 18", _pct(m.value("minors_share"))),
        ("Users under 16", _pct(m.value("under16_share"))),
        ("High-risk periods declared", "; ".join(p.name for p in pack.meta.high_risk_periods) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _resolution(pack: DataPack) -> str:
    r = pack.meta.time_resolution
    if r == "second":
        return "exact (to the second)"
    imported = pack.meta.raw.get("import")
    source = imported.get("note", "") if isinstance(imported, dict) else ""
    return f"{r}: times to action are only as precise as a {r}" + (f" ({source})" if source else "")


def _pct(v: float) -> str:
    return "not available" if pd.isna(v) else f"{v:.1%}"


def key_metrics(m: Metrics, ids: Sequence[str] = KEY_METRICS) -> pd.DataFrame:
    """Headline metrics (Malaysian scope, all categories) with the previous cycle and the significance flag."""
    t = m.table
    rows = t[(t["scope"] == "malaysia") & (t["category"] == "all") & (t["dimension"] == "") & t["metric"].isin(ids)]
    rows = rows.set_index("metric").reindex([i for i in ids if i in set(rows["metric"])]).reset_index()
    return pd.DataFrame(
        {
            "metric": rows["metric"],
            "label": rows["metric"].map(lambda k: m.definitions[k].label_en),
            "value": rows["value"],
            "95% interval": [
                "" if pd.isna(lo) else f"{lo:.3f}–{hi:.3f}"
                for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
            ],
            "denominator": rows["denominator"],
            "previous": rows["previous_value"],
            "change": rows["change"],
            "significant": rows["significant"].map(lambda v: "" if pd.isna(v) else ("yes" if v else "no")),
        }
    )


def data_quality(pack: DataPack, m: Metrics) -> pd.DataFrame:
    """Warnings and information from validation, and every metric group that could not be computed."""
    totals = pack.report.totals_frame()
    rows: list[dict[str, Any]] = [
        {"severity": r.severity, "kind": r.kind, "meaning": r.meaning, "count": int(r.count)}
        for r in totals.itertuples()
    ]
    for name, why in m.unavailable.items():
        rows.append({"severity": "info", "kind": "not_available", "meaning": f"{name}: {why}", "count": 1})
    return pd.DataFrame(rows, columns=["severity", "kind", "meaning", "count"])


def inputs_table(pack: DataPack) -> pd.DataFrame:
    """Every input file with its SHA-256, rows and bytes (datapack.yaml first), then the tables a warehouse holds
    (named as validation names them, with their rows: a warehouse table has no file to hash); empty for in-memory
    packs."""
    rows = []
    if pack.files or (pack.path / "datapack.yaml").is_file():
        files = [("datapack.yaml", pack.path / "datapack.yaml", "")]
        files += [(p.relative_to(pack.path).as_posix(), p, name) for name, p in pack.files.items()]
        for rel, path, name in files:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
            rows.append(
                {
                    "file": rel,
                    "table": name,
                    "sha256": digest.hexdigest(),
                    "rows": pack.report.rows.get(rel),
                    "bytes": path.stat().st_size,
                }
            )
    if pack.engine is not None:
        listed = {row["file"] for row in rows}
        for label, count in pack.report.rows.items():
            if label not in listed and " (" in label:  # "actions (duckdb table decisions)"
                rows.append({"file": label, "table": label.split(" (", 1)[0], "sha256": None, "rows": count})
    out = pd.DataFrame(rows, columns=["file", "table", "sha256", "rows", "bytes"])
    out["rows"] = out["rows"].astype("Int64")
    out["bytes"] = out["bytes"].astype("Int64")
    return out


def versions(library: Library) -> dict[str, Any]:
    """riskkit, data contract and framework versions (what produced a result)."""
    return {"riskkit": __version__, "data_contract": schema.CONTRACT_VERSION, "frameworks": library.versions()}
