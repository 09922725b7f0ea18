"""The DSA import report: what was read, kept and dropped (adding up to the row), how harms were mapped.

One :class:`PackReport` per pack written (``import_report.md`` / ``.json`` in the pack) and one
:class:`ImportResult` for the whole import (printed by ``riskkit import dsa``; written at the top of ``--out``
when there is one pack per platform).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskkit import __version__

DUPLICATE = "exact duplicate of an earlier statement (same uuid, same content)"
OTHER_PLATFORMS = "other platforms' statements"
EMPTY_PLATFORM = "invalid: empty required field platform_name"
_EVIDENCE_SHORT = {"keyword": "k", "text": "t", "category": "c", "category_addition": "a", "unresolved": "u"}


@dataclass
class PackReport:
    """What became of the statements read, for one platform's pack."""

    platform: str
    folder: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> rows (other platforms included)
    in_malaysia: int = 0
    outside_malaysia: int = 0
    territories: Counter = field(default_factory=Counter)  # territorial_scope code -> kept rows listing it
    versions: Counter = field(default_factory=Counter)  # 1 / 2 -> kept rows
    unknown: Counter = field(default_factory=Counter)  # (field, value) -> kept rows
    mapping: Counter = field(default_factory=Counter)  # (category, evidence, value, harm) -> kept rows
    mismatch: Counter = field(default_factory=Counter)  # reason -> kept rows
    mismatch_examples: list[str] = field(default_factory=list)
    first_decision: str | None = None
    last_decision: str | None = None
    as_of: str | None = None
    validation: str = ""

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.rows_kept + sum(self.dropped.values())

    def confusion(self) -> dict[str, dict[str, int]]:
        """DSA category -> riskkit harm -> kept rows."""
        out: dict[str, Counter] = {}
        for (cat, _ev, _value, harm), n in self.mapping.items():
            out.setdefault(cat, Counter())[harm] += n
        return {cat: dict(sorted(c.items(), key=lambda kv: -kv[1])) for cat, c in sorted(out.items())}

    def to_dict(self, result: ImportResult) -> dict[str, Any]:
        return {
            "riskkit": __version__,
            "mapping": result.mapping_version,
            "options": result.options,
            "platform": self.platform,
            "inputs": result.inputs,
            "skipped": result.skipped,
            "sources": result.sources,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(sorted(self.dropped.items())),
            "adds_up": self.adds_up,
            "territory": result.options["territory"],
            "in_malaysia": self.in_malaysia,
            "outside_malaysia": self.outside_malaysia,
            "territories": dict(self.territories.most_common()),
            "schema_versions": {f"v{k}": n for k, n in sorted(self.versions.items())},
            "first_decision": self.first_decision,
            "last_decision": self.last_decision,
            "as_of": self.as_of,
            "unknown_values": [{"field": f, "value": v, "rows": n} for (f, v), n in sorted(self.unknown.items())],
            "harm_mapping": [
                {"category": c, "evidence": e, "value": v, "harm": h, "rows": n}
                for (c, e, v, h), n in sorted(self.mapping.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0]))
            ],
            "harm_confusion": self.confusion(),
            "platform_mismatch": {
                "rows": sum(self.mismatch.values()),
                "kept": True,
                "by_reason": dict(self.mismatch.most_common()),
                "examples": self.mismatch_examples,
            },
            "platforms_in_dump": result.platforms,
            "notes": result.notes,
            "validation": self.validation or "not run by the importer (--out packs are valid by construction)",
        }

    def format(self, result: ImportResult) -> str:
        lines = [f"{self.platform} -> {self.folder}"]
        lines.append(f"  read {self.rows_read:,} = kept {self.rows_kept:,} + dropped {sum(self.dropped.values()):,}")
        for reason, n in sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    dropped {n:,}: {reason}")
        rule = result.territory_rule
        lines.append(
            f"  Malaysian scope ({rule}): {self.in_malaysia:,} in, {self.outside_malaysia:,} out of scope"
            + (f"; decisions {self.first_decision} to {self.last_decision}" if self.first_decision else "")
        )
        if self.rows_kept and not self.in_malaysia:
            seen = ", ".join(f"{k} {n:,}" for k, n in self.territories.most_common(8)) or "none"
            lines.append(
                f"  WARNING: none of the {self.rows_kept:,} statements is in Malaysian scope (territorial_scope "
                f"lists: {seen}); the Malaysian report will be empty. If these decisions concern Malaysia, "
                "import again with --territory all (or the codes that mark Malaysia in your export)."
            )
        versions = ", ".join(f"v{k} {n:,}" for k, n in sorted(self.versions.items()))
        lines.append(f"  schema of the kept statements: {versions or 'none'}")
        for (fld, value), n in sorted(self.unknown.items()):
            lines.append(f"  unknown {fld} value {value!r}: {n:,} kept, mapped to the default")
        if self.mismatch:
            reasons = "; ".join(f"{r}: {n:,}" for r, n in self.mismatch.most_common())
            lines.append(f"  platform name contradicted (kept, flagged): {reasons}")
            lines.extend(f"    e.g. {e}" for e in self.mismatch_examples[:5])
        lines.append(
            "  harm mapping of the kept statements (DSA category -> riskkit harm rows [evidence: k keyword, "
            "t text, c category, a category_addition, u unresolved])"
        )
        by_cat: dict[str, dict[str, Counter]] = {}
        for (cat, ev, _value, harm), n in self.mapping.items():
            by_cat.setdefault(cat, {}).setdefault(harm, Counter())[ev] += n
        for cat in sorted(by_cat, key=lambda c: -sum(sum(x.values()) for x in by_cat[c].values())):
            total = sum(sum(x.values()) for x in by_cat[cat].values())
            cells = []
            for harm, ev in sorted(by_cat[cat].items(), key=lambda kv: -sum(kv[1].values())):
                detail = ", ".join(f"{_EVIDENCE_SHORT[e]} {k:,}" for e, k in sorted(ev.items()))
                cells.append(f"{harm} {sum(ev.values()):,} [{detail}]")
            lines.append(f"    {cat} ({total:,}): " + " · ".join(cells))
        rules = Counter()
        for (_cat, ev, value, _harm), n in self.mapping.items():
            if ev == "text":
                rules[value] += n
        if rules:
            lines.append("  text rules that decided: " + ", ".join(f"{r} {n:,}" for r, n in rules.most_common()))
        if self.validation:
            lines.append(f"  {self.validation}")
        return "\n".join(lines)

    def markdown(self, result: ImportResult) -> str:
        return "# DSA import report\n\n```\n" + result.header() + "\n" + self.format(result) + "\n```\n"


