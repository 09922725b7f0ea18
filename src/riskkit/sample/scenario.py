"""The sample pack's scenario: ``scenario.yaml`` loaded, checked and typed.

Every number, table and story element of the fictional platform lives in ``scenario.yaml``; this module turns it
into an immutable :class:`Scenario` (pydantic models that forbid unknown keys, like riskkit's framework library)
and a :class:`Calendar` of the epoch seconds the generator needs. A broken scenario is refused as a whole: every
problem is listed with the key's path (``volume.base_share.csam: ...``) in one :class:`ScenarioError`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from riskkit import safe_yaml, schema
from riskkit.exceptions import RiskkitError
from riskkit.library.models import (
    ActionKey,
    AuditAnswer,
    DecisionMaker,
    DetectionSource,
    HarmKey,
    NonEmpty,
    ServiceType,
    Share,
)


class Strict(BaseModel):
    """Base of the scenario's models: unknown keys are errors, objects immutable; YAML lists become tuples."""

    model_config = ConfigDict(extra="forbid", frozen=True)


__all__ = [
    "DEFAULT_PATH",
    "Calendar",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
]

#: The packaged scenario of the Serambi sample pack.
DEFAULT_PATH = Path(__file__).with_name("scenario.yaml")

#: Tolerance of "a mix sums to 1" (the shares are written with a few decimals).
SUM_TOLERANCE = 1e-9

DAY = 86_400
HOUR = 3_600

ReporterType = Literal[schema.REPORTER_TYPES]  # type: ignore[valid-type]
ReportOutcome = Literal[schema.REPORT_OUTCOMES]  # type: ignore[valid-type]
RequestKind = Literal[schema.REQUEST_KINDS]  # type: ignore[valid-type]
RequestOutcome = Literal[schema.REQUEST_OUTCOMES]  # type: ignore[valid-type]
AgeBand = Literal[schema.AGE_BANDS]  # type: ignore[valid-type]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Factor = Annotated[float, Field(gt=0)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Seconds = Annotated[int, Field(ge=0)]


