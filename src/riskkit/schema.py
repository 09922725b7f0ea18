"""The data contract: every table of a data pack, its columns, types, enums and keys, in one place.

Everything else (validation, the sample generator, importers, metrics) reads this module; nothing else
declares a column. Regulatory vocabularies (which instrument calls what) live in the framework files; the
keys here are riskkit's own stable identifiers, which the frameworks map.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

CONTRACT_VERSION = 1

#: riskkit's harm taxonomy keys (DESIGN §3). Frameworks map each key to every instrument's wording.
HARM_CATEGORIES: tuple[str, ...] = (
    "csam",
    "ncii",
    "financial_scam",
    "bullying_harassment",
    "hate_speech",
    "violent_extremism",
    "child_self_harm",
    "illegal_drugs",
    "manipulated_media",
    "obscene_indecent",
    "other",
)

DETECTION_SOURCES = ("automated", "proactive_human", "user_report", "trusted_flagger", "authority")
DECISION_MAKERS = ("automated", "human", "hybrid")
ACTIONS = (
    "remove",
    "restrict",
    "age_restrict",
    "label",
    "warn",
    "suspend_account",
    "terminate_account",
    "no_violation",
)
#: Actions that make content or an account inaccessible (used by "made inaccessible" clocks and removals).
INACCESSIBLE_ACTIONS = ("remove", "restrict", "age_restrict", "suspend_account", "terminate_account")
ACCOUNT_ACTIONS = ("suspend_account", "terminate_account")
REPORTER_TYPES = ("user", "parent", "child", "trusted_flagger", "authority")
REPORT_OUTCOMES = ("actioned", "no_violation", "dismissed", "duplicate", "open")
APPEAL_OUTCOMES = ("upheld", "reversed", "open")
#: Kinds of authority request. The last four are ONSA steps that state their own deadline (``due_at``): a direction
#: (s.30), an instruction to make content accessible again (s.27), a notice of non-compliance (s.37) and a
#: communications-data disclosure notice (s.61).
REQUEST_KINDS = (
    "takedown",
    "data_disclosure",
    "preservation",
    "emergency",
    "compliance_direction",
    "restore_instruction",
    "non_compliance_notice",
    "disclosure_notice",
)
REQUEST_OUTCOMES = ("complied", "partial", "rejected", "open")
AGE_BANDS = ("under_13", "13_15", "16_17", "18_plus", "unknown")
#: Cohorts of the age-assurance transition: accounts held when the Child Protection Code came into force, and new
#: registrations.
AGE_COHORTS = ("existing", "new")
MINOR_AGE_BANDS = ("under_13", "13_15", "16_17")
UNDER_16_AGE_BANDS = ("under_13", "13_15")
#: Questionnaire answers; ``to_review`` marks an item not (re)assessed yet (pre-filled questionnaires start there).
AUDIT_STATUSES = ("met", "partial", "not_met", "not_applicable", "to_review")
SERVICE_TYPES = ("social_media", "messaging", "hybrid")
TIME_RESOLUTIONS = ("second", "minute", "hour", "day")
#: Grounds of a moderation decision, as the EU DSA splits them: illegal content, or incompatible with the terms.
DECISION_GROUNDS = ("illegal", "terms")
#: EU Member States in Eurostat's two-letter codes (Greece is EL); the contract also accepts ISO 3166 GR for Greece.
EU_MEMBER_STATES = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "EL", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
EU_MEMBER_STATE_CODES = (*EU_MEMBER_STATES, "GR")
#: datapack.yaml ``time_basis``: what the actions' times are. ``decision``: the source records when a decision was
#: taken, not when the item was detected (e.g. DSA statements of reasons) — detected_at may be empty.
TIME_BASES = ("detection", "decision")

Kind = Literal["id", "string", "text", "timestamp", "month", "date", "enum", "bool", "int", "float", "list"]


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``required``: the column must be present in the file. ``nullable``: cells may be empty.
    ``minimum``/``maximum`` bound numeric columns (negative counts are errors).
    """

    name: str
    kind: Kind
    description: str
    required: bool = True
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def expected(self) -> str:
        """Plain-language description of a valid value, used in validation messages."""
        if self.kind == "enum":
            return "one of " + ", ".join(self.enum or ())
        return {
            "id": "a non-empty identifier",
            "string": "a non-empty text value",
            "text": "text (may be empty)",
            "timestamp": "an ISO 8601 timestamp with offset, e.g. 2025-03-01T10:15:00+08:00",
            "month": "a month as YYYY-MM, e.g. 2025-03",
            "date": "a date as YYYY-MM-DD",
            "bool": "true or false (also yes/no, 1/0)",
            "int": "a whole number" + (f" >= {self.minimum:g}" if self.minimum is not None else ""),
            "float": "a number"
            + (f" >= {self.minimum:g}" if self.minimum is not None else "")
            + (f" and <= {self.maximum:g}" if self.maximum is not None else ""),
            "list": "a list of names separated by ';'",
        }[self.kind]


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must exist in ``ref_table.ref_column`` (empty cells are not checked)."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class TimeOrder:
    """``later`` must not be before ``earlier`` on the same row (empty cells are not checked)."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    """One table of a data pack."""

    name: str
    row_unit: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    time_orders: tuple[TimeOrder, ...] = ()
    required: bool = False
    enables: str = ""
    multi: bool = False  # several files (audits/*.csv), one per questionnaire

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _c(name: str, kind: Kind, description: str, **kw) -> Column:
    return Column(name=name, kind=kind, description=description, **kw)


def _opt(name: str, kind: Kind, description: str, **kw) -> Column:
    return Column(name=name, kind=kind, description=description, required=False, nullable=True, **kw)


ACTIONS_TABLE = Table(
    name="actions",
    row_unit="moderation decision",
    required=True,
    enables="every metric and assessment (the only required table)",
    primary_key=("action_id",),
    columns=(
        _c("action_id", "id", "Unique id of the moderation decision."),
        _c("category", "enum", "Harm category (riskkit taxonomy key).", enum=HARM_CATEGORIES),
        _c("surface", "string", "Product surface where the content was, e.g. feed, live, messages, comments."),
        _c("detected_at", "timestamp", "When the item was first detected or reported."),
        _c("actioned_at", "timestamp", "When the decision was applied; empty = still open.", nullable=True),
        _c("detection_source", "enum", "How the item came to attention.", enum=DETECTION_SOURCES),
        _c("decision_by", "enum", "Who decided.", enum=DECISION_MAKERS),
        _c(
            "action",
            "enum",
            "What was decided; empty while the item is open (no actioned_at), required once actioned_at is set.",
            enum=ACTIONS,
            nullable=True,
        ),
        _c("in_malaysia", "bool", "Whether the content or account is in Malaysian scope."),
        _c("rationale", "text", "Why the decision was taken (record-keeping).", nullable=True),
        _c("policy_ref", "text", "Policy or legal ground applied (record-keeping).", nullable=True),
        _opt("content_id", "string", "Id of the content item or account."),
        _opt("involves_minor", "bool", "Whether a minor is involved (as victim or user)."),
        _opt("views_before_action", "int", "Views of the item before the action.", minimum=0),
        _opt("reported_to_authority", "bool", "Whether it was reported to law enforcement."),
        _opt("source_category", "text", "Category as the source system gave it (e.g. a DSA category), kept on import."),
        _opt(
            "in_eu",
            "bool",
            "Whether the decision applies in the EU (DSA scope: at least one Member State); empty = unknown. "
            "The DSA transparency report counts only these.",
        ),
        _opt(
            "decision_ground",
            "enum",
            "Ground of the decision: illegal (illegal content) or terms (incompatible with the terms and "
            "conditions); the DSA report splits decisions by it.",
            enum=DECISION_GROUNDS,
        ),
        _opt(
            "content_posted_at",
            "timestamp",
            "When the content was posted or the account created (e.g. a DSA content_date); informational, never the "
            "start of time to action.",
        ),
        _opt(
            "user_notified_at",
            "timestamp",
            "When the user who posted the content (or holds the account) was notified in writing of the decision "
            "(ONSA s.26 for content made inaccessible); empty = not notified.",
        ),
    ),
    time_orders=(
        TimeOrder("detected_at", "actioned_at"),
        TimeOrder("content_posted_at", "actioned_at"),
        TimeOrder("actioned_at", "user_notified_at"),
    ),
)

#: Columns that may be empty when datapack.yaml says ``time_basis: decision`` (the source has no detection time).
DECISION_BASIS_NULLABLE: dict[str, tuple[str, ...]] = {"actions": ("detected_at",)}


def for_time_basis(t: Table, basis: str) -> Table:
    """The table's contract under a pack's ``time_basis`` (with ``decision``, detected_at may be empty)."""
    names = DECISION_BASIS_NULLABLE.get(t.name, ()) if basis == "decision" else ()
    if not names:
        return t
    return replace(t, columns=tuple(replace(c, nullable=True) if c.name in names else c for c in t.columns))


REPORTS_TABLE = Table(
    name="reports",
    row_unit="user or authority report",
    enables="report-handling clocks (acknowledge, assess), dismissal and duplicate shares",
    primary_key=("report_id",),
    columns=(
        _c("report_id", "id", "Unique id of the report."),
        _c("received_at", "timestamp", "When the report was received."),
        _c("category", "enum", "Harm category reported.", enum=HARM_CATEGORIES),
        _c("reporter_type", "enum", "Who reported.", enum=REPORTER_TYPES),
        _c("acknowledged_at", "timestamp", "When receipt was acknowledged to the reporter.", nullable=True),
        _c("assessed_at", "timestamp", "When the assessment was completed and status notified.", nullable=True),
        _c("resolved_at", "timestamp", "When the report was closed.", nullable=True),
        _c("outcome", "enum", "Outcome of the report.", enum=REPORT_OUTCOMES),
        _opt("action_id", "id", "The moderation decision this report led to, if any."),
        _opt("in_malaysia", "bool", "Whether the reported content is in Malaysian scope (default: all reports)."),
        _opt("in_eu", "bool", "Whether the report is a notice about content in the EU (DSA Art. 16); empty = unknown."),
    ),
    foreign_keys=(ForeignKey("action_id", "actions", "action_id"),),
    time_orders=(
        TimeOrder("received_at", "acknowledged_at"),
        TimeOrder("received_at", "assessed_at"),
        TimeOrder("received_at", "resolved_at"),
    ),
)

APPEALS_TABLE = Table(
    name="appeals",
    row_unit="appeal of a decision",
    enables="appeal and reversal rates",
    primary_key=("appeal_id",),
    columns=(
        _c("appeal_id", "id", "Unique id of the appeal."),
        _c("action_id", "id", "The moderation decision appealed."),
        _c("filed_at", "timestamp", "When the appeal was filed."),
        _c("decided_at", "timestamp", "When the appeal was decided; empty = open.", nullable=True),
        _c("outcome", "enum", "Appeal outcome.", enum=APPEAL_OUTCOMES),
    ),
    foreign_keys=(ForeignKey("action_id", "actions", "action_id"),),
    time_orders=(TimeOrder("filed_at", "decided_at"),),
)

AUTHORITY_REQUESTS_TABLE = Table(
    name="authority_requests",
    row_unit="law-enforcement or regulator request",
    enables="authority-request volumes, compliance rate and response times",
    primary_key=("request_id",),
    columns=(
        _c("request_id", "id", "Unique id of the request."),
        _c("agency", "string", "Requesting agency, e.g. PDRM, MCMC, BNM, NSRC."),
        _c("kind", "enum", "Kind of request.", enum=REQUEST_KINDS),
        _c("received_at", "timestamp", "When the request was received."),
        _c("responded_at", "timestamp", "When the platform responded; empty = open.", nullable=True),
        _c("outcome", "enum", "Outcome.", enum=REQUEST_OUTCOMES),
        _opt(
            "eu_member_state",
            "enum",
            "For an order from an EU Member State authority: the issuing Member State (EL or GR for Greece); "
            "empty = not an EU order.",
            enum=EU_MEMBER_STATE_CODES,
        ),
        _opt(
            "source_category",
            "text",
            "For an EU order: the DSA category of the legal provision it cites, optionally with a keyword "
            "(STATEMENT_CATEGORY_SCAMS_AND_FRAUD/KEYWORD_PHISHING); empty = the order cites none.",
        ),
        _opt("items", "int", "Specific items of information (e.g. URLs) the request names.", minimum=0),
        _opt("acknowledged_at", "timestamp", "When receipt of the request was confirmed to the authority."),
        _opt(
            "due_at",
            "timestamp",
            "The deadline the request, instruction, direction or notice states (ONSA ss.25, 27, 30, 37 and 61 set "
            "'the period specified' in it); empty = none stated. See sla_policy.yaml request_deadlines.",
        ),
    ),
    time_orders=(
        TimeOrder("received_at", "responded_at"),
        TimeOrder("received_at", "acknowledged_at"),
        TimeOrder("received_at", "due_at"),
    ),
)

USERS_TABLE = Table(
    name="users",
    row_unit="month × age band",
    enables="peak Malaysian users, licence threshold, minors' shares, age verification",
    primary_key=("month", "age_band"),
    columns=(
        _c("month", "month", "Calendar month (Asia/Kuala_Lumpur)."),
        _c("age_band", "enum", "Age band of the accounts.", enum=AGE_BANDS),
        _c("mau", "int", "Malaysian monthly active users in the band.", minimum=0),
        _c(
            "age_verified",
            "float",
            "Users whose age was verified: a share (0–1) or a count (<= mau); see datapack.yaml age_verified_unit.",
            minimum=0,
            nullable=True,
        ),
    ),
)

AGE_ASSURANCE_TABLE = Table(
    name="age_assurance",
    row_unit="month × cohort",
    enables="the Child Protection Code transition: existing accounts verified against the six-month window, "
    "under-16 accounts notified and given a full month to save their data, new registrations verified",
    primary_key=("month", "cohort"),
    columns=(
        _c("month", "month", "Calendar month (Asia/Kuala_Lumpur)."),
        _c(
            "cohort",
            "enum",
            "existing: accounts held when the Child Protection Code came into force; new: registrations.",
            enum=AGE_COHORTS,
        ),
        _c(
            "accounts_in_scope",
            "int",
            "existing: accounts held on the in-force date that must be age-verified (the same base every month unless "
            "revised); new: registrations attempted in the month.",
            minimum=0,
        ),
        _c("verified", "int", "Accounts (or registrations) whose age was verified in the month.", minimum=0),
        _c(
            "found_under_16",
            "int",
            "Of those verified in the month, found to be under 16 (new: registrations refused).",
            minimum=0,
        ),
        _c(
            "notified", "int", "Under-16 existing accounts told in the month of their one-month data window.", minimum=0
        ),
        _c(
            "data_exported",
            "int",
            "Notified accounts that downloaded or transferred their data in the month.",
            minimum=0,
        ),
        _c("restricted", "int", "Under-16 accounts restricted in the month.", minimum=0),
        _c("suspended", "int", "Under-16 accounts suspended in the month.", minimum=0),
        _c(
            "actioned_early",
            "int",
            "Of those restricted or suspended in the month, acted on before a full month had passed since their "
            "notice (or without a notice).",
            minimum=0,
        ),
    ),
)

CAPACITY_TABLE = Table(
    name="capacity",
    row_unit="month",
    enables="local moderation capacity, training and wellbeing, languages, automated tools",
    primary_key=("month",),
    columns=(
        _c("month", "month", "Calendar month (Asia/Kuala_Lumpur)."),
        _c("local_moderators_fte", "float", "Moderators based in Malaysia, full-time equivalents.", minimum=0),
        _c("languages", "list", "Languages the local team moderates, e.g. ms;en;zh;ta."),
        _c("training_hours", "float", "Moderator training hours in the month.", minimum=0),
        _c("wellbeing_hours", "float", "Moderator wellbeing-support hours in the month.", minimum=0),
        _c("automated_tools", "list", "Automated tools in use, e.g. hash_matching;classifier_scam.", nullable=True),
    ),
)

FEATURE_CHANGES_TABLE = Table(
    name="feature_changes",
    row_unit="launched feature",
    enables="new-feature reassessment triggers",
    primary_key=("feature",),
    columns=(
        _c("feature", "string", "Feature name."),
        _c("launched_at", "timestamp", "Launch time in Malaysia."),
        _c("surfaces", "list", "Surfaces the feature touches, separated by ';'."),
        _c("available_to_minors", "bool", "Whether users under 18 can use it."),
        _c("notes", "text", "Free-text notes.", nullable=True),
    ),
)

PREVALENCE_TABLE = Table(
    name="prevalence_samples",
    row_unit="labelled view sample",
    enables="violating-view rate (prevalence)",
    primary_key=("sampled_at", "category"),
    columns=(
        _c("sampled_at", "timestamp", "When the sample was drawn."),
        _c("category", "enum", "Harm category labelled.", enum=HARM_CATEGORIES),
        _c("views_sampled", "int", "Views in the sample.", minimum=0),
        _c("views_violating", "int", "Sampled views that were violating.", minimum=0),
    ),
)

AUDIT_TABLE = Table(
    name="audits",
    row_unit="questionnaire answer",
    multi=True,
    enables="Safety-by-Design, child-safety and accessibility audits",
    primary_key=("item_id",),
    columns=(
        _c("item_id", "id", "Checklist item id (ref_id in the audit's checklist framework)."),
        _c("status", "enum", "Answer (to_review = not assessed yet).", enum=AUDIT_STATUSES),
        _c("maturity", "int", "Maturity 0 (not in place) to 4 (optimised).", minimum=0, maximum=4, nullable=True),
        _c("evidence", "text", "Evidence reference or description.", nullable=True),
        _c("owner", "text", "Owner of the control.", nullable=True),
        _c("notes", "text", "Notes, including the justification for not_applicable.", nullable=True),
        _c("assessed_by", "text", "Who answered.", nullable=True),
        _c("assessed_on", "date", "When it was answered.", nullable=True),
        _opt("domain", "text", "Informational (copied from the checklist by `riskkit questionnaire`)."),
        _opt("question", "text", "Informational (copied from the checklist)."),
        _opt("mandatory", "text", "Informational (copied from the checklist)."),
        _opt("expected_evidence", "text", "Informational (copied from the checklist)."),
        _opt("data_test", "text", "Informational: what riskkit checks in the data for this item."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ACTIONS_TABLE,
        REPORTS_TABLE,
        APPEALS_TABLE,
        AUTHORITY_REQUESTS_TABLE,
        USERS_TABLE,
        AGE_ASSURANCE_TABLE,
        CAPACITY_TABLE,
        FEATURE_CHANGES_TABLE,
        PREVALENCE_TABLE,
        AUDIT_TABLE,
    )
}

#: Outcome columns that belong to a step: (table, outcome column, step time). The outcome is empty while the
#: step's time is empty (an open item has no decision yet, so nothing can be judged by it) and required once the
#: time is set.
OUTCOME_RULES: dict[str, tuple[tuple[str, str], ...]] = {"actions": (("action", "actioned_at"),)}


def outcome_expectations(column: str, time: str) -> tuple[str, str]:
    """(expected on an open row, expected on a decided row) for an outcome rule, as validation messages say it."""
    return (
        f"{column} empty while {time} is empty (an open item has no decision yet; record the {column} with its {time})",
        f"{column} set once {time} is set",
    )


#: Extra rules that span columns and need wording of their own.
ROW_RULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # table: (column, other column it must not exceed - or columns joined by +, whose sum -, message)
    "prevalence_samples": (("views_violating", "views_sampled", "at most views_sampled"),),
    "age_assurance": (
        ("verified", "accounts_in_scope", "at most accounts_in_scope"),
        ("found_under_16", "verified", "at most verified"),
        ("actioned_early", "restricted+suspended", "at most restricted + suspended"),
    ),
}


@dataclass(frozen=True)
class MetaField:
    """A key of datapack.yaml."""

    path: str
    description: str
    required: bool = False
    example: str = ""


DATAPACK_YAML_FIELDS: tuple[MetaField, ...] = (
    MetaField("contract", "Data-contract version this pack follows.", example=str(CONTRACT_VERSION)),
    MetaField("platform.name", "Service name.", required=True, example="Serambi"),
    MetaField("platform.service_type", "One of " + ", ".join(SERVICE_TYPES) + ".", required=True),
    MetaField("platform.licence_id", "ASP(C) licence reference.", example="ASP(C)-2025-0042"),
    MetaField("timezone", "IANA zone for timestamps written without an offset; without it they are errors."),
    MetaField("as_of", "When the data was extracted; later timestamps are errors (default: now)."),
    MetaField("tables.<name>", "File of each table, relative to the pack (default: <name>.parquet or .csv)."),
    MetaField("audits.<name>", "Questionnaire file of each audit (default: audits/<name>.csv)."),
    MetaField("age_verified_unit", "share or count (default: inferred, share if every value <= 1)."),
    MetaField("time_resolution", "second (default), minute, hour or day: how precise the timestamps are."),
    MetaField(
        "time_basis",
        "detection (default) or decision: with decision (e.g. DSA statements of reasons) actions are decisions with no "
        "detection time — detected_at may be empty, cycles follow actioned_at, time to action is not available.",
    ),
    MetaField("surfaces", "Optional list of the platform's surfaces; if given, actions.surface must use them."),
    MetaField(
        "sla_overrides",
        "Per-clock overrides of the SLA policy (hours, reading, source, confidence), see frameworks/sla_policy.yaml; "
        "reading chooses one of an ambiguous clock's readings (code2024.csam_report_24h: all_reported, csam_only).",
    ),
    MetaField("high_risk_periods", "Declared high-risk periods: list of {name, start, end, categories}."),
    MetaField("targets.<target>", "Your own value for a target of riskkit-targets: {value, source, confidence}."),
    MetaField(
        "sign_off", "Who prepared, reviewed and approved: {prepared_by, reviewed_by, approved_by} lists of people."
    ),
    MetaField(
        "risk_overrides.<row>",
        "The team's adjustment of a risk row: {likelihood, severity, response, justification, by}.",
    ),
    MetaField("eu.service_name", "EU DSA report: the service's name in the EU (default: platform.name)."),
    MetaField("eu.provider_name", "EU DSA report: statutory or corporate name of the service provider."),
    MetaField(
        "eu.provider_type",
        "EU DSA report: intermediary, hosting, online_platform, vlop or vlose (decides which template rows apply "
        "and the cadence: yearly, or half-yearly for vlop and vlose).",
        example="vlop",
    ),
    MetaField("eu.member_states", "EU DSA report: Member States where the service is offered (codes), or all."),
    MetaField("eu.qualitative.<indicator>", "EU DSA report: texts of the qualitative template (Part 11), by id."),
    MetaField(
        "source.backend",
        "A warehouse pack: duckdb, pyspark, or an Ibis connection URL (bigquery://project/dataset, "
        "snowflake://user@account/db/schema, trino://user@host/catalog/schema …); credentials only as ${VARIABLE} "
        "placeholders read from the environment, or the backend's own configuration.",
        example="duckdb",
    ),
    MetaField("source.database", "duckdb: the database file (opened read only), relative to the pack."),
    MetaField(
        "source.tables.<name>.table",
        "The warehouse table or view holding a contract table (schema-qualified if needed).",
    ),
    MetaField("source.tables.<name>.sql", "Instead of table: a query whose result is the contract table."),
    MetaField(
        "source.tables.<name>.parquet",
        "Instead of table: Parquet files read in place — a file, a (partitioned) folder or a glob, relative to the "
        "pack or a URL such as s3://lake/actions/.",
    ),
    MetaField("source.tables.<name>.columns", "Your column names: {contract column: warehouse column}."),
    MetaField(
        "source.tables.<name>.values",
        "Your codes: {contract column: {warehouse value: contract value}} (true/false for boolean columns).",
    ),
)


def iter_tables(include_optional: bool = True) -> Iterator[Table]:
    """Tables in contract order."""
    for table in TABLES.values():
        if include_optional or table.required:
            yield table


def table(name: str) -> Table:
    """The contract of one table by name."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no table {name!r} in the data contract; known: {', '.join(TABLES)}") from None


