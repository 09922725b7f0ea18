"""The systemic risk register: one row per harm × surface, scored by the methodology framework, with an explanation
of every score, reassessment triggers and quality checks.

The method (scales, thresholds, matrix, control mapping, responses) is data in
``frameworks/risk-methodology.yaml``; this module applies it. Scores come from the metrics of the cycle, so every
number in a row can be traced to a registered metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.cycles import Cycle, parse
from riskkit.exceptions import ParameterError
from riskkit.library import Library
from riskkit.library.models import RiskMethodology, TrendRule
from riskkit.metrics import ALL, Metrics
from riskkit.pack import DataPack

BANDS = ("low", "medium", "high", "critical")
REGISTER_COLUMNS = (
    "row_id",
    "harm",
    "harm_label",
    "surface",
    "likelihood",
    "likelihood_label",
    "incidence_per_million",
    "reports_per_million",
    "prevalence",
    "growth",
    "likelihood_explanation",
    "scale",
    "scope",
    "irremediability",
    "severity",
    "severity_label",
    "severity_explanation",
    "inherent_score",
    "inherent_band",
    "control_sla",
    "control_proactive",
    "control_accuracy",
    "control_audit",
    "effectiveness",
    "rrf",
    "controls_explanation",
    "residual_likelihood",
    "residual_score",
    "residual_band",
    "response",
    "previous_residual_score",
    "previous_residual_band",
    "trend",
    "triggers",
    "evidence",
    "scored_without_evidence",
    "override",
    "explanation",
    "cycle",
    "methodology",
)


# ------------------------------------------------------------------------------------------------ methodology


def score(value: float, thresholds: list[float], higher_is_better: bool = True) -> int:
    """1–5 from four thresholds: ascending thresholds rate larger values higher; descending ones (with
    ``higher_is_better=False``) rate smaller values higher. NaN → 0 (no evidence)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    if len(thresholds) != 4:
        raise ParameterError(f"a 1-5 scale needs four thresholds, got {thresholds}")
    if higher_is_better:
        return 1 + sum(value >= t for t in thresholds)
    return 1 + sum(value <= t for t in thresholds)


@dataclass(frozen=True)
class Methodology:
    """The risk methodology framework (typed, checked when the library loaded) and the arithmetic it defines."""

    fw: RiskMethodology = field(repr=False)

    @property
    def id(self) -> str:
        return self.fw.id

    @property
    def version(self) -> str:
        return self.fw.version

    @property
    def cells(self) -> list[list[str]]:
        return [list(row) for row in self.fw.matrix[0].cells]

    def band(self, likelihood: int, severity: int) -> str:
        return self.fw.matrix[0].cells[int(likelihood) - 1][int(severity) - 1]

    def rrf(self, effectiveness: float) -> float:
        """Risk-reduction factor for an effectiveness rating in [1, 5], interpolated between the points."""
        if math.isnan(effectiveness):
            return 0.0
        points = self.fw.reduction[0].points
        xs = sorted(points)
        return float(np.interp(effectiveness, xs, [points[x] for x in xs]))

    def response(self, band: str) -> str:
        return self.fw.response(band).response

    def label(self, scale: str, level: int) -> str:
        return self.fw.scale(scale).levels.get(level, "")

    def frame(self, labels: dict[str, str] | None = None) -> pd.DataFrame:
        """The methodology as a printable table (one row per rule); ``labels`` turns metric and harm keys in the
        parameters into what readers see."""
        labels = labels or {}

        def word(value: Any) -> str:
            if isinstance(value, dict):
                return ", ".join(f"{word(k)}: {word(v)}" for k, v in value.items())
            if isinstance(value, list):
                return "[" + ", ".join(word(v) for v in value) + "]"
            return labels.get(str(value), str(value))

        rows = []
        sections = self.fw.sections()
        for name in ("likelihood_indicators", "likelihood_rules", "severity", "controls", "triggers"):
            for e in sections[name]:
                detail = e.model_dump(exclude={"ref_id", "label", "source", "confidence", "description", "notes"})
                rows.append(
                    {
                        "part": name.replace("_", " "),
                        "rule": e.label.en,
                        "description": " ".join(str(getattr(e, "description", "") or "").split()),
                        "parameters": "; ".join(
                            f"{k.replace('_', ' ')}: {word(v)}" for k, v in detail.items() if v is not None
                        ),
                        "confidence": e.confidence,
                    }
                )
        return pd.DataFrame(rows)

    def harm_frame(self) -> pd.DataFrame:
        """Per-harm severity ratings (scale, scope, irremediability, floor)."""
        return pd.DataFrame(
            [
                {
                    "harm": h.label.en,
                    "scale": h.scale,
                    "scope": h.scope,
                    "irremediability": h.irremediability,
                    "floor": h.floor,
                }
                for h in self.fw.harm_severity
            ]
        )


