"""Where riskkit may write: an output folder or file is checked before any work starts.

``--out`` that is a file, lies under a file, is on a read-only file system or in a folder riskkit may not write to
is refused with :class:`~riskkit.exceptions.ParameterError` (exit code 2) naming the option and the path — not
discovered as a traceback after minutes of work, and never leaving half a run behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from riskkit.exceptions import ParameterError


def writable_folder(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` as a folder riskkit can create or write into (it is not created here)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"{option} {target}: exists and is not a folder")
    _probe(target if target.is_dir() else _existing_parent(target, target, option), target, option)
    return target


def writable_file(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` as a file riskkit can create or replace (its folder may not exist yet)."""
    target = Path(path)
    if target.is_dir():
        raise ParameterError(f"{option} {target}: is a folder; give a file name")
    if str(path).endswith(("/", os.sep)):
        raise ParameterError(f"{option} {path}: give a file name, not a folder")
    _probe(_existing_parent(target.parent, target, option), target, option)
    return target


def _existing_parent(start: Path, target: Path, option: str) -> Path:
    """The nearest existing folder at or above ``start`` (a file there cannot hold ``target``)."""
    for parent in [start, *start.absolute().parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"{option} {target}: cannot be created, {parent} is a file and not a folder")
            return parent
    raise ParameterError(f"{option} {target}: cannot be created")  # pragma: no cover - / always exists


def _probe(folder: Path, target: Path, option: str) -> None:
    """Create and remove a scratch folder in ``folder``: the one test that sees read-only file systems, missing
    permissions and full inode tables alike (``os.access`` says yes to root on a read-only mount)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".riskkit-probe-", dir=folder))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ParameterError(f"{option} {target}: cannot write in {folder} ({reason})") from None
