"""The EU DSA harmonised transparency report (Implementing Regulation (EU) 2024/2835, Annex I) from a data pack.

:func:`build` fills the Commission's templates for one reporting period from the EU part of a pack: the layout
(parts, columns, verbatim headers and row labels, which rows apply to which provider type) is the framework
``dsa-transparency-layout``; how riskkit's data map onto it (harm keys to DSA categories, actions to restriction
types, detection sources to flows, appeal outcomes to complaint outcomes) and how each measure is computed is the
framework ``dsa-transparency-mapping``. Only EU data counts (``actions.in_eu``, ``reports.in_eu``,
``authority_requests.eu_member_state``): a pack without them gets "not available" for every EU-scoped field, never
Malaysian or global numbers. Every field is listed in the coverage table as filled, not available or not
applicable, with the reason, which is also written into the template's contextual column where it has one. The
provider (name, type, Member States, qualitative texts) is the typed ``eu:`` block of datapack.yaml, checked when
the pack is loaded (:class:`riskkit.pack.manifest.Eu`).

:func:`write` publishes the report: the CSV parts through the formula-safe CSV writer (RFC 4180, UTF-8 without BOM,
CRLF), one XLSX through the project's xlsx writer (a sheet per part named as in the template, after the cover), the
coverage table and an offline HTML page for review, into a new folder (written aside, then renamed into place).

The numbers need row-level data (EU scope, decision ground, DSA category of each decision, notice and order), so the
report is built from a data pack, not from a saved :class:`~riskkit.result.CycleResult`, whose tables are Malaysian
and global aggregates.

All computations are vectorised over the pack's frames; loops run over template rows only.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit import __version__, schema
from riskkit.cycles import Cycle
from riskkit.cycles import parse as parse_cycle
from riskkit.documents import DocumentError
from riskkit.documents.tabular import write_csv
from riskkit.documents.xlsx import Column, Cover, Sheet, write_workbook
from riskkit.exceptions import ParameterError
from riskkit.library import Library
from riskkit.library.models import PROVIDER_TYPES, RESTRICTION_PREFIX, LayoutColumn, LayoutPart
from riskkit.pack import DataPack, PackMeta

FILLED, NOT_AVAILABLE, NOT_APPLICABLE = "filled", "not available", "not applicable"
STATUSES = (FILLED, NOT_AVAILABLE, NOT_APPLICABLE)
COVERAGE_COLUMNS = ("part", "field", "status", "why")
_TOTAL = "TOTAL"
_OTHER = "KEYWORD_OTHER"
_NOT_SPECIFIED_ORDER = "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER"
#: Template measure type -> kind of the workbook cell (riskkit.documents.xlsx).
_XLSX_KIND = {"count": "integer", "hours": "number", "ratio": "number", "text": "text", "date": "date"}


# ------------------------------------------------------------------------------------------------ datapack.yaml


@dataclass(frozen=True)
class EuSettings:
    """The provider as the report names it: the ``eu:`` block of datapack.yaml (typed and checked at pack load),
    with the defaults of a pack that has none."""

    service_name: str
    provider_name: str | None = None
    provider_type: str | None = None
    member_states: tuple[str, ...] = schema.EU_MEMBER_STATES  # Eurostat codes (EL for Greece), template order
    qualitative: Mapping[str, str] = field(default_factory=dict)
    declared: bool = False  # the pack has an eu: block


def eu_settings(meta: PackMeta) -> EuSettings:
    """The settings of a pack: its ``eu:`` block, or (without one) the service name ``platform.name`` and an
    undeclared provider type."""
    eu = meta.eu
    if eu is None:
        return EuSettings(service_name=meta.platform_name)
    return EuSettings(
        service_name=eu.service_name or meta.platform_name,
        provider_name=eu.provider_name,
        provider_type=eu.provider_type,
        member_states=tuple(eu.member_states),
        qualitative=dict(eu.qualitative),
        declared=True,
    )


# ------------------------------------------------------------------------------------------------ layout + mapping


@dataclass(frozen=True)
class CategorySpec:
    code: str
    number: str | None  # "1", "1a"; None for TOTAL
    template_label: str
    template_description: str
    label: str
    parent: str | None  # code of the high-level category of a keyword row


@dataclass(frozen=True)
class RowSpec:
    """One row of a long part, with its group's defaults applied."""

    part: int
    group: str
    label: str
    measure: str
    type: str
    applicability: str
    applies: str | None = None
    section: str | None = None
    indicator: str | None = None
    scope: str | None = None
    filter: Mapping[str, str] = field(default_factory=dict)
    expand: str | None = None
    key: str | None = None


class Layout:
    """The template layout and riskkit's mapping onto it (the library's typed ``dsa_transparency_layout`` and
    ``dsa_transparency_mapping``, checked against each other when the library loads), as the lookups :func:`build`
    uses."""

    def __init__(self, library: Library) -> None:
        lay, mp = library.dsa_transparency_layout, library.dsa_transparency_mapping
        self.ids = (lay.id, mp.id)
        self.versions = {lay.id: lay.version, mp.id: mp.version}
        self.format = lay.format
        self.tiers = {t.tier: t for t in lay.provider_types}
        self.applicability = {a.key: a for a in lay.applicability}
        self.parts: dict[int, LayoutPart] = {p.number: p for p in sorted(lay.parts, key=lambda p: p.number)}
        self.categories = [
            CategorySpec(
                code=c.code,
                number=c.number,
                template_label=c.template_label,
                template_description=c.template_description,
                label=c.label.en,
                parent=lay.parent_code(c),
            )
            for c in lay.categories
        ]
        self.rows = [
            RowSpec(
                part=g.part,
                group=g.ref_id,
                label=g.label.en,
                measure=r.measure,
                type=r.type or "count",
                applicability=str(r.applicability or g.applicability),
                applies=r.applies,
                section=g.section,
                indicator=r.indicator or g.indicator,
                scope=r.scope or g.scope,
                filter=g.filter.model_dump(exclude_none=True),
                expand=g.expand,
                key=r.key,
            )
            for g in lay.rows
            for r in g.rows
        ]
        self.qualitative_keys = lay.qualitative_keys()
        self.member_states = [(m.code, m.iso) for m in lay.member_states]
        self.languages = [lang.code for lang in lay.languages]
        self.harms = {h.harm: h for h in mp.harms}
        self.actions = {a.action: a for a in mp.actions}
        self.detection = {d.detection_source: d for d in mp.detection}
        self.decision_by = {d.decision_by: d for d in mp.decision_by}
        self.reporters = {r.reporter_type: r for r in mp.reporters}
        self.requests = {r.kind: r for r in mp.requests}
        self.appeal_outcomes = {a.outcome: a for a in mp.appeal_outcomes}
        self.measures = {m.ref_id: m for m in mp.measures}
        self.effect_outcomes = tuple(mp.effect_outcomes)
        self.source_other_description = mp.source_other_description
        self.order_other_description = mp.order_other_description
        sor = library.get(mp.sor_categories)
        self.renamed = {h.ref_id: h.renamed_to for h in getattr(sor, "harms", []) if h.renamed_to}

    # --- derived vocabularies

    @property
    def high_level(self) -> dict[str, CategorySpec]:
        """Number ("1".."17") -> high-level category."""
        return {c.number: c for c in self.categories if c.number and c.number.isdigit()}

    def keyword_rows(self, code: str) -> list[CategorySpec]:
        return [c for c in self.categories if c.parent == code]

    def part_codes(self, part: LayoutPart) -> frozenset[str]:
        return frozenset(self.high_level[str(n)].code for n in part.categories)

    def applies_to(self, applicability: str) -> tuple[str, ...]:
        return tuple(self.applicability[applicability].tiers)

    def applicability_text(self, applicability: str) -> str:
        return self.applicability[applicability].text

    def method(self, measure: str) -> str:
        return self.measures[measure].method or ""

    def unavailable_why(self, measure: str) -> str | None:
        m = self.measures[measure]
        return None if m.available else m.why

    def restriction_actions(self, measure: str) -> list[str]:
        return [a for a, d in self.actions.items() if measure in d.restrictions]