# ------------------------------------------------------------------------------------------------ assessment


@dataclass
class Assessment:
    """A cycle's risk assessment: the register, triggers fired, quality checks and the method used."""

    cycle: Cycle
    register: pd.DataFrame
    triggers: pd.DataFrame
    checks: pd.DataFrame
    methodology: Methodology
    metrics: Metrics

    def to_csv(self, path: str) -> None:
        """The register as CSV (text that a spreadsheet would run as a formula is quoted)."""
        from riskkit.documents.tabular import write_csv

        write_csv(self.register, path, overwrite=True)

    def to_xlsx(self, path: str) -> None:
        """Register, triggers, checks and methodology as sheets of one workbook (cells typed, never a formula)."""
        from riskkit.documents.xlsx import Cover, Sheet, write_workbook

        sheets = [
            Sheet("register", "Risk register", self.register),
            Sheet("triggers", "Reassessment triggers", self.triggers),
            Sheet("quality_checks", "Quality checks", self.checks),
            Sheet("methodology", "Methodology", self.methodology.frame()),
        ]
        write_workbook(path, Cover((("Cycle", self.cycle.id),)), sheets, overwrite=True)


def assess(
    pack: DataPack,
    cycle: str | Cycle,
    *,
    metrics: Metrics,
    library: Library,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Assessment:
    """Score every harm × surface of the cycle, compare with the previous cycle and fire triggers.

    ``overrides`` lets the qualified team adjust a row by id: ``{"R-csam-live": {"likelihood": 5, "response":
    "reduce", "justification": "...", "by": "name"}}``; a justification is required and shown in the row.
    """
    lib = library
    cyc = parse(cycle)
    m = metrics
    if m.cycle != cyc:
        raise ParameterError(f"metrics are for {m.cycle.id}, not {cyc.id}")
    method = Methodology(lib.risk_methodology)
    ctx = _Context.build(pack, cyc, m, method, lib)
    triggers = _triggers(pack, cyc, m, method, ctx)
    rows = []
    for harm, surface in ctx.cells:
        current = _score_row(harm, surface, "value", ctx, method)
        previous = _score_row(harm, surface, "previous_value", ctx, method)
        rows.append(_finish_row(current, previous, triggers, overrides or {}, method, cyc))
    register = pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))
    register = register.sort_values(["residual_score", "inherent_score", "row_id"], ascending=[False, False, True])
    register = register.reset_index(drop=True)
    return Assessment(cyc, register, triggers, quality_checks(register), method, m)


