"""Checklist audits: questionnaires, results, scores, data-tested items, findings with carry-over, quality checks.

Checklists are framework data (``frameworks/checklist-*.yaml``); the result vocabulary, finding rules and
checks are ``frameworks/audit-methodology.yaml``. Answers come from the pack's ``audits/<audit>.csv|xlsx``.
Maturity is on the checklists' 0–4 scale (0 not in place … 4 optimised).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit.cycles import Cycle, parse
from riskkit.documents.tabular import write_csv
from riskkit.documents.xlsx import Cover, Sheet, write_workbook
from riskkit.exceptions import ParameterError, WriteFailed
from riskkit.library import Library
from riskkit.library.models import AppliesIf, AuditMethodology, Checklist
from riskkit.metrics import Metrics
from riskkit.pack import DataPack

QUESTIONNAIRE_COLUMNS = (
    "item_id",
    "domain",
    "question",
    "mandatory",
    "expected_evidence",
    "data_test",
    "status",
    "maturity",
    "evidence",
    "owner",
    "notes",
    "assessed_by",
    "assessed_on",
)
FINDING_COLUMNS = (
    "finding_id",
    "audit",
    "item_id",
    "kind",
    "severity",
    "description",
    "recommended_action",
    "owner",
    "first_raised",
    "due_date",
    "status",
    "cycle",
)
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


# ------------------------------------------------------------------------------------------------ questionnaires


def questionnaire(
    audit: str,
    cycle: str | Cycle,
    *,
    library: Library,
    previous: str | Path | None = None,
) -> pd.DataFrame:
    """A questionnaire for ``audit``: every checklist item with its question, status ``to_review``; from a previous
    run folder or answers file, evidence, owner and notes are kept and maturity carried as the starting point."""
    fw = library.checklist(audit)
    items = library.checklist_items(audit)
    q = pd.DataFrame(
        {
            "item_id": items["ref_id"],
            "domain": items["domain_label_en"],
            "question": items["question_en"],
            "mandatory": items["mandatory"].map({True: "yes", False: "no"}),
            "expected_evidence": items["expected_evidence"],
            "data_test": [_data_test_text(r) for r in items.itertuples()],
            "status": "to_review",
            "maturity": pd.array([pd.NA] * len(items), dtype="Int64"),
            "evidence": "",
            "owner": "",
            "notes": "",
            "assessed_by": "",
            "assessed_on": "",
        },
        columns=list(QUESTIONNAIRE_COLUMNS),
    )
    if previous is not None:
        before = _previous_answers(Path(previous), audit).set_index("item_id")
        keep = q["item_id"].isin(before.index)
        for col in ("maturity", "evidence", "owner", "notes"):
            if col in before.columns:
                values = q.loc[keep, "item_id"].map(before[col])
                q.loc[keep, col] = values.astype(q[col].dtype) if col == "maturity" else values.fillna("")
    q.attrs["framework"] = f"{fw.id} {fw.version}"
    q.attrs["cycle"] = parse(cycle).id
    return q


def _data_test_text(item: Any) -> str:
    if not isinstance(item.data_test_metric, str):
        return ""
    where = (
        ""
        if item.data_test_category in (None, "all") or pd.isna(item.data_test_category)
        else f"[{item.data_test_category}]"
    )
    return f"{item.data_test_metric}{where} {item.data_test_operator} {item.data_test_value:g}"


def _previous_answers(path: Path, audit: str) -> pd.DataFrame:
    """Answers from a previous run folder (questionnaire_<audit>.csv) or a questionnaire file (.csv/.xlsx)."""
    file = path / f"questionnaire_{audit}.csv" if path.is_dir() else path
    if not file.is_file():
        raise ParameterError(f"--from-previous: no questionnaire for audit '{audit}' at {file}")
    if file.suffix.lower() not in (".csv", ".xlsx"):
        raise ParameterError(f"--from-previous {file}: expected a run folder, or a questionnaire .csv or .xlsx")
    try:
        if file.suffix.lower() == ".xlsx":
            df = pd.read_excel(file, dtype=str, keep_default_na=False)
        else:
            df = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # pandas and openpyxl raise many types for unreadable files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ParameterError(
            f"--from-previous {file}: not a readable questionnaire ({first}); give the .csv or .xlsx riskkit wrote"
        ) from None
    if "item_id" not in df.columns:
        raise ParameterError(f"{file} has no item_id column; is it a riskkit questionnaire?")
    if "maturity" in df.columns:
        df["maturity"] = pd.to_numeric(df["maturity"], errors="coerce").astype("Int64")
    return df


def check_questionnaire_out(out: str | Path, *, overwrite: bool = False) -> Path:
    """``--out`` of a questionnaire: a .csv or .xlsx file riskkit can create, not replaced without ``overwrite``."""
    from riskkit.paths import writable_file

    path = Path(out)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ParameterError(f"--out must end in .csv or .xlsx, got {path.name!r}")
    writable_file(path, "--out")
    if path.exists() and not overwrite:
        raise ParameterError(f"{path} exists; pass --overwrite to replace it")
    return path


def write_questionnaire(q: pd.DataFrame, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write as .csv or .xlsx (with a drop-down of statuses and maturity 0–4); never replaces without ``overwrite``,
    and never leaves a partial file (written beside the target, then renamed)."""
    path = check_questionnaire_out(out, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        if path.suffix.lower() == ".csv":
            q.to_csv(tmp, index=False, lineterminator="\n")
        else:
            _write_xlsx(q, tmp)
        tmp.replace(path)
    except OSError as exc:
        raise WriteFailed(f"could not write {path}: {exc.strerror or exc}; nothing was written") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_xlsx(q: pd.DataFrame, path: Path) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from riskkit import schema

    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        q.to_excel(xl, sheet_name="questionnaire", index=False)
        ws = xl.sheets["questionnaire"]
        for row in ws.iter_rows():  # text is text: a (custom) checklist's "=…" never becomes a formula
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        n = len(q) + 1
        cols = {name: i + 1 for i, name in enumerate(q.columns)}
        letter = {name: ws.cell(row=1, column=i).column_letter for name, i in cols.items()}
        statuses = DataValidation(type="list", formula1='"' + ",".join(schema.AUDIT_STATUSES) + '"', allow_blank=False)
        statuses.add(f"{letter['status']}2:{letter['status']}{n}")
        maturity = DataValidation(type="whole", operator="between", formula1="0", formula2="4", allow_blank=True)
        maturity.add(f"{letter['maturity']}2:{letter['maturity']}{n}")
        ws.add_data_validation(statuses)
        ws.add_data_validation(maturity)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6EE")
        widths = {"item_id": 13, "domain": 24, "question": 60, "expected_evidence": 40, "data_test": 30}
        for name, col in letter.items():
            ws.column_dimensions[col].width = widths.get(name, 16)
            if name in ("question", "expected_evidence"):
                for row in range(2, n + 1):
                    ws[f"{col}{row}"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "C2"
        meta = q.attrs
        xl.book.create_sheet("about").append(["framework", meta.get("framework", ""), "cycle", meta.get("cycle", "")])


# ------------------------------------------------------------------------------------------------ results


@dataclass
class AuditResult:
    """One audit of one cycle."""

    audit: str
    cycle: Cycle
    framework: str
    items: pd.DataFrame
    domains: pd.DataFrame
    overall: dict[str, Any]
    findings: pd.DataFrame
    checks: pd.DataFrame

    def to_files(self, folder: str | Path) -> list[Path]:
        """findings_<audit>.csv/.xlsx and questionnaire_<audit>.csv (answers as used, for the next cycle)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        f_csv = write_csv(self.findings, out / f"findings_{self.audit}.csv", overwrite=True)
        f_xlsx = out / f"findings_{self.audit}.xlsx"
        sheets = [
            Sheet("findings", "Findings", self.findings),
            Sheet("items", "Items", self.items),
            Sheet("domains", "Domains", self.domains),
            Sheet("quality_checks", "Quality checks", self.checks),
        ]
        cover = Cover((("Audit", self.audit), ("Checklist", self.framework), ("Cycle", self.cycle.id)))
        write_workbook(f_xlsx, cover, sheets, overwrite=True)
        answers = self.items[
            ["item_id", "status", "maturity", "evidence", "owner", "notes", "assessed_by", "assessed_on"]
        ]
        q_csv = out / f"questionnaire_{self.audit}.csv"  # an input for the next cycle: written as answered
        answers.to_csv(q_csv, index=False)
        written += [f_csv, f_xlsx, q_csv]
        return written


def run_audit(
    pack: DataPack,
    audit: str,
    cycle: str | Cycle,
    *,
    metrics: Metrics,
    library: Library,
    previous_findings: str | Path | pd.DataFrame | None = None,
) -> AuditResult:
    """Score the pack's answers to ``audit`` for ``cycle``: results, data tests, domain and overall scores, findings
    (with the previous run's carried over) and quality checks."""
    cyc = parse(cycle)
    if metrics.cycle != cyc:
        raise ParameterError(f"metrics are for {metrics.cycle.id}, not {cyc.id}")
    fw = library.checklist(audit)
    method = library.audit_methodology
    m = metrics
    items = _items(pack, audit, fw, library, cyc, m, method)
    domains, overall = _scores(items, method)
    previous = _load_previous(previous_findings, audit)
    findings = _findings(items, audit, cyc, method, previous, pack.meta.as_of)
    checks = _checks(items, findings, method)
    return AuditResult(audit, cyc, f"{fw.id} {fw.version}", items, domains, overall, findings, checks)


def _items(
    pack: DataPack, audit: str, fw: Checklist, lib: Library, cycle: Cycle, m: Metrics, method: AuditMethodology
) -> pd.DataFrame:
    catalogue = lib.checklist_items(audit)
    rules = {item.ref_id: item.applies_if for item in fw.items}
    frame = pack.audits.get(audit)
    answers: dict[str, dict[str, Any]] = {}
    if frame is not None:
        for record in frame.to_dict("records"):
            answers.setdefault(record["item_id"], record)  # item ids are unique in a valid pack
    from_answer = {r.from_answer: r.ref_id for r in method.results if r.from_answer}
    surfaces = _surfaces(pack, cycle)
    rows = []
    for item in catalogue.itertuples():
        applies, why = _applies(rules[item.ref_id], pack, cycle, surfaces)
        a = answers.get(item.ref_id)
        status = None if a is None else a.get("status")
        status = None if status is None or pd.isna(status) else str(status)
        result = "not_applicable" if not applies else from_answer.get(status or "to_review", "not_assessed")
        test = _data_test(item, m) if applies else {}
        contradiction = _contradicts(status, test.get("passed"))
        if contradiction:
            result = "contradicted"  # not met, whatever was answered: one status everywhere
        rows.append(
            {
                "item_id": item.ref_id,
                "domain": item.domain,
                "domain_label": item.domain_label_en,
                "question": item.question_en,
                "mandatory": bool(item.mandatory),
                "weight": int(item.weight),
                "applies": applies,
                "applicability": why,
                "status": status or "",
                "result": result,
                "maturity": _get(a, "maturity"),
                "evidence": _text(a, "evidence"),
                "owner": _text(a, "owner"),
                "notes": _text(a, "notes"),
                "assessed_by": _text(a, "assessed_by"),
                "assessed_on": "" if _get(a, "assessed_on") is None else str(pd.Timestamp(a["assessed_on"]).date()),
                "data_metric": test.get("metric", ""),
                "data_value": test.get("value", float("nan")),
                "data_expected": test.get("expected", ""),
                "data_meaning": item.data_test_meaning_en if test and item.data_test_meaning_en else "",
                "data_test": test.get("outcome", ""),
                "contradiction": contradiction,
                "references": item.references,
            }
        )
    return pd.DataFrame(rows)


def _contradicts(status: str | None, passed: bool | None) -> bool:
    """Whether the data test disagrees with the answer: met, partial or not applicable while the data fails, or
    not met while the data passes. Unanswered items (to review) are not contradicted: there is no answer."""
    if passed is None or status is None:
        return False
    if status in ("met", "partial", "not_applicable"):
        return passed is False
    return status == "not_met" and passed is True


def _get(a: Mapping[str, Any] | None, key: str) -> Any:
    if a is None or a.get(key) is None or pd.isna(a[key]):
        return None
    return a[key]


def _text(a: Mapping[str, Any] | None, key: str) -> str:
    v = _get(a, key)
    return "" if v is None else str(v)


def _surfaces(pack: DataPack, cycle: Cycle) -> set[str]:
    from riskkit.engines import cycle as on_engine

    if on_engine.on_engine(pack):
        used = on_engine.surfaces_used(pack)
    else:
        used = {str(v) for v in pack.actions["surface"].dropna().unique()}  # distinct values first: 10 M rows
    features = pack.get("feature_changes")
    if features is not None:
        live = features[features["launched_at"] < cycle.end]
        used |= {s for v in live["surfaces"] for s in v}
    return used


def _applies(rule: AppliesIf, pack: DataPack, cycle: Cycle, surfaces: set[str]) -> tuple[bool, str]:
    """Whether an item applies to this pack and cycle, and why not."""
    if rule.always:
        return True, "always"
    reasons = []
    types = rule.service_type
    if types and pack.meta.service_type not in types:
        reasons.append(f"service type {pack.meta.service_type} not in {', '.join(types)}")
    if rule.from_ and cycle.end <= pd.Timestamp(rule.from_.isoformat(), tz=cycle.start.tz):
        reasons.append(f"in force from {rule.from_.isoformat()}, after this cycle")
    wanted = rule.feature_surface
    if wanted and not surfaces.intersection(wanted):
        reasons.append(f"no {', '.join(wanted)} surface")
    return (not reasons, "; ".join(reasons) if reasons else "applies")


def _data_test(item: Any, m: Metrics) -> dict[str, Any]:
    metric = item.data_test_metric
    if not isinstance(metric, str) or not metric:
        return {}
    category = item.data_test_category if isinstance(item.data_test_category, str) else "all"
    dimension = item.data_test_dimension if isinstance(item.data_test_dimension, str) else ""
    level = item.data_test_level if isinstance(item.data_test_level, str) else ""
    value = m.value(metric, category, "malaysia", dimension, level)
    target = float(item.data_test_value)
    op = str(item.data_test_operator)
    where = (
        f"[{category}{'/' + dimension + '=' + level if dimension else ''}]" if category != "all" or dimension else ""
    )
    expected = f"{metric}{where} {op} {target:g}"
    if value is None or math.isnan(value):
        return {"metric": metric, "value": float("nan"), "expected": expected, "outcome": "no data", "passed": None}
    passed = bool(_OPS[op](value, target))
    return {
        "metric": metric,
        "value": value,
        "expected": expected,
        "outcome": "pass" if passed else "fail",
        "passed": passed,
    }


def _scores(items: pd.DataFrame, method: AuditMethodology) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Weighted score per domain and overall, from the methodology's result values."""
    values = {r.ref_id: r.value for r in method.results if r.value is not None}
    rows = []
    for (domain, label), group in items.groupby(["domain", "domain_label"], sort=False):
        rows.append({"domain": domain, "label": label, **_summary(group, values)})
    return pd.DataFrame(rows), _summary(items, values)


def _summary(group: pd.DataFrame, values: Mapping[str, float]) -> dict[str, Any]:
    scored = group[group["result"].isin(list(values))]
    weights = scored["weight"].astype(float)
    score = float((scored["result"].map(values) * weights).sum() / weights.sum()) if len(scored) else float("nan")
    maturity = pd.to_numeric(scored["maturity"], errors="coerce").dropna()
    counts = group["result"].value_counts()
    return {
        "score": score,
        "maturity_mean": float(maturity.mean()) if len(maturity) else float("nan"),
        "maturity_median": float(maturity.median()) if len(maturity) else float("nan"),
        "maturity_min": float(maturity.min()) if len(maturity) else float("nan"),
        "items": len(group),
        **{
            r: int(counts.get(r, 0))
            for r in ("compliant", "partial", "non_compliant", "contradicted", "not_applicable", "not_assessed")
        },
    }


def _load_previous(previous: str | Path | pd.DataFrame | None, audit: str) -> pd.DataFrame:
    if previous is None or (isinstance(previous, str) and previous.strip() in ("", "None")):
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    if isinstance(previous, pd.DataFrame):
        df = previous
    else:
        path = Path(previous)
        file = path / f"findings_{audit}.csv" if path.is_dir() else path
        if not file.is_file():
            raise ParameterError(f"previous findings: no findings_{audit}.csv at {file}")
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = [c for c in ("finding_id", "item_id", "due_date", "status") if c not in df.columns]
    if missing:
        raise ParameterError(f"previous findings lack column(s) {', '.join(missing)}")
    return df[df.get("audit", audit) == audit] if "audit" in df.columns else df


def _findings(
    items: pd.DataFrame,
    audit: str,
    cycle: Cycle,
    method: AuditMethodology,
    previous: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    end = cycle.last_day
    today = min(as_of.tz_convert(cycle.start.tz).date(), end) if as_of is not None else end
    rows: dict[str, dict[str, Any]] = {}
    for item in items.itertuples():
        kinds = []
        if item.contradiction:
            kinds.append("data_contradiction")
        if item.mandatory and item.result == "non_compliant":
            kinds.append("non_compliant_mandatory")
        elif item.mandatory and item.result == "partial":
            kinds.append("partial_mandatory")
        for kind in kinds:
            rule = method.finding(kind)
            fid = f"F-{audit}-{item.item_id}-{kind}"
            detail = _contradiction_text(item) if kind == "data_contradiction" else f"{item.question}"
            rows[fid] = {
                "finding_id": fid,
                "audit": audit,
                "item_id": item.item_id,
                "kind": kind,
                "severity": rule.severity,
                "description": f"{rule.label.en}: {detail}",
                "recommended_action": rule.action.en + (f" ({item.item_id})" if kind != "data_contradiction" else ""),
                "owner": item.owner or "unassigned",
                "first_raised": cycle.id,
                "due_date": str(end + pd.Timedelta(days=rule.due_days).to_pytimedelta()),
                "status": "open",
                "cycle": cycle.id,
            }
    for prev in previous.to_dict("records"):
        fid = prev["finding_id"]
        if str(prev.get("status", "")) == "closed":
            continue  # closed findings stay in the run that closed them
        if fid in rows:  # still failing: keep the original dates
            rows[fid]["first_raised"] = prev.get("first_raised") or rows[fid]["first_raised"]
            rows[fid]["due_date"] = prev.get("due_date") or rows[fid]["due_date"]
            rows[fid]["status"] = "carried"
        else:
            rows[fid] = {**{c: prev.get(c, "") for c in FINDING_COLUMNS}, "status": "closed", "cycle": cycle.id}
    out = pd.DataFrame(list(rows.values()), columns=list(FINDING_COLUMNS))
    due = pd.to_datetime(out["due_date"], errors="coerce").dt.date
    overdue = out["status"].isin(["open", "carried"]) & due.notna() & (due < np.datetime64(today))
    out.loc[overdue, "status"] = "overdue"
    out.loc[out["status"] == "carried", "status"] = "open"
    order = {"high": 0, "medium": 1, "low": 2}
    out = out.sort_values(
        ["status", "severity", "finding_id"], key=lambda s: s.map(order) if s.name == "severity" else s
    )
    return out.reset_index(drop=True)


def _contradiction_text(item: Any) -> str:
    answered = str(item.status).replace("_", " ")
    test = item.data_meaning or item.data_expected
    if item.status == "not_met":
        return f"the data meets the test ({test}; value {item.data_value:,.4g}) although answered {answered}"
    return f"the data fails the test ({test}; value {item.data_value:,.4g}) although answered {answered}"


def _checks(items: pd.DataFrame, findings: pd.DataFrame, method: AuditMethodology) -> pd.DataFrame:
    applicable = items["applies"]
    answered = items["status"].isin(["met", "partial", "not_met", "not_applicable"])
    hits = {
        "compliant_without_evidence": (items["result"] == "compliant") & (items["evidence"].str.strip() == ""),
        "na_mandatory_without_justification": applicable
        & items["mandatory"]
        & (items["status"] == "not_applicable")
        & (items["notes"].str.strip() == ""),
        "contradicted_by_data": items["contradiction"],
        "unassessed_item": applicable & (items["result"] == "not_assessed"),
        "answered_without_assessor": answered & ((items["assessed_by"] == "") | (items["assessed_on"] == "")),
    }
    rows = []
    for rule in method.checks:
        key = rule.ref_id
        if key == "overdue_finding":
            ids = findings.loc[findings["status"] == "overdue", "finding_id"].tolist()
        else:
            ids = items.loc[hits[key], "item_id"].tolist()
        rows.append(
            {
                "check": key,
                "description": rule.label.en,
                "status": "OK" if not ids else rule.status,
                "count": len(ids),
                "items": ", ".join(ids[:20]) + (" …" if len(ids) > 20 else ""),
            }
        )
    return pd.DataFrame(rows)
