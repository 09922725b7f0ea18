"""What the notebooks call: open the cycle's saved result (or evaluate in place when run interactively).

Notebooks are narratives over a :class:`~riskkit.result.CycleResult`. ``riskkit run`` passes ``result_dir`` (the
run's saved result) and the notebook only displays it; opened in JupyterLab without it, the same notebook loads the
library and the pack and evaluates the cycle in place, so analysts keep one notebook for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.exceptions import ParameterError
from riskkit.result import CycleResult


def open_result(
    result_dir: str | Path | None,
    *,
    data_path: str | Path | None = None,
    cycle: str = "latest",
    as_of: str | None = None,
    frameworks: str | Path | None = None,
    previous_run: str | Path | None = None,
) -> CycleResult:
    """The saved result at ``result_dir``; without one, evaluate ``data_path`` for ``cycle`` here (the library is
    loaded once, with ``frameworks`` applied when given)."""
    if _given(result_dir):
        return CycleResult.load(str(result_dir))
    if not _given(data_path):
        raise ParameterError("give result_dir (a run's saved result) or data_path (a data pack to evaluate)")
    from riskkit.cycles import resolve
    from riskkit.evaluate import evaluate
    from riskkit.library import load_library
    from riskkit.pack import load_datapack

    library = load_library([str(frameworks)] if _given(frameworks) else ())
    pack = load_datapack(str(data_path), library=library, as_of=as_of if _given(as_of) else None)
    cyc = resolve(cycle, as_of=pack.meta.as_of)
    previous = str(previous_run) if _given(previous_run) else None
    return evaluate(pack, cyc, library=library, previous=previous)


def _given(value: Any) -> bool:
    return value is not None and str(value).strip() not in ("", "None")


@dataclass(frozen=True)
class AuditView:
    """One audit of a result: its tables and scores."""

    audit: str
    framework: str
    overall: dict[str, Any]
    items: pd.DataFrame
    domains: pd.DataFrame
    findings: pd.DataFrame
    checks: pd.DataFrame

    def score_sentence(self) -> str:
        """The overall score and maturity in words; ``not available`` where no item was assessed."""
        o = self.overall

        def number(key: str, fmt: str) -> str:
            value = o.get(key)
            return "not available" if value is None or value != value else format(value, fmt)

        return (
            f"Overall score {number('score', '.0%')}; maturity mean {number('maturity_mean', '.2f')}, "
            f"median {number('maturity_median', '.1f')}, minimum {number('maturity_min', '.0f')} (0–4)."
        )


def audit(result: CycleResult, name: str) -> AuditView:
    """The audit ``name`` of ``result`` (``child_safety``, …)."""
    audits = result.scalars["audits"]
    if name not in audits:
        raise ParameterError(f"no audit {name!r} in this result; audits: {', '.join(audits)}")
    return AuditView(
        name,
        audits[name]["framework"],
        audits[name]["overall"],
        result[f"audit.{name}.items"],
        result[f"audit.{name}.domains"],
        result[f"audit.{name}.findings"],
        result[f"audit.{name}.checks"],
    )


def title(result: CycleResult) -> str:
    """``Platform — 2026-H1 (1 Jan 2026 – 30 Jun 2026 (MYT))``."""
    s = result.scalars
    return f"{s['platform']['name']} — {s['cycle']['id']} ({s['cycle']['label']})"


def audit_title(result: CycleResult, name: str) -> str:
    """The audit's title as readers see it (``Child-safety audit``)."""
    return str(result.scalars["audits"][name].get("title") or name)