class ScenarioError(RiskkitError):
    """The scenario file is malformed or inconsistent; ``problems`` lists every problem with its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{source}: invalid sample scenario\n" + "\n".join(f"  {p}" for p in problems))


# ------------------------------------------------------------------------------------------------ value checks


def _sums_to_one(mix: dict[str, float]) -> dict[str, float]:
    total = math.fsum(mix.values())
    if not math.isclose(total, 1.0, rel_tol=0, abs_tol=SUM_TOLERANCE):
        raise ValueError(f"a mix's shares must sum to 1, these sum to {total:g}")
    return mix


def _every(keys: Collection[str], what: str) -> AfterValidator:
    """A check that a table has every one of ``keys`` (the unknown ones are refused by the key type)."""

    def check(table: dict[str, Any]) -> dict[str, Any]:
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(f"every {what} needs a value; missing: {', '.join(missing)}")
        return table

    return AfterValidator(check)


def _template(**fields: Any) -> AfterValidator:
    """A check that a ``str.format`` template uses only the placeholders ``fields``."""

    def check(text: str) -> str:
        try:
            text.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template placeholders are {', '.join('{' + f + '}' for f in fields)}: {exc}") from None
        return text

    return AfterValidator(check)


_CATEGORIES = _every(schema.HARM_CATEGORIES, "harm category")
_ONE = AfterValidator(_sums_to_one)
CategoryShares = Annotated[dict[HarmKey, Share], _CATEGORIES]
DetectionMix = Annotated[dict[DetectionSource, Share], _ONE]
DecisionMix = Annotated[dict[DecisionMaker, Share], _ONE]
ReporterMix = Annotated[dict[ReporterType, Share], _ONE]


# ------------------------------------------------------------------------------------------------ the service


class Platform(Strict):
    """The fictional service as ``datapack.yaml`` declares it."""

    name: NonEmpty
    service_type: ServiceType
    licence_id: NonEmpty
    description: Annotated[str, _template(seed=0)]
    timezone: NonEmpty
    utc_offset_hours: Annotated[int, Field(ge=-12, le=14)]
    as_of: AwareDatetime


class Period(Strict):
    """The observed period: whole months making up complete half-years."""

    start: date
    end: date

    @model_validator(mode="after")
    def _half_years(self) -> Period:
        if self.start.day != 1 or self.start.month not in (1, 7):
            raise ValueError(f"start must be 1 January or 1 July, got {self.start}")
        following = self.end + timedelta(days=1)
        if following.day != 1 or following.month not in (1, 7) or self.end <= self.start:
            raise ValueError(f"end must be 30 June or 31 December after the start, got {self.end}")
        return self


class InForce(Strict):
    """Laws that change the data from their first day."""

    online_safety_act: date
    child_protection_code: date


class HighRiskPeriod(Strict):
    """A declared high-risk period and what it does to the data."""

    name: NonEmpty
    start: date
    end: date
    categories: tuple[HarmKey, ...] = Field(min_length=1)
    source: NonEmpty
    volume: dict[HarmKey, Factor]
    handling: Factor

    def declared(self) -> dict[str, Any]:
        """The period as ``datapack.yaml`` declares it."""
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "categories": list(self.categories),
            "source": self.source,
        }


class LaunchVolume(Strict):
    """Daily volume factors from a launch: ``factor + rise x min(1, days since the start / over_days)``."""

    starts: Literal["launch_day", "first_full_day"]
    factors: dict[HarmKey, Factor] = Field(min_length=1)
    rise: NonNegative = 0.0
    over_days: Annotated[int, Field(gt=0)] = 1


class Feature(Strict):
    """A launched feature (a row of feature_changes.csv) and what its launch does to the data."""

    feature: NonEmpty
    launched_at: AwareDatetime
    surfaces: tuple[NonEmpty, ...] = Field(min_length=1)
    available_to_minors: bool
    notes: NonEmpty
    new_surface: str | None = None
    volume: LaunchVolume | None = None


class Tool(Strict):
    """An automated tool and the month it entered use."""

    tool: NonEmpty
    since: Month


# ------------------------------------------------------------------------------------------------ actions


class Volume(Strict):
    """How many moderation decisions, per day and category."""

    base_share: Annotated[CategoryShares, _ONE]
    monthly: dict[HarmKey, tuple[Factor, ...]]
    weekday: tuple[Factor, ...] = Field(min_length=7, max_length=7)
    diurnal: tuple[NonNegative, ...] = Field(min_length=24, max_length=24)


class DetectionWithTool(Strict):
    """Categories whose detection mix changes once a tool is in use."""

    tool: NonEmpty
    mix: dict[HarmKey, DetectionMix] = Field(min_length=1)


class Detection(Strict):
    """detection_source mix per category."""

    mix: Annotated[dict[HarmKey, DetectionMix], _CATEGORIES]
    with_tool: DetectionWithTool


class DecisionWithTool(Strict):
    """The share of human decisions that become hybrid once a tool is in use."""

    tool: NonEmpty
    human_to_hybrid: Share


class Decision(Strict):
    """decision_by mix per category, for automated detections and for every other route."""

    auto_detected: Annotated[dict[HarmKey, DecisionMix], _CATEGORIES]
    other_routes: Annotated[dict[HarmKey, DecisionMix], _CATEGORIES]
    with_tool: DecisionWithTool


class Lognormal(Strict):
    """A lognormal quantity: its median and the standard deviation of its natural log."""

    median: Positive
    sigma: NonNegative


class Handling(Strict):
    """Time to action (detected_at -> actioned_at)."""

    hours: Annotated[dict[HarmKey, Lognormal], _CATEGORIES]
    source_factor: Annotated[dict[DetectionSource, Factor], _every(schema.DETECTION_SOURCES, "detection source")]
    factor_in_force: Factor
    min_hours: Positive
    max_days: Annotated[int, Field(gt=0)]
    min_seconds: Seconds
    backlog_share: Share
    backlog_days: Annotated[int, Field(gt=0)]


class SurfaceMix(Strict):
    """A category's surface mix before the new surface exists, and the new surface's share after."""

    before: Annotated[dict[str, Share], _ONE]
    new_surface: Share


class RecordGaps(Strict):
    """Rate of actions without rationale / policy_ref, one value per half-year."""

    rationale: tuple[Share, ...]
    policy_ref: tuple[Share, ...]


class Views(Strict):
    """views_before_action: lognormal, median ``base x (1 + hours)^exponent x by_surface``, at most ``cap``."""

    base: Positive
    exponent: NonNegative
    sigma: NonNegative
    cap: Annotated[int, Field(gt=0)]
    by_surface: dict[str, Factor]
    pre_publication: Share


class Texts(Strict):
    """The values of rationale and policy_ref."""

    label: Annotated[dict[HarmKey, NonEmpty], _CATEGORIES]
    policy: Annotated[dict[HarmKey, NonEmpty], _CATEGORIES]
    action: Annotated[
        dict[ActionKey, NonEmpty], _every([a for a in schema.ACTIONS if a != "no_violation"], "action but no_violation")
    ]
    rationale: Annotated[str, _template(action="", label="")]
    no_violation: Annotated[str, _template(label="")]


# ------------------------------------------------------------------------------------------------ other tables


class Delay(Strict):
    """A lognormal delay: median in hours or minutes, sigma of its natural log, and a floor in seconds."""

    median_hours: Positive | None = None
    median_minutes: Positive | None = None
    sigma: NonNegative
    min_seconds: Seconds = 0

    @model_validator(mode="after")
    def _one_median(self) -> Delay:
        if (self.median_hours is None) == (self.median_minutes is None):
            raise ValueError("give exactly one of median_hours and median_minutes")
        return self

    @property
    def median_seconds(self) -> float:
        """The median in seconds."""
        if self.median_minutes is not None:
            return self.median_minutes * 60
        assert self.median_hours is not None  # the validator requires exactly one of the two
        return self.median_hours * HOUR


class Reporters(Strict):
    """reporter_type mix of user reports: by category, else the default."""

    default: ReporterMix
    by_category: dict[HarmKey, ReporterMix]


class Unlinked(Strict):
    """Reports that led to no action."""

    per_linked: NonNegative
    outcomes: Annotated[dict[ReportOutcome, Share], _ONE]
    reporters: ReporterMix
    duplicate_after: Delay
    jitter_days: Annotated[int, Field(gt=0)]
    resolve_duplicate: Delay
    resolve_other: Delay
    min_resolve_seconds: Seconds


class Reports(Strict):
    """The reports table."""

    reporters: Reporters
    acknowledge: Delay
    assess: Delay
    unlinked: Unlinked


class Appeals(Strict):
    """The appeals table."""

    rate: Annotated[dict[ActionKey, Share], _every(schema.ACTIONS, "action")]
    reversal: Annotated[dict[DecisionMaker, Share], _every(schema.DECISION_MAKERS, "decision maker")]
    file: Delay
    decide: Delay
    backlog_share: Share
    backlog_days: Annotated[int, Field(gt=0)]


class Agency(Strict):
    """An agency sending requests: its share of them and its kind mix."""

    agency: NonEmpty
    share: Share
    kinds: Annotated[dict[RequestKind, Share], _ONE]
    follows: HarmKey | None = None  # its requests also follow this category's daily trend


class FixedRequest(Strict):
    """A request written as given (after the drawn ones): the ONSA steps that state their own deadline."""

    agency: NonEmpty
    kind: RequestKind
    received_at: datetime
    due_at: datetime | None = None
    responded_at: datetime | None = None
    outcome: RequestOutcome

    @model_validator(mode="after")
    def _ordered(self) -> FixedRequest:
        for name in ("due_at", "responded_at"):
            value = getattr(self, name)
            if value is not None and value < self.received_at:
                raise ValueError(f"{name} is before received_at")
        if (self.responded_at is None) != (self.outcome == "open"):
            raise ValueError("an open request has no responded_at, an answered one has one")
        return self


class AuthorityRequests(Strict):
    """The authority_requests table."""

    actions_per_request: Annotated[int, Field(gt=0)]
    minimum: Annotated[int, Field(gt=0)]
    agencies: tuple[Agency, ...] = Field(min_length=1)
    office_hours: tuple[NonNegative, ...] = Field(min_length=24, max_length=24)
    response: Annotated[dict[RequestKind, Delay], _every(schema.REQUEST_KINDS, "request kind")]
    min_response_seconds: Seconds
    outcomes: Annotated[
        dict[RequestKind, Annotated[dict[RequestOutcome, Share], _ONE]], _every(schema.REQUEST_KINDS, "request kind")
    ]
    awaiting_clarification: Share
    awaiting_from: date
    fixed: tuple[FixedRequest, ...] = ()

    @model_validator(mode="after")
    def _agencies(self) -> AuthorityRequests:
        names = [a.agency for a in self.agencies]
        if len(set(names)) != len(names):
            raise ValueError(f"agencies: an agency is listed twice: {names}")
        total = math.fsum(a.share for a in self.agencies)
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=SUM_TOLERANCE):
            raise ValueError(f"agencies: their shares must sum to 1, these sum to {total:g}")
        return self


class AgeVerifiedTrickle(Strict):
    """Age verification before the ramp: ``base + per_month x month index``."""

    base: dict[AgeBand, Share]
    per_month: NonNegative


class AgeVerified(Strict):
    """Share of each band's accounts with a verified age, per month."""

    never: tuple[AgeBand, ...]
    trickle: AgeVerifiedTrickle
    ramp_from: Month
    ramp: dict[AgeBand, tuple[Share, ...]]


