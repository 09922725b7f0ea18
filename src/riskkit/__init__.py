"""riskkit: risk-assessment and audit workbook for online-safety compliance in Malaysia."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_datapack"]


def __getattr__(name: str):
    # Lazy so `import riskkit` stays cheap (the CLI and notebook kernels import it first).
    if name == "load_datapack":
        from riskkit.datapack import load_datapack

        return load_datapack
    if name == "explore":
        from riskkit.explorer import explore

        return explore
    raise AttributeError(f"module 'riskkit' has no attribute {name!r}")
