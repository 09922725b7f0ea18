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
    """(within, due) of a single-table clock (``clock.start`` → ``clock.stop`` on one row); see the ``sla``
    registry entry for the convention."""
    applies = category.isin(clock.categories)
    stop_actions = clock.stop_actions if action is not None else None
    return clock_outcome(clock.hours, stop_actions, applies, col(clock.start), col(clock.stop), action)


def clock_outcome(
    hours: float,
    stop_actions: Collection[str] | None,
    applies: Expr,
    start: Expr,
    stop: Expr,
    action: Expr | None,
    closed: Expr | None = None,
    closed_at: Expr | None = None,
) -> tuple[Expr, Expr]:
    """(within, due) of one clock, judged at the cycle end (:data:`HORIZON`).

    ``stop``/``action``: the decision's time and action. A decision taken by the cycle end stops the clock when its
    action is one of ``stop_actions`` (any action when None); with another action it leaves the item out. ``closed``:
    the row was closed by the cycle end without a decision (a report dismissed, a duplicate, no violation) at
    ``closed_at`` — a decision not to act: it answers a clock without ``stop_actions`` and leaves the item out of
    one with them. An item with neither by the cycle end is a breach once its deadline passed before the cycle end
    and is not yet due otherwise, whatever is decided later.
    """
    deadline = start + round(hours * 3_600_000_000)
    decided = stop.notnull() & (stop < HORIZON)
    unlinked_close = None if closed is None else stop.isnull() & closed
    if stop_actions is not None and action is not None:
        stops = decided & action.isin(tuple(stop_actions))
        otherwise = decided & ~action.isin(tuple(stop_actions))
        if unlinked_close is not None:
            otherwise = otherwise | unlinked_close
        within = applies & stops & (stop <= deadline)
        return within, applies & ~otherwise & (stops | (deadline < HORIZON))
    within = applies & decided & (stop <= deadline)
    stopped = decided
    if unlinked_close is not None and closed_at is not None:
        within = within | (applies & unlinked_close & (closed_at <= deadline))
        stopped = stopped | unlinked_close
    return within, applies & (stopped | (deadline < HORIZON))


def reported_linkable(tables: Mapping[str, Collection[str]]) -> bool:
    """Whether user-reported clock paths can be judged from reports (a reports table linking to decisions)."""
    return "actions" in tables and "action_id" in tables.get("reports", ())


def _action_path_sources(clock: Clock, linkable: bool) -> tuple[str, ...]:
    """Detection sources of the decisions a path clock judges on the actions table: its own-initiative path, and —
    without reports linked to decisions — the reported decisions, from their own detected_at."""
    sources: list[str] = []
    own, reported = clock.path("own_initiative"), clock.path("user_reported")
    if own is not None:
        sources += own.detection_sources
    if reported is not None and not linkable:
        sources += reported.detection_sources
    return tuple(sources)


def _linked_name(column: str) -> str:
    return f"decision_{column}"


def actions_spec(
    clocks: list[Clock],
    columns: Collection[str],
    cohort: str = "detected_at",
    appeals: bool = False,
    linkable: bool = False,
) -> Spec:
    """Decisions, enforcement, detection, automation, record keeping, time to action, surfaces, clocks; with
    ``appeals``, also the enforced actions appealed before their cycle ended (for the appeal rate). A clock with
    paths is judged here for its own-initiative decisions (and, unless ``linkable`` — reports linked to decisions —
    for its reported decisions, from detected_at)."""
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
        if not clock.paths:
            within, due = clock_exprs(clock, col("category"), action if clock.stop_actions else None)
        else:
            sources = _action_path_sources(clock, linkable)
            if not sources:
                continue
            own = clock.path("own_initiative")
            start = col(own.start if own is not None else "detected_at")
            applies = col("category").isin(clock.categories) & source.isin(sources)
            within, due = clock_outcome(clock.hours, clock.stop_actions, applies, start, actioned, action)
        a[f"sla_within:{clock.ref_id}"] = Count(within)
        a[f"sla_due:{clock.ref_id}"] = Count(due)
    joins: tuple = ()
    if appeals:
        joins = (FirstOf("appeals", "action_id", "filed_at", FIRST_APPEAL),)
        a["appealed"] = Count(enforced & (col(FIRST_APPEAL) < HORIZON))
    return Spec("actions", Relation("actions", joins), cohort, "category", col("in_malaysia").fill(False), a)


