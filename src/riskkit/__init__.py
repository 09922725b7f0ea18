"""riskkit: risk-assessment and audit workbook for online-safety compliance in Malaysia.

The shape in four lines::

    lib = riskkit.load_library()                             # or load_library("my-frameworks/")
    pack = riskkit.load_datapack("data/sample", library=lib)  # read and validate
    result = riskkit.evaluate(pack, "2026-H1", library=lib)   # everything computed once
    result.save("run/")                                       # every document is a view of run/result/
"""

from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["CycleResult", "__version__", "evaluate", "explore", "load_datapack", "load_library"]

_LAZY = {
    "load_datapack": ("riskkit.pack", "load_datapack"),
    "load_library": ("riskkit.library", "load_library"),
    "evaluate": ("riskkit.evaluate", "evaluate"),
    "CycleResult": ("riskkit.result", "CycleResult"),
    "explore": ("riskkit.explorer", "explore"),
}


def __getattr__(name: str):
    # Lazy so `import riskkit` stays cheap (the CLI and notebook kernels import it first).
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'riskkit' has no attribute {name!r}")
