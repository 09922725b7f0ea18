"""Load and query the framework library: versioned YAML catalogues of regulatory facts.

Regulatory facts (harm categories, duties, clocks, section numbers) live in ``riskkit/frameworks/*.yaml``, never
in code. Each file has a stable ``id`` and a ``version``; each entry has a stable ``ref_id``, English and Malay
labels, a ``source`` and a ``confidence`` (A = primary text, S = secondary source, U = unverified or inferred).
A team can replace a packaged framework, or add one, by passing its own files to :func:`load_library`.

Any top-level list of mappings in a file is a *section* (``harms``, ``obligations``, ``clocks`` ...). Cross-file
references are written ``framework-id:ref_id`` and are checked by :func:`check_library`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError

FRAMEWORKS_DIR = Path(__file__).with_name("frameworks")
CONFIDENCE_LEVELS = ("A", "S", "U")
LANGUAGES = ("en", "ms")
#: What in riskkit evidences an obligation (the ``covered_by`` vocabulary).
COVERED_BY = (
    "risk_assessment",
    "sbd_audit",
    "child_safety_audit",
    "accessibility_audit",
    "metrics",
    "half_yearly_report",
    "annual_report",
    "record_keeping",
    "online_safety_plan",
)
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
#: How a checklist item is tested (audit-style methods plus ``data``: computed from the data pack).
TEST_METHODS = ("inquiry", "inspection", "observation", "re-performance", "data")
DATA_TEST_OPERATORS = (">=", "<=", "==", ">", "<")
APPLIES_IF_KEYS = ("service_type", "feature_surface", "from")
CHECKLIST_COLUMNS = (
    "audit",
    "framework_id",
    "framework_version",
    "ref_id",
    "domain",
    "domain_label_en",
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
    "data_test_operator",
    "data_test_value",
    "source",
    "confidence",
    "domain_label_ms",
    "data_test_dimension",
    "data_test_level",
    "data_test_meaning_en",
    "data_test_meaning_ms",
)
_DATA_TEST_KEYS = {"metric", "category", "dimension", "level", "operator", "value", "meaning"}
_AUDIT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
_OVERRIDE_KEYS = {"hours", "source", "confidence", "notes"}


@dataclass(frozen=True)
class Entry:
    """One entry of a framework section, e.g. a duty, a harm category or a clock."""

    framework_id: str
    ref_id: str
    label_en: str
    label_ms: str
    source: str
    confidence: str
    data: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` (en or ms)."""
        return self.label_ms if lang == "ms" else self.label_en

    def text(self, key: str, lang: str = "en") -> str:
        """A bilingual field such as ``summary`` or ``description`` in ``lang``; empty if absent."""
        value = self.data.get(key)
        return _text(value.get(lang)) if isinstance(value, dict) else ""


class Framework:
    """One framework file: top-level metadata plus its sections of entries."""

    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.raw = raw
        self.path = path
        self.id = _text(raw.get("id"))
        self.version = _text(raw.get("version"))
        self.kind = _text(raw.get("kind"))
        name = raw.get("name") if isinstance(raw.get("name"), dict) else {}
        self.name_en = _text(name.get("en"))
        self.name_ms = _text(name.get("ms"))
        src = raw.get("source")
        self.sources: list[str] = [src] if isinstance(src, str) else [str(s) for s in src or [] if s]
        self._entries: dict[str, list[Entry]] = {
            key: [_make_entry(self.id, item) for item in value if isinstance(item, dict)]
            for key, value in raw.items()
            if _is_section(value)
        }

    def __repr__(self) -> str:
        return f"Framework({self.id!r}, version={self.version!r}, kind={self.kind!r})"

    @property
    def sections(self) -> list[str]:
        """Names of the sections (top-level lists of entries) in file order."""
        return list(self._entries)

    def entries(self, section: str) -> list[Entry]:
        """Entries of ``section`` in file order."""
        if section in self._entries:
            return list(self._entries[section])
        if self.raw.get(section) == []:
            return []
        raise FrameworkError(f"framework {self.id!r} has no section {section!r}; sections: {self.sections}")

    def get(self, section: str, ref_id: str) -> Entry:
        """The entry ``ref_id`` of ``section``."""
        for entry in self.entries(section):
            if entry.ref_id == ref_id:
                return entry
        raise FrameworkError(f"framework {self.id!r} has no entry {ref_id!r} in section {section!r}")

    def find(self, ref_id: str) -> Entry | None:
        """The entry ``ref_id`` in any section, or None."""
        return next((e for entries in self._entries.values() for e in entries if e.ref_id == ref_id), None)