class Users(Strict):
    """The users table (Malaysian MAU per month and age band)."""

    mau_first: Annotated[int, Field(gt=0)]
    mau_peak: Annotated[int, Field(gt=0)]
    peak_month: Month
    mau_noise: NonNegative
    below_peak: Share
    band_share: Annotated[dict[AgeBand, Share], _every(schema.AGE_BANDS, "age band"), _ONE]
    band_noise: NonNegative
    unknown_shrinks_from: Month
    unknown_shrink_per_month: Share
    kept_after_child_protection_code: dict[AgeBand, Share]
    age_verified: AgeVerified


class Training(Strict):
    """Training hours per FTE per month."""

    base: NonNegative
    extra_months: tuple[Month, ...]
    extra: NonNegative
    from_month: Month
    from_extra: NonNegative
    jitter: tuple[Positive, Positive]


class Wellbeing(Strict):
    """Wellbeing hours per FTE per month."""

    base: NonNegative
    from_month: Month
    from_value: NonNegative
    jitter: tuple[Positive, Positive]


class Capacity(Strict):
    """The capacity table."""

    local_moderators_fte: tuple[Annotated[int, Field(gt=0)], ...]
    fte_noise: NonNegative
    languages: tuple[NonEmpty, ...] = Field(min_length=1)
    training_hours_per_fte: Training
    wellbeing_hours_per_fte: Wellbeing


