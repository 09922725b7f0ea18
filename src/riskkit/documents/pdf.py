"""PDF from a rendered HTML report, through Debian chromium (see :mod:`riskkit.documents.browser`).

The page is opened from its file with every other request refused, laid out with print CSS at the A4 content
width, its plotly figures drawn (and redrawn at that width), then printed with a running header and a
"Page N of M" footer in the margins and the document outline (PDF bookmarks from the headings).

Call it from plain Python (the runner, the CLI): playwright's sync API cannot run inside an asyncio loop, such as
a Jupyter kernel's cell.
"""

from __future__ import annotations

import functools
import html
import io
import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from riskkit.documents import DocumentError
from riskkit.documents.browser import block_network, launch_chromium
from riskkit.documents.files import atomic_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

log = logging.getLogger(__name__)

#: Page margins in millimetres: room for the header (top) and footer (bottom).
MARGINS_MM = {"top": 18.0, "bottom": 16.0, "left": 14.0, "right": 14.0}
A4_MM = (210.0, 297.0)
CSS_PX_PER_MM = 96 / 25.4
HEADER_STYLE = (
    "font-family: system-ui, 'DejaVu Sans', sans-serif; font-size: 8pt; color: #455a64; width: 100%; "
    f"margin: 0 {MARGINS_MM['right']}mm 0 {MARGINS_MM['left']}mm; "
    "white-space: nowrap; overflow: hidden; text-overflow: ellipsis;"
)
#: Waits until every plotly figure has drawn, then redraws any whose width is not its box's (the print width).
_FIGURES_DRAWN = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
    .every(d => d._fullLayout && d.querySelector('.main-svg'))"""
_FIT_FIGURES = """async () => {
  const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
  for (const d of divs) {
    const width = Math.floor(d.getBoundingClientRect().width);
    if (window.Plotly && width > 0 && Math.abs(d._fullLayout.width - width) > 1) {
      await window.Plotly.relayout(d, {width: width});
    }
  }
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return divs.length;
}"""


@functools.cache
def print_fit_js() -> str:
    """``assets/print-fit.js``: defines ``window.riskkitFitTables()``, which gives each table the most readable
    layout that fits its box in print layout (see the script); :func:`prepare_for_print` runs it."""
    return resources.files("riskkit.documents").joinpath("assets", "print-fit.js").read_text(encoding="utf-8")


@functools.cache
def print_css() -> str:
    """riskkit's print stylesheet (``templates/riskkit/static/print.css``, which every report page includes, so a
    browser's Print gives the same pages); :func:`html_to_pdf` adds it again for pages made elsewhere."""
    from riskkit.resources import templates_dir

    return (templates_dir() / "riskkit" / "static" / "print.css").read_text(encoding="utf-8")


def content_width_px(landscape: bool = False) -> int:
    """Width in CSS pixels between the left and right margins of an A4 page."""
    width_mm = (A4_MM[1] if landscape else A4_MM[0]) - MARGINS_MM["left"] - MARGINS_MM["right"]
    return int(width_mm * CSS_PX_PER_MM)


def header_template(text: str) -> str:
    """Chromium's running header: ``text``, escaped, in small type at the top left of every page."""
    return f'<div style="{HEADER_STYLE}">{html.escape(text)}</div>'


def footer_template(lang: str = "en") -> str:
    """Chromium's footer: "Page N of M" (filled in by chromium) at the bottom right of every page, in ``lang``."""
    from riskkit.reports.wording import load_wording

    numbers = {"page": '<span class="pageNumber"></span>', "pages": '<span class="totalPages"></span>'}
    return f'<div style="{HEADER_STYLE} text-align: right;">{load_wording().t("pdf_page", lang, **numbers)}</div>'


def page_language(html_path: str | os.PathLike[str]) -> str:
    """The ``lang`` an HTML page declares (``en`` when it declares none)."""
    with open(html_path, encoding="utf-8", errors="replace") as f:
        head = f.read(2048)
    match = re.search(r"<html[^>]*\blang=\"([a-z]{2})", head)
    return match.group(1) if match else "en"


