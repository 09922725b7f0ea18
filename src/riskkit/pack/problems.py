"""Validation problems, the report that collects them (all of them, not the first), and where they are found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from riskkit.terminal import printable

Severity = Literal["error", "warning", "info"]

#: Stable problem kinds, in the order reports list them, with a one-line meaning.
KINDS: dict[str, str] = {
    "missing_file": "a file the pack needs or names does not exist",
    "outside_pack": "a file of the pack is a symlink that resolves outside the pack folder (never read)",
    "datapack_yaml": "datapack.yaml is malformed or has an invalid value",
    "missing_table": "the required actions table is missing",
    "not_available": "an optional table is absent, so what it enables cannot be assessed",
    "encoding": "the file is not UTF-8 text",
    "malformed_file": "the file cannot be read as a table",
    "empty_table": "the table has a header but no rows",
    "duplicate_column": "a column appears twice (names differing only in case or spaces are the same column)",
    "missing_column": "a required column is missing",
    "unknown_column": "a column the contract does not know (ignored)",
    "empty_value": "a required cell is empty",
    "wrong_type": "a column's stored type cannot hold what the contract expects (e.g. integers as timestamps)",
    "unparseable": "a value cannot be read as the column's type",
    "naive_timestamp": "a timestamp without offset and no timezone declared in datapack.yaml",
    "enum": "a value outside the allowed set",
    "negative": "a negative count or amount",
    "out_of_range": "a number outside its allowed range",
    "duplicate_key": "the same key appears on more than one row",
    "dangling_reference": "a reference to a row that does not exist in the other table",
    "time_order": "a later step happens before an earlier one",
    "open_item_outcome": "an open item (no decision time) carries a decision",
    "future_timestamp": "a timestamp after the pack's as-of date",
    "too_early": "a date or time before 2000 (a placeholder or a unit mistake?)",
    "inferred": "a setting riskkit inferred from the data (state it in datapack.yaml to be explicit)",
    "projection": "only some columns of a table were read (a computation asked for them)",
}

#: How many examples of one kind in one file and column are kept in memory (totals are always exact).
EXAMPLES_KEPT = 200


@dataclass(frozen=True)
class Problem:
    """One problem, located as precisely as the input allows."""

    severity: Severity
    kind: str
    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str = ""
    detail: str = ""

    def format(self) -> str:
        """``actions.csv, row 7, column detected_at: value '2025-13-01' — expected …``."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = ", ".join(where)
        if self.value is not None:
            text += f": value {_show(self.value)}"
        if self.detail:
            text += f": {self.detail}" if self.value is None else f" ({self.detail})"
        if self.expected:
            text += f" — expected {self.expected}"
        return printable(text, keep_newlines=False)


def _show(value: str, limit: int = 80) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


