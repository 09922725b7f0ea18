"""PDFs of a run's reports: every rendered page printed to A4 by one Chromium, with a running header.

The header names the platform, the cycle and the run (public documents: the platform and the year only, no run
id). Used by ``riskkit run --pdf`` and by ``riskkit pdf RUN_DIR`` for a run made before.
"""

from __future__ import annotations

import json
from pathlib import Path

from riskkit.documents import DocumentError
from riskkit.exceptions import ParameterError


def write_run_pdfs(folder: str | Path) -> list[Path]:
    """A PDF next to every report page of the run at ``folder`` (and in its ``public/``); returns the PDFs."""
    from playwright.sync_api import sync_playwright

    from riskkit.documents.browser import launch_chromium
    from riskkit.documents.pdf import html_to_pdf

    run = Path(folder)
    manifest_file = run / "manifest.json"
    if not manifest_file.is_file():
        raise ParameterError(f"{run} is not a riskkit run folder (no manifest.json)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    pages = [(run / n["html"], False) for n in manifest.get("notebooks", []) if n.get("html")]
    pages += [(p, True) for p in sorted((run / "public").glob("*.html")) if p.name != "index.html"]
    internal = f"{manifest.get('platform', '')} · {manifest.get('cycle', '')} · run {manifest.get('run_id', '')}"
    public = f"{manifest.get('platform', '')} · {manifest.get('cycle', '')}"
    written = []
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                for page, is_public in pages:
                    if page.is_file():
                        target = page.with_suffix(".pdf")
                        written.append(
                            html_to_pdf(page, target, header=public if is_public else internal, browser=browser)
                        )
            finally:
                browser.close()
    except DocumentError:
        raise
    except Exception as exc:  # playwright raises its own errors when chromium cannot start
        raise DocumentError(f"could not print the run's pages to PDF: {str(exc).splitlines()[0]}") from None
    if (run / "public").is_dir() and manifest.get("publication_date"):
        from datetime import date

        from riskkit.reports.public_folder import write_readme
        from riskkit.result import CycleResult

        write_readme(run / "public", CycleResult.load(run), date.fromisoformat(manifest["publication_date"]))
    return written
