"""The explorer's logic without a browser: widget callbacks → figures and tables, checked against plain pandas
computations over the sample pack's rows (real values, not snapshots)."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import riskkit
from riskkit.cycles import parse
from riskkit.explorer import Explorer, ExplorerModel, Selection
from riskkit.explorer import model as ex_mod
from riskkit.explorer import widgets as ex_widgets
from riskkit.explorer.model import TTA_EDGES_MIN, percentile_hours
from riskkit.library import FRAMEWORKS_DIR
from riskkit.pack import pack_from_frames

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
MYT = "Asia/Kuala_Lumpur"


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def pack(sample_pack):
    """The sample, loaded once per session (read only: tests copy before changing anything)."""
    return sample_pack


@pytest.fixture(scope="module")
def model(pack, library) -> ExplorerModel:
    return ExplorerModel(pack, library=library)


@pytest.fixture
def view(model, tmp_path) -> Explorer:
    return Explorer(model, model.default_selection(), export_dir=tmp_path)


@pytest.fixture(scope="module")
def rows(pack) -> pd.DataFrame:
    """The actions with what the checks need, computed directly with pandas."""
    a = pack.actions.copy()
    a["month"] = a["detected_at"].dt.tz_convert(MYT).dt.tz_localize(None).dt.to_period("M")
    a["enforced"] = a["action"].notna() & (a["action"].astype(str) != "no_violation")  # open: no action yet
    a["done"] = a["actioned_at"].notna()
    secs = (a["actioned_at"] - a["detected_at"]).dt.total_seconds()
    a["minutes"] = np.ceil(secs / 60).clip(lower=0)
    a["mys"] = a["in_malaysia"].fillna(False).astype(bool)
    appeals = pack.get("appeals")
    state = appeals.groupby("action_id")["outcome"].agg(lambda s: set(s.astype(str)))
    a["appealed"] = a["action_id"].isin(state.index)
    a["reversed"] = a["action_id"].map(lambda i: "reversed" in state.get(i, set()))
    a["appeal_decided"] = a["action_id"].map(lambda i: bool(state.get(i, set()) & {"upheld", "reversed"}))
    return a


def pick(rows: pd.DataFrame, cycle: str, categories=(), surfaces=(), sources=(), scope="malaysia") -> pd.DataFrame:
    cyc = parse(cycle)
    r = rows[rows["month"].isin(cyc.months)]
    if categories:
        r = r[r["category"].astype(str).isin(categories)]
    if surfaces:
        r = r[r["surface"].astype(str).isin(surfaces)]
    if sources:
        r = r[r["detection_source"].astype(str).isin(sources)]
    if scope == "malaysia":
        r = r[r["mys"]]
    return r


def monthly(r: pd.DataFrame, cycle: str, fn) -> list:
    """fn(rows of one month) for each month of the cycle."""
    return [fn(r[r["month"] == m]) for m in parse(cycle).months]


def nearest_rank_hours(minutes: pd.Series, q: float) -> float | None:
    """Nearest-rank percentile in the explorer's bins: the upper edge of the bin holding the rank-th duration."""
    v = np.sort(minutes.to_numpy())
    if len(v) == 0:
        return None
    value = v[max(1, math.ceil(q * len(v) - 1e-9)) - 1]
    return float(TTA_EDGES_MIN[np.searchsorted(TTA_EDGES_MIN, value)]) / 60


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


# ------------------------------------------------------------------------------------------------ opening


def test_explore_returns_a_displayable_explorer():
    ex = riskkit.explore(SAMPLE)
    assert isinstance(ex, Explorer)
    assert hasattr(ex, "_ipython_display_")
    assert ex.widget.__class__.__name__ == "VBox"
    assert ex.selection == Selection(cycle="2026-H1", compare="2025-H2")  # latest complete half-year vs previous
    assert riskkit.explore(ex.model.pack, cycle="2025-H2").selection.compare == "2025-H1"