def reports_spec(clocks: list[Clock], columns: Collection[str], decision_clocks: Collection[Clock] = ()) -> Spec:
    """Reports received (by reporter), outcomes of those closed by the cycle end, handling times, clocks; with
    ``decision_clocks`` (clocks whose user-reported path runs from the report to the linked decision, needs
    ``action_id``), each report judged from received_at to its decision, one count per report."""
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
    looked_up: dict[str, str] = {}
    for clock in decision_clocks:
        path = clock.path("user_reported")
        if path is None or path.link is None:
            continue
        looked_up[_linked_name(path.stop)] = path.stop
        looked_up[_linked_name("action")] = "action"
        start, stop, action = col(path.start), col(_linked_name(path.stop)), col(_linked_name("action"))
        closed = closed_at = None
        if path.closed_at is not None and path.closed_outcomes:
            closed_at = col(path.closed_at)
            closed = (
                col(path.link).isnull()
                & closed_at.notnull()
                & (closed_at < HORIZON)
                & outcome.isin(path.closed_outcomes)
            )
        applies = col("category").isin(clock.categories)
        within, due = clock_outcome(clock.hours, clock.stop_actions, applies, start, stop, action, closed, closed_at)
        a[f"sla_within:{clock.ref_id}"] = Count(within)
        a[f"sla_due:{clock.ref_id}"] = Count(due)
    joins = (JoinOne("actions", "action_id", looked_up),) if looked_up else ()
    malaysia = col("in_malaysia").fill(False) if "in_malaysia" in columns else None
    return Spec("reports", Relation("reports", joins), "received_at", "category", malaysia, a)


def appeals_spec() -> Spec:
    """Appeals filed in the cycle, and of those the ones decided and reversed by the cycle end (by who took the
    appealed decision), decision times: one cohort (filed in the cycle), outcomes judged at the cycle end. An appeal
    takes the category and scope of the decision it appeals."""
    looked_up = {"action_category": "category", "action_in_malaysia": "in_malaysia", "action_by": "decision_by"}
    relation = Relation("appeals", (JoinOne("actions", "action_id", looked_up),))
    filed, decided = col("filed_at"), col("decided_at")
    decided_in = decided.notnull() & (decided < HORIZON)
    reversed_ = decided_in & (col("outcome") == "reversed")
    a: dict = {
        "filed": Count(),
        "decided": Count(decided_in),
        "reversed": Count(reversed_),
        "decided_by": ByLevel("action_by", schema.DECISION_MAKERS, decided_in),
        "reversed_by": ByLevel("action_by", schema.DECISION_MAKERS, reversed_),
        "decision_hist": Hist(filed.minutes_until(decided), decided_in),
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
    linkable = reported_linkable(tables)
    if "actions" in tables:
        on_actions = [c for c in clocks if c.table == "actions"]
        out["actions"] = actions_spec(on_actions, tables["actions"], cohort, "appeals" in tables, linkable)
    if "reports" in tables:
        reported = [c for c in clocks if c.table == "actions" and c.path("user_reported")] if linkable else []
        out["reports"] = reports_spec([c for c in clocks if c.table == "reports"], tables["reports"], reported)
    if "appeals" in tables and "actions" in tables:
        out["appeals"] = appeals_spec()
    if "authority_requests" in tables:
        out["authority_requests"] = requests_spec(deadline_kinds, tables["authority_requests"])
    if "prevalence_samples" in tables:
        out["prevalence_samples"] = prevalence_spec()
    return out
