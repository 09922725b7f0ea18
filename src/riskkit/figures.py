"""Plotly figure builders: pure functions from riskkit tables to ``go.Figure`` (no display, no I/O)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

#: Colour-blind-safe band fills (blue, yellow, orange, red-purple); every cell also says its band in words.
BAND_COLOURS = {"low": "#9ecae1", "medium": "#fde68a", "high": "#f4a261", "critical": "#c2185b"}
#: Text on each band fill, chosen for contrast (>= 4.5:1).
BAND_TEXT = {"low": "#10253a", "medium": "#2a2100", "high": "#2a1300", "critical": "#ffffff"}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0}, height=height, font=FONT, margin={"l": 60, "r": 20, "t": 60, "b": 50}
    )
    return fig


def risk_heatmap(register: pd.DataFrame, cells: list[list[str]], which: str = "residual") -> go.Figure:
    """5×5 likelihood × severity grid coloured by the methodology's bands, each cell showing how many rows fall in it.

    ``which`` is ``residual`` (ceiling of the residual likelihood) or ``inherent``."""
    likelihood = (
        register["residual_likelihood"].map(lambda v: math.ceil(round(v, 9)))
        if which == "residual"
        else register["likelihood"]
    )
    counts = pd.crosstab(likelihood, register["severity"]).reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
    order = list(BAND_COLOURS)
    z = [[order.index(cells[i][j]) for j in range(5)] for i in range(5)]
    text = [
        [f"{cells[i][j]}<br>{int(counts.iloc[i, j])}" if counts.iloc[i, j] else cells[i][j] for j in range(5)]
        for i in range(5)
    ]
    hover = [
        [f"likelihood {i + 1}, severity {j + 1}: {cells[i][j]} — {int(counts.iloc[i, j])} risk(s)" for j in range(5)]
        for i in range(5)
    ]
    scale = []
    for k, band in enumerate(order):
        scale += [[k / len(order), BAND_COLOURS[band]], [(k + 1) / len(order), BAND_COLOURS[band]]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[1, 2, 3, 4, 5],
            y=[1, 2, 3, 4, 5],
            text=text,
            texttemplate="%{text}",
            textfont={"size": 14, "color": "#111111"},
            hovertext=hover,
            hoverinfo="text",
            colorscale=scale,
            zmin=0,
            zmax=len(order),
            showscale=False,
            xgap=3,
            ygap=3,
        )
    )
    fig.update_xaxes(title="Severity (1–5)", tickvals=[1, 2, 3, 4, 5])
    fig.update_yaxes(title="Likelihood (1–5)", tickvals=[1, 2, 3, 4, 5])
    return _layout(
        fig, f"{which.capitalize()} risk: each cell's band and how many harm × surface risks fall in it", 460
    )


def inherent_to_residual(register: pd.DataFrame, top: int = 25) -> go.Figure:
    """Dumbbell chart: each risk's inherent score and its residual score after controls (highest residual first)."""
    rows = register.sort_values("residual_score", ascending=False).head(top).iloc[::-1]
    labels = rows["harm"] + " · " + rows["surface"]
    fig = go.Figure()
    for _, r in rows.iterrows():
        fig.add_trace(
            go.Scatter(
                x=[r["residual_score"], r["inherent_score"]],
                y=[f"{r['harm']} · {r['surface']}"] * 2,
                mode="lines",
                line={"color": "#9e9e9e", "width": 2},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=rows["inherent_score"],
            y=labels,
            mode="markers",
            name="inherent",
            marker={"color": "#757575", "size": 10, "symbol": "circle-open"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rows["residual_score"],
            y=labels,
            mode="markers",
            name="residual",
            marker={"color": [BAND_COLOURS[b] for b in rows["residual_band"]], "size": 11},
            text=rows["residual_band"],
            hovertemplate="%{y}: residual %{x:.1f} (%{text})<extra></extra>",
        )
    )
    fig.update_xaxes(title="score (likelihood × severity)", range=[0, 26])
    return _layout(fig, "Inherent → residual risk (highest residual first)", max(360, 22 * len(rows) + 120))


def metric_bars(
    table: pd.DataFrame,
    metric: str,
    title: str,
    percent: bool = True,
    target: float | None = None,
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """One metric per category with Wilson intervals (rates) from a metrics table (scope already chosen), and the
    target as a dashed line when there is one; ``labels`` maps category keys to what readers see."""
    rows = table[(table["metric"] == metric) & (table["dimension"] == "")].dropna(subset=["value"])
    scale = 100 if percent else 1
    has_ci = rows["ci_low"].notna().any()
    error = (
        {
            "type": "data",
            "symmetric": False,
            "array": (rows["ci_high"] - rows["value"]) * scale,
            "arrayminus": (rows["value"] - rows["ci_low"]) * scale,
        }
        if has_ci
        else None
    )
    names = [(labels or {}).get(c, "All harms" if c == "all" else c) for c in rows["category"]]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=rows["value"] * scale,
            error_y=error,
            marker_color=["#37474f" if c == "all" else "#1565c0" for c in rows["category"]],
            hovertemplate="%{x}: %{y:.1f}" + ("%" if percent else "") + "<extra></extra>",
        )
    )
    fig.update_yaxes(title="%" if percent else rows["unit"].iloc[0] if len(rows) else "")
    if target is not None:
        fig.add_hline(
            y=target * scale,
            line={"dash": "dash", "color": "#7a1f1f", "width": 2},
            annotation_text=f"target {target * scale:g}{'%' if percent else ''}",
            annotation_position="top left",
        )
    fig.update_xaxes(tickangle=-35, automargin=True)
    return _layout(fig, title, 420)


