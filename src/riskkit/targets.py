"""Targets: each clock and headline metric against the number the regime sets (or the statement that it sets none).

Targets are framework data (``frameworks/targets.yaml``) a data pack may override (``targets:`` in datapack.yaml,
each with a source and confidence). The result says, per target, the value, the target and met / missed / no data
/ no number.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskkit.library import Library
from riskkit.metrics import Metrics

TARGET_COLUMNS = (
    "target",
    "label",
    "metric",
    "metric_label",
    "category",
    "dimension",
    "level",
    "operator",
    "target_value",
    "value",
    "status",
    "no_number",
    "answers",
    "source",
    "confidence",
    "overridden",
)
STATUSES = ("met", "missed", "no data", "no number")
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def evaluate_targets(m: Metrics, library: Library, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per target: the Malaysian-scope value of its metric in the cycle, against the target."""
    overrides = overrides or {}
    rows = []
    for t in library.targets:
        override = overrides.get(t.ref_id) or {}
        value_target = override.get("value", t.value)
        op = override.get("operator", t.operator)
        dimension, level = t.dimension or "", t.level or ""
        known = t.metric in m.definitions
        actual = m.value(t.metric, t.category, "malaysia", dimension, level) if known else float("nan")
        if value_target is None:
            status = "no number"
        elif actual is None or math.isnan(actual):
            status = "no data"
        else:
            status = "met" if _OPS[op](actual, float(value_target)) else "missed"
        definition = m.definitions.get(t.metric)
        rows.append(
            {
                "target": t.ref_id,
                "label": t.label.en,
                "metric": t.metric,
                "metric_label": definition.label_en if definition else t.metric,
                "category": t.category,
                "dimension": dimension,
                "level": level,
                "operator": op or "",
                "target_value": None if value_target is None else float(value_target),
                "value": actual,
                "status": status,
                "no_number": t.no_number or "",
                "answers": ";".join(t.answers),
                "source": str(override.get("source", t.source)),
                "confidence": str(override.get("confidence", t.confidence)),
                "overridden": bool(override),
            }
        )
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
