"""The schema of datapack.yaml: every key typed and range-checked, unknown keys refused, messages naming the key.

One pydantic model per block. Strict types (``licence_id: 5`` is not a text, ``contract: true`` is not 1), dates
as YYYY-MM-DD within the supported years, clocks' hours in (0, 8784], numbers finite, every name non-empty and
free of control characters. Problems are reported with the dotted key as written in the file
(``high_risk_periods[1].start``, ``risk_overrides.R-csam-live.likelihood``), the value and what was expected.
"""

from __future__ import annotations

import re
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
from riskkit.cycles import FIRST_YEAR, LAST_YEAR
from riskkit.library.models import Confidence, Date, HarmKey, Operator, ProviderType, ServiceType
from riskkit.terminal import has_controls


def _one_line(value: str) -> str:
    """A name or id: no control characters (a terminal escape or a line break inside a name is never intended)."""
    if has_controls(value):
        raise ValueError("one line of text without control characters (terminal escapes, line breaks)")
    return value


def _paragraph(value: str) -> str:
    """Free text may span lines and hold tabs, but no other control character."""
    if has_controls(value.replace("\n", "").replace("\t", "").replace("\r", "")):
        raise ValueError("text without control characters other than line breaks and tabs")
    return value


def _supported_date(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31 (got {value.isoformat()})")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(_one_line)]
Paragraph = Annotated[str, AfterValidator(_paragraph)]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_paragraph)
]
PackDate = Annotated[Date, AfterValidator(_supported_date)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
RelativeFile = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(_one_line)
]
TableName = Literal[tuple(t for t in schema.TABLES if t != "audits")]  # type: ignore[valid-type]
AuditName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
MAX_CLOCK_HOURS = 24 * 366


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class Platform(Block):
    name: Text
    service_type: ServiceType
    licence_id: Text | None = None
    description: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_paragraph)] | None = None


class SlaOverride(Block):
    hours: Annotated[float, Field(gt=0, le=MAX_CLOCK_HOURS, allow_inf_nan=False)] | None = None
    reading: Text | None = None  # one of the clock's readings in sla_policy.yaml (checked against the library)
    source: Text | None = None
    confidence: Confidence = "U"
    notes: Paragraph | None = None


class TargetOverride(Block):
    value: Finite | None = None
    operator: Operator | None = None
    source: Text
    confidence: Confidence = "U"
    notes: Paragraph | None = None


class HighRiskPeriod(Block):
    name: Text
    start: PackDate
    end: PackDate
    categories: list[HarmKey] = Field(default_factory=lambda: list(schema.HARM_CATEGORIES), min_length=1)
    source: Paragraph = ""

    @model_validator(mode="after")
    def _ordered(self) -> HighRiskPeriod:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Person(Block):
    name: Text
    role: Text
    qualification: Text | None = None
    date: PackDate | None = None


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
    justification: LongText
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

    @field_validator("contract", mode="before")
    @classmethod
    def _contract(cls, value: Any) -> Any:
        if isinstance(value, bool):  # True == 1 in Python: a Literal[1] alone would accept it
            raise ValueError(f"the data-contract version, a whole number: {schema.CONTRACT_VERSION}")
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            raise ValueError("give a time with an offset, e.g. 2026-07-10T09:00:00+08:00, not only a date")
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError("a time with an offset, e.g. 2026-07-10T09:00:00+08:00 (quoted or not)")
        return value

    @field_validator("surfaces")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("surfaces must not repeat")
        return value


def problems(raw: Any) -> tuple[DatapackYaml | None, list[tuple[str, str, str]]]:
    """The typed datapack.yaml, or None with (key, value, expected) for every problem, one per key."""
    if not isinstance(raw, dict):
        return None, [("", type(raw).__name__, "a mapping of keys (platform:, tables:…)")]
    try:
        return DatapackYaml.model_validate(raw), []
    except ValidationError as exc:
        merged: dict[str, tuple[str, list[str]]] = {}
        for err in exc.errors(include_url=False):
            key = _key(raw, err["loc"], missing=err["type"] == "missing")
            if err["type"] == "missing":
                expected = "this key (it is required)"
            elif err["type"] == "extra_forbidden":
                expected = "no such key: check its spelling (see `riskkit schema` for the keys of datapack.yaml)"
            else:
                expected = _plain(str(err["msg"]).removeprefix("Value error, "))
            value = "" if err["type"] == "missing" else _short(err.get("input"))
            seen = merged.setdefault(key, (value, []))
            if expected not in seen[1]:
                seen[1].append(expected)
        return None, [(key, value, " or ".join(expected)) for key, (value, expected) in merged.items()]


#: pydantic's wording → what a person editing datapack.yaml needs to read.
_PLAIN = {
    "Input should be a valid date": " written YYYY-MM-DD",
    "Input should be a valid list": " ([a, b], or one '- item' per line)",
    "Input should be a valid dictionary": " (key: value, one per line)",
}


def _plain(message: str) -> str:
    message = re.sub(r" or instance of \w+$", "", message)
    return message + _PLAIN.get(message, "")


def _key(raw: Any, loc: tuple[Any, ...], *, missing: bool) -> str:
    """The dotted key of an error as the file spells it (``risk_overrides.R-csam-live.likelihood``).

    pydantic's location mixes the file's keys with the names of union members (``as_of.datetime``); walking the
    raw document alongside keeps only what is really in the file (and, for a missing key, the key itself)."""
    key, node = "", raw
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key, node = f"{key}[{part + 1}]", node[part]
        elif isinstance(node, dict) and part in node:
            key, node = (f"{key}.{part}" if key else str(part)), node[part]
        elif isinstance(node, dict) and part == "import_" and "import" in node:
            key, node = (f"{key}.import" if key else "import"), node["import"]
        elif missing and last:
            key = f"{key}.{part}" if key else str(part)
    return key


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
