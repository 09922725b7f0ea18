"""The compliance calendar: every dated duty of the frameworks, computed for a platform from its pack.

Dates come from framework data only: each instrument's ``dates`` (transition deadlines and windows counted from its
in-force date, report periods that recur every half-year or year, fixed dates such as a consultation's close),
the EU DSA transparency report's cadence and publication delay for a pack that declares an EU provider type
(``eu.provider_type`` in datapack.yaml; layout ``provider_types``), obligations waiting for an instrument not yet
made (listed without a date), and the reassessment triggers the pack itself dates (feature launches, declared
high-risk periods) under the risk methodology's triggers. Every date is a calendar day in Asia/Kuala_Lumpur, and
the output depends only on the library, the pack and the cycle, so two runs write the same table and ``.ics``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from dateutil.relativedelta import relativedelta

from riskkit.cycles import REPORTING_TZ, Cycle
from riskkit.library import Library
from riskkit.library.models import DatedDuty, Instrument

#: The columns of the calendar table, in order.
COLUMNS = (
    "date",
    "event",
    "title",
    "instrument",
    "instrument_name",
    "obligation",
    "rule",
    "detail",
    "status",
    "confidence",
    "source",
)
#: How far ahead of the cycle's end the calendar looks, and how far ahead of the data's as-of date "coming up" does.
HORIZON_MONTHS = 12
COMING_UP_DAYS = 183
#: Words for each event kind (reader-facing).
EVENT_WORDS = {
    "in_force": "comes into force",
    "deadline": "deadline",
    "window_opens": "window opens",
    "window_ends": "window ends",
    "period_ends": "reporting period ends",
    "due": "due",
    "consultation_closes": "consultation closes",
    "pending": "date not yet set",
    "trigger": "reassessment trigger",
}
_HALF_ENDS = ((6, 30), (12, 31))


@dataclass(frozen=True)
class Window:
    """A transition window: first day and last day (both inclusive, Malaysian dates)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def rule_date(rule: DatedDuty, instrument: Instrument, period_end: date | None = None) -> date | None:
    """The date a rule gives (None when it has no known date): its anchor plus ``months`` and ``days``."""
    if not rule.date_known:
        return None
    if rule.anchor == "fixed":
        anchor = rule.date
    elif rule.anchor == "period_end":
        anchor = period_end
    else:
        anchor = getattr(instrument, rule.anchor)
    if anchor is None:
        return None
    return anchor + relativedelta(months=rule.months) + timedelta(days=rule.days)


def dated(library: Library, instrument_id: str, ref_id: str) -> date:
    """The date of a one-off rule ``ref_id`` of ``instrument_id`` (KeyError when it has none)."""
    fw = library.get(instrument_id)
    assert isinstance(fw, Instrument)
    rule = next((d for d in fw.dates if d.ref_id == ref_id), None)
    when = None if rule is None else rule_date(rule, fw)
    if when is None:
        raise KeyError(f"{instrument_id} has no dated rule {ref_id!r}")
    return when


def transition_window(library: Library) -> Window | None:
    """The Child Protection Code's window for verifying existing accounts (None if the library does not date it)."""
    fw = library.frameworks.get("cpc-2026")
    if not isinstance(fw, Instrument) or fw.in_force is None:
        return None
    try:
        return Window(fw.in_force, dated(library, "cpc-2026", "date.cpc.existing_users_deadline"))
    except KeyError:
        return None


def period_ends(recurs: str, first: date, last: date) -> list[date]:
    """The ends of every half-year (``half``) or calendar year (``year``) from ``first`` to ``last`` inclusive."""
    out = []
    for year in range(first.year, last.year + 1):
        ends = _HALF_ENDS if recurs == "half" else ((12, 31),)
        out += [date(year, m, d) for m, d in ends if first <= date(year, m, d) <= last]
    return out


def build(
    library: Library,
    cycle: Cycle,
    *,
    as_of: pd.Timestamp,
    eu_provider_type: str | None = None,
    features: pd.DataFrame | None = None,
    high_risk_periods: Iterable[Any] = (),
) -> pd.DataFrame:
    """Every dated duty from the cycle's start to :data:`HORIZON_MONTHS` after its end, sorted by date; pending
    duties (no date) last. ``status`` is ``passed`` or ``coming`` against the data's ``as_of`` date."""
    first = cycle.start.date()
    last = (cycle.end + pd.DateOffset(months=HORIZON_MONTHS)).date() - timedelta(days=1)
    today = as_of.tz_convert(REPORTING_TZ).date()
    rows: list[dict[str, Any]] = []
    for fw in library.instruments():
        name = fw.short_name.en if fw.short_name else fw.name.en
        titles = {ob.ref_id: ob.label.en for ob in fw.obligations}
        for rule in fw.dates:
            base = {
                "event": rule.event,
                "instrument": fw.id,
                "instrument_name": name,
                "obligation": f"{fw.id}:{rule.obligation}",
                "rule": rule.ref_id,
                "confidence": rule.confidence,
                "source": rule.source,
            }
            if rule.anchor == "period_end":
                for end in period_ends(rule.recurs or "year", first, last):
                    when = rule_date(rule, fw, end)
                    label = _period_label(rule.recurs or "year", end)
                    detail = f"{titles.get(rule.obligation, rule.obligation)}: {label}"
                    if not rule.date_known:
                        detail += " (period end; the due date is not published)"
                        when = end
                    rows.append({**base, "date": when, "title": f"{rule.label.en} — {label}", "detail": detail})
                continue
            when = rule_date(rule, fw)
            if when is not None and not first <= when <= last:
                continue
            what = name if rule.event in ("in_force", "consultation_closes") else titles.get(rule.obligation, "")
            detail = what + (f" — {rule.notes}" if rule.notes else "")
            rows.append({**base, "date": when, "title": rule.label.en, "detail": " ".join(detail.split())})
        for ob in fw.obligations:
            if ob.pending:
                rows.append(
                    {
                        "date": None,
                        "event": "pending",
                        "title": ob.label.en,
                        "instrument": fw.id,
                        "instrument_name": name,
                        "obligation": f"{fw.id}:{ob.ref_id}",
                        "rule": "",
                        "detail": " ".join(
                            f"Awaiting the instrument that sets it: {ob.expected or 'not known'}".split()
                        ),
                        "confidence": ob.confidence,
                        "source": ob.source,
                    }
                )
    rows += _dsa_rows(library, eu_provider_type, first, last)
    rows += _trigger_rows(library, features, high_risk_periods, first, last)
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "status"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["status"] = [
        "date not yet set" if pd.isna(d) else ("passed" if d < today else "coming") for d in frame["date"]
    ]
    frame["_undated"] = frame["date"].isna()
    frame = frame.sort_values(["_undated", "date", "instrument", "rule", "title"], kind="stable", na_position="last")
    return frame.drop(columns="_undated")[list(COLUMNS)].reset_index(drop=True)