@dataclass
class _Context:
    """Inputs per cycle ('value' = current, 'previous_value' = previous) looked up from the metrics table."""

    metrics: Metrics
    cells: list[tuple[str, str]]
    reach: dict[str, float]
    involves_minor: dict[str, float]
    minor_surfaces: set[str]
    audit_rating: dict[str, tuple[float, str]]
    clocks: dict[str, list[str]]
    labels: dict[str, str]

    @classmethod
    def build(cls, pack: DataPack, cycle: Cycle, m: Metrics, method: Methodology, lib: Library) -> _Context:
        t = m.table
        by_surface = t[(t["metric"] == "actions_enforced") & (t["dimension"] == "surface") & (t["scope"] == "malaysia")]
        by_surface = by_surface[(by_surface["category"] != ALL)]
        active = by_surface[(by_surface["value"] > 0) | (by_surface["previous_value"] > 0)]
        cells = sorted({(r.category, r.level) for r in active.itertuples()})
        launched = _launched(pack, cycle)
        for surfaces in launched.values():
            for surface in surfaces:
                cells.extend((h, surface) for h in schema.HARM_CATEGORIES if (h, surface) not in cells)
        order = {h: i for i, h in enumerate(schema.HARM_CATEGORIES)}
        cells = sorted(set(cells), key=lambda c: (order[c[0]], c[1]))
        reach, minors = _action_profile(pack, cycle)
        policy = lib.sla_policy(pack.meta.sla_overrides)
        clocks = {h: [f"sla.{c.ref_id}" for c in policy.clocks if h in c.categories] for h in schema.HARM_CATEGORIES}
        labels = {k: d.label_en for k, d in m.definitions.items()}
        return cls(m, cells, reach, minors, _minor_surfaces(pack, cycle), _audit_ratings(pack, method), clocks, labels)

    def get(self, metric: str, which: str, category: str = ALL, dimension: str = "", level: str = "") -> float:
        row = self.metrics.row(metric, category, "malaysia", dimension, level)
        return float("nan") if row is None else float(row[which])

    def row(self, metric: str, category: str = ALL) -> pd.Series | None:
        return self.metrics.row(metric, category, "malaysia")


def _launched(pack: DataPack, cycle: Cycle) -> dict[str, tuple[str, ...]]:
    features = pack.get("feature_changes")
    if features is None:
        return {}
    inside = (features["launched_at"] >= cycle.start) & (features["launched_at"] < cycle.end)
    return {r.feature: tuple(r.surfaces) for r in features[inside].itertuples()}


def _minor_surfaces(pack: DataPack, cycle: Cycle) -> set[str]:
    """Surfaces carrying a feature open to minors launched by the cycle end."""
    features = pack.get("feature_changes")
    if features is None:
        return set()
    live = features[(features["launched_at"] < cycle.end) & features["available_to_minors"].fillna(False)]
    return {s for surfaces in live["surfaces"] for s in surfaces}


def _action_profile(pack: DataPack, cycle: Cycle) -> tuple[dict[str, float], dict[str, float]]:
    """Median views before action and share of items involving a minor, per harm (Malaysian scope, the cycle)."""
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):  # the actions stay in the engine: the same figures as aggregates there
        return on_engine.action_profile(pack, cycle)
    a = pack.actions
    when = a[pack.meta.cohort_column]  # detection, or the decision for packs without detection times
    inside = (when >= cycle.start) & (when < cycle.end) & a["in_malaysia"].fillna(False)
    a = a[inside]
    reach: dict[str, float] = {}
    minors: dict[str, float] = {}
    if "views_before_action" in a.columns:
        reach = a.groupby("category", observed=True)["views_before_action"].median().astype(float).to_dict()
    if "involves_minor" in a.columns:
        minors = a.groupby("category", observed=True)["involves_minor"].mean().astype(float).to_dict()
    return reach, minors


def _audit_ratings(pack: DataPack, method: Methodology) -> dict[str, tuple[float, str]]:
    """Per harm: audit rating (mean maturity + 1 over relevant audits' answered items) and its explanation."""
    relevance = method.fw.controls.audit.audits
    out: dict[str, tuple[float, str]] = {}
    for harm in schema.HARM_CATEGORIES:
        values, names = [], []
        for audit, harms in relevance.items():
            if audit not in pack.audits or not (harms == "all" or harm in (harms or [])):
                continue
            answers = pack.audits[audit]
            answered = answers[(answers["status"] != "not_applicable") & answers["maturity"].notna()]
            if len(answered):
                values.extend(answered["maturity"].astype(float).tolist())
                names.append(f"the {audit.replace('_', ' ')} audit ({len(answered)} items)")
        if values:
            mean = float(np.mean(values))
            out[harm] = (mean + 1, f"audit maturity {mean:.2f}/4 over {', '.join(names)} → rating {mean + 1:.1f}")
    return out


