"""Entry points for the notebooks: turn papermill's string parameters into a pack, a cycle and summary tables.

Notebooks stay narrative: every computation they show is one call here or in the modules it uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit import __version__
from riskkit.cycles import Cycle, resolve
from riskkit.datapack import DataPack, load_datapack
from riskkit.exceptions import ParameterError
from riskkit.framework import load_library
from riskkit.metrics import Metrics

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


def open_cycle(data_path: str | Path, cycle: str, as_of: str | None = None) -> tuple[DataPack, Cycle]:
    """Load and validate the pack, then resolve ``cycle`` (``latest`` is judged at the pack's as-of)."""
    pack = load_datapack(data_path, as_of=as_of or None)
    return pack, resolve(cycle, as_of=pack.meta.as_of)


def parse_list(value: str | Sequence[Any] | None, what: str) -> list[Any]:
    """Accept a list, or a JSON list given as a string (papermill passes parameters as strings)."""
    return _parse_json(value, what, list, "a JSON list")


def parse_mapping(value: str | Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Accept a mapping, or a JSON object given as a string."""
    return dict(_parse_json(value, what, Mapping, "a JSON object"))


def _parse_json(value: Any, what: str, kind: type, wording: str) -> Any:
    if value is None or value == "":
        return kind() if kind is list else {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{what} must be {wording}, got {value!r}: {exc.msg}") from None
    if not isinstance(value, kind):
        raise ParameterError(f"{what} must be {wording}, got {type(value).__name__}")
    return value


def assessors_table(assessors: str | Sequence[Mapping[str, str]] | None) -> pd.DataFrame:
    """The assessment team (the Code and RMC ask for qualified teams): name, role, qualification."""
    rows = parse_list(assessors, "assessors")
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, Mapping) or not str(r.get("name", "")).strip() or not str(r.get("role", "")).strip():
            raise ParameterError(f"assessors[{i}] needs at least a name and a role, got {r!r}")
    return pd.DataFrame(
        [{"name": r["name"], "role": r["role"], "qualification": r.get("qualification", "")} for r in rows],
        columns=["name", "role", "qualification"],
    )


def context_table(pack: DataPack, cycle: Cycle, m: Metrics) -> pd.DataFrame:
    """Scope and context: the platform, the cycle, users against the licence threshold."""
    lib = load_library()
    threshold = lib.threshold_entry("licence.user_threshold")
    peak = m.value("peak_mau")
    rows = [
        ("Platform", pack.meta.platform_name),
        ("Service type", pack.meta.service_type),
        ("Licence", pack.meta.licence_id or "not stated"),
        ("Cycle", f"{cycle.id}: {cycle.label}"),
        ("Data as of", f"{pack.meta.as_of.tz_convert('Asia/Kuala_Lumpur'):%Y-%m-%d %H:%M} MYT"),
        ("Timestamp resolution", _resolution(pack)),
        (
            "Peak Malaysian monthly users",
            "not available (no `users` table)" if pd.isna(peak) else f"{peak:,.0f}",
        ),
        (
            "Licence threshold",
            f"{threshold.data['value']:,} users [{threshold.confidence}]"
            + ("" if pd.isna(peak) else (" — reached" if peak >= threshold.data["value"] else " — not reached")),
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
    source = pack.meta.raw.get("import", {}).get("note", "") if isinstance(pack.meta.raw.get("import"), dict) else ""
    return f"{r}: times to action are only as precise as a {r}" + (f" ({source})" if source else "")


def _pct(v: float) -> str:
    return "not available" if pd.isna(v) else f"{v:.1%}"


def key_metrics(m: Metrics, ids: Sequence[str] = KEY_METRICS) -> pd.DataFrame:
    """Headline metrics (Malaysian scope, all categories) with the previous cycle and the significance flag."""
    t = m.table
    rows = t[(t["scope"] == "malaysia") & (t["category"] == "all") & (t["dimension"] == "") & t["metric"].isin(ids)]
    rows = rows.set_index("metric").reindex([i for i in ids if i in set(rows["metric"])]).reset_index()
    out = pd.DataFrame(
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
    return out


def provenance(pack: DataPack, cycle: Cycle) -> pd.DataFrame:
    """Versions that produced this document (riskkit and every framework)."""
    rows = [("riskkit", __version__), *sorted(load_library().versions().items())]
    rows.append(("data pack", str(pack.path)))
    rows.append(("cycle", cycle.id))
    return pd.DataFrame(rows, columns=["component", "version"])


def export_dir(output_dir: str | Path | None) -> Path | None:
    """The folder exports go to (created), or None when the notebook runs without one."""
    if output_dir is None or str(output_dir).strip() in ("", "None"):
        return None
    path = Path(output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def compare_with_previous_run(register: pd.DataFrame, previous_run: str | Path | None) -> pd.DataFrame | None:
    """Band changes against a previous run's risk_register.csv (None when no previous run is given)."""
    if previous_run is None or str(previous_run).strip() in ("", "None"):
        return None
    path = Path(previous_run)
    file = path / "risk_register.csv" if path.is_dir() else path
    if not file.is_file():
        raise ParameterError(f"previous_run: no risk_register.csv at {file}")
    before = pd.read_csv(file, usecols=["row_id", "residual_band", "residual_score", "cycle"])
    merged = register[["row_id", "residual_band", "residual_score"]].merge(
        before, on="row_id", how="outer", suffixes=("", "_before"), indicator=True
    )
    merged["change"] = merged["_merge"].map({"left_only": "new", "right_only": "dropped", "both": ""})
    same = merged["_merge"] == "both"
    moved = same & (merged["residual_band"] != merged["residual_band_before"])
    merged.loc[moved, "change"] = merged.loc[moved, "residual_band_before"] + " → " + merged.loc[moved, "residual_band"]
    return merged[merged["change"] != ""][["row_id", "residual_band_before", "residual_band", "change"]]