@dataclass
class ValidationReport:
    """Every problem found in a data pack, with exact totals per kind and capped examples."""

    pack: Path
    problems: list[Problem] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)  # (severity, kind) -> count
    rows: dict[str, int] = field(default_factory=dict)  # file -> data rows read
    unavailable: dict[str, str] = field(default_factory=dict)  # table -> what cannot be assessed
    _kept: Counter = field(default_factory=Counter, repr=False)

    def add(self, problem: Problem, count: int = 1) -> None:
        """Record a problem; ``count`` > 1 records that many occurrences of which this is the example."""
        self.totals[(problem.severity, problem.kind)] += count
        key = (problem.kind, problem.file, problem.column)
        if self._kept[key] < EXAMPLES_KEPT:
            self._kept[key] += 1
            self.problems.append(problem)

    def merge(self, other: ValidationReport) -> None:
        """Fold another report (e.g. of one table read in parallel) into this one."""
        self.problems.extend(other.problems)
        self.totals.update(other.totals)
        self._kept.update(other._kept)
        self.rows.update(other.rows)
        self.unavailable.update(other.unavailable)

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p)

    def count(self, severity: Severity | None = None, kind: str | None = None) -> int:
        return sum(
            n
            for (sev, k), n in self.totals.items()
            if (severity is None or sev == severity) and (kind is None or k == kind)
        )

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def warnings(self) -> int:
        return self.count("warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def of(self, kind: str | None = None, severity: Severity | None = None) -> list[Problem]:
        """Kept problems, optionally filtered."""
        return [
            p
            for p in self.problems
            if (kind is None or p.kind == kind) and (severity is None or p.severity == severity)
        ]

    def summary_line(self) -> str:
        state = "valid" if self.ok else "INVALID"
        pack = printable(str(self.pack), keep_newlines=False)
        return f"data pack {pack}: {state} — {self.errors} error(s), {self.warnings} warning(s)"

    def format(self, max_per_kind: int = 10) -> str:
        """The report as text: errors first, at most ``max_per_kind`` examples per kind, with totals."""
        lines = [self.summary_line()]
        if self.rows:
            lines.append("rows read: " + printable(", ".join(f"{f} {n:,}" for f, n in self.rows.items())))
        for severity in ("error", "warning", "info"):
            for kind in KINDS:
                total = self.totals.get((severity, kind), 0)
                if not total:
                    continue
                shown = [p for p in self.problems if p.severity == severity and p.kind == kind][:max_per_kind]
                lines.append("")
                lines.append(f"{severity.upper()} {kind} — {KINDS[kind]}: {total:,}")
                lines.extend(f"  - {p.format()}" for p in shown)
                if total > len(shown):
                    lines.append(f"  … and {total - len(shown):,} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Kept problems as a table (for notebooks' data-quality sections)."""
        cols = list(Problem.__dataclass_fields__)
        return pd.DataFrame([asdict(p) for p in self.problems], columns=cols)

    def totals_frame(self) -> pd.DataFrame:
        """Exact totals per severity and kind."""
        rows = [
            {"severity": s, "kind": k, "count": n, "meaning": KINDS.get(k, "")} for (s, k), n in self.totals.items()
        ]
        order = {"error": 0, "warning": 1, "info": 2}
        rows.sort(key=lambda r: (order[r["severity"]], list(KINDS).index(r["kind"]) if r["kind"] in KINDS else 99))
        return pd.DataFrame(rows, columns=["severity", "kind", "count", "meaning"])


@dataclass
class FileContext:
    """Where we are: the report, the file being read and how its rows are numbered."""

    report: ValidationReport
    file: str
    row_offset: int  # add to a 0-based record index to get the row as the file shows it
    tz: ZoneInfo | None
    as_of: pd.Timestamp
    nan_cells: dict[str, np.ndarray] = field(default_factory=dict)  # Parquet float NaN (not null) per column

    @property
    def text_input(self) -> bool:
        """True for CSV/XLSX (every cell is text), False for Parquet and in-memory frames (typed)."""
        return self.row_offset == 2

    def flag(
        self,
        kind: str,
        mask: np.ndarray | pd.Series,
        values: pd.Series | None,
        column: str | None,
        expected: str = "",
        detail: str = "",
        severity: Severity = "error",
        related: tuple[str, pd.Series] | None = None,
    ) -> int:
        """Record one problem per True in ``mask`` (examples capped, totals exact); return how many.

        ``related`` names another column whose value on the same row is shown in the message.
        """
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions[:EXAMPLES_KEPT]:
            value = None if values is None else cell_text(values.iloc[pos])
            text = detail if related is None else f"{related[0]} is {cell_text(related[1].iloc[pos])}"
            self.report.add(
                Problem(severity, kind, self.file, int(pos) + self.row_offset, column, value, expected, text)
            )
        rest = len(positions) - min(len(positions), EXAMPLES_KEPT)
        if rest:
            self.report.totals[(severity, kind)] += rest
        return len(positions)

    def problem(self, kind: str, severity: Severity = "error", **kw: Any) -> None:
        self.report.add(Problem(severity, kind, self.file, **kw))


def cell_text(value: Any) -> str:
    if value is None or (not isinstance(value, (str, tuple, list)) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return (value.tz_convert("Asia/Kuala_Lumpur") if value.tzinfo else value).isoformat()
    return str(value)
