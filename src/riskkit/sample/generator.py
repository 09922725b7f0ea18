"""Vectorised generation of the sample pack's tables from a :class:`~riskkit.sample.scenario.Scenario`.

Same ``(scenario, actions, seed)`` -> byte-identical files. Only ``numpy.random.Generator(PCG64)`` streams spawned
from the seed are used, always in the same order; no wall clock, no dict/set ordering dependence (tables follow the
contract's enum order or the scenario's list order). Events are generated month by month, so 10 million actions
fit in well under 4 GB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from riskkit import schema
from riskkit.library import Library
from riskkit.sample import output
from riskkit.sample.readme import Stats, render_readme
from riskkit.sample.scenario import DAY, HOUR, Scenario

_CATS = schema.HARM_CATEGORIES
_NC = len(_CATS)
_CAT = {c: i for i, c in enumerate(_CATS)}
_DET = {d: i for i, d in enumerate(schema.DETECTION_SOURCES)}
_ACT = {a: i for i, a in enumerate(schema.ACTIONS)}
_REPORTER = {r: i for i, r in enumerate(schema.REPORTER_TYPES)}
_REPORT_OUTCOME = {o: i for i, o in enumerate(schema.REPORT_OUTCOMES)}
_APPEAL_OUTCOME = {o: i for i, o in enumerate(schema.APPEAL_OUTCOMES)}
# ------------------------------------------------------------------------------------------------ helpers


def _by_cat(table: Mapping[str, Any]) -> list[Any]:
    """Values of a per-category table in schema order (the scenario checks every category is there)."""
    return [table[c] for c in _CATS]


def _probs(mapping: Mapping[str, float], options: tuple[str, ...]) -> list[float]:
    """A mix's shares in ``options`` order (0 for an option it leaves out)."""
    return [mapping.get(o, 0.0) for o in options]