def domain_scores(domains: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars: each domain's weighted compliance score (%), with the item counts in the hover."""
    d = domains.iloc[::-1]
    colour = [
        "#9e9e9e"
        if pd.isna(s)
        else BAND_COLOURS["low"]
        if s >= 0.8
        else BAND_COLOURS["medium"]
        if s >= 0.5
        else BAND_COLOURS["critical"]
        for s in d["score"]
    ]
    fig = go.Figure(
        go.Bar(
            x=d["score"] * 100,
            y=d["label"],
            orientation="h",
            marker_color=colour,
            customdata=d[["compliant", "partial", "non_compliant", "not_applicable", "not_assessed"]].to_numpy(),
            hovertemplate="%{y}: %{x:.0f}%<br>compliant %{customdata[0]}, partial %{customdata[1]}, "
            "non-compliant %{customdata[2]}, n/a %{customdata[3]}, not assessed %{customdata[4]}<extra></extra>",
        )
    )
    fig.update_xaxes(title="weighted compliance score (%)", range=[0, 100])
    return _layout(fig, title, max(320, 40 * len(d) + 120))


def maturity_radar(domains: pd.DataFrame, title: str) -> go.Figure:
    """Radar of mean and minimum maturity (0–4) per domain."""
    labels = [*domains["domain"], domains["domain"].iloc[0]]
    fig = go.Figure()
    for col, name, colour in (("maturity_mean", "mean", "#1565c0"), ("maturity_min", "minimum", "#c62828")):
        values = [*domains[col].fillna(0), domains[col].fillna(0).iloc[0]]
        fig.add_trace(
            go.Scatterpolar(
                r=values,
                theta=labels,
                name=name,
                line={"color": colour},
                fill="toself" if col == "maturity_mean" else None,
                opacity=0.8,
            )
        )
    fig.update_layout(polar={"radialaxis": {"range": [0, 4], "tickvals": [0, 1, 2, 3, 4]}})
    return _layout(fig, title, 460)


def disclosed_bars(table: pd.DataFrame, label: str, value: str, title: str, total: str = "total") -> go.Figure:
    """Bars drawn only from a public table's disclosed strings, without its ``total`` row: a suppressed cell has
    no bar and says what the table says (``<10``, withheld), so a figure can never show what the table hides."""
    rows = table[table[label] != total]

    def number(text: str) -> float | None:
        digits = text.replace(",", "")
        return float(digits) if digits.replace(".", "", 1).isdigit() else None

    numbers = [number(str(v)) for v in rows[value]]
    text = ["" if n is not None else str(v) for n, v in zip(numbers, rows[value], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=numbers,
            y=rows[label],
            orientation="h",
            text=text,
            textposition="outside",
            marker_color="#1565c0",
            hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, max(320, 34 * len(rows) + 120))