def test_explore_uses_the_frameworks_it_is_given(tmp_path, pack, rows, library):
    text = (FRAMEWORKS_DIR / "sla_policy.yaml").read_text(encoding="utf-8")
    clock = next(line + "\n" for line in text.splitlines() if line.startswith("  - ref_id: code2024.csam_report_24h"))
    head, tail = text.split(clock)
    assert "    hours: 24\n" in tail.split("  - ref_id:")[0]
    (tmp_path / "sla_policy.yaml").write_text(head + clock + tail.replace("    hours: 24\n", "    hours: 6\n", 1))
    ex = riskkit.explore(pack, frameworks=tmp_path)
    assert (
        "(6 h; reading: all reported harmful content (default))"
        in ex.model.registry["sla.code2024.csam_report_24h"].label_en
    )
    hist = ex.model.histogram(ex.model.validate(Selection(cycle="2026-H1", categories=("csam",))))
    assert hist.deadlines == [(6.0, "code2024.csam_report_24h (csam)"), (24.0, "onsa.priority_inaccessible_24h (csam)")]
    r = pick(rows, "2026-H1", ["csam"])
    within = r["done"] & (r["actioned_at"] <= r["detected_at"] + pd.Timedelta(hours=6))
    assert hist.within["code2024.csam_report_24h"] == (int(within.sum()), len(r))
    packaged = ExplorerModel(pack, library=library).histogram(Selection(cycle="2026-H1", categories=("csam",)))
    assert packaged.within["code2024.csam_report_24h"][0] > int(within.sum())  # the packaged clock is 24 h


def test_notebook_is_committed_without_outputs():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert 'riskkit.explore("../data/sample")' in code[-1].source


def test_cycles_offered_are_those_with_data(model):
    assert [c.id for c in model.cycles] == ["2025-H1", "2025-H2", "2025", "2026-H1", "2026"]
    assert model.cycle_label(parse("2026")) == "2026 (incomplete)"
    assert model.cycle_label(parse("2025")) == "2025"
    with pytest.raises(ValueError, match="no actions in 2024-H2"):
        model.default_selection("2024-H2")


def test_validation_names_unknown_values(model):
    with pytest.raises(ValueError, match="unknown category 'scam'"):
        model.validate(Selection(cycle="2025-H2", categories=("scam",)))
    with pytest.raises(ValueError, match="metric 'peak_mau' is not available"):
        model.validate(Selection(cycle="2025-H2", metric="peak_mau"))
    ordered = model.validate(Selection(cycle="2025-H2", categories=("other", "csam")))
    assert ordered.categories == ("csam", "other")  # contract order


# ------------------------------------------------------------------------------------------------ trend


def test_category_and_surface_widgets_change_the_trend_to_pandas_counts(view, rows):
    fig = view.trend_fig
    traces = fig.data
    expected_all = monthly(pick(rows, "2026-H1"), "2026-H1", lambda r: float(r["enforced"].sum()))
    assert list(fig.data[0].y) == expected_all

    view.categories.value = ("financial_scam",)  # the widget callback, as a click in the browser does
    view.surfaces.value = ("ads",)
    r = pick(rows, "2026-H1", ["financial_scam"], ["ads"])
    expected = monthly(r, "2026-H1", lambda m: float(m["enforced"].sum()))
    assert list(fig.data[0].y) == expected
    assert expected != expected_all and sum(expected) == 1791  # items open at the extract have no action
    assert list(fig.data[0].x) == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"]
    # updated in place: the same figure and traces, not re-created
    assert view.trend_fig is fig and fig.data[0] is traces[0] and len(fig.data) == 2
    assert "<b>1,791</b>" in view.kpi.value


def test_comparison_cycle_is_aligned_by_position(view, rows):
    view.select(cycle="2025-H2", compare="2025-H1", categories=["csam", "ncii"])
    expected = monthly(pick(rows, "2025-H1", ["csam", "ncii"]), "2025-H1", lambda r: float(r["enforced"].sum()))
    comp = view.trend_fig.data[1]
    assert comp.visible is True
    assert list(comp.y) == expected
    assert list(comp.hovertext) == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025", "May 2025", "Jun 2025"]
    assert list(comp.x) == list(view.trend_fig.data[0].x)  # same positions as the cycle's months

    view.select(compare=None)
    assert view.trend_fig.data[1].visible is False and list(view.trend_fig.data[1].y) == []


def test_a_year_against_an_incomplete_year_has_no_values_after_the_data(model, rows):
    trend = model.trend(Selection(cycle="2025", compare="2026"))
    first_half = monthly(pick(rows, "2026"), "2026", lambda r: float(r["enforced"].sum()))[:6]
    assert trend.compare_values == [*first_half, None, None, None, None, None, None]
    assert len(trend.values) == 12 and None not in trend.values


