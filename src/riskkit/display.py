"""What notebooks show: reader-facing views (captioned, typed, sortable), notes, sign-off, and plotly figures.

Everything from inputs is escaped. The page's styles and its one small script (the keyboard-accessible table
sorter) come from riskkit's nbconvert template, not from cell outputs; figures carry their JSON and plotly.js is
added to the page once by the template, so rendered HTML opens offline and executes nothing from data.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

import pandas as pd

_ids = itertools.count(1)


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
    return HTML(f'<div class="rk-scroll">{markup}</div>')


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
    """A plotly figure for a report: a ``<figure>`` with the chart (its JSON and a call to riskkit's plotly.js, which
    the page template adds once), a caption, and the chart's numbers as a table for readers who cannot see it; plus
    the plotly JSON for JupyterLab. Rendered without plotly.io's renderer machinery (which would import nbformat and
    jsonschema into every kernel)."""

    def __init__(self, fig: Any, caption: str = "", lang: str = "en") -> None:
        self.fig = fig
        self.caption = caption
        self.lang = lang

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from riskkit.documents.plotly_bundle import figure_html
        from riskkit.reports.wording import load_wording

        words, lang = load_wording(), self.lang
        fig_dict = self.fig.to_plotly_json() if hasattr(self.fig, "to_plotly_json") else dict(self.fig)
        number = next(_FIGURES)
        title = _figure_title(fig_dict) or words.t("chart", lang)
        caption = self.caption or title
        chart = figure_html(self.fig, f"rk-figure-{number}")
        head = tuple(words.t(k, lang) for k in ("chart_series", "chart_item", "chart_value"))
        table = _numbers_table(fig_dict, head)
        markup = (
            f'<figure class="rk-figure" aria-label="{html.escape(caption)}">'
            f'<div class="rk-chart">{chart}</div>'
            f"<figcaption>{html.escape(caption)} {html.escape(words.t('chart_see_table', lang))}</figcaption>"
            f"<details><summary>{html.escape(words.t('chart_numbers', lang))}</summary>{table}</details></figure>"
        )
        return {
            "text/html": markup,
            "application/vnd.plotly.v1+json": {
                "data": fig_dict.get("data", []),
                "layout": fig_dict.get("layout", {}),
                "config": {"displaylogo": False},
            },
        }


def figure(fig: Any, caption: str = "", lang: str = "en") -> Figure:
    """Display a plotly figure offline, with a caption and its numbers as an accessible table (its wording in
    ``lang``)."""
    return Figure(fig, caption, lang)


_FIGURES = itertools.count(1)  # per kernel: deterministic div ids


def _figure_title(fig_dict: dict[str, Any]) -> str:
    title = fig_dict.get("layout", {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return str(title or "")


def _numbers_table(fig_dict: dict[str, Any], head: tuple[str, str, str]) -> str:
    """The traces' values as one HTML table (bar/scatter: x and y; heatmap: the grid; polar: theta and r). A bar
    without a value (a count hidden by disclosure control) shows its text (``<10``) instead."""
    rows: list[tuple[str, str, str]] = []
    for trace in fig_dict.get("data", []):
        name = str(trace.get("name") or "")
        kind = trace.get("type", "")
        if kind == "heatmap":
            z, xs, ys = _list(trace.get("z")), _list(trace.get("x")), _list(trace.get("y"))
            for i, row in enumerate(z):
                for j, value in enumerate(row):
                    label = f"{ys[i] if i < len(ys) else i} × {xs[j] if j < len(xs) else j}"
                    rows.append((name, label, _num(value)))
        elif kind in ("scatterpolar", "barpolar"):
            for theta, r in zip(_list(trace.get("theta")), _list(trace.get("r")), strict=False):
                rows.append((name, str(theta), _num(r)))
        else:
            xs, ys = _list(trace.get("x")), _list(trace.get("y"))
            horizontal = trace.get("orientation") == "h"
            labels, values = (ys, xs) if horizontal else (xs, ys)
            texts = _list(trace.get("text")) if isinstance(trace.get("text"), list | tuple) else []
            for i, (label, value) in enumerate(zip(labels, values, strict=False)):
                shown = _num(value) if value is not None or i >= len(texts) else str(texts[i])
                rows.append((name, str(label), shown))
    body = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td data-num>{html.escape(c)}</td></tr>"
        for a, b, c in rows[:500]
    )
    head_row = "<tr>" + "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head) + "</tr>"
    return (
        f'<div class="rk-scroll"><table class="rk-table"><thead>{head_row}</thead><tbody>{body}</tbody></table></div>'
    )


def _list(values: Any) -> list[Any]:
    """A trace's data (a list, a tuple, a NumPy array, a pandas object or None) as a plain list."""
    if values is None:
        return []
    if hasattr(values, "tolist"):
        return list(values.tolist())
    return list(values)


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def view(v: Any, *, max_rows: int | None = None) -> HTML:
    """A :class:`~riskkit.reports.views.View` as an accessible table: a caption with its title and scope, a header
    of sort buttons (keyboard operable, ``aria-sort`` on the sorted column), cells formatted for reading and
    carrying their raw value for sorting. Empty views say so instead of showing a header-only table."""
    from riskkit.reports.views import fmt

    caption = f'<caption><span class="rk-title">{html.escape(v.title)}</span>'
    if v.scope:
        caption += f' <span class="rk-scope">{html.escape(v.scope)}</span>'
    caption += "</caption>"
    if v.empty:
        return HTML(f'<p class="rk-note">{html.escape(v.title)}: none. {html.escape(v.scope)}</p>')
    frame = v.frame if max_rows is None else v.frame.head(max_rows)
    head = "".join(
        f'<th scope="col"><button type="button" class="rk-sort">{html.escape(c.label)}</button></th>' for c in v.columns
    )
    body = []
    for row in frame.to_dict("records"):
        cells = []
        for c in v.columns:
            kind = row.get(c.kinds, c.kind) if c.kinds else c.kind
            value = row.get(c.key)
            text = fmt(value, kind)
            sort = _sort_key(value, kind)
            css = ""
            if c.key in v.classes and text:
                css = f' class="{html.escape(v.classes[c.key] + _slug(row.get(c.key + "_key", text)))}"'
            num = ' data-num="1"' if kind in ("integer", "number", "percent", "hours") else ""
            cells.append(f'<td{css}{num} data-sort="{html.escape(sort)}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="rk-caption-note">{html.escape(v.note)}</p>' if v.note else ""
    more = ""
    if max_rows is not None and len(v.frame) > max_rows:
        more = f'<p class="rk-caption-note">{len(v.frame) - max_rows:,} more rows in the workbook.</p>'
    table = (
        f'<table class="rk-table rk-sortable" id="rk-t{next(_ids)}">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return HTML(
        f'<div class="rk-scroll" tabindex="0" role="region" aria-label="{html.escape(v.title)}">{table}</div>{note}{more}'
    )


def _sort_key(value: Any, kind: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if kind in ("integer", "number", "percent", "hours"):
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    if kind == "date":
        return str(pd.Timestamp(value).date())
    return str(value)


def _slug(text: Any) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")


def sign_off(result: Any) -> HTML:
    """The sign-off block: who prepared, reviewed and approved the document, with a line to sign and date; an
    unsigned pack gets an explicit draft notice instead of anyone's names."""
    s = result.scalars.get("sign_off") or {}
    if not s.get("signed"):
        return HTML(
            '<div class="rk-draft" role="note"><strong>Unsigned draft.</strong> This document names no one who '
            "prepared, reviewed or approved it: add <code>sign_off</code> to datapack.yaml (or pass --prepared-by, "
            "--reviewed-by, --approved-by to riskkit run) before it is submitted or published.</div>"
        )
    rows = []
    for key, what in (("prepared_by", "Prepared by"), ("reviewed_by", "Reviewed by"), ("approved_by", "Approved by")):
        for person in s.get(key, []):
            extra = f" ({person['qualification']})" if person.get("qualification") else ""
            when = person.get("date") or ""
            rows.append(
                f"<tr><th scope='row'>{what}</th><td>{html.escape(person['name'])}{html.escape(extra)}</td>"
                f"<td>{html.escape(person['role'])}</td><td>{html.escape(str(when))}</td>"
                "<td class='rk-signature' aria-label='signature'></td></tr>"
            )
    head = "<tr><th scope='col'>Step</th><th scope='col'>Name</th><th scope='col'>Role</th><th scope='col'>Date</th><th scope='col'>Signature</th></tr>"
    return HTML(
        f'<table class="rk-table rk-signoff"><caption>Sign-off</caption><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
    )


def title(result: Any, name: str) -> HTML:
    """What the notebook shows in JupyterLab above the sections: the document, the service and the period. In the
    rendered report the page template gives the one ``<h1>`` and this line is hidden (class ``rk-lab-title``)."""
    s = result.scalars
    text = f"{name} — {s['platform']['name']} · {s['cycle']['label']}"
    return HTML(f"<p class='rk-lab-title'><strong>{html.escape(text)}</strong></p>")


def band_legend() -> HTML:
    """The risk bands' colours with their names (the heatmaps and tables also write the band in each cell)."""
    from riskkit.figures import BAND_COLOURS

    items = "".join(
        f'<li><span style="background:{colour}" aria-hidden="true"></span>{html.escape(band.capitalize())}</li>'
        for band, colour in BAND_COLOURS.items()
    )
    return HTML(f'<ul class="rk-legend" aria-label="Risk bands">{items}</ul>')
