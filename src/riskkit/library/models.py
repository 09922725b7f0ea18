"""Typed models of every framework kind: the schema a framework file must satisfy, and what consumers read.

One pydantic model per ``kind``. Every model forbids unknown fields, so a typo (``kind: rates``, ``opertor:``) is
an error naming the file, the entry and the field, never a silently wrong number. Entries share the
:class:`Entry` base: a stable ``ref_id``, English and Malay labels, a ``source`` and a ``confidence`` tag
(A = read in the primary text, S = secondary source, U = unverified or inferred).

Why pydantic rather than JSON Schema files: one definition gives both the check and the typed objects the code
reads (``item.data_test.operator`` instead of ``raw.get("data_test", {}).get("operator")``), and its JSON Schema
export (:func:`json_schemas`) documents the same rules for editors.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from riskkit import schema

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _date(value: Any) -> Any:
    """Dates are written YYYY-MM-DD (quoted or not); anything else is left for the type check to refuse."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


Date = Annotated[date, BeforeValidator(_date)]
Confidence = Literal["A", "S", "U"]
HarmKey = Literal[schema.HARM_CATEGORIES]  # type: ignore[valid-type]
ActionKey = Literal[schema.ACTIONS]  # type: ignore[valid-type]
ServiceType = Literal[schema.SERVICE_TYPES]  # type: ignore[valid-type]
DetectionSource = Literal[schema.DETECTION_SOURCES]  # type: ignore[valid-type]
DecisionMaker = Literal[schema.DECISION_MAKERS]  # type: ignore[valid-type]
AuditAnswer = Literal[schema.AUDIT_STATUSES]  # type: ignore[valid-type]
Band = Literal["low", "medium", "high", "critical"]
Level = Annotated[int, Field(ge=1, le=5)]
Share = Annotated[float, Field(ge=0, le=1)]
_SEMVER = r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$"
_REF = re.compile(r"^[a-z0-9][a-z0-9_.-]*:\S+$")

#: What in riskkit evidences an obligation (the ``covered_by`` vocabulary).
CoveredBy = Literal[
    "risk_assessment",
    "sbd_audit",
    "child_safety_audit",
    "accessibility_audit",
    "metrics",
    "half_yearly_report",
    "annual_report",
    "record_keeping",
    "online_safety_plan",
]
COVERED_BY: tuple[str, ...] = CoveredBy.__args__  # type: ignore[attr-defined]
TestMethod = Literal["inquiry", "inspection", "observation", "re-performance", "data"]
Operator = Literal[">=", "<=", "==", ">", "<"]