def _cum(rows: list[list[float]] | np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities (last column exactly 1)."""
    p = np.asarray(rows, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    return cum


def _pick(rng: np.random.Generator, cum: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One categorical draw per row from the distribution ``cum[group[row]]``."""
    u = rng.random(len(group))
    return (u[:, None] >= cum[group]).sum(axis=1).astype(np.int8)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def _delays(
    rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int, floor: int
) -> np.ndarray:
    """``n`` lognormal delays in whole seconds (``median`` in seconds), each at least ``floor``."""
    return np.maximum(floor, np.rint(_lognormal(rng, median, sigma, n))).astype(np.int64)


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


# ------------------------------------------------------------------------------------------------ trends


def _mau_totals(sc: Scenario) -> np.ndarray:
    """Total Malaysian MAU per month: linear growth to the peak month, flat after (before any CPC removal)."""
    u, months = sc.users, sc.calendar.months
    peak = months.index(u.peak_month)
    t = np.minimum(np.arange(len(months)), peak)
    return u.mau_first + (u.mau_peak - u.mau_first) * t / peak


def _day_multipliers(sc: Scenario) -> np.ndarray:
    """Relative daily intensity per (day, category): users x weekday x base share x trends, in the scenario's order."""
    cal = sc.calendar
    day_start = cal.day_starts()
    month = cal.month_of(day_start)
    mau = _mau_totals(sc)[month] / sc.users.mau_first
    weekday = np.array(sc.volume.weekday)[(np.arange(cal.n_days) + sc.period.start.weekday()) % 7]
    w = np.outer(mau * weekday, np.array(_by_cat(sc.volume.base_share)))
    for cat, factors in sc.volume.monthly.items():
        w[:, _CAT[cat]] *= np.array(factors)[month]
    for period in sc.high_risk_periods:
        during = (day_start >= cal.at(period.start)) & (day_start < cal.at(period.end) + DAY)
        for cat, factor in period.volume.items():
            w[during, _CAT[cat]] *= factor
    for feature in sc.features:
        v = feature.volume
        if v is None:
            continue
        starts = cal.at(feature.launched_at.date()) if v.starts == "launch_day" else _epoch(feature.launched_at)
        since = (day_start - starts) / DAY
        after = since >= 0
        for cat, factor in v.factors.items():
            w[after, _CAT[cat]] *= factor + v.rise * np.minimum(1.0, since[after] / v.over_days) if v.rise else factor
    return w


# ------------------------------------------------------------------------------------------------ actions


class _Model:
    """The scenario's tables as arrays, derived once: probability tables, factors, texts and event times."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.cal = cal = sc.calendar
        new = sc.new_surface
        self.new_surface_at = _epoch(new.launched_at)
        surf_pre, surf_post = [], []
        for mix in _by_cat(sc.surface_mix):
            pre = _probs(mix.before, sc.surfaces)
            surf_pre.append(pre)
            post = [p * (1 - mix.new_surface) / sum(pre) for p in pre]
            post[sc.surfaces.index(new.new_surface)] = mix.new_surface
            surf_post.append(post)
        self.surface = _cum(surf_pre + surf_post)  # group = cat + NC * after the new surface's launch
        det = sc.detection
        self.detection_tool_at = cal.month_start(sc.tool(det.with_tool.tool).since)
        self.detection = _cum(
            [_probs(det.mix[c], schema.DETECTION_SOURCES) for c in _CATS]
            + [_probs(det.with_tool.mix.get(c, det.mix[c]), schema.DETECTION_SOURCES) for c in _CATS]
        )  # group = cat + NC * tool in use
        dec = sc.decision
        self.decision_tool_at = cal.month_start(sc.tool(dec.with_tool.tool).since)
        share, rows = dec.with_tool.human_to_hybrid, []
        for table in (dec.other_routes, dec.auto_detected):
            for tool in (False, True):
                for c in _CATS:
                    a, h, y = _probs(table[c], schema.DECISION_MAKERS)
                    if tool:
                        a, h, y = a, h * (1 - share), y + h * share
                    rows.append([a, h, y])
        self.decision = _cum(rows)  # group = cat + NC * (tool in use + 2 * auto_detected)
        self.action = _cum([_probs(sc.action_mix[c], schema.ACTIONS) for c in _CATS])
        hours = np.array([(h.median, h.sigma) for h in _by_cat(sc.handling.hours)], dtype=float)
        self.hours_median, self.hours_sigma = hours[:, 0], hours[:, 1]
        self.hours_source = np.array([sc.handling.source_factor[d] for d in schema.DETECTION_SOURCES])
        self.in_force_at = cal.at(sc.in_force.online_safety_act)
        self.in_my = np.array(_by_cat(sc.in_malaysia))
        self.minor = np.array(_by_cat(sc.involves_minor))
        self.to_authority = np.array(_by_cat(sc.reported_to_authority))
        self.missing_rationale = np.array(sc.record_gaps.rationale)
        self.missing_policy = np.array(sc.record_gaps.policy_ref)
        self.views_surface = np.array([sc.views.by_surface[s] for s in sc.surfaces])
        self.diurnal = np.array(sc.volume.diurnal, dtype=float)
        texts = sc.texts
        self.rationales = [  # index = cat * n_actions + action
            texts.no_violation.format(label=texts.label[c])
            if a == "no_violation"
            else texts.rationale.format(action=texts.action[a], label=texts.label[c])
            for c in _CATS
            for a in schema.ACTIONS
        ]
        self.policies = _by_cat(texts.policy)
        reporters = sc.reports.reporters
        self.reporters = _cum(
            [_probs(reporters.by_category.get(c, reporters.default), schema.REPORTER_TYPES) for c in _CATS]
        )
        self.appeal_rate = np.array([sc.appeals.rate[a] for a in schema.ACTIONS])
        self.reversal = np.array([sc.appeals.reversal[d] for d in schema.DECISION_MAKERS])


def _cell_counts(rng: np.random.Generator, n: int, sc: Scenario) -> np.ndarray:
    """Actions per (day, category): multinomial on the trend intensities, every category in every half-year."""
    w = _day_multipliers(sc)
    counts = rng.multinomial(n, (w / w.sum()).ravel()).reshape(w.shape)
    cal = sc.calendar
    n_halves = len(cal.halves)
    half = cal.half_of(cal.day_starts())
    days = [np.flatnonzero(half == h) for h in range(n_halves)]
    for h in range(n_halves):
        for c in range(_NC):
            if counts[days[h], c].sum() == 0:  # only possible for tiny packs: move one from the largest group
                groups = np.array([counts[days[g]].sum(axis=0) for g in range(n_halves)])
                gh, gc = np.unravel_index(np.argmax(groups), groups.shape)
                counts[days[gh][np.argmax(counts[days[gh], gc])], gc] -= 1
                counts[days[h][int(rng.integers(len(days[h])))], c] += 1
    return counts


def _month_actions(rng: np.random.Generator, t: _Model, counts: np.ndarray, first_day: int) -> dict[str, np.ndarray]:
    """Vectorised attributes of one month's actions, sorted by detected_at."""
    sc, cal = t.sc, t.cal
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    day = first_day + cell // _NC
    hour = rng.choice(24, size=cell.size, p=t.diurnal / t.diurnal.sum())
    detected = cal.start + day.astype(np.int64) * DAY + hour * HOUR + rng.integers(0, HOUR, cell.size)
    order = np.argsort(detected, kind="stable")
    detected = detected[order]
    cat = (cell % _NC)[order].astype(np.int8)
    n = cat.size
    del cell, day, hour, order

    half = cal.half_of(detected)
    surface = _pick(rng, t.surface, cat + _NC * (detected >= t.new_surface_at))
    source = _pick(rng, t.detection, cat + _NC * (detected >= t.detection_tool_at))
    auto = source == _DET["automated"]
    decision = _pick(rng, t.decision, cat + _NC * ((detected >= t.decision_tool_at) + 2 * auto))
    action = _pick(rng, t.action, cat)

    h = sc.handling
    median = t.hours_median[cat] * t.hours_source[source]
    median = np.where(detected >= t.in_force_at, median * h.factor_in_force, median)
    for period in sc.high_risk_periods:
        hit = np.isin(cat, [_CAT[c] for c in period.categories])
        during = (detected >= cal.at(period.start)) & (detected < cal.at(period.end) + DAY)
        median = np.where(hit & during, median * period.handling, median)
    hours = np.clip(_lognormal(rng, median, t.hours_sigma[cat], n), h.min_hours, h.max_days * 24)
    actioned = detected + np.maximum(h.min_seconds, np.rint(hours * HOUR)).astype(np.int64)
    backlog = (detected >= cal.end - h.backlog_days * DAY) & (rng.random(n) < h.backlog_share)
    is_open = (actioned > cal.as_of) | backlog

    in_my = rng.random(n) < t.in_my[cat]
    missing_rationale = rng.random(n) < t.missing_rationale[half]
    missing_policy = rng.random(n) < t.missing_policy[half]
    minor = rng.random(n) < t.minor[cat]
    violation = action != _ACT["no_violation"]
    to_authority = (rng.random(n) < t.to_authority[cat]) & violation
    content_no = rng.integers(*sc.content_numbers, n)
    account = np.isin(action, [_ACT[a] for a in schema.ACCOUNT_ACTIONS])
    v = sc.views
    pre_publication = auto & (rng.random(n) < v.pre_publication)
    views = _lognormal(rng, v.base * (1.0 + hours) ** v.exponent * t.views_surface[surface], v.sigma, n)
    views = np.where(pre_publication, 0, np.minimum(np.floor(views), v.cap)).astype(np.int64)
    return {
        "cat": cat,
        "half": half,
        "surface": surface,
        "detected": detected,
        "actioned": actioned,
        "open": is_open,
        "source": source,
        "decision": decision,
        "action": action,
        "in_my": in_my,
        "rationale": cat.astype(np.int16) * len(schema.ACTIONS) + action,
        "missing_rationale": missing_rationale,
        "missing_policy": missing_policy,
        "content_no": content_no,
        "account": account,
        "minor": minor,
        "views": views,
        "to_authority": to_authority,
    }


def _actions_table(a: dict[str, np.ndarray], ids: pa.Array, t: _Model, sch: pa.Schema) -> pa.Table:
    content = pc.cast(pa.array(a["content_no"]), pa.string())
    content = pc.if_else(
        pa.array(a["account"]),
        pc.binary_join_element_wise("u", content, ""),
        pc.binary_join_element_wise("c", content, ""),
    )
    cols = {
        "action_id": ids,
        "category": output.dictionary(a["cat"], _CATS),
        "surface": output.dictionary(a["surface"], t.sc.surfaces),
        "detected_at": output.timestamps(a["detected"]),
        "actioned_at": output.timestamps(a["actioned"], a["open"]),
        "detection_source": output.dictionary(a["source"], schema.DETECTION_SOURCES),
        "decision_by": output.dictionary(a["decision"], schema.DECISION_MAKERS),
        "action": output.dictionary(a["action"], schema.ACTIONS, a["open"]),  # empty while open (the contract)
        "in_malaysia": pa.array(a["in_my"]),
        "rationale": output.dictionary(a["rationale"], t.rationales, a["missing_rationale"]),
        "policy_ref": output.dictionary(a["cat"], t.policies, a["missing_policy"]),
        "content_id": content,
        "involves_minor": pa.array(a["minor"]),
        "views_before_action": pa.array(a["views"], mask=a["open"]),
        "reported_to_authority": pa.array(a["to_authority"]),
    }
    if "user_notified_at" in sch.names:
        sent, missing = _notices(a, t)
        cols["user_notified_at"] = output.timestamps(sent, missing)
    return output.arrow_table(cols, sch)


def _notices(a: dict[str, np.ndarray], t: _Model) -> tuple[np.ndarray, np.ndarray]:
    """Notice to the poster of content made inaccessible (ONSA s.26): derived from the content number, no draw."""
    n, cal = t.sc.notices, t.cal
    low, spread = n.delay_seconds
    sent = a["actioned"] + low + a["content_no"] % spread
    inaccessible = np.isin(a["action"], [schema.ACTIONS.index(x) for x in schema.INACCESSIBLE_ACTIONS])
    never = a["content_no"] // 7 % 100 < n.missing_per_100
    missing = ~inaccessible | a["open"] | (a["actioned"] < cal.at(n.since)) | never | (sent > cal.as_of)
    return sent, missing


# ------------------------------------------------------------------------------------------------ reports


def _month_reports(
    rng: np.random.Generator, t: _Model, a: dict[str, np.ndarray], action_ids: pa.Array
) -> dict[str, Any]:
    """Reports linked to this month's reported actions, plus reports that led to no action."""
    sc, cal = t.sc, t.cal
    rs = sc.reports
    linked = np.flatnonzero(a["source"] >= _DET["user_report"])
    nl = linked.size
    received_l = a["detected"][linked]
    cat_l = a["cat"][linked]
    src = a["source"][linked]
    reporter_l = _pick(rng, t.reporters, cat_l)
    reporter_l = np.where(
        src == _DET["trusted_flagger"],
        _REPORTER["trusted_flagger"],
        np.where(src == _DET["authority"], _REPORTER["authority"], reporter_l),
    )
    open_l = a["open"][linked]
    in_my_l = a["in_my"][linked]
    resolved_l = a["actioned"][linked]
    no_violation = a["action"][linked] == _ACT["no_violation"]
    outcome_l = np.where(no_violation, _REPORT_OUTCOME["no_violation"], _REPORT_OUTCOME["actioned"])
    outcome_l = np.where(open_l, _REPORT_OUTCOME["open"], outcome_l)

    un = rs.unlinked
    n_un = round(nl * un.per_linked) if nl else 0
    base = rng.integers(0, max(nl, 1), n_un)
    outcome_u = _pick(rng, _cum([_probs(un.outcomes, schema.REPORT_OUTCOMES)]), np.zeros(n_un, np.int8))
    dup = outcome_u == _REPORT_OUTCOME["duplicate"]
    jitter = np.where(
        dup,
        np.rint(_lognormal(rng, un.duplicate_after.median_hours * HOUR, un.duplicate_after.sigma, n_un)),
        rng.integers(-un.jitter_days * DAY, un.jitter_days * DAY, n_un),
    ).astype(np.int64)
    received_u = np.clip(received_l[base] + jitter, cal.start, cal.end - 1) if nl else np.zeros(0, np.int64)
    cat_u = cat_l[base] if nl else np.zeros(0, np.int8)
    reporter_u = _pick(rng, _cum([_probs(un.reporters, schema.REPORTER_TYPES)]), np.zeros(n_un, np.int8))
    resolve_u = np.where(
        dup,
        _lognormal(rng, un.resolve_duplicate.median_hours, un.resolve_duplicate.sigma, n_un),
        _lognormal(rng, un.resolve_other.median_hours, un.resolve_other.sigma, n_un),
    )
    resolved_u = received_u + np.maximum(un.min_resolve_seconds, np.rint(resolve_u * HOUR)).astype(np.int64)
    open_u = resolved_u > cal.as_of
    outcome_u = np.where(open_u, _REPORT_OUTCOME["open"], outcome_u)

    received = np.concatenate([received_l, received_u])
    resolved = np.concatenate([resolved_l, resolved_u])
    is_open = np.concatenate([open_l, open_u])
    m = received.size
    ack, assess = rs.acknowledge, rs.assess
    ack_at = received + _delays(rng, ack.median_seconds, ack.sigma, m, ack.min_seconds)
    assess_at = received + _delays(rng, assess.median_seconds, assess.sigma, m, assess.min_seconds)
    assess_at = np.where(is_open, assess_at, np.minimum(assess_at, resolved))
    ack_at = np.minimum(ack_at, assess_at)
    order = np.argsort(received, kind="stable")
    action_idx = np.concatenate([linked, np.full(n_un, -1)])[order]
    return {
        "received": received[order],
        "cat": np.concatenate([cat_l, cat_u])[order],
        "reporter": np.concatenate([reporter_l, reporter_u])[order].astype(np.int8),
        "ack": ack_at[order],
        "assess": assess_at[order],
        "resolved": resolved[order],
        "open": is_open[order],
        "outcome": np.concatenate([outcome_l, outcome_u])[order].astype(np.int8),
        "action_idx": action_idx,
        "action_ids": action_ids,
        "in_my": np.concatenate([in_my_l, in_my_l[base] if nl else np.zeros(0, bool)])[order],
    }


def _reports_table(r: dict[str, Any], ids: pa.Array, as_of: int, sch: pa.Schema) -> pa.Table:
    idx = r["action_idx"]
    no_link = idx < 0
    linked_ids = r["action_ids"].take(pa.array(np.where(no_link, 0, idx), mask=no_link))
    cols = {
        "report_id": ids,
        "received_at": output.timestamps(r["received"]),
        "category": output.dictionary(r["cat"], _CATS),
        "reporter_type": output.dictionary(r["reporter"], schema.REPORTER_TYPES),
        "acknowledged_at": output.timestamps(r["ack"], r["ack"] > as_of),
        "assessed_at": output.timestamps(r["assess"], r["assess"] > as_of),
        "resolved_at": output.timestamps(r["resolved"], r["open"]),
        "outcome": output.dictionary(r["outcome"], schema.REPORT_OUTCOMES),
        "action_id": linked_ids,
        "in_malaysia": pa.array(r["in_my"]),
    }
    return output.arrow_table(cols, sch)


# ------------------------------------------------------------------------------------------------ appeals


def _month_appeals(rng: np.random.Generator, t: _Model, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ap, as_of = t.sc.appeals, t.cal.as_of
    n = a["cat"].size
    appealed = (rng.random(n) < t.appeal_rate[a["action"]]) & ~a["open"]
    idx = np.flatnonzero(appealed)
    k = idx.size
    filed = a["actioned"][idx] + _delays(rng, ap.file.median_seconds, ap.file.sigma, k, ap.file.min_seconds)
    decided = filed + _delays(rng, ap.decide.median_seconds, ap.decide.sigma, k, ap.decide.min_seconds)
    reversed_ = rng.random(k) < t.reversal[a["decision"][idx]]
    keep = filed <= as_of
    idx, filed, decided, reversed_ = idx[keep], filed[keep], decided[keep], reversed_[keep]
    backlog = (filed >= as_of - ap.backlog_days * DAY) & (rng.random(filed.size) < ap.backlog_share)
    is_open = (decided > as_of) | backlog
    outcome = np.where(
        is_open,
        _APPEAL_OUTCOME["open"],
        np.where(reversed_, _APPEAL_OUTCOME["reversed"], _APPEAL_OUTCOME["upheld"]),
    ).astype(np.int8)
    order = np.argsort(filed, kind="stable")
    return {
        "action_idx": idx[order],
        "filed": filed[order],
        "decided": decided[order],
        "open": is_open[order],
        "outcome": outcome[order],
    }


def _appeals_table(p: dict[str, np.ndarray], ids: pa.Array, action_ids: pa.Array, sch: pa.Schema) -> pa.Table:
    cols = {
        "appeal_id": ids,
        "action_id": action_ids.take(pa.array(p["action_idx"])),
        "filed_at": output.timestamps(p["filed"]),
        "decided_at": output.timestamps(p["decided"], p["open"]),
        "outcome": output.dictionary(p["outcome"], schema.APPEAL_OUTCOMES),
    }
    return output.arrow_table(cols, sch)


# ------------------------------------------------------------------------------------------------ event tables


def _write_events(
    folder: Path, n: int, streams: Iterator[np.random.Generator], sc: Scenario
) -> tuple[dict[str, int], Stats]:
    """actions, reports and appeals, month by month (bounded memory)."""
    rng_a, rng_r, rng_p = next(streams), next(streams), next(streams)
    t = _Model(sc)
    cal = t.cal
    counts = _cell_counts(rng_a, n, sc)
    stats = Stats(counts, sc)
    schemas = {name: output.arrow_schema(schema.TABLES[name], types) for name, types in output.ARROW_TYPES.items()}
    sinks = {name: output.ParquetSink(folder / output.TABLE_FILES[name], sch) for name, sch in schemas.items()}
    month_of_day = cal.month_of(cal.day_starts())
    n_a = n_r = n_p = 0
    for m in range(len(cal.months)):
        days = np.flatnonzero(month_of_day == m)
        a = _month_actions(rng_a, t, counts[days[0] : days[-1] + 1], int(days[0]))
        ids = output.ids("A", n_a, a["cat"].size, 8)
        n_a += a["cat"].size
        sinks["actions"].add(_actions_table(a, ids, t, schemas["actions"]))
        r = _month_reports(rng_r, t, a, ids)
        r_ids = output.ids("R", n_r, r["received"].size, 8)
        sinks["reports"].add(_reports_table(r, r_ids, cal.as_of, schemas["reports"]))
        n_r += r["received"].size
        p = _month_appeals(rng_p, t, a)
        sinks["appeals"].add(_appeals_table(p, output.ids("AP", n_p, p["filed"].size, 7), ids, schemas["appeals"]))
        n_p += p["filed"].size
        stats.add(a, r, p)
        del a, r, p, ids
    return {name: sink.close() for name, sink in sinks.items()}, stats


# ------------------------------------------------------------------------------------------------ small tables


def _authority_frame(n_actions: int, rng: np.random.Generator, sc: Scenario) -> dict[str, Any]:
    q, cal = sc.authority_requests, sc.calendar
    n = max(q.minimum, n_actions // q.actions_per_request)
    agencies = [g.agency for g in q.agencies]
    w = _day_multipliers(sc)
    total = w.sum(axis=1)
    weights = np.stack(
        [
            g.share * (total * (w[:, _CAT[g.follows]] / w[:, _CAT[g.follows]].mean()) if g.follows else total)
            for g in q.agencies
        ],
        axis=1,
    )
    counts = rng.multinomial(n, (weights / weights.sum()).ravel()).reshape(weights.shape)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    day, agency = cell // len(agencies), (cell % len(agencies)).astype(np.int8)
    office = np.array(q.office_hours, dtype=float)
    received = cal.day_starts()[day] + rng.choice(24, size=cell.size, p=office / office.sum()) * HOUR
    received += rng.integers(0, HOUR, cell.size)
    order = np.argsort(received, kind="stable")
    received, agency = received[order], agency[order]
    kinds = list(schema.REQUEST_KINDS)
    kind = _pick(rng, _cum([_probs(g.kinds, schema.REQUEST_KINDS) for g in q.agencies]), agency)
    med = np.array([q.response[k].median_hours for k in kinds])[kind]
    sig = np.array([q.response[k].sigma for k in kinds])[kind]
    responded = received + _delays(rng, med * HOUR, sig, cell.size, q.min_response_seconds)
    outcome = _pick(rng, _cum([_probs(q.outcomes[k], schema.REQUEST_OUTCOMES) for k in kinds]), kind)
    waiting = (received >= cal.at(q.awaiting_from)) & (rng.random(cell.size) < q.awaiting_clarification)
    is_open = (responded > cal.as_of) | waiting
    if not is_open.any():  # small packs: the latest request is still being handled
        is_open[-1] = True
    outcome = np.where(is_open, schema.REQUEST_OUTCOMES.index("open"), outcome)
    fixed = q.fixed
    stamp = lambda values: np.array(  # noqa: E731
        ["" if v is None else output.local_text(np.array([int(v.timestamp())]), cal.offset)[0] for v in values],
        dtype=object,
    )
    return {
        "request_id": output.ids("AR", 0, cell.size + len(fixed), 6).to_numpy(zero_copy_only=False),
        "agency": np.concatenate([np.array(agencies, dtype=object)[agency], [f.agency for f in fixed]]),
        "kind": np.concatenate([np.array(kinds, dtype=object)[kind], [f.kind for f in fixed]]),
        "received_at": np.concatenate([output.local_text(received, cal.offset), stamp(f.received_at for f in fixed)]),
        "responded_at": np.concatenate(
            [output.local_text(responded, cal.offset, is_open), stamp(f.responded_at for f in fixed)]
        ),
        "outcome": np.concatenate(
            [np.array(schema.REQUEST_OUTCOMES, dtype=object)[outcome], [f.outcome for f in fixed]]
        ),
        "due_at": np.concatenate([np.full(cell.size, "", dtype=object), stamp(f.due_at for f in fixed)]),
    }


def _users_frame(rng: np.random.Generator, sc: Scenario) -> dict[str, list[Any]]:
    u, cal = sc.users, sc.calendar
    n_months = len(cal.months)
    totals = _mau_totals(sc)
    peak = int(np.argmax(totals))
    totals = totals * (1 + rng.normal(0, u.mau_noise, n_months))
    totals = np.minimum(totals, np.where(np.arange(n_months) == peak, np.inf, u.below_peak * totals[peak]))
    shrink_from = cal.months.index(u.unknown_shrinks_from)
    cpc = sc.in_force.child_protection_code
    cpc_month = f"{cpc.year}-{cpc.month:02d}"
    unknown = schema.AGE_BANDS.index("unknown")
    months, bands, mau, verified = [], [], [], []
    for m, month in enumerate(cal.months):
        noise = 1 + rng.normal(0, u.band_noise, len(schema.AGE_BANDS))
        shares = np.array([u.band_share[b] for b in schema.AGE_BANDS]) * noise
        if m >= shrink_from:  # age checks move "unknown" accounts into bands
            shares[unknown] *= 1 - u.unknown_shrink_per_month * (m - shrink_from + 1)
        counts = totals[m] * shares / shares.sum()
        for b, band in enumerate(schema.AGE_BANDS):
            value = counts[b]
            if month >= cpc_month and band in u.kept_after_child_protection_code:
                value *= u.kept_after_child_protection_code[band]
            months.append(month)
            bands.append(band)
            mau.append(round(value))
            verified.append(_verified_share(sc, band, m))
    return {"month": months, "age_band": bands, "mau": mau, "age_verified": [f"{v:.4f}" for v in verified]}


def _verified_share(sc: Scenario, band: str, m: int) -> float:
    """Share of the band's accounts with a verified age in month ``m``: a trickle, then the ramp."""
    v = sc.users.age_verified
    if band in v.never:
        return 0.0
    ramp_from = sc.calendar.months.index(v.ramp_from)
    if m < ramp_from:
        return v.trickle.base[band] + v.trickle.per_month * m
    return v.ramp[band][m - ramp_from]


def _capacity_frame(rng: np.random.Generator, sc: Scenario) -> dict[str, list[Any]]:
    c = sc.capacity
    training, wellbeing = c.training_hours_per_fte, c.wellbeing_hours_per_fte
    out: dict[str, list[Any]] = {col: [] for col in schema.CAPACITY_TABLE.column_names}
    for m, month in enumerate(sc.calendar.months):
        fte = c.local_moderators_fte[m] + float(rng.normal(0, c.fte_noise))
        per_fte_training = (
            training.base
            + (training.extra if month in training.extra_months else 0.0)
            + (training.from_extra if month >= training.from_month else 0.0)
        )
        per_fte_wellbeing = wellbeing.base if month < wellbeing.from_month else wellbeing.from_value
        out["month"].append(month)
        out["local_moderators_fte"].append(f"{fte:.1f}")
        out["languages"].append(";".join(c.languages))
        out["training_hours"].append(f"{fte * per_fte_training * float(rng.uniform(*training.jitter)):.1f}")
        out["wellbeing_hours"].append(f"{fte * per_fte_wellbeing * float(rng.uniform(*wellbeing.jitter)):.1f}")
        out["automated_tools"].append(";".join(t.tool for t in sc.tools if t.since <= month))
    return out


def _prevalence_frame(rng: np.random.Generator, sc: Scenario) -> dict[str, list[Any]]:
    p, cal = sc.prevalence, sc.calendar
    w = _day_multipliers(sc)
    base = np.array(_by_cat(sc.volume.base_share))
    month_of_day = cal.month_of(cal.day_starts())
    rate = np.array(_by_cat(p.per_10k)) / 10_000
    low, high = p.views_sampled
    out: dict[str, list[Any]] = {col: [] for col in schema.PREVALENCE_TABLE.column_names}
    for m in range(len(cal.months)):
        trend = w[month_of_day == m].mean(axis=0) / base / (_mau_totals(sc)[m] / sc.users.mau_first)
        sampled_at = cal.month_starts[m] + (p.day - 1) * DAY + p.hour * HOUR
        views = rng.integers(low, high + 1, _NC)
        violating = rng.binomial(views, np.minimum(rate * trend, 1.0))
        for c in range(_NC):
            out["sampled_at"].append(output.local_text(np.array([sampled_at]), cal.offset)[0])
            out["category"].append(_CATS[c])
            out["views_sampled"].append(int(views[c]))
            out["views_violating"].append(int(violating[c]))
    return out


def _age_assurance_frame(sc: Scenario) -> dict[str, list[Any]]:
    """The age_assurance table as the scenario gives it (no draw)."""
    names = schema.AGE_ASSURANCE_TABLE.column_names
    return {name: [getattr(row, name) for row in sc.age_assurance] for name in names}


def _features_frame(sc: Scenario) -> dict[str, list[Any]]:
    rows = sorted(sc.features, key=lambda f: f.launched_at)
    return {
        "feature": [f.feature for f in rows],
        "launched_at": list(output.local_text(np.array([_epoch(f.launched_at) for f in rows]), sc.calendar.offset)),
        "surfaces": [";".join(f.surfaces) for f in rows],
        "available_to_minors": list(output.bool_text(np.array([f.available_to_minors for f in rows]))),
        "notes": [f.notes for f in rows],
    }


# ------------------------------------------------------------------------------------------------ audits


def _checklists(library: Library) -> list[tuple[str, list[str]]]:
    """(audit name, item ref_ids) of every checklist of the library."""
    return [(audit, [item.ref_id for item in fw.items]) for audit, fw in library.checklists().items()]


def _audit_answers(rng: np.random.Generator, library: Library, sc: Scenario) -> dict[str, pd.DataFrame]:
    """Answers to every item of every checklist framework, one frame per framework short name."""
    au = sc.audits
    statuses = np.array(schema.AUDIT_STATUSES, dtype=object)
    status_cum = _cum([_probs(au.status_mix, schema.AUDIT_STATUSES)])
    answers: dict[str, pd.DataFrame] = {}
    given = {(d.audit, d.item): d.answer for d in au.answered}
    for name, all_refs in _checklists(library):
        refs = [r for r in all_refs if (name, r) not in given]  # answered items are not drawn
        k = len(refs)
        status = statuses[_pick(rng, status_cum, np.zeros(k, np.int8))]
        graded = list(au.maturity.items())
        maturity = np.select(
            [status == s for s, _ in graded],
            [rng.integers(lo, hi + 1, k) if hi > lo else np.full(k, lo) for _, (lo, hi) in graded],
            -1,
        )
        lead = next((owner for key, owner in au.lead_owners.items() if key in name), au.owners[0])
        answers[name] = pd.DataFrame(
            {
                "item_id": refs,
                "status": status,
                "maturity": ["" if v < 0 else str(v) for v in maturity],
                "evidence": [au.evidence.format(audit=name, number=i + 1) for i in range(k)],
                "owner": [
                    lead if u < au.lead_owner_share else au.owners[int(u * 10) % len(au.owners)] for u in rng.random(k)
                ],
                "notes": [au.not_applicable_note if s == "not_applicable" else "" for s in status],
                "assessed_by": au.assessed_by,
                "assessed_on": au.assessed_on,
            },
            columns=[c.name for c in schema.AUDIT_TABLE.columns if c.required],
        )
        extra = [
            {"item_id": r, "assessed_by": au.assessed_by, "assessed_on": au.assessed_on, **given[(name, r)]}
            for r in all_refs
            if (name, r) in given
        ]
        if extra:
            frame = pd.concat([answers[name], pd.DataFrame(extra)], ignore_index=True).fillna("")
            order = {r: i for i, r in enumerate(all_refs)}
            answers[name] = frame.sort_values("item_id", key=lambda s: s.map(order), kind="stable").reset_index(
                drop=True
            )[list(answers[name].columns)]
    for designed in au.designed:  # answers set on purpose, so the audits have something to find
        frame = answers.get(designed.audit)
        if frame is None or designed.item not in set(frame["item_id"]):
            continue
        for column, value in designed.answer.items():
            frame.loc[frame["item_id"] == designed.item, column] = value
    return answers


# ------------------------------------------------------------------------------------------------ the pack


def write_pack(folder: Path, n: int, seed: int, library: Library, sc: Scenario) -> dict[str, int]:
    """Write every file of the pack into ``folder``; returns the rows per table (and per audit file)."""
    streams = iter(np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(8))
    rows, stats = _write_events(folder, n, streams, sc)
    small = {
        "authority_requests": _authority_frame(n, next(streams), sc),
        "users": _users_frame(next(streams), sc),
        "capacity": _capacity_frame(next(streams), sc),
        "feature_changes": _features_frame(sc),
        "prevalence_samples": _prevalence_frame(next(streams), sc),
    }
    if sc.age_assurance:
        small["age_assurance"] = _age_assurance_frame(sc)
    for name, columns in small.items():
        rows[name] = output.write_csv(folder / output.TABLE_FILES[name], schema.TABLES[name], columns)
    audits = {}
    for name, frame in _audit_answers(next(streams), library, sc).items():
        (folder / "audits").mkdir(exist_ok=True)
        audits[name] = f"audits/{name}.csv"
        rows[f"audits/{name}"] = output.write_frame(folder / audits[name], frame)
    pf = sc.platform
    meta = {
        "contract": schema.CONTRACT_VERSION,
        "platform": {
            "name": pf.name,
            "service_type": pf.service_type,
            "licence_id": pf.licence_id,
            "description": pf.description.format(seed=seed),
        },
        "timezone": pf.timezone,
        "as_of": pf.as_of.isoformat(),
        "generator": {"name": "riskkit.sample", "seed": seed, "actions": n},
        "tables": {k: v for k, v in output.TABLE_FILES.items() if k in rows},
        "age_verified_unit": "share",
        "surfaces": list(sc.surfaces),
        "high_risk_periods": [p.declared() for p in sc.high_risk_periods],
        "audits": audits,
    }
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False)
    (folder / "datapack.yaml").write_text(text, encoding="utf-8")
    readme = render_readme(sc, n=n, seed=seed, rows=rows, stats=stats, small=small, files=output.TABLE_FILES)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    return rows