def coming_up(frame: pd.DataFrame, as_of: pd.Timestamp, days: int = COMING_UP_DAYS) -> pd.DataFrame:
    """What falls due from the as-of date to ``days`` later, then the duties whose date is not yet set."""
    today = as_of.tz_convert(REPORTING_TZ).date()
    until = today + timedelta(days=days)
    dated_rows = frame[frame["date"].notna()]
    soon = dated_rows[[today <= d <= until for d in dated_rows["date"]]]
    undated = frame[frame["date"].isna()]
    return pd.concat([soon, undated], ignore_index=True)


def _period_label(recurs: str, end: date) -> str:
    if recurs == "year":
        return f"year {end.year}"
    return f"{end.year}-H{1 if end.month == 6 else 2}"


def _dsa_rows(library: Library, provider_type: str | None, first: date, last: date) -> list[dict[str, Any]]:
    """DSA transparency reports: one row per reporting period's publication deadline (EU providers only)."""
    if provider_type is None:
        return []
    layout = library.dsa_transparency_layout
    tier = next((t for t in layout.provider_types if t.tier == provider_type), None)
    if tier is None or tier.publish_within_months is None:
        return []
    rows = []
    start = first - relativedelta(months=tier.publish_within_months)  # periods whose deadline falls in the range
    for end in period_ends(tier.cadence, start, last):
        # "within two months of the end": 30 Jun -> 30 Aug, 31 Dec -> 28 (29) Feb - the earlier, safe reading
        due = end + relativedelta(months=tier.publish_within_months)
        if not first <= due <= last:
            continue
        label = _period_label(tier.cadence, end)
        rows.append(
            {
                "date": due,
                "event": "due",
                "title": f"EU DSA transparency report for {label} published",
                "instrument": layout.id,
                "instrument_name": "EU DSA transparency reports (Implementing Regulation (EU) 2024/2835)",
                "obligation": f"{layout.id}:{tier.ref_id}",
                "rule": tier.ref_id,
                "detail": f"{tier.label.en}: reports every {'half-year' if tier.cadence == 'half' else 'year'}, "
                f"published within {tier.publish_within_months} months of the period's end (period ended {end:%-d %b %Y})",
                "confidence": tier.confidence,
                "source": tier.source,
            }
        )
    return rows


def _trigger_rows(
    library: Library, features: pd.DataFrame | None, periods: Iterable[Any], first: date, last: date
) -> list[dict[str, Any]]:
    """Reassessment triggers the pack dates: feature launches and declared high-risk periods (risk methodology)."""
    fw = library.risk_methodology
    triggers = fw.triggers
    rows = []
    base = {
        "event": "trigger",
        "instrument": fw.id,
        "instrument_name": "Systemic risk assessment (reassessment triggers)",
    }
    if features is not None and not features.empty:
        for f in features.itertuples():
            day = pd.Timestamp(f.launched_at).tz_convert(REPORTING_TZ).date()
            if first <= day <= last:
                rows.append(
                    {
                        **base,
                        "date": day,
                        "title": f"Feature launch: {f.feature} — reassess the risks it touches",
                        "obligation": f"{fw.id}:{triggers.feature_launch.ref_id}",
                        "rule": triggers.feature_launch.ref_id,
                        "detail": triggers.feature_launch.description,
                        "confidence": triggers.feature_launch.confidence,
                        "source": triggers.feature_launch.source,
                    }
                )
    for p in periods:
        day = _as_date(p.start)
        if first <= day <= last:
            rows.append(
                {
                    **base,
                    "date": day,
                    "title": f"High-risk period begins: {p.name} — reassess before it",
                    "obligation": f"{fw.id}:{triggers.high_risk_period.ref_id}",
                    "rule": triggers.high_risk_period.ref_id,
                    "detail": triggers.high_risk_period.description,
                    "confidence": triggers.high_risk_period.confidence,
                    "source": triggers.high_risk_period.source,
                }
            )
    return rows


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(REPORTING_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()
