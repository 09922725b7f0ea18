"""Deterministic synthetic data pack for a fictional social-media service, "Serambi".

Serambi has about 9.3 million Malaysian monthly users at its peak and is observed from 1 Jan 2025 to
30 Jun 2026 (Asia/Kuala_Lumpur): three complete half-years. Every table of the data contract is filled
with documented patterns (see the README.md written into each pack) so that every metric, figure and
notebook of riskkit has something realistic to show.

The package separates the concerns: ``scenario.yaml`` holds the platform's story and every number (checked by
:mod:`riskkit.sample.scenario`), :mod:`riskkit.sample.generator` draws the tables, :mod:`riskkit.sample.output`
writes them and ``README.md.j2`` (rendered by :mod:`riskkit.sample.readme`) documents the pack.

Same ``(actions, seed)`` -> byte-identical files. Only ``numpy.random.Generator(PCG64)`` streams spawned
from the seed are used; no wall clock, no dict/set ordering dependence. Generation is vectorised and done
month by month, so 10 million actions fit in well under 4 GB.

``SURFACES``, ``MONTHS`` and ``ACTIONS_PER_REQUEST`` are read from the packaged scenario on first access.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from riskkit.exceptions import ParameterError
from riskkit.library import Library
from riskkit.sample import generator
from riskkit.sample.scenario import Scenario, ScenarioError, default_scenario, load_scenario

__all__ = [
    "ACTIONS_PER_REQUEST",
    "DEFAULT_ACTIONS",
    "DEFAULT_SEED",
    "MAX_ACTIONS",
    "MIN_ACTIONS",
    "MONTHS",
    "SURFACES",
    "SampleSummary",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "generate",
    "load_scenario",
]

DEFAULT_ACTIONS: int = 80_000
DEFAULT_SEED: int = 866
MIN_ACTIONS = 100
MAX_ACTIONS = 50_000_000


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate` wrote: the pack folder, rows per table and the wall time in seconds."""

    path: Path
    rows: dict[str, int]
    seconds: float


def generate(
    out: str | Path,
    actions: int = DEFAULT_ACTIONS,
    seed: int = DEFAULT_SEED,
    *,
    library: Library,
    overwrite: bool = False,
) -> SampleSummary:
    """Write the Serambi sample data pack (``datapack.yaml``, tables, README.md) into ``out``.

    Refuses a non-empty ``out`` unless ``overwrite``; writes into a temporary sibling folder and renames it
    into place at the end, so an interrupted run never leaves a half-written pack.
    """
    started = time.perf_counter()
    if isinstance(actions, bool) or not isinstance(actions, int | np.integer):
        raise ParameterError(f"actions must be a whole number, got {actions!r}")
    if not MIN_ACTIONS <= actions <= MAX_ACTIONS:
        raise ParameterError(f"actions must be between {MIN_ACTIONS:,} and {MAX_ACTIONS:,}, got {actions:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative whole number, got {seed!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ParameterError(
            f"{out} exists and is not empty; choose an empty folder or pass overwrite=True (--overwrite)"
        )
    scenario = default_scenario()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)
        rows = generator.write_pack(tmp, int(actions), int(seed), library, scenario)
        if out.exists():
            old = tmp.with_name(tmp.name.replace(".partial-", ".old-"))
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SampleSummary(path=out, rows=rows, seconds=time.perf_counter() - started)


def __getattr__(name: str) -> Any:
    """``SURFACES``, ``MONTHS`` and ``ACTIONS_PER_REQUEST``: read from the packaged scenario."""
    if name == "SURFACES":
        return default_scenario().surfaces
    if name == "MONTHS":
        return default_scenario().calendar.months
    if name == "ACTIONS_PER_REQUEST":
        return default_scenario().authority_requests.actions_per_request
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