# ------------------------------------------------------------------------------------------------ the result


@dataclass
class TransparencyReport:
    """The filled templates of one service and period, with the coverage of every field."""

    parts: dict[int, pd.DataFrame]  # part number -> table with the template's headers (typed cells, None = blank)
    coverage: pd.DataFrame  # part, field, status, why
    layout: Layout
    settings: EuSettings
    cycle: Cycle
    period_start: date
    period_end: date  # last day, inclusive
    platform: str
    as_of: pd.Timestamp
    publication_date: date | None = None
    notes: list[str] = field(default_factory=list)
    row_types: dict[int, list[str]] = field(default_factory=dict)  # long parts: each row's measure type

    @property
    def period(self) -> str:
        fmt = self.layout.format
        return fmt.period_format.format(
            start=f"{self.period_start:{fmt.date_format}}", end=f"{self.period_end:{fmt.date_format}}"
        )

    def coverage_counts(self) -> dict[str, int]:
        counts = self.coverage["status"].value_counts()
        return {s: int(counts.get(s, 0)) for s in STATUSES}

    def file_name(self, number: int) -> str:
        part = self.layout.parts[number]
        return self.layout.format.csv_file.format(number=number, name=part.name)

    @property
    def workbook_name(self) -> str:
        return self.layout.format.workbook_file.format(cycle=self.cycle.id)


# ------------------------------------------------------------------------------------------------ building


