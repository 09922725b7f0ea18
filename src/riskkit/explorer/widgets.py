"""The explorer's view: ipywidgets controls, three plotly FigureWidgets updated in place, a drill-down table."""

from __future__ import annotations

import base64
import html
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.cycles import REPORTING_TZ
from riskkit.explorer.model import (
    CATEGORIES,
    CONVENTIONS,
    CSV_LINK_MAX_ROWS,
    EXPLORER_COLUMNS,
    HIST_DISPLAY_HOURS,
    SORT_KEYS,
    SOURCES,
    ExplorerMetric,
    ExplorerModel,
    Selection,
    none_if_nan,
)
from riskkit.library import Library, load_library
from riskkit.pack import DataPack


def table_html(df: pd.DataFrame) -> str:
    """An escaped HTML table (every header and cell through ``html.escape``)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f'<table class="rk-table rk-drill"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in ("share", "%", "rate", "proportion"):
        return f"{100 * value:.1f}%"
    if unit in ("hours", "h"):
        return f"{value:,.2f} h"
    return f"{value:,.0f}"


def _is_rate(metric: ExplorerMetric) -> bool:
    return metric.kind == "rate"


STYLE = """
<style>
.rk-explorer table.rk-drill { border-collapse: collapse; font-size: 12px; }
.rk-explorer table.rk-drill th, .rk-explorer table.rk-drill td { border: 1px solid #ddd; padding: 2px 6px;
  text-align: left; white-space: nowrap; }
