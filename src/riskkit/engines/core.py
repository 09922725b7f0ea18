"""What every engine shares: the mergeable partials, the duration bins and the cycle bounds as UTC instants."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskkit import arrays
from riskkit.cycles import Cycle


@dataclass
class Partial:
    """Mergeable aggregates: every array is a sum over rows, so ``a + b`` of two chunks equals the whole."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    labelled: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # free-text dimensions, e.g. surface

    def __add__(self, other: Partial) -> Partial:
        arrays = dict(self.arrays)
        for k, v in other.arrays.items():
            arrays[k] = arrays[k] + v if k in arrays else v
        labelled = {k: dict(v) for k, v in self.labelled.items()}
        for dim, levels in other.labelled.items():
            target = labelled.setdefault(dim, {})
            for level, v in levels.items():
                target[level] = target[level] + v if level in target else v
        return Partial(arrays, labelled)

    def add_(self, other: Partial) -> Partial:
        """Add ``other`` into this partial in place (no copy of the big histograms) and return it."""
        for k, v in other.arrays.items():
            if k in self.arrays:
                self.arrays[k] += v
            else:
                self.arrays[k] = v
        for dim, levels in other.labelled.items():
            target = self.labelled.setdefault(dim, {})
            for level, v in levels.items():
                if level in target:
                    target[level] = target[level] + v
                else:
                    target[level] = v
        return self

    def equals(self, other: Partial) -> bool:
        """Same arrays and labelled levels, exactly (levels with only zeros count as absent)."""

        def nonzero(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: v for k, v in d.items() if np.any(v)}

        if self.arrays.keys() != other.arrays.keys():
            return False
        if any(not np.array_equal(self.arrays[k], other.arrays[k]) for k in self.arrays):
            return False
        for dim in set(self.labelled) | set(other.labelled):
            a, b = nonzero(self.labelled.get(dim, {})), nonzero(other.labelled.get(dim, {}))
            if a.keys() != b.keys() or any(not np.array_equal(a[k], b[k]) for k in a):
                return False
        return True


@dataclass(frozen=True)
class Bins:
    """Fixed-width duration bins: one minute up to ``fine_days``, then one hour up to ``coarse_days``, then one
    overflow bin. Plain sums, so histograms from chunks (or from an engine's groups) add up."""

    fine_days: int = 90
    coarse_days: int = 3 * 365

    @property
    def fine(self) -> int:
        return self.fine_days * 1440

    @property
    def size(self) -> int:
        return self.fine + (self.coarse_days - self.fine_days) * 24 + 1

    def index(self, minutes: np.ndarray) -> np.ndarray:
        coarse = self.fine + (minutes - self.fine + 59) // 60
        return np.minimum(np.where(minutes < self.fine, minutes, coarse), self.size - 1)

    def minutes(self, index: int) -> float:
        """Upper edge of a bin in minutes (NaN for the overflow bin)."""
        if index >= self.size - 1:
            return float("nan")
        return float(index if index < self.fine else self.fine + (index - self.fine) * 60)


class Periods:
    """Previous and current cycle as contiguous [start, end) bounds in µs since the epoch (UTC instants)."""

    def __init__(self, cycle: Cycle) -> None:
        prev = cycle.previous()
        self.bounds = np.array(
            [arrays.timestamp_us(prev.start), arrays.timestamp_us(cycle.start), arrays.timestamp_us(cycle.end)],
            dtype=np.int64,
        )
        self.lengths = np.diff(self.bounds).astype(float)

    def index(self, ts: np.ndarray) -> np.ndarray:
        """0 = previous cycle, 1 = current cycle, -1 = neither (or empty)."""
        idx = np.searchsorted(self.bounds, ts, side="right") - 1
        idx[(idx > 1) | (ts == arrays.NAT)] = -1
        return idx.astype(np.int8)

    def horizon(self, idx: np.ndarray) -> np.ndarray:
        """End of each row's cycle (µs); rows outside both cycles get the current end (they are masked anyway)."""
        return self.bounds[np.clip(idx.astype(np.int64), 0, 1) + 1]
