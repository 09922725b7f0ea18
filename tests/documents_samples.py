"""Small frames for every figure builder of riskkit.figures, and standalone pages that inline riskkit's plotly.js
bundle: shared by the plotly-bundle and PDF tests."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from riskkit import figures
from riskkit.documents.plotly_bundle import figure_html, script_tag

BANDS = ["low", "medium", "high", "critical"]
CELLS = [[BANDS[min(3, (i + j) // 2)] for j in range(5)] for i in range(5)]


def register() -> pd.DataFrame:
    """A risk register of six harm × surface rows."""
    return pd.DataFrame(
        {
            "harm": ["csam", "financial_scam", "hate_speech", "ncii", "bullying_harassment", "other"],
            "surface": ["messages", "ads", "comments", "messages", "feed", "search"],
            "likelihood": [2, 4, 3, 2, 5, 1],
            "severity": [5, 4, 3, 5, 2, 1],
            "residual_likelihood": [1.0, 2.5, 2.2, 1.4, 3.0, 1.0],
            "inherent_score": [10, 16, 9, 10, 10, 1],
            "residual_score": [5.0, 10.0, 6.6, 7.0, 6.0, 1.0],
            "residual_band": ["medium", "high", "medium", "medium", "medium", "low"],
        }
    )


def metrics_table() -> pd.DataFrame:
    """One rate metric for three categories and all, with Wilson intervals."""
    return pd.DataFrame(
        {
            "metric": ["sla.x"] * 4,
            "dimension": [""] * 4,
            "category": ["all", "csam", "financial_scam", "hate_speech"],
            "value": [0.91, 0.97, 0.88, 0.9],
            "ci_low": [0.89, 0.93, 0.84, 0.86],
            "ci_high": [0.93, 0.99, 0.91, 0.93],
            "unit": ["share"] * 4,
        }
    )


def domains() -> pd.DataFrame:
    """Audit domains with scores, item counts and maturity."""
    return pd.DataFrame(
        {
            "domain": ["governance", "design", "reporting", "age_assurance"],
            "label": ["Governance", "Safe design", "User reporting", "Age assurance"],
            "score": [0.9, 0.55, 0.3, None],
            "compliant": [9, 5, 3, 0],
            "partial": [1, 3, 2, 0],
            "non_compliant": [0, 2, 5, 0],
            "not_applicable": [0, 1, 0, 0],
            "not_assessed": [0, 0, 0, 4],
            "maturity_mean": [3.2, 2.1, 1.4, None],
            "maturity_min": [3.0, 1.0, 0.0, None],
        }
    )


def disclosed() -> pd.DataFrame:
    """A public table's disclosed strings, one suppressed cell."""
    return pd.DataFrame(
        {"harm": ["csam", "financial_scam", "hate_speech", "total"], "actions": ["1,204", "< 10", "532", "1,736"]}
    )


def builder_figures() -> dict[str, go.Figure]:
    """Every figure builder of :mod:`riskkit.figures`, each on sample data."""
    return {
        "risk_heatmap": figures.risk_heatmap(register(), CELLS, "residual"),
        "inherent_to_residual": figures.inherent_to_residual(register()),
        "metric_bars": figures.metric_bars(metrics_table(), "sla.x", "Within 24 hours"),
        "domain_scores": figures.domain_scores(domains(), "Compliance score by domain"),
        "maturity_radar": figures.maturity_radar(domains(), "Maturity by domain (0-4)"),
        "disclosed_bars": figures.disclosed_bars(disclosed(), "harm", "actions", "Enforcement actions"),
    }


def extra_figures() -> dict[str, go.Figure]:
    """The bundle's other trace types: the explorer's funnel and polar bars."""
    funnel = go.Figure(go.Funnel(y=["reported", "assessed", "actioned"], x=[1000, 640, 310], textinfo="text"))
    barpolar = go.Figure(go.Barpolar(r=[3, 2, 4, 1], theta=["a", "b", "c", "d"]))
    return {"funnel": funnel, "barpolar": barpolar}


def page(title: str, body: str, *, css: str = "") -> str:
    """A standalone HTML page inlining the bundle once, before ``body``."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{css}</style>{script_tag()}</head><body>{body}</body></html>"
    )


def figures_page(path: Path, figs: dict[str, go.Figure]) -> Path:
    """Write a page with each figure in a ``<section id=name>``."""
    sections = "".join(
        f'<section id="{name}"><h2>{name}</h2>{figure_html(fig, f"fig-{name}")}</section>' for name, fig in figs.items()
    )
    path.write_text(page("figures", sections), encoding="utf-8")
    return path
