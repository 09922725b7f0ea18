"""Interactive explorer for JupyterLab: ``riskkit.explore("data/sample")``.

Two layers: :class:`~riskkit.explorer.model.ExplorerModel` (pure logic: count cubes answering every selection) and
:class:`~riskkit.explorer.widgets.Explorer` (the ipywidgets view over a model).
"""

from riskkit.explorer.model import EXPLORER_COLUMNS, ExplorerModel, Selection
from riskkit.explorer.widgets import Explorer, explore

__all__ = ["EXPLORER_COLUMNS", "Explorer", "ExplorerModel", "Selection", "explore"]
