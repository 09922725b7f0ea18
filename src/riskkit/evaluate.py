"""Evaluate a reporting cycle once: metrics, risk assessment, audits, plan status, report tables, provenance.

``evaluate(pack, cycle, library=lib)`` is the one place a cycle is computed. The runner calls it once per run and
saves the :class:`~riskkit.result.CycleResult` in the run folder; every notebook, workbook and export is a view of
that result, so no two documents of a run can disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit import calendar, obligations
from riskkit.audit import AuditResult, run_audit
from riskkit.cycles import REPORTING_TZ, Cycle, parse
from riskkit.exceptions import ParameterError
from riskkit.library import Library
from riskkit.metrics import Metrics, compute, definitions_frame
from riskkit.pack import DataPack
from riskkit.reports import mcmc, overview, public, records
from riskkit.reports.disclosure import DEFAULT_THRESHOLD, Disclosure
from riskkit.reports.views import labels_table
from riskkit.reports.wording import load_wording
from riskkit.result import CycleResult
from riskkit.risk import Assessment, assess
from riskkit.targets import evaluate_targets

log = logging.getLogger(__name__)

#: The MCMC half-yearly report's tables, in the order of the report and of its workbook's sheets.
MCMC_TABLES = (
    "users_and_licence",
    "risk_summary",
    "top_risks",
    "triggers",
    "safety_measures",
    "automated_tools",
    "harm_handling",
    "reports",
    "reports_by_reporter",
    "appeals",
    "appeals_by_decider",
    "authority_requests",
    "requests_by_agency",
    "requests_by_kind",
    "compliance_challenges",
    "online_safety_plan",
    "significant_changes",
    "risks_moved",
    "record_keeping",
)
PUBLIC_TABLES = public.TABLES


def evaluate(
    pack: DataPack,
    cycle: str | Cycle,
    *,
    library: Library,
    previous: str | Path | CycleResult | None = None,
    disclosure_threshold: int = DEFAULT_THRESHOLD,
    risk_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> CycleResult:
    """Compute everything the cycle's documents show, once.

    ``previous`` is the previous cycle's run folder (or its result): its findings carry over and its risk register
    is compared. ``disclosure_threshold`` governs the public tables. Raises :class:`ParameterError` on bad input.
    """
    cyc = parse(cycle)
    log.info("evaluating %s", cyc.id)
    before = _previous(previous)
    m = compute(pack, cyc, library=library)
    overrides = risk_overrides if risk_overrides is not None else pack.meta.risk_overrides
    assessment = assess(pack, cyc, metrics=m, library=library, overrides=overrides)
    audits = {
        name: run_audit(pack, name, cyc, metrics=m, library=library, previous_findings=_findings(before, name))
        for name in library.checklists()
    }
    disclosure = Disclosure.for_library(library, disclosure_threshold, pack.meta.sla_overrides)
    completeness = records.record_completeness(pack, cyc)  # the rows are exported by the runner from the pack

    tables: dict[str, pd.DataFrame] = {
        "context": overview.context_table(pack, cyc, m, library),
        "data_quality": overview.data_quality(pack, m),
        "metrics": m.table,
        "metric_definitions": definitions_frame(library),
        "key_metrics": mcmc.metric_section(m, overview.KEY_METRICS),
        "inputs": overview.inputs_table(pack),
        "frameworks": library.describe(),
        "labels": labels_table(library),
    }
    tables.update(_risk_tables(assessment, before))
    for result in audits.values():
        tables.update(_audit_tables(result))
    targets = evaluate_targets(m, library, pack.meta.target_overrides)
    earlier = before.get("obligations") if before is not None else None
    register = obligations.register(library, cyc, audits.values(), targets, assessment, earlier)
    plan = obligations.plan_status(register)
    tables["targets"] = targets
    tables["obligations"] = register
    tables.update(_summary_tables(register, targets, assessment, library))
    tables["calendar"] = calendar.build(
        library,
        cyc,
        as_of=pack.meta.as_of,
        eu_provider_type=pack.meta.eu.provider_type if pack.meta.eu is not None else None,
        features=pack.get("feature_changes"),
        high_risk_periods=pack.meta.high_risk_periods,
    )
    tables["summary.coming_up"] = calendar.coming_up(tables["calendar"], pack.meta.as_of)
    tables.update({f"mcmc.{k}": v for k, v in _mcmc_tables(pack, cyc, m, assessment, audits, plan, library).items()})
    tables["mcmc.record_keeping"] = completeness
    launched = _features_launched(pack, cyc)
    words = load_wording()
    public_scalars: dict[str, Any] = {"threshold": disclosure.threshold, "languages": list(words.languages)}
    for lang in words.languages:
        publics = public.public_tables(m, launched, disclosure, library, words, lang)
        for key, table in publics.items():
            tables[f"public.{lang}.{key}"] = table.frame
            tables[f"public.{lang}.{key}.suppressed"] = table.log
        public_scalars.setdefault("titles", {})[lang] = {key: t.title for key, t in publics.items()}
        if cyc.kind == "year":
            year = cyc.id
            public_scalars.setdefault("summary", {})[lang] = public.public_summary(
                publics, library, words, lang, year, disclosure.threshold
            )
            public_scalars.setdefault("comparison", {})[lang] = public.public_comparison(
                publics["harm"], before, words, lang
            )

    scalars = {
        "platform": {
            "name": pack.meta.platform_name,
            "service_type": pack.meta.service_type,
            "licence_id": pack.meta.licence_id,
        },
        "cycle": _cycle_scalars(cyc),
        "as_of": pack.meta.as_of.tz_convert(REPORTING_TZ).isoformat(),
        "time_resolution": pack.meta.time_resolution,
        "versions": overview.versions(library),
        "metrics": {"unavailable": dict(m.unavailable)},
        "risk": {"methodology": f"{assessment.methodology.id} {assessment.methodology.version}"},
        "audits": {
            name: {"framework": r.framework, "title": audit_title(library, name), "overall": _plain(r.overall)}
            for name, r in audits.items()
        },
        "public": public_scalars,
        "previous": {"cycle": before.cycle_id if before is not None else None},
        "sign_off": _sign_off(pack),
        "warnings": _warnings(pack, cyc),
    }
    return CycleResult(scalars, tables)


# --------------------------------------------------------------------------------------------------- pieces


def _previous(previous: str | Path | CycleResult | None) -> CycleResult | None:
    if previous is None or isinstance(previous, CycleResult):
        return previous
    text = str(previous).strip()
    if text in ("", "None"):
        return None
    path = Path(text)
    if not path.exists():
        raise ParameterError(f"previous run: {path} does not exist")
    return CycleResult.load(path)


def _findings(before: CycleResult | None, audit: str) -> pd.DataFrame | None:
    if before is None:
        return None
    return before.get(f"audit.{audit}.findings")


def _risk_tables(a: Assessment, before: CycleResult | None) -> dict[str, pd.DataFrame]:
    register = a.register
    cells = a.methodology.cells
    matrix = pd.DataFrame(
        [
            {"likelihood": i + 1, **{f"severity {j + 1}": band for j, band in enumerate(row)}}
            for i, row in enumerate(cells)
        ]
    )
    out = {
        "risk.register": register,
        "risk.triggers": a.triggers,
        "risk.checks": a.checks,
        "risk.methodology": a.methodology.frame(
            {**{k: d.label_en for k, d in a.metrics.definitions.items()}, **_harm_names(a), "sla": "response clocks"}
        ),
        "risk.harm_severity": a.methodology.harm_frame(),
        "risk.matrix": matrix,
    }
    if before is not None and "risk.register" in before:
        out["risk.changes_since_previous_run"] = _register_changes(register, before["risk.register"])
    return out


def _harm_names(a: Assessment) -> dict[str, str]:
    return {h.ref_id: h.label.en for h in a.methodology.fw.harm_severity} | {
        "safety_by_design": "Safety by Design audit",
        "child_safety": "child-safety audit",
        "accessibility": "accessibility audit",
        "all": "all harms",
    }


def _register_changes(register: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """Band changes of each row against a previous run's register (new, dropped, or band a → band b)."""
    merged = register[["row_id", "residual_band", "residual_score"]].merge(
        earlier[["row_id", "residual_band", "residual_score"]],
        on="row_id",
        how="outer",
        suffixes=("", "_before"),
        indicator=True,
    )
    merged["change"] = merged["_merge"].map({"left_only": "new", "right_only": "dropped", "both": ""}).astype(str)
    moved = (merged["_merge"] == "both") & (merged["residual_band"] != merged["residual_band_before"])
    merged.loc[moved, "change"] = merged.loc[moved, "residual_band_before"] + " → " + merged.loc[moved, "residual_band"]
    changed = merged[merged["change"] != ""]
    return changed[["row_id", "residual_band_before", "residual_band", "change"]].reset_index(drop=True)


