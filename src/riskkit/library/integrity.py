"""Cross-reference checks over a whole library: what no single file's schema can see.

Every reference ``framework-id:ref_id`` must resolve; the harm taxonomy must map every harm key to every listed
instrument; clocks must name timestamp columns of the data contract; checklist items must cite loaded frameworks or
declared standards and test registered metrics; the risk methodology must use registered metrics and known audits; the DSA transparency mapping must fill the
layout's measures with the layout's categories and restriction columns.
All problems are collected and reported together.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskkit import schema
from riskkit.library.models import SINGLE_KINDS, Checklist, Header, Instrument, is_reference

if TYPE_CHECKING:
    from riskkit.library import Library


def check(lib: Library) -> list[str]:
    """Every cross-reference problem of ``lib`` (empty when it is consistent)."""
    problems: list[str] = []
    for kind in SINGLE_KINDS:
        found = [fw for fw in lib.frameworks.values() if fw.kind == kind]
        if len(found) != 1:
            where = ", ".join(str(lib.paths[fw.id]) for fw in found) or "none"
            problems.append(f"expected exactly one framework of kind {kind!r}, found: {where}")
    for fw in lib.frameworks.values():
        _unique_refs(fw, lib.paths[fw.id], problems)
        _references(lib, fw, lib.paths[fw.id], problems)
    audits: dict[str, Path] = {}
    for fw in lib.frameworks.values():
        if isinstance(fw, Checklist):
            path = lib.paths[fw.id]
            if fw.audit in audits:
                problems.append(f"{path}: top level: field 'audit': {fw.audit!r} is already used by {audits[fw.audit]}")
            audits.setdefault(fw.audit, path)
            _checklist(lib, fw, path, problems)
    if not problems:  # the checks below rely on exactly one framework of each single kind
        _taxonomy(lib, problems)
        _clocks(lib, problems)
        _thresholds(lib, problems)
        _metrics(lib, problems)
        _risk(lib, set(audits), problems)
        _targets(lib, problems)
        _dsa_transparency(lib, problems)
    return problems


def dangling(lib: Library, ref: str) -> str | None:
    """Why ``framework-id:ref_id`` does not resolve, or None if it does."""
    if not is_reference(ref):
        return "must be written framework-id:ref_id"
    fw_id, ref_id = ref.split(":", 1)
    if fw_id not in lib.frameworks:
        return f"no framework {fw_id!r} is loaded"
    if lib.frameworks[fw_id].find(ref_id) is None:
        return f"framework {fw_id!r} has no entry {ref_id!r}"
    return None


def _unique_refs(fw: Header, path: Path, problems: list[str]) -> None:
    seen: dict[str, str] = {}
    for section, entries in fw.sections().items():
        for i, e in enumerate(entries):
            if e.ref_id in seen:
                where = "in the same section" if seen[e.ref_id] == section else f"(also in section {seen[e.ref_id]!r})"
                problems.append(f"{path}: entry {e.ref_id!r} ({section}[{i}]): duplicate ref_id {where}")
            seen.setdefault(e.ref_id, section)


def _references(lib: Library, fw: Header, path: Path, problems: list[str]) -> None:
    if isinstance(fw, Instrument):
        if fw.issued_under and (why := dangling(lib, fw.issued_under)):
            problems.append(f"{path}: top level: field 'issued_under': {fw.issued_under!r}: {why}")
        for ob in fw.obligations:
            for ref in ob.implements:
                if why := dangling(lib, ref):
                    problems.append(f"{path}: entry {ob.ref_id!r}: field 'implements': {ref!r}: {why}")
        obligations = {ob.ref_id for ob in fw.obligations}
        for d in fw.dates:
            if d.obligation not in obligations:
                problems.append(
                    f"{path}: entry {d.ref_id!r}: field 'obligation': {d.obligation!r} is not an obligation of {fw.id!r}"
                )
            if d.anchor in ("in_force", "published") and getattr(fw, d.anchor) is None:
                problems.append(f"{path}: entry {d.ref_id!r}: field 'anchor': {fw.id!r} has no {d.anchor} date")
        with_basis = [ob.ref_id for ob in fw.obligations if ob.basis is not None]
        if with_basis:
            for ob in fw.obligations:
                if ob.basis is None:
                    problems.append(
                        f"{path}: entry {ob.ref_id!r}: field 'basis': missing (other obligations of {fw.id!r} say "
                        "whether the draft or the final text attests them; say it for every one)"
                    )
        for ob in fw.obligations:
            if ob.in_force is not None and fw.in_force is not None and ob.in_force < fw.in_force:
                problems.append(
                    f"{path}: entry {ob.ref_id!r}: field 'in_force': {ob.in_force} is before the instrument's "
                    f"in_force {fw.in_force}"
                )
        for h in fw.harms:
            for key in ("renamed_to", "renamed_from"):
                value = getattr(h, key)
                if value is not None and fw.find(value) is None:
                    problems.append(
                        f"{path}: entry {h.ref_id!r}: field {key!r}: {value!r} is not an entry of {fw.id!r}"
                    )
    clocks = getattr(fw, "clocks", None) or []
    for c in clocks:
        if c.implements and (why := dangling(lib, c.implements)):
            problems.append(f"{path}: entry {c.ref_id!r}: field 'implements': {c.implements!r}: {why}")


def _checklist(lib: Library, fw: Checklist, path: Path, problems: list[str]) -> None:
    domains = {d.ref_id for d in fw.domains}
    external = {s.ref_id for s in fw.external_standards}
    registered = lib.metric_ids() if _single(lib, "metric_registry") else None
    for item in fw.items:
        here = f"{path}: entry {item.ref_id!r}"
        if item.domain not in domains:
            problems.append(
                f"{here}: field 'domain': {item.domain!r} is not a declared domain: {', '.join(sorted(domains))}"
            )
        for key, refs in item.references.items():
            if key in lib.frameworks:
                for ref in refs:
                    if why := dangling(lib, f"{key}:{ref}"):
                        problems.append(f"{here}: field 'references.{key}': {ref!r}: {why}")
            elif key not in external:
                problems.append(
                    f"{here}: field 'references': {key!r} is neither a loaded framework nor declared in "
                    "external_standards"
                )
        test = item.data_test
        if test is not None and registered is not None and test.metric not in registered:
            problems.append(f"{here}: field 'data_test.metric': {test.metric!r} is not a registered metric")


def _single(lib: Library, kind: str) -> bool:
    return sum(fw.kind == kind for fw in lib.frameworks.values()) == 1


def _taxonomy(lib: Library, problems: list[str]) -> None:
    tax = lib.taxonomy
    path = lib.paths[tax.id]
    targets: dict[str, set[str]] = {}
    for inst in tax.instruments:
        target = lib.frameworks.get(inst)
        if not isinstance(target, Instrument) or not target.harms:
            problems.append(f"{path}: top level: field 'instruments': {inst!r} is not a loaded instrument with harms")
        else:
            targets[inst] = {h.ref_id for h in target.harms}
    if tax.priority_from not in tax.instruments:
        problems.append(
            f"{path}: top level: field 'priority_from': {tax.priority_from!r} is not one of the instruments"
        )
    keys = [e.ref_id for e in tax.harms]
    for key in schema.HARM_CATEGORIES:
        if key not in keys:
            problems.append(f"{path}: top level: field 'harms': harm key {key!r} of the data contract is missing")
    for e in tax.harms:
        here = f"{path}: entry {e.ref_id!r}"
        for inst in sorted(set(e.maps_to) - set(tax.instruments)):
            problems.append(f"{here}: field 'maps_to.{inst}': not one of the taxonomy's instruments")
        for inst in sorted(set(e.mapping_confidence) - set(tax.instruments)):
            problems.append(f"{here}: field 'mapping_confidence.{inst}': not one of the taxonomy's instruments")
        for inst in tax.instruments:
            refs = e.maps_to.get(inst)
            if refs is None:
                problems.append(f"{here}: field 'maps_to.{inst}': missing (give a list, [] with an unmapped_reason)")
                continue
            if not refs and inst not in e.unmapped_reason:
                problems.append(f"{here}: field 'unmapped_reason.{inst}': maps to nothing in {inst!r} but says not why")
            for ref in refs:
                if inst in targets and ref not in targets[inst]:
                    problems.append(f"{here}: field 'maps_to.{inst}': {ref!r} is not a harm entry of {inst!r}")


def _clocks(lib: Library, problems: list[str]) -> None:
    fw = lib.sla
    path = lib.paths[fw.id]
    for c in fw.clocks:
        here = f"{path}: entry {c.ref_id!r}"
        if c.instrument not in lib.frameworks:
            problems.append(f"{here}: field 'instrument': {c.instrument!r} is not a loaded framework")
        table = schema.TABLES.get(c.table)
        if table is None:
            problems.append(f"{here}: field 'table': {c.table!r} is not a table of the data contract")
            continue
        for key in ("start", "stop"):
            col = getattr(c, key)
            if col not in table.column_names or table.column(col).kind != "timestamp":
                problems.append(f"{here}: field {key!r}: {col!r} is not a timestamp column of table {table.name!r}")
        if c.stop_actions is not None and "action" not in table.column_names:
            problems.append(f"{here}: field 'stop_actions': table {table.name!r} has no 'action' column")
        _clock_readings(c, here, problems)
        _clock_paths(c, here, problems)
    seen: dict[str, str] = {}
    for d in fw.request_deadlines:
        here = f"{path}: entry {d.ref_id!r}"
        if d.instrument not in lib.frameworks:
            problems.append(f"{here}: field 'instrument': {d.instrument!r} is not a loaded framework")
        if d.implements and (why := dangling(lib, d.implements)):
            problems.append(f"{here}: field 'implements': {d.implements!r}: {why}")
        table = schema.TABLES[d.table]
        for key in ("start", "deadline", "stop"):
            col = getattr(d, key)
            if col not in table.column_names or table.column(col).kind != "timestamp":
                problems.append(f"{here}: field {key!r}: {col!r} is not a timestamp column of table {table.name!r}")
        for kind in d.kinds:
            if kind in seen:
                problems.append(f"{here}: field 'kinds': {kind!r} is already judged by {seen[kind]!r}")
            seen.setdefault(kind, d.ref_id)


def _clock_readings(c: Any, here: str, problems: list[str]) -> None:
    """A clock has ``applies_to`` or readings with exactly one default, never both; reading ids are unique."""
    if c.readings is None:
        if c.applies_to is None:
            problems.append(f"{here}: field 'applies_to': missing (a clock without readings says what it applies to)")
        return
    if c.applies_to is not None:
        problems.append(f"{here}: field 'applies_to': a clock with readings takes it from the reading in force")
    defaults = [r.ref_id for r in c.readings if r.default]
    if len(defaults) != 1:
        problems.append(
            f"{here}: field 'readings': exactly one reading must be the default, found {defaults or 'none'}"
        )
    ids = [r.ref_id for r in c.readings]
    for rid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{here}: field 'readings': reading {rid!r} appears more than once")


def _clock_paths(c: Any, here: str, problems: list[str]) -> None:
    """Each path's events name timestamp columns of the contract; a reported path links reports to actions."""
    if c.paths is None:
        return
    if c.table != "actions":
        problems.append(f"{here}: field 'paths': only clocks on decisions (table 'actions') have paths")
    names = [p.path for p in c.paths]
    seen_sources: dict[str, str] = {}
    for i, p in enumerate(c.paths):
        where = f"{here}: field 'paths[{i}]' ({p.path})"
        if names.count(p.path) > 1:
            problems.append(f"{where}: path {p.path!r} appears more than once")
        expected = {"user_reported": "reports", "own_initiative": "actions"}[p.path]
        if p.table != expected:
            problems.append(f"{where}: field 'table': a {p.path} path is measured on {expected!r}, got {p.table!r}")
            continue
        table = schema.TABLES[p.table]
        stop_table = schema.TABLES["actions"]  # the decision: the linked one for reports, the row itself otherwise
        for key, tab, column in (
            ("start", table, p.start),
            ("stop", stop_table, p.stop),
            ("closed_at", table, p.closed_at),
        ):
            if column is not None and (column not in tab.column_names or tab.column(column).kind != "timestamp"):
                problems.append(f"{where}: field {key!r}: {column!r} is not a timestamp column of table {tab.name!r}")
        if p.table == "reports":
            link = [fk for fk in table.foreign_keys if fk.column == p.link and fk.ref_table == "actions"]
            if not link:
                problems.append(f"{where}: field 'link': {p.link!r} is not a reference from reports to actions")
            if (p.closed_at is None) != (p.closed_outcomes is None):
                problems.append(f"{where}: fields 'closed_at' and 'closed_outcomes' go together")
            if p.closed_outcomes and {"actioned", "open"} & set(p.closed_outcomes):
                problems.append(
                    f"{where}: field 'closed_outcomes': 'actioned' and 'open' do not close a report without a decision"
                )
        elif p.link is not None or p.closed_at is not None or p.closed_outcomes is not None:
            problems.append(f"{where}: fields 'link', 'closed_at', 'closed_outcomes' belong to a user_reported path")
        for source in p.detection_sources:
            if source in seen_sources:
                problems.append(
                    f"{where}: field 'detection_sources': {source!r} is already judged by the "
                    f"{seen_sources[source]} path (an item is counted once)"
                )
            seen_sources.setdefault(source, p.path)


