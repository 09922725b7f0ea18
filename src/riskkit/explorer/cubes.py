"""The explorer's count cubes from integer codes: one reshaping for rows in memory and for an engine's groups.

Both paths describe their data the same way — for each row (in-process) or each group of rows (an engine's
``GROUP BY``), the integer codes of its month, category, surface, detection source and Malaysian scope, a level
(decider × action, time-to-action bin, appeal state …) and a weight: a boolean mask per row, or the number of rows
of a group meeting the condition. :func:`scatter` sums the weights into a dense cube, so a cube built from an
engine's groups equals the one built from the rows, exactly (int64 sums).

The codes themselves are defined twice, next to the data: NumPy over the pack's frames in
:mod:`riskkit.explorer.model` (the reference) and Ibis expressions in :mod:`riskkit.explorer.engine`; the tests
compare every cube of the two.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.cycles import REPORTING_TZ
from riskkit.library import Clock

CATEGORIES = schema.HARM_CATEGORIES
SOURCES = schema.DETECTION_SOURCES
DECIDERS = schema.DECISION_MAKERS
#: The level of an open item (no decision yet: the contract leaves its action empty), after the contract's actions.
OPEN_ACTION = "open"
ACTIONS = (*schema.ACTIONS, OPEN_ACTION)

#: Time-to-action histogram bins, as upper edges in minutes: 15 min up to 24 h, 1 h up to 7 days, 1 day up to
#: 90 days, then one overflow bin. A duration (rounded up to whole minutes, as in ``riskkit.metrics``) falls in
#: the first bin whose upper edge is >= it, so a bin is (previous edge, edge].
TTA_EDGES_MIN: np.ndarray = np.concatenate(
    [np.arange(15, 1440 + 1, 15), np.arange(1500, 10080 + 1, 60), np.arange(11520, 129600 + 1, 1440)]
).astype(np.int64)

N_TTA_BINS = len(TTA_EDGES_MIN) + 1  # + overflow

#: Appeal state of an enforced action (the most decisive of its appeals).
APPEAL_STATES = ("none", "open", "upheld", "reversed")
#: Rank of an appeal's outcome; any other outcome (or none) ranks as open.
APPEAL_RANK = {"open": 1, "upheld": 2, "reversed": 3}


def tta_bin(minutes: np.ndarray) -> np.ndarray:
    """Histogram bin of durations in whole minutes."""
    return np.searchsorted(TTA_EDGES_MIN, np.maximum(minutes, 0), side="left")


def tta_segments() -> list[tuple[int, int, int, int]]:
    """The bins as runs of equal width: (previous edge, width, index of the run's first bin, last edge). A duration
    ``m`` with ``previous < m <= last`` is in bin ``index + (m - previous - 1) // width`` — integer arithmetic an
    engine evaluates as well as NumPy."""
    out: list[tuple[int, int, int, int]] = []
    prev, i = 0, 0
    edges = [int(e) for e in TTA_EDGES_MIN]
    while i < len(edges):
        width = edges[i] - prev
        j = i
        while j + 1 < len(edges) and edges[j + 1] - edges[j] == width:
            j += 1
        out.append((prev, width, i, edges[j]))
        prev, i = edges[j], j + 1
    return out


# ------------------------------------------------------------------------------------------------ months


def month_number(ts: pd.Timestamp) -> int:
    """Calendar month in Malaysian time as year*12 + month - 1."""
    local = ts.tz_convert(REPORTING_TZ)
    return local.year * 12 + local.month - 1


def month_numbers(ts: pd.Series) -> np.ndarray:
    """:func:`month_number` of every timestamp (int64)."""
    local = ts.dt.tz_convert(REPORTING_TZ).dt.tz_localize(None)
    m = local.to_numpy().astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return m + 1970 * 12


def month_starts_us(first: int, count: int) -> list[int]:
    """The UTC instants (µs) at which Malaysian months ``first`` … ``first + count`` begin (``count + 1`` bounds)."""
    return [
        arrays.timestamp_us(pd.Timestamp(year=n // 12, month=n % 12 + 1, day=1, tz=REPORTING_TZ))
        for n in range(first, first + count + 1)
    ]


def surface_levels(present: Sequence[str], declared: Sequence[str] | None) -> tuple[str, ...]:
    """Surfaces of the explorer: those datapack.yaml declares, in its order, then any other present (sorted)."""
    present = sorted(set(present))
    if declared:
        return tuple(declared) + tuple(s for s in present if s not in declared)
    return tuple(present)


# ------------------------------------------------------------------------------------------------ cubes


@dataclass
class Keyed:
    """Rows (or groups) with their flat index over the cube's base axes; ``valid``: every code in range."""

    key: np.ndarray
    valid: np.ndarray
    shape: tuple[int, ...]


def keyed(shape: Sequence[int], codes: Sequence[np.ndarray], valid: np.ndarray | None = None) -> Keyed:
    """The flat index of ``codes`` (one array per axis of ``shape``); rows with a code out of range are invalid."""
    n = len(codes[0])
    ok = np.ones(n, dtype=bool) if valid is None else valid.copy()
    for c, size in zip(codes, shape, strict=True):
        ok &= (c >= 0) & (c < size)
    key = np.zeros(n, dtype=np.int64)
    for c, size in zip(codes, shape, strict=True):
        key = key * size + np.where(ok, c, 0).astype(np.int64)
    return Keyed(key, ok, tuple(shape))


def scatter(rows: Keyed, weight: np.ndarray, level: np.ndarray | None = None, levels: int = 1) -> np.ndarray:
    """Sum ``weight`` (a boolean mask per row, or a count per group) into a cube of ``rows.shape + (levels,)``."""
    sel = rows.valid & weight if weight.dtype == bool else rows.valid & (weight != 0)
    if level is not None:
        sel &= (level >= 0) & (level < levels)
    idx = rows.key[sel] * levels + (0 if level is None else level[sel].astype(np.int64))
    size = math.prod(rows.shape) * levels
    if weight.dtype == bool:
        out = np.bincount(idx, minlength=size)
    else:  # groups (far fewer than rows): summed exactly in int64
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, idx, weight[sel].astype(np.int64))
    return out.reshape(*rows.shape, levels)


