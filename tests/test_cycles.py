"""Reporting cycles in Asia/Kuala_Lumpur."""

from __future__ import annotations

import pandas as pd
import pytest

from riskkit import cycles
from riskkit.cli import main
from riskkit.exceptions import CycleError


def test_utc_instant_on_the_half_year_boundary_falls_in_h2():
    # 2025-06-30T16:30Z is 2025-07-01T00:30 in Malaysia
    assert cycles.cycle_of("2025-06-30T16:30:00Z").id == "2025-H2"
    assert cycles.cycle_of("2025-06-30T15:59:59Z").id == "2025-H1"
    assert cycles.cycle_of(pd.Timestamp("2025-12-31T16:00:00Z"), kind="year").id == "2026"


def test_bounds_are_malaysian_midnight_end_exclusive():
    h1 = cycles.parse("2025-H1")
    assert h1.start == pd.Timestamp("2024-12-31T16:00:00Z")
    assert h1.end == pd.Timestamp("2025-06-30T16:00:00Z")
    assert str(h1.start.tz) == "Asia/Kuala_Lumpur"
    assert h1.label == "1 Jan 2025 – 30 Jun 2025 (MYT)"
    assert h1.contains("2025-06-30T23:59:59+08:00") and not h1.contains("2025-07-01T00:00:00+08:00")
    year = cycles.parse("2025")
    assert (year.start, year.end) == (h1.start, cycles.parse("2025-H2").end)
    assert [c.id for c in year.halves()] == ["2025-H1", "2025-H2"]
    assert list(map(str, cycles.parse("2025-H2").months)) == [f"2025-{m:02d}" for m in range(7, 13)]


@pytest.mark.parametrize(
    ("cycle", "previous", "following"),
    [("2025-H1", "2024-H2", "2025-H2"), ("2025-H2", "2025-H1", "2026-H1"), ("2025", "2024", "2026")],
)
def test_previous_and_next(cycle, previous, following):
    c = cycles.parse(cycle)
    assert c.previous().id == previous and c.next().id == following


def test_latest_complete():
    assert cycles.latest_complete("2026-07-10T09:00:00+08:00").id == "2026-H1"
    assert cycles.latest_complete("2026-06-30T23:59:00+08:00").id == "2025-H2"
    # 00:30 on 1 Jul in Malaysia is still 30 Jun in UTC: H1 is complete in Malaysia
    assert cycles.latest_complete("2026-06-30T16:30:00Z").id == "2026-H1"
    assert cycles.latest_complete("2026-03-01T00:00:00+08:00", kind="year").id == "2025"
    assert cycles.resolve("latest", as_of="2026-11-22T10:00:00+08:00").id == "2026-H1"
    assert cycles.resolve("latest-year", as_of="2026-11-22T10:00:00+08:00").id == "2025"


def test_completeness():
    assert cycles.parse("2025-H2").is_complete("2026-01-01T00:00:00+08:00")
    assert not cycles.parse("2025-H2").is_complete("2025-12-31T23:59:59+08:00")


@pytest.mark.parametrize("bad", ["2025-H3", "H1-2025", "25-H1", "2025-h1x", ""])
def test_bad_ids_raise_clear_errors(bad):
    with pytest.raises(CycleError, match="expected a half-year like 2025-H1"):
        cycles.parse(bad)


def test_naive_instants_are_rejected():
    with pytest.raises(CycleError, match="no timezone"):
        cycles.cycle_of("2025-06-30T23:00:00")


def test_cli_cycle(capsys):
    assert main(["cycle", "2025-H2"]) == 0
    assert "1 Jul 2025 – 31 Dec 2025 (MYT)" in capsys.readouterr().out
    assert main(["cycle", "2025-Q3"]) == 2
    assert "unknown reporting cycle" in capsys.readouterr().err