def _expected_metric(metric: str, r: pd.DataFrame, library, pack, sel: Selection):
    """Monthly values of ``metric`` computed from the rows with pandas."""
    cycle = sel.cycle
    proactive = {"automated", "proactive_human"}
    if metric == "decisions":
        return monthly(r, cycle, lambda m: float(len(m)))
    if metric == "actions_enforced":
        return monthly(r, cycle, lambda m: float(m["enforced"].sum()))
    if metric == "accounts_actioned":
        return monthly(
            r, cycle, lambda m: float(m["action"].astype(str).isin(["suspend_account", "terminate_account"]).sum())
        )
    if metric == "proactive_rate":
        return monthly(
            r,
            cycle,
            lambda m: rate(
                (m["enforced"] & m["detection_source"].astype(str).isin(proactive)).sum(), m["enforced"].sum()
            ),
        )
    if metric == "automated_detection_share":
        return monthly(r, cycle, lambda m: rate((m["detection_source"].astype(str) == "automated").sum(), len(m)))
    if metric == "automated_decision_share":
        return monthly(r, cycle, lambda m: rate((m["decision_by"].astype(str) == "automated").sum(), len(m)))
    if metric.startswith("tta_"):
        q = {"tta_median_h": 0.5, "tta_p90_h": 0.9, "tta_p99_h": 0.99}[metric]
        return monthly(r, cycle, lambda m: nearest_rank_hours(m.loc[m["enforced"] & m["done"], "minutes"], q))
    if metric.startswith("sla."):
        clock = library.sla_policy(pack.meta.sla_overrides).clock(metric[4:])
        as_of = pack.meta.as_of

        def sla(m: pd.DataFrame) -> float | None:
            applies = m["category"].astype(str).isin(clock.categories)
            if clock.stop_actions:
                applies &= ~(m["done"] & ~m["action"].astype(str).isin(clock.stop_actions))
            deadline = m["detected_at"] + pd.Timedelta(hours=clock.hours)
            within = applies & m["done"] & (m["actioned_at"] <= deadline)
            due = applies & (m["done"] | (deadline < as_of))
            return rate(within.sum(), due.sum())

        return monthly(r, cycle, sla)
    if metric == "appeal_rate":
        return monthly(r, cycle, lambda m: rate((m["enforced"] & m["appealed"]).sum(), m["enforced"].sum()))
    if metric == "reversal_rate":
        return monthly(
            r, cycle, lambda m: rate((m["enforced"] & m["reversed"]).sum(), (m["enforced"] & m["appeal_decided"]).sum())
        )
    if metric == "reports_received":
        return _reports_monthly(pack, sel)
    raise AssertionError(metric)


def _reports_monthly(pack, sel: Selection) -> list[float]:
    reports = pack.get("reports").copy()
    actions = pack.actions.set_index("action_id")
    reports["month"] = reports["received_at"].dt.tz_convert(MYT).dt.tz_localize(None).dt.to_period("M")
    linked = reports["action_id"].notna()
    reports["surface"] = reports["action_id"].map(actions["surface"].astype(str))
    reports["source"] = reports["action_id"].map(actions["detection_source"].astype(str))
    keep = reports["month"].isin(parse(sel.cycle).months)
    if sel.categories:
        keep &= reports["category"].astype(str).isin(sel.categories)
    if sel.surfaces:
        keep &= linked & reports["surface"].isin(sel.surfaces)
    if sel.sources:
        keep &= linked & reports["source"].isin(sel.sources)
    if sel.scope == "malaysia":
        keep &= reports["in_malaysia"].fillna(False).astype(bool)
    r = reports[keep]
    return [float((r["month"] == m).sum()) for m in parse(sel.cycle).months]