def _summary_tables(
    register: pd.DataFrame, targets: pd.DataFrame, a: Assessment, library: Library
) -> dict[str, pd.DataFrame]:
    """The executive summary: counts by status, what is not met (with due dates), the highest residual risks and
    the clocks and targets missed."""
    not_met = register[register["status"] == "not_met"][
        ["obligation", "instrument_name", "section", "title", "evidence", "owner", "due", "findings"]
    ]
    top = a.register.head(5)
    risks = pd.DataFrame(
        {
            "risk": [f"{h} on {s.replace('_', ' ')}" for h, s in zip(top["harm_label"], top["surface"], strict=True)],
            "residual": top["residual_band"].to_numpy(),
            "score": top["residual_score"].to_numpy(),
            "response": top["response"].to_numpy(),
            "row_id": top["row_id"].to_numpy(),
        }
    )
    missed = targets[targets["status"] == "missed"][["target", "label", "metric", "value", "target_value"]]
    return {
        "summary.status_counts": obligations.summary(register, library),
        "summary.not_met": not_met.sort_values(["due", "obligation"]).reset_index(drop=True),
        "summary.top_risks": risks,
        "summary.targets_missed": missed.reset_index(drop=True),
    }


def audit_title(library: Library, audit: str) -> str:
    """``Child-safety audit`` from the checklist's name (``Child-safety audit checklist``)."""
    name = library.checklist(audit).name.en
    return name.removesuffix(" checklist").strip() or name