class Prevalence(Strict):
    """The prevalence_samples table."""

    per_10k: Annotated[dict[HarmKey, Annotated[float, Field(ge=0, le=10_000)]], _CATEGORIES]
    views_sampled: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]]
    day: Annotated[int, Field(ge=1, le=28)]
    hour: Annotated[int, Field(ge=0, le=23)]


class Notices(Strict):
    """actions.user_notified_at: written notices to the poster of content made inaccessible (ONSA s.26), derived
    from each action's content number so that no random draw is added (earlier columns keep their values)."""

    since: date  # decisions from this day on carry a notice time
    delay_seconds: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(gt=0)]]  # min, + content_no % spread
    missing_per_100: Annotated[int, Field(ge=0, le=100)]  # content_no // 7 % 100 below this: never notified


class AgeAssuranceRow(Strict):
    """One month × cohort of the age_assurance table, as given."""

    month: Month
    cohort: Literal[schema.AGE_COHORTS]  # type: ignore[valid-type]
    accounts_in_scope: Annotated[int, Field(ge=0)]
    verified: Annotated[int, Field(ge=0)]
    found_under_16: Annotated[int, Field(ge=0)]
    notified: Annotated[int, Field(ge=0)] = 0
    data_exported: Annotated[int, Field(ge=0)] = 0
    restricted: Annotated[int, Field(ge=0)] = 0
    suspended: Annotated[int, Field(ge=0)] = 0
    actioned_early: Annotated[int, Field(ge=0)] = 0


