"""The framework library: versioned YAML catalogues of regulatory facts, loaded once at an entry point.

Regulatory facts (harm categories, duties, clocks, thresholds, checklists, metric definitions, methodologies,
import mappings) live in ``riskkit/frameworks/*.yaml``, never in code. Each file has a stable ``id``, a ``version``
and a ``kind``; each kind has a schema (:mod:`riskkit.library.models`) checked when the file is read, and the
library as a whole passes the cross-reference checks of :mod:`riskkit.library.integrity`.

:func:`load_library` is called once by each entry point (a CLI command, the runner, a notebook without a saved
result, the explorer) and the :class:`Library` is passed down explicitly; no other module loads it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from riskkit import schema
from riskkit.exceptions import FrameworkError
from riskkit.library import integrity
from riskkit.library.loader import read_framework
from riskkit.library.models import (
    COVERED_BY,
    AuditMethodology,
    Checklist,
    ComplianceMethod,
    DsaImportMapping,
    DsaTransparencyLayout,
    DsaTransparencyMapping,
    Header,
    Instrument,
    MetricRegistry,
    RiskMethodology,
    SlaPolicyFramework,
    Target,
    Targets,
    Taxonomy,
    Threshold,
    Thresholds,
)
from riskkit.library.policy import Clock, SlaPolicy, apply_override, override_problems

__all__ = ["FRAMEWORKS_DIR", "Clock", "Library", "SlaPolicy", "load_library"]

FRAMEWORKS_DIR = Path(__file__).resolve().parent.parent / "frameworks"
LANGUAGES = ("en", "ms")
OBLIGATION_COLUMNS = (
    "framework_id",
    "framework_version",
    "ref_id",
    "section",
    "area",
    "summary_en",
    "summary_ms",
    "covered_by",
    "implements",
    "source",
    "confidence",
    "label_en",
    "label_ms",
)
CHECKLIST_COLUMNS = (
    "audit",
    "framework_id",
    "framework_version",
    "ref_id",
    "domain",
    "domain_label_en",
    "domain_label_ms",
    "question_en",
    "question_ms",
    "references",
    "expected_evidence",
    "test_method",
    "weight",
    "mandatory",
    "applies_if",
    "data_test_metric",
    "data_test_category",
    "data_test_dimension",
    "data_test_level",
    "data_test_operator",
    "data_test_value",
    "data_test_meaning_en",
    "data_test_meaning_ms",
    "source",
    "confidence",
)
F = TypeVar("F", bound=Header)


class Library:
    """Every loaded framework, keyed by id, with the queries the rest of riskkit uses."""

    def __init__(self, frameworks: dict[str, Header], paths: dict[str, Path], custom: Iterable[str] = ()) -> None:
        self.frameworks = frameworks
        self.paths = paths
        self.custom = frozenset(custom)  # ids that came from a user's folder, not the packaged library

    def __repr__(self) -> str:
        return f"Library({self.versions()})"

    # -- frameworks ------------------------------------------------------------------------------------------------

    def get(self, framework_id: str) -> Header:
        """The framework with id ``framework_id``."""
        try:
            return self.frameworks[framework_id]
        except KeyError:
            raise FrameworkError(f"no framework {framework_id!r}; loaded: {', '.join(self.frameworks)}") from None

    def _one(self, model: type[F]) -> F:
        found = [fw for fw in self.frameworks.values() if isinstance(fw, model)]
        if len(found) != 1:
            raise FrameworkError(f"expected exactly one framework of kind {model.__name__}, found {len(found)}")
        return found[0]

    @property
    def taxonomy(self) -> Taxonomy:
        return self._one(Taxonomy)

    @property
    def sla(self) -> SlaPolicyFramework:
        return self._one(SlaPolicyFramework)

    @property
    def thresholds_framework(self) -> Thresholds:
        return self._one(Thresholds)

    @property
    def metric_registry(self) -> MetricRegistry:
        return self._one(MetricRegistry)

    @property
    def risk_methodology(self) -> RiskMethodology:
        return self._one(RiskMethodology)

    @property
    def audit_methodology(self) -> AuditMethodology:
        return self._one(AuditMethodology)

    @property
    def dsa_import(self) -> DsaImportMapping:
        return self._one(DsaImportMapping)

    @property
    def targets(self) -> list[Target]:
        return list(self._one(Targets).targets)

    @property
    def compliance_method(self) -> ComplianceMethod:
        return self._one(ComplianceMethod)

    @property
    def dsa_transparency_layout(self) -> DsaTransparencyLayout:
        return self._one(DsaTransparencyLayout)

    @property
    def dsa_transparency_mapping(self) -> DsaTransparencyMapping:
        return self._one(DsaTransparencyMapping)

    def instruments(self) -> list[Instrument]:
        """Instruments in force order (then id)."""
        found = [fw for fw in self.frameworks.values() if isinstance(fw, Instrument)]
        return sorted(found, key=lambda fw: (str(fw.in_force or ""), fw.id))

    def versions(self) -> dict[str, str]:
        """Framework id -> version, for manifests and report covers."""
        return {fw_id: fw.version for fw_id, fw in sorted(self.frameworks.items())}

    def describe(self) -> pd.DataFrame:
        """One row per framework: id, version, kind, English name and whether it is packaged or custom."""
        rows = [
            {
                "id": fw.id,
                "version": fw.version,
                "kind": fw.kind,
                "name": fw.name.en,
                "origin": "custom" if fw.id in self.custom else "packaged",
            }
            for fw in sorted(self.frameworks.values(), key=lambda f: f.id)
        ]
        return pd.DataFrame(rows, columns=["id", "version", "kind", "name", "origin"])

    # -- harms ----------------------------------------------------------------------------------------------------

    def harm_label(self, key: str, lang: str = "en") -> str:
        """Display label of a riskkit harm key in ``lang`` (en or ms)."""
        if lang not in LANGUAGES:
            raise FrameworkError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
        for e in self.taxonomy.harms:
            if e.ref_id == key:
                return e.label.get(lang)
        raise FrameworkError(f"unknown harm key {key!r}; known: {', '.join(schema.HARM_CATEGORIES)}")

    def harm_labels(self, lang: str = "en") -> dict[str, str]:
        """Harm key -> label, in the data contract's order."""
        return {key: self.harm_label(key, lang) for key in schema.HARM_CATEGORIES}

    def harm_mapping(self, instrument_id: str) -> dict[str, list[str]]:
        """riskkit harm key -> ref_ids of the instrument's harm entries (HARM_CATEGORIES order)."""
        tax = self.taxonomy
        if instrument_id not in tax.instruments:
            raise FrameworkError(f"the harm taxonomy has no mapping to {instrument_id!r}; mapped: {tax.instruments}")
        by_key = {e.ref_id: e for e in tax.harms}
        return {key: list(by_key[key].maps_to.get(instrument_id, [])) for key in schema.HARM_CATEGORIES}

    def priority_harms(self) -> tuple[str, ...]:
        """Harm keys mapped to a ``priority: true`` item of the taxonomy's ``priority_from`` instrument."""
        instrument = self.get(self.taxonomy.priority_from)
        assert isinstance(instrument, Instrument)
        priority = {h.ref_id for h in instrument.harms if h.priority}
        mapping = self.harm_mapping(instrument.id)
        return tuple(key for key, refs in mapping.items() if priority.intersection(refs))

    # -- obligations ----------------------------------------------------------------------------------------------

    def obligations(self, instrument_id: str | None = None, covered_by: str | None = None) -> pd.DataFrame:
        """Obligations of every instrument (or one), optionally only those evidenced by ``covered_by``."""
        if covered_by is not None and covered_by not in COVERED_BY:
            raise FrameworkError(f"unknown covered_by {covered_by!r}; use one of {', '.join(COVERED_BY)}")
        frameworks = [self.get(instrument_id)] if instrument_id is not None else self.instruments()
        rows = []
        for fw in frameworks:
            for ob in getattr(fw, "obligations", []):
                if covered_by is not None and covered_by not in ob.covered_by:
                    continue
                rows.append(
                    {
                        "framework_id": fw.id,
                        "framework_version": fw.version,
                        "ref_id": ob.ref_id,
                        "section": ob.section,
                        "area": ob.area,
                        "summary_en": ob.summary.en,
                        "summary_ms": ob.summary.ms,
                        "covered_by": ";".join(ob.covered_by),
                        "implements": ";".join(ob.implements) or None,
                        "source": ob.source,
                        "confidence": ob.confidence,
                        "label_en": ob.label.en,
                        "label_ms": ob.label.ms,
                    }
                )
        return pd.DataFrame(rows, columns=list(OBLIGATION_COLUMNS))

    # -- clocks and thresholds ------------------------------------------------------------------------------------

    def sla_policy(self, overrides: Mapping[str, Any] | None = None) -> SlaPolicy:
        """The SLA clocks, with ``overrides`` (datapack.yaml ``sla_overrides``) applied.

        Raises :class:`FrameworkError` listing every problem of the overrides (unknown clock, bad hours…)."""
        entries = self.sla.clocks
        readings = {c.ref_id: [r.ref_id for r in c.readings or ()] for c in entries}
        problems = override_problems(readings, overrides)
        if problems:
            raise FrameworkError("; ".join(problems))
        clocks = []
        for c in entries:
            override = (overrides or {}).get(c.ref_id)
            chosen = override.get("reading") if override else None
            reading = None
            if c.readings:
                reading = next((r for r in c.readings if r.ref_id == chosen), None) or next(
                    (r for r in c.readings if r.default), c.readings[0]
                )
            applies_to = reading.applies_to if reading is not None else c.applies_to
            clock = Clock(
                ref_id=c.ref_id,
                label_en=c.label.en,
                label_ms=c.label.ms,
                instrument=c.instrument,
                provision=c.provision,
                table=c.table,
                start=c.start,
                stop=c.stop,
                hours=float(c.hours),
                categories=self._resolve(applies_to if applies_to is not None else "all"),
                stop_actions=None if c.stop_actions is None else tuple(c.stop_actions),
                source=c.source,
                confidence=c.confidence,
                paths=tuple(c.paths or ()),
                reading=None if reading is None else reading.ref_id,
                reading_label_en=None if reading is None else reading.label.en,
                reading_label_ms=None if reading is None else reading.label.ms,
                reading_default=reading is None or reading.default,
            )
            clocks.append(apply_override(clock, override) if override else clock)
        return SlaPolicy(tuple(clocks))

    def _resolve(self, applies_to: str | list[str]) -> tuple[str, ...]:
        if applies_to == "all":
            return schema.HARM_CATEGORIES
        if applies_to == "priority":
            return self.priority_harms()
        return tuple(k for k in schema.HARM_CATEGORIES if k in applies_to)

    def threshold(self, ref_id: str) -> Any:
        """The ``value`` of a threshold entry (e.g. ``licence.user_threshold`` -> 8000000)."""
        return self.threshold_entry(ref_id).value

    def threshold_entry(self, ref_id: str) -> Threshold:
        """A threshold with its provision, unit, effective date, source and confidence."""
        for t in self.thresholds_framework.thresholds:
            if t.ref_id == ref_id:
                return t
        raise FrameworkError(f"no threshold {ref_id!r} in {self.thresholds_framework.id}")

    # -- metrics --------------------------------------------------------------------------------------------------

    def metric_ids(self) -> set[str]:
        """Every registered metric id, with one ``sla.<clock>`` per clock of the policy."""
        reg = self.metric_registry
        ids = {m.ref_id for m in reg.metrics if not m.template}
        if any(m.template for m in reg.metrics):
            ids |= {f"sla.{c.ref_id}" for c in self.sla.clocks}
        return ids

    # -- checklists -----------------------------------------------------------------------------------------------

    def checklists(self) -> dict[str, Checklist]:
        """Audit short name (``audits/<audit>.csv``) -> checklist, sorted by audit name."""
        found = {fw.audit: fw for fw in self.frameworks.values() if isinstance(fw, Checklist)}
        return dict(sorted(found.items()))

    def checklist(self, audit: str) -> Checklist:
        """The checklist of ``audit`` (e.g. ``child_safety``)."""
        checklists = self.checklists()
        if audit not in checklists:
            raise FrameworkError(f"no checklist for audit {audit!r}; known: {', '.join(checklists) or 'none'}")
        return checklists[audit]

    def checklist_items(self, audit: str) -> pd.DataFrame:
        """One row per item of the ``audit`` checklist (CHECKLIST_COLUMNS); lists are ';'-joined."""
        fw = self.checklist(audit)
        rows = []
        for item in fw.items:
            domain = fw.domain(item.domain)
            test = item.data_test
            rows.append(
                {
                    "audit": audit,
                    "framework_id": fw.id,
                    "framework_version": fw.version,
                    "ref_id": item.ref_id,
                    "domain": item.domain,
                    "domain_label_en": domain.label.en if domain else None,
                    "domain_label_ms": domain.label.ms if domain else None,
                    "question_en": item.label.en,
                    "question_ms": item.label.ms,
                    "references": ";".join(item.reference_list()),
                    "expected_evidence": ";".join(item.expected_evidence),
                    "test_method": item.test_method,
                    "weight": item.weight,
                    "mandatory": item.mandatory,
                    "applies_if": item.applies_if.text(),
                    "data_test_metric": test.metric if test else None,
                    "data_test_category": test.category if test else None,
                    "data_test_dimension": test.dimension if test else None,
                    "data_test_level": test.level if test else None,
                    "data_test_operator": test.operator if test else None,
                    "data_test_value": float(test.value) if test else None,
                    "data_test_meaning_en": test.meaning.en if test else None,
                    "data_test_meaning_ms": test.meaning.ms if test else None,
                    "source": item.source,
                    "confidence": item.confidence,
                }
            )
        return pd.DataFrame(rows, columns=list(CHECKLIST_COLUMNS))