class Strict(BaseModel):
    """Base of every model: unknown fields are errors; objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Text(Strict):
    """A bilingual text: English and Malay."""

    en: NonEmpty
    ms: NonEmpty

    def get(self, lang: str = "en") -> str:
        """The text in ``lang`` (en or ms)."""
        return self.ms if lang == "ms" else self.en


class EnglishText(Strict):
    """A text given in English, optionally also in Malay."""

    en: NonEmpty
    ms: str | None = None


class Entry(Strict):
    """The fields every entry of every section has."""

    ref_id: NonEmpty
    label: Text
    source: NonEmpty
    confidence: Confidence
    notes: str | None = None

    def label_in(self, lang: str = "en") -> str:
        """The label in ``lang`` (en or ms)."""
        return self.label.get(lang)


class Header(Strict):
    """The top-level fields of every framework file."""

    id: NonEmpty
    version: Annotated[str, StringConstraints(pattern=_SEMVER)]
    kind: str
    name: Text
    source: list[NonEmpty] = Field(min_length=1)
    notes: str | None = None
    published: Date | None = None
    in_force: Date | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_source(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def sections(self) -> dict[str, list[Entry]]:
        """Section name -> entries, for every field that is a list of entries (file order)."""
        out: dict[str, list[Entry]] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, list) and value and isinstance(value[0], Entry):
                out[name] = value
        return out

    def find(self, ref_id: str) -> Entry | None:
        """The entry ``ref_id`` in any section, or None."""
        return next((e for entries in self.sections().values() for e in entries if e.ref_id == ref_id), None)


# ------------------------------------------------------------------------------------------------ taxonomy


class HarmKeyEntry(Entry):
    """A riskkit harm key and where it falls in each instrument."""

    ref_id: HarmKey  # type: ignore[assignment]
    description: EnglishText
    maps_to: dict[str, list[NonEmpty]]
    mapping_confidence: dict[str, Confidence] = Field(default_factory=dict)
    mapping_notes: dict[str, NonEmpty] = Field(default_factory=dict)
    unmapped_reason: dict[str, NonEmpty] = Field(default_factory=dict)
    tags: list[NonEmpty] = Field(default_factory=list)


class Taxonomy(Header):
    """``kind: taxonomy`` — riskkit's harm keys mapped to each instrument's wording."""

    kind: Literal["taxonomy"]
    instruments: list[NonEmpty] = Field(min_length=1)
    priority_from: NonEmpty
    harms: list[HarmKeyEntry]


# ------------------------------------------------------------------------------------------------ instruments


class InstrumentHarm(Entry):
    """A harm category as an instrument words it (Code list, ONSA schedule item, DSA category)."""

    clause: str | None = None
    basis: str | None = None
    item: int | None = None
    priority: bool = False
    keywords: list[NonEmpty] = Field(default_factory=list)
    schema_versions: list[int] = Field(default_factory=list)
    schema_versions_confidence: Confidence | None = None
    renamed_from: str | None = None
    renamed_to: str | None = None


class ReportPeriod(Strict):
    """A reporting period within a year (``start``/``end`` as MM-DD)."""

    label: NonEmpty
    start: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")]
    end: Annotated[str, StringConstraints(pattern=r"^\d{2}-\d{2}$")]


#: What an instrument's duty is attested in: ``draft`` when only reports of a draft (e.g. a consultation draft) state
#: it, ``final`` when reports of the instrument as issued do.
Basis = Literal["draft", "final"]


class Obligation(Entry):
    """A duty of an instrument (our one-line summary) and which riskkit assessment evidences it.

    ``pending``: the duty's content waits for an instrument not yet made (regulations, guidelines); its status is
    *pending* until the entry gets an ``in_force`` date that has passed. ``in_force``: when the duty applies, if
    later than its instrument. ``expected``: what is known of when the pending instrument comes."""

    section: str | None = None
    basis: Basis | None = None
    pending: bool = False
    in_force: Date | None = None
    expected: str | None = None
    area: NonEmpty
    summary: Text
    covered_by: list[CoveredBy] = Field(min_length=1)
    implements: list[NonEmpty] = Field(default_factory=list)
    also_reported_by: str | None = None
    heading_confidence: Confidence | None = None
    minimum_age: int | None = None
    considers: list[NonEmpty] = Field(default_factory=list)
    frequency: str | None = None
    retention_period: str | None = None
    deadline: str | None = None
    periods: list[ReportPeriod] = Field(default_factory=list)
    contents: list[NonEmpty] = Field(default_factory=list)

    @field_validator("implements", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("section", mode="before")
    @classmethod
    def _section_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _pending(self) -> Obligation:
        if self.pending and self.in_force is not None:
            raise ValueError("a pending obligation has no in_force date yet: drop pending once the date is known")
        if self.expected is not None and not self.pending:
            raise ValueError("expected says when a pending instrument comes: set pending: true or drop expected")
        return self

    def applies_on(self, day: date, instrument_in_force: date | None) -> bool:
        """Whether the duty is in force on ``day`` (its instrument's date, its own date, and not pending)."""
        if self.pending:
            return False
        starts = [d for d in (instrument_in_force, self.in_force) if d is not None]
        return all(d <= day for d in starts)


#: What a dated duty marks in the compliance calendar.
DateEvent = Literal["in_force", "deadline", "window_opens", "window_ends", "period_ends", "due", "consultation_closes"]


class DatedDuty(Entry):
    """A date an instrument sets for one of its obligations, computed from an anchor (riskkit.calendar).

    ``anchor``: ``in_force`` / ``published`` (the instrument's dates), ``fixed`` (``date``), or ``period_end`` (the
    end of every ``recurs`` period: half-year or calendar year). ``months``/``days`` are added to the anchor (a
    negative ``days: -1`` turns an exclusive end into the last day). ``date_known: false`` lists the duty without a
    date (e.g. a pending instrument or a due date no source gives).
    """

    obligation: NonEmpty
    event: DateEvent
    anchor: Literal["in_force", "published", "fixed", "period_end"]
    date: Date | None = None
    months: int = 0
    days: int = 0
    recurs: Literal["half", "year"] | None = None
    date_known: bool = True

    @model_validator(mode="after")
    def _anchored(self) -> DatedDuty:
        if (self.anchor == "fixed") != (self.date is not None):
            raise ValueError("give `date` exactly when anchor is fixed")
        if (self.anchor == "period_end") != (self.recurs is not None):
            raise ValueError("give `recurs` (half or year) exactly when anchor is period_end")
        return self


class Instrument(Header):
    """``kind: instrument`` — a law, code or regulation: its harm categories, obligations and dated duties."""

    kind: Literal["instrument"]
    short_name: Text | None = None
    royal_assent: Date | None = None
    issued_under: str | None = None
    applies_to: str | None = None
    schema_versions: list[int] = Field(default_factory=list)
    minimum_account_age: int | None = None
    child_age_below: int | None = None
    penalty_part_iii_rm: int | None = None
    harms: list[InstrumentHarm] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    dates: list[DatedDuty] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------------ clocks, thresholds


AppliesTo = Literal["all", "priority"] | list[HarmKey]


class ClockPath(Strict):
    """One way an item enters a decision clock, with the events that start and stop it.

    ``user_reported``: from a report's ``start`` (``reports.received_at``) to the decision it is linked to through
    ``link`` (``reports.action_id``), at that decision's ``stop`` column (``actions.actioned_at``), whose ``action``
    decides whether it stops the clock; a report closed by ``closed_at`` with one of ``closed_outcomes`` and no
    linked decision is a decision not to act. ``own_initiative``: from a decision's ``start`` (``detected_at``) to
    its ``stop`` (``actioned_at``), for decisions whose ``detection_source`` is one of ``detection_sources``.
    Without a reports table, a ``user_reported`` path judges the decisions of its ``detection_sources`` from their
    own ``detected_at`` (the contract's "first detected or reported")."""

    path: Literal["user_reported", "own_initiative"]
    table: Literal["actions", "reports"]
    start: NonEmpty
    stop: NonEmpty
    link: NonEmpty | None = None
    closed_at: NonEmpty | None = None
    closed_outcomes: list[Literal[schema.REPORT_OUTCOMES]] | None = Field(default=None, min_length=1)  # type: ignore[valid-type]
    detection_sources: list[DetectionSource] = Field(min_length=1)
    source: NonEmpty
    confidence: Confidence
    notes: str | None = None


class ClockReading(Strict):
    """One reading of a clock whose text is ambiguous: which harm categories it applies to. Exactly one reading
    of a clock is the ``default``; a data pack may choose another (datapack.yaml ``sla_overrides.<clock>.reading``)."""

    ref_id: NonEmpty
    label: Text
    applies_to: AppliesTo
    default: bool = False
    source: NonEmpty
    confidence: Confidence
    notes: str | None = None


class ClockEntry(Entry):
    """A response-time clock measured on a data-pack table, from ``start`` to ``stop``; a decision clock lists the
    ``paths`` by which items enter it (each with its own start and stop events), and an ambiguous one its
    ``readings`` (then ``applies_to`` comes from the reading in force)."""

    instrument: NonEmpty
    implements: str | None = None
    provision: str = ""
    table: NonEmpty
    start: NonEmpty
    stop: NonEmpty
    hours: Annotated[float, Field(gt=0, le=24 * 366)]
    applies_to: AppliesTo | None = None
    stop_actions: list[ActionKey] | None = Field(default=None, min_length=1)
    paths: list[ClockPath] | None = Field(default=None, min_length=1)
    readings: list[ClockReading] | None = Field(default=None, min_length=2)
    also_reported_by: str | None = None


class RequestDeadline(Entry):
    """A deadline an authority request states itself: the ONSA provisions that give "the period specified" in an
    instruction, direction or notice. Requests of ``kinds`` are judged from ``start`` to ``stop`` against the row's
    own ``deadline`` column (no fixed number of hours)."""

    instrument: NonEmpty
    implements: str | None = None
    provision: str = ""
    kinds: list[Literal[schema.REQUEST_KINDS]] = Field(min_length=1)  # type: ignore[valid-type]
    table: Literal["authority_requests"] = "authority_requests"
    start: NonEmpty = "received_at"
    deadline: NonEmpty = "due_at"
    stop: NonEmpty = "responded_at"


class SlaPolicyFramework(Header):
    """``kind: sla_policy`` — the response clocks, and the requests that carry their own deadline."""

    kind: Literal["sla_policy"]
    clocks: list[ClockEntry] = Field(min_length=1)
    request_deadlines: list[RequestDeadline] = Field(default_factory=list)

    def deadline_kinds(self) -> tuple[str, ...]:
        """Request kinds judged against their stated deadline, in the data contract's order."""
        kinds = {k for d in self.request_deadlines for k in d.kinds}
        return tuple(k for k in schema.REQUEST_KINDS if k in kinds)


class Threshold(Entry):
    """A regulatory threshold (licence user count, minimum age, …)."""

    instrument: NonEmpty
    provision: str = ""
    value: float | int | list[NonEmpty]
    unit: NonEmpty
    effective_from: Date | None = None


class Thresholds(Header):
    """``kind: thresholds``."""

    kind: Literal["thresholds"]
    thresholds: list[Threshold] = Field(min_length=1)


# ------------------------------------------------------------------------------------------------ checklists


class AppliesIf(Strict):
    """When a checklist item applies; an empty rule (``always``) applies everywhere."""

    service_type: list[ServiceType] | None = Field(default=None, min_length=1)
    feature_surface: list[NonEmpty] | None = Field(default=None, min_length=1)
    from_: Date | None = Field(default=None, alias="from")

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    @property
    def always(self) -> bool:
        return self.service_type is None and self.feature_surface is None and self.from_ is None

    def text(self) -> str:
        """Compact text: ``always`` or e.g. ``service_type=social_media,hybrid; from=2026-06-01``."""
        parts = []
        if self.service_type:
            parts.append("service_type=" + ",".join(self.service_type))
        if self.feature_surface:
            parts.append("feature_surface=" + ",".join(self.feature_surface))
        if self.from_:
            parts.append(f"from={self.from_.isoformat()}")
        return "; ".join(parts) or "always"


class DataTest(Strict):
    """An item tested against the data: ``metric[category, dimension=level] operator value``."""

    metric: NonEmpty
    category: HarmKey | Literal["all"] = "all"
    dimension: str | None = None
    level: str | None = None
    operator: Operator
    value: float
    meaning: Text

    @model_validator(mode="after")
    def _pair(self) -> DataTest:
        if (self.dimension is None) != (self.level is None):
            raise ValueError("give dimension and level together")
        return self


class ExternalStandard(Entry):
    """A standard a checklist item may cite (WCAG, AADC, …) that is not a loaded framework."""


class MaturityLevel(Entry):
    level: Annotated[int, Field(ge=0, le=4)]
    description: Text
    dtsp_levels: list[int] = Field(default_factory=list)


class Domain(Entry):
    """A checklist domain."""


class ChecklistItem(Entry):
    """One questionnaire item."""

    domain: NonEmpty
    references: dict[str, Annotated[list[NonEmpty], Field(min_length=1)]] = Field(min_length=1)
    expected_evidence: list[NonEmpty] = Field(min_length=1)
    test_method: TestMethod
    weight: Annotated[int, Field(ge=1, le=3)]
    mandatory: bool
    applies_if: AppliesIf = AppliesIf()
    data_test: DataTest | None = None

    @field_validator("applies_if", mode="before")
    @classmethod
    def _always(cls, value: Any) -> Any:
        return {} if value == "always" else value

    def reference_list(self) -> list[str]:
        """``framework-or-standard:ref`` strings."""
        return [f"{key}:{ref}" for key, refs in self.references.items() for ref in refs]


class Checklist(Header):
    """``kind: checklist`` — an audit's questionnaire: domains, maturity scale and items."""

    kind: Literal["checklist"]
    audit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    external_standards: list[ExternalStandard] = Field(default_factory=list)
    maturity_scale: list[MaturityLevel]
    domains: list[Domain] = Field(min_length=1)
    items: list[ChecklistItem] = Field(min_length=1)

    @field_validator("maturity_scale")
    @classmethod
    def _scale(cls, value: list[MaturityLevel]) -> list[MaturityLevel]:
        levels = [m.level for m in value]
        if levels != [0, 1, 2, 3, 4]:
            raise ValueError(f"maturity_scale must list levels 0, 1, 2, 3, 4 in order, got {levels}")
        return value

    def domain(self, ref_id: str) -> Domain | None:
        return next((d for d in self.domains if d.ref_id == ref_id), None)


# ------------------------------------------------------------------------------------------------ metric registry


class Conventions(Strict):
    """How every metric is computed (printed with every report)."""

    percentile_resolution_minutes: Annotated[int, Field(ge=1)] = 1
    histogram_fine_days: Annotated[int, Field(ge=1)] = 90
    histogram_max_days: Annotated[int, Field(ge=1)] = 1095
    small_denominator: Annotated[int, Field(ge=1)] = 30
    significance_level: Annotated[float, Field(gt=0, lt=1)] = 0.05


class MetricEntry(Entry):
    """One registered metric (``template: true`` expands to one metric per SLA clock)."""

    definition: NonEmpty
    formula: NonEmpty
    unit: NonEmpty
    kind: Literal["count", "rate", "duration", "value", "flag"]
    table: NonEmpty
    higher_is_better: bool | None
    answers: list[NonEmpty] = Field(default_factory=list)
    template: bool = False


class MetricRegistry(Header):
    """``kind: metric_registry``."""

    kind: Literal["metric_registry"]
    conventions: Conventions
    metrics: list[MetricEntry] = Field(min_length=1)


# ------------------------------------------------------------------------------------------------ risk methodology


class Scale(Entry):
    levels: dict[Level, NonEmpty]

    @model_validator(mode="after")
    def _five(self) -> Scale:
        if sorted(self.levels) != [1, 2, 3, 4, 5]:
            raise ValueError("levels must name 1, 2, 3, 4 and 5")
        return self


Thresholds4 = Annotated[list[float], Field(min_length=4, max_length=4)]


class LikelihoodIndicator(Entry):
    level: Literal["surface", "harm"]
    metric: NonEmpty
    per_million_users: bool
    thresholds: Thresholds4
    discount: Annotated[int, Field(ge=0, le=4)] = 0


class TrendRule(Entry):
    description: NonEmpty
    min_growth: Annotated[float, Field(gt=0)]
    significance: Annotated[float, Field(gt=0, lt=1)]


class NoEvidenceRule(Entry):
    description: NonEmpty
    default: Level


class ReachRule(Entry):
    description: NonEmpty
    thresholds: Thresholds4


class VulnerableRule(Entry):
    description: NonEmpty
    minors_share: Share
    involves_minor_share: Share


class HarmSeverity(Entry):
    ref_id: HarmKey  # type: ignore[assignment]
    scale: Level
    scope: Level
    irremediability: Level
    floor: Level


class Matrix(Entry):
    bands: list[Band] = Field(min_length=1)
    cells: Annotated[list[Annotated[list[Band], Field(min_length=5, max_length=5)]], Field(min_length=5, max_length=5)]

    @model_validator(mode="after")
    def _monotone(self) -> Matrix:
        rank = {b: i for i, b in enumerate(("low", "medium", "high", "critical"))}
        c = self.cells
        for i in range(5):
            for j in range(5):
                if (i and rank[c[i][j]] < rank[c[i - 1][j]]) or (j and rank[c[i][j]] < rank[c[i][j - 1]]):
                    raise ValueError(f"cells are not monotone at likelihood {i + 1}, severity {j + 1}")
        return self


class MetricControl(Entry):
    description: str | None = None
    metric: NonEmpty
    thresholds: Thresholds4
    higher_is_better: bool
    min_appeals: Annotated[int, Field(ge=0)] | None = None


class AuditControl(Entry):
    description: NonEmpty
    audits: dict[str, Literal["all"] | list[HarmKey]]


class Reduction(Entry):
    points: dict[Level, Annotated[float, Field(ge=0, lt=1)]]

    @model_validator(mode="after")
    def _five(self) -> Reduction:
        if sorted(self.points) != [1, 2, 3, 4, 5]:
            raise ValueError("points must map 1, 2, 3, 4 and 5 to factors in [0, 1)")
        return self


class Response(Entry):
    ref_id: Band  # type: ignore[assignment]
    response: Literal["reduce", "monitor", "accept", "avoid", "transfer"]


class Trigger(Entry):
    description: NonEmpty
    share_points: Share | None = None
    min_growth: Annotated[float, Field(gt=0)] | None = None
    significance: Annotated[float, Field(gt=0, lt=1)] | None = None


def _require(rule: str, missing: list[str], wrong: list[str], wrong_word: str) -> None:
    """Raise ``rule; missing …; <wrong_word> …`` when anything is missing or wrong."""
    if missing or wrong:
        raise ValueError(
            rule
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; {wrong_word} {', '.join(wrong)}" if wrong else "")
        )


def _keyed(section: str, value: Any, required: tuple[str, ...]) -> Any:
    """A list of entries as ``{ref_id: entry}``, which must have exactly the ``required`` keys."""
    if not isinstance(value, list):
        return value
    keyed = {item.get("ref_id"): item for item in value if isinstance(item, dict)}
    missing = [k for k in required if k not in keyed]
    extra = [str(k) for k in keyed if k not in required]
    _require(f"{section} must have exactly the entries {', '.join(required)}", missing, extra, "unknown")
    return keyed


class Rules(Strict):
    """A fixed set of named rules, written in the file as a list of entries."""

    def entries(self) -> list[Entry]:
        return [getattr(self, name) for name in type(self).model_fields]


class LikelihoodRules(Rules):
    trend: TrendRule
    no_evidence: NoEvidenceRule


class SeverityRules(Rules):
    reach: ReachRule
    vulnerable_users: VulnerableRule


class ControlRules(Rules):
    sla: MetricControl
    proactive: MetricControl
    accuracy: MetricControl
    audit: AuditControl


class TriggerRules(Rules):
    feature_launch: Trigger
    demographic_shift: Trigger
    high_risk_period: Trigger
    volume_growth: Trigger


class RiskMethodology(Header):
    """``kind: risk_methodology`` — scales, indicators, matrix, controls, responses and triggers of the register."""

    kind: Literal["risk_methodology"]
    scales: list[Scale]
    likelihood_indicators: list[LikelihoodIndicator] = Field(min_length=1)
    likelihood_rules: LikelihoodRules
    severity: SeverityRules
    harm_severity: list[HarmSeverity]
    matrix: list[Matrix] = Field(min_length=1, max_length=1)
    controls: ControlRules
    reduction: list[Reduction] = Field(min_length=1, max_length=1)
    responses: list[Response]
    triggers: TriggerRules

    @field_validator("likelihood_rules", "severity", "controls", "triggers", mode="before")
    @classmethod
    def _rules(cls, value: Any, info: Any) -> Any:
        model = cls.model_fields[info.field_name].annotation
        model = model if isinstance(model, type) else globals()[str(model)]
        return _keyed(info.field_name, value, tuple(model.model_fields))

    @model_validator(mode="after")
    def _complete(self) -> RiskMethodology:
        scales = {s.ref_id for s in self.scales}
        if scales != {"likelihood", "severity"}:
            raise ValueError(f"scales must be exactly likelihood and severity, got {sorted(scales)}")
        missing = [h for h in schema.HARM_CATEGORIES if h not in {e.ref_id for e in self.harm_severity}]
        if missing:
            raise ValueError("harm_severity lacks " + ", ".join(missing))
        bands = {r.ref_id for r in self.responses}
        if bands != set(self.matrix[0].bands):
            raise ValueError(f"responses must cover the matrix bands {self.matrix[0].bands}, got {sorted(bands)}")
        return self

    def scale(self, ref_id: str) -> Scale:
        return next(s for s in self.scales if s.ref_id == ref_id)

    def harm(self, key: str) -> HarmSeverity:
        return next(h for h in self.harm_severity if h.ref_id == key)

    def response(self, band: str) -> Response:
        return next(r for r in self.responses if r.ref_id == band)

    def sections(self) -> dict[str, list[Entry]]:
        out = super().sections()
        for name in ("likelihood_rules", "severity", "controls", "triggers"):
            out[name] = getattr(self, name).entries()
        return out


# ------------------------------------------------------------------------------------------------ audit methodology


class ResultRule(Entry):
    ref_id: Literal[  # type: ignore[assignment]
        "compliant", "partial", "non_compliant", "contradicted", "not_applicable", "not_assessed"
    ]
    from_answer: AuditAnswer | None = None  # contradicted comes from the data, not from an answer
    value: Share | None = None


class FindingRule(Entry):
    ref_id: Literal["non_compliant_mandatory", "partial_mandatory", "data_contradiction"]  # type: ignore[assignment]
    severity: Literal["low", "medium", "high", "critical"]
    due_days: Annotated[int, Field(ge=1, le=3650)]
    action: Text


class CheckRule(Entry):
    ref_id: Literal[  # type: ignore[assignment]
        "compliant_without_evidence",
        "na_mandatory_without_justification",
        "contradicted_by_data",
        "overdue_finding",
        "unassessed_item",
        "answered_without_assessor",
    ]
    status: Literal["WARN", "FAIL"]


class AuditMethodology(Header):
    """``kind: audit_methodology`` — result values, finding rules and quality checks of the audits."""

    kind: Literal["audit_methodology"]
    results: list[ResultRule] = Field(min_length=6, max_length=6)
    findings: list[FindingRule] = Field(min_length=3, max_length=3)
    checks: list[CheckRule] = Field(min_length=6, max_length=6)

    def result(self, ref_id: str) -> ResultRule:
        return next(r for r in self.results if r.ref_id == ref_id)

    def finding(self, ref_id: str) -> FindingRule:
        return next(f for f in self.findings if f.ref_id == ref_id)

    def check(self, ref_id: str) -> CheckRule:
        return next(c for c in self.checks if c.ref_id == ref_id)


# ------------------------------------------------------------------------------------------------ DSA import mapping


class DsaColumns(Strict):
    full: list[NonEmpty] = Field(min_length=1)
    light_drops: list[NonEmpty] = Field(default_factory=list)
    lists: list[NonEmpty] = Field(default_factory=list)
    required: list[NonEmpty] = Field(min_length=1)


class DsaCategoryMap(Entry):
    """A DSA category or specification keyword and the riskkit harm it means (None: decided by other evidence)."""

    harm: HarmKey | None
    schema_: Literal[1, 2] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class DsaTextRule(Entry):
    """Phrases in the statement's free text (RE2, case-insensitive) that name a harm."""

    harm: HarmKey
    patterns: list[NonEmpty] = Field(min_length=1)


class DsaDetectionMap(Entry):
    automated: DetectionSource
    manual: DetectionSource


class DsaDecisionMap(Entry):
    decision_by: DecisionMaker


class DsaActionMap(Entry):
    action: ActionKey


class DsaTerritories(Strict):
    source: NonEmpty
    hints: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)
    codes: NonEmpty
    #: the EU Member States among ``codes``: a statement whose territorial_scope names one is EU data (in_eu)
    eu_member_states: NonEmpty


