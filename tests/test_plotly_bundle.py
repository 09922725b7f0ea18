"""riskkit's plotly.js bundle: the version the Python package writes JSON for, every trace type riskkit draws and
nothing else, safe to inline — and every figure builder draws with it in Debian chromium with the network off."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline
import pytest

from documents_samples import builder_figures, extra_figures, figures_page
from riskkit.documents.browser import block_network, chromium_path, launch_chromium
from riskkit.documents.plotly_bundle import ASSET, PLOTLY_VERSION, TRACE_TYPES, plotly_js, script_tag

ROOT = Path(__file__).parents[1]
RECIPE = ROOT / "tools" / "plotly-bundle"
FULL = Path(plotly.offline.__file__).parents[1] / "package_data" / "plotly.min.js"
needs_chromium = pytest.mark.skipif(
    not chromium_path().exists(), reason="Debian chromium missing: .ci/run installs it (apt-get install -y chromium)"
)
#: What must be drawn inside each figure's div (selector, at least how many).
DRAWN = {
    "risk_heatmap": (".heatmaplayer image", 1),
    "inherent_to_residual": (".scatterlayer .trace path", 8),
    "metric_bars": (".barlayer .point path", 4),
    "domain_scores": (".barlayer .point path", 4),
    "maturity_radar": (".polarlayer .scatterlayer .trace path", 2),
    "disclosed_bars": (".barlayer .point path", 3),
    "funnel": (".funnellayer .point path", 3),
    "barpolar": (".polarlayer .barlayer .point path", 4),
}


def test_bundle_is_the_plotly_js_the_python_package_writes_for():
    assert plotly.offline.get_plotlyjs_version() == PLOTLY_VERSION
    head = plotly_js()[:400]
    assert head.startswith("/*! riskkit plotly.js bundle")
    assert f"plotly.js v{PLOTLY_VERSION}" in head
    lock = (RECIPE / "package.json").read_text(encoding="utf-8")
    assert f'"plotly.js": "{PLOTLY_VERSION}"' in lock


def test_bundle_is_small_and_safe_to_inline():
    code = plotly_js()
    size, full = len(code.encode()), FULL.stat().st_size
    assert size < 1_300_000, size
    assert size < 0.3 * full, (size, full)
    assert "</script" not in code.lower()  # an inline <script> would end early
    tag = script_tag()
    assert tag.startswith("<script") and tag.endswith("</script>") and tag.count("</script>") == 1


def test_recipe_registers_every_trace_type_riskkit_draws():
    used = set()
    for module in (ROOT / "src" / "riskkit").rglob("*.py"):
        used |= {name.lower() for name in re.findall(r"\bgo\.([A-Z][a-z]+)\(", module.read_text(encoding="utf-8"))}
    used -= {"figure", "figurewidget", "layout"}
    assert used, "no trace types found: the scan is broken"
    assert used <= set(TRACE_TYPES), f"draw {sorted(used - set(TRACE_TYPES))} but the bundle lacks them"
    entry = (RECIPE / "entry.js").read_text(encoding="utf-8")
    registered = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", entry))
    assert registered == {"core", *TRACE_TYPES} - {"scatter"}  # scatter comes with plotly.js/lib/core
    assert "require('plotly.js/lib/core')" in entry
    assert (ROOT / "src" / "riskkit" / "documents" / "assets" / ASSET).is_file()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = block_network(page)
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.plotly-graph-div')).every(d => d._fullLayout)", timeout=20_000
    )
    return page, errors, blocked


@needs_chromium
def test_every_figure_draws_offline_with_the_bundle(browser, tmp_path):
    figs = {**builder_figures(), **extra_figures()}
    assert set(figs) == set(DRAWN)
    page, errors, blocked = _open(browser, figures_page(tmp_path / "figures.html", figs))
    try:
        assert page.evaluate("Plotly.version") == PLOTLY_VERSION
        for name, (selector, least) in DRAWN.items():
            div = page.locator(f"#fig-{name}")
            assert div.locator(".main-svg").count() >= 1, name
            assert div.locator(selector).count() >= least, (name, selector, div.locator(selector).count())
        radar = page.locator("#fig-maturity_radar .polarlayer")
        assert radar.count() == 1 and radar.locator("path").count() > 0
        assert page.locator("#fig-maturity_radar .polarlayer .trace").count() == 2  # mean and minimum
        assert errors == []
        assert blocked == []
    finally:
        page.close()


@needs_chromium
def test_a_trace_type_left_out_draws_nothing(browser, tmp_path):
    """The bundle really is partial, and the drawing checks above can fail: a pie chart has no pie layer."""
    pie = go.Figure(go.Pie(labels=["a", "b"], values=[1, 2]))
    page, _errors, _blocked = _open(browser, figures_page(tmp_path / "pie.html", {"pie": pie}))
    try:
        assert page.locator("#fig-pie .main-svg").count() >= 1
        assert page.locator("#fig-pie .pielayer path").count() == 0
    finally:
        page.close()