METRICS = [
    "decisions",
    "actions_enforced",
    "accounts_actioned",
    "proactive_rate",
    "automated_detection_share",
    "automated_decision_share",
    "tta_median_h",
    "tta_p90_h",
    "tta_p99_h",
    "sla.code2024.csam_report_24h",
    "sla.onsa.priority_inaccessible_24h",
    "reports_received",
    "appeal_rate",
    "reversal_rate",
]


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"categories": ("csam", "financial_scam"), "sources": ("automated", "user_report")},
        {"surfaces": ("messages", "live"), "scope": "global"},
    ],
    ids=["all", "cats+sources", "surfaces-global"],
)
def test_every_metric_matches_pandas(model, pack, rows, library, metric, filters):
    assert set(METRICS) == set(model.metrics)
    sel = model.validate(Selection(cycle="2025-H2", metric=metric, **filters))
    r = pick(rows, "2025-H2", sel.categories, sel.surfaces, sel.sources, sel.scope)
    expected = _expected_metric(metric, r, library, pack, sel)
    assert model.trend(sel).values == pytest.approx(expected, nan_ok=True)


def test_whole_cycle_counts_and_rates_agree_with_riskkit_metrics(model, pack, library):
    m = riskkit.metrics.compute(pack, "2025-H2", library=library)
    for metric in ("decisions", "actions_enforced", "accounts_actioned", "proactive_rate", "reports_received"):
        for category in ("all", "csam", "bullying_harassment"):
            sel = Selection(cycle="2025-H2", metric=metric, categories=() if category == "all" else (category,))
            assert model.value(sel) == pytest.approx(m.value(metric, category)), (metric, category)


def test_metric_widget_switches_units(view, rows):
    view.metric.value = "proactive_rate"
    r = pick(rows, "2026-H1")
    expected = monthly(
        r,
        "2026-H1",
        lambda m: (
            100
            * (m["enforced"] & m["detection_source"].astype(str).isin(["automated", "proactive_human"])).sum()
            / m["enforced"].sum()
        ),
    )
    assert list(view.trend_fig.data[0].y) == pytest.approx(expected)
    assert view.trend_fig.layout.yaxis.title.text == "%"
    view.metric.value = "tta_median_h"
    assert view.trend_fig.layout.yaxis.title.text == "hours"


def test_scope_toggle(view, rows):
    view.scope.value = "global"
    expected = monthly(pick(rows, "2026-H1", scope="global"), "2026-H1", lambda r: float(r["enforced"].sum()))
    assert list(view.trend_fig.data[0].y) == expected


# ------------------------------------------------------------------------------------------------ histogram and funnel