def _sign_off(pack: DataPack) -> dict[str, Any]:
    """Who prepared, reviewed and approved (datapack.yaml sign_off); ``signed`` is false for an unsigned draft."""
    s = pack.meta.sign_off
    people = {} if s is None else s.model_dump(mode="json")
    signed = bool(s is not None and not s.empty)
    return {"signed": signed, **{k: people.get(k, []) for k in ("prepared_by", "reviewed_by", "approved_by")}}


def _audit_tables(r: AuditResult) -> dict[str, pd.DataFrame]:
    return {
        f"audit.{r.audit}.items": r.items,
        f"audit.{r.audit}.domains": r.domains,
        f"audit.{r.audit}.findings": r.findings,
        f"audit.{r.audit}.checks": r.checks,
    }


def _mcmc_tables(
    pack: DataPack,
    cyc: Cycle,
    m: Metrics,
    a: Assessment,
    audits: dict[str, AuditResult],
    plan: pd.DataFrame,
    library: Library,
) -> dict[str, pd.DataFrame]:
    register = a.register
    t = m.table
    changes = t[(t["scope"] == "malaysia") & (t["dimension"] == "") & (t["significant"].fillna(False).astype(bool))][
        ["metric", "category", "previous_value", "value", "change", "p_value"]
    ]
    out = {
        "users_and_licence": overview.context_table(pack, cyc, m, library),
        "risk_summary": mcmc.risk_summary(a),
        "top_risks": register.head(10)[
            ["row_id", "harm_label", "surface", "inherent_band", "residual_band", "residual_score", "response", "trend"]
        ],
        "triggers": a.triggers,
        "safety_measures": mcmc.metric_section(m, SAFETY_METRICS),
        "automated_tools": _automated_tools(pack, cyc),
        "harm_handling": mcmc.harm_handling(m, library),
        "reports": mcmc.metric_section(m, REPORT_METRICS),
        "reports_by_reporter": mcmc.metric_section(m, ["reports_received"], dimension="reporter_type"),
        "appeals": mcmc.metric_section(
            m, ["appeals_filed", "appeal_rate", "reversal_rate", "appeal_decision_median_h"]
        ),
        "appeals_by_decider": mcmc.metric_section(m, ["reversal_rate"], dimension="decision_by"),
        "authority_requests": mcmc.metric_section(
            m, ["requests_received", "request_compliance_rate", "request_response_median_h", "request_response_p90_h"]
        ),
        "requests_by_agency": mcmc.metric_section(m, ["requests_received"], dimension="agency"),
        "requests_by_kind": mcmc.metric_section(m, ["requests_received"], dimension="kind"),
        "compliance_challenges": mcmc.compliance_challenges(list(audits.values()), a),
        "online_safety_plan": plan,
        "significant_changes": changes,
        "risks_moved": register[register["trend"].isin(["up", "down"])][
            ["row_id", "harm_label", "surface", "previous_residual_band", "residual_band", "trend"]
        ],
    }
    return out


