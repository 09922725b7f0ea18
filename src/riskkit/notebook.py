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


@dataclass
class PublicReport:
    """The public annual report of a year's result in one language: its sections, tables and chart, every text
    from the report's wording and every figure from the disclosed tables."""

    result: CycleResult
    language: str

    def __post_init__(self) -> None:
        from riskkit.reports.wording import load_wording

        if self.result.scalars["cycle"]["kind"] != "year":
            raise ParameterError(
                f"the public report is annual; {self.result.cycle_id} is a half-year (use the MCMC half-yearly report)"
            )
        self.words = load_wording()
        self.words.t("title", self.language)  # refuses a language the report is not written in

    def text(self, key: str, **values: Any) -> str:
        """The wording ``key`` in this report's language."""
        return self.words.t(key, self.language, **values)

    def title(self) -> Any:
        from riskkit import display

        return display.title(self.result, self.text("title"))

    def introduction(self) -> list[Any]:
        """What the report is and how to read its numbers."""
        from riskkit import display

        threshold = self.result.scalars["public"]["threshold"]
        return [display.paragraph(self.text("intro")), display.note(self.text("how_to_read", threshold=threshold))]

    def section(self, name: str, *, text: bool = True) -> list[Any]:
        """A section's heading and, when it has one, its explanation."""
        from riskkit import display

        parts = [display.heading(self.text(f"{name}_heading"))]
        if text and f"{name}_text" in self.words.text:
            parts.append(display.paragraph(self.text(f"{name}_text")))
        return parts

    def summary(self) -> list[Any]:
        """The year in brief: sentences built from the disclosed tables."""
        from riskkit import display

        return [
            *self.section("summary"),
            display.paragraph(" ".join(self.result.scalars["public"]["summary"][self.language])),
        ]

    def table(self, key: str) -> Any:
        from riskkit import display
        from riskkit.reports import views

        return display.view(views.public_table(self.result, key, self.language))

    def harm_chart(self) -> Any:
        """Enforcement actions by harm, drawn from the disclosed table."""
        from riskkit import display, figures

        frame = self.result[f"public.{self.language}.harm"]
        title = self.text("table_harm")
        chart = figures.disclosed_bars(
            frame, self.text("col_harm"), self.text("col_actions"), title, total=self.text("total")
        )
        return display.figure(chart, title, self.language)

    def comparison(self) -> Any:
        """The change against the previous year, or that this is the first year."""
        from riskkit import display

        return display.paragraph(self.result.scalars["public"]["comparison"][self.language])


def public_report(result: CycleResult, language: str = "en") -> PublicReport:
    """The public annual report of ``result`` in ``language`` (``en`` or ``ms``)."""
    return PublicReport(result, language)
