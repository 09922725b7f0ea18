"""Disclosure control for everything public, enforced in code rather than by convention.

Public outputs are only ever built as :class:`PublicTable`, through a :class:`Disclosure` made once per run:

- a count below the threshold (default 10) is shown as ``<10``;
- a rate is withheld when its denominator or its numerator is below the threshold (a published rate and a
  published denominator would give the numerator back);
- complementary suppression: within every group of cells that add up to a published total, a single suppressed
  cell is never left alone — the next smallest cell is suppressed too, so no hidden cell can be recovered by
  subtraction;
- no free text from the data: every text cell must come from riskkit's own vocabularies (labels of harms, metrics,
  enums); anything else raises :class:`DisclosureError` instead of being published.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskkit import schema
from riskkit.exceptions import ParameterError, RiskkitError
from riskkit.library import Library
from riskkit.metrics import ALL, registry

DEFAULT_THRESHOLD = 10


WITHHELD = "withheld"


class DisclosureError(RiskkitError):
    """A public table would publish something the disclosure rules forbid."""


def vocabulary(library: Library, sla_overrides: Mapping[str, Any] | None = None) -> frozenset[str]:
    """Every text a public table may contain: riskkit's labels and enums, never data. A pack's ``sla_overrides``
    change only the hours in riskkit's own clock labels (a checked number), so those labels are riskkit's too."""
    from riskkit.reports.wording import load_wording

    words: set[str] = {ALL, "all categories", "total", "<", WITHHELD, "yes", "no", ""}
    words |= load_wording().all_texts()
    for key in schema.HARM_CATEGORIES:
        words |= {key, library.harm_label(key, "en"), library.harm_label(key, "ms")}
    for t in schema.TABLES.values():
        for c in t.columns:
            words.update(c.enum or ())
    for m in [*registry(library).values(), *registry(library, sla_overrides).values()]:
        words |= {m.id, m.label_en, m.label_ms, m.unit}
    for fw in library.frameworks.values():
        for entries in fw.sections().values():
            for e in entries:
                words |= {e.label.en, e.label.ms}
    return frozenset(words)


@dataclass(frozen=True)
class Disclosure:
    """The disclosure rules of one run: the threshold and the vocabulary public text must come from."""

    threshold: int
    vocabulary: frozenset[str] = field(repr=False)

    @classmethod
    def for_library(
        cls, library: Library, threshold: int = DEFAULT_THRESHOLD, sla_overrides: Mapping[str, Any] | None = None
    ) -> Disclosure:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ParameterError(f"the disclosure threshold must be a whole number of at least 1, got {threshold!r}")
        return cls(threshold, vocabulary(library, sla_overrides))


@dataclass
class PublicTable:
    """A table cleared for publication. Build it with :meth:`from_counts` / :meth:`from_rates`; ``frame`` holds the
    display strings and ``log`` what was suppressed and why."""

    title: str
    frame: pd.DataFrame
    log: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "column", "reason"]))
    threshold: int = DEFAULT_THRESHOLD

    @classmethod
    def from_counts(
        cls,
        title: str,
        counts: pd.DataFrame,
        *,
        label_column: str,
        disclosure: Disclosure,
        total_row: str | None = "total",
        withheld: str = WITHHELD,
    ) -> PublicTable:
        """Counts per row label (one or more count columns). Each column, with its total row, is a group for
        complementary suppression; so is each row across the count columns when they add up to a total column
        named ``total``."""
        threshold = disclosure.threshold
        value_cols = [c for c in counts.columns if c != label_column]
        data = counts.set_index(label_column)[value_cols].astype(float)
        hidden = data < threshold
        log = []
        for col in value_cols:
            for row in data.index[hidden[col]]:
                log.append((row, col, f"count below {threshold}"))
        groups: list[list[tuple[Any, str]]] = []
        body = [r for r in data.index if r != total_row]
        if total_row is not None and total_row in data.index:
            groups += [[(r, c) for r in body] for c in value_cols]
        if "total" in value_cols:
            parts = [c for c in value_cols if c != "total"]
            groups += [[(r, c) for c in parts] for r in data.index]
        log += _complementary(data, hidden, groups)
        shown = data.astype(object)
        for col in value_cols:
            shown[col] = [
                f"<{threshold}" if h and (v < threshold) else (withheld if h else f"{v:,.0f}")
                for v, h in zip(data[col], hidden[col], strict=True)
            ]
        frame = shown.reset_index()
        table = cls(title, frame, pd.DataFrame(log, columns=["row", "column", "reason"]), threshold)
        table.check(disclosure)
        return table

    @classmethod
    def from_rates(
        cls,
        title: str,
        rows: pd.DataFrame,
        *,
        label_column: str,
        rate_columns: Mapping[str, tuple[str, str]],
        disclosure: Disclosure,
        value_columns: Sequence[str] = (),
        percent: bool = True,
        withheld: str = WITHHELD,
    ) -> PublicTable:
        """Rates from numerator/denominator columns (``{"shown name": ("num col", "den col")}``); a rate is withheld
        when its numerator or denominator is below the threshold. ``value_columns`` are non-count values (hours,
        FTE) shown as they are, withheld when the row's first denominator is below the threshold."""
        threshold = disclosure.threshold
        out = pd.DataFrame({label_column: rows[label_column].to_numpy()})
        log = []
        first_den = None
        for name, (num_col, den_col) in rate_columns.items():
            num = rows[num_col].astype(float).to_numpy()
            den = rows[den_col].astype(float).to_numpy()
            first_den = den if first_den is None else first_den
            cells = []
            for label, n, d in zip(out[label_column], num, den, strict=True):
                if not d or math.isnan(d) or d < threshold or (0 < n < threshold):
                    cells.append(withheld)
                    log.append((label, name, f"numerator or denominator below {threshold}"))
                else:
                    cells.append(f"{100 * n / d:.1f}%" if percent else f"{n / d:.3f}")
            out[name] = cells
        for col in value_columns:
            values = rows[col].astype(float).to_numpy()
            cells = []
            for i, (label, v) in enumerate(zip(out[label_column], values, strict=True)):
                if first_den is not None and (math.isnan(first_den[i]) or first_den[i] < threshold):
                    cells.append(withheld)
                    log.append((label, col, f"based on fewer than {threshold} items"))
                else:
                    cells.append("" if math.isnan(v) else f"{v:,.1f}")
            out[col] = cells
        table = cls(title, out, pd.DataFrame(log, columns=["row", "column", "reason"]), threshold)
        table.check(disclosure)
        return table

    def check(self, disclosure: Disclosure, *, counts: bool = True) -> None:
        """Refuse free text and raw small counts: the last line of defence of every public table.
        ``counts=False`` for tables of averages and levels (no count of people or items)."""
        vocabulary = disclosure.vocabulary
        for col in self.frame.columns:
            for value in self.frame[col]:
                text = str(value)
                if _is_number(text) or (text.startswith("<") and _is_number(text[1:])):
                    number = _to_number(text)
                    small = number is not None and 0 < number < self.threshold
                    if counts and small and not text.endswith("%") and "." not in text:
                        raise DisclosureError(f"{self.title}: column {col!r} would publish the small count {text}")
                    continue
                if text.endswith("%") and _is_number(text[:-1]):
                    continue
                if text not in vocabulary:
                    raise DisclosureError(
                        f"{self.title}: column {col!r} holds text that is not one of riskkit's labels "
                        f"(free text from the data must not be published): {text[:60]!r}"
                    )


def _is_number(text: str) -> bool:
    return _to_number(text) is not None


def _to_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _complementary(data: pd.DataFrame, hidden: pd.DataFrame, groups: list[list[tuple[Any, str]]]) -> list:
    """Suppress more cells until no group has exactly one hidden cell (iterate: one suppression can expose
    another group)."""
    log = []
    changed = True
    while changed:
        changed = False
        for cells in groups:
            hidden_cells = [c for c in cells if hidden.at[c]]
            if len(hidden_cells) != 1:
                continue
            candidates = [c for c in cells if not hidden.at[c]]
            if not candidates:
                continue
            smallest = min(candidates, key=lambda c: (data.at[c], str(c)))
            hidden.at[smallest] = True
            log.append((smallest[0], smallest[1], "complementary suppression (protects a hidden cell)"))
            changed = True
    return log
