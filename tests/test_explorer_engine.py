"""The explorer on an engine: the sample opened on DuckDB (and as a mapped warehouse pack with wall-clock times)
gives the in-process model's cubes exactly, the same answers, drill-down pages and CSV — the engine's queries
against the in-process reference, value for value."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import riskkit
from conftest import SAMPLE
from riskkit.engines.packs import open_pack
from riskkit.explorer import Explorer, ExplorerModel, Selection
from riskkit.explorer import engine as ex_engine
from riskkit.explorer import model as ex_mod
from riskkit.explorer import widgets as ex_widgets
from riskkit.explorer.cubes import N_TTA_BINS, TTA_EDGES_MIN, tta_bin

CUBES = ("counts", "open", "tta", "appeals", "reports")


@pytest.fixture(scope="module")
def here(sample_pack, library) -> ExplorerModel:
    return ExplorerModel(sample_pack, library=library)


@pytest.fixture(scope="module")
def duck(library) -> ExplorerModel:
    pack = open_pack(SAMPLE, library=library, engine="duckdb")
    pack.engine.con.con.execute("SET TimeZone = 'America/Los_Angeles'")  # nothing may depend on the session zone
    return ExplorerModel(pack, library=library)


def assert_same_cubes(a: ExplorerModel, b: ExplorerModel) -> None:
    for name in CUBES:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    assert a.sla.keys() == b.sla.keys() and len(a.sla) == 2
    for ref in a.sla:
        assert np.array_equal(a.sla[ref][0], b.sla[ref][0]) and np.array_equal(a.sla[ref][1], b.sla[ref][1]), ref
    assert (a.surfaces, a.n_actions, a.base, a.n_months) == (b.surfaces, b.n_actions, b.base, b.n_months)
    assert list(a.metrics) == list(b.metrics) and a.cycles == b.cycles


def test_cubes_on_duckdb_equal_the_in_process_cubes(here, duck):
    assert duck.engine_rows is not None and here.engine_rows is None
    assert "actions" not in duck.pack.tables  # the rows stayed in the engine
    assert_same_cubes(here, duck)
    assert int(duck.counts.sum()) == 80_000 and int(duck.tta.sum()) == 69_004  # real content, not empty cubes
    assert int(duck.reports.sum()) == 61_859 and int(duck.appeals[..., 1:].sum()) > 0


SELECTIONS = [
    Selection(cycle="2026-H1", compare="2025-H2"),
    Selection(cycle="2025-H2", categories=("csam", "financial_scam"), sources=("automated", "user_report")),
    Selection(cycle="2025", surfaces=("messages", "live"), scope="global", metric="reversal_rate"),
    Selection(cycle="2026-H1", categories=("csam",), metric="sla.code2024.csam_report_24h", compare="2025-H1"),
]


@pytest.mark.parametrize("sel", SELECTIONS, ids=["default", "cats+sources", "surfaces-global", "csam-sla"])
def test_answers_on_duckdb_equal_in_process(here, duck, sel):
    sel = here.validate(sel)
    for metric in ("actions_enforced", "proactive_rate", "tta_p90_h", "appeal_rate", "reports_received", sel.metric):
        s = Selection(**{**sel.__dict__, "metric": metric})
        assert duck.trend(s) == here.trend(s), metric
        assert duck.value(s) == here.value(s), metric
    assert duck.histogram(sel) == here.histogram(sel)
    assert duck.funnel(sel) == here.funnel(sel)
    assert duck.summary(sel) == here.summary(sel)
    assert duck.count(sel) == here.count(sel) == int(duck._reduce(duck.counts, sel, duck._cycle(sel.cycle)).sum())


@pytest.mark.parametrize(
    ("sort", "ascending"), [("hours_to_action", False), ("category", True), ("appeal", False), ("actioned_at", True)]
)
def test_drill_down_pages_on_duckdb_equal_in_process(here, duck, sort, ascending):
    sel = here.validate(Selection(cycle="2026-H1", categories=("ncii", "csam"), surfaces=("messages", "comments")))
    n = here.count(sel)
    assert n > 60
    last = here.n_pages(sel, 20) - 1
    assert duck.n_pages(sel, 20) == last + 1
    for page in (0, 1, last):
        want = here.page(sel, page, 20, sort, ascending)
        pd.testing.assert_frame_equal(duck.page(sel, page, 20, sort, ascending), want)
        assert len(want) == (20 if page < last else n - 20 * last)
    if sort == "hours_to_action":  # open items (no duration) come last whatever the direction
        tail = duck.page(sel, last, 20, sort, ascending)["hours_to_action"]
        assert tail.isna().any() and tail.isna().to_numpy()[tail.isna().to_numpy().argmax() :].all()


def test_ties_are_broken_by_action_id(here, duck):
    sel = here.validate(Selection(cycle="2025-H2", categories=("hate_speech",)))
    page = duck.page(sel, 0, 50, "action", True)
    first = page[page["action"] == page["action"].iloc[0]]["action_id"]
    assert len(first) > 1 and list(first) == sorted(first)
    pd.testing.assert_frame_equal(page, here.page(sel, 0, 50, "action", True))


def test_csv_on_duckdb_equals_in_process(here, duck, tmp_path, monkeypatch):
    sel = here.validate(Selection(cycle="2026-H1", categories=("violent_extremism",), surfaces=("live", "groups")))
    text = here.csv(sel, "detected_at", False)
    assert duck.csv(sel, "detected_at", False) == text
    got = pd.read_csv(io.StringIO(text))
    assert len(got) == here.count(sel) > 10 and got["detected_at"].iloc[0].endswith("+08:00")
    monkeypatch.setattr(ex_engine, "CSV_BATCH_ROWS", 7)  # streamed in many batches: the same file
    assert duck.write_csv(sel, tmp_path / "a.csv", "detected_at", False) == len(got)
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == text
    monkeypatch.setattr(ex_mod, "CSV_TEXT_MAX_ROWS", 10)
    with pytest.raises(ValueError, match=r"too many for a CSV in memory .* write_csv"):
        duck.csv(sel)
    empty = here.validate(Selection(cycle="2026-H1", categories=("csam",), surfaces=("ads",), sources=("authority",)))
    if here.count(empty) == 0:
        assert duck.write_csv(empty, tmp_path / "e.csv") == 0
        assert (tmp_path / "e.csv").read_text().startswith("action_id,")


def test_row_level_helpers_say_the_rows_are_in_the_engine(duck):
    sel = duck.default_selection()
    with pytest.raises(ValueError, match="stay in the duckdb engine"):
        duck.mask(sel)
    with pytest.raises(ValueError, match="cannot sort by 'views'"):
        duck.page(sel, 0, 20, "views")


def test_time_to_action_bins_in_the_engine_equal_numpy():
    import ibis

    minutes = np.concatenate([np.arange(0, 12_000), TTA_EDGES_MIN - 1, TTA_EDGES_MIN, TTA_EDGES_MIN + 1, [10**7]])
    t = ibis.memtable(pd.DataFrame({"m": minutes.astype(np.int64)}))
    got = ibis.duckdb.connect().execute(t.select(b=ex_engine.EngineExplorer._tta_bin(t["m"])))["b"].to_numpy()
    assert np.array_equal(got, tta_bin(minutes)) and got.max() == N_TTA_BINS - 1


def test_explore_opens_an_engine_pack_and_the_view_pages_from_it(library, here, tmp_path, monkeypatch):
    ex = riskkit.explore(SAMPLE, engine="duckdb", library=library)
    assert isinstance(ex, Explorer) and ex.model.engine_rows is not None
    ex.export_dir = tmp_path
    ex.select(categories=["csam"])
    assert f"of {here.count(ex.selection):,} " in ex.page_label.value
    ex.next.click()
    assert ex.page_number == 1
    monkeypatch.setattr(ex_widgets, "CSV_LINK_MAX_ROWS", 10)
    path = ex.export_csv()
    assert path is not None and "written to" in ex.csv_link.value
    assert path.read_text(encoding="utf-8") == here.csv(ex.selection)
    with pytest.raises(ValueError, match="not a loaded DataPack"):
        riskkit.explore(here.pack, engine="duckdb", library=library)


def test_a_mapped_warehouse_pack_with_wall_clock_times_explores_like_the_files(tmp_path, sample_pack, library, here):
    """The platform's own names and codes, detection and action times as Malaysian wall clock (no zone)."""
    from test_warehouse import MAPPED, _platform_schema, make_warehouse

    def load(con) -> None:
        _platform_schema(con)
        for column in ("flagged_at", "decided_at"):
            con.execute(
                f"ALTER TABLE decisions ALTER {column} TYPE TIMESTAMP USING ({column} AT TIME ZONE 'Asia/Kuala_Lumpur')"
            )

    tables = {name: {"table": name} for name in sample_pack.tables} | MAPPED
    root = make_warehouse(tmp_path / "pack", sample_pack, source_tables=tables, load=load)
    ex = riskkit.explore(Path(root), library=library)
    assert ex.model.pack.engine.tables["actions"].wall_clock["detected_at"] == "Asia/Kuala_Lumpur"
    assert_same_cubes(here, ex.model)
    sel = here.validate(Selection(cycle="2025-H2", sources=("user_report",)))
    pd.testing.assert_frame_equal(
        ex.model.page(sel, 2, 20, "detected_at", True), here.page(sel, 2, 20, "detected_at", True)
    )
