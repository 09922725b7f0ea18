"""The response clocks in force for a run: the packaged SLA policy with a data pack's overrides applied."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskkit.exceptions import FrameworkError

if TYPE_CHECKING:
    from riskkit.library.models import ClockPath

OVERRIDE_KEYS = ("hours", "reading", "source", "confidence", "notes")
#: Longest clock accepted (a year): longer is a typo, and would overflow durations downstream.
MAX_CLOCK_HOURS = 24 * 366


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
    #: How items enter the clock (start and stop events per path); empty = the single ``start`` → ``stop``.
    paths: tuple[ClockPath, ...] = ()
    #: The reading in force of an ambiguous clock (None = the text has one reading), its label and whether it is
    #: the framework's default.
    reading: str | None = None
    reading_label_en: str | None = None
    reading_label_ms: str | None = None
    reading_default: bool = True

    def path(self, name: str) -> ClockPath | None:
        """The path ``name`` (user_reported, own_initiative) of this clock, or None."""
        return next((p for p in self.paths if p.path == name), None)

    def reading_text(self, lang: str = "en") -> str | None:
        """Plain-language reading, e.g. "reading: all reported harmful content (default)"; None if unambiguous."""
        if self.reading is None:
            return None
        label = self.reading_label_ms if lang == "ms" else self.reading_label_en
        word = {
            "en": ("reading", "default", "chosen by the data pack"),
            "ms": ("tafsiran", "lalai", "dipilih pek data"),
        }
        name, default, chosen = word.get(lang, word["en"])
        return f"{name}: {label} ({default if self.reading_default else chosen})"


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
            row = {f.name: getattr(c, f.name) for f in fields(Clock)}
            row["categories"] = ";".join(c.categories)
            row["stop_actions"] = ";".join(c.stop_actions) if c.stop_actions is not None else None
            row["paths"] = ";".join(f"{p.path}: {p.table}.{p.start} -> {p.stop}" for p in c.paths) or None
            rows.append(row)
        return pd.DataFrame(rows, columns=[f.name for f in fields(Clock)])


def override_problems(clock_ids: list[str] | Mapping[str, list[str]], overrides: Any) -> list[str]:
    """Every problem of a datapack.yaml ``sla_overrides`` mapping (empty when it is usable). ``clock_ids`` may map
    each clock to its readings (a ``reading`` must be one of them)."""
    readings: Mapping[str, list[str]] = clock_ids if isinstance(clock_ids, Mapping) else {c: [] for c in clock_ids}
    clock_ids = list(readings)
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        return ["sla_overrides must map clock ids to {hours, source, confidence}"]
    problems = [
        f"sla_overrides: unknown clock {cid!r}; known clocks: {', '.join(clock_ids)}"
        for cid in overrides
        if cid not in clock_ids
    ]
    for cid, override in overrides.items():
        if cid not in clock_ids:
            continue
        where = f"sla_overrides.{cid}"
        if not isinstance(override, Mapping):
            problems.append(f"{where}: must be a mapping like {{hours: 2, source: ..., confidence: A}}")
            continue
        for key in sorted(set(override) - set(OVERRIDE_KEYS)):
            problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(OVERRIDE_KEYS)}")
        if "hours" in override and positive_hours(override["hours"]) is None:
            problems.append(
                f"{where}.hours: must be a number of hours above 0 and at most {MAX_CLOCK_HOURS}, "
                f"got {override['hours']!r}"
            )
        if "reading" in override and override["reading"] not in readings[cid]:
            allowed = ", ".join(readings[cid]) or f"none: {cid} has one reading"
            problems.append(f"{where}.reading: unknown reading {override['reading']!r}; known readings: {allowed}")
        if override.get("confidence", "U") not in ("A", "S", "U"):
            problems.append(f"{where}.confidence: must be one of A, S, U, got {override.get('confidence')!r}")
        source = override.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            problems.append(f"{where}.source: must be a non-empty text, got {source!r}")
    return problems


def apply_override(clock: Clock, override: Mapping[str, Any]) -> Clock:
    """``clock`` with a checked datapack.yaml override applied (see :func:`override_problems`); a ``reading`` is
    applied by the library, which knows the readings' categories."""
    hours = positive_hours(override.get("hours", clock.hours)) or clock.hours
    source = str(override.get("source") or "datapack.yaml sla_overrides")
    return replace(
        clock,
        hours=hours,
        label_en=period_in_label(clock.label_en, hours, "en"),
        label_ms=period_in_label(clock.label_ms, hours, "ms"),
        source=source,
        confidence=override.get("confidence", "U"),
        overridden=True,
    )


#: The period a clock's label states, in each language ("within 1 hour", "dalam tempoh 24 jam").
_LABEL_PERIOD = {
    "en": (re.compile(r"\bwithin \d+(?:\.\d+)? hours?\b"), "within {n} {unit}", ("hour", "hours")),
    "ms": (re.compile(r"\bdalam tempoh \d+(?:\.\d+)? jam\b"), "dalam tempoh {n} {unit}", ("jam", "jam")),
}


def period_in_label(label: str, hours: float, lang: str) -> str:
    """A clock's label with the period it states set to ``hours`` (a pack's override: "within 2 hours", not
    "within 1 hour (2 h)"); a label that states no period is left as it is."""
    pattern, text, (one, many) = _LABEL_PERIOD[lang]
    return pattern.sub(text.format(n=f"{hours:g}", unit=one if hours == 1 else many), label, count=1)


def positive_hours(value: Any) -> float | None:
    """``value`` as hours when it is a finite number in (0, MAX_CLOCK_HOURS], else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and 0 < value <= MAX_CLOCK_HOURS else None