@dataclass
class Cubes:
    """Every cube of the explorer (axes: month, category, surface, source, scope, …)."""

    counts: np.ndarray  # (…, decider, action)
    open: np.ndarray
    tta: np.ndarray  # (…, time-to-action bin), enforced and actioned
    sla: dict[str, tuple[np.ndarray, np.ndarray]]  # clock ref_id -> (within, due)
    appeals: np.ndarray | None  # (…, appeal state), enforced
    reports: np.ndarray | None  # (month, category, surface + not linked, source + not linked, scope)


def action_cubes(
    decisions: Keyed,
    decider: np.ndarray,
    action: np.ndarray,
    weights: Mapping[str, np.ndarray],
    clocks: Sequence[Clock],
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(counts, open, SLA) from rows or groups keyed by decider and action; ``weights``: ``n`` (the rows),
    ``open``, and ``within:<clock>`` / ``due:<clock>`` for each clock."""
    D, A = len(DECIDERS), len(ACTIONS)
    counts = scatter(decisions, weights["n"], decider * A + action, D * A)
    counts = counts.reshape(*decisions.shape, D, A)
    open_ = scatter(decisions, weights["open"])[..., 0]
    sla = {
        c.ref_id: (
            scatter(decisions, weights[f"within:{c.ref_id}"])[..., 0],
            scatter(decisions, weights[f"due:{c.ref_id}"])[..., 0],
        )
        for c in clocks
    }
    return counts, open_, sla


def decision_valid(decider: np.ndarray, action: np.ndarray) -> np.ndarray:
    """Rows whose decider and action are contract values (others are left out of every cube)."""
    return (decider >= 0) & (decider < len(DECIDERS)) & (action >= 0) & (action < len(ACTIONS))
