"""Atomic file writes: a document is either complete at its path or absent, never half-written."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from riskkit.documents import DocumentError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for the block to write; when it ends without an error, move the file
    into place.

    The temporary file is flushed to disk first, then renamed (``os.replace``, atomic on one file system). With
    ``overwrite=False`` an existing target raises :class:`DocumentError`, checked again at the moment of the move
    (a hard link, which fails if the target appeared meanwhile). On any error the temporary file is removed and
    the target is left as it was."""
    target = Path(path)
    if not overwrite and target.exists():
        raise DocumentError(f"{target} already exists (pass overwrite=True to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name rather than mkstemp, so the writer creates the file with the usual permissions (not 0600)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise DocumentError(f"{target} already exists (pass overwrite=True to replace it)") from None
    finally:
        tmp.unlink(missing_ok=True)
