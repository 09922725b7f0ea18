"""The shared array helpers: the id lookup behind every join of the in-process engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit import arrays


@pytest.mark.parametrize("probes", [2, 40], ids=["few probes: hashed", "many probes: keys hashed"])
def test_lookup_finds_each_probe_whichever_side_is_hashed(probes):
    keys = pd.Series([f"A{i:03d}" for i in range(20)], dtype="string")
    rng = np.random.default_rng(probes)
    wanted = rng.integers(-5, 20, probes)  # negative: an id that is not a key
    values = [None if w == -5 else (f"A{w:03d}" if w >= 0 else f"X{w}") for w in wanted]
    got = arrays.lookup(keys, pd.Series(values, dtype="string"))
    expected = np.where(wanted >= 0, wanted, -1)
    assert got.tolist() == expected.tolist()
    assert got.dtype == np.int64


@pytest.mark.parametrize("dtype", ["string", "category", "object"])
def test_blank_cells_are_missing_empty_or_whitespace(dtype):
    cells = pd.Series(["rationale", None, "", "  \t", " kept "], dtype=dtype)
    assert arrays.is_blank(cells).tolist() == [False, True, True, True, False]