def _thresholds(lib: Library, problems: list[str]) -> None:
    fw = lib.thresholds_framework
    for t in fw.thresholds:
        if t.instrument not in lib.frameworks:
            problems.append(
                f"{lib.paths[fw.id]}: entry {t.ref_id!r}: field 'instrument': {t.instrument!r} is not a loaded framework"
            )


def _metrics(lib: Library, problems: list[str]) -> None:
    fw = lib.metric_registry
    path = lib.paths[fw.id]
    templates = [m.ref_id for m in fw.metrics if m.template]
    if len(templates) > 1:
        problems.append(f"{path}: top level: field 'metrics': at most one template entry, got {', '.join(templates)}")
    for m in fw.metrics:
        unknown = [t for t in re.split(r"[+|]", m.table) if t not in schema.TABLES]
        if unknown:
            problems.append(
                f"{path}: entry {m.ref_id!r}: field 'table': {', '.join(map(repr, unknown))} is not a table of the "
                "data contract (tables are joined with + or |)"
            )


def _risk(lib: Library, audits: set[str], problems: list[str]) -> None:
    fw = lib.risk_methodology
    path = lib.paths[fw.id]
    registered = lib.metric_ids()
    for ind in fw.likelihood_indicators:
        if ind.metric not in registered:
            problems.append(f"{path}: entry {ind.ref_id!r}: field 'metric': {ind.metric!r} is not a registered metric")
    for control in (fw.controls.proactive, fw.controls.accuracy):
        if control.metric not in registered:
            problems.append(
                f"{path}: entry {control.ref_id!r}: field 'metric': {control.metric!r} is not a registered metric"
            )
    for audit in sorted(set(fw.controls.audit.audits) - audits):
        problems.append(f"{path}: entry 'audit': field 'audits.{audit}': no checklist for audit {audit!r} is loaded")


