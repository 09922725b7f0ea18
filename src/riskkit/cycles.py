"""Reporting cycles: half-years (``2025-H1``, ``2025-H2``) and calendar years (``2025``) in Asia/Kuala_Lumpur.

The Code of Conduct's half-yearly report covers 1 Jan–30 Jun and 1 Jul–31 Dec; the public safety report covers a
calendar year. Bounds are midnight in Malaysia: ``start`` inclusive, ``end`` exclusive, both tz-aware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

from riskkit.exceptions import CycleError

REPORTING_TZ = ZoneInfo("Asia/Kuala_Lumpur")

#: The years riskkit reports on: a cycle, an as-of instant or a declared date outside them is a typo (``0000``,
#: ``9999-H2``, ``1999``), refused with exit code 2 rather than reported on as if it were data.
FIRST_YEAR, LAST_YEAR = 2000, 2099

CycleKind = Literal["half", "year"]

_HALF = re.compile(r"^(?P<year>\d{4})-H(?P<half>[12])$")
_YEAR = re.compile(r"^(?P<year>\d{4})$")


@dataclass(frozen=True, order=True)
class Cycle:
    """A reporting cycle with tz-aware bounds in Asia/Kuala_Lumpur (``end`` exclusive)."""

    year: int
    half: int | None  # 1, 2, or None for a calendar year

    @property
    def id(self) -> str:
        return f"{self.year}" if self.half is None else f"{self.year}-H{self.half}"

    @property
    def kind(self) -> CycleKind:
        return "year" if self.half is None else "half"

    @property
    def start(self) -> pd.Timestamp:
        month = 7 if self.half == 2 else 1
        return pd.Timestamp(datetime(self.year, month, 1, tzinfo=REPORTING_TZ))

    @property
    def end(self) -> pd.Timestamp:
        if self.half == 1:
            return pd.Timestamp(datetime(self.year, 7, 1, tzinfo=REPORTING_TZ))
        return pd.Timestamp(datetime(self.year + 1, 1, 1, tzinfo=REPORTING_TZ))

    @property
    def last_day(self) -> date:
        """The last calendar day inside the cycle (for display: 1 Jan–30 Jun)."""
        return (self.end - pd.Timedelta(days=1)).date()

    @property
    def label(self) -> str:
        """Human label, e.g. ``1 Jan 2025 – 30 Jun 2025 (MYT)``."""
        return f"{self.start:%-d %b %Y} – {self.last_day:%-d %b %Y} (MYT)"

    @property
    def months(self) -> pd.PeriodIndex:
        """Calendar months of the cycle."""
        return pd.period_range(self.start.strftime("%Y-%m"), self.last_day.strftime("%Y-%m"), freq="M")

    def contains(self, instant: datetime | pd.Timestamp | str) -> bool:
        ts = _as_instant(instant)
        return bool(self.start <= ts < self.end)

    def previous(self) -> Cycle:
        """The cycle of the same kind just before this one."""
        if self.half is None:
            return Cycle(self.year - 1, None)
        return Cycle(self.year, 1) if self.half == 2 else Cycle(self.year - 1, 2)

    def next(self) -> Cycle:
        """The cycle of the same kind just after this one."""
        if self.half is None:
            return Cycle(self.year + 1, None)
        return Cycle(self.year + 1, 1) if self.half == 2 else Cycle(self.year, 2)

    def halves(self) -> tuple[Cycle, ...]:
        """The half-years of this cycle (itself for a half-year)."""
        return (self,) if self.half is not None else (Cycle(self.year, 1), Cycle(self.year, 2))

    def is_complete(self, as_of: datetime | pd.Timestamp | str) -> bool:
        return bool(_as_instant(as_of) >= self.end)

    def __str__(self) -> str:
        return self.id


def parse(cycle_id: str | Cycle) -> Cycle:
    """``"2025-H1"``, ``"2025-H2"`` or ``"2025"`` → :class:`Cycle`; anything else raises :class:`CycleError`."""
    if isinstance(cycle_id, Cycle):
        return cycle_id
    text = str(cycle_id).strip()
    m = _HALF.match(text) or _YEAR.match(text)
    if m and not FIRST_YEAR <= int(m["year"]) <= LAST_YEAR:
        raise CycleError(
            f"reporting cycle {cycle_id!r} is outside the years riskkit supports ({FIRST_YEAR}–{LAST_YEAR})"
        )
    if m := _HALF.match(text):
        return Cycle(int(m["year"]), int(m["half"]))
    if m := _YEAR.match(text):
        return Cycle(int(m["year"]), None)
    raise CycleError(
        f"unknown reporting cycle {cycle_id!r}: expected a half-year like 2025-H1 or 2025-H2, "
        "a calendar year like 2025, or 'latest'"
    )


def cycle_of(instant: datetime | pd.Timestamp | str, kind: CycleKind = "half") -> Cycle:
    """The cycle an instant falls in, judged in Malaysian time (``2025-06-30T16:30:00Z`` is in 2025-H2)."""
    local = _as_instant(instant).tz_convert(REPORTING_TZ)
    if kind == "year":
        return Cycle(local.year, None)
    return Cycle(local.year, 1 if local.month <= 6 else 2)


def latest_complete(as_of: datetime | pd.Timestamp | str | None = None, kind: CycleKind = "half") -> Cycle:
    """The most recent cycle that has fully ended at ``as_of`` (default: now)."""
    current = cycle_of(pd.Timestamp.now(tz=REPORTING_TZ) if as_of is None else as_of, kind)
    return current.previous()


def resolve(cycle_id: str, as_of: datetime | pd.Timestamp | str | None = None) -> Cycle:
    """Like :func:`parse`, but also accepts ``latest``/``latest-half`` and ``latest-year``."""
    text = str(cycle_id).strip().lower()
    if text in ("latest", "latest-half"):
        return latest_complete(as_of, "half")
    if text == "latest-year":
        return latest_complete(as_of, "year")
    return parse(cycle_id)


def parse_instant(text: str, what: str = "--as-of") -> pd.Timestamp:
    """An instant given on the command line: ISO 8601 with an offset, within the supported years (else
    :class:`CycleError`, naming ``what``)."""
    try:
        stamp = pd.Timestamp(str(text).strip())
    except (ValueError, TypeError, OverflowError):
        raise CycleError(
            f"{what} {text!r} is not a time: give ISO 8601 with an offset, e.g. 2026-07-10T09:00:00+08:00"
        ) from None
    if stamp is pd.NaT or not isinstance(stamp, pd.Timestamp):
        raise CycleError(f"{what} {text!r} is not a time: give ISO 8601 with an offset, e.g. 2026-07-10T09:00:00+08:00")
    if stamp.tzinfo is None:
        raise CycleError(f"{what} {text!r} has no offset: add one, e.g. +08:00 for Malaysian time")
    return check_supported(stamp, what)


def check_covered(cycle: Cycle, first: pd.Timestamp | None, as_of: pd.Timestamp, asked: str | None = None) -> Cycle:
    """``cycle`` when the data covers at least part of it, else :class:`CycleError`.

    ``first`` is the data's first instant (None when unknown), ``as_of`` its extraction; ``asked`` the cycle as the
    user wrote it (``latest`` is explained: it can resolve to a half-year before the data starts)."""
    day = "%-d %b %Y"
    named = cycle.id if not asked or asked.strip().lower() == cycle.id.lower() else f"{asked!r} ({cycle.id})"
    if cycle.start >= as_of:
        raise CycleError(
            f"{named} starts on {cycle.start:{day}} but the data is as of "
            f"{as_of.tz_convert(REPORTING_TZ):{day}}: the pack holds nothing for it"
        )
    if first is not None and cycle.end <= first:
        first_day = f"{first.tz_convert(REPORTING_TZ):{day}}"
        why = f"{named} ends on {cycle.last_day:{day}}, before the pack's data starts ({first_day}): the pack holds nothing for it"
        if asked and asked.strip().lower().startswith("latest"):
            current = cycle_of(as_of, cycle.kind)
            why += (
                f"; {cycle.id} is the latest {'half-year' if cycle.kind == 'half' else 'year'} complete by the data's "
                f"as-of, so no complete one is covered yet (choose --cycle {current.id} --allow-incomplete to report "
                "on the one in progress)"
            )
        raise CycleError(why)
    return cycle


def check_supported(instant: pd.Timestamp, what: str) -> pd.Timestamp:
    """``instant`` when it falls within the supported years, else :class:`CycleError` naming ``what``."""
    if not FIRST_YEAR <= instant.tz_convert(REPORTING_TZ).year <= LAST_YEAR:
        raise CycleError(
            f"{what} {instant.isoformat()} is outside the years riskkit supports ({FIRST_YEAR}–{LAST_YEAR})"
        )
    return instant


def _as_instant(value: datetime | pd.Timestamp | str | date) -> pd.Timestamp:
    """A tz-aware timestamp; naive input is rejected rather than guessed."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise CycleError(
            f"timestamp {value!s} has no timezone: give an offset (e.g. +08:00 or Z) so the cycle is unambiguous"
        )
    return ts
