"""The response clocks in force for a run: the packaged SLA policy with a data pack's overrides applied."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import pandas as pd

from riskkit.exceptions import FrameworkError

OVERRIDE_KEYS = ("hours", "source", "confidence", "notes")
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
            rows.append(row)
        return pd.DataFrame(rows, columns=[f.name for f in fields(Clock)])


def override_problems(clock_ids: list[str], overrides: Any) -> list[str]:
    """Every problem of a datapack.yaml ``sla_overrides`` mapping (empty when it is usable)."""
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
        if override.get("confidence", "U") not in ("A", "S", "U"):
            problems.append(f"{where}.confidence: must be one of A, S, U, got {override.get('confidence')!r}")
        source = override.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            problems.append(f"{where}.source: must be a non-empty text, got {source!r}")
    return problems


def apply_override(clock: Clock, override: Mapping[str, Any]) -> Clock:
    """``clock`` with a checked datapack.yaml override applied (see :func:`override_problems`)."""
    hours = positive_hours(override.get("hours", clock.hours)) or clock.hours
    source = str(override.get("source") or "datapack.yaml sla_overrides")
    return replace(clock, hours=hours, source=source, confidence=override.get("confidence", "U"), overridden=True)


def positive_hours(value: Any) -> float | None:
    """``value`` as hours when it is a finite number in (0, MAX_CLOCK_HOURS], else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and 0 < value <= MAX_CLOCK_HOURS else None