SAFETY_METRICS = (
    "moderators_fte",
    "moderators_per_million_users",
    "actions_per_moderator",
    "training_hours_per_moderator",
    "wellbeing_hours_per_moderator",
    "languages_covered",
    "local_languages_missing",
    "automated_detection_share",
    "automated_decision_share",
    "proactive_rate",
)
REPORT_METRICS = (
    "reports_received",
    "report_ack_median_h",
    "report_assess_median_h",
    "sla.onsa.report_ack_1h",
    "sla.onsa.report_assess_12h",
    "report_actioned_rate",
    "report_dismissal_rate",
    "report_duplicate_rate",
    "reports_open_at_cycle_end",
)


def _automated_tools(pack: DataPack, cyc: Cycle) -> pd.DataFrame:
    capacity = pack.get("capacity")
    if capacity is None:
        return pd.DataFrame({"tool": pd.Series([], dtype="object")})
    months = {str(p) for p in cyc.months}
    tools = capacity[capacity["month"].astype(str).isin(months)]["automated_tools"]
    return pd.DataFrame({"tool": sorted({t for v in tools for t in v})}, columns=["tool"])


def _features_launched(pack: DataPack, cyc: Cycle) -> int:
    features = pack.get("feature_changes")
    if features is None:
        return 0
    return int(((features["launched_at"] >= cyc.start) & (features["launched_at"] < cyc.end)).sum())


def _cycle_scalars(cyc: Cycle) -> dict[str, Any]:
    return {
        "id": cyc.id,
        "kind": cyc.kind,
        "label": cyc.label,
        "start": cyc.start.isoformat(),
        "end_exclusive": cyc.end.isoformat(),
        "last_day": cyc.last_day.isoformat(),
        "previous": cyc.previous().id,
    }


def _warnings(pack: DataPack, cyc: Cycle) -> list[str]:
    out = []
    if not cyc.is_complete(pack.meta.as_of):
        out.append(
            f"the data is as of {pack.meta.as_of.tz_convert(REPORTING_TZ):%Y-%m-%d %H:%M} MYT, before the end of "
            f"{cyc.id}: this result covers the cycle only in part"
        )
    return out


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy (NaN → None, numpy scalars → Python)."""
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        if hasattr(v, "item"):
            v = v.item()
        out[k] = None if isinstance(v, float) and v != v else v
    return out
