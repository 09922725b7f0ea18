"""iCalendar (RFC 5545) files of dated duties, written with the ``icalendar`` package.

Each dated row becomes an all-day ``VEVENT`` on its Malaysian calendar date (``DTSTART;VALUE=DATE``, ``DTEND`` the
next day); rows without a date are left out (a calendar cannot hold them; the CSV lists them). The file is
deterministic: ``UID`` is derived from the row's rule and date, ``DTSTAMP`` is the data's as-of instant in UTC, and
events follow the table's order, so the same result always gives the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from icalendar import Calendar, Event

PRODID = "-//riskkit//compliance calendar//EN"


def calendar_bytes(frame: pd.DataFrame, *, name: str, stamp: pd.Timestamp) -> bytes:
    """The dated rows of a calendar table (columns date, title, detail, instrument_name, obligation, rule, event,
    confidence, source) as an ``.ics`` document."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Kuala_Lumpur")
    utc = pd.Timestamp(stamp).tz_convert("UTC").to_pydatetime()
    for row in frame.to_dict("records"):
        day = row.get("date")
        if day is None or (isinstance(day, float) and day != day) or pd.isna(day):
            continue
        day = pd.Timestamp(day).date() if not isinstance(day, date) else day
        event = Event()
        event.add("uid", _uid(row, day))
        event.add("dtstamp", utc)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", str(row["title"]))
        description = (
            f"{row['detail']}\n\n{row['instrument_name']} — source: {row['source']} [confidence {row['confidence']}]"
        )
        event.add("description", description)
        event.add("categories", [str(row["event"]).replace("_", " ")])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def write_ics(frame: pd.DataFrame, path: str | Path, *, name: str, stamp: pd.Timestamp) -> Path:
    """Write :func:`calendar_bytes` to ``path`` (replacing it)."""
    out = Path(path)
    out.write_bytes(calendar_bytes(frame, name=name, stamp=stamp))
    return out


def _uid(row: dict, day: date) -> str:
    key = f"{row.get('rule') or row.get('obligation')}|{day.isoformat()}|{row['title']}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@riskkit"