def _targets(lib: Library, problems: list[str]) -> None:
    fw = next(f for f in lib.frameworks.values() if f.kind == "targets")
    path = lib.paths[fw.id]
    registered = lib.metric_ids()
    for t in lib.targets:
        if t.metric not in registered:
            problems.append(f"{path}: entry {t.ref_id!r}: field 'metric': {t.metric!r} is not a registered metric")
        if t.dimension == "kind" and t.level not in schema.REQUEST_KINDS:
            problems.append(
                f"{path}: entry {t.ref_id!r}: field 'level': {t.level!r} is not a request kind of the data contract"
            )
        for ref in t.answers:
            if why := dangling(lib, ref):
                problems.append(f"{path}: entry {t.ref_id!r}: field 'answers': {ref!r}: {why}")


def _dsa_transparency(lib: Library, problems: list[str]) -> None:
    """The mapping against the layout: every measure the layout names is described, harm keys land on template
    categories within the taxonomy's DSA mapping, restrictions are columns of the own-initiative parts."""
    layout, mapping = lib.dsa_transparency_layout, lib.dsa_transparency_mapping
    path = lib.paths[mapping.id]
    described = {m.ref_id for m in mapping.measures}
    for measure in sorted(layout.measures_used() - described):
        problems.append(
            f"{path}: top level: field 'measures': {measure!r} (named by {layout.id}) has no entry; add one with a "
            "method, or available: false and why"
        )
    high = {c.code: c for c in layout.high_level().values()}
    sor = lib.frameworks.get(mapping.sor_categories)
    if not isinstance(sor, Instrument) or not sor.harms:
        problems.append(
            f"{path}: top level: field 'sor_categories': {mapping.sor_categories!r} is not a loaded instrument with harms"
        )
    tax = lib.taxonomy
    taxonomy = {e.ref_id: e.maps_to.get(mapping.sor_categories, []) for e in tax.harms}
    if mapping.sor_categories not in tax.instruments:
        taxonomy = {}
    for h in mapping.harms:
        here = f"{path}: entry {h.ref_id!r}"
        if h.category not in high:
            problems.append(f"{here}: field 'category': {h.category!r} is not a high-level category of {layout.id}")
            continue
        keywords = {c.code for c in layout.keyword_rows(h.category)}
        if h.keyword not in keywords:
            problems.append(f"{here}: field 'keyword': {h.keyword!r} is not a sub-category of {h.category!r}")
        if h.harm in taxonomy and h.category not in taxonomy[h.harm]:
            problems.append(
                f"{here}: field 'category': {h.category!r} is not one of the {mapping.sor_categories} categories the "
                f"harm taxonomy maps {h.harm!r} to ({', '.join(taxonomy[h.harm]) or 'none'})"
            )
    own = [p for p in layout.parts if p.ground is not None]
    columns = {c.measure for p in own for c in p.value_columns() if c.measure}
    for a in mapping.actions:
        for r in a.restrictions:
            if r not in columns:
                problems.append(
                    f"{path}: entry {a.ref_id!r}: field 'restrictions': {r!r} is not a column of parts "
                    f"{', '.join(str(p.number) for p in own)} of {layout.id}"
                )
    by_ground = {p.ground: p.number for p in own}
    for g in mapping.grounds:
        if by_ground.get(g.ground) != g.part:
            problems.append(
                f"{path}: entry {g.ref_id!r}: field 'part': {g.part} is not the part of {layout.id} for ground "
                f"{g.ground!r} ({by_ground.get(g.ground, 'none')})"
            )