def test_time_to_action_histogram_and_sla_deadline(view, model, rows):
    view.select(categories=["csam"])
    r = pick(rows, "2026-H1", ["csam"])
    done = r[r["enforced"] & r["done"]]
    hours_bar = ((done["minutes"] - 1).clip(lower=0) // 60).astype(int)  # (h, h+1] → bar h
    expected = [int((hours_bar == h).sum()) for h in range(ex_mod.HIST_DISPLAY_HOURS)]
    bars = view.tta_fig.data[0]
    assert list(bars.customdata) == expected
    assert list(bars.y) == pytest.approx([100 * c / len(done) for c in expected])
    # the SLA deadline: a vertical line at 24 h for the two clocks that cover csam
    shapes = view.tta_fig.layout.shapes
    assert [(s.x0, s.x1) for s in shapes] == [(24.0, 24.0)]
    hist = model.histogram(view.selection)
    assert hist.deadlines == [(24.0, "code2024.csam_report_24h (csam); onsa.priority_inaccessible_24h (csam)")]
    # the CSAM clock covers every csam decision; all are due by the extract date (deadlines are past)
    within = r["done"] & (r["actioned_at"] <= r["detected_at"] + pd.Timedelta(hours=24))
    assert hist.within["code2024.csam_report_24h"] == (int(within.sum()), len(r))
    assert hist.median_h == nearest_rank_hours(done["minutes"], 0.5)
    assert hist.open == int((~r["done"]).sum())

    view.select(categories=["hate_speech"])  # the Code's 24 h (default reading: all reported harmful content)
    assert [(s.x0, s.x1) for s in view.tta_fig.layout.shapes] == [(24.0, 24.0)]
    assert model.histogram(view.selection).deadlines == [(24.0, "code2024.csam_report_24h (hate_speech)")]


def test_funnel_numbers(view, pack, rows):
    view.select(categories=["bullying_harassment"], sources=["user_report"])
    sel = view.selection
    r = pick(rows, "2026-H1", sel.categories, (), sel.sources)
    enforced = r[r["enforced"]]
    expected = [
        sum(_reports_monthly(pack, sel)),
        float(len(enforced)),
        float(enforced["appealed"].sum()),
        float(enforced["reversed"].sum()),
    ]
    cur = view.funnel_fig.data[0]
    assert list(cur.x) == expected
    assert list(cur.y) == ["reports received", "actions enforced", "actions appealed", "reversed on appeal"]
    assert cur.text[2] == f"{expected[2]:,.0f} ({100 * expected[2] / expected[1]:.1f}%)"
    comp = view.funnel_fig.data[1]
    r_prev = pick(rows, "2025-H2", sel.categories, (), sel.sources)
    assert comp.x[1] == float(r_prev["enforced"].sum())


def test_funnel_without_optional_tables(pack, library):
    small = pack_from_frames({"actions": _raw_actions(pack, 500)}, _meta(pack), library=library)
    m = ExplorerModel(small, library=library)
    assert "appeal_rate" not in m.metrics and "reports_received" not in m.metrics
    f = m.funnel(m.default_selection())
    assert f.values[0] is None and f.values[2] is None and f.values[1] is not None
    assert f.notes == ["reports: not available (no `reports` table)", "appeals: not available (no `appeals` table)"]
    Explorer(m)  # renders without the missing stages


# ------------------------------------------------------------------------------------------------ drill-down


def _table_ids(view: Explorer) -> list[str]:
    return re.findall(r"<tr><td>([^<]*)</td>", view.table.value)


def test_drill_down_page_contents_and_sort_order(view, rows):
    view.select(categories=["ncii"], surfaces=["messages"])
    r = pick(rows, "2026-H1", ["ncii"], ["messages"])
    by_detected = r.sort_values("detected_at", ascending=False, kind="stable")
    assert _table_ids(view) == list(by_detected["action_id"].head(20))
    assert f"of {len(r):,} " in view.page_label.value

    view.sort.value = "hours_to_action"  # descending: longest first, open items last
    by_hours = r.assign(h=r["minutes"]).sort_values("h", ascending=False, kind="stable", na_position="last")
    assert _table_ids(view) == list(by_hours["action_id"].head(20))
    view.next.click()
    assert _table_ids(view) == list(by_hours["action_id"].iloc[20:40])
    assert view.page_number == 1
    view.last.click()
    last = (len(r) - 1) // 20
    assert _table_ids(view) == list(by_hours["action_id"].iloc[last * 20 :])
    assert view.next.disabled

    view.descending.value = False  # back to the first page, ascending
    shortest = r.sort_values("minutes", ascending=True, kind="stable", na_position="last")
    assert _table_ids(view) == list(shortest["action_id"].head(20))
    view.sort.value = "surface"
    assert view.page_number == 0

    view.sort.value = "action"
    by_action = r.assign(a=r["action"].astype(str)).sort_values("a", kind="stable")
    assert _table_ids(view) == list(by_action["action_id"].head(20))


def test_drill_down_cells_are_the_rows(view, model, rows):
    view.select(categories=["child_self_harm"], sources=["authority"])
    page = model.page(view.selection, 0, 5)
    r = pick(rows, "2026-H1", ["child_self_harm"], (), ["authority"]).sort_values(
        "detected_at", ascending=False, kind="stable"
    )
    first = r.iloc[0]
    assert page.iloc[0]["action_id"] == first["action_id"]
    assert page.iloc[0]["detected (MYT)"] == first["detected_at"].tz_convert(MYT).strftime("%Y-%m-%d %H:%M")
    assert page.iloc[0]["category"] == "child_self_harm"
    assert page.iloc[0]["detection_source"] == "authority"
    assert page.iloc[0]["hours_to_action"] == pytest.approx(round(first["minutes"] / 60, 2))


def test_csv_download_content(view, rows):
    view.select(categories=["violent_extremism"], surfaces=["live", "groups"])
    view.sort.value = "action_id"
    view.descending.value = False
    view.csv_button.click()
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', view.csv_link.value)
    assert href is not None
    assert 'download="riskkit-actions_2026-H1_malaysia_violent_extremism_live+groups.csv"' in view.csv_link.value
    from io import StringIO

    got = pd.read_csv(StringIO(base64.b64decode(href.group(1)).decode("utf-8")))
    r = pick(rows, "2026-H1", ["violent_extremism"], ["live", "groups"]).sort_values("action_id")
    assert list(got["action_id"]) == list(r["action_id"])
    assert list(got.columns) == [*view.model.pack.actions.columns, "hours_to_action", "appeal"]
    assert set(got["category"]) == {"violent_extremism"} and set(got["surface"]) == {"live", "groups"}
    assert got["detected_at"].iloc[0].endswith("+08:00")  # Malaysian time, with the offset
    assert list(got["hours_to_action"].round(4)) == pytest.approx(list((r["minutes"] / 60).round(4)), nan_ok=True)


def test_large_csv_export_is_written_to_a_file(view, tmp_path, monkeypatch, rows):
    monkeypatch.setattr(ex_widgets, "CSV_LINK_MAX_ROWS", 10)
    view.select(categories=["csam"])
    path = view.export_csv()
    assert path is not None and path.parent == tmp_path
    assert len(pd.read_csv(path)) == len(pick(rows, "2026-H1", ["csam"]))
    assert "written to" in view.csv_link.value


def test_everything_in_the_table_is_escaped(pack, library):
    actions = _raw_actions(pack, 50)
    actions.loc[0, "surface"] = "<img src=x onerror=alert(1)>"
    actions.loc[0, "action_id"] = "A<b>1</b>"
    small = pack_from_frames({"actions": actions}, _meta(pack), library=library)
    m = ExplorerModel(small, library=library)
    first = actions.loc[0, "detected_at"]
    cycle = riskkit.cycles.cycle_of(pd.Timestamp(first)).id
    view = Explorer(m, Selection(cycle=cycle, scope="global"))
    view.select(surfaces=["<img src=x onerror=alert(1)>"])
    assert "<img" not in view.table.value and "&lt;img src=x onerror=alert(1)&gt;" in view.table.value
    assert "A&lt;b&gt;1&lt;/b&gt;" in view.table.value


# ------------------------------------------------------------------------------------------------ definitions, errors


def test_definitions_of_the_chosen_metric_come_from_the_registry(view, model, library):
    view.metric.value = "reversal_rate"
    defs = model.definitions(view.selection)
    assert defs.iloc[0]["metric"] == "reversal_rate" and defs.iloc[0]["shown in"] == "trend"
    reg = riskkit.metrics.registry(library)
    assert defs.iloc[0]["definition"] == reg["reversal_rate"].definition
    import html

    assert html.escape(reg["reversal_rate"].definition) in view.definitions_html.value
    assert "sla.code2024.csam_report_24h" in set(defs["metric"])  # all categories: the Code's clock applies
    view.select(categories=["hate_speech"])
    clocks = {m for m in model.definitions(view.selection)["metric"] if m.startswith("sla.")}
    assert clocks == {"sla.code2024.csam_report_24h"}  # default reading: all reported harmful content; not s.22
    assert "as of the extract" in view.definitions_html.value


def test_an_error_in_an_update_is_shown_not_lost(view, monkeypatch):
    def boom(sel):
        raise RuntimeError("cube <broken>")

    monkeypatch.setattr(view.model, "trend", boom)
    with pytest.raises(RuntimeError):
        view.select(categories=["csam"])
    assert "rk-error" in view.status.value and "cube &lt;broken&gt;" in view.status.value


def test_percentile_in_bins():
    hist = np.zeros(ex_mod.N_TTA_BINS, dtype=np.int64)
    hist[ex_mod.tta_bin(np.array([10, 20, 200]))] += 1  # bins (0,15], (15,30], (195,210]
    assert percentile_hours(hist, 0.5) == 0.5
    assert percentile_hours(hist, 1.0) == 3.5
    assert math.isnan(percentile_hours(np.zeros(ex_mod.N_TTA_BINS), 0.5))


# ------------------------------------------------------------------------------------------------ helpers


def _raw_actions(pack, n: int) -> pd.DataFrame:
    """The first ``n`` actions as the text a CSV would hold."""
    a = pack.actions.head(n).copy()
    for col in ("detected_at", "actioned_at"):
        a[col] = a[col].map(lambda t: "" if pd.isna(t) else t.isoformat())
    for col in a.columns:
        if col not in ("detected_at", "actioned_at"):
            a[col] = a[col].astype(object).where(a[col].notna(), "").astype(str)
    return a


def _meta(pack) -> dict:
    return {
        "contract": 1,
        "platform": {"name": "Tiny", "service_type": "social_media"},
        "as_of": pack.meta.as_of.isoformat(),
    }
