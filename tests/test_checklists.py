"""Audit checklists as framework data: the three packaged checklists, their queries and their integrity checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError
from riskkit.framework import (
    CHECKLIST_COLUMNS,
    DATA_TEST_OPERATORS,
    FRAMEWORKS_DIR,
    TEST_METHODS,
    load_library,
)

AUDITS = {
    "safety_by_design": "checklist-safety-by-design",
    "child_safety": "checklist-child-safety",
    "accessibility": "checklist-accessibility",
}
PREFIXES = {"safety_by_design": "SBD-", "child_safety": "CS-", "accessibility": "ACC-"}
REQUIRED_COLUMNS = (
    "audit",
    "framework_id",
    "framework_version",
    "ref_id",
    "domain",
    "domain_label_en",
    "question_en",
    "question_ms",
    "references",
    "expected_evidence",
    "test_method",
    "weight",
    "mandatory",
    "applies_if",
    "data_test_metric",
    "data_test_category",
    "data_test_operator",
    "data_test_value",
    "source",
    "confidence",
)
#: The metric ids the metrics engine defines for data tests (agreed in the brief of both modules).
KNOWN_METRICS = {
    "sla.code2024.csam_report_24h",
    "sla.onsa.priority_inaccessible_24h",
    "sla.onsa.report_ack_1h",
    "sla.onsa.report_assess_12h",
    "proactive_rate",
    "under16_mau_last_month",
    "under16_share",
    "age_verified_share",
    "record_complete_share",
    "reports_received",
    "reversal_rate",
    "appeal_rate",
    "local_languages_missing",
    "moderators_per_million_users",
    "training_hours_per_moderator",
    "wellbeing_hours_per_moderator",
    "violating_view_rate",
}
LIBRARY_FRAMEWORKS = {"mcmc-code-2024", "onsa-2025", "rmc-2026", "cpc-2026"}


@pytest.fixture(scope="module")
def lib():
    return load_library()


def items_of(lib, audit: str) -> pd.DataFrame:
    return lib.checklist_items(audit).set_index("ref_id", drop=False)


def references(row: pd.Series) -> list[tuple[str, str]]:
    """The ';'-joined ``id:ref`` references of an item row as (id, ref) pairs."""
    return [tuple(ref.split(":", 1)) for ref in row["references"].split(";")]  # type: ignore[misc]


def raw_checklist(framework_id: str) -> dict[str, Any]:
    path = FRAMEWORKS_DIR / f"{framework_id}.yaml"
    return copy.deepcopy(yaml.safe_load(path.read_text(encoding="utf-8")))


def variant(tmp_path: Path, framework_id: str, mutate: Callable[[dict[str, Any]], Any], name: str = "") -> Path:
    """A mutated copy of a packaged checklist in tmp_path (same id unless ``mutate`` changes it)."""
    raw = raw_checklist(framework_id)
    mutate(raw)
    path = tmp_path / f"{name or framework_id}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def item(raw: dict[str, Any], ref_id: str) -> dict[str, Any]:
    return next(entry for entry in raw["items"] if entry["ref_id"] == ref_id)


def load_error(*paths: Path) -> str:
    with pytest.raises(FrameworkError) as info:
        load_library(paths)
    return str(info.value)


# --- happy path with the real values -----------------------------------------------------------------------------


def test_three_checklists_with_their_audit_names(lib):
    checklists = lib.checklists()
    assert set(checklists) == set(AUDITS)
    for audit, framework_id in AUDITS.items():
        fw = lib.checklist(audit)
        assert fw is checklists[audit] and fw.id == framework_id and fw.kind == "checklist"
        assert fw.raw["audit"] == audit and fw.version.count(".") == 2
        assert lib.versions()[framework_id] == fw.version
    with pytest.raises(FrameworkError, match="no checklist for audit 'governance'"):
        lib.checklist("governance")


@pytest.mark.parametrize("audit", sorted(AUDITS))
def test_checklist_items_frame(lib, audit):
    frame = lib.checklist_items(audit)
    assert list(frame.columns) == list(CHECKLIST_COLUMNS)
    assert set(REQUIRED_COLUMNS) <= set(frame.columns)
    assert 20 <= len(frame) <= 35
    assert frame["ref_id"].is_unique and frame["ref_id"].str.startswith(PREFIXES[audit]).all()
    assert (frame["audit"] == audit).all() and (frame["framework_id"] == AUDITS[audit]).all()
    assert frame["domain_label_en"].notna().all() and frame["domain_label_ms"].notna().all()
    assert set(frame["test_method"]) <= set(TEST_METHODS)
    assert frame["weight"].between(1, 3).all() and frame["mandatory"].map(type).eq(bool).all()
    assert set(frame["confidence"]) <= {"A", "S", "U"}
    assert frame["source"].str.startswith("http").all()
    assert (frame["expected_evidence"].str.len() > 0).all() and (frame["references"].str.len() > 0).all()
    tested = frame[frame["data_test_metric"].notna()]
    assert len(tested) >= 2
    assert set(tested["data_test_operator"]) <= set(DATA_TEST_OPERATORS)
    assert tested["data_test_value"].map(lambda v: isinstance(v, float)).all()
    untested = frame[frame["data_test_metric"].isna()]
    assert untested["data_test_operator"].isna().all() and untested["data_test_value"].isna().all()


@pytest.mark.parametrize("audit", sorted(AUDITS))
def test_every_item_has_an_english_and_a_malay_question(lib, audit):
    frame = lib.checklist_items(audit)
    assert (frame["question_en"].str.len() > 20).all() and (frame["question_ms"].str.len() > 20).all()
    assert (frame["question_en"] != frame["question_ms"]).all()
    assert frame["question_en"].str.endswith("?").all() and frame["question_ms"].str.endswith("?").all()


def test_under_16_item_tests_mau_from_june_2026(lib):
    frame = lib.checklist_items("child_safety")
    row = frame[frame["data_test_metric"] == "under16_mau_last_month"].squeeze()
    assert isinstance(row, pd.Series), "exactly one under-16 item"
    assert row["data_test_operator"] == "==" and row["data_test_value"] == 0
    assert row["data_test_category"] == "all"
    assert row["applies_if"] == "from=2026-06-01"
    assert row["mandatory"] and row["test_method"] == "data"
    assert ("cpc-2026", "cpc.minimum_age_16") in references(row)
    raw = lib.checklist("child_safety").get("items", row["ref_id"]).data
    assert raw["applies_if"] == {"from": "2026-06-01"}
    assert raw["data_test"]["meaning"]["ms"]


def test_every_cpc_reference_resolves(lib):
    cpc = lib.get("cpc-2026")
    found = 0
    for audit in AUDITS:
        for _, row in lib.checklist_items(audit).iterrows():
            for fw_id, ref in references(row):
                if fw_id == "cpc-2026":
                    found += 1
                    assert cpc.find(ref) is not None, (audit, row["ref_id"], ref)
    assert found >= 20
    child = {ref for _, row in lib.checklist_items("child_safety").iterrows() for fw, ref in references(row)}
    assert {f"cpc.s18_3{x}" for x in "abcde"} <= child
    assert {"cpc.age_verification", "cpc.age_data_minimisation", "cpc.parental_controls"} <= child


def test_every_reference_is_a_library_entry_or_a_declared_standard(lib):
    for audit in AUDITS:
        fw = lib.checklist(audit)
        declared = {e.ref_id for e in fw.entries("external_standards")}
        for _, row in lib.checklist_items(audit).iterrows():
            for fw_id, ref in references(row):
                if fw_id in lib.frameworks:
                    assert lib.get(fw_id).find(ref) is not None, (row["ref_id"], fw_id, ref)
                else:
                    assert fw_id in declared, (row["ref_id"], fw_id)
        used = {fw_id for _, row in lib.checklist_items(audit).iterrows() for fw_id, _ in references(row)}
        assert used & LIBRARY_FRAMEWORKS, audit
        assert declared <= used, f"{audit}: declared but unused standards {declared - used}"


def test_data_tests_use_known_metrics_and_categories(lib):
    for audit in AUDITS:
        tested = lib.checklist_items(audit).dropna(subset=["data_test_metric"])
        assert set(tested["data_test_metric"]) <= KNOWN_METRICS, audit
        assert set(tested["data_test_category"]) <= {"all", *schema.HARM_CATEGORIES}
        assert tested["data_test_meaning_en"].notna().all() and tested["data_test_meaning_ms"].notna().all()


def test_data_test_metrics_are_registered_when_a_metric_registry_is_loaded(lib):
    registries = [fw for fw in lib.frameworks.values() if fw.kind == "metric_registry"]
    if not registries:
        pytest.skip("no metric registry in the library yet")
    registered = {e.ref_id for fw in registries for section in fw.sections for e in fw.entries(section)}
    clocks = {f"sla.{clock.ref_id}" for clock in lib.sla_policy().clocks} if "sla" in registered else set()
    for audit in AUDITS:
        metrics = set(lib.checklist_items(audit)["data_test_metric"].dropna())
        assert metrics <= registered | clocks, f"{audit}: unregistered {metrics - registered - clocks}"


def test_child_safety_data_tests(lib):
    frame = items_of(lib, "child_safety")
    csam = frame[frame["data_test_metric"] == "sla.code2024.csam_report_24h"].squeeze()
    assert (csam["data_test_category"], csam["data_test_operator"], csam["data_test_value"]) == ("csam", ">=", 0.99)
    child = frame[(frame["data_test_metric"] == "reports_received") & (frame["data_test_level"] == "child")].squeeze()
    assert child["data_test_dimension"] == "reporter_type"
    assert (child["data_test_operator"], child["data_test_value"]) == (">=", 1.0)
    assert set(frame["data_test_level"].dropna()) == {"child", "parent"}
    assert set(frame["data_test_level"].dropna()) <= set(schema.REPORTER_TYPES)


def test_safety_by_design_data_tests(lib):
    tests = {
        (r["data_test_metric"], r["data_test_category"], r["data_test_operator"], r["data_test_value"])
        for _, r in lib.checklist_items("safety_by_design").dropna(subset=["data_test_metric"]).iterrows()
    }
    assert ("proactive_rate", "csam", ">=", 0.9) in tests
    assert ("record_complete_share", "all", ">=", 0.95) in tests
    assert ("sla.onsa.priority_inaccessible_24h", "all", ">=", 0.95) in tests


def test_accessibility_covers_the_wcag_criteria_and_languages(lib):
    frame = lib.checklist_items("accessibility")
    wcag = {ref for _, row in frame.iterrows() for fw_id, ref in references(row) if fw_id == "wcag-2.2"}
    wanted = {"1.1.1", "1.3.1", "1.4.3", "2.1.1", "2.4.7", "2.5.8", "3.3.1", "3.3.2", "3.3.7", "3.3.8", "4.1.2"}
    assert wanted <= wcag
    languages = frame[frame["data_test_metric"] == "local_languages_missing"].squeeze()
    assert (languages["data_test_operator"], languages["data_test_value"]) == ("==", 0.0)
    wcag_rows = frame[frame["references"].str.contains("wcag-2.2:")]
    assert (wcag_rows["confidence"] != "S").all()


def test_applies_if_text_and_values(lib):
    surfaces = set()
    for audit in AUDITS:
        fw = lib.checklist(audit)
        for entry, text in zip(fw.entries("items"), lib.checklist_items(audit)["applies_if"], strict=True):
            rule = entry.data["applies_if"]
            if rule == "always":
                assert text == "always"
                continue
            assert text == "; ".join(
                f"{k}={','.join(map(str, v if isinstance(v, list) else [v]))}" for k, v in rule.items()
            )
            assert set(rule.get("service_type", [])) <= set(schema.SERVICE_TYPES)
            surfaces.update(rule.get("feature_surface", []))
    assert {"live", "messages", "ads"} <= surfaces
    sbd = items_of(lib, "safety_by_design")
    ads = sbd[sbd["references"].str.contains("rmc.advertiser_verification") & sbd["mandatory"]].squeeze()
    assert ads["applies_if"] == "feature_surface=ads; from=2026-06-01"


@pytest.mark.parametrize("audit", sorted(AUDITS))
def test_maturity_scale_is_zero_to_four_and_bilingual(lib, audit):
    scale = lib.checklist(audit).entries("maturity_scale")
    assert [e.data["level"] for e in scale] == [0, 1, 2, 3, 4]
    assert [e.label_en for e in scale] == [
        "Not in place",
        "Initial / ad hoc",
        "Defined",
        "Managed (measured, reviewed)",
        "Optimised",
    ]
    assert all(e.label_ms and e.text("description", "ms") for e in scale)
    assert [e.data["dtsp_levels"] for e in scale] == [[], [1, 2], [3], [4], [5]]


def test_checklists_are_not_instruments(lib):
    assert set(lib.obligations()["framework_id"]) == LIBRARY_FRAMEWORKS


# --- integrity checks -------------------------------------------------------------------------------------------

CS = "checklist-child-safety"
ACC = "checklist-accessibility"


def _set(ref_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        item(raw, ref_id)[key] = value

    return mutate


def _set_test(ref_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        item(raw, ref_id)["data_test"][key] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set("CS-AGE-01", "domain", "CS-NOPE"), "CS-AGE-01: domain 'CS-NOPE' is not a declared domain"),
        (
            _set("CS-AGE-01", "references", {"onsa-2025": ["onsa.s99"]}),
            "CS-AGE-01: references onsa-2025:onsa.s99: framework 'onsa-2025' has no entry 'onsa.s99'",
        ),
        (
            _set("CS-AGE-01", "references", {"ofcom-pcu": ["PCU B1"]}),
            "CS-AGE-01: references 'ofcom-pcu': not a loaded framework nor declared in external_standards",
        ),
        (
            _set("CS-AGE-01", "references", {"uk-aadc": [7]}),
            "CS-AGE-01: references 'uk-aadc': clause refs must be quoted",
        ),
        (_set("CS-AGE-01", "references", {"uk-aadc": []}), "CS-AGE-01: references 'uk-aadc' must be a non-empty list"),
        (_set("CS-AGE-01", "references", []), "CS-AGE-01: references must map framework or standard ids"),
        (
            _set("CS-AGE-01", "expected_evidence", "a screenshot"),
            "CS-AGE-01: expected_evidence must be a non-empty list",
        ),
        (_set("CS-AGE-01", "test_method", "interview"), "CS-AGE-01: test_method 'interview' is not one of"),
        (_set("CS-AGE-01", "weight", 4), "CS-AGE-01: weight must be 1, 2 or 3, got 4"),
        (_set("CS-AGE-01", "weight", 0), "CS-AGE-01: weight must be 1, 2 or 3, got 0"),
        (_set("CS-AGE-01", "weight", "2"), "CS-AGE-01: weight must be 1, 2 or 3, got '2'"),
        (_set("CS-AGE-01", "weight", True), "CS-AGE-01: weight must be 1, 2 or 3, got True"),
        (_set("CS-AGE-01", "mandatory", "yes"), "CS-AGE-01: mandatory must be true or false, got 'yes'"),
        (_set("CS-AGE-01", "applies_if", "sometimes"), "CS-AGE-01: applies_if must be 'always' or a mapping"),
        (_set("CS-AGE-01", "applies_if", {}), "CS-AGE-01: applies_if must be 'always' or a mapping"),
        (
            _set("CS-AGE-01", "applies_if", {"service_type": ["forum"]}),
            "CS-AGE-01: applies_if.service_type must be a list from: social_media, messaging, hybrid",
        ),
        (
            _set("CS-AGE-01", "applies_if", {"service_type": "social_media"}),
            "CS-AGE-01: applies_if.service_type must be a list",
        ),
        (_set("CS-AGE-01", "applies_if", {"from": "June 2026"}), "CS-AGE-01: applies_if.from must be a date"),
        (_set("CS-AGE-01", "applies_if", {"feature_surface": []}), "CS-AGE-01: applies_if.feature_surface must be"),
        (_set("CS-AGE-01", "applies_if", {"until": "2027-01-01"}), "CS-AGE-01: applies_if: unknown key 'until'"),
        (_set_test("CS-AGE-02", "operator", "=>"), "CS-AGE-02: data_test.operator '=>' is not one of"),
        (_set_test("CS-AGE-02", "value", "zero"), "CS-AGE-02: data_test.value must be a number, got 'zero'"),
        (_set_test("CS-AGE-02", "value", True), "CS-AGE-02: data_test.value must be a number, got True"),
        (_set_test("CS-AGE-02", "category", "spam"), "CS-AGE-02: data_test.category 'spam' is not 'all' or a harm key"),
        (_set_test("CS-AGE-02", "metric", ""), "CS-AGE-02: data_test.metric must be a metric id"),
        (_set_test("CS-AGE-02", "threshold", 1), "CS-AGE-02: data_test: unknown key 'threshold'"),
        (_set_test("CS-AGE-02", "meaning", {"en": "No under-16s."}), "CS-AGE-02: data_test: missing meaning.ms"),
    ],
)
def test_broken_child_safety_item_is_reported_with_file_and_item(tmp_path, mutate, expected):
    path = variant(tmp_path, CS, mutate)
    message = load_error(path)
    assert f"{path}: {expected}" in message


def test_data_test_dimension_needs_a_level(tmp_path):
    path = variant(tmp_path, CS, lambda raw: item(raw, "CS-REP-01")["data_test"].pop("level"))
    assert f"{path}: CS-REP-01: data_test: give dimension and level together" in load_error(path)


def test_bad_audit_name_and_maturity_scale(tmp_path):
    def breakit(raw):
        raw["audit"] = "Child Safety"
        raw["maturity_scale"].pop()

    path = variant(tmp_path, CS, breakit)
    message = load_error(path)
    assert f"{path}: audit must be a short name like 'child_safety'" in message
    assert f"{path}: maturity_scale must list levels 0, 1, 2, 3, 4 in order, got [0, 1, 2, 3]" in message


def test_missing_items_section(tmp_path):
    path = variant(tmp_path, ACC, lambda raw: raw.pop("items"))
    assert f"{path}: missing section 'items'" in load_error(path)


def test_duplicate_audit_name_across_checklists(tmp_path):
    def copy_as_new_framework(raw):
        raw["id"] = "team-child-safety"

    path = variant(tmp_path, CS, copy_as_new_framework, name="team-child-safety")
    message = load_error(path)
    assert f"{path}: audit 'child_safety' is already used by {FRAMEWORKS_DIR / (CS + '.yaml')}" in message


def test_all_problems_are_reported_together(tmp_path):
    def breakit(raw):
        item(raw, "ACC-REP-02")["test_method"] = "survey"
        item(raw, "ACC-LANG-02")["data_test"]["operator"] = "!="

    message = load_error(variant(tmp_path, ACC, breakit))
    assert "2 problems" in message
    assert "ACC-REP-02: test_method 'survey'" in message and "ACC-LANG-02: data_test.operator '!='" in message


def test_generic_entry_checks_apply_to_items(tmp_path):
    def breakit(raw):
        del item(raw, "ACC-REP-01")["label"]["ms"]
        item(raw, "ACC-REP-03")["confidence"] = "V"

    path = variant(tmp_path, ACC, breakit)
    message = load_error(path)
    assert f"{path}: ACC-REP-01: missing label.ms (Malay label)" in message
    assert f"{path}: ACC-REP-03: confidence must be one of A, S, U, got 'V'" in message


def test_extra_checklist_replaces_the_packaged_one(tmp_path):
    def bump(raw):
        raw["version"] = "1.1.0"
        item(raw, "CS-AGE-03")["data_test"]["value"] = 0.99

    lib = load_library([variant(tmp_path, CS, bump)])
    assert lib.versions()[CS] == "1.1.0"
    frame = items_of(lib, "child_safety")
    assert frame.loc["CS-AGE-03", "data_test_value"] == 0.99
    assert items_of(load_library(), "child_safety").loc["CS-AGE-03", "data_test_value"] == 0.95