class DesignedAnswer(Strict):
    """An audit answer set on purpose."""

    audit: NonEmpty
    item: NonEmpty
    answer: dict[Literal["status", "maturity", "evidence", "owner", "notes"], str]


class Audits(Strict):
    """Answers to every item of every checklist framework."""

    status_mix: Annotated[dict[AuditAnswer, Share], _ONE]
    maturity: dict[AuditAnswer, tuple[Annotated[int, Field(ge=0, le=4)], Annotated[int, Field(ge=0, le=4)]]]
    evidence: Annotated[str, _template(audit="", number=1)]
    owners: tuple[NonEmpty, ...] = Field(min_length=1)
    lead_owner_share: Share
    lead_owners: dict[str, NonEmpty]
    not_applicable_note: str
    assessed_by: NonEmpty
    assessed_on: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\d$")]
    designed: tuple[DesignedAnswer, ...] = ()
    #: Answers given in full and never drawn: items added to a checklist after the sample's first release, so that the
    #: drawn answers of every other item stay as they were.
    answered: tuple[DesignedAnswer, ...] = ()


# ------------------------------------------------------------------------------------------------ the scenario


class Scenario(Strict):
    """The whole scenario (one field per top-level key of ``scenario.yaml``), checked for consistency."""

    platform: Platform
    period: Period
    surfaces: tuple[NonEmpty, ...] = Field(min_length=1)
    in_force: InForce
    high_risk_periods: tuple[HighRiskPeriod, ...]
    features: tuple[Feature, ...]
    tools: tuple[Tool, ...]
    volume: Volume
    detection: Detection
    decision: Decision
    action_mix: Annotated[dict[HarmKey, Annotated[dict[ActionKey, Share], _ONE]], _CATEGORIES]
    handling: Handling
    surface_mix: Annotated[dict[HarmKey, SurfaceMix], _CATEGORIES]
    in_malaysia: CategoryShares
    involves_minor: CategoryShares
    reported_to_authority: CategoryShares
    record_gaps: RecordGaps
    views: Views
    content_numbers: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]]
    texts: Texts
    reports: Reports
    appeals: Appeals
    authority_requests: AuthorityRequests
    notices: Notices
    users: Users
    age_assurance: tuple[AgeAssuranceRow, ...] = ()
    capacity: Capacity
    prevalence: Prevalence
    audits: Audits

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = _cross_checks(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @cached_property
    def calendar(self) -> Calendar:
        """The scenario's dates as epoch seconds, months and half-years."""
        return Calendar.of(self)

    @property
    def new_surface(self) -> Feature:
        """The feature whose launch adds a surface (no action on it before)."""
        return next(f for f in self.features if f.new_surface)

    def feature(self, name: str) -> Feature:
        """The feature called ``name``."""
        return next(f for f in self.features if f.feature == name)

    def tool(self, name: str) -> Tool:
        """The automated tool called ``name``."""
        return next(t for t in self.tools if t.tool == name)


def _cross_checks(sc: Scenario) -> list[str]:
    """Consistency between sections: surfaces, months, half-years, tools and dates that must line up."""
    problems: list[str] = []

    def need(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    surfaces = set(sc.surfaces)
    months = _months(sc.period.start, sc.period.end)
    halves = len(months) // 6
    first, last = sc.period.start, sc.period.end
    offset = timedelta(hours=sc.platform.utc_offset_hours)
    need(len(surfaces) == len(sc.surfaces), f"surfaces: a surface is listed twice: {list(sc.surfaces)}")
    need(sc.platform.as_of.utcoffset() == offset, "platform.as_of: its offset must be platform.utc_offset_hours")
    need(sc.platform.as_of.date() > last, "platform.as_of: must fall after period.end")
    for name, when in sc.in_force:
        need(first <= when <= last, f"in_force.{name}: {when} is outside the period")
    for i, p in enumerate(sc.high_risk_periods):
        need(first <= p.start <= p.end <= last, f"high_risk_periods[{i}]: start .. end must lie within the period")
    names = [f.feature for f in sc.features]
    need(len(set(names)) == len(names), f"features: a feature is listed twice: {names}")
    for i, f in enumerate(sc.features):
        need(f.launched_at.utcoffset() == offset, f"features[{i}].launched_at: offset must be utc_offset_hours")
        need(set(f.surfaces) <= surfaces, f"features[{i}].surfaces: unknown {sorted(set(f.surfaces) - surfaces)}")
        need(f.new_surface in (None, *surfaces), f"features[{i}].new_surface: {f.new_surface!r} is not a surface")
    new = [f.new_surface for f in sc.features if f.new_surface]
    need(len(new) == 1, f"features: exactly one feature must have new_surface, found {len(new)}")
    tools = [t.tool for t in sc.tools]
    need(len(set(tools)) == len(tools), f"tools: a tool is listed twice: {tools}")
    for key, tool in (("detection", sc.detection.with_tool.tool), ("decision", sc.decision.with_tool.tool)):
        need(tool in tools, f"{key}.with_tool.tool: {tool!r} is not in tools")
    for cat, factors in sc.volume.monthly.items():
        need(len(factors) == len(months), f"volume.monthly.{cat}: {len(factors)} values, needs one per month")
    for cat, mix in sc.surface_mix.items():
        unknown = set(mix.before) - surfaces
        need(not unknown, f"surface_mix.{cat}.before: unknown surfaces {sorted(unknown)}")
        need(not set(mix.before) & set(new), f"surface_mix.{cat}.before: the new surface {new} cannot be in it")
    need(set(sc.views.by_surface) == surfaces, "views.by_surface: needs every surface exactly once")
    need(sc.content_numbers[0] < sc.content_numbers[1], "content_numbers: low must be below high")
    for key in ("rationale", "policy_ref"):
        gaps = getattr(sc.record_gaps, key)
        need(len(gaps) == halves, f"record_gaps.{key}: {len(gaps)} values, one per half-year needs {halves}")
    need(sc.authority_requests.awaiting_from <= last, "authority_requests.awaiting_from: after the period")
    u = sc.users
    need(u.mau_first <= u.mau_peak, "users.mau_first: must not exceed mau_peak")
    for key in ("peak_month", "unknown_shrinks_from"):
        need(getattr(u, key) in months, f"users.{key}: {getattr(u, key)} is not a month of the period")
    verified = u.age_verified
    need(verified.ramp_from in months, f"users.age_verified.ramp_from: {verified.ramp_from} is not in the period")
    ramp_months = len(months) - months.index(verified.ramp_from) if verified.ramp_from in months else 0
    bands = set(verified.trickle.base)
    need(
        bands | set(verified.never) == set(schema.AGE_BANDS) and not bands & set(verified.never),
        "users.age_verified: every age band must be in exactly one of never and trickle.base",
    )
    need(set(verified.ramp) == bands, "users.age_verified.ramp: needs exactly the bands of trickle.base")
    for band, ramp in verified.ramp.items():
        need(len(ramp) == ramp_months, f"users.age_verified.ramp.{band}: {len(ramp)} values, needs {ramp_months}")
    need(
        len(sc.capacity.local_moderators_fte) == len(months),
        f"capacity.local_moderators_fte: {len(sc.capacity.local_moderators_fte)} values, needs {len(months)}",
    )
    lo, hi = sc.prevalence.views_sampled
    need(lo <= hi, "prevalence.views_sampled: low must not exceed high")
    for status, (lo, hi) in sc.audits.maturity.items():
        need(lo <= hi, f"audits.maturity.{status}: low must not exceed high")
    return problems


# ------------------------------------------------------------------------------------------------ the calendar


def _months(start: date, end: date) -> list[str]:
    """Every month from ``start`` to ``end`` as "YYYY-MM"."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class Calendar:
    """The scenario's time axis in epoch seconds (Malaysian wall clock, fixed UTC offset)."""

    offset: int  # seconds east of UTC
    start: int
    end: int  # exclusive: 00:00 of the day after period.end
    as_of: int
    months: tuple[str, ...]
    month_starts: tuple[int, ...]  # one per month, then ``end``
    halves: tuple[str, ...]
    half_starts: tuple[int, ...]  # one per half-year, then ``end``

    @classmethod
    def of(cls, sc: Scenario) -> Calendar:
        """The calendar of ``sc``."""
        tz = timezone(timedelta(hours=sc.platform.utc_offset_hours))
        months = tuple(_months(sc.period.start, sc.period.end))
        end = _local(sc.period.end + timedelta(days=1), tz)
        month_starts = (*(_local(date(int(m[:4]), int(m[5:]), 1), tz) for m in months), end)
        firsts = [i for i, m in enumerate(months) if m[5:] in ("01", "07")]
        return cls(
            offset=sc.platform.utc_offset_hours * HOUR,
            start=month_starts[0],
            end=end,
            as_of=int(sc.platform.as_of.timestamp()),
            months=months,
            month_starts=month_starts,
            halves=tuple(f"{months[i][:4]}-H{1 if months[i][5:] == '01' else 2}" for i in firsts),
            half_starts=(*(month_starts[i] for i in firsts), end),
        )

    @property
    def n_days(self) -> int:
        """Days in the period."""
        return (self.end - self.start) // DAY

    def at(self, day: date) -> int:
        """Epoch seconds of 00:00 local time on ``day``."""
        return _local(day, timezone(timedelta(seconds=self.offset)))

    def month_start(self, month: str) -> int:
        """Epoch seconds of 00:00 local time on the first day of ``month`` ("YYYY-MM")."""
        return self.at(date(int(month[:4]), int(month[5:]), 1))

    def day_of(self, seconds: int) -> int:
        """Index of the period's day holding ``seconds``."""
        return (seconds - self.start) // DAY

    def day_starts(self) -> np.ndarray:
        """Epoch seconds of every day's 00:00 in the period."""
        return self.start + np.arange(self.n_days, dtype=np.int64) * DAY

    def month_of(self, seconds: np.ndarray) -> np.ndarray:
        """Index of the month holding each of ``seconds`` (clipped to the period)."""
        starts = np.array(self.month_starts, dtype=np.int64)
        return np.clip(np.searchsorted(starts, seconds, side="right") - 1, 0, len(self.months) - 1)

    def half_of(self, seconds: np.ndarray) -> np.ndarray:
        """Index of the half-year holding each of ``seconds`` (clipped to the period)."""
        starts = np.array(self.half_starts, dtype=np.int64)
        return np.clip(np.searchsorted(starts, seconds, side="right") - 1, 0, len(self.halves) - 1)


def _local(day: date, tz: timezone) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


# ------------------------------------------------------------------------------------------------ loading


def load_scenario(path: str | Path = DEFAULT_PATH) -> Scenario:
    """Read and check a scenario file; raises :class:`ScenarioError` listing every problem with its key path."""
    path = Path(path)
    try:
        raw = safe_yaml.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [safe_yaml.error_text(exc)]) from None
    return parse_scenario(raw, source=str(path))


def parse_scenario(raw: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Check an already-parsed scenario mapping (what :func:`load_scenario` reads from YAML)."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, [f"top level: expected a mapping of sections, got {type(raw).__name__}"])
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(source, _describe(exc)) from None


@cache
def default_scenario() -> Scenario:
    """The packaged Serambi scenario (read once; it is immutable)."""
    return load_scenario(DEFAULT_PATH)


def _describe(exc: ValidationError) -> list[str]:
    """``key.path[index]: what is wrong`` for every error."""
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if p != "[key]").lstrip(".")
        if err["type"] == "extra_forbidden":
            text = "unknown key (not part of the scenario; check its spelling and place)"
        elif "[key]" in loc:
            text = f"unknown key: {err['msg']}"
        else:
            text = err["msg"].removeprefix("Value error, ")
        out.extend(f"{where}: {line}" if where else line for line in text.splitlines())
    return out
