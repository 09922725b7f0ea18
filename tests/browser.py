"""Debian chromium for the browser tests: never a downloaded browser (`.ci/run` installs the package)."""

from __future__ import annotations

from pathlib import Path

from riskkit.documents.browser import CHROMIUM_ARGS as CLOSED_NETWORK_ARGS
from riskkit.documents.browser import DEFAULT_CHROMIUM

CHROMIUM = Path(DEFAULT_CHROMIUM)
#: The PDF renderer's flags for a closed network (without the background-networking ones chromium keeps dialling
#: Google's hosts), headless.
CHROMIUM_ARGS = ["--headless", *CLOSED_NETWORK_ARGS]
