"""Audits: questionnaires round-trip, results and scores, data tests, findings carry-over, quality checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from riskkit import notebook
from riskkit.audit import questionnaire, run_audit, write_questionnaire
from riskkit.cli import main
from riskkit.exceptions import ParameterError
from riskkit.metrics import compute
from riskkit.pack import load_datapack, validate_datapack

SAMPLE = Path(__file__).parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def pack(sample_pack):
    return sample_pack


@pytest.fixture(scope="module")
def metrics_h1(pack, library):
    return compute(pack, "2026-H1", library=library)


@pytest.fixture(scope="module")
def child(pack, metrics_h1, library):
    return run_audit(pack, "child_safety", "2026-H1", metrics=metrics_h1, library=library)


def _copy_sample(tmp_path: Path) -> Path:
    dst = tmp_path / "pack"
    shutil.copytree(SAMPLE, dst)
    return dst


# ------------------------------------------------------------------------------------------- questionnaires


def test_blank_questionnaire_lists_every_item_to_review(library):
    q = questionnaire("child_safety", "2026-H2", library=library)
    assert len(q) == 33 and (q["status"] == "to_review").all()  # 30 items, then CS-AGE-06..08 (CPC transition)
    under16 = q.set_index("item_id").loc["CS-AGE-02"]
    assert under16["data_test"] == "under16_mau_last_month == 0" and under16["mandatory"] == "yes"
    assert q.attrs["framework"] == "checklist-child-safety 1.1.0"


def test_questionnaire_round_trip_generate_fill_validate_score(tmp_path, pack, metrics_h1, library):
    out = write_questionnaire(questionnaire("accessibility", "2026-H1", library=library), tmp_path / "q.csv")
    filled = pd.read_csv(out, dtype=str, keep_default_na=False)
    filled["status"] = "met"
    filled.loc[filled.index[:3], "status"] = "not_met"
    filled["maturity"] = "3"
    filled["evidence"] = "EV-1"
    filled["assessed_by"] = "QA"
    filled["assessed_on"] = "2026-06-20"
    dst = _copy_sample(tmp_path)
    filled.to_csv(dst / "audits" / "accessibility.csv", index=False)
    assert validate_datapack(dst, library=library).ok
    result = run_audit(
        load_datapack(dst, library=library), "accessibility", "2026-H1", metrics=metrics_h1, library=library
    )
    assert result.overall["non_compliant"] == 3
    assert result.overall["compliant"] + result.overall["not_applicable"] == len(filled) - 3
    assert (result.items.set_index("item_id").loc[filled["item_id"][:3], "result"] == "non_compliant").all()


def test_questionnaire_file_with_unknown_item_or_bad_status_fails_validation(tmp_path, library):
    dst = _copy_sample(tmp_path)
    df = pd.read_csv(dst / "audits" / "child_safety.csv", dtype=str, keep_default_na=False)
    df.loc[0, "item_id"] = "CS-NOPE-99"
    df.loc[1, "status"] = "done"
    df.to_csv(dst / "audits" / "child_safety.csv", index=False)
    report = validate_datapack(dst, library=library)
    found = {(p.kind, p.row, p.column) for p in report.problems if p.severity == "error"}
    assert ("dangling_reference", 2, "item_id") in found
    assert ("enum", 3, "status") in found


def test_xlsx_questionnaire_has_dropdowns_and_reads_back(tmp_path, library):
    path = write_questionnaire(questionnaire("safety_by_design", "2026-H1", library=library), tmp_path / "q.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["questionnaire"]
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any("to_review" in (f or "") and "not_applicable" in (f or "") for f in formulas)
    assert ws["A1"].value == "item_id" and ws.max_row == 33
    with pytest.raises(ParameterError, match="exists"):
        write_questionnaire(questionnaire("safety_by_design", "2026-H1", library=library), path)
    with pytest.raises(ParameterError, match=r"\.csv or \.xlsx"):
        write_questionnaire(questionnaire("safety_by_design", "2026-H1", library=library), tmp_path / "q.txt")


def test_prefilled_questionnaire_keeps_evidence_and_resets_status(tmp_path, child, library):
    child.to_files(tmp_path / "run")
    q = questionnaire("child_safety", "2026-H2", library=library, previous=tmp_path / "run").set_index("item_id")
    assert (q["status"] == "to_review").all()
    assert q.loc["CS-AGE-02", "evidence"].startswith("Age gate with MyDigital ID")
    assert q.loc["CS-AGE-02", "maturity"] == 3
    with pytest.raises(ParameterError, match="no questionnaire for audit 'child_safety'"):
        questionnaire("child_safety", "2026-H2", library=library, previous=tmp_path)


def test_cli_questionnaire(tmp_path, capsys):
    assert (
        main(["questionnaire", "--audit", "child_safety", "--cycle", "2026-H2", "--out", str(tmp_path / "q.xlsx")]) == 0
    )
    assert "33 items of checklist-child-safety" in capsys.readouterr().out
    assert main(["questionnaire", "--audit", "nope", "--cycle", "2026-H2", "--out", str(tmp_path / "x.csv")]) == 2
    assert "known: accessibility, child_safety, safety_by_design" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- results


def test_sample_contradiction_is_found(child):
    item = child.items.set_index("item_id").loc["CS-AGE-02"]
    assert item["status"] == "met" and item["data_test"] == "fail" and item["contradiction"]
    assert item["data_value"] > 0
    checks = child.checks.set_index("check")
    assert checks.loc["contradicted_by_data", "status"] == "FAIL"
    assert "CS-AGE-02" in checks.loc["contradicted_by_data", "items"]
    assert "F-child_safety-CS-AGE-02-data_contradiction" in set(child.findings["finding_id"])


def test_items_in_force_later_are_not_applicable_in_earlier_cycles(pack, library):
    early = run_audit(
        pack, "child_safety", "2025-H2", metrics=compute(pack, "2025-H2", library=library), library=library
    )
    row = early.items.set_index("item_id").loc["CS-AGE-02"]
    assert row["result"] == "not_applicable" and "in force from 2026-06-01" in row["applicability"]
    assert row["data_test"] == ""  # not tested when not applicable


def test_scores_exclude_na_and_show_median_and_minimum(child, library):
    values = {r.ref_id: r.value for r in library.audit_methodology.results if r.value is not None}
    assert (values["compliant"], values["partial"], values["non_compliant"]) == (1.0, 0.5, 0.0)
    assert "not_applicable" not in values and "not_assessed" not in values  # excluded from scores
    items = child.items
    scored = items[items["result"].isin(list(values))]
    assert len(scored) < len(items)  # some items are not applicable or not assessed
    points = scored["result"].map(values)
    expected = float((points * scored["weight"]).sum() / scored["weight"].sum())
    assert child.overall["score"] == pytest.approx(expected)
    maturity = pd.to_numeric(scored["maturity"]).dropna()
    assert child.overall["maturity_median"] == maturity.median()
    assert child.overall["maturity_min"] == maturity.min()
    assert child.domains["items"].sum() == 33


def test_findings_for_mandatory_non_compliant_and_partial(child):
    f = child.findings.set_index("finding_id")
    items = child.items.set_index("item_id")
    for item_id, r in items.iterrows():
        kind = {"non_compliant": "non_compliant_mandatory", "partial": "partial_mandatory"}.get(r["result"])
        expected = kind is not None and r["mandatory"]
        assert (f"F-child_safety-{item_id}-{kind}" in f.index) == expected
    high = f[f["kind"] == "non_compliant_mandatory"]
    assert (high["severity"] == "high").all() and (high["due_date"] == "2026-09-28").all()  # 30 Jun + 90 days


def test_carry_over_open_closed_overdue(pack, metrics_h1, tmp_path, library):
    previous = pd.DataFrame(
        [
            # still failing in 2026-H1, raised long ago, due before the cycle end: overdue
            {
                "finding_id": "F-child_safety-CS-PAR-01-non_compliant_mandatory",
                "audit": "child_safety",
                "item_id": "CS-PAR-01",
                "status": "open",
                "first_raised": "2025-H1",
                "due_date": "2025-09-28",
            },
            # the item is compliant now: closed
            {
                "finding_id": "F-child_safety-CS-AGE-01-non_compliant_mandatory",
                "audit": "child_safety",
                "item_id": "CS-AGE-01",
                "status": "open",
                "first_raised": "2025-H2",
                "due_date": "2026-03-30",
            },
        ]
    )
    result = run_audit(pack, "child_safety", "2026-H1", metrics=metrics_h1, library=library, previous_findings=previous)
    f = result.findings.set_index("finding_id")
    assert f.loc["F-child_safety-CS-PAR-01-non_compliant_mandatory", "status"] == "overdue"
    assert f.loc["F-child_safety-CS-PAR-01-non_compliant_mandatory", "first_raised"] == "2025-H1"
    assert f.loc["F-child_safety-CS-AGE-01-non_compliant_mandatory", "status"] == "closed"
    assert f.loc["F-child_safety-CS-DEF-01-non_compliant_mandatory", "status"] == "open"
    assert result.checks.set_index("check").loc["overdue_finding", "status"] == "FAIL"
    # and from a previous run folder written by to_files
    result.to_files(tmp_path)
    again = run_audit(pack, "child_safety", "2026-H1", metrics=metrics_h1, library=library, previous_findings=tmp_path)
    assert "overdue" in set(again.findings["status"])


def test_quality_checks_catch_each_problem(tmp_path, metrics_h1, library):
    dst = _copy_sample(tmp_path)
    df = pd.read_csv(dst / "audits" / "child_safety.csv", dtype=str, keep_default_na=False).set_index("item_id")
    df.loc["CS-GOV-01", ["status", "evidence"]] = ["met", ""]  # compliant without evidence
    df.loc["CS-MOD-04", ["status", "notes"]] = ["not_applicable", ""]  # mandatory N/A, no justification
    df.loc["CS-REP-03", "status"] = "to_review"  # not assessed
    df.loc["CS-PAR-02", "assessed_by"] = ""  # no assessor
    df.reset_index().to_csv(dst / "audits" / "child_safety.csv", index=False)
    result = run_audit(
        load_datapack(dst, library=library), "child_safety", "2026-H1", metrics=metrics_h1, library=library
    )
    checks = result.checks.set_index("check")
    assert "CS-GOV-01" in checks.loc["compliant_without_evidence", "items"]
    assert checks.loc["na_mandatory_without_justification", "items"] == "CS-MOD-04"
    assert checks.loc["unassessed_item", "items"] == "CS-REP-03"
    assert checks.loc["answered_without_assessor", "items"] == "CS-PAR-02"
    assert checks.loc["na_mandatory_without_justification", "status"] == "FAIL"


def test_sample_sbd_answer_without_evidence_is_flagged(pack, metrics_h1, library):
    sbd = run_audit(pack, "safety_by_design", "2026-H1", metrics=metrics_h1, library=library)
    assert "SBD-RESP-01" in sbd.checks.set_index("check").loc["compliant_without_evidence", "items"]


def test_exports(child, tmp_path):
    files = child.to_files(tmp_path)
    assert [f.name for f in files] == [
        "findings_child_safety.csv",
        "findings_child_safety.xlsx",
        "questionnaire_child_safety.csv",
    ]
    sheets = pd.read_excel(tmp_path / "findings_child_safety.xlsx", sheet_name=None)
    assert set(sheets) == {"Cover", "findings", "items", "domains", "quality_checks"}
    assert len(sheets["findings"]) == len(child.findings)


def test_the_evaluated_result_holds_the_same_audit(child, sample_result):
    view = notebook.audit(sample_result, "child_safety")
    assert view.framework == child.framework == "checklist-child-safety 1.1.0"
    for key in ("score", "compliant", "partial", "non_compliant", "not_applicable", "not_assessed"):
        assert view.overall[key] == pytest.approx(child.overall[key]), key
    assert view.findings["finding_id"].tolist() == child.findings["finding_id"].tolist()
    assert view.items.set_index("item_id")["result"].to_dict() == child.items.set_index("item_id")["result"].to_dict()
    assert view.checks["status"].tolist() == child.checks["status"].tolist()


def test_a_custom_checklist_is_audited_from_the_library_passed_in(tmp_path, pack, metrics_h1, library):
    import yaml

    from riskkit.library import FRAMEWORKS_DIR, load_library

    raw = yaml.safe_load((FRAMEWORKS_DIR / "checklist-child-safety.yaml").read_text(encoding="utf-8"))
    item = next(i for i in raw["items"] if i["ref_id"] == "CS-AGE-02")
    item["data_test"]["value"] = 10**9  # a test the sample passes: its "met" answer is no longer contradicted
    item["data_test"]["operator"] = "<="
    raw["version"] = "1.0.1"
    (tmp_path / "cs.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    custom = load_library(extra=[tmp_path / "cs.yaml"])
    assert custom.checklist("child_safety").version == "1.0.1"
    result = run_audit(pack, "child_safety", "2026-H1", metrics=metrics_h1, library=custom)
    row = result.items.set_index("item_id").loc["CS-AGE-02"]
    assert row["data_test"] == "pass" and not row["contradiction"]
    assert result.framework == "checklist-child-safety 1.0.1"
    assert (
        questionnaire("child_safety", "2026-H2", library=custom).set_index("item_id").loc["CS-AGE-02", "data_test"]
        == "under16_mau_last_month <= 1e+09"
    )
    packaged = run_audit(pack, "child_safety", "2026-H1", metrics=metrics_h1, library=library)
    assert packaged.items.set_index("item_id").loc["CS-AGE-02", "contradiction"]


def test_metrics_for_another_cycle_are_refused(pack, metrics_h1, library):
    try:
        run_audit(pack, "child_safety", "2025-H2", metrics=metrics_h1, library=library)
    except ParameterError as exc:
        assert "metrics are for 2026-H1" in str(exc)
    else:
        raise AssertionError("run_audit scored 2025-H2 with the metrics of 2026-H1")


def test_xlsx_questionnaire_never_writes_a_formula(tmp_path, library):
    """A custom checklist's text that starts with '=' stays text in the workbook (and reads back unchanged)."""
    q = questionnaire("safety_by_design", "2026-H1", library=library)
    q.loc[q.index[0], "question"] = '=HYPERLINK("http://example.invalid","click")'
    q.loc[q.index[1], "expected_evidence"] = "+1+1"
    path = write_questionnaire(q, tmp_path / "q.xlsx")
    ws = openpyxl.load_workbook(path)["questionnaire"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert '=HYPERLINK("http://example.invalid","click")' in texts and "+1+1" in texts
