"""Documents that travel: the files a run hands to people outside the notebook (xlsx, CSV, PDF) and what they need
to open anywhere (riskkit's own plotly.js build, print CSS).

Each module is self-contained: ``plotly_bundle`` (the inlined plotly.js), ``xlsx`` (every workbook), ``tabular``
(CSV and the formula-injection rule), ``pdf`` (HTML to PDF through Debian chromium), ``browser`` (the one place
that launches chromium) and ``files`` (atomic writes).
"""

from __future__ import annotations

from riskkit.exceptions import RiskkitError


class DocumentError(RiskkitError):
    """A document could not be written: the target exists without ``overwrite``, a sheet cannot hold the data,
    chromium is missing or a page did not finish drawing."""
