"""The files a run hands over besides its HTML: workbooks and CSV exports of the saved result, and the records.

Every file is written from the :class:`~riskkit.result.CycleResult` (or, for the records, straight from the pack),
never from a notebook, so the same run always exports the same tables. Workbooks go through the one xlsx writer
(:mod:`riskkit.documents.xlsx`: cover sheet, typed and formatted columns, frozen bold headers, filters) and CSVs
through the formula-safe writer (:mod:`riskkit.documents.tabular`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.cycles import Cycle
from riskkit.documents.ics import write_ics
from riskkit.documents.tabular import write_csv
from riskkit.documents.xlsx import Column, Cover, Sheet, write_workbook
from riskkit.pack import DataPack
from riskkit.reports import records, views
from riskkit.reports.views import View
from riskkit.result import CycleResult

ANSWER_COLUMNS = ["item_id", "status", "maturity", "evidence", "owner", "notes", "assessed_by", "assessed_on"]


def write_exports(result: CycleResult, folder: str | Path, run: Mapping[str, Any] | None = None) -> list[Path]:
    """Every CSV/XLSX of the result's cycle kind into ``folder``; ``run`` (run id, start) goes on the covers."""
    out = Path(folder)
    cycle = result.cycle_id
    written = [_csv(result["metrics"], out / "metrics.csv"), _csv(result["obligations"], out / "obligations.csv")]
    written += _calendar(result, out)
    written += _risk(result, out, run)
    written += _audits(result, out, run)
    if result.scalars["cycle"]["kind"] == "half":
        sheets = [_sheet(v) for v in mcmc_views(result)]
        sheets.append(_appendix(result))
        written.append(
            write_workbook(
                out / f"mcmc_half_yearly_{cycle}.xlsx", cover(result, run, "Half-yearly report to MCMC"), sheets
            )
        )
        written.append(_csv(result["mcmc.online_safety_plan"], out / f"online_safety_plan_{cycle}.csv"))
    return written


def _calendar(result: CycleResult, out: Path) -> list[Path]:
    """The compliance calendar of every run: the whole table as CSV, its dated rows as an iCalendar file."""
    if "calendar" not in result:
        return []
    frame = result["calendar"]
    name = f"{result.scalars['platform']['name']} compliance calendar ({result.cycle_id})"
    stamp = pd.Timestamp(result.scalars["as_of"])
    return [
        _csv(frame, out / "compliance_calendar.csv"),
        write_ics(frame, out / "compliance_calendar.ics", name=name, stamp=stamp),
    ]


def mcmc_views(result: CycleResult) -> list[View]:
    """The half-yearly report's tables, in the report's order: what the submission workbook holds."""
    section = views.metric_section
    return [
        views.status_counts(result),
        views.not_met(result),
        views.top_risks(result),
        *([views.coming_up(result)] if "summary.coming_up" in result else []),
        views.targets_view(result),
        views.context(result),
        views.risk_summary(result),
        views.register_view(result, top=10),
        views.triggers(result, "mcmc.triggers"),
        section(result, "mcmc.safety_measures", "Safety measures"),
        _tools(result),
        views.harm_handling(result),
        section(result, "mcmc.reports", "User reports"),
        section(result, "mcmc.reports_by_reporter", "Reports by who reported"),
        section(result, "mcmc.appeals", "Appeals"),
        section(result, "mcmc.appeals_by_decider", "Reversals on appeal by who decided"),
        section(result, "mcmc.authority_requests", "Requests from authorities"),
        section(result, "mcmc.requests_by_agency", "Requests by agency"),
        section(result, "mcmc.requests_by_kind", "Requests by kind"),
        views.challenges(result),
        views.obligations_view(result, ["rmc-2026", "cpc-2026"], name="online_safety_plan"),
        views.significant_changes(result),
        views.risks_moved(result),
        views.records_completeness(result),
        views.obligations_view(result),
        *([views.calendar_view(result)] if "calendar" in result else []),
    ]


def write_records(pack: DataPack, cycle: Cycle, folder: str | Path) -> list[Path]:
    """The internal record-keeping export of a half-year (every enforcement action, CSV and Parquet)."""
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):  # streamed from the engine in batches: memory does not grow with the rows
        return on_engine.write_record_keeping(pack, cycle, folder)
    return records.write_record_keeping(records.record_rows(pack, cycle), folder, cycle)