@dataclass(frozen=True)
class Clock:
    """A response-time clock measured on a data-pack table, from ``start`` to ``stop``."""

    ref_id: str
    label_en: str
    label_ms: str
    instrument: str
    provision: str
    table: str
    start: str
    stop: str
    hours: float
    categories: tuple[str, ...]
    stop_actions: tuple[str, ...] | None
    source: str
    confidence: str
    overridden: bool = False


@dataclass(frozen=True)
class SlaPolicy:
    """The clocks in force for a run (the packaged policy with any data-pack overrides applied)."""

    clocks: tuple[Clock, ...]

    def clock(self, ref_id: str) -> Clock:
        """The clock ``ref_id``."""
        for clock in self.clocks:
            if clock.ref_id == ref_id:
                return clock
        raise FrameworkError(f"no SLA clock {ref_id!r}; known: {', '.join(c.ref_id for c in self.clocks)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per clock; ``categories`` and ``stop_actions`` are ';'-joined."""
        rows = []
        for c in self.clocks:
            row = dict(c.__dict__)
            row["categories"] = ";".join(c.categories)
            row["stop_actions"] = ";".join(c.stop_actions) if c.stop_actions is not None else None
            rows.append(row)
        return pd.DataFrame(rows, columns=list(Clock.__dataclass_fields__))


class Library:
    """All loaded frameworks, keyed by framework id."""

    def __init__(self, frameworks: dict[str, Framework]) -> None:
        self.frameworks = frameworks

    def __repr__(self) -> str:
        return f"Library({self.versions()})"

    def get(self, framework_id: str) -> Framework:
        """The framework with id ``framework_id``."""
        try:
            return self.frameworks[framework_id]
        except KeyError:
            raise FrameworkError(f"no framework {framework_id!r}; loaded: {', '.join(self.frameworks)}") from None

    def _single(self, kind: str) -> Framework:
        problems: list[str] = []
        found = _only(self, kind, problems)
        if found is None:
            raise FrameworkError(problems[0])
        return found

    def harm_label(self, key: str, lang: str = "en") -> str:
        """Display label of a riskkit harm key in ``lang`` (en or ms)."""
        if lang not in LANGUAGES:
            raise FrameworkError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
        taxonomy = self._single("taxonomy")
        if taxonomy.find(key) is None:
            raise FrameworkError(f"unknown harm key {key!r}; known: {', '.join(schema.HARM_CATEGORIES)}")
        return taxonomy.get("harms", key).label(lang)

    def harm_mapping(self, instrument_id: str) -> dict[str, list[str]]:
        """riskkit harm key -> ref_ids of the instrument's harm entries (HARM_CATEGORIES order)."""
        taxonomy = self._single("taxonomy")
        if instrument_id not in taxonomy.raw.get("instruments", []):
            raise FrameworkError(
                f"the harm taxonomy has no mapping to {instrument_id!r}; mapped: {taxonomy.raw.get('instruments')}"
            )
        by_key = {e.ref_id: e for e in taxonomy.entries("harms")}
        return {key: list(by_key[key].data["maps_to"][instrument_id]) for key in schema.HARM_CATEGORIES}

    def priority_harms(self) -> tuple[str, ...]:
        """Harm keys mapped to a ``priority: true`` item of the taxonomy's ``priority_from`` instrument."""
        instrument = self.get(self._single("taxonomy").raw["priority_from"])
        priority = {e.ref_id for e in instrument.entries("harms") if e.data.get("priority") is True}
        mapping = self.harm_mapping(instrument.id)
        return tuple(key for key, refs in mapping.items() if priority.intersection(refs))

    def obligations(self, instrument_id: str | None = None, covered_by: str | None = None) -> pd.DataFrame:
        """Obligations of every instrument (or one), optionally only those evidenced by ``covered_by``."""
        if covered_by is not None and covered_by not in COVERED_BY:
            raise FrameworkError(f"unknown covered_by {covered_by!r}; use one of {', '.join(COVERED_BY)}")
        if instrument_id is not None:
            frameworks = [self.get(instrument_id)]
        else:
            frameworks = [fw for fw in self.frameworks.values() if fw.kind == "instrument"]
            frameworks.sort(key=lambda fw: (str(fw.raw.get("in_force") or ""), fw.id))
        rows = []
        for fw in frameworks:
            for e in fw.entries("obligations") if "obligations" in fw.sections else []:
                cover = list(e.data.get("covered_by") or [])
                if covered_by is not None and covered_by not in cover:
                    continue
                implements = _as_list(e.data.get("implements"))
                section = e.data.get("section")
                rows.append(
                    {
                        "framework_id": fw.id,
                        "framework_version": fw.version,
                        "ref_id": e.ref_id,
                        "section": None if section is None else str(section),
                        "area": e.data.get("area"),
                        "summary_en": e.text("summary", "en"),
                        "summary_ms": e.text("summary", "ms"),
                        "covered_by": ";".join(cover),
                        "implements": ";".join(implements) if implements else None,
                        "source": e.source,
                        "confidence": e.confidence,
                        "label_en": e.label_en,
                        "label_ms": e.label_ms,
                    }
                )
        return pd.DataFrame(rows, columns=list(OBLIGATION_COLUMNS))

    def sla_policy(self, overrides: Mapping[str, Any] | None = None) -> SlaPolicy:
        """The SLA clocks, with ``overrides`` (datapack.yaml ``sla_overrides``) applied.

        ``overrides`` maps clock ref_id -> {hours, source, confidence}. Unknown clock ids and hours that are not
        positive numbers raise :class:`FrameworkError` naming the clock.
        """
        entries = self._single("sla_policy").entries("clocks")
        overrides = {} if overrides is None else overrides
        if not isinstance(overrides, Mapping):
            raise FrameworkError("sla_overrides must map clock ids to {hours, source, confidence}")
        known = [e.ref_id for e in entries]
        problems = [
            f"sla_overrides: unknown clock {cid!r}; known clocks: {', '.join(known)}"
            for cid in overrides
            if cid not in known
        ]
        clocks = []
        for e in entries:
            stop_actions = e.data.get("stop_actions")
            clock = Clock(
                ref_id=e.ref_id,
                label_en=e.label_en,
                label_ms=e.label_ms,
                instrument=e.data["instrument"],
                provision=_text(e.data.get("provision")),
                table=e.data["table"],
                start=e.data["start"],
                stop=e.data["stop"],
                hours=float(e.data["hours"]),
                categories=self._resolve_applies_to(e.data["applies_to"]),
                stop_actions=None if stop_actions is None else tuple(stop_actions),
                source=e.source,
                confidence=e.confidence,
            )
            clocks.append(_override(clock, overrides[e.ref_id], problems) if e.ref_id in overrides else clock)
        if problems:
            raise _error(problems)
        return SlaPolicy(tuple(clocks))

    def _resolve_applies_to(self, applies_to: str | list[str]) -> tuple[str, ...]:
        if applies_to == "all":
            return schema.HARM_CATEGORIES
        if applies_to == "priority":
            return self.priority_harms()
        return tuple(k for k in schema.HARM_CATEGORIES if k in applies_to)

    def threshold(self, ref_id: str) -> Any:
        """The ``value`` of a threshold entry (e.g. ``licence.user_threshold`` -> 8000000)."""
        return self.threshold_entry(ref_id).data["value"]

    def threshold_entry(self, ref_id: str) -> Entry:
        """A threshold with its provision, unit, effective date, source and confidence."""
        return self._single("thresholds").get("thresholds", ref_id)

    def checklists(self) -> dict[str, Framework]:
        """Audit short name (``audits/<audit>.csv``) -> checklist framework, sorted by audit name."""
        found = {_text(fw.raw.get("audit")): fw for fw in self.frameworks.values() if fw.kind == "checklist"}
        return dict(sorted(found.items()))

    def checklist(self, audit: str) -> Framework:
        """The checklist framework of ``audit`` (e.g. ``child_safety``)."""
        checklists = self.checklists()
        if audit not in checklists:
            raise FrameworkError(f"no checklist for audit {audit!r}; known: {', '.join(checklists) or 'none'}")
        return checklists[audit]

    def checklist_items(self, audit: str) -> pd.DataFrame:
        """One row per item of the ``audit`` checklist (CHECKLIST_COLUMNS); lists are ';'-joined."""
        fw = self.checklist(audit)
        domains = {e.ref_id: e for e in fw.entries("domains")}
        rows = []
        for e in fw.entries("items"):
            d = e.data
            test = d.get("data_test") if isinstance(d.get("data_test"), dict) else None
            meaning = (test or {}).get("meaning") if isinstance((test or {}).get("meaning"), dict) else {}
            domain = domains.get(d.get("domain"))
            refs = d.get("references") if isinstance(d.get("references"), dict) else {}
            rows.append(
                {
                    "audit": audit,
                    "framework_id": fw.id,
                    "framework_version": fw.version,
                    "ref_id": e.ref_id,
                    "domain": d.get("domain"),
                    "domain_label_en": domain.label_en if domain else None,
                    "question_en": e.label_en,
                    "question_ms": e.label_ms,
                    "references": ";".join(f"{key}:{ref}" for key, values in refs.items() for ref in _as_list(values)),
                    "expected_evidence": ";".join(str(v) for v in _as_list(d.get("expected_evidence"))),
                    "test_method": d.get("test_method"),
                    "weight": d.get("weight"),
                    "mandatory": d.get("mandatory"),
                    "applies_if": _applies_text(d.get("applies_if")),
                    "data_test_metric": test.get("metric") if test else None,
                    "data_test_category": test.get("category", "all") if test else None,
                    "data_test_operator": test.get("operator") if test else None,
                    "data_test_value": float(test["value"]) if test else None,
                    "source": e.source,
                    "confidence": e.confidence,
                    "domain_label_ms": domain.label_ms if domain else None,
                    "data_test_dimension": test.get("dimension") if test else None,
                    "data_test_level": test.get("level") if test else None,
                    "data_test_meaning_en": _text(meaning.get("en")) or None,
                    "data_test_meaning_ms": _text(meaning.get("ms")) or None,
                }
            )
        return pd.DataFrame(rows, columns=list(CHECKLIST_COLUMNS))

    def versions(self) -> dict[str, str]:
        """Framework id -> version, for run manifests."""
        return {fw_id: fw.version for fw_id, fw in sorted(self.frameworks.items())}


# --- loading ----------------------------------------------------------------------------------------------------


def load_library(extra: Iterable[str | Path] = ()) -> Library:
    """Load the packaged frameworks, then each ``extra`` file (or folder of .yaml/.yml files).

    An extra framework replaces the packaged one with the same id, or adds a new one. The result passes
    :func:`check_library`. The default library (no extras) is cached.
    """
    if isinstance(extra, (str, Path)):
        extra = [extra]
    paths = tuple(Path(p) for p in extra)
    return _default_library() if not paths else _load(paths)


@functools.lru_cache(maxsize=1)
def _default_library() -> Library:
    return _load(())


def _load(extra: tuple[Path, ...]) -> Library:
    problems: list[str] = []
    packaged = [fw for p in sorted(FRAMEWORKS_DIR.glob("*.yaml")) if (fw := _read(p, problems))]
    extra_files: list[Path] = []
    for p in extra:
        if p.is_dir():
            extra_files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        elif p.is_file():
            extra_files.append(p)
        else:
            problems.append(f"{p}: no such framework file or folder")
    extras = [fw for p in extra_files if (fw := _read(p, problems))]
    frameworks: dict[str, Framework] = {}
    for group in (packaged, extras):
        seen: dict[str, Path] = {}
        for fw in group:
            key = fw.id or str(fw.path)
            if key in seen:
                problems.append(f"{fw.path}: framework id {key!r} is already defined by {seen[key]}")
            seen[key] = fw.path
            frameworks[key] = fw
    if problems:
        raise _error(problems)
    library = Library(frameworks)
    check_library(library)
    return library


def _read(path: Path, problems: list[str]) -> Framework | None:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = "; ".join(str(s) for s in (getattr(exc, "context", None), getattr(exc, "problem", None)) if s)
        problems.append(f"{path}: YAML syntax error{where}: {what or exc}")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{path}: the top level must be a mapping with id, version, kind, name and source")
        return None
    return Framework(raw, path)


# --- integrity checks -------------------------------------------------------------------------------------------


def check_library(lib: Library) -> None:
    """Check every framework and every cross-reference; raise one FrameworkError listing all problems."""
    problems: list[str] = []
    for fw in lib.frameworks.values():
        _check_framework(fw, problems)
        _check_references(lib, fw, problems)
        _check_checklist(lib, fw, problems)
    _check_taxonomy(lib, problems)
    _check_sla(lib, problems)
    if problems:
        raise _error(problems)


def _check_framework(fw: Framework, problems: list[str]) -> None:
    raw, here = fw.raw, f"{fw.path}:"
    for key in ("id", "kind"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{here} missing top-level field {key!r} (a non-empty string)")
    version = raw.get("version")
    if not isinstance(version, str) or not _SEMVER.match(version):
        problems.append(f"{here} missing or invalid top-level 'version': {version!r} (a quoted semver like \"1.0.0\")")
    name = raw.get("name")
    for lang in LANGUAGES:
        if not isinstance(name, dict) or not _text(name.get(lang)).strip():
            problems.append(f"{here} missing top-level name.{lang}")
    if not fw.sources:
        problems.append(f"{here} missing top-level 'source' (a list of URLs)")
    for key in ("published", "in_force"):
        if raw.get(key) is not None and not _is_date(raw[key]):
            problems.append(f"{here} {key} must be a date YYYY-MM-DD, got {raw[key]!r}")
    seen: dict[str, str] = {}
    for section, items in raw.items():
        if not _is_section(items):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"{here} {section}[{i}]: must be a mapping, got {item!r}")
                continue
            ref = item.get("ref_id")
            if not isinstance(ref, str) or not ref.strip():
                problems.append(f"{here} {section}[{i}]: missing ref_id (a non-empty string)")
                ref = f"{section}[{i}]"
            elif ref in seen:
                where = "in the same section" if seen[ref] == section else f"(also in section {seen[ref]!r})"
                problems.append(f"{here} {ref}: duplicate ref_id in section {section!r} {where}")
            else:
                seen[ref] = section
            _check_entry(fw, section, ref, item, problems)


def _check_entry(fw: Framework, section: str, ref: str, item: dict[str, Any], problems: list[str]) -> None:
    here = f"{fw.path}: {ref}:"
    for key in ("label", "summary") if section == "obligations" or "summary" in item else ("label",):
        _check_bilingual(item, key, here, problems)
    if not _text(item.get("source")).strip():
        problems.append(f"{here} missing source")
    if item.get("confidence") not in CONFIDENCE_LEVELS:
        problems.append(f"{here} confidence must be one of A, S, U, got {item.get('confidence')!r}")
    if "priority" in item and not isinstance(item["priority"], bool):
        problems.append(f"{here} priority must be true or false, got {item['priority']!r}")
    if section == "obligations" or "covered_by" in item:
        cover = item.get("covered_by")
        if not isinstance(cover, list) or not cover:
            problems.append(f"{here} covered_by must be a non-empty list from: {', '.join(COVERED_BY)}")
        else:
            for value in cover:
                if value not in COVERED_BY:
                    problems.append(f"{here} covered_by value {value!r} is not one of: {', '.join(COVERED_BY)}")


def _check_bilingual(item: dict[str, Any], key: str, here: str, problems: list[str]) -> None:
    value = item.get(key)
    for lang in LANGUAGES:
        if not isinstance(value, dict) or not _text(value.get(lang)).strip():
            problems.append(f"{here} missing {key}.{lang} ({'English' if lang == 'en' else 'Malay'} {key})")


def _check_references(lib: Library, fw: Framework, problems: list[str]) -> None:
    """``implements`` / ``issued_under`` (framework-id:ref_id) and ``renamed_to`` / ``renamed_from`` (same file)."""
    for ref in _as_list(fw.raw.get("issued_under")):
        if (why := _dangling(lib, ref)) is not None:
            problems.append(f"{fw.path}: issued_under {ref!r}: {why}")
    for entries in fw._entries.values():
        for e in entries:
            for ref in _as_list(e.data.get("implements")):
                if (why := _dangling(lib, ref)) is not None:
                    problems.append(f"{fw.path}: {e.ref_id}: implements {ref!r}: {why}")
            for key in ("renamed_to", "renamed_from"):
                if e.data.get(key) is not None and fw.find(e.data[key]) is None:
                    problems.append(f"{fw.path}: {e.ref_id}: {key} {e.data[key]!r} is not an entry of {fw.id!r}")


def _dangling(lib: Library, ref: Any) -> str | None:
    """Why ``framework-id:ref_id`` does not resolve, or None if it does."""
    if not isinstance(ref, str) or ":" not in ref:
        return "must be written framework-id:ref_id"
    fw_id, ref_id = ref.split(":", 1)
    if fw_id not in lib.frameworks:
        return f"no framework {fw_id!r} is loaded"
    if lib.frameworks[fw_id].find(ref_id) is None:
        return f"framework {fw_id!r} has no entry {ref_id!r}"
    return None


def _only(lib: Library, kind: str, problems: list[str]) -> Framework | None:
    """The one framework of ``kind``, or None with a problem recorded."""
    found = [fw for fw in lib.frameworks.values() if fw.kind == kind]
    if len(found) != 1:
        paths = ", ".join(str(fw.path) for fw in found) or "none"
        problems.append(f"expected exactly one framework of kind {kind!r}, found: {paths}")
        return None
    return found[0]


def _check_taxonomy(lib: Library, problems: list[str]) -> None:
    tax = _only(lib, "taxonomy", problems)
    if tax is None:
        return
    instruments = tax.raw.get("instruments")
    if not isinstance(instruments, list) or not instruments:
        problems.append(f"{tax.path}: missing top-level 'instruments' (the framework ids every key maps to)")
        instruments = []
    targets: dict[str, set[str]] = {}
    for inst in instruments:
        target = lib.frameworks.get(inst)
        if target is None or "harms" not in target.sections:
            problems.append(f"{tax.path}: instrument {inst!r} is not a loaded framework with a 'harms' section")
        else:
            targets[inst] = {e.ref_id for e in target.entries("harms")}
    if tax.raw.get("priority_from") not in instruments:
        problems.append(f"{tax.path}: priority_from {tax.raw.get('priority_from')!r} is not one of the instruments")
    entries = tax.entries("harms") if "harms" in tax.sections else []
    keys = [e.ref_id for e in entries]
    for key in schema.HARM_CATEGORIES:
        if key not in keys:
            problems.append(f"{tax.path}: harm key {key!r} of schema.HARM_CATEGORIES is missing from the taxonomy")
    for e in entries:
        here = f"{tax.path}: {e.ref_id}:"
        if e.ref_id not in schema.HARM_CATEGORIES:
            problems.append(f"{here} not a harm key of schema.HARM_CATEGORIES ({', '.join(schema.HARM_CATEGORIES)})")
        maps_to = e.data.get("maps_to")
        if not isinstance(maps_to, dict):
            problems.append(f"{here} missing maps_to (instrument id -> list of ref_ids)")
            continue
        for inst in sorted(set(maps_to) - set(instruments)):
            problems.append(f"{here} maps_to {inst!r}, which is not listed in the taxonomy's instruments")
        reason = e.data.get("unmapped_reason")
        for inst in instruments:
            refs = maps_to.get(inst)
            if not isinstance(refs, list):
                problems.append(f"{here} no mapping for instrument {inst!r} (give a list, [] with unmapped_reason)")
                continue
            why = reason.get(inst) if isinstance(reason, dict) else reason
            if not refs and not _text(why).strip():
                problems.append(f"{here} maps to no {inst!r} entry but gives no unmapped_reason for it")
            for ref in refs:
                if inst in targets and ref not in targets[inst]:
                    problems.append(f"{here} maps_to {inst!r} ref {ref!r}, which is not a harm entry of {inst!r}")
        levels = e.data.get("mapping_confidence") or {}
        for inst, level in levels.items() if isinstance(levels, dict) else []:
            if inst not in instruments or level not in CONFIDENCE_LEVELS:
                problems.append(f"{here} mapping_confidence {inst!r}: {level!r} (an instrument -> A, S or U)")


def _check_sla(lib: Library, problems: list[str]) -> None:
    policy = _only(lib, "sla_policy", problems)
    if policy is None:
        return
    if "clocks" not in policy.sections:
        problems.append(f"{policy.path}: missing section 'clocks'")
        return
    for e in policy.entries("clocks"):
        here, d = f"{policy.path}: {e.ref_id}:", e.data
        if d.get("instrument") not in lib.frameworks:
            problems.append(f"{here} instrument {d.get('instrument')!r} is not a loaded framework")
        table = schema.TABLES.get(d.get("table"))  # type: ignore[arg-type]
        if table is None:
            problems.append(f"{here} table {d.get('table')!r} is not a table of the data contract (schema.TABLES)")
        else:
            for key in ("start", "stop"):
                col = d.get(key)
                if col not in table.column_names or table.column(col).kind != "timestamp":
                    problems.append(f"{here} {key} {col!r} is not a timestamp column of table {table.name!r}")
        if _positive_number(d.get("hours")) is None:
            problems.append(f"{here} hours must be a positive number, got {d.get('hours')!r}")
        applies = d.get("applies_to")
        if isinstance(applies, list) and applies:
            for key in applies:
                if key not in schema.HARM_CATEGORIES:
                    problems.append(f"{here} applies_to harm key {key!r} is not in schema.HARM_CATEGORIES")
        elif applies not in ("all", "priority"):
            problems.append(f"{here} applies_to must be 'all', 'priority' or a list of harm keys, got {applies!r}")
        stop_actions = d.get("stop_actions")
        if stop_actions is not None:
            if table is not None and "action" not in table.column_names:
                problems.append(f"{here} stop_actions given but table {table.name!r} has no 'action' column")
            if not isinstance(stop_actions, list) or not stop_actions:
                problems.append(f"{here} stop_actions must be a non-empty list of schema.ACTIONS")
            else:
                for action in stop_actions:
                    if action not in schema.ACTIONS:
                        problems.append(f"{here} stop_actions value {action!r} is not one of schema.ACTIONS")


def _check_checklist(lib: Library, fw: Framework, problems: list[str]) -> None:
    """A ``kind: checklist`` framework: audit name (unique), maturity scale 0-4, domains and items."""
    if fw.kind != "checklist":
        return
    here, audit = f"{fw.path}:", fw.raw.get("audit")
    if not isinstance(audit, str) or not _AUDIT_NAME.match(audit):
        problems.append(f"{here} audit must be a short name like 'child_safety' (a-z, 0-9, _), got {audit!r}")
    else:
        for other in lib.frameworks.values():
            if other is fw:
                break
            if other.kind == "checklist" and other.raw.get("audit") == audit:
                problems.append(f"{here} audit {audit!r} is already used by {other.path}")
                break
    levels = [e.data.get("level") for e in fw._entries.get("maturity_scale", [])]
    if levels != list(range(5)) or any(type(level) is not int for level in levels):
        problems.append(f"{here} maturity_scale must list levels 0, 1, 2, 3, 4 in order, got {levels}")
    for section in ("domains", "items"):
        if section not in fw.sections:
            problems.append(f"{here} missing section {section!r} (a list of entries)")
    domains = {e.ref_id for e in fw._entries.get("domains", [])}
    external = {e.ref_id for e in fw._entries.get("external_standards", [])}
    for e in fw._entries.get("items", []):
        _check_item(lib, f"{fw.path}: {e.ref_id}:", e.data, domains, external, problems)


def _check_item(
    lib: Library, here: str, d: dict[str, Any], domains: set[str], external: set[str], problems: list[str]
) -> None:
    if d.get("domain") not in domains:
        problems.append(f"{here} domain {d.get('domain')!r} is not a declared domain: {', '.join(sorted(domains))}")
    refs = d.get("references")
    if not isinstance(refs, dict) or not refs:
        problems.append(f"{here} references must map framework or standard ids to lists of refs")
    for key, values in refs.items() if isinstance(refs, dict) else []:
        if not isinstance(values, list) or not values or not all(_text(v).strip() for v in values):
            problems.append(f"{here} references {key!r} must be a non-empty list of refs, got {values!r}")
        elif key in lib.frameworks:
            for ref in values:
                if (why := _dangling(lib, f"{key}:{ref}")) is not None:
                    problems.append(f"{here} references {key}:{ref}: {why}")
        elif key not in external:
            problems.append(f"{here} references {key!r}: not a loaded framework nor declared in external_standards")
        elif not all(isinstance(v, str) for v in values):
            problems.append(f"{here} references {key!r}: clause refs must be quoted strings, got {values!r}")
    evidence = d.get("expected_evidence")
    if not isinstance(evidence, list) or not evidence or not all(_text(v).strip() for v in evidence):
        problems.append(f"{here} expected_evidence must be a non-empty list of strings")
    if d.get("test_method") not in TEST_METHODS:
        problems.append(f"{here} test_method {d.get('test_method')!r} is not one of: {', '.join(TEST_METHODS)}")
    if type(d.get("weight")) is not int or not 1 <= d["weight"] <= 3:
        problems.append(f"{here} weight must be 1, 2 or 3, got {d.get('weight')!r}")
    if not isinstance(d.get("mandatory"), bool):
        problems.append(f"{here} mandatory must be true or false, got {d.get('mandatory')!r}")
    _check_applies_if(d.get("applies_if"), here, problems)
    if "data_test" in d:
        _check_data_test(d["data_test"], here, problems)


def _check_applies_if(value: Any, here: str, problems: list[str]) -> None:
    if value == "always":
        return
    if not isinstance(value, dict) or not value:
        problems.append(f"{here} applies_if must be 'always' or a mapping of {', '.join(APPLIES_IF_KEYS)}")
        return
    for key in sorted(set(value) - set(APPLIES_IF_KEYS)):
        problems.append(f"{here} applies_if: unknown key {key!r}; allowed: {', '.join(APPLIES_IF_KEYS)}")
    types = value.get("service_type", list(schema.SERVICE_TYPES))
    if not isinstance(types, list) or not types or not set(types) <= set(schema.SERVICE_TYPES):
        problems.append(f"{here} applies_if.service_type must be a list from: {', '.join(schema.SERVICE_TYPES)}")
    surfaces = value.get("feature_surface", ["any"])
    if not isinstance(surfaces, list) or not surfaces or not all(_text(s).strip() for s in surfaces):
        problems.append(f"{here} applies_if.feature_surface must be a non-empty list of surface names")
    if "from" in value and not _is_date(value["from"]):
        problems.append(f"{here} applies_if.from must be a date YYYY-MM-DD, got {value['from']!r}")


def _check_data_test(test: Any, here: str, problems: list[str]) -> None:
    if not isinstance(test, dict):
        problems.append(f"{here} data_test must be a mapping with metric, operator, value and meaning")
        return
    for key in sorted(set(test) - _DATA_TEST_KEYS):
        problems.append(f"{here} data_test: unknown key {key!r}; allowed: {', '.join(sorted(_DATA_TEST_KEYS))}")
    if not isinstance(test.get("metric"), str) or not test["metric"].strip():
        problems.append(f"{here} data_test.metric must be a metric id")
    category = test.get("category", "all")
    if category != "all" and category not in schema.HARM_CATEGORIES:
        problems.append(f"{here} data_test.category {category!r} is not 'all' or a harm key of schema.HARM_CATEGORIES")
    if test.get("operator") not in DATA_TEST_OPERATORS:
        problems.append(f"{here} data_test.operator {test.get('operator')!r} is not one of {DATA_TEST_OPERATORS}")
    value = test.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{here} data_test.value must be a number, got {value!r}")
    if ("dimension" in test) != ("level" in test):
        problems.append(f"{here} data_test: give dimension and level together")
    _check_bilingual(test, "meaning", f"{here} data_test:", problems)


# --- helpers ----------------------------------------------------------------------------------------------------


def _error(problems: list[str]) -> FrameworkError:
    noun = "problem" if len(problems) == 1 else "problems"
    err = FrameworkError(f"{len(problems)} {noun} in the framework files:\n" + "\n".join(f"  - {p}" for p in problems))
    err.problems = tuple(problems)  # type: ignore[attr-defined]
    return err


def _override(clock: Clock, override: Any, problems: list[str]) -> Clock:
    """``clock`` with a datapack.yaml override applied; problems are appended, not raised."""
    where = f"sla_overrides: clock {clock.ref_id!r}"
    if not isinstance(override, Mapping):
        problems.append(f"{where}: must be a mapping like {{hours: 2, source: ..., confidence: A}}")
        return clock
    for key in sorted(set(override) - _OVERRIDE_KEYS):
        problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(_OVERRIDE_KEYS))}")
    hours = _positive_number(override.get("hours", clock.hours))
    if hours is None:
        problems.append(f"{where}: hours must be a positive number, got {override['hours']!r}")
    confidence = override.get("confidence", "U")
    if confidence not in CONFIDENCE_LEVELS:
        problems.append(f"{where}: confidence must be one of A, S, U, got {confidence!r}")
    source = _text(override.get("source")) or "datapack.yaml sla_overrides"
    return replace(clock, hours=hours or clock.hours, source=source, confidence=confidence, overridden=True)


def _applies_text(value: Any) -> str:
    """``applies_if`` as compact text: ``always`` or e.g. ``service_type=social_media,hybrid; from=2026-06-01``."""
    if not isinstance(value, dict):
        return _text(value) or "always"
    return "; ".join(f"{k}={','.join(str(v) for v in _as_list(value[k]))}" for k in APPLIES_IF_KEYS if k in value)


def _make_entry(framework_id: str, item: dict[str, Any]) -> Entry:
    label = item.get("label") if isinstance(item.get("label"), dict) else {}
    return Entry(
        framework_id=framework_id,
        ref_id=_text(item.get("ref_id")),
        label_en=_text(label.get("en")),
        label_ms=_text(label.get("ms")),
        source=_text(item.get("source")),
        confidence=_text(item.get("confidence")),
        data=item,
    )


def _is_section(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _positive_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _is_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True