def _score_row(harm: str, surface: str, which: str, ctx: _Context, method: Methodology) -> dict[str, Any]:
    """Likelihood, severity, controls and residual of one cell for one cycle ('value' or 'previous_value')."""
    peak = ctx.get("peak_mau", which)
    per_million = peak / 1e6 if peak and not math.isnan(peak) else float("nan")
    evidence: list[str] = []
    parts: list[str] = []
    scores: list[int] = []
    values: dict[str, float] = {}
    for ind in method.fw.likelihood_indicators:
        if ind.level == "surface":
            raw = ctx.get(ind.metric, which, harm, "surface", surface)
            raw = 0.0 if math.isnan(raw) and not math.isnan(ctx.get("decisions", which)) else raw
        else:
            raw = ctx.get(ind.metric, which, harm)
        value = raw / per_million if ind.per_million_users else raw
        values[ind.ref_id] = value
        s = score(value, ind.thresholds)
        if s == 0:
            parts.append(f"{ind.label.en}: not available")
            continue
        adjusted = max(1, s - ind.discount)
        shown = f"{value:,.1f} per million users" if ind.per_million_users else f"{value:.5f}"
        step = f"score {s}" + (f" − {ind.discount} (not surface-specific) = {adjusted}" if adjusted != s else "")
        parts.append(f"{ind.label.en}: {shown} ({step}; thresholds {ind.thresholds})")
        scores.append(adjusted)
        evidence.append(f"{ind.metric}[{harm}{'/' + surface if ind.level == 'surface' else ''}]")
    rules = method.fw.likelihood_rules
    no_evidence = not scores
    likelihood = max(scores) if scores else rules.no_evidence.default
    if no_evidence:
        parts.append(f"no indicator available: precautionary default {likelihood}")
    growth, grew = _growth(harm, surface, ctx, which, rules.trend)
    if grew and likelihood < 5:
        likelihood += 1
        parts.append(f"sharp rise: +{growth:.0%} enforcement vs the previous cycle (significant) → +1")
    likelihood_expl = f"Likelihood {likelihood} ({method.label('likelihood', likelihood)}) = highest of: " + "; ".join(
        parts
    )

    sev = method.fw.harm(harm)
    reach_rule = method.fw.severity.reach
    vulnerable = method.fw.severity.vulnerable_users
    scale = sev.scale
    name = sev.label.en
    sev_parts = [f"base scale {scale}, scope {sev.scope}, irremediability {sev.irremediability} for {name}"]
    views = ctx.reach.get(harm, float("nan")) if which == "value" else float("nan")
    reach_score = score(views, reach_rule.thresholds)
    if reach_score > scale:
        sev_parts.append(f"scale raised to {reach_score} by median {views:,.0f} views before action")
        scale = reach_score
    scope = sev.scope
    minors_share = ctx.get("minors_share", which)
    minor_feature = surface in ctx.minor_surfaces and minors_share >= vulnerable.minors_share
    minor_items = ctx.involves_minor.get(harm, 0.0) >= vulnerable.involves_minor_share
    if (minor_feature or minor_items) and scope < 5:
        why = (
            f"{minors_share:.1%} of users are minors and {surface} carries a feature open to minors"
            if minor_feature
            else f"{ctx.involves_minor.get(harm, 0):.0%} of {name} items involve a minor"
        )
        scope += 1
        sev_parts.append(f"scope +1 for vulnerable users ({why})")
    irremediability = sev.irremediability
    severity = max(scale, scope, irremediability)
    if severity < sev.floor:
        sev_parts.append(f"floor {sev.floor} for {name}")
        severity = sev.floor
    severity_expl = (
        f"Severity {severity} ({method.label('severity', severity)}) = highest of scale {scale}, scope {scope}, "
        f"irremediability {irremediability}: " + "; ".join(sev_parts)
    )

    controls, controls_expl, control_evidence = _controls(harm, which, ctx, method)
    evidence.extend(control_evidence)
    ratings = [v for v in controls.values() if not math.isnan(v)]
    effectiveness = float(np.mean(ratings)) if ratings else float("nan")
    rrf = method.rrf(effectiveness)
    inherent = likelihood * severity
    residual_likelihood = max(1.0, likelihood * (1 - rrf))
    residual_score = residual_likelihood * severity
    residual_band = method.band(math.ceil(round(residual_likelihood, 9)), severity)
    return {
        "harm": harm,
        "surface": surface,
        "likelihood": likelihood,
        "values": values,
        "growth": growth,
        "likelihood_explanation": likelihood_expl,
        "scale": scale,
        "scope": scope,
        "irremediability": irremediability,
        "severity": severity,
        "severity_explanation": severity_expl,
        "inherent_score": inherent,
        "inherent_band": method.band(likelihood, severity),
        "controls": controls,
        "effectiveness": effectiveness,
        "rrf": rrf,
        "controls_explanation": controls_expl
        + (f" → effectiveness {effectiveness:.2f} → risk-reduction factor {rrf:.2f}" if ratings else ""),
        "residual_likelihood": residual_likelihood,
        "residual_score": residual_score,
        "residual_band": residual_band,
        "evidence": evidence,
        "no_evidence": no_evidence,
    }


