"""The one place riskkit starts a browser: Debian's chromium through playwright, never a downloaded build.

The executable is ``$RISKKIT_CHROMIUM`` or ``/usr/bin/chromium``; the flags keep a headless chromium quiet on a
closed network (without the background-networking ones it keeps dialling Google's hosts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskkit.documents import DocumentError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Route

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: URL schemes a report may load: its own file and what it builds in memory.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium_path() -> Path:
    """Where chromium is: ``$RISKKIT_CHROMIUM`` if set, else ``/usr/bin/chromium`` (not checked)."""
    return Path(os.environ.get("RISKKIT_CHROMIUM") or DEFAULT_CHROMIUM)


def launch_chromium(playwright: Playwright, **options: Any) -> Browser:
    """Launch headless chromium from :func:`chromium_path` with riskkit's flags (``options`` go to ``launch``)."""
    path = chromium_path()
    if not path.exists():
        raise DocumentError(
            f"chromium not found at {path}: install Debian's package (apt-get install -y chromium) "
            "or set RISKKIT_CHROMIUM to its executable"
        )
    return playwright.chromium.launch(executable_path=str(path), headless=True, args=list(CHROMIUM_ARGS), **options)


def block_network(page: Page) -> list[str]:
    """Abort every request of ``page`` that is not local (file, data, blob, about); returns the list, filled as
    requests are blocked, of the URLs refused."""
    blocked: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", handle)
    return blocked