def reporting_period(cycle: Cycle | str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC bounds [start, end) of the DSA reporting period of a cycle (decision.period_timezone)."""
    c = parse_cycle(cycle)
    if c.half is None:
        return pd.Timestamp(c.year, 1, 1, tz="UTC"), pd.Timestamp(c.year + 1, 1, 1, tz="UTC")
    if c.half == 1:
        return pd.Timestamp(c.year, 1, 1, tz="UTC"), pd.Timestamp(c.year, 7, 1, tz="UTC")
    return pd.Timestamp(c.year, 7, 1, tz="UTC"), pd.Timestamp(c.year + 1, 1, 1, tz="UTC")


def build(
    pack: DataPack,
    cycle: Cycle | str,
    *,
    library: Library,
    publication_date: date | str | None = None,
    previous_publication_date: date | str | None = None,
) -> TransparencyReport:
    """Fill the quantitative and qualitative templates for ``cycle`` from the EU part of ``pack``.

    Raises :class:`ParameterError` for a cycle the provider does not report on, a period not over at the pack's
    ``as_of``, or a malformed date."""
    layout = Layout(library)
    settings = eu_settings(pack.meta)
    c = parse_cycle(cycle)
    start, end = reporting_period(c)
    if settings.provider_type is not None:
        cadence = layout.tiers[settings.provider_type].cadence
        if cadence != c.kind:
            want = "a half-year such as 2026-H1" if cadence == "half" else "a calendar year such as 2026"
            raise ParameterError(
                f"cycle {c.id}: a provider of type {settings.provider_type!r} reports "
                f"{'every half-year' if cadence == 'half' else 'once a calendar year'} "
                f"(Implementing Regulation (EU) 2024/2835 Art. 2); give {want}"
            )
    if end > pack.meta.as_of:
        raise ParameterError(
            f"cycle {c.id}: the reporting period {start:%Y-%m-%d} – {end - pd.Timedelta(days=1):%Y-%m-%d} (UTC) is "
            f"not over at the pack's as_of {pack.meta.as_of.isoformat()}; a report needs the whole period"
        )
    ctx = _Context(
        pack=pack,
        layout=layout,
        settings=settings,
        start=start,
        end=end,
        publication=_date(publication_date, "--publication-date"),
        previous=_date(previous_publication_date, "--previous-publication-date"),
    )
    report = TransparencyReport(
        parts={},
        coverage=pd.DataFrame(columns=list(COVERAGE_COLUMNS)),
        layout=layout,
        settings=settings,
        cycle=c,
        period_start=start.date(),
        period_end=(end - pd.Timedelta(days=1)).date(),
        platform=pack.meta.platform_name,
        as_of=pack.meta.as_of,
        publication_date=ctx.publication,
    )
    coverage: list[dict[str, Any]] = []
    for number, part in sorted(layout.parts.items()):
        if part.shape == "categories":
            table, cov = _wide_part(ctx, part, report.period)
        elif part.shape == "category_list":
            table, cov = _category_list(ctx, part)
        else:
            table, cov, types = _long_part(ctx, part, report.period)
            report.row_types[number] = types
        report.parts[number] = table
        coverage.extend(cov)
    report.coverage = pd.DataFrame(coverage, columns=list(COVERAGE_COLUMNS))
    if settings.provider_type is None:
        report.notes.append(
            "datapack.yaml declares no eu.provider_type: only rows that apply to every provider are computed; the "
            "others are 'not available' until the provider type is declared."
        )
    if pack.meta.time_resolution == "day":
        report.notes.append("The pack's timestamps have day resolution: medians in hours are whole days.")
    return report


def _date(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"{what}: value {value!r} — expected a date YYYY-MM-DD") from None


@dataclass
class _Context:
    pack: DataPack
    layout: Layout
    settings: EuSettings
    start: pd.Timestamp
    end: pd.Timestamp
    publication: date | None
    previous: date | None
    _cache: dict[str, Any] = field(default_factory=dict)

    def within(self, ts: pd.Series) -> np.ndarray:
        """Instants inside the period (NaT is outside)."""
        return ((ts >= self.start) & (ts < self.end)).fillna(False).to_numpy(dtype=bool)

    def missing(self, table: str, *columns: str) -> str | None:
        """Why the pack cannot give a table's columns, or None."""
        df = self.pack.get(table)
        if df is None:
            return f"The pack has no `{table}` table."
        absent = [c for c in columns if c not in df.columns]
        if absent:
            return f"The `{table}` table has no {', '.join(f'`{c}`' for c in absent)} column" + (
                "s." if len(absent) > 1 else "."
            )
        return None

    def eu(self, table: str) -> tuple[np.ndarray, int]:
        """EU mask of a table with an ``in_eu`` column, and how many rows have it empty (unknown)."""
        flag = self.pack.tables[table]["in_eu"]
        unknown = int(flag.isna().sum())
        return flag.fillna(False).to_numpy(dtype=bool), unknown

    def applicability(self, applicability: str, applies: str | None = None) -> tuple[str, str] | None:
        """(status, why) when a row does not apply or cannot be judged; None when it applies."""
        tier = self.settings.provider_type
        tiers = self.layout.applies_to(applies or applicability)
        if tier is None:
            if set(tiers) == set(PROVIDER_TYPES):
                return None
            return (
                NOT_AVAILABLE,
                "datapack.yaml declares no eu.provider_type, so whether this row applies is unknown.",
            )
        if tier not in tiers:
            who = self.layout.applicability[applies or applicability].label.en
            return NOT_APPLICABLE, f"Not applicable: this row is for {who}; the provider is a {tier_label(self, tier)}."
        return None


def tier_label(ctx: _Context, tier: str) -> str:
    return ctx.layout.tiers[tier].label.en


# ------------------------------------------------------------------------------------------------ categories


def _from_harm(layout: Layout, harm: pd.Series) -> pd.DataFrame:
    h = layout.harms
    return pd.DataFrame(
        {
            "cat": _lookup(harm, {k: d.category for k, d in h.items()}, np.nan),
            "kw": _lookup(harm, {k: d.keyword for k, d in h.items()}, ""),
            "desc": _lookup(harm, {k: d.other_description or "" for k, d in h.items()}, ""),
        },
        index=harm.index,
    )


def _from_source(layout: Layout, source: pd.Series, empty_as: str | None, other: str) -> pd.DataFrame:
    """DSA ``CATEGORY[/KEYWORD]`` strings -> (cat, kw, desc); cat is NaN where the value is not a template category."""
    text = source.astype(object).where(source.notna(), "").astype(str).str.strip()
    split = text.str.partition("/")
    cat = split[0].replace(layout.renamed)
    if empty_as is not None:
        cat = cat.where(text != "", empty_as)
    kw = split[2].str.strip()
    codes = {c.code for c in layout.high_level.values()}
    parents = {c.code: c.parent for c in layout.categories if c.parent and c.code != _OTHER}
    known = cat.isin(codes)
    kw_ok = (kw.map(parents) == cat).to_numpy()
    generic = (kw == "") | (kw == _OTHER)
    no_sub = cat.isin([c.code for c in layout.high_level.values() if not layout.keyword_rows(c.code)])
    desc = np.where(
        kw_ok | no_sub.to_numpy(),
        "",
        np.where(
            generic.to_numpy(),
            other,
            other.split(" with")[0] + " with keyword " + kw + ", not a sub-category of this category",
        ),
    )
    return pd.DataFrame(
        {
            "cat": cat.where(known),
            "kw": np.where(no_sub.to_numpy(), "", np.where(kw_ok, kw, _OTHER)),
            "desc": desc,
        },
        index=source.index,
    )


def _categorise(
    layout: Layout,
    allowed: frozenset[str],
    harm: pd.Series | None,
    source: pd.Series | None,
    empty_as: str | None = None,
    other: str | None = None,
) -> pd.DataFrame:
    """Category, keyword and KEYWORD_OTHER description of each item for a part that has the ``allowed`` categories.

    A DSA category from the source system wins when the part has it; else the harm key's mapping; an item whose
    category the part does not have gets cat NaN (counted in TOTAL only).
    """
    index = (harm if harm is not None else source).index  # type: ignore[union-attr]
    out = _from_harm(layout, harm) if harm is not None else pd.DataFrame({"cat": np.nan, "kw": "", "desc": ""}, index)
    if source is not None:
        src = _from_source(layout, source, empty_as, other or layout.source_other_description)
        use = src["cat"].isin(allowed).to_numpy()
        out = pd.DataFrame({c: np.where(use, src[c].to_numpy(object), out[c].to_numpy(object)) for c in src}, index)
    placed = out["cat"].isin(allowed)
    out["cat"] = out["cat"].where(placed)
    out.loc[~placed, ["kw", "desc"]] = ""
    return out


# ------------------------------------------------------------------------------------------------ wide parts (3-6)


@dataclass
class _Wide:
    """Per-item contributions to a category table: key columns scope/cat/kw/desc plus one column per measure."""

    events: pd.DataFrame
    status: dict[str, tuple[str, str]]  # measure -> (status, why) for measures that are not filled
    notes: dict[str, list[str]]  # measure -> notes appended to its method
    category_rows: str | None = None  # why category rows are blank (TOTAL only), or None
    scopes: list[str] = field(default_factory=lambda: [""])


def _wide_part(ctx: _Context, part: LayoutPart, period: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    measures = [c.measure for c in part.columns if c.role == "value" and c.measure]
    not_applicable = ctx.applicability(part.applicability or "all")
    if part.number == 3:
        wide = _orders(ctx, part, measures)
    elif part.number == 4:
        wide = _notices(ctx, part, measures)
    else:
        wide = _own_initiative(ctx, part, measures)
    if part.scope_blocks and wide.scopes == [""]:
        wide.scopes = [_TOTAL]  # a part with a Scope column keeps its TOTAL block even when nothing is filled
    for m in measures:  # not applicable > not in the contract > not in the pack > applicability unknown
        why = ctx.layout.unavailable_why(m)
        if not_applicable is not None and not_applicable[0] == NOT_APPLICABLE:
            wide.status[m] = not_applicable
        elif why is not None:
            wide.status[m] = (NOT_AVAILABLE, why)
        elif m not in wide.status and not_applicable is not None:
            wide.status[m] = not_applicable
    filled = [m for m in measures if m not in wide.status]
    table = _assemble_wide(ctx, part, period, wide, filled)
    coverage = []
    for col in (c for c in part.columns if c.role == "value"):
        m = col.measure or ""
        if m in wide.status:
            status, why = wide.status[m]
            coverage.append(_cov(part, col.header, status, why))
        elif wide.category_rows is not None:
            text = _method(ctx, m, wide.notes)
            coverage.append(_cov(part, f"{col.header.strip()} — TOTAL rows", FILLED, text))
            coverage.append(_cov(part, f"{col.header.strip()} — category rows", NOT_AVAILABLE, wide.category_rows))
        else:
            coverage.append(_cov(part, col.header, FILLED, _method(ctx, m, wide.notes)))
    return table, coverage


def _method(ctx: _Context, measure: str, notes: Mapping[str, list[str]]) -> str:
    text = ctx.layout.method(measure)
    extra = notes.get(measure) or []
    return " ".join([text, *extra]).strip()


def _cov(part: LayoutPart, name: str, status: str, why: str) -> dict[str, Any]:
    return {"part": part.number, "field": name.strip(), "status": status, "why": why}


def _hours(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 3600.0).to_numpy(dtype=float, na_value=np.nan)


def _lookup(values: pd.Series, table: Mapping[Any, Any], default: Any = None) -> np.ndarray:
    """``table[value]`` for every value (``default`` when absent or empty), as an object array.

    Categorical columns (every enum of a pack) are looked up once per category and spread by their codes.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_category = [table.get(c, default) for c in values.cat.categories] + [default]
        return np.array(per_category, dtype=object)[values.cat.codes.to_numpy()]  # code -1 (empty) -> default
    out = values.astype(object).map(table).to_numpy(dtype=object)
    out[pd.isna(out)] = default
    return out


def _flag(values: pd.Series, mapping: Mapping[str, Any], key: str, expected: Any) -> np.ndarray:
    """True where ``mapping[value][key] == expected``."""
    return _lookup(values, {v: getattr(d, key) == expected for v, d in mapping.items()}, False).astype(bool)


def _not_scoped(table: str, column: str, ctx: _Context, measures: list[str], what: str) -> _Wide | None:
    """Every measure of a part "not available" when the pack lacks the EU scope column ``table.column``."""
    why = ctx.missing(table, column)
    if why is None:
        return None
    status = {m: (NOT_AVAILABLE, f"{why} The pack does not say {what}.") for m in measures}
    return _Wide(pd.DataFrame(columns=["scope", "cat", "kw", "desc"]), status, {})


def _orders(ctx: _Context, part: LayoutPart, measures: list[str]) -> _Wide:
    blank = _not_scoped(
        "authority_requests",
        "eu_member_state",
        ctx,
        measures,
        "which authority requests are orders from EU Member States",
    )
    if blank is not None:
        return blank
    req = ctx.pack.tables["authority_requests"]
    lay = ctx.layout
    eu = req["eu_member_state"].notna().to_numpy()
    order = _lookup(req["kind"], {k: d.order for k, d in lay.requests.items()}, "none")
    act, info = eu & (order == "act"), eu & (order == "information")
    received = ctx.within(req["received_at"])
    ack = ctx.within(req["acknowledged_at"]) if "acknowledged_at" in req else np.zeros(len(req), bool)
    effect = ctx.within(req["responded_at"]) & _lookup(req["outcome"], dict.fromkeys(lay.effect_outcomes, True), False)
    if "source_category" in req:
        cats = _categorise(
            lay, lay.part_codes(part), None, req["source_category"], _NOT_SPECIFIED_ORDER, lay.order_other_description
        )
        category_rows = None
    else:
        cats = pd.DataFrame({"cat": np.nan, "kw": "", "desc": ""}, index=req.index)
        category_rows = (
            "The `authority_requests` table has no `source_category` column: the category of each order "
            "(the legal provision it cites) is unknown, so only the TOTAL rows are filled."
        )
    ev = cats.assign(scope=req["eu_member_state"].astype(object).replace({"GR": "EL"}))
    status: dict[str, tuple[str, str]] = {}
    notes: dict[str, list[str]] = {}
    hours_ack = _hours(req["acknowledged_at"], req["received_at"]) if "acknowledged_at" in req else None
    hours_effect = _hours(req["responded_at"], req["received_at"])
    for kind, mask in (("act", act), ("info", info)):
        ev[f"orders.{kind}.received"] = (mask & received).astype(int)
        if hours_ack is not None:
            ev[f"orders.{kind}.ack_hours"] = np.where(mask & ack, hours_ack, np.nan)
        else:
            status[f"orders.{kind}.ack_hours"] = (NOT_AVAILABLE, ctx.missing("authority_requests", "acknowledged_at"))
        ev[f"orders.{kind}.effect_hours"] = np.where(mask & effect, hours_effect, np.nan)
    if "items" in req:
        items = req["items"].astype("Float64")
        ev["orders.act.items"] = np.where(act & received, items.fillna(0).to_numpy(dtype=float), 0).astype(int)
        blank = int((act & received & items.isna().to_numpy()).sum())
        if blank:
            notes["orders.act.items"] = [f"{blank} order(s) to act without an item count are counted as 0 items."]
    else:
        status["orders.act.items"] = (NOT_AVAILABLE, ctx.missing("authority_requests", "items"))
    left_out = int((eu & (order == "none") & received).sum())
    if left_out:
        notes.setdefault("orders.info.received", []).append(
            f"{left_out} EU preservation request(s) are neither kind of order and are left out."
        )
    unplaced = int(((act | info) & received & cats["cat"].isna().to_numpy()).sum()) if category_rows is None else 0
    if unplaced:
        for kind in ("act", "info"):
            notes.setdefault(f"orders.{kind}.received", []).append(
                f"{unplaced} order(s) cite no category of this part and are in TOTAL only."
            )
    active = (act | info) & (received | ack | effect)
    ev = ev[active]
    blocks = [code for code, _iso in ctx.layout.member_states if code in set(ev["scope"])]
    both = pd.concat([ev.assign(scope=_TOTAL), ev], ignore_index=True)
    return _Wide(both, status, notes, category_rows, [_TOTAL, *blocks])


def _notices(ctx: _Context, part: LayoutPart, measures: list[str]) -> _Wide:
    blank = _not_scoped("reports", "in_eu", ctx, measures, "which reports are notices about content in the EU")
    if blank is not None:
        return blank
    lay = ctx.layout
    rep = ctx.pack.tables["reports"]
    eu, unknown = ctx.eu("reports")
    received = eu & ctx.within(rep["received_at"])
    tf = _flag(rep["reporter_type"], lay.reporters, "notice", "trusted_flagger")
    ev = _categorise(lay, lay.part_codes(part), rep["category"], None).assign(scope="")
    ev["notices.received"] = received.astype(int)
    ev["notices.received_tf"] = (received & tf).astype(int)
    ev["notices.items"] = ev["notices.received"]
    ev["notices.items_tf"] = ev["notices.received_tf"]
    status: dict[str, tuple[str, str]] = {}
    notes: dict[str, list[str]] = {}
    if unknown:
        notes["notices.received"] = [f"{unknown} report(s) with unknown EU scope (in_eu empty) are left out."]
    unplaced = int((received & ev["cat"].isna().to_numpy()).sum())
    if unplaced:
        notes.setdefault("notices.received", []).append(
            f"{unplaced} notice(s) whose category this part does not have are in TOTAL only."
        )
    linked_why = ctx.missing("reports", "action_id")
    acted_measures = [m for m in measures if m not in _NOTICE_COUNTS]
    if linked_why is not None:
        linked_why += " Notices cannot be linked to the decisions taken on them."
        status.update({m: (NOT_AVAILABLE, linked_why) for m in acted_measures})
    else:
        linked = _linked(ctx, "reports")
        restricted = _flag(linked["action"], lay.actions, "measure", True)
        acted = eu & restricted & ctx.within(linked["actioned_at"])
        hours = _hours(linked["actioned_at"], rep["received_at"])
        early = acted & (hours < 0)
        timed = acted & ~early
        ground = _ground(lay, linked)
        ev["notices.action_hours"] = np.where(timed, hours, np.nan)
        ev["notices.action_hours_tf"] = np.where(timed & tf, hours, np.nan)
        for g, name in (("illegal", "law"), ("terms", "terms")):
            ev[f"notices.{name}"] = (acted & (ground == g)).astype(int)
            ev[f"notices.{name}_tf"] = (acted & (ground == g) & tf).astype(int)
        if early.any():
            for m in ("notices.action_hours", "notices.action_hours_tf"):
                notes[m] = [f"{int(early.sum())} notice(s) arrived after their decision and are left out."]
        received = received | acted
    return _Wide(ev[received], status, notes)


_NOTICE_COUNTS = ("notices.received", "notices.received_tf", "notices.items", "notices.items_tf")


def _linked(ctx: _Context, table: str) -> pd.DataFrame:
    """The decision each row of ``table`` links to by action_id (all-NaN where none), aligned on its index."""
    key = f"linked.{table}"
    if key not in ctx._cache:
        ids = ctx.pack.tables[table]["action_id"]
        linked = ctx.pack.actions.set_index("action_id").reindex(ids.astype(object).to_numpy())
        linked.index = ids.index
        ctx._cache[key] = linked
    return ctx._cache[key]


def _ground(layout: Layout, actions: pd.DataFrame) -> np.ndarray:
    """Decision ground of each action: decision_ground, else its harm's default ground."""
    default = _lookup(actions["category"], {h: d.default_ground for h, d in layout.harms.items()})
    if "decision_ground" in actions:
        given = _lookup(actions["decision_ground"], {g: g for g in schema.DECISION_GROUNDS})
        return np.where(pd.isna(given), default, given)
    return default


def _own_initiative(ctx: _Context, part: LayoutPart, measures: list[str]) -> _Wide:
    blank = _not_scoped("actions", "in_eu", ctx, measures, "which decisions apply in the EU")
    if blank is not None:
        return blank
    lay = ctx.layout
    act = ctx.pack.actions
    eu, unknown = ctx.eu("actions")
    own = _flag(act["detection_source"], lay.detection, "flow", "own_initiative")
    measure = _flag(act["action"], lay.actions, "measure", True)
    ground = _ground(lay, act)
    base = eu & own & measure & ctx.within(act["actioned_at"])
    sel = base & (ground == part.ground)
    source = act.get("source_category")
    ev = _categorise(lay, lay.part_codes(part), act["category"], source).assign(scope="")
    ev["own.measures"] = sel.astype(int)
    auto_detect = _flag(act["detection_source"], lay.detection, "automated_detection", True)
    solely = _flag(act["decision_by"], lay.decision_by, "automation", "solely")
    ev["own.solely_automated"] = (sel & auto_detect & solely).astype(int)
    status: dict[str, tuple[str, str]] = {}
    notes: dict[str, list[str]] = {"own.measures": []}
    for m in measures:
        if not m.startswith(RESTRICTION_PREFIX):
            continue
        actions = lay.restriction_actions(m)
        if not actions:
            status[m] = (
                NOT_AVAILABLE,
                "No riskkit action is a restriction of this type (dsa-transparency-mapping, actions): the data "
                "contract cannot record it.",
            )
            continue
        ev[m] = (sel & _lookup(act["action"], dict.fromkeys(actions, True), False).astype(bool)).astype(int)
    if unknown:
        notes["own.measures"].append(f"{unknown} decision(s) with unknown EU scope (in_eu empty) are left out.")
    if "decision_ground" not in act:
        notes["own.measures"].append("The pack has no decision_ground: each harm's default ground is used.")
    elif act["decision_ground"].isna().any():
        blank = int((base & act["decision_ground"].isna().to_numpy()).sum())
        if blank:
            notes["own.measures"].append(f"{blank} decision(s) without decision_ground take the harm's default.")
    unplaced = int((sel & ev["cat"].isna().to_numpy()).sum())
    if unplaced:
        notes["own.measures"].append(f"{unplaced} measure(s) whose category this part does not have are in TOTAL only.")
    return _Wide(ev[sel], status, notes)


def _assemble_wide(ctx: _Context, part: LayoutPart, period: str, wide: _Wide, filled: list[str]) -> pd.DataFrame:
    """The template rows of a category part with the measures aggregated onto them."""
    lay = ctx.layout
    ev = wide.events
    counts = [m for m in filled if _column(part, m).type == "count"]
    medians = [m for m in filled if _column(part, m).type == "hours"]
    other_descs = (
        ev.loc[(ev["kw"] == _OTHER) & (ev["desc"] != ""), ["cat", "desc"]].drop_duplicates().sort_values("desc")
        if len(ev)
        else pd.DataFrame(columns=["cat", "desc"])
    )
    skeleton = _skeleton(lay, part, wide.scopes, other_descs)
    agg = _aggregate(ev, counts, medians)
    table = skeleton.merge(agg, on=["scope", "level", "cat", "kw", "desc"], how="left")
    if wide.category_rows is not None:
        table.loc[table["level"] != "total", counts + medians] = np.nan
        zero_rows = table["level"] == "total"
    else:
        zero_rows = pd.Series(True, index=table.index)
    out = pd.DataFrame(index=table.index)
    first_total = table.index[(table["level"] == "total")][0]
    for col in part.columns:
        if col.role == "applicability":
            out[col.header] = lay.applicability_text(part.applicability or "all")
        elif col.role == "service":
            out[col.header] = ctx.settings.service_name
        elif col.role == "period":
            out[col.header] = period
        elif col.role == "category":
            out[col.header] = table["code"]
        elif col.role == "other_description":
            out[col.header] = table["desc"]
        elif col.role == "scope":
            out[col.header] = table["scope"]
        elif col.role == "value":
            m = col.measure or ""
            if m in counts:
                values = table[m].where(~(table[m].isna() & zero_rows), 0)
                out[col.header] = _cells(values, "count")
            elif m in medians:
                out[col.header] = _cells(table[m].round(lay.format.hours_decimals), "hours")
            else:
                out[col.header] = None
        elif col.role == "context":
            m = col.explains or ""
            text = _method(ctx, m, wide.notes) if m in filled else wide.status.get(m, ("", ""))[1]
            out[col.header] = None
            out.loc[first_total, col.header] = text or None
    return out.reset_index(drop=True)


def _column(part: LayoutPart, measure: str) -> LayoutColumn:
    return next(c for c in part.columns if c.measure == measure)


def _skeleton(layout: Layout, part: LayoutPart, scopes: list[str], other_descs: pd.DataFrame) -> pd.DataFrame:
    """One record per template row: scope block, level (total/category/keyword), category, keyword, description."""
    extra = {cat: list(group["desc"]) for cat, group in other_descs.groupby("cat", sort=False)}
    rows: list[tuple[str, str, str, str, str, str]] = []
    for scope in scopes:
        rows.append((scope, "total", "", "", "", _TOTAL))
        for number in part.categories:
            high = layout.high_level[str(number)]
            rows.append((scope, "category", high.code, "", "", high.code))
            for kw in layout.keyword_rows(high.code):
                if kw.code == _OTHER:
                    descs = extra.get(high.code) or [""]
                    rows.extend((scope, "keyword", high.code, _OTHER, d, _OTHER) for d in descs)
                else:
                    rows.append((scope, "keyword", high.code, kw.code, "", kw.code))
    return pd.DataFrame(rows, columns=["scope", "level", "cat", "kw", "desc", "code"])


def _aggregate(ev: pd.DataFrame, counts: list[str], medians: list[str]) -> pd.DataFrame:
    """Sums and pooled medians at keyword, category and TOTAL level (TOTAL also holds unplaced items)."""
    values = counts + medians
    keys = ["scope", "level", "cat", "kw", "desc"]
    if ev.empty or not values:
        return pd.DataFrame(columns=keys + values)

    def level(by: list[str], name: str) -> pd.DataFrame:
        frame = ev if by == ["scope"] else ev[ev["cat"].notna()]
        g = frame.groupby(by, sort=False, dropna=False)
        out = g[counts].sum() if counts else pd.DataFrame(index=g.size().index)
        if medians:
            out = out.join(g[medians].median())
        out = out.reset_index()
        for k in keys:
            if k not in out:
                out[k] = ""
        out["level"] = name
        return out

    parts = [
        level(["scope", "cat", "kw", "desc"], "keyword"),
        level(["scope", "cat"], "category"),
        level(["scope"], "total"),
    ]
    return pd.concat(parts, ignore_index=True)[keys + values]


def _cells(values: pd.Series, kind: str) -> pd.Series:
    """Typed cells in an object column: int for counts, float for hours and ratios, None for blanks (a numeric
    dtype would turn a count column with blanks into floats, written 3.0)."""
    convert = int if kind == "count" else float
    return pd.Series([None if pd.isna(v) else convert(v) for v in values], index=values.index, dtype=object)


# ------------------------------------------------------------------------------------------------ Part 2


def _category_list(ctx: _Context, part: LayoutPart) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    lay = ctx.layout
    cats = pd.DataFrame(
        [(c.template_label, c.template_description, c.code, c.parent or "", c.number) for c in lay.categories],
        columns=["label", "description", "code", "parent", "number"],
    )
    harms = pd.DataFrame([(h, d.category, d.keyword) for h, d in lay.harms.items()], columns=["harm", "cat", "kw"])
    high = harms.groupby("cat")["harm"].agg(", ".join)
    keyword = harms.groupby(["cat", "kw"])["harm"].agg(", ".join)
    is_high = cats["parent"] == ""
    high_text = cats["code"].map(high)
    kw_index = pd.MultiIndex.from_arrays([cats["parent"], cats["code"]])
    kw_text = pd.Series(keyword.reindex(kw_index).to_numpy(), index=cats.index)
    crosswalk = np.where(is_high, high_text, kw_text)
    context = pd.Series(crosswalk, index=cats.index).map(
        lambda v: None if not isinstance(v, str) else f"riskkit harm keys reported here: {v}"
    )
    context.iloc[0] = (
        "riskkit reports each decision under one category: the DSA category its statement of reasons gave "
        "(actions.source_category) when the pack keeps one, else the one its riskkit harm key maps to "
        "(dsa-transparency-mapping)."
    )
    roles = {c.role: c.header for c in part.columns}
    table = pd.DataFrame(
        {
            roles["category_label"]: cats["label"],
            roles["category_description"]: cats["description"],
            roles["category_code"]: cats["code"],
            roles["context"]: context,
        }
    )
    coverage = [
        _cov(part, "Category label, description and code", FILLED, "The template's category list."),
        _cov(
            part,
            roles["context"],
            FILLED,
            "How riskkit's harm keys map onto the categories (dsa-transparency-mapping).",
        ),
    ]
    return table.astype(object).where(table.notna(), None), coverage


# ------------------------------------------------------------------------------------------------ long parts


def _long_part(ctx: _Context, part: LayoutPart, period: str) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """The rows of a long part, their coverage, and each row's measure type (the workbook types its cells)."""
    lay = ctx.layout
    records: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []
    types: list[str] = []
    for row in (r for r in lay.rows if r.part == part.number):
        codes: list[str | None]
        if row.expand == "languages":
            codes = list(lay.languages)
        elif row.expand == "member_states":
            codes = [c for c, _iso in lay.member_states if c in ctx.settings.member_states]
        else:
            codes = [None]
        status, why, value = _long_value(ctx, row)
        for code in codes:
            scope = code if code is not None else row.scope
            cells = {
                "applicability": lay.applicability_text(row.applicability),
                "service": ctx.settings.service_name,
                "period": period,
                "section": row.section,
                "indicator": row.indicator,
                "scope": scope,
                "value": value if status == FILLED else None,
                "context": why,
            }
            records.append({c.header: cells.get(c.role) for c in part.columns})
            types.append(row.type)
        name = (row.indicator or "").strip()
        if row.expand:
            name += f" — {'languages' if row.expand == 'languages' else 'Member States'} ({codes[0]} … {codes[-1]})"
        elif row.scope:
            name += f" — {row.scope.strip()}"
        coverage.append(_cov(part, name, status, why))
    table = pd.DataFrame(records, columns=part.headers)
    return table.astype(object).where(table.notna(), None), coverage, types


def _long_value(ctx: _Context, row: RowSpec) -> tuple[str, str, Any]:
    """(status, why or method, value) of one row of a long part."""
    blocked = ctx.applicability(row.applicability, row.applies)
    if blocked is not None and blocked[0] == NOT_APPLICABLE:
        return blocked[0], blocked[1], None
    why = ctx.layout.unavailable_why(row.measure)
    if why is not None:
        return NOT_AVAILABLE, why, None
    compute = _LONG_MEASURES.get(row.measure.split(".")[0])
    if compute is None:  # a custom layout put a category measure on a row: riskkit computes it per category only
        return NOT_AVAILABLE, f"riskkit computes {row.measure} in its category part, not as a single row.", None
    result = compute(ctx, row)
    if isinstance(result, _Missing):
        return NOT_AVAILABLE, result.why, None
    if blocked is not None:  # computable, but whether the row applies is unknown
        return blocked[0], blocked[1], None
    value, notes = result
    method = ctx.layout.method(row.measure)
    if row.type in ("hours", "ratio"):
        fmt = ctx.layout.format
        if value is None:
            notes = [*notes, "No event in the period, so no median."]
        else:
            value = round(float(value), fmt.hours_decimals if row.type == "hours" else fmt.ratio_decimals)
    return FILLED, " ".join([method, *notes]).strip(), value


@dataclass(frozen=True)
class _Missing:
    why: str


def _identification(ctx: _Context, row: RowSpec) -> tuple[Any, list[str]] | _Missing:
    m = row.measure
    if m == "id.provider_name":
        if ctx.settings.provider_name is None:
            return _Missing("datapack.yaml has no eu.provider_name.")
        return ctx.settings.provider_name, []
    if m == "id.publication_date":
        if ctx.publication is None:
            return _Missing("Not given: pass the publication date (--publication-date) when the report is published.")
        return f"{ctx.publication:{ctx.layout.format.date_format}}", []
    if m == "id.previous_publication_date":
        if ctx.previous is None:
            return _Missing("Not given: blank for a first report; otherwise pass it (--previous-publication-date).")
        return f"{ctx.previous:{ctx.layout.format.date_format}}", []
    if m == "id.period_start":
        return f"{ctx.start:{ctx.layout.format.date_format}}", []
    return f"{ctx.end - pd.Timedelta(days=1):{ctx.layout.format.date_format}}", []


def _qualitative(ctx: _Context, row: RowSpec) -> tuple[Any, list[str]] | _Missing:
    text = ctx.settings.qualitative.get(row.key or "")
    if text is None:
        return _Missing(f"datapack.yaml has no eu.qualitative.{row.key} text.")
    return text, []


def _appeals(ctx: _Context) -> pd.DataFrame | _Missing:
    """EU appeals with what the appealed decision was (cached)."""
    if "appeals" not in ctx._cache:
        why = ctx.missing("appeals") or ctx.missing("actions", "in_eu")
        if why is not None:
            ctx._cache["appeals"] = _Missing(why + " Complaints about EU decisions cannot be told apart.")
        else:
            lay = ctx.layout
            ap = ctx.pack.tables["appeals"]
            linked = _linked(ctx, "appeals")
            eu = linked["in_eu"].fillna(False).to_numpy(dtype=bool)
            basis = pd.Series(_lookup(linked["action"], {a: d.complaint_basis for a, d in lay.actions.items()}))
            tf = _lookup(linked["detection_source"], {"trusted_flagger": True}, False).astype(bool)
            notice = _flag(linked["detection_source"], lay.detection, "flow", "notice")
            no_action = (basis == "no_action").to_numpy()
            basis = np.where(
                no_action,
                np.where(tf, "no_action_trusted_flagger", np.where(notice, "no_action_notice", "none")),
                basis.fillna("none").to_numpy(),
            )
            outcome = pd.Series(
                _lookup(ap["outcome"], {o: d.complaint_outcome for o, d in lay.appeal_outcomes.items()})
            )
            ctx._cache["appeals"] = pd.DataFrame(
                {
                    "eu": eu,
                    "unknown": linked["in_eu"].isna().to_numpy(),
                    "filed": ctx.within(ap["filed_at"]),
                    "decided": ctx.within(ap["decided_at"]) & outcome.isin(["upheld", "reversed"]).to_numpy(),
                    "outcome": outcome.to_numpy(),
                    "hours": _hours(ap["decided_at"], ap["filed_at"]),
                    "basis": basis,
                    "no_action": no_action,
                }
            )
    return ctx._cache["appeals"]


def _complaints(ctx: _Context, row: RowSpec) -> tuple[Any, list[str]] | _Missing:
    ap = _appeals(ctx)
    if isinstance(ap, _Missing):
        return ap
    basis = row.filter.get("basis")
    if basis is not None and basis in ("provision", "monetary"):
        return _Missing(
            "No riskkit action restricts the provision of the service or monetisation, so the data contract cannot "
            "record such decisions or complaints about them."
        )
    sel = ap["eu"].to_numpy() & (ap["basis"].to_numpy() == basis if basis else True)
    kind = row.measure.split(".")[1]
    notes = []
    if kind == "total" and not basis and int(ap["unknown"].sum()):
        notes.append(f"{int(ap['unknown'].sum())} appeal(s) of decisions with unknown EU scope are left out.")
    if kind == "total":
        return int((sel & ap["filed"].to_numpy()).sum()), notes
    decided = sel & ap["decided"].to_numpy()
    if kind in ("upheld", "reversed"):
        return int((decided & (ap["outcome"].to_numpy() == kind)).sum()), notes
    if kind == "median_hours":
        hours = ap["hours"].to_numpy()[decided]
        return (float(np.median(hours)) if len(hours) else None), notes
    if kind == "new_restrictions":
        return int((decided & ap["no_action"].to_numpy() & (ap["outcome"].to_numpy() == "reversed")).sum()), notes
    raise AssertionError(f"unhandled measure {row.measure}")


def _automation(ctx: _Context, row: RowSpec) -> tuple[Any, list[str]] | _Missing:
    lay = ctx.layout
    kind = row.measure.split(".")[1]
    if kind.startswith("measures"):
        why = ctx.missing("actions", "in_eu")
        if why is not None:
            return _Missing(why + " The pack does not say which decisions apply in the EU.")
        act = ctx.pack.actions
        eu, _unknown = ctx.eu("actions")
        if "automation.actions" not in ctx._cache:
            ctx._cache["automation.actions"] = (
                eu & _flag(act["action"], lay.actions, "measure", True) & ctx.within(act["actioned_at"]),
                _flag(act["detection_source"], lay.detection, "flow", "own_initiative"),
                _lookup(act["decision_by"], {k: d.automation for k, d in lay.decision_by.items()}),
            )
        sel, own, automation = ctx._cache["automation.actions"]
        if row.filter.get("flow") == "own_initiative":
            sel = sel & own
    else:
        why = ctx.missing("reports", "in_eu", "action_id")
        if why is not None:
            return _Missing(why + " EU notices cannot be linked to how they were processed.")
        rep = ctx.pack.tables["reports"]
        eu, _unknown = ctx.eu("reports")
        sel = eu & ctx.within(rep["received_at"])
        if row.filter.get("notices") == "trusted_flagger":
            sel &= _flag(rep["reporter_type"], lay.reporters, "notice", "trusted_flagger")
        linked = _linked(ctx, "reports")["decision_by"]
        automation = _lookup(linked, {k: d.automation for k, d in lay.decision_by.items()})
    want = "solely" if kind.endswith("solely") else "none"
    partial = int((sel & (automation == "partial")).sum())
    notes = [f"{partial} partly automated (hybrid) decision(s) are in neither row."] if partial else []
    if not kind.startswith("measures"):
        unlinked = int((sel & pd.isna(automation)).sum())
        if unlinked:
            notes.append(f"{unlinked} notice(s) without a linked decision are in neither row.")
    return int((sel & (automation == want)).sum()), notes


#: Measure family -> how a long part's row computes it.
_LONG_MEASURES = {
    "id": _identification,
    "complaints": _complaints,
    "automation": _automation,
    "qualitative": _qualitative,
}


# ------------------------------------------------------------------------------------------------ writing


def write(report: TransparencyReport, out: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write the CSV parts, the XLSX, coverage.csv, the HTML review page and provenance.json into ``out``.

    Refuses a non-empty ``out`` unless ``overwrite``; everything is written into a sibling temporary folder that
    replaces ``out`` only when complete, so a failure leaves nothing partial behind.
    """
    from riskkit.reports.dsa_transparency_html import render

    target = check_out(out, overwrite=overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
        work.mkdir()  # (not mkdtemp: the published folder keeps the user's umask, not 0700)
    except OSError as exc:
        raise ParameterError(f"--out {target}: cannot write there ({exc.strerror or exc})") from None
    try:
        names = []
        for number, table in sorted(report.parts.items()):
            name = report.file_name(number)
            # The formula-safe CSV writer gives exactly the template's dialect: RFC 4180, UTF-8, CRLF, the header
            # row as the layout writes it (byte for byte), text cells starting a formula prefixed with '.
            write_csv(table, work / name, bom=report.layout.format.bom)
            names.append(name)
        write_xlsx(report, work / report.workbook_name)
        write_csv(report.coverage, work / "coverage.csv")
        (work / "review.html").write_text(render(report), encoding="utf-8")
        provenance = {
            "riskkit": __version__,
            "template": "Implementing Regulation (EU) 2024/2835, Annex I",
            "frameworks": report.layout.versions,
            "platform": report.platform,
            "service": report.settings.service_name,
            "provider_type": report.settings.provider_type,
            "cycle": report.cycle.id,
            "period": report.period,
            "pack_as_of": report.as_of.isoformat(),
            "coverage": report.coverage_counts(),
            "notes": report.notes,
            "files": [*names, report.workbook_name, "coverage.csv", "review.html"],
        }
        (work / "provenance.json").write_text(json.dumps(provenance, indent=2, ensure_ascii=False), encoding="utf-8")
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{work.name.rsplit('-', 1)[-1]}"
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except (OSError, DocumentError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ParameterError(f"--out {target}: writing failed ({why}); nothing was written") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return sorted(target.iterdir())


def check_out(out: str | Path, *, overwrite: bool = False) -> Path:
    """The output folder, or :class:`ParameterError` if it is a file, or not empty without ``overwrite``."""
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"--out {target}: exists and is not a folder")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise ParameterError(f"--out {target}: exists and is not empty; pass --overwrite to replace it")
    return target


_KIND_KEY = "__riskkit_kind__"  # a column of the sheet frames giving each row's cell kind (never written)


def write_xlsx(report: TransparencyReport, path: str | Path) -> Path:
    """The workbook: riskkit's cover, then one sheet per part named as in the Commission's XLSX template (bold frozen
    header row with the template's headers, data from row 2, typed cells), then the coverage."""
    sheets = []
    for number, table in sorted(report.parts.items()):
        part = report.layout.parts[number]
        frame = table.copy()
        types = report.row_types.get(number)
        if types is not None:
            frame[_KIND_KEY] = [_XLSX_KIND[t] for t in types]
        columns = [_xlsx_column(c, types is not None) for c in part.columns]
        sheets.append(Sheet(part.sheet, f"Part {number}: {part.label.en}", frame, columns))
    coverage = [Column(c, c, "integer" if c == "part" else "text") for c in COVERAGE_COLUMNS]
    sheets.append(Sheet("coverage", "Coverage of every field", report.coverage, coverage))
    return write_workbook(path, _cover(report), sheets)


def _xlsx_column(col: LayoutColumn, per_row: bool) -> Column:
    if col.role != "value":
        return Column(col.header, col.header)
    if per_row:  # a long part's Value column holds counts, hours, dates and texts, row by row
        return Column(col.header, col.header, kinds=_KIND_KEY)
    return Column(col.header, col.header, _XLSX_KIND[col.type or "count"])  # type: ignore[arg-type]


def _cover(report: TransparencyReport) -> Cover:
    s = report.settings
    counts = report.coverage_counts()
    fields = [
        ("Report", "DSA harmonised transparency report (Implementing Regulation (EU) 2024/2835, Annex I)"),
        ("Service", s.service_name),
        ("Provider", s.provider_name or "not declared (eu.provider_name)"),
        ("Provider type", s.provider_type or "not declared (eu.provider_type)"),
        ("Reporting period", f"{report.period} (UTC)"),
        ("Platform (data pack)", report.platform),
        ("Data as of", report.as_of.isoformat()),
        ("riskkit version", __version__),
        ("Frameworks", ", ".join(f"{k} {v}" for k, v in report.layout.versions.items())),
        ("Coverage", ", ".join(f"{n} {status}" for status, n in counts.items())),
        (
            "To publish",
            "The CSV parts next to this workbook are the files in the Commission's format; the sheets after this cover "
            "hold the same tables, named as in its XLSX template. Blank cells are fields not available or not "
            "applicable: the reason is in the contextual column and on the coverage sheet.",
        ),
        *(("Note", note) for note in report.notes),
    ]
    return Cover(fields)


def summary_lines(report: TransparencyReport) -> Sequence[str]:
    """What the CLI prints after an export."""
    counts = report.coverage_counts()
    lines = [
        f"{report.settings.service_name or report.platform} — DSA transparency report {report.period} "
        f"({report.settings.provider_type or 'provider type not declared'})",
        "coverage: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
    ]
    return [*lines, *report.notes]