def _growth(harm: str, surface: str, ctx: _Context, which: str, rule: TrendRule) -> tuple[float, bool]:
    if which != "value":
        return float("nan"), False  # the previous cycle's own trend needs the cycle before it
    row = ctx.metrics.row("actions_enforced", harm, "malaysia", "surface", surface)
    if row is None or not row["previous_value"]:
        return float("nan"), False
    growth = row["value"] / row["previous_value"] - 1
    significant = pd.notna(row["p_value"]) and row["p_value"] < rule.significance
    return growth, bool(growth >= rule.min_growth and significant)


def _controls(harm: str, which: str, ctx: _Context, method: Methodology) -> tuple[dict[str, float], str, list[str]]:
    rules = method.fw.controls
    ratings: dict[str, float] = {}
    parts: list[str] = []
    evidence: list[str] = []
    sla = [(c, ctx.get(c, which, harm)) for c in ctx.clocks.get(harm, [])]
    sla = [(c, v) for c, v in sla if not math.isnan(v)]
    if sla:
        clock, worst = min(sla, key=lambda cv: cv[1])
        r = score(worst, rules.sla.thresholds)
        ratings["sla"] = r
        parts.append(f"lowest share within a response clock {worst:.1%} ({ctx.labels.get(clock, clock)}) → rating {r}")
        evidence.append(f"{clock}[{harm}]")
    else:
        ratings["sla"] = float("nan")
    proactive = ctx.get("proactive_rate", which, harm)
    if not math.isnan(proactive):
        r = score(proactive, rules.proactive.thresholds)
        ratings["proactive"] = r
        parts.append(f"proactive rate {proactive:.1%} → rating {r}")
        evidence.append(f"proactive_rate[{harm}]")
    else:
        ratings["proactive"] = float("nan")
    reversal = ctx.metrics.row("reversal_rate", harm, "malaysia")
    decided = float("nan") if reversal is None else reversal["denominator" if which == "value" else "previous_value"]
    rate = ctx.get("reversal_rate", which, harm)
    if which == "previous_value":
        decided = float("nan") if reversal is None else reversal["denominator"]  # same floor test as current
    if not math.isnan(rate) and decided >= (rules.accuracy.min_appeals or 0):
        r = score(rate, rules.accuracy.thresholds, higher_is_better=rules.accuracy.higher_is_better)
        ratings["accuracy"] = r
        parts.append(f"reversal rate {rate:.1%} on {decided:.0f} decided appeals → rating {r}")
        evidence.append(f"reversal_rate[{harm}]")
    else:
        ratings["accuracy"] = float("nan")
    if harm in ctx.audit_rating:
        rating, text = ctx.audit_rating[harm]
        ratings["audit"] = rating
        parts.append(text)
        evidence.append("audits")
    else:
        ratings["audit"] = float("nan")
    text = "Controls: " + ("; ".join(parts) if parts else "none measured — no reduction applied")
    return ratings, text, evidence


