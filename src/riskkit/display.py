"""What notebooks show: escaped HTML tables (sortable in the shared HTML), notes, and the plotly set-up.

Everything from inputs is escaped; the only scripts are riskkit's own small table sorter and plotly's (inlined
once per notebook by :class:`OfflineRenderer`), so rendered HTML opens offline and executes nothing from data.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

import pandas as pd

_ids = itertools.count(1)
_SORTER_EMITTED = False

SORTER_JS = """
<script>
(function () {
  if (window.riskkitSortable) { return; }
  window.riskkitSortable = function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.style.cursor = 'pointer';
      th.title = 'Sort by this column';
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute('data-sort') !== 'asc';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-sort'); });
        th.setAttribute('data-sort', asc ? 'asc' : 'desc');
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
          var nx = parseFloat(x.replace(/,/g, '')), ny = parseFloat(y.replace(/,/g, ''));
          var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  };
  document.querySelectorAll('table.rk-sortable').forEach(window.riskkitSortable);
})();
</script>
"""

CSS = """
<style>
table.rk-table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
.jp-RenderedHTMLCommon table.rk-table th, .jp-RenderedHTMLCommon table.rk-table td,
table.rk-table th, table.rk-table td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
table.rk-table th { background: #f3f5f7; }
table.rk-table th[data-sort=asc]::after { content: ' ▲'; }
table.rk-table th[data-sort=desc]::after { content: ' ▼'; }
.rk-band-low { background: #e8f5e9; } .rk-band-medium { background: #fff8e1; }
.rk-band-high { background: #fff3e0; } .rk-band-critical { background: #ffebee; }
.rk-status-FAIL { background: #ffebee; font-weight: bold; } .rk-status-WARN { background: #fff8e1; }
.rk-note { border-left: 4px solid #90a4ae; padding: 4px 10px; background: #f7f9fa; }
</style>
"""


class HTML:
    """Minimal rich-display object (avoids importing IPython in library code)."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def table(
    df: pd.DataFrame,
    *,
    sortable: bool = True,
    max_rows: int | None = None,
    floatfmt: str = "{:.3g}",
    classes: dict[str, str] | None = None,
) -> HTML:
    """An escaped HTML table; ``classes`` maps a column to a CSS-class prefix applied per cell value
    (e.g. ``{"residual_band": "rk-band-"}``)."""
    global _SORTER_EMITTED
    shown = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for col, value in zip(shown.columns, row, strict=True):
            text = _fmt(value, floatfmt)
            css = ""
            if classes and col in classes and text:
                css = f' class="{html.escape(classes[col] + text)}"'
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = "rk-table rk-sortable" if sortable else "rk-table"
    markup = f'<table class="{kind}" id="rk-t{next(_ids)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    if max_rows is not None and len(df) > max_rows:
        markup += f"<p><em>{len(df) - max_rows:,} more rows in the exported file.</em></p>"
    prefix = ""
    if not _SORTER_EMITTED:
        prefix = CSS
        _SORTER_EMITTED = True
    suffix = SORTER_JS if sortable else ""
    return HTML(prefix + markup + suffix)


def _fmt(value: object, floatfmt: str) -> str:
    if value is None or (not isinstance(value, str | tuple | list) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 1000:
            return f"{value:,.0f}"
        return floatfmt.format(value)
    return str(value)


def heading(text: str, level: int = 2) -> HTML:
    """An escaped heading (data such as the platform's name must never be rendered as Markdown or HTML)."""
    return HTML(f"<h{level}>{html.escape(text)}</h{level}>")


def paragraph(text: str) -> HTML:
    """An escaped paragraph."""
    return HTML(f"<p>{html.escape(text)}</p>")


def note(text: str) -> HTML:
    """An escaped callout, e.g. for "not available (no `users` table)"."""
    return HTML(f'<p class="rk-note">{html.escape(text)}</p>')


class Figure:
    """A plotly figure for a notebook: offline HTML for nbconvert plus the plotly JSON for JupyterLab.

    Rendering through this object (instead of ``fig.show()``) skips plotly.io's renderer machinery, which imports
    nbformat and jsonschema into every kernel (about a second each)."""

    def __init__(self, fig: Any) -> None:
        self.fig = fig

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import plotly.io as pio

        fig_dict = self.fig.to_plotly_json() if hasattr(self.fig, "to_plotly_json") else dict(self.fig)
        number = next(_FIGURES)
        markup = pio.to_html(
            fig_dict,
            include_plotlyjs=number == 1,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=fig_dict.get("layout", {}).get("height") or 460,
            div_id=f"rk-figure-{number}",
            config={"displaylogo": False, "responsive": True},
            validate=False,
        )
        return {
            "text/html": markup,
            "application/vnd.plotly.v1+json": {
                "data": fig_dict.get("data", []),
                "layout": fig_dict.get("layout", {}),
                "config": {"displaylogo": False},
            },
        }


def figure(fig: Any) -> Figure:
    """Display a plotly figure offline (plotly.js inlined once per notebook, deterministic div ids)."""
    return Figure(fig)


_FIGURES = itertools.count(1)  # per kernel: plotly.js is inlined in the first figure only