.rk-explorer table.rk-drill th { background: #f3f5f7; }
.rk-explorer table.rk-defs { border-collapse: collapse; font-size: 12px; }
.rk-explorer table.rk-defs th, .rk-explorer table.rk-defs td { border: 1px solid #ddd; padding: 2px 6px;
  text-align: left; vertical-align: top; }
.rk-explorer .rk-kpi { font-size: 14px; }
.rk-explorer .rk-muted { color: #607d8b; font-size: 12px; }
.rk-explorer .rk-error { color: #b71c1c; white-space: pre-wrap; font-family: monospace; }
</style>
"""

_BLUE, _GREY, _RED = "#1565c0", "#90a4ae", "#c62828"


#: Width of the explorer's charts in pixels (the trend; the two charts below share it).
FIG_WIDTH = 940


class Explorer:
    """The widget view over an :class:`ExplorerModel`; display it in JupyterLab (``.widget`` is the tree)."""

    def __init__(
        self,
        model: ExplorerModel,
        selection: Selection | None = None,
        *,
        page_size: int = 20,
        export_dir: str | Path | None = None,
    ) -> None:
        import ipywidgets as w
        import plotly.graph_objects as go

        from riskkit.figures import FONT

        self.model = model
        self.page_size = page_size
        self.export_dir = Path(export_dir) if export_dir is not None else Path.cwd()
        self.page_number = 0
        self.last_update_seconds = 0.0
        self._holding = False
        sel = model.validate(selection or model.default_selection())
        self._selection = sel

        cycles = [(model.cycle_label(c), c.id) for c in model.cycles]
        style = {"description_width": "initial"}
        self.cycle = w.Dropdown(
            options=cycles, value=sel.cycle, description="Cycle", style=style, layout=w.Layout(width="240px")
        )
        self.compare = w.Dropdown(
            options=[("(none)", None), *cycles],
            value=sel.compare,
            description="Compare with",
            style=style,
            layout=w.Layout(width="300px"),
        )
        self.scope = w.ToggleButtons(
            options=[("Malaysia", "malaysia"), ("Global", "global")], value=sel.scope, description="Scope"
        )
        self.scope.style.button_width = "80px"
        self.metric = w.Dropdown(
            options=[(f"{m.label} ({m.id})", m.id) for m in model.metrics.values()],
            value=sel.metric,
            description="Metric",
            style=style,
            layout=w.Layout(width="460px"),
        )
        box = w.Layout(width="230px", height="196px")
        self.categories = w.SelectMultiple(options=CATEGORIES, value=sel.categories, rows=11, layout=box)
        self.surfaces = w.SelectMultiple(options=model.surfaces, value=sel.surfaces, rows=11, layout=box)
        self.sources = w.SelectMultiple(options=SOURCES, value=sel.sources, rows=11, layout=box)
        self.reset = w.Button(description="All categories, surfaces, sources", layout=w.Layout(width="260px"))
        _tag(
            cycle=self.cycle,
            compare=self.compare,
            scope=self.scope,
            metric=self.metric,
            category=self.categories,
            surface=self.surfaces,
            source=self.sources,
            reset=self.reset,
        )

        def labelled(title: str, widget: w.Widget) -> w.VBox:
            return w.VBox([w.HTML(f"<b>{html.escape(title)}</b> <span class='rk-muted'>(none = all)</span>"), widget])

        self.kpi = w.HTML(layout=w.Layout(margin="6px 0"))
        self.kpi.add_class("rk-kpi")
        self.status = w.HTML()
        self.status.add_class("rk-status")

        # Figures get fixed pixel widths: the widget is sized once when it renders (a width the container does not
        # know yet would fall back to plotly's 700 px). Trace names are set by refresh(), like every other value.
        template = {"font": FONT, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "template": "plotly_white"}
        self.trend_fig = go.FigureWidget(
            data=[
                go.Scatter(mode="lines+markers", line={"color": _BLUE, "width": 3}),
                go.Scatter(mode="lines+markers", line={"color": _GREY, "dash": "dash"}),
            ],
            layout={**template, "width": FIG_WIDTH, "height": 330, "legend": {"orientation": "h", "y": -0.18}},
        )
        self.tta_fig = go.FigureWidget(
            data=[
                go.Bar(marker_color=_BLUE, width=1.0, offset=0),
                go.Scatter(mode="lines", line={"color": _GREY, "shape": "hv", "width": 2}),
            ],
            layout={
                **template,
                "width": FIG_WIDTH * 11 // 20,
                "height": 380,
                "bargap": 0,
                "xaxis": {"title": {"text": "hours from detection to action"}, "range": [0, 72]},
                "yaxis": {"title": {"text": "% of actioned items"}},
                "legend": {"orientation": "h", "y": -0.22},
            },
        )
        self.funnel_fig = go.FigureWidget(
            data=[
                go.Funnel(marker={"color": _BLUE}, textinfo="text", textposition="auto"),
                go.Funnel(marker={"color": _GREY}, textinfo="text", textposition="auto"),
            ],
            layout={
                **template,
                "width": FIG_WIDTH * 9 // 20,
                "height": 380,
                "margin": {"l": 130, "r": 20, "t": 50, "b": 50},
                "legend": {"orientation": "h", "y": -0.1},
            },
        )

        def holder(fig: Any, cls: str) -> w.Box:
            b = w.Box([fig])
            b.add_class(cls)
            return b

        # drill-down
        self.table = w.HTML()
        self.table.add_class("rk-table-html")
        self.first = w.Button(description="«", layout=w.Layout(width="40px"), tooltip="first page")
        self.prev = w.Button(description="‹", layout=w.Layout(width="40px"), tooltip="previous page")
        self.next = w.Button(description="›", layout=w.Layout(width="40px"), tooltip="next page")
        self.last = w.Button(description="»", layout=w.Layout(width="40px"), tooltip="last page")
        self.page_label = w.HTML()
        self.sort = w.Dropdown(options=SORT_KEYS, value="detected_at", description="Sort by", style=style)
        self.descending = w.Checkbox(value=True, description="descending", indent=False)
        self.csv_button = w.Button(description="Export CSV", icon="download", tooltip="all matching rows")
        self.csv_link = w.HTML()
        _tag(
            first=self.first,
            prev=self.prev,
            next=self.next,
            last=self.last,
            sort=self.sort,
            csv=self.csv_button,
            csv_link=self.csv_link,
            page_label=self.page_label,
        )
        self.definitions_html = w.HTML()
        self.definitions_html.add_class("rk-definitions")

        title = (
            f"{STYLE}<h3 style='margin:4px 0'>riskkit explorer — {html.escape(model.pack.meta.platform_name)}</h3>"
            f"<span class='rk-muted'>{model.n_actions:,} actions; data as of "
            f"{html.escape(model.as_of.tz_convert(REPORTING_TZ).strftime('%Y-%m-%d %H:%M'))} MYT; "
            f"opened in {model.open_seconds:.2f} s</span>"
        )
        self.widget = w.VBox(
            [
                w.HTML(title),
                w.HBox([self.cycle, self.compare, self.scope]),
                self.metric,
                w.HBox(
                    [
                        labelled("Categories", self.categories),
                        labelled("Surfaces", self.surfaces),
                        labelled("Detection sources", self.sources),
                        w.VBox([self.reset], layout=w.Layout(justify_content="flex-end")),
                    ]
                ),
                self.kpi,
                self.status,
                holder(self.trend_fig, "rk-trend"),
                w.HBox(
                    [holder(self.tta_fig, "rk-tta"), holder(self.funnel_fig, "rk-funnel")],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                w.HTML("<h4 style='margin:8px 0 2px'>Matching actions</h4>"),
                w.HBox([self.first, self.prev, self.page_label, self.next, self.last, self.sort, self.descending]),
                self.table,
                w.HBox([self.csv_button, self.csv_link]),
                w.HTML("<h4 style='margin:8px 0 2px'>What is shown: definitions from the metric registry</h4>"),
                self.definitions_html,
            ]
        )
        self.widget.add_class("rk-explorer")

        for widget in (self.cycle, self.compare, self.scope, self.metric, self.categories, self.surfaces, self.sources):
            widget.observe(self._on_selection, names="value")
        self.reset.on_click(lambda _: self.select(categories=(), surfaces=(), sources=()))
        self.first.on_click(lambda _: self.go_to(0))
        self.prev.on_click(lambda _: self.go_to(self.page_number - 1))
        self.next.on_click(lambda _: self.go_to(self.page_number + 1))
        self.last.on_click(lambda _: self.go_to(self.model.n_pages(self.selection, self.page_size) - 1))
        self.sort.observe(lambda _: self.go_to(0), names="value")
        self.descending.observe(lambda _: self.go_to(0), names="value")
        self.csv_button.on_click(lambda _: self._guard(self.export_csv))
        self._guard(self.refresh)

    # ------------------------------------------------------------------ state

    @property
    def selection(self) -> Selection:
        """The current selection."""
        return self._selection

    def _read_controls(self) -> Selection:
        return self.model.validate(
            Selection(
                cycle=self.cycle.value,
                compare=self.compare.value,
                categories=tuple(self.categories.value),
                surfaces=tuple(self.surfaces.value),
                sources=tuple(self.sources.value),
                metric=self.metric.value,
                scope=self.scope.value,
            )
        )

    def select(self, **changes: Any) -> None:
        """Change several controls at once (one refresh), e.g. ``select(categories=["csam"], surfaces=["live"])``."""
        widgets = {
            "cycle": self.cycle,
            "compare": self.compare,
            "categories": self.categories,
            "surfaces": self.surfaces,
            "sources": self.sources,
            "metric": self.metric,
            "scope": self.scope,
        }
        unknown = set(changes) - set(widgets)
        if unknown:
            raise TypeError(f"unknown selection field(s): {', '.join(sorted(unknown))}")
        multi = ("categories", "surfaces", "sources")
        changes = {k: tuple(v) if k in multi else v for k, v in changes.items()}
        self.model.validate(replace(self._selection, **changes))
        self._holding = True
        try:
            for name, value in changes.items():
                widgets[name].value = value
        finally:
            self._holding = False
        self._on_selection(None)

    def _on_selection(self, _change: Any) -> None:
        if self._holding:
            return
        self._guard(self._apply_controls)

    def _apply_controls(self) -> None:
        self._selection = self._read_controls()
        self.page_number = 0
        self.refresh()

    def _guard(self, fn: Callable[[], None]) -> None:
        """Run an update; show any error in the explorer (escaped) instead of losing it in the log."""
        try:
            fn()
        except Exception as exc:  # shown to the user, then re-raised for the log
            import traceback

            self.status.value = (
                f"<div class='rk-error'>{html.escape(''.join(traceback.format_exception_only(exc)).strip())}</div>"
            )
            raise

    # ------------------------------------------------------------------ rendering

    def refresh(self) -> None:
        """Recompute every chart and table from the model's aggregates and update the figures in place."""
        started = time.perf_counter()
        sel = self._selection
        m = self.model
        metric = m.metrics[sel.metric]
        unit = m.registry[sel.metric].unit

        trend = m.trend(sel)
        rate = _is_rate(metric)
        scale = 100.0 if rate else 1.0

        def scaled(values: list[float | None]) -> list[float | None]:
            return [None if v is None else v * scale for v in values]

        with self.trend_fig.batch_update():
            cur, comp = self.trend_fig.data
            cur.x, cur.y, cur.name = trend.months, scaled(trend.values), sel.cycle
            cur.customdata = [[n, d] for n, d in zip(trend.numerators, trend.denominators, strict=True)]
            cur.hovertemplate = (
                "%{x}: %{y:.1f}%<br>%{customdata[0]:,} of %{customdata[1]:,}<extra></extra>"
                if rate
                else "%{x}: %{y:,.2f}<extra></extra>"
                if metric.kind == "duration"
                else "%{x}: %{y:,}<extra></extra>"
            )
            comp.visible = sel.compare is not None
            comp.x = trend.months if sel.compare else []
            comp.y = scaled(trend.compare_values) if sel.compare else []
            comp.name = f"{sel.compare} (same position)" if sel.compare else "compare"
            comp.hovertext = trend.compare_months
            comp.hovertemplate = "%{hovertext}: %{y:,.2f}<extra></extra>"
            self.trend_fig.layout.title.text = f"{html.escape(trend.label)} by month of detection — {sel.cycle}"
            self.trend_fig.layout.yaxis.title.text = "%" if rate else "hours" if metric.kind == "duration" else unit
            self.trend_fig.layout.yaxis.rangemode = "tozero"

        hist = m.histogram(sel)
        with self.tta_fig.batch_update():
            bars, cline = self.tta_fig.data
            bars.x, bars.y, bars.name = hist.hours, hist.percent, sel.cycle
            bars.customdata = hist.counts
            bars.hovertemplate = "%{x}–%{x}+1 h: %{y:.1f}% (%{customdata:,})<extra></extra>"
            cline.visible = hist.compare_percent is not None
            cline.x = hist.hours if hist.compare_percent is not None else []
            cline.y = hist.compare_percent if hist.compare_percent is not None else []
            cline.name = f"{sel.compare}" if sel.compare else "compare"
            shapes, notes = [], []
            for hours, label in hist.deadlines:
                shapes.append(
                    {
                        "type": "line",
                        "x0": hours,
                        "x1": hours,
                        "yref": "paper",
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": _RED, "width": 2, "dash": "dot"},
                    }
                )
                notes.append(
                    {
                        "x": hours,
                        "y": 0.45,
                        "yref": "paper",
                        "xanchor": "left",
                        "yanchor": "middle",
                        "textangle": -90,
                        "showarrow": False,
                        "text": f"SLA deadline {hours:g} h",
                        "hovertext": html.escape(label),
                        "font": {"color": _RED},
                    }
                )
            lines = [
                f"n = {hist.n:,} · median {_fmt(none_if_nan(hist.median_h), 'hours')} · p90 {_fmt(none_if_nan(hist.p90_h), 'hours')}"
            ]
            for ref, (within, due) in hist.within.items():
                share = f"{100 * within / due:.1f}%" if due else "—"
                lines.append(f"within {ref}: {share} of {due:,}")
            if not hist.deadlines:
                lines.append("no response clock applies to the selected categories")
            beyond = 100 * hist.beyond / hist.n if hist.n else 0.0
            lines.append(f"{beyond:.1f}% after {HIST_DISPLAY_HOURS} h · {hist.open:,} decisions still open")
            notes.append(_note("<br>".join(html.escape(line) for line in lines), 0.99))
            self.tta_fig.layout.shapes = shapes
            self.tta_fig.layout.annotations = notes
            self.tta_fig.layout.title.text = f"Time to action (enforced, actioned) — {html.escape(sel.cycle)}"
            upper = max([h for h, _ in hist.deadlines] + [hist.median_h if not math.isnan(hist.median_h) else 0])
            self.tta_fig.layout.xaxis.range = [0, min(HIST_DISPLAY_HOURS, max(72.0, 3 * upper))]

        funnel = m.funnel(sel)
        with self.funnel_fig.batch_update():
            cur, comp = self.funnel_fig.data
            stages = [s for s, v in zip(funnel.stages, funnel.values, strict=True) if v is not None]
            cur.y, cur.x, cur.name = stages, [v for v in funnel.values if v is not None], sel.cycle
            cur.text = _funnel_text(funnel.stages, funnel.values)
            comp.visible = funnel.compare_values is not None
            comp.y = stages if funnel.compare_values is not None else []
            comp.x = [v for v in funnel.compare_values if v is not None] if funnel.compare_values else []
            comp.text = _funnel_text(funnel.stages, funnel.compare_values) if funnel.compare_values else []
            comp.name = sel.compare or "compare"
            self.funnel_fig.layout.title.text = "Report → action → appeal → reversal"
            self.funnel_fig.layout.annotations = (
                [_note(html.escape("; ".join(funnel.notes)), -0.02)] if funnel.notes else []
            )

        s = m.summary(sel)
        line = (
            f"<b>{s['decisions']:,}</b> decisions match in <b>{html.escape(sel.cycle)}</b> "
            f"({html.escape(sel.scope)}). {html.escape(metric.label)}: <b>{_fmt(s['value'], unit)}</b>"
        )
        if sel.compare:
            line += f" vs {_fmt(s['compare_value'], unit)} in {html.escape(sel.compare)}"
        self.kpi.value = line
        defs = m.definitions(sel)
        conventions = CONVENTIONS.format(as_of=m.as_of.tz_convert(REPORTING_TZ).strftime("%Y-%m-%d %H:%M MYT"))
        self.definitions_html.value = (
            table_html(defs).replace("rk-drill", "rk-defs") + f"<p class='rk-muted'>{html.escape(conventions)}</p>"
        )
        self.csv_link.value = ""
        self.render_table()
        self.last_update_seconds = time.perf_counter() - started
        self.status.value = f"<span class='rk-muted'>updated in {self.last_update_seconds:.2f} s</span>"

    def go_to(self, page: int) -> None:
        """Show drill-down page ``page`` (clamped)."""
        self.page_number = page
        self._guard(self.render_table)

    def render_table(self) -> None:
        """Render the current drill-down page."""
        sel = self._selection
        n = self.model.count(sel)
        pages = max(1, math.ceil(n / self.page_size))
        self.page_number = min(max(self.page_number, 0), pages - 1)
        df = self.model.page(sel, self.page_number, self.page_size, self.sort.value, not self.descending.value)
        start = self.page_number * self.page_size
        self.page_label.value = (
            f"<span style='white-space:nowrap'>&nbsp;rows {start + 1 if n else 0:,}–{start + len(df):,} of {n:,} "
            f"(page {self.page_number + 1:,} of {pages:,})&nbsp;</span>"
        )
        self.table.value = f"<div style='overflow-x:auto'>{table_html(df)}</div>"
        self.first.disabled = self.prev.disabled = self.page_number == 0
        self.next.disabled = self.last.disabled = self.page_number >= pages - 1

    def export_csv(self) -> Path | None:
        """Export every matching row: a download link for up to :data:`CSV_LINK_MAX_ROWS` rows, else a file in
        ``export_dir``. Returns the file written, if any."""
        sel = self._selection
        name = self.model.export_name(sel)
        sort, ascending = self.sort.value, not self.descending.value
        rows = self.model.count(sel)
        if rows <= CSV_LINK_MAX_ROWS:
            text = self.model.csv(sel, sort, ascending)
            payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
            self.csv_link.value = (
                f'<a download="{html.escape(name)}" href="data:text/csv;charset=utf-8;base64,{payload}" '
                f'class="rk-download">Save {html.escape(name)} ({rows:,} rows)</a>'
            )
            return None
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / name
        rows = self.model.write_csv(sel, path, sort, ascending)  # streamed from an engine, in batches
        self.csv_link.value = (
            f"<span>{rows:,} rows written to <code>{html.escape(str(path))}</code> "
            "(too many for an in-page download; open it from the file browser)</span>"
        )
        return path

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _note(text: str, y: float) -> dict[str, Any]:
    """A top-right note in a figure (``text`` is already escaped; it may hold ``<br>``)."""
    return {
        "x": 1,
        "xref": "paper",
        "y": y,
        "yref": "paper",
        "xanchor": "right",
        "yanchor": "top",
        "align": "right",
        "showarrow": False,
        "text": text,
        "font": {"size": 11, "color": "#455a64"},
        "bgcolor": "rgba(255,255,255,0.85)",
    }


def _funnel_text(stages: list[str], values: list[float | None]) -> list[str]:
    """Stage labels: appeals as a share of enforced actions, reversals as a share of appealed ones."""
    shown = [(s, v) for s, v in zip(stages, values, strict=True) if v is not None]
    out = []
    for i, (stage, v) in enumerate(shown):
        text = f"{v:,.0f}"
        if stage in ("actions appealed", "reversed on appeal") and i > 0 and shown[i - 1][1]:
            text += f" ({100 * v / shown[i - 1][1]:.1f}%)"
        out.append(text)
    return out


def explore(
    data: str | Path | DataPack,
    *,
    cycle: str | None = None,
    library: Library | None = None,
    frameworks: str | Path | None = None,
    engine: str | Any | None = None,
    spark_master: str | None = None,
    as_of: str | None = None,
) -> Explorer:
    """Open the explorer on a data pack (a folder or a loaded :class:`DataPack`), showing ``cycle`` (default: the
    latest complete half-year) compared with the cycle before it. The framework library is loaded here (with
    ``frameworks``, a folder of your own framework files) unless one is given.

    A warehouse pack (``source:`` in datapack.yaml), or a folder with ``engine="duckdb"`` / ``"spark"`` (an
    :class:`~riskkit.engines.ibis_engine.IbisEngine` also works; ``spark_master`` names a cluster), is opened as
    :func:`riskkit.engines.packs.open_pack` opens it: the actions stay in the engine, which computes the cubes and
    serves the drill-down pages."""
    lib = library if library is not None else load_library([frameworks] if frameworks else ())
    if isinstance(data, DataPack):
        if engine is not None or as_of is not None:
            raise ValueError("engine= and as_of= apply when the explorer opens a folder, not a loaded DataPack")
        pack = data
    else:
        from riskkit.engines.packs import load_any

        pack = load_any(
            data, library=lib, engine=engine, as_of=as_of, spark_master=spark_master, columns=EXPLORER_COLUMNS
        )
    model = ExplorerModel(pack, library=lib)
    return Explorer(model, model.default_selection(cycle))


def _tag(**widgets: Any) -> None:
    """Give each widget the CSS class ``rk-<name>`` (underscores as hyphens) the browser test finds it by."""
    for name, widget in widgets.items():
        widget.add_class(f"rk-{name.replace('_', '-')}")