def html_to_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    header: str,
    landscape: bool = False,
    overwrite: bool = True,
    browser: Browser | None = None,
    timeout: float = 60.0,
) -> Path:
    """Print the HTML file at ``html_path`` to an A4 PDF at ``pdf_path`` (atomically) and return its path.

    ``header`` is the running header (e.g. platform · cycle · run id), escaped; ``landscape`` turns every page
    (print CSS can still turn single sections, see ``.rk-landscape`` in print.css). Pass an open ``browser``
    (from :func:`riskkit.documents.browser.launch_chromium`) to convert several files with one chromium; otherwise
    one is started and closed. Raises :class:`DocumentError` if chromium is missing or a figure does not finish
    drawing within ``timeout`` seconds."""
    source = Path(html_path).resolve()
    if not source.is_file():
        raise DocumentError(f"no HTML file at {source}")
    if not overwrite and Path(pdf_path).exists():  # before any work (atomic_path checks again at the move)
        raise DocumentError(f"{pdf_path} already exists (pass overwrite=True to replace it)")
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = launch_chromium(p)
            try:
                return html_to_pdf(
                    source,
                    pdf_path,
                    header=header,
                    landscape=landscape,
                    overwrite=overwrite,
                    browser=own,
                    timeout=timeout,
                )
            finally:
                own.close()

    page = browser.new_page(viewport={"width": content_width_px(landscape), "height": 1000})
    try:
        data = _print(
            page, source, header=header, landscape=landscape, timeout_ms=timeout * 1000, lang=page_language(source)
        )
    finally:
        page.close()
    with atomic_path(pdf_path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(pdf_path)


def prepare_for_print(page: Page, url: str, *, landscape: bool = False, timeout_ms: float = 60_000) -> list[str]:
    """Open ``url`` in ``page`` as it will be printed: network off, print media, riskkit's print CSS, tables
    fitted to the page (:func:`print_fit_js`), figures drawn at the page's width. Returns the errors the page
    raised (blocked URLs are logged)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = block_network(page)
    page.emulate_media(media="print")
    page.goto(url, wait_until="load", timeout=timeout_ms)
    page.add_style_tag(content=print_css() + ("@page { size: A4 landscape; }" if landscape else ""))
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(_FIGURES_DRAWN, timeout=timeout_ms)
    except PlaywrightTimeout as exc:
        raise DocumentError(
            f"{url}: plotly figures did not finish drawing in {timeout_ms / 1000:.0f} s"
            + (f" (page errors: {'; '.join(errors)})" if errors else "")
        ) from exc
    page.add_script_tag(content=print_fit_js())
    page.evaluate("window.riskkitFitTables()")
    page.evaluate(_FIT_FIGURES)
    if blocked:
        log.warning("%s: blocked %d request(s) to other hosts, e.g. %s", url, len(blocked), blocked[0])
    return errors


def _print(page: Page, source: Path, *, header: str, landscape: bool, timeout_ms: float, lang: str = "en") -> bytes:
    errors = prepare_for_print(page, source.as_uri(), landscape=landscape, timeout_ms=timeout_ms)
    for error in errors:
        log.warning("%s: page error: %s", source.name, error)
    return page.pdf(
        format="A4",
        landscape=landscape,
        print_background=True,
        display_header_footer=True,
        header_template=header_template(header),
        footer_template=footer_template(lang),
        margin={side: f"{mm}mm" for side, mm in MARGINS_MM.items()},
        prefer_css_page_size=True,
        outline=True,
        tagged=True,
    )


def _reader(pdf: str | os.PathLike[str] | bytes):
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover - pypdf comes with the dev extra
        raise DocumentError("reading PDFs needs pypdf: pip install 'riskkit[dev]'") from exc
    return PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else os.fspath(pdf))


def pdf_page_count(pdf: str | os.PathLike[str] | bytes) -> int:
    """Number of pages of a PDF file (or its bytes). Needs pypdf (the dev extra)."""
    return len(_reader(pdf).pages)


def pdf_page_texts(pdf: str | os.PathLike[str] | bytes) -> list[str]:
    """The text of each page of a PDF, in order. Needs pypdf (the dev extra)."""
    return [page.extract_text() or "" for page in _reader(pdf).pages]
