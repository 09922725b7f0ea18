"""Real-browser checks of a sample run: offline, no console errors, every figure rendered, working table of
contents — and a pack full of HTML and script in its data renders as text with nothing executed.

Uses Debian's chromium through playwright (no browser download); `.ci/run` installs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from browser import CHROMIUM
from browser import CHROMIUM_ARGS as ARGS
from riskkit.runner import run_cycle

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
MAX_PAGE_BYTES = int(1.5 * 1024 * 1024)

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
XSS = {
    "platform": 'Serambi <script>window.__xss = "platform"</script><img src=x onerror="window.__xss=\'img\'">',
    "feature": "<img src=x onerror=\"window.__xss='feature'\">AI tool",
    "evidence": '<script>window.__xss="evidence"</script> <a href="javascript:window.__xss=\'link\'">see</a>',
    "notes": "[click me](javascript:window.__xss='markdown')",
    "rationale": "<script>window.__xss='rationale'</script>",
}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    pack = tmp_path_factory.mktemp("hostile") / "pack"
    shutil.copytree(SAMPLE, pack)
    meta = yaml.safe_load((pack / "datapack.yaml").read_text())
    meta["platform"]["name"] = XSS["platform"]
    (pack / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    features = pd.read_csv(pack / "feature_changes.csv", dtype=str, keep_default_na=False)
    features.loc[features["feature"] == "AI image tool", "feature"] = XSS["feature"]
    features.to_csv(pack / "feature_changes.csv", index=False)
    answers = pd.read_csv(pack / "audits" / "child_safety.csv", dtype=str, keep_default_na=False)
    answers.loc[answers.index[:5], "evidence"] = XSS["evidence"]
    answers.loc[answers.index[:5], "owner"] = XSS["notes"]
    answers.to_csv(pack / "audits" / "child_safety.csv", index=False)
    actions = pq.read_table(pack / "actions.parquet").to_pandas()
    actions["rationale"] = actions["rationale"].astype("string")
    actions.loc[actions.index[:50], "rationale"] = XSS["rationale"]
    actions.to_parquet(pack / "actions.parquet", index=False)
    out = tmp_path_factory.mktemp("hostile-reports")
    return run_cycle(pack, "2026-H1", out=out, only=["01", "02_audit_child_safety"], progress=False)


def _open(browser, path: Path):
    """Open a report with every non-file request blocked; returns (page, blocked requests, console errors)."""
    context = browser.new_context()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    return page, blocked, errors


def _expected_figures(notebook: Path) -> int:
    nb = json.loads(notebook.read_text())
    return sum(
        1
        for cell in nb["cells"]
        for out in cell.get("outputs", [])
        if "rk-figure-" in "".join(out.get("data", {}).get("text/html", []))
    )


def test_every_report_renders_offline_with_all_figures_and_a_toc(browser, sample_run, sample_year_run):
    htmls = sorted(sample_run.glob("*.html"))
    assert {p.name for p in htmls} == {
        "index.html",
        "01_systemic_risk_assessment.html",
        "02_audit_safety_by_design.html",
        "02_audit_child_safety.html",
        "02_audit_accessibility.html",
        "03_mcmc_half_yearly_report.html",
    }
    year = sorted(sample_year_run.glob("*.html"))
    assert {p.name for p in year} == {
        "index.html",
        "04_public_annual_safety_report_en.html",
        "04_public_annual_safety_report_ms.html",
    }
    public = sorted((sample_year_run / "public").glob("*.html"))  # what the public opens
    assert [p.name for p in public] == ["annual-report-2025-en.html", "annual-report-2025-ms.html"]
    notebook_of = {p: p.with_suffix(".ipynb") for p in htmls + year}
    notebook_of.update({p: sample_year_run / f"04_public_annual_safety_report_{p.stem[-2:]}.ipynb" for p in public})
    for path in htmls + year + public:
        page, blocked, errors = _open(browser, path)
        assert blocked == [], f"{path.name} asked the network for {blocked}"
        if path.name == "index.html":
            reports = len(list(path.parent.glob("0*.html")))
            assert page.locator("table a[href$='.html']").count() == reports
            assert page.locator("section.public a[href$='.html']").count() == len(
                list(path.parent.glob("public/*.html"))
            )
            _assert_accessible(page, path.name)
            assert page.locator("th.group").count() >= 1
            page.close()
            continue
        expected = _expected_figures(notebook_of[path])
        assert expected >= 1
        page.wait_for_function(
            f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {expected}", timeout=30_000
        )
        assert page.locator(".plotly-graph-div").count() == expected
        assert errors == [], f"{path.name}: {errors}"
        links = page.locator("#rk-toc a")
        assert links.count() >= 6
        link = links.nth(links.count() // 2)
        target = link.get_attribute("href")
        link.click()
        page.wait_for_function(f"location.hash === {json.dumps(target)}")
        top, height, scrolled = page.evaluate(
            "(id) => [document.getElementById(decodeURIComponent(id)).getBoundingClientRect().top,"
            " window.innerHeight, window.scrollY]",
            target[1:],
        )
        assert scrolled > 0 and -2 <= top < height, (
            f"{path.name}: TOC link {target} did not bring its section into view"
        )
        assert page.locator(".jp-CodeCell .jp-InputArea").count() == 0  # no code cells
        assert "from riskkit" not in page.inner_text("body")
        assert path.stat().st_size <= MAX_PAGE_BYTES, f"{path.name}: {path.stat().st_size:,} bytes"
        assert path.read_text().count("riskkit plotly.js bundle") == 1  # the library once, not per figure
        assert page.locator("h1").count() == 1
        _assert_accessible(page, path.name)
        page.set_viewport_size({"width": 390, "height": 800})
        page.wait_for_timeout(300)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path.name} scrolls sideways at 390 px ({width} px wide)"
        page.close()


def test_hostile_inputs_render_as_text_and_nothing_runs(browser, hostile_run):
    seen = 0
    for name in ("01_systemic_risk_assessment.html", "02_audit_child_safety.html", "index.html"):
        page, blocked, errors = _open(browser, hostile_run.folder / name)
        page.wait_for_timeout(500)
        assert page.evaluate("typeof window.__xss") == "undefined", f"{name}: script from the data ran"
        assert not [e for e in errors if e.startswith("dialog")]
        assert blocked == []
        assert page.locator("a[href^='javascript:']").count() == 0
        text = page.inner_text("body")
        assert "<script>" in text, f"{name}: the platform's <script> should be visible text"
        if name.startswith("01"):
            assert "onerror=" in text  # the feature name, shown literally in the triggers table
            seen += 1
        if name.startswith("02"):
            assert 'href="javascript:' in text  # the evidence, shown literally
            assert "[click me](javascript:" in text
            seen += 1
        page.close()
    assert seen == 2


def _assert_accessible(page, name: str) -> None:
    """axe-core's WCAG 2.1 A/AA rules: no serious or critical violation; text never under 12 px."""
    assert AXE.is_file(), f"{AXE} is missing: run `make install` (npm installs axe-core for the browser tests)"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"
    small = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter(e => e.childNodes.length && [...e.childNodes]
             .some(n => n.nodeType === 3 && n.textContent.trim()) && e.offsetParent !== null
             && parseFloat(getComputedStyle(e).fontSize) < 12).map(e => e.tagName + ': ' + e.textContent.slice(0, 40))"""
    )
    assert not small, f"{name}: text under 12 px: {small[:5]}"