def _finish_row(
    cur: dict[str, Any],
    prev: dict[str, Any],
    triggers: pd.DataFrame,
    overrides: Mapping[str, Mapping[str, Any]],
    method: Methodology,
    cycle: Cycle,
) -> dict[str, Any]:
    harm, surface = cur["harm"], cur["surface"]
    row_id = f"R-{harm}-{surface}"
    fired = list(
        dict.fromkeys(
            t.trigger
            for t in triggers.itertuples()
            if (t.harms == "all" or harm in t.harms.split(";"))
            and (t.surfaces == "all" or surface in t.surfaces.split(";"))
        )
    )
    override = overrides.get(row_id)
    override_text = ""
    if override:
        if not str(override.get("justification", "")).strip():
            raise ParameterError(f"override of {row_id} needs a justification (and who made it, `by`)")
        for key in ("likelihood", "severity"):
            if key in override:
                value = int(override[key])
                if not 1 <= value <= 5:
                    raise ParameterError(f"override of {row_id}: {key} must be 1-5, got {value}")
                cur[key] = value
        cur["inherent_score"] = cur["likelihood"] * cur["severity"]
        cur["inherent_band"] = method.band(cur["likelihood"], cur["severity"])
        cur["residual_likelihood"] = max(1.0, cur["likelihood"] * (1 - cur["rrf"]))
        cur["residual_score"] = cur["residual_likelihood"] * cur["severity"]
        cur["residual_band"] = method.band(math.ceil(round(cur["residual_likelihood"], 9)), cur["severity"])
        override_text = f"{dict(override)}"
    response = method.response(cur["residual_band"])
    if override and "response" in override:
        response = str(override["response"])
    prev_score = prev["residual_score"] if not prev["no_evidence"] else float("nan")
    if math.isnan(prev_score):
        trend = "new"
    else:
        delta = cur["residual_score"] - prev_score
        trend = "up" if delta > 0.5 else "down" if delta < -0.5 else "same"
    label = f"{method.fw.harm(harm).label.en} on {surface.replace('_', ' ')}"
    explanation = (
        f"{label}: inherent {cur['inherent_band']} ({cur['likelihood']}×{cur['severity']}={cur['inherent_score']}); "
        f"residual {cur['residual_band']} ({cur['residual_likelihood']:.2f}×{cur['severity']}="
        f"{cur['residual_score']:.1f}) after controls; response: {response}."
    )
    c = cur["controls"]
    return {
        "row_id": row_id,
        "harm": harm,
        "harm_label": method.fw.harm(harm).label.en,
        "surface": surface,
        "likelihood": cur["likelihood"],
        "likelihood_label": method.label("likelihood", cur["likelihood"]),
        "incidence_per_million": cur["values"].get("incidence"),
        "reports_per_million": cur["values"].get("reports"),
        "prevalence": cur["values"].get("prevalence"),
        "growth": cur["growth"],
        "likelihood_explanation": cur["likelihood_explanation"],
        "scale": cur["scale"],
        "scope": cur["scope"],
        "irremediability": cur["irremediability"],
        "severity": cur["severity"],
        "severity_label": method.label("severity", cur["severity"]),
        "severity_explanation": cur["severity_explanation"],
        "inherent_score": cur["inherent_score"],
        "inherent_band": cur["inherent_band"],
        "control_sla": c["sla"],
        "control_proactive": c["proactive"],
        "control_accuracy": c["accuracy"],
        "control_audit": c["audit"],
        "effectiveness": cur["effectiveness"],
        "rrf": cur["rrf"],
        "controls_explanation": cur["controls_explanation"],
        "residual_likelihood": round(cur["residual_likelihood"], 4),
        "residual_score": round(cur["residual_score"], 4),
        "residual_band": cur["residual_band"],
        "response": response,
        "previous_residual_score": None if math.isnan(prev_score) else round(prev_score, 4),
        "previous_residual_band": None if math.isnan(prev_score) else prev["residual_band"],
        "trend": trend,
        "triggers": ";".join(fired),
        "evidence": ";".join(cur["evidence"]),
        "scored_without_evidence": cur["no_evidence"],
        "override": override_text,
        "explanation": explanation,
        "cycle": cycle.id,
        "methodology": f"{method.id} {method.version}",
    }


# ------------------------------------------------------------------------------------------------ triggers


TRIGGER_COLUMNS = ("trigger", "label", "detail", "harms", "surfaces")