def describe() -> str:
    """The contract as Markdown (used by `riskkit schema` and the README's data-contract section)."""
    out: list[str] = [f"Data contract version {CONTRACT_VERSION}.", ""]
    for t in TABLES.values():
        need = "required" if t.required else "optional"
        out.append(f"### `{t.name}` — one row per {t.row_unit} ({need})")
        out.append("")
        if t.enables:
            out.append(f"Enables: {t.enables}.")
        if t.primary_key:
            out.append(f"Key: {', '.join(t.primary_key)}.")
        for fk in t.foreign_keys:
            out.append(f"`{fk.column}` refers to `{fk.ref_table}.{fk.ref_column}`.")
        out.append("")
        out.append("| column | type | required | empty allowed | description |")
        out.append("|---|---|---|---|---|")
        for c in t.columns:
            typ = c.kind if c.kind != "enum" else "enum: " + ", ".join(c.enum or ())
            out.append(
                f"| {c.name} | {typ} | {'yes' if c.required else 'no'} | {'yes' if c.nullable else 'no'} "
                f"| {c.description} |"
            )
        out.append("")
    out.append("### `datapack.yaml`")
    out.append("")
    out.append("| key | required | description |")
    out.append("|---|---|---|")
    for f in DATAPACK_YAML_FIELDS:
        example = f" Example: `{f.example}`." if f.example else ""
        out.append(f"| {f.path} | {'yes' if f.required else 'no'} | {f.description}{example} |")
    out.append("")
    return "\n".join(out)
