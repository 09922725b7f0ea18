"""The schema of datapack.yaml: every key typed and range-checked, unknown keys refused, messages naming the key.

One pydantic model per block. Strict types (``licence_id: 5`` is not a text, ``contract: true`` is not 1), dates
as YYYY-MM-DD, clocks' hours in (0, 8784], every name non-empty. Problems are reported with the dotted key
(``high_risk_periods[1].start``), the value and what was expected.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from riskkit import schema
from riskkit.library.models import Confidence, Date, HarmKey, Operator, ProviderType, ServiceType

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
RelativeFile = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
TableName = Literal[tuple(t for t in schema.TABLES if t != "audits")]  # type: ignore[valid-type]
AuditName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
MAX_CLOCK_HOURS = 24 * 366


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class Platform(Block):
    name: Text
    service_type: ServiceType
    licence_id: Text | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None


class SlaOverride(Block):
    hours: Annotated[float, Field(gt=0, le=MAX_CLOCK_HOURS)] | None = None
    source: Text | None = None
    confidence: Confidence = "U"
    notes: str | None = None


class TargetOverride(Block):
    value: float | None = None
    operator: Operator | None = None
    source: Text
    confidence: Confidence = "U"
    notes: str | None = None


class HighRiskPeriod(Block):
    name: Text
    start: Date
    end: Date
    categories: list[HarmKey] = Field(default_factory=lambda: list(schema.HARM_CATEGORIES), min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> HighRiskPeriod:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Person(Block):
    name: Text
    role: Text
    qualification: str | None = None
    date: Date | None = None


class SignOff(Block):
    prepared_by: list[Person] = Field(default_factory=list)
    reviewed_by: list[Person] = Field(default_factory=list)
    approved_by: list[Person] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.prepared_by or self.reviewed_by or self.approved_by)


class RiskOverride(Block):
    likelihood: Annotated[int, Field(ge=1, le=5)] | None = None
    severity: Annotated[int, Field(ge=1, le=5)] | None = None
    response: Literal["reduce", "monitor", "accept", "avoid", "transfer"] | None = None
    justification: Text
    by: Text


#: Longest qualitative text of the DSA transparency report (IR 2024/2835 Annex II Part I 4).
QUALITATIVE_MAX_CHARS = 5000
EuMemberStateCode = Literal[schema.EU_MEMBER_STATE_CODES]  # type: ignore[valid-type]


def _all_member_states(value: Any) -> Any:
    if value == "all":
        return list(schema.EU_MEMBER_STATES)
    if not isinstance(value, list):
        raise ValueError("all, or a list of EU Member State codes: " + ", ".join(schema.EU_MEMBER_STATES))
    return value


def _kept_as_written(value: str) -> str:
    """A qualitative text is published as written (leading spaces too); only trailing blanks are dropped."""
    if not value.strip():
        raise ValueError("a non-empty text")
    return value.rstrip()


QualitativeText = Annotated[str, StringConstraints(max_length=QUALITATIVE_MAX_CHARS), AfterValidator(_kept_as_written)]


class Eu(Block):
    """``eu:`` — the provider as the EU DSA transparency report names it (``riskkit export dsa-transparency``)."""

    service_name: Text | None = None  # default: platform.name
    provider_name: Text | None = None
    provider_type: ProviderType | None = None
    member_states: Annotated[list[EuMemberStateCode], BeforeValidator(_all_member_states), Field(min_length=1)] = Field(
        default_factory=lambda: list(schema.EU_MEMBER_STATES)
    )
    qualitative: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], QualitativeText] = Field(
        default_factory=dict
    )

    @field_validator("member_states")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        codes = ["EL" if v == "GR" else v for v in value]  # ISO GR is Eurostat EL
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"each Member State once (GR and EL are both Greece); repeated: {', '.join(twice)}")
        return [c for c in schema.EU_MEMBER_STATES if c in codes]  # template order


ColumnName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
MappedValue = Annotated[str, StringConstraints(min_length=1, max_length=500)] | bool


class SourceTable(Block):
    """``source.tables.<name>``: where a contract table is in the warehouse, and how its columns and values map."""

    table: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = None
    sql: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100_000)] | None = None
    parquet: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None
    columns: dict[ColumnName, ColumnName] = Field(default_factory=dict)  # contract column -> warehouse column
    values: dict[ColumnName, dict[Annotated[str, StringConstraints(max_length=500)], MappedValue]] = Field(
        default_factory=dict
    )  # contract column -> {warehouse value: contract value}

    @model_validator(mode="after")
    def _one_relation(self) -> SourceTable:
        if sum(x is not None for x in (self.table, self.sql, self.parquet)) != 1:
            raise ValueError(
                "exactly one of table: (a table or view), sql: (a query) or parquet: (files, a folder or a glob)"
            )
        return self


class Source(Block):
    """``source:`` — the pack's tables live in a warehouse or engine, not in files (see riskkit.engines.source).

    Credentials never belong here: a URL may name ``${VARIABLE}`` placeholders, read from the environment."""

    backend: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    database: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = None
    tables: Annotated[dict[TableName, SourceTable], Field(min_length=1)]


class DatapackYaml(Block):
    """The whole of datapack.yaml."""

    contract: Literal[schema.CONTRACT_VERSION] = schema.CONTRACT_VERSION  # type: ignore[valid-type]
    platform: Platform
    timezone: Text | None = None
    as_of: datetime | Text | None = None
    tables: dict[TableName, RelativeFile] = Field(default_factory=dict)
    audits: dict[AuditName, RelativeFile] = Field(default_factory=dict)
    age_verified_unit: Literal["share", "count"] | None = None
    time_resolution: Literal[schema.TIME_RESOLUTIONS] = "second"  # type: ignore[valid-type]
    time_basis: Literal["detection", "decision"] = "detection"
    surfaces: list[Text] | None = Field(default=None, min_length=1)
    sla_overrides: dict[Text, SlaOverride] = Field(default_factory=dict)
    targets: dict[Text, TargetOverride] = Field(default_factory=dict)
    high_risk_periods: list[HighRiskPeriod] = Field(default_factory=list)
    sign_off: SignOff = SignOff()
    risk_overrides: dict[Text, RiskOverride] = Field(default_factory=dict)
    eu: Eu | None = None  # the DSA transparency report's identification
    source: Source | None = None  # a warehouse pack: tables in an engine instead of files
    generator: dict[str, Any] | None = None  # written by riskkit sample
    import_: dict[str, Any] | None = Field(default=None, alias="import")  # written by riskkit import

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            raise ValueError("give a time with an offset, e.g. 2026-07-10T09:00:00+08:00, not only a date")
        return value

    @field_validator("surfaces")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("surfaces must not repeat")
        return value


def problems(raw: Any) -> tuple[DatapackYaml | None, list[tuple[str, str, str]]]:
    """The typed datapack.yaml, or None with (key, value, expected) for every problem."""
    if not isinstance(raw, dict):
        return None, [("", type(raw).__name__, "a mapping of keys (platform:, tables:…)")]
    try:
        return DatapackYaml.model_validate(raw), []
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            loc = [p for p in err["loc"] if isinstance(p, int) or ("[" not in str(p) and not str(p)[:1].isupper())]
            key = ""
            for part in loc:
                key += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if key else str(part))
            if err["type"] == "missing":
                expected = "this key (it is required)"
            elif err["type"] == "extra_forbidden":
                expected = "no such key: check its spelling (see `riskkit schema` for the keys of datapack.yaml)"
            else:
                expected = str(err["msg"]).removeprefix("Value error, ")
            value = "" if err["type"] == "missing" else _short(err.get("input"))
            out.append((key.replace("import_", "import"), value, expected))
        return None, out


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
