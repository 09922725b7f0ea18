"""riskkit's own plotly.js: only the trace types riskkit draws, about a quarter of the full plotly.min.js.

Built from the npm registry by ``tools/plotly-bundle`` (see its README) and committed as package data, because an
installed wheel cannot run npm. Reports inline it once per page with :func:`script_tag` and render each figure with
``plotly.io.to_html(fig, include_plotlyjs=False, ...)``.
"""

from __future__ import annotations

import functools
from importlib import resources

#: The plotly.js release inside the bundle: the one the installed Python plotly package ships
#: (``plotly.offline.get_plotlyjs_version()``), so the figure JSON it writes is the JSON this draws.
PLOTLY_VERSION = "4.1.1"
#: Trace types the bundle can draw (``scatter`` also draws lines); any other type draws nothing.
TRACE_TYPES = ("scatter", "bar", "heatmap", "scatterpolar", "barpolar", "funnel")
ASSET = "plotly-riskkit.min.js"


@functools.cache
def plotly_js() -> str:
    """The minified bundle's source; it sets ``window.Plotly`` and contains no ``</script``."""
    return resources.files("riskkit.documents").joinpath("assets", ASSET).read_text(encoding="utf-8")


def script_tag() -> str:
    """The bundle as one inline ``<script>`` element, to put in a page once, before any figure."""
    return f'<script type="text/javascript" charset="utf-8">{plotly_js()}</script>'


def figure_html(fig: object, div_id: str, *, height: int | None = None) -> str:
    """One figure as an HTML fragment that expects :func:`script_tag` earlier in the page (no CDN, no MathJax,
    a fixed div id so renders are deterministic, full width)."""
    import plotly.io as pio

    layout = fig.to_plotly_json().get("layout", {}) if hasattr(fig, "to_plotly_json") else fig.get("layout", {})
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        default_width="100%",
        default_height=height or layout.get("height") or 460,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
        validate=False,
    )