def cover(result: CycleResult, run: Mapping[str, Any] | None, report: str) -> Cover:
    """Provenance for a workbook's cover: report, platform, licence, period, data as of, run, versions, sign-off
    and the inputs' SHA-256."""
    s = result.scalars
    run = run or {}
    fields: list[tuple[str, str]] = [
        ("Report", report),
        ("Platform", s["platform"]["name"]),
        ("Licence", s["platform"]["licence_id"] or "not stated"),
        ("Cycle", f"{s['cycle']['id']}: {s['cycle']['label']}"),
        ("Data as of", pd.Timestamp(s["as_of"]).strftime("%-d %b %Y, %H:%M (MYT)")),
        ("Run", f"{run['run_id']} (started {run['run_started']})" if run.get("run_id") else "not a riskkit run"),
        ("riskkit version", str(s["versions"]["riskkit"])),
        ("Data contract", str(s["versions"]["data_contract"])),
        ("Frameworks", ", ".join(f"{k} {v}" for k, v in s["versions"]["frameworks"].items())),
        ("Sign-off", _sign_off_text(s.get("sign_off") or {})),
    ]
    for row in result["inputs"].itertuples():
        rows = "" if pd.isna(row.rows) else f", {int(row.rows):,} rows"
        what = f"SHA-256 {row.sha256}" if isinstance(row.sha256, str) and row.sha256 else "warehouse table"
        fields.append((f"Input {row.file}", f"{what}{rows}"))
    return Cover(fields)


def _sign_off_text(s: Mapping[str, Any]) -> str:
    if not s.get("signed"):
        return "UNSIGNED DRAFT: no one is named as having prepared, reviewed or approved this workbook"
    parts = []
    for key, what in (("prepared_by", "prepared by"), ("reviewed_by", "reviewed by"), ("approved_by", "approved by")):
        names = ", ".join(f"{p['name']} ({p['role']})" for p in s.get(key, []))
        if names:
            parts.append(f"{what} {names}")
    return "; ".join(parts)


def _sheet(v: View) -> Sheet:
    columns = [Column(c.key, c.label, c.kind if c.kind in _KINDS else "text", kinds=c.kinds) for c in v.columns]
    note = v.scope + (f". {v.note}" if v.note else "")
    return Sheet(sheet_name(v.title), v.title, v.frame, columns, note)


def sheet_name(title: str, limit: int = 31) -> str:
    """A worksheet tab for ``title``: Excel allows 31 characters, so cut at the last whole word that fits."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,:;—-") or title[:limit]


_KINDS = ("text", "integer", "number", "percent", "date", "datetime", "hours")


def _tools(result: CycleResult) -> View:
    t = result["mcmc.automated_tools"].assign(tool=lambda d: d["tool"].map(views.humanise))
    return View("automated_tools", "Automated tools in use", t, [views.Col("tool", "Tool")], views.scope_text(result))


def _appendix(result: CycleResult) -> Sheet:
    """Every metric with its machine keys, for reconciliation (the only sheet that shows keys)."""
    t = result["metrics"]
    columns = [Column(c, c, "number" if pd.api.types.is_float_dtype(t[c]) else "text") for c in t.columns]
    return Sheet("Data appendix", "Data appendix: every metric with its keys", t, columns, "machine-readable")


def _risk(result: CycleResult, out: Path, run: Mapping[str, Any] | None) -> list[Path]:
    register = result["risk.register"]
    sheets = [
        _sheet(views.register_view(result)),
        _sheet(views.triggers(result)),
        Sheet("Quality checks", "Quality checks", result["risk.checks"]),
        Sheet("Methodology", "Methodology", result["risk.methodology"]),
        Sheet("Register (all fields)", "Register with every field and explanation", register),
    ]
    return [
        _csv(register, out / "risk_register.csv"),
        write_workbook(out / "risk_register.xlsx", cover(result, run, "Systemic risk assessment"), sheets),
    ]


def _audits(result: CycleResult, out: Path, run: Mapping[str, Any] | None) -> list[Path]:
    written = []
    combined = []
    for audit, meta in result.scalars["audits"].items():
        findings = result[f"audit.{audit}.findings"]
        items = result[f"audit.{audit}.items"]
        combined.append(findings)
        sheets = [
            Sheet("Findings", "Findings", findings),
            _sheet(views.audit_items(result, audit)),
            Sheet("Domains", "Results by domain", result[f"audit.{audit}.domains"]),
            Sheet("Quality checks", "Quality checks", result[f"audit.{audit}.checks"]),
        ]
        written.append(_csv(findings, out / f"findings_{audit}.csv"))
        written.append(
            write_workbook(out / f"findings_{audit}.xlsx", cover(result, run, meta.get("title") or audit), sheets)
        )
        written.append(_csv(items[ANSWER_COLUMNS], out / f"questionnaire_{audit}.csv"))
    if combined:
        written.append(_csv(pd.concat(combined, ignore_index=True), out / "findings.csv"))
    return written


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    return write_csv(frame, path, overwrite=True)
