"""The synthetic Serambi data pack: ``generate()`` and its limits."""

from __future__ import annotations

from riskkit.sample.generator import (
    ACTIONS_PER_REQUEST,
    DEFAULT_ACTIONS,
    DEFAULT_SEED,
    MAX_ACTIONS,
    MIN_ACTIONS,
    MONTHS,
    SURFACES,
    SampleSummary,
    generate,
)

__all__ = [
    "ACTIONS_PER_REQUEST",
    "DEFAULT_ACTIONS",
    "DEFAULT_SEED",
    "MAX_ACTIONS",
    "MIN_ACTIONS",
    "MONTHS",
    "SURFACES",
    "SampleSummary",
    "generate",
]