class DsaGroundMap(Entry):
    """A DSA ``decision_ground`` value and the contract's ``actions.decision_ground``."""

    ground: Literal["illegal", "terms"]


class DsaImportMapping(Header):
    """``kind: dsa_import_mapping`` — DSA statement-of-reasons values to riskkit's contract values."""

    kind: Literal["dsa_import_mapping"]
    schema_v2_from: Date
    columns: DsaColumns
    text_fields: list[NonEmpty] = Field(min_length=1)
    harm_precedence: list[HarmKey]
    categories: list[DsaCategoryMap] = Field(min_length=1)
    keywords: list[DsaCategoryMap] = Field(default_factory=list)
    text_rules: list[DsaTextRule] = Field(default_factory=list)
    detection: list[DsaDetectionMap] = Field(min_length=1)
    decision_by: list[DsaDecisionMap] = Field(min_length=1)
    actions: list[DsaActionMap] = Field(min_length=1)
    decision_grounds: list[DsaGroundMap] = Field(min_length=1)
    territory_codes: DsaTerritories

    @model_validator(mode="after")
    def _eu_states_are_codes(self) -> DsaImportMapping:
        codes = set(self.territory_codes.codes.split())
        unknown = [c for c in self.territory_codes.eu_member_states.split() if c not in codes]
        if unknown:
            raise ValueError(f"territory_codes.eu_member_states: not in territory_codes.codes: {', '.join(unknown)}")
        return self

    @field_validator("harm_precedence")
    @classmethod
    def _every_harm_once(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(schema.HARM_CATEGORIES):
            raise ValueError("harm_precedence must list every riskkit harm key exactly once")
        return value


# ------------------------------------------------------------------------------------------------ targets


class Target(Entry):
    """A target for a clock or headline metric, and the obligations it evidences; ``value: null`` when the regime
    sets no number (``no_number`` then says so)."""

    metric: NonEmpty
    category: HarmKey | Literal["all"] = "all"
    dimension: str | None = None
    level: str | None = None
    operator: Operator | None = None
    value: float | None
    no_number: str | None = None
    answers: list[NonEmpty] = Field(default_factory=list)

    @model_validator(mode="after")
    def _number_or_reason(self) -> Target:
        if (self.dimension is None) != (self.level is None):
            raise ValueError("give dimension and level together")
        if self.value is None and not (self.no_number or "").strip():
            raise ValueError("a target without a value must say why in no_number")
        if self.value is not None and self.operator is None:
            raise ValueError("a target with a value needs an operator")
        return self


class Targets(Header):
    """``kind: targets``."""

    kind: Literal["targets"]
    targets: list[Target] = Field(min_length=1)


# ------------------------------------------------------------------------------------------------ compliance method

ObligationStatus = Literal["met", "partly_met", "not_met", "not_assessed", "not_applicable", "pending"]
#: The conditions a status rule may test (implemented in riskkit.obligations).
CONDITIONS = (
    "not_in_force",
    "mandatory_failed_or_target_missed",
    "any_partial_or_failed",
    "all_assessed_met",
    "all_not_applicable",
    "always",
)


class StatusLabel(Entry):
    ref_id: ObligationStatus  # type: ignore[assignment]


class StatusRule(Entry):
    when: Literal[CONDITIONS]  # type: ignore[valid-type]
    status: ObligationStatus


class ComplianceMethod(Header):
    """``kind: compliance_method`` — how an obligation's status follows from its evidence (rules in order)."""

    kind: Literal["compliance_method"]
    statuses: list[StatusLabel] = Field(min_length=6, max_length=6)
    rules: list[StatusRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_always(self) -> ComplianceMethod:
        if self.rules[-1].when != "always":
            raise ValueError("the last rule must be `when: always` so every obligation gets a status")
        return self

    def label(self, status: str, lang: str = "en") -> str:
        return next(s.label.get(lang) for s in self.statuses if s.ref_id == status)


# ------------------------------------------------------------------------------------------------ DSA transparency report

ProviderType = Literal["intermediary", "hosting", "online_platform", "vlop", "vlose"]
PROVIDER_TYPES: tuple[str, ...] = ProviderType.__args__  # type: ignore[attr-defined]
DecisionGround = Literal[schema.DECISION_GROUNDS]  # type: ignore[valid-type]
EuMemberState = Literal[schema.EU_MEMBER_STATES]  # type: ignore[valid-type]
#: A header, row label or category text of the Commission's templates: kept byte for byte (trailing spaces and
#: non-breaking spaces included), so it is never stripped.
Verbatim = Annotated[str, StringConstraints(min_length=1)]
MeasureType = Literal["count", "hours", "ratio", "text", "date"]
#: Measures riskkit computes from a data pack (implemented in riskkit.reports.dsa_transparency; the restriction
#: columns ``own.restriction.*`` are computed for every action the mapping assigns to them). A mapping may mark
#: only these available; anything else must say why it is not.
DSA_COMPUTED_MEASURES: frozenset[str] = frozenset(
    {
        "id.provider_name",
        "id.publication_date",
        "id.previous_publication_date",
        "id.period_start",
        "id.period_end",
        *(f"orders.{k}.{m}" for k in ("act", "info") for m in ("received", "ack_hours", "effect_hours")),
        "orders.act.items",
        *(f"notices.{m}{tf}" for m in ("received", "items", "action_hours", "law", "terms") for tf in ("", "_tf")),
        "own.measures",
        "own.solely_automated",
        *(f"complaints.{m}" for m in ("total", "upheld", "reversed", "median_hours", "new_restrictions")),
        *(f"automation.{m}" for m in ("measures_solely", "measures_not", "notices_solely", "notices_not")),
        "qualitative.text",
    }
)
RESTRICTION_PREFIX = "own.restriction."


def _no_formula(value: str) -> str:
    """A template text must not start like a spreadsheet formula (it is written to CSV and XLSX as it is)."""
    if value.startswith(("=", "+", "-", "@", "\t", "\r")):
        raise ValueError("must not start with = + - @, tab or carriage return (a spreadsheet would run it)")
    return value


TemplateText = Annotated[Verbatim, AfterValidator(_no_formula)]


class LayoutFormat(Strict):
    """How the files are written (RFC 4180 CSV in UTF-8 with CRLF line ends: the writer does exactly this)."""

    encoding: Literal["utf-8"]
    bom: bool
    line_terminator: Literal["\r\n"]
    decimal_separator: Literal["."]
    date_format: NonEmpty
    period_format: NonEmpty
    hours_decimals: Annotated[int, Field(ge=0, le=6)]
    ratio_decimals: Annotated[int, Field(ge=0, le=8)]
    csv_file: NonEmpty
    workbook_file: NonEmpty
    placeholder_other_description: NonEmpty


class ProviderTier(Entry):
    """A provider type of the Regulation and how often it reports."""

    tier: ProviderType
    cadence: Literal["half", "year"]
    #: months after a reporting period's end by which the report is published (IR 2024/2835 Art. 2(3))
    publish_within_months: Annotated[int, Field(ge=0, le=24)] | None = None


class Applicability(Entry):
    """A column-A applicability string (verbatim) and the provider types that fill such a row."""

    text: TemplateText
    tiers: list[ProviderType] = Field(min_length=1)

    @property
    def key(self) -> str:
        return self.ref_id.removeprefix("applies.")


class LayoutColumn(Strict):
    """One column of a part: its verbatim header and role; a value column names its measure and type, a context
    column the measure it explains."""

    header: TemplateText
    role: Literal[
        "applicability",
        "service",
        "period",
        "category",
        "other_description",
        "scope",
        "section",
        "indicator",
        "value",
        "context",
        "category_label",
        "category_description",
        "category_code",
    ]
    measure: NonEmpty | None = None
    type: MeasureType | None = None
    explains: NonEmpty | None = Field(default=None, alias="for")

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class LayoutPart(Entry):
    """One CSV part (and XLSX sheet) of the templates."""

    number: Annotated[int, Field(ge=1, le=99)]
    name: NonEmpty
    file_suffix: NonEmpty
    sheet: Annotated[str, StringConstraints(min_length=1, max_length=31, pattern=r"^[^\[\]:*?/\\]+$")]
    sheet_confidence: Confidence
    annex_section: NonEmpty
    shape: Literal["rows", "categories", "category_list"]
    applicability: NonEmpty | None = None
    categories: list[int] = Field(default_factory=list)
    scope_blocks: Literal["member_states"] | None = None
    ground: DecisionGround | None = None
    columns: list[LayoutColumn] = Field(min_length=1)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def role(self, role: str) -> LayoutColumn | None:
        """The first column of ``role``, or None."""
        return next((c for c in self.columns if c.role == role), None)

    def value_columns(self) -> list[LayoutColumn]:
        return [c for c in self.columns if c.role == "value"]

    @model_validator(mode="after")
    def _columns(self) -> LayoutPart:
        headers = self.headers
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise ValueError(f"headers must be unique in a part, repeated: {twice}")
        if self.shape == "categories":
            if not self.categories or self.applicability is None:
                raise ValueError("a categories part needs categories and applicability")
            measures = {c.measure for c in self.value_columns()}
            for c in self.columns:
                if c.role == "value" and (c.measure is None or c.type is None):
                    raise ValueError(f"value column {c.header!r} needs a measure and a type")
                if c.role == "context" and c.explains not in measures:
                    raise ValueError(f"context column {c.header!r}: 'for' must name a value measure of the part")
        if self.shape == "category_list":
            need = {"category_label", "category_description", "category_code", "context"}
            if not need <= {c.role for c in self.columns}:
                raise ValueError("a category_list part needs columns of roles " + ", ".join(sorted(need)))
        return self


class TemplateCategory(Entry):
    """A row of the category list (Annex II Part II): TOTAL, a high-level category or a keyword (``parent``)."""

    code: NonEmpty
    parent: NonEmpty | None = None
    template_label: TemplateText
    template_description: TemplateText

    @property
    def number(self) -> str | None:
        """ "1" .. "17" for a high-level category, "1a" for a keyword, None for TOTAL."""
        return None if self.code == "TOTAL" else self.ref_id.removeprefix("category.")


class LayoutRowFilter(Strict):
    """What narrows a row group's measures: a complaint basis, a flow or a kind of notice."""

    basis: (
        Literal["visibility", "provision", "account", "monetary", "no_action_notice", "no_action_trusted_flagger"]
        | None
    ) = None
    flow: Literal["all", "own_initiative"] | None = None
    notices: Literal["all", "trusted_flagger"] | None = None


class LayoutRow(Strict):
    """One row of a long part (values given here override the group's)."""

    indicator: TemplateText | None = None
    scope: TemplateText | None = None
    measure: NonEmpty
    type: MeasureType | None = None
    applicability: NonEmpty | None = None
    applies: NonEmpty | None = None  # the row is filled for these providers although column A says applicability
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")] | None = None


class LayoutRowGroup(Entry):
    """Rows of a long part in template order, with what they share."""

    part: Annotated[int, Field(ge=1, le=99)]
    section: TemplateText | None = None
    indicator: TemplateText | None = None
    scope: TemplateText | None = None
    applicability: NonEmpty | None = None
    filter: LayoutRowFilter = LayoutRowFilter()
    expand: Literal["languages", "member_states"] | None = None
    rows: list[LayoutRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> LayoutRowGroup:
        for i, row in enumerate(self.rows):
            if (row.applicability or self.applicability) is None:
                raise ValueError(f"rows[{i}]: no applicability (give it on the row or the group)")
            if (row.indicator or self.indicator) is None:
                raise ValueError(f"rows[{i}]: no indicator (give it on the row or the group)")
            if row.measure == "qualitative.text" and row.key is None:
                raise ValueError(f"rows[{i}]: a qualitative row needs a key (its eu.qualitative id)")
        return self


class LayoutMemberState(Entry):
    code: EuMemberState
    iso: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class LayoutLanguage(Entry):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class LayoutDecision(Entry):
    """A point the Regulation leaves open, decided by riskkit."""

    choice: NonEmpty


class DsaTransparencyLayout(Header):
    """``kind: dsa_transparency_layout`` — the DSA harmonised transparency templates (IR 2024/2835 Annex I): parts,
    verbatim headers, the category list, the long parts' rows, applicability, Member States and languages."""

    kind: Literal["dsa_transparency_layout"]
    format: LayoutFormat
    provider_types: list[ProviderTier]
    applicability: list[Applicability] = Field(min_length=1)
    parts: list[LayoutPart] = Field(min_length=1)
    categories: list[TemplateCategory] = Field(min_length=2)
    rows: list[LayoutRowGroup] = Field(default_factory=list)
    member_states: list[LayoutMemberState] = Field(min_length=1)
    languages: list[LayoutLanguage] = Field(min_length=1)
    decisions: list[LayoutDecision] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DsaTransparencyLayout:
        tiers = [t.tier for t in self.provider_types]
        if sorted(tiers) != sorted(PROVIDER_TYPES):
            raise ValueError(f"provider_types must list each of {', '.join(PROVIDER_TYPES)} once, got {tiers}")
        numbers = [p.number for p in self.parts]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"part numbers must be unique, got {numbers}")
        if self.categories[0].code != "TOTAL":
            raise ValueError("categories must start with TOTAL")
        by_ref = {c.ref_id: c for c in self.categories}
        high = self.high_level()
        for c in self.categories:
            if c.parent is not None and (c.parent not in by_ref or by_ref[c.parent].parent is not None):
                raise ValueError(f"category {c.ref_id}: parent {c.parent!r} is not a high-level category of this list")
        known = {a.key for a in self.applicability}
        numbers_known = set(numbers)
        for p in self.parts:
            if p.applicability is not None and p.applicability not in known:
                raise ValueError(f"part {p.number}: unknown applicability {p.applicability!r}; known: {sorted(known)}")
            for n in p.categories:
                if str(n) not in high:
                    raise ValueError(f"part {p.number}: no high-level category {n}")
        for g in self.rows:
            if g.part not in numbers_known:
                raise ValueError(f"{g.ref_id}: no part {g.part}")
            for a in (g.applicability, *(r.applicability for r in g.rows), *(r.applies for r in g.rows)):
                if a is not None and a not in known:
                    raise ValueError(f"{g.ref_id}: unknown applicability {a!r}; known: {sorted(known)}")
        return self

    def high_level(self) -> dict[str, TemplateCategory]:
        """Number ("1" .. "17") -> high-level category, in template order."""
        return {c.number: c for c in self.categories if c.number and c.number.isdigit()}

    def keyword_rows(self, code: str) -> list[TemplateCategory]:
        """The keyword rows of the high-level category ``code``, in template order."""
        parents = {c.ref_id for c in self.categories if c.code == code and c.parent is None}
        return [c for c in self.categories if c.parent in parents]

    def parent_code(self, category: TemplateCategory) -> str | None:
        """The code of a keyword row's high-level category (None for TOTAL and high-level rows)."""
        if category.parent is None:
            return None
        return next(c.code for c in self.categories if c.ref_id == category.parent)

    def measures_used(self) -> set[str]:
        """Every measure a part column or a row names."""
        used = {c.measure for p in self.parts for c in p.columns if c.measure}
        return used | {r.measure for g in self.rows for r in g.rows}

    def qualitative_keys(self) -> tuple[str, ...]:
        """The ids of the qualitative indicators (``eu.qualitative`` keys), in template order."""
        return tuple(r.key for g in self.rows for r in g.rows if r.key)


class HarmToCategory(Entry):
    """The template category and keyword a riskkit harm key is reported under."""

    harm: HarmKey
    category: NonEmpty
    keyword: NonEmpty
    other_description: NonEmpty | None = None
    default_ground: DecisionGround

    @model_validator(mode="after")
    def _described(self) -> HarmToCategory:
        if self.keyword == "KEYWORD_OTHER" and self.other_description is None:
            raise ValueError("a KEYWORD_OTHER row needs an other_description")
        return self


class ActionToRestriction(Entry):
    action: ActionKey
    measure: bool
    restrictions: list[NonEmpty] = Field(default_factory=list)
    complaint_basis: Literal["visibility", "provision", "account", "monetary", "none", "no_action"]


class DetectionToFlow(Entry):
    detection_source: DetectionSource
    flow: Literal["own_initiative", "notice", "order"]
    automated_detection: bool


class DeciderToAutomation(Entry):
    decision_by: DecisionMaker
    automation: Literal["solely", "partial", "none"]


class GroundToPart(Entry):
    ground: DecisionGround
    part: Annotated[int, Field(ge=1, le=99)]


class ReporterToNotice(Entry):
    reporter_type: Literal[schema.REPORTER_TYPES]  # type: ignore[valid-type]
    notice: Literal["notice", "trusted_flagger"]


class RequestToOrder(Entry):
    kind: Literal[schema.REQUEST_KINDS]  # type: ignore[valid-type]
    order: Literal["act", "information", "none"]


class AppealToOutcome(Entry):
    outcome: Literal[schema.APPEAL_OUTCOMES]  # type: ignore[valid-type]
    complaint_outcome: Literal["upheld", "reversed", "pending"]


class DsaMeasure(Entry):
    """A template measure: how riskkit computes it (``method``), or why a data pack cannot give it."""

    method: NonEmpty | None = None
    available: bool = True
    why: NonEmpty | None = None

    @model_validator(mode="after")
    def _explained(self) -> DsaMeasure:
        if self.available and self.method is None:
            raise ValueError("an available measure needs a method (written into the contextual column)")
        if not self.available and self.why is None:
            raise ValueError("a measure that is not available must say why")
        if (
            self.available
            and self.ref_id not in DSA_COMPUTED_MEASURES
            and not self.ref_id.startswith(RESTRICTION_PREFIX)
        ):
            raise ValueError("marked available, but riskkit does not compute it: set available: false with a why")
        return self


class DsaTransparencyMapping(Header):
    """``kind: dsa_transparency_mapping`` — how riskkit's harm keys, actions, detection sources, decision makers,
    reporters, request kinds and appeal outcomes fill the DSA transparency templates, measure by measure."""

    kind: Literal["dsa_transparency_mapping"]
    sor_categories: NonEmpty  # the instrument whose renamed_to maps statement-of-reasons v1 category names
    harms: list[HarmToCategory]
    source_other_description: NonEmpty
    order_other_description: NonEmpty
    actions: list[ActionToRestriction]
    detection: list[DetectionToFlow]
    decision_by: list[DeciderToAutomation]
    grounds: list[GroundToPart]
    reporters: list[ReporterToNotice]
    requests: list[RequestToOrder]
    effect_outcomes: list[Literal[schema.REQUEST_OUTCOMES]] = Field(min_length=1)  # type: ignore[valid-type]
    appeal_outcomes: list[AppealToOutcome]
    measures: list[DsaMeasure] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_value_once(self) -> DsaTransparencyMapping:
        for section, key, vocabulary in (
            ("harms", "harm", schema.HARM_CATEGORIES),
            ("actions", "action", schema.ACTIONS),
            ("detection", "detection_source", schema.DETECTION_SOURCES),
            ("decision_by", "decision_by", schema.DECISION_MAKERS),
            ("grounds", "ground", schema.DECISION_GROUNDS),
            ("reporters", "reporter_type", schema.REPORTER_TYPES),
            ("requests", "kind", schema.REQUEST_KINDS),
            ("appeal_outcomes", "outcome", schema.APPEAL_OUTCOMES),
        ):
            values = [getattr(e, key) for e in getattr(self, section)]
            missing = [v for v in vocabulary if v not in values]
            twice = sorted({v for v in values if values.count(v) > 1})
            _require(f"{section} must map each {key} of the data contract once", missing, twice, "repeated")
        return self


KINDS: dict[str, type[Header]] = {
    "taxonomy": Taxonomy,
    "instrument": Instrument,
    "sla_policy": SlaPolicyFramework,
    "thresholds": Thresholds,
    "checklist": Checklist,
    "metric_registry": MetricRegistry,
    "risk_methodology": RiskMethodology,
    "audit_methodology": AuditMethodology,
    "dsa_import_mapping": DsaImportMapping,
    "targets": Targets,
    "compliance_method": ComplianceMethod,
    "dsa_transparency_layout": DsaTransparencyLayout,
    "dsa_transparency_mapping": DsaTransparencyMapping,
}

#: Kinds of which a library holds exactly one framework.
SINGLE_KINDS = (
    "taxonomy",
    "sla_policy",
    "thresholds",
    "metric_registry",
    "risk_methodology",
    "audit_methodology",
    "dsa_import_mapping",
    "targets",
    "compliance_method",
    "dsa_transparency_layout",
    "dsa_transparency_mapping",
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every kind (for editors and documentation)."""
    return {kind: model.model_json_schema(by_alias=True) for kind, model in KINDS.items()}


def is_reference(value: str) -> bool:
    """Whether ``value`` is written ``framework-id:ref_id``."""
    return bool(_REF.match(value))