@dataclass
class ImportResult:
    """The whole import: options, inputs, sources and one :class:`PackReport` per pack written."""

    options: dict[str, Any]
    mapping_version: str
    target: Path | None = None
    layout: str = "pack"  # pack | per_platform | into | list
    inputs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    platforms: dict[str, int] = field(default_factory=dict)  # platform_name -> rows read
    reports: dict[str, PackReport] = field(default_factory=dict)
    not_imported: dict[str, str] = field(default_factory=dict)  # platform -> why no pack
    notes: list[str] = field(default_factory=list)

    @property
    def report(self) -> PackReport:
        """The only pack's report (imports of one platform)."""
        if len(self.reports) != 1:
            raise ValueError(f"{len(self.reports)} packs were written; use .reports")
        return next(iter(self.reports.values()))

    @property
    def territory_rule(self) -> str:
        t = self.options["territory"]
        if t == "all":
            return "--territory all: every statement"
        return "territorial_scope lists " + " or ".join(t)

    def header(self) -> str:
        variants = Counter(s["variant"] for s in self.sources)
        versions = Counter()
        for s in self.sources:
            versions["v1"] += s["rows_v1"]
            versions["v2"] += s["rows_v2"]
        lines = [
            f"read {self.rows_read:,} statements from {len(self.inputs)} input(s), {len(self.sources)} source(s) "
            f"({', '.join(f'{k} {n}' for k, n in sorted(variants.items())) or 'none'}); "
            f"schema v1 {versions['v1']:,} rows, v2 {versions['v2']:,} rows",
        ]
        for s in self.sources:
            how = ", ".join(f"{k} {n:,}" for k, n in s["decided_by"].items())
            lines.append(f"  {s['source']}: {s['variant']}, {s['rows']:,} rows, schema {s['schema']} ({how})")
        if self.skipped:
            shown = ", ".join(self.skipped[:6]) + (
                f" and {len(self.skipped) - 6} more" if len(self.skipped) > 6 else ""
            )
            lines.append(f"  skipped {len(self.skipped)} file(s) (checksums, other members): {shown}")
        plats = ", ".join(f"{k} {n:,}" for k, n in sorted(self.platforms.items(), key=lambda kv: -kv[1])[:20])
        lines.append(f"platforms in the dump: {plats or 'none'}" + (" …" if len(self.platforms) > 20 else ""))
        for name, why in self.not_imported.items():
            lines.append(f"  no pack for {name}: {why}")
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append(f"options: {', '.join(f'{k}={v}' for k, v in self.options.items() if k != 'inputs')}")
        return "\n".join(lines)

    def format(self) -> str:
        parts = [self.header()]
        parts += [r.format(self) for r in self.reports.values()]
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "riskkit": __version__,
            "mapping": self.mapping_version,
            "options": self.options,
            "layout": self.layout,
            "inputs": self.inputs,
            "skipped": self.skipped,
            "sources": self.sources,
            "rows_read": self.rows_read,
            "platforms_in_dump": self.platforms,
            "packs": {
                name: {
                    "folder": r.folder,
                    "rows_kept": r.rows_kept,
                    "in_malaysia": r.in_malaysia,
                    "outside_malaysia": r.outside_malaysia,
                    "dropped": dict(sorted(r.dropped.items())),
                }
                for name, r in self.reports.items()
            },
            "not_imported": self.not_imported,
            "notes": self.notes,
        }

    def markdown(self) -> str:
        return "# DSA import report\n\n```\n" + self.format() + "\n```\n"
