"""The pack's README.md: figures measured while generating, rendered through the ``README.md.j2`` template.

:class:`Stats` gathers exact counts month by month (the event tables never sit in memory whole);
:func:`render_readme` turns them, the small tables and the scenario's design values into the template's context.
The template owns the wording and the layout; this module only computes numbers.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from riskkit import schema
from riskkit.sample.scenario import HOUR, Scenario

TEMPLATE = Path(__file__).with_name("README.md.j2")

#: Clocks the README measures (hours): time to action, report acknowledgement and assessment.
ACTION_CLOCK, ACK_CLOCK, ASSESS_CLOCK = 24, 1, 12
#: Priority content whose time to action is compared by detection route.
PRIORITY = ("csam", "financial_scam")

_CATS = schema.HARM_CATEGORIES
_NC = len(_CATS)
_DET = {d: i for i, d in enumerate(schema.DETECTION_SOURCES)}
_ACT = {a: i for i, a in enumerate(schema.ACTIONS)}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Stats:
    """Exact figures of the generated events, gathered month by month for the pack's README."""

    def __init__(self, daily: np.ndarray, sc: Scenario) -> None:
        z = np.zeros
        nh = len(sc.calendar.halves)
        self.as_of = sc.calendar.as_of
        self.daily = daily  # actions per (day, category)
        self.count, self.proactive = z((nh, _NC), np.int64), z((nh, _NC), np.int64)
        self.closed, self.breach = z((nh, _NC), np.int64), z((nh, _NC), np.int64)
        self.closed_rep, self.breach_rep = z((_NC, 2), np.int64), z((_NC, 2), np.int64)
        self.decision = z((_NC, len(schema.DECISION_MAKERS)), np.int64)
        self.action = z((_NC, len(schema.ACTIONS)), np.int64)
        self.surface = z(len(sc.surfaces), np.int64)
        self.half_n, self.no_rationale, self.no_policy = z(nh, np.int64), z(nh, np.int64), z(nh, np.int64)
        self.in_my = self.open_actions = self.reported_actions = 0
        self.hours: list[tuple[np.ndarray, np.ndarray]] = []
        self.report_outcome = z(len(schema.REPORT_OUTCOMES), np.int64)
        self.reporter = z(len(schema.REPORTER_TYPES), np.int64)
        self.linked = self.ack_ok = self.ack_n = self.assess_ok = self.assess_n = 0
        self.appeals = self.appealable = self.appeals_open = 0
        self.appeal_decided = z(len(schema.DECISION_MAKERS), np.int64)
        self.appeal_reversed = z(len(schema.DECISION_MAKERS), np.int64)

    def add(self, a: dict[str, np.ndarray], r: dict[str, Any], p: dict[str, np.ndarray]) -> None:
        """Count one month's actions ``a``, reports ``r`` and appeals ``p``."""

        def count(keys: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
            return np.bincount(keys, minlength=int(np.prod(shape))).reshape(shape)

        nh = self.count.shape[0]
        cat = a["cat"].astype(np.intp)
        half = a["half"]
        hc = half * _NC + cat
        closed = ~a["open"]
        hours = (a["actioned"] - a["detected"]) / HOUR
        late = closed & (hours > ACTION_CLOCK)
        reported = (a["source"] >= _DET["user_report"]).astype(np.intp)
        self.count += count(hc, (nh, _NC))
        self.proactive += count(hc[a["source"] <= _DET["proactive_human"]], (nh, _NC))
        self.closed += count(hc[closed], (nh, _NC))
        self.breach += count(hc[late], (nh, _NC))
        self.closed_rep += count((cat * 2 + reported)[closed], (_NC, 2))
        self.breach_rep += count((cat * 2 + reported)[late], (_NC, 2))
        self.decision += count(cat * len(schema.DECISION_MAKERS) + a["decision"], self.decision.shape)
        self.action += count(cat * len(schema.ACTIONS) + a["action"], self.action.shape)
        self.surface += count(a["surface"].astype(np.intp), self.surface.shape)
        self.half_n += count(half, (nh,))
        self.no_rationale += count(half[a["missing_rationale"]], (nh,))
        self.no_policy += count(half[a["missing_policy"]], (nh,))
        self.in_my += int(a["in_my"].sum())
        self.open_actions += int(a["open"].sum())
        self.reported_actions += int(reported.sum())
        self.hours.append((a["cat"][closed], hours[closed].astype(np.float32)))
        self.report_outcome += count(r["outcome"].astype(np.intp), self.report_outcome.shape)
        self.reporter += count(r["reporter"].astype(np.intp), self.reporter.shape)
        self.linked += int((r["action_idx"] >= 0).sum())
        acked, assessed = r["ack"] <= self.as_of, r["assess"] <= self.as_of
        self.ack_n += int(acked.sum())
        self.ack_ok += int((acked & (r["ack"] - r["received"] <= ACK_CLOCK * HOUR)).sum())
        self.assess_n += int(assessed.sum())
        self.assess_ok += int((assessed & (r["assess"] - r["received"] <= ASSESS_CLOCK * HOUR)).sum())
        self.appeals += p["filed"].size
        self.appealable += int((a["action"] != _ACT["no_violation"]).sum())
        self.appeals_open += int(p["open"].sum())
        decided = ~p["open"]
        maker = a["decision"][p["action_idx"]].astype(np.intp)
        self.appeal_decided += count(maker[decided], self.appeal_decided.shape)
        reversed_ = p["outcome"] == schema.APPEAL_OUTCOMES.index("reversed")
        self.appeal_reversed += count(maker[decided & reversed_], self.appeal_reversed.shape)

    def hour_quantiles(self) -> np.ndarray:
        """(median, p90) hours to action per category, closed items."""
        cats = np.concatenate([c for c, _ in self.hours])
        hours = np.concatenate([h for _, h in self.hours])
        out = np.full((_NC, 2), np.nan)
        for c in range(_NC):
            values = hours[cats == c]
            if values.size:
                out[c] = np.percentile(values, [50, 90])
        return out


# ------------------------------------------------------------------------------------------------ rendering


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def _pct(x: float) -> str:
    """A share as a percentage with one decimal ("–" when undefined)."""
    return "–" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _fmt(value: Any, spec: str = "") -> str:
    """``format(value, spec)``, or :func:`_pct` for the spec "pct"."""
    return _pct(value) if spec == "pct" else format(value, spec)


def _listing(pairs: list[tuple[str, Any]], spec: str = "", suffix: str = "") -> str:
    """``name value, name value, ...`` of (name, value) pairs, values formatted with ``spec`` then ``suffix``."""
    return ", ".join(f"{name} {_fmt(value, spec)}{suffix}" for name, value in pairs)


def _day(value: date) -> str:
    """A date as "1 Jan 2025" (English month names whatever the locale)."""
    return f"{value.day} {_MONTH_NAMES[value.month - 1]} {value.year}"


def _month(value: str | date) -> str:
    """A date or a "YYYY-MM" month as "Aug 2025"."""
    year, month = (value.year, value.month) if isinstance(value, date) else (int(value[:4]), int(value[5:7]))
    return f"{_MONTH_NAMES[month - 1]} {year}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=False,  # Markdown, not HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(fmt=_fmt, pct=_pct, listing=_listing, day=_day, month=_month)
    return env


def render_readme(
    sc: Scenario,
    *,
    n: int,
    seed: int,
    rows: dict[str, int],
    stats: Stats,
    small: dict[str, dict[str, Any]],
    files: dict[str, str],
) -> str:
    """The pack's README: the fictional platform, every pattern with its design values and measured values."""
    context = {
        "sc": sc,
        "cal": sc.calendar,
        "n": n,
        "seed": seed,
        "rows": rows,
        "files": [
            {"table": k, "file": f, "rows": rows[k], "row_unit": schema.TABLES[k].row_unit} for k, f in files.items()
        ],
        "audit_files": [k for k in rows if k.startswith("audits/")],
        "schema": schema,
        **_design(sc),
        **_actions(sc, n, stats),
        **_small_tables(sc, small),
    }
    return _environment().get_template(TEMPLATE.name).render(context)


def _design(sc: Scenario) -> dict[str, Any]:
    """Design values the README quotes that are combinations of scenario values."""
    cal = sc.calendar
    mix = sc.detection.mix
    tool = sc.detection.with_tool
    in_force = cal.months.index(f"{sc.in_force.online_safety_act:%Y-%m}")
    last_half = cal.month_starts.index(cal.half_starts[-2])
    scam = sc.volume.monthly["financial_scam"]
    return {
        "base_shares": [(c, sc.volume.base_share[c]) for c in _CATS],
        "source_factors": [(d, sc.handling.source_factor[d]) for d in schema.DETECTION_SOURCES],
        "band_shares": [(b, sc.users.band_share[b]) for b in schema.AGE_BANDS],
        "status_mix": [(s, sc.audits.status_mix[s]) for s in schema.AUDIT_STATUSES if s in sc.audits.status_mix],
        "proactive_design": {c: mix[c]["automated"] + mix[c]["proactive_human"] for c in _CATS},
        "proactive_with_tool": {c: m["automated"] + m["proactive_human"] for c, m in tool.mix.items()},
        "detection_tool": sc.tool(tool.tool),
        "fte_before_in_force": sc.capacity.local_moderators_fte[in_force - 1],
        "fte_in_force": sc.capacity.local_moderators_fte[in_force],
        "scam_last_half": (scam[last_half], scam[-1]),
        "tools_at_start": [t.tool for t in sc.tools if t.since <= cal.months[0]],
        "election": sc.high_risk_periods[0],
        "ai_tool": sc.feature("AI image tool"),
        "live": sc.new_surface,
    }


def _actions(sc: Scenario, n: int, st: Stats) -> dict[str, Any]:
    """Measured figures of the event tables (actions, reports, appeals)."""
    cal = sc.calendar
    nh = len(cal.halves)
    total = st.count.sum(axis=0)
    dec_tot, act_tot = st.decision.sum(axis=1), st.action.sum(axis=1)
    q = st.hour_quantiles()
    closed_all, breach_all = st.closed.sum(axis=0), st.breach.sum(axis=0)
    pri = [_CATS.index(c) for c in PRIORITY]
    categories = [
        {
            "name": c,
            "count": [int(st.count[h, i]) for h in range(nh)],
            "share": _ratio(total[i], total.sum()),
            "proactive": [_ratio(st.proactive[h, i], st.count[h, i]) for h in range(nh)],
            "decision": [_ratio(st.decision[i, j], dec_tot[i]) for j in range(len(schema.DECISION_MAKERS))],
            "action": [_ratio(st.action[i, j], act_tot[i]) for j in range(len(schema.ACTIONS))],
            "hours": sc.handling.hours[c],
            "median_hours": q[i, 0],
            "p90_hours": q[i, 1],
            "late": _ratio(breach_all[i], closed_all[i]),
            "late_per_half": [_ratio(st.breach[h, i], st.closed[h, i]) for h in range(nh)],
        }
        for i, c in enumerate(_CATS)
    ]

    daily = st.daily
    election = sc.high_risk_periods[0]
    e0, e1 = cal.day_of(cal.at(election.start)), cal.day_of(cal.at(election.end)) + 1
    b0 = e0 - (e1 - e0)
    ai = cal.day_of(int(sc.feature("AI image tool").launched_at.timestamp()))

    def per_day(cat: str, lo: int, hi: int) -> float:
        return daily[lo:hi, _CATS.index(cat)].sum() / (hi - lo)

    scam = st.count[:, _CATS.index("financial_scam")]
    media = "manipulated_media"
    return {
        "n_halves": nh,
        "categories": categories,
        "total_per_half": [int(st.count[h].sum()) for h in range(nh)],
        "open_actions": st.open_actions,
        "priority_late_reported": _ratio(st.breach_rep[pri, 1].sum(), st.closed_rep[pri, 1].sum()),
        "priority_late_proactive": _ratio(st.breach_rep[pri, 0].sum(), st.closed_rep[pri, 0].sum()),
        "in_malaysia": _ratio(st.in_my, n),
        "no_rationale": [(h, _ratio(st.no_rationale[i], st.half_n[i])) for i, h in enumerate(cal.halves)],
        "no_policy": [(h, _ratio(st.no_policy[i], st.half_n[i])) for i, h in enumerate(cal.halves)],
        "surfaces": [(s, _ratio(st.surface[i], n)) for i, s in enumerate(sc.surfaces)],
        "scam_halves": (int(scam[-2]), int(scam[-1]), _ratio(scam[-1], scam[-2]) - 1),
        "election_days": e1 - e0,
        "election_trends": [
            (c, per_day(c, e0, e1), per_day(c, b0, e0), _ratio(per_day(c, e0, e1), per_day(c, b0, e0)))
            for c in election.categories
        ],
        "ai_trend": (per_day(media, e1, ai), per_day(media, ai, cal.n_days)),
        "ai_trend_ratio": _ratio(per_day(media, ai, cal.n_days), per_day(media, e1, ai)),
        "report_outcomes": list(zip(schema.REPORT_OUTCOMES, st.report_outcome.tolist(), strict=True)),
        "open_reports": int(st.report_outcome[schema.REPORT_OUTCOMES.index("open")]),
        "reporters": list(zip(schema.REPORTER_TYPES, st.reporter.tolist(), strict=True)),
        "reported_actions": st.reported_actions,
        "linked": st.linked,
        "ack_ok": _ratio(st.ack_ok, st.ack_n),
        "assess_ok": _ratio(st.assess_ok, st.assess_n),
        "clocks": {"action": ACTION_CLOCK, "ack": ACK_CLOCK, "assess": ASSESS_CLOCK},
        "priority": PRIORITY,
        "appeals": st.appeals,
        "appeal_share": _ratio(st.appeals, st.appealable),
        "reversals": [
            (m, _ratio(st.appeal_reversed[i], st.appeal_decided[i]), sc.appeals.reversal[m])
            for i, m in enumerate(schema.DECISION_MAKERS)
        ],
        "appeals_open": st.appeals_open,
    }


def _small_tables(sc: Scenario, small: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Measured figures of the small tables (authority requests, users, capacity, features, prevalence)."""
    cal = sc.calendar
    ar = pd.DataFrame(small["authority_requests"])
    received = pd.to_datetime(ar["received_at"], format="ISO8601", utc=True)
    responded = pd.to_datetime(ar["responded_at"].replace("", None), format="ISO8601", utc=True)
    ar["hours"] = (responded - received).dt.total_seconds() / 3600
    by_kind = ar.groupby("kind")["hours"].median()

    users = pd.DataFrame(small["users"])
    users["age_verified"] = users["age_verified"].astype(float)
    mau = users.pivot(index="month", columns="age_band", values="mau")
    verified = users.pivot(index="month", columns="age_band", values="age_verified")
    totals = mau.sum(axis=1)
    cpc = f"{sc.in_force.child_protection_code:%Y-%m}"
    before_cpc = cal.months[cal.months.index(cpc) - 1]
    before_ramp = cal.months[cal.months.index(sc.users.age_verified.ramp_from) - 1]
    last = cal.months[-1]

    cap = pd.DataFrame(small["capacity"])
    feats = pd.DataFrame(small["feature_changes"])
    prev = pd.DataFrame(small["prevalence_samples"])
    sums = prev.groupby("category")[["views_sampled", "views_violating"]].sum()
    return {
        "requests": len(ar),
        "requests_by_agency": [
            (
                g.agency,
                [int(((ar.agency == g.agency) & (ar.kind == k)).sum()) for k in schema.REQUEST_KINDS],
                int((ar.agency == g.agency).sum()),
            )
            for g in sc.authority_requests.agencies
        ],
        "request_outcomes": [(o, int((ar.outcome == o).sum())) for o in schema.REQUEST_OUTCOMES],
        "response_medians": [(k, by_kind.get(k, float("nan"))) for k in schema.REQUEST_KINDS],
        "mau_first": (int(totals.iloc[0]), totals.index[0]),
        "mau_peak": (int(totals.max()), totals.idxmax()),
        "mau_lowest": (int(totals.min()), totals.idxmin()),
        "cpc_removal": [
            (band, int(mau.loc[before_cpc, band]), int(mau.loc[cpc, band]))
            for band in schema.AGE_BANDS
            if band in sc.users.kept_after_child_protection_code
        ],
        "verified_rise": [
            (band, before_ramp, float(verified.loc[before_ramp, band]), last, float(verified.loc[last, band]))
            for band in ("18_plus", "16_17")
        ],
        "fte_first": (cap.local_moderators_fte.iloc[0], cap.month.iloc[0]),
        "fte_last": (cap.local_moderators_fte.iloc[-1], cap.month.iloc[-1]),
        "features": feats[["feature", "launched_at", "surfaces", "available_to_minors"]].values.tolist(),
        "prevalence_rows": len(prev),
        "prevalence_per_10k": [
            (c, 1e4 * _ratio(sums.loc[c, "views_violating"], sums.loc[c, "views_sampled"])) for c in _CATS
        ],
    }
