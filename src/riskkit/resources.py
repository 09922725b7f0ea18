"""Where riskkit's shipped files are: the notebooks and the HTML templates.

Both live at the repository root (``notebooks/``, ``templates/``) and are packaged into the wheel as
``riskkit/notebooks`` and ``riskkit/templates`` (see pyproject.toml), so an installed riskkit finds them inside the
package; an editable install or a source checkout finds them at the root of the clone.
"""

from __future__ import annotations

from pathlib import Path

from riskkit.exceptions import RiskkitError

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The folder ``name`` (``notebooks`` or ``templates``): inside the installed package, else in the clone."""
    for candidate in (_PACKAGE / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise RiskkitError(f"riskkit's {name}/ folder is missing from this installation ({_PACKAGE}); reinstall riskkit")


def notebooks_dir() -> Path:
    """The cycle notebooks shipped with riskkit."""
    return shipped("notebooks")


def templates_dir() -> Path:
    """The nbconvert templates shipped with riskkit."""
    return shipped("templates")
