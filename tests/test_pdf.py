"""PDF from rendered HTML through Debian chromium: A4 pages with a running header and "Page i of N" on each,
wide tables wrapped to the page instead of clipped, figures drawn, nothing fetched from the network."""

from __future__ import annotations

import logging
import time

import pandas as pd
import pytest

from documents_samples import builder_figures, page
from riskkit import display
from riskkit.documents import DocumentError
from riskkit.documents.browser import chromium_path, launch_chromium
from riskkit.documents.pdf import (
    content_width_px,
    header_template,
    html_to_pdf,
    pdf_page_count,
    pdf_page_texts,
    prepare_for_print,
    print_css,
)
from riskkit.documents.plotly_bundle import figure_html

pytestmark = pytest.mark.skipif(
    not chromium_path().exists(), reason="Debian chromium missing: .ci/run installs it (apt-get install -y chromium)"
)
HEADER = "Serambi · 2026-H1 · run 2026-07-10T0900 <b>&amp;</b>"


ROWS = 80  # several pages once wrapped, without a long print


def wide_table() -> pd.DataFrame:
    """ROWS rows × 20 columns, with long unbroken values that would push a table off the page."""
    columns = {}
    for c in range(20):
        if c % 4 == 0:
            columns[f"identifier_column_{c}"] = [f"sha256:{(r * 7919 + c):064x}" for r in range(ROWS)]
        elif c % 4 == 1:
            columns[f"count {c}"] = [r * 1013 + c for r in range(ROWS)]
        elif c % 4 == 2:
            columns[f"rationale {c}"] = [
                f"removed under policy {r % 9} after review by the local team" for r in range(ROWS)
            ]
        else:
            columns[f"share {c}"] = [(r % 97) / 97 for r in range(ROWS)]
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    figs = builder_figures()
    body = (
        "<h1>Half-yearly report</h1>"
        '<nav id="rk-toc"><h2>Contents</h2><ol><li>table</li></ol></nav><button>Sort</button>'
        f"<h2>Compliance</h2>{figure_html(figs['domain_scores'], 'fig-a')}"
        f"<h2>Maturity</h2>{figure_html(figs['maturity_radar'], 'fig-b')}"
        f"<h2>Every action</h2>{display.table(wide_table())}"
    )
    path = tmp_path_factory.mktemp("pdf") / "report.html"
    path.write_text(page("Report", body), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def converted(report, browser):
    started = time.perf_counter()
    pdf = html_to_pdf(report, report.with_suffix(".pdf"), header=HEADER, browser=browser)
    seconds = time.perf_counter() - started
    print(f"\nPDF conversion: {seconds:.2f} s, {pdf_page_count(pdf)} pages, {pdf.stat().st_size:,} bytes")
    return pdf, seconds, pdf_page_texts(pdf)


def test_pdf_has_pages_each_with_header_and_page_n_of_m(converted):
    pdf, seconds, texts = converted
    assert pdf.read_bytes().startswith(b"%PDF-")
    n = pdf_page_count(pdf)
    assert n > 1
    assert len(texts) == n
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text, (i, text[-200:])
        assert HEADER in text, (i, text[:200])  # escaped: the markup shows as written
    assert seconds < 60


def test_pdf_holds_figures_and_the_whole_table_but_no_ui_chrome(converted):
    _, _, texts = converted
    text = "\n".join(texts)
    assert "Compliance score by domain" in text  # plotly's SVG text is real text in the PDF
    assert "Maturity by domain (0-4)" in text
    joined = "".join(text.split())  # cells wrap, so compare without line breaks
    assert "removedunderpolicy8afterreview" in joined
    assert f"{(ROWS - 1) * 1013 + 1}" in joined  # the last row's count: no row lost at a page break
    assert f"sha256:{(ROWS - 1) * 7919 + 16:064x}" in joined  # a long token, broken across lines, all there
    assert "Sort" not in text and "Contents" not in text


def test_headers_repeat_and_tables_fit_the_page_in_print_layout(report, browser):
    width = content_width_px()
    assert width == 687  # A4's 210 mm less 2 × 14 mm, at 96 CSS px per inch
    page_ = browser.new_page(viewport={"width": width, "height": 1000})
    try:
        errors = prepare_for_print(page_, report.as_uri())
        assert errors == []
        sizes = page_.evaluate(
            """() => Array.from(document.querySelectorAll('table')).map(t => [t.scrollWidth,
                 Math.ceil(t.getBoundingClientRect().right)])"""
        )
        assert sizes and all(scroll <= width and right <= width for scroll, right in sizes), (width, sizes)
        svgs = page_.evaluate(
            "() => Array.from(document.querySelectorAll('.main-svg')).map(s => s.getBoundingClientRect().right)"
        )
        assert svgs and max(svgs) <= width
        head = page_.evaluate("getComputedStyle(document.querySelector('thead')).display")
        assert head == "table-header-group"
        assert page_.evaluate("getComputedStyle(document.querySelector('#rk-toc')).display") == "none"
    finally:
        page_.close()


def test_without_print_css_the_table_is_wider_than_the_page(report, browser):
    """The check above can fail: the same table laid out for the screen runs off an A4 page."""
    page_ = browser.new_page(viewport={"width": content_width_px(), "height": 1000})
    try:
        page_.goto(report.as_uri())
        widest = page_.evaluate("Math.max(...Array.from(document.querySelectorAll('table')).map(t => t.scrollWidth))")
        assert widest > content_width_px()
    finally:
        page_.close()


def test_landscape_pages_and_blocked_requests(tmp_path, browser, caplog):
    source = tmp_path / "small.html"
    source.write_text(page("x", '<h1>Small</h1><img src="https://riskkit.invalid/pixel.png" alt="">'), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="riskkit.documents.pdf"):
        pdf = html_to_pdf(source, tmp_path / "small.pdf", header="h", landscape=True, browser=browser)
    from pypdf import PdfReader

    box = PdfReader(pdf).pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape A4: 842 × 595 pt
    assert round(float(box.width)) == 842
    assert "blocked 1 request" in caplog.text and "riskkit.invalid" in caplog.text
    assert pdf_page_texts(pdf)[0].count("Page 1 of 1") == 1


def test_refuses_to_overwrite_when_told_and_reports_a_missing_file(tmp_path, browser):
    source = tmp_path / "a.html"
    source.write_text(page("a", "<p>a</p>"), encoding="utf-8")
    target = tmp_path / "a.pdf"
    target.write_bytes(b"keep")
    with pytest.raises(DocumentError, match="already exists"):
        html_to_pdf(source, target, header="h", overwrite=False, browser=browser)
    assert target.read_bytes() == b"keep"
    with pytest.raises(DocumentError, match="no HTML file"):
        html_to_pdf(tmp_path / "missing.html", target, header="h", browser=browser)


def test_header_is_escaped_and_css_ships():
    assert "&lt;script&gt;" in header_template("<script>alert(1)</script>")
    css = print_css()
    assert "thead { display: table-header-group; }" in css and "@page" in css


def test_a_landscape_section_gets_landscape_pages(tmp_path, browser):
    from pypdf import PdfReader

    source = tmp_path / "mixed.html"
    body = "<h1>Portrait</h1><p>one</p><div class='rk-landscape'><h2>Wide</h2><p>two</p></div><p>three</p>"
    source.write_text(page("mixed", body), encoding="utf-8")
    pdf = html_to_pdf(source, tmp_path / "mixed.pdf", header="h", browser=browser)
    shapes = [float(p.mediabox.width) > float(p.mediabox.height) for p in PdfReader(pdf).pages]
    assert shapes == [False, True, False]
    assert "Wide" in pdf_page_texts(pdf)[1]


def test_a_figure_that_never_draws_is_an_error_not_a_blank_page(tmp_path, browser):
    source = tmp_path / "broken.html"
    source.write_text(
        '<html><body><div class="plotly-graph-div" id="f"></div><script>throw new Error("boom")</script></body></html>',
        encoding="utf-8",
    )
    with pytest.raises(DocumentError, match=r"did not finish drawing.*boom"):
        html_to_pdf(source, tmp_path / "broken.pdf", header="h", browser=browser, timeout=2)
    assert not (tmp_path / "broken.pdf").exists()