# --------------------------------------------------------------------------------------------------- loading


def load_library(extra: Iterable[str | Path] | str | Path = ()) -> Library:
    """Load the packaged frameworks, then each ``extra`` file (or folder of .yaml/.yml files).

    An extra framework replaces the packaged one with the same id, or adds a new one. Every file is checked
    against its kind's schema and the library against the cross-reference checks; all problems are raised together
    as one :class:`FrameworkError` (exit 2). The packaged library alone is cached (it is immutable).
    """
    if isinstance(extra, (str, Path)):
        extra = [extra]
    paths = tuple(Path(p) for p in extra)
    return _packaged() if not paths else _load(paths)


@functools.lru_cache(maxsize=1)
def _packaged() -> Library:
    return _load(())


def _load(extra: tuple[Path, ...]) -> Library:
    problems: list[str] = []
    packaged = _read_all(sorted(FRAMEWORKS_DIR.glob("*.yaml")), problems)
    extra_files: list[Path] = []
    for p in extra:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                problems.append(f"{p}: no framework files (*.yaml, *.yml) in this folder")
            extra_files.extend(found)
        elif p.is_file():
            extra_files.append(p)
        else:
            problems.append(f"{p}: no such framework file or folder")
    custom = _read_all(extra_files, problems)
    frameworks: dict[str, Header] = {}
    paths: dict[str, Path] = {}
    for group in (packaged, custom):
        seen: dict[str, Path] = {}
        for fw, path in group:
            if fw.id in seen:
                problems.append(f"{path}: top level: field 'id': {fw.id!r} is already defined by {seen[fw.id]}")
            seen[fw.id] = path
            frameworks[fw.id] = fw
            paths[fw.id] = path
    if problems:
        raise _error(problems)
    library = Library(frameworks, paths, custom=[fw.id for fw, _ in custom])
    problems = integrity.check(library)
    if problems:
        raise _error(problems)
    return library


def _read_all(files: list[Path], problems: list[str]) -> list[tuple[Header, Path]]:
    out = []
    for path in files:
        fw = read_framework(path, problems)
        if fw is not None:
            out.append((fw, path))
    return out


def _error(problems: list[str]) -> FrameworkError:
    noun = "problem" if len(problems) == 1 else "problems"
    err = FrameworkError(f"{len(problems)} {noun} in the framework files:\n" + "\n".join(f"  - {p}" for p in problems))
    err.problems = tuple(problems)
    return err