def _triggers(pack: DataPack, cycle: Cycle, m: Metrics, method: Methodology, ctx: _Context) -> pd.DataFrame:
    rules = method.fw.triggers
    rows = []
    for feature, surfaces in _launched(pack, cycle).items():
        rows.append(
            {
                "trigger": "feature_launch",
                "detail": f"'{feature}' launched in {cycle.id} on {', '.join(surfaces)}",
                "harms": "all",
                "surfaces": ";".join(surfaces),
            }
        )
    points = rules.demographic_shift.share_points or 0.0
    for metric, what in (("minors_share", "under-18"), ("under16_share", "under-16")):
        row = ctx.row(metric)
        if row is not None and pd.notna(row["change"]) and abs(row["change"]) >= points:
            rows.append(
                {
                    "trigger": "demographic_shift",
                    "detail": f"{what} share of users moved {row['previous_value']:.1%} → {row['value']:.1%}",
                    "harms": "all",
                    "surfaces": "all",
                }
            )
    threshold = ctx.row("licence_threshold_met")
    if threshold is not None and pd.notna(threshold["previous_value"]) and threshold["change"] != 0:
        rows.append(
            {
                "trigger": "demographic_shift",
                "detail": "peak Malaysian users crossed the licence threshold",
                "harms": "all",
                "surfaces": "all",
            }
        )
    for period in pack.meta.high_risk_periods:
        start = pd.Timestamp(period.start.date(), tz=cycle.start.tz)
        end = pd.Timestamp(period.end.date(), tz=cycle.start.tz) + pd.Timedelta(days=1)
        if start < cycle.end and end > cycle.start:
            rows.append(
                {
                    "trigger": "high_risk_period",
                    "detail": f"{period.name} ({period.start:%-d %b %Y} – {period.end:%-d %b %Y})",
                    "harms": ";".join(period.categories),
                    "surfaces": "all",
                }
            )
    growth = rules.volume_growth
    for harm in schema.HARM_CATEGORIES:
        row = ctx.row("actions_enforced", harm)
        if row is None or not row["previous_value"]:
            continue
        change = row["value"] / row["previous_value"] - 1
        if (
            change >= (growth.min_growth or 0.0)
            and pd.notna(row["p_value"])
            and row["p_value"] < (growth.significance or 0.05)
        ):
            rows.append(
                {
                    "trigger": "volume_growth",
                    "detail": f"{method.fw.harm(harm).label.en}: enforcement {row['previous_value']:,.0f} → "
                    f"{row['value']:,.0f} (+{change:.0%})",
                    "harms": harm,
                    "surfaces": "all",
                }
            )
    out = pd.DataFrame(rows, columns=[c for c in TRIGGER_COLUMNS if c != "label"])
    out.insert(1, "label", out["trigger"].map(lambda k: getattr(rules, k).label.en))
    return out


# ------------------------------------------------------------------------------------------------ quality checks


CHECKS = (
    ("residual_above_inherent", "FAIL", "Residual risk above inherent risk"),
    ("lowered_without_control", "FAIL", "Risk lowered with no control measured"),
    ("high_residual_no_response", "FAIL", "High or critical residual risk without a 'reduce' response"),
    ("scored_without_evidence", "WARN", "Likelihood scored without any data indicator"),
    ("override_without_justification", "FAIL", "Score changed by hand without a justification"),
)


def quality_checks(register: pd.DataFrame) -> pd.DataFrame:
    """X-Ray style checks over the register: one row per check with OK / WARN / FAIL and the rows concerned."""
    controls = register[["control_sla", "control_proactive", "control_accuracy", "control_audit"]]
    hits = {
        "residual_above_inherent": register["residual_score"] > register["inherent_score"] + 1e-9,
        "lowered_without_control": (register["residual_score"] < register["inherent_score"] - 1e-9)
        & controls.isna().all(axis=1),
        "high_residual_no_response": register["residual_band"].isin(["high", "critical"])
        & (register["response"] != "reduce"),
        "scored_without_evidence": register["scored_without_evidence"].astype(bool),
        "override_without_justification": register["override"].astype(str).str.len().gt(0)
        & ~register["override"].astype(str).str.contains("justification"),
    }
    rows = []
    for key, severity, label in CHECKS:
        ids = register.loc[hits[key], "row_id"].tolist()
        rows.append(
            {
                "check": key,
                "description": label,
                "status": "OK" if not ids else severity,
                "rows": len(ids),
                "row_ids": ", ".join(ids[:20]) + (" …" if len(ids) > 20 else ""),
            }
        )
    return pd.DataFrame(rows)
