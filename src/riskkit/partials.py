"""The partial aggregates behind the metrics, defined once for every engine.

Each table's :class:`~riskkit.engines.expr.Spec` says which rows are counted, split by scope × period × category
(× level), and which durations are histogrammed. :mod:`riskkit.metrics` asks an engine (in-process NumPy, DuckDB,
Spark, a warehouse through Ibis) to evaluate these specs, then finalises the partials into rates, intervals, tests and
nearest-rank percentiles with one piece of code. See the metric registry for what each sum becomes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from riskkit import schema
from riskkit.engines.expr import (
    HORIZON,
    ByLevel,
    Count,
    Expr,
    FirstOf,
    Hist,
    JoinOne,
    Relation,
    Spec,
    Total,
    col,
)
from riskkit.library import Clock

PROACTIVE_SOURCES = ("automated", "proactive_human")
FIRST_APPEAL = "first_appeal_filed_at"


def clock_exprs(clock: Clock, category: Expr, action: Expr | None) -> tuple[Expr, Expr]:
    """(within, due) of one clock; see the ``sla`` registry entry for the convention."""
    start, stop = col(clock.start), col(clock.stop)
    applies = category.isin(clock.categories)
    if action is not None and clock.stop_actions is not None:
        decided_otherwise = stop.notnull() & ~action.isin(clock.stop_actions)
        applies = applies & ~decided_otherwise
    deadline = start + round(clock.hours * 3_600_000_000)
    stopped = stop.notnull() & (stop < HORIZON)
    within = applies & stopped & (stop <= deadline)
    late = applies & stopped & (stop > deadline)
    overdue_open = applies & ~stopped & (deadline < HORIZON)
    return within, within | late | overdue_open


def actions_spec(
    clocks: list[Clock], columns: Collection[str], cohort: str = "detected_at", appeals: bool = False
) -> Spec:
    """Decisions, enforcement, detection, automation, record keeping, time to action, surfaces, clocks; with
    ``appeals``, also the enforced actions appealed before their cycle ended (for the appeal rate)."""
    detected, actioned, action = col("detected_at"), col("actioned_at"), col("action")
    source, decider = col("detection_source"), col("decision_by")
    rationale, policy = col("rationale").present(), col("policy_ref").present()
    done = actioned.notnull() & (actioned < HORIZON)
    enforced = action != "no_violation"
    a: dict = {
        "decisions": Count(),
        "enforced": Count(enforced),
        "accounts": Count(action.isin(schema.ACCOUNT_ACTIONS)),
        "proactive": Count(enforced & source.isin(PROACTIVE_SOURCES)),
        "open": Count(~done),
        "auto_detect": Count(source == "automated"),
        "auto_decide": Count(decider == "automated"),
        "by_action": ByLevel("action", schema.ACTIONS),
        "by_source": ByLevel("detection_source", schema.DETECTION_SOURCES),
        "by_decider": ByLevel("decision_by", schema.DECISION_MAKERS),
        "has_rationale": Count(enforced & rationale),
        "has_policy": Count(enforced & policy),
        "has_both": Count(enforced & rationale & policy),
        "tta_hist": Hist(detected.minutes_until(actioned), enforced & done),
        "surface": ByLevel("surface", None),
        "surface_enforced": ByLevel("surface", None, enforced),
    }
    if "user_notified_at" in columns:  # ONSA s.26: the poster told in writing of a decision against them
        notified = col("user_notified_at")
        decided = action.isin(schema.INACCESSIBLE_ACTIONS) & done
        a["poster_decided"] = Count(decided)
        a["poster_told"] = Count(decided & notified.notnull() & (notified < HORIZON))
    if "content_posted_at" in columns:  # informational: age of the content when decided (never time to action)
        posted = col("content_posted_at")
        a["content_age_hist"] = Hist(posted.minutes_until(actioned), enforced & done & posted.notnull())
    for clock in clocks:
        within, due = clock_exprs(clock, col("category"), action if clock.stop_actions else None)
        a[f"sla_within:{clock.ref_id}"] = Count(within)
        a[f"sla_due:{clock.ref_id}"] = Count(due)
    joins: tuple = ()
    if appeals:
        joins = (FirstOf("appeals", "action_id", "filed_at", FIRST_APPEAL),)
        a["appealed"] = Count(enforced & (col(FIRST_APPEAL) < HORIZON))
    return Spec("actions", Relation("actions", joins), cohort, "category", col("in_malaysia").fill(False), a)


def reports_spec(clocks: list[Clock], columns: Collection[str]) -> Spec:
    """Reports received (by reporter), outcomes of those closed by the cycle end, handling times, clocks."""
    received, resolved, outcome = col("received_at"), col("resolved_at"), col("outcome")
    closed = resolved.notnull() & (resolved < HORIZON)
    a: dict = {
        "received": Count(),
        "by_reporter": ByLevel("reporter_type", schema.REPORTER_TYPES),
        "closed": Count(closed),
        "open": Count(~closed),
    }
    for name in ("actioned", "dismissed", "duplicate"):
        a[name] = Count(closed & (outcome == name))
    for column, key in (("acknowledged_at", "ack_hist"), ("assessed_at", "assess_hist")):
        stop = col(column)
        a[key] = Hist(received.minutes_until(stop), stop.notnull() & (stop < HORIZON))
    for clock in clocks:
        within, due = clock_exprs(clock, col("category"), None)
        a[f"sla_within:{clock.ref_id}"] = Count(within)
        a[f"sla_due:{clock.ref_id}"] = Count(due)
    malaysia = col("in_malaysia").fill(False) if "in_malaysia" in columns else None
    return Spec("reports", Relation("reports"), "received_at", "category", malaysia, a)


def appeals_spec() -> Spec:
    """Appeals filed, decided and reversed (by who took the appealed decision), decision times. An appeal takes the
    category and scope of the decision it appeals."""
    looked_up = {"action_category": "category", "action_in_malaysia": "in_malaysia", "action_by": "decision_by"}
    relation = Relation("appeals", (JoinOne("actions", "action_id", looked_up),))
    filed, decided = col("filed_at"), col("decided_at")
    decided_in = decided.notnull()
    reversed_ = decided_in & (col("outcome") == "reversed")
    a: dict = {
        "filed": Count(),
        "decided": Count(decided_in, when="decided_at"),
        "reversed": Count(reversed_, when="decided_at"),
        "decided_by": ByLevel("action_by", schema.DECISION_MAKERS, decided_in, when="decided_at"),
        "reversed_by": ByLevel("action_by", schema.DECISION_MAKERS, reversed_, when="decided_at"),
        "decision_hist": Hist(filed.minutes_until(decided), decided_in, when="decided_at"),
    }
    return Spec("appeals", relation, "filed_at", "action_category", col("action_in_malaysia").fill(False), a)


def requests_spec(deadline_kinds: Collection[str] = (), columns: Collection[str] = ()) -> Spec:
    """Authority requests by kind and agency, compliance of those answered by the cycle end, response times; with
    ``deadline_kinds`` and a ``due_at`` column, the requests of those kinds answered by the deadline they state."""
    received, responded = col("received_at"), col("responded_at")
    done = responded.notnull() & (responded < HORIZON)
    a: dict = {
        "received": Count(),
        "by_kind": ByLevel("kind", schema.REQUEST_KINDS),
        "by_agency": ByLevel("agency", None),
        "complied": Count(done & col("outcome").isin(("complied", "partial"))),
        "done": Count(done),
        "response_hist": Hist(received.minutes_until(responded), done),
    }
    if deadline_kinds and "due_at" in columns:  # judged at the cycle end, like the clocks
        due = col("due_at")
        judged = col("kind").isin(deadline_kinds)
        stated = judged & due.notnull()
        within = stated & done & (responded <= due)
        counted = stated & (done | (due < HORIZON))
        a["deadline_within"] = Count(within)
        a["deadline_counted"] = Count(counted)
        a["deadline_within_by_kind"] = ByLevel("kind", schema.REQUEST_KINDS, within)
        a["deadline_counted_by_kind"] = ByLevel("kind", schema.REQUEST_KINDS, counted)
        a["deadline_missing"] = Count(judged & due.isnull())
    return Spec("authority_requests", Relation("authority_requests"), "received_at", None, None, a)


def prevalence_spec() -> Spec:
    """Sampled and violating views (exact whole-number sums)."""
    a: dict = {"violating": Total(col("views_violating")), "sampled": Total(col("views_sampled"))}
    return Spec("prevalence_samples", Relation("prevalence_samples"), "sampled_at", "category", None, a)


def specs(
    tables: Mapping[str, Collection[str]],
    clocks: list[Clock],
    cohort: str = "detected_at",
    deadline_kinds: Collection[str] = (),
) -> dict[str, Spec]:
    """Every spec the pack's tables allow: ``tables`` maps each present table to its columns; ``clocks`` are the
    (overridden) SLA clocks that apply (those of a table not in the pack are left out); ``deadline_kinds`` the
    request kinds judged against the deadline each request states."""
    out: dict[str, Spec] = {}
    if "actions" in tables:
        on_actions = [c for c in clocks if c.table == "actions"]
        out["actions"] = actions_spec(on_actions, tables["actions"], cohort, appeals="appeals" in tables)
    if "reports" in tables:
        out["reports"] = reports_spec([c for c in clocks if c.table == "reports"], tables["reports"])
    if "appeals" in tables and "actions" in tables:
        out["appeals"] = appeals_spec()
    if "authority_requests" in tables:
        out["authority_requests"] = requests_spec(deadline_kinds, tables["authority_requests"])
    if "prevalence_samples" in tables:
        out["prevalence_samples"] = prevalence_spec()
    return out
