"""The framework library: packaged YAML frameworks, their queries, and the integrity checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError
from riskkit.framework import (
    COVERED_BY,
    FRAMEWORKS_DIR,
    OBLIGATION_COLUMNS,
    Clock,
    load_library,
)

PACKAGED_IDS = {
    "harm-taxonomy",
    "mcmc-code-2024",
    "onsa-2025",
    "rmc-2026",
    "cpc-2026",
    "dsa-sor",
    "sla-policy",
    "regulatory-thresholds",
}
FILES = {
    "harm-taxonomy": "harm_taxonomy.yaml",
    "mcmc-code-2024": "mcmc-code-2024.yaml",
    "onsa-2025": "onsa-2025.yaml",
    "rmc-2026": "rmc-2026.yaml",
    "cpc-2026": "cpc-2026.yaml",
    "dsa-sor": "dsa-sor.yaml",
    "sla-policy": "sla_policy.yaml",
}


@pytest.fixture(scope="module")
def lib():
    return load_library()


def packaged(framework_id: str) -> dict[str, Any]:
    """A deep copy of a packaged framework's raw YAML, to break in a test."""
    return copy.deepcopy(yaml.safe_load((FRAMEWORKS_DIR / FILES[framework_id]).read_text(encoding="utf-8")))


def variant(tmp_path: Path, framework_id: str, mutate: Callable[[dict[str, Any]], Any]) -> Path:
    """Write a mutated copy of a packaged framework to tmp_path (same id, so it replaces the packaged one)."""
    raw = packaged(framework_id)
    mutate(raw)
    path = tmp_path / FILES[framework_id]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def entry(raw: dict[str, Any], section: str, ref_id: str) -> dict[str, Any]:
    return next(item for item in raw[section] if item["ref_id"] == ref_id)


def load_error(*paths: Path) -> str:
    with pytest.raises(FrameworkError) as info:
        load_library(paths)
    return str(info.value)


# --- happy path with the real values -----------------------------------------------------------------------------


def test_packaged_frameworks_load_and_versions_list_all(lib):
    versions = lib.versions()
    assert set(versions) >= PACKAGED_IDS
    assert all(v.count(".") == 2 for v in versions.values())
    assert load_library() is lib  # default library is cached


def test_priority_harms_are_csam_and_financial_scam(lib):
    assert lib.priority_harms() == ("csam", "financial_scam")


def test_acknowledgement_clock(lib):
    clock = lib.sla_policy().clock("onsa.report_ack_1h")
    assert isinstance(clock, Clock)
    assert clock.hours == 1.0 and clock.confidence == "S"
    assert (clock.table, clock.start, clock.stop) == ("reports", "received_at", "acknowledged_at")
    assert clock.categories == schema.HARM_CATEGORIES
    assert not clock.overridden


def test_priority_clock_resolves_priority_keys_and_stop_actions(lib):
    clock = lib.sla_policy().clock("onsa.priority_inaccessible_24h")
    assert clock.categories == ("csam", "financial_scam")
    assert clock.hours == 24.0
    assert clock.stop_actions and set(clock.stop_actions) <= set(schema.INACCESSIBLE_ACTIONS)
    assert "age_restrict" not in clock.stop_actions
    csam = lib.sla_policy().clock("code2024.csam_report_24h")
    assert csam.categories == ("csam",) and csam.stop_actions is None


def test_sla_clock_columns_exist_in_schema(lib):
    for clock in lib.sla_policy().clocks:
        table = schema.table(clock.table)
        assert clock.start in table.column_names and clock.stop in table.column_names


def test_override_changes_hours_and_marks_overridden(lib):
    policy = lib.sla_policy({"onsa.report_ack_1h": {"hours": 2, "source": "internal policy", "confidence": "A"}})
    clock = policy.clock("onsa.report_ack_1h")
    assert clock.hours == 2.0 and clock.overridden
    assert clock.source == "internal policy" and clock.confidence == "A"
    assert not policy.clock("onsa.report_assess_12h").overridden
    frame = policy.to_frame()
    assert list(frame.columns) == list(Clock.__dataclass_fields__)
    assert frame.set_index("ref_id").loc["onsa.report_ack_1h", "overridden"]
    # the packaged policy itself is untouched
    assert lib.sla_policy().clock("onsa.report_ack_1h").hours == 1.0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"onsa.no_such_clock": {"hours": 2}}, "unknown clock 'onsa.no_such_clock'"),
        ({"onsa.report_ack_1h": {"hours": 0}}, "clock 'onsa.report_ack_1h': hours must be a positive number"),
        ({"onsa.report_ack_1h": {"hours": -3}}, "clock 'onsa.report_ack_1h': hours must be a positive number"),
        ({"onsa.report_ack_1h": {"hours": "two"}}, "clock 'onsa.report_ack_1h': hours must be a positive number"),
        ({"onsa.report_ack_1h": {"hours": True}}, "clock 'onsa.report_ack_1h': hours must be a positive number"),
        ({"onsa.report_ack_1h": {"hours": 2, "confidence": "X"}}, "confidence must be one of A, S, U"),
        ({"onsa.report_ack_1h": 2}, "clock 'onsa.report_ack_1h': must be a mapping"),
        ({"onsa.report_ack_1h": {"hour": 2}}, "unknown key 'hour'"),
    ],
)
def test_bad_overrides_raise_naming_the_clock(lib, overrides, expected):
    with pytest.raises(FrameworkError, match=expected.replace("(", r"\(")):
        lib.sla_policy(overrides)


def test_override_problems_are_all_reported(lib):
    with pytest.raises(FrameworkError) as info:
        lib.sla_policy({"nope": {"hours": 1}, "onsa.report_ack_1h": {"hours": -1}})
    assert "'nope'" in str(info.value) and "'onsa.report_ack_1h'" in str(info.value)


def test_onsa_obligations_cover_the_provider_duties(lib):
    frame = lib.obligations(instrument_id="onsa-2025")
    assert list(frame.columns) == list(OBLIGATION_COLUMNS)
    refs = set(frame["ref_id"])
    assert {f"onsa.s{n}" for n in range(13, 24)} <= refs
    assert {"onsa.s25", "onsa.s28", "onsa.s29"} <= refs
    assert "onsa.s24" not in refs
    rows = frame.set_index("ref_id")
    assert rows.loc["onsa.s13", "section"] == "13" and rows.loc["onsa.s13", "confidence"] == "A"
    assert rows.loc["onsa.s16", "confidence"] == "U" and rows.loc["onsa.s17", "confidence"] == "U"


def test_every_obligation_is_covered_and_bilingual(lib):
    frame = lib.obligations()
    assert set(frame["framework_id"]) == {"mcmc-code-2024", "onsa-2025", "rmc-2026", "cpc-2026"}
    for cover in frame["covered_by"]:
        values = cover.split(";")
        assert values and set(values) <= set(COVERED_BY)
    assert (frame["summary_en"].str.len() > 0).all() and (frame["summary_ms"].str.len() > 0).all()
    assert (frame["summary_en"] != frame["summary_ms"]).all()
    assert set(frame["confidence"]) <= {"A", "S", "U"}


def test_mcmc_code_obligations_cover_the_brief(lib):
    refs = set(lib.obligations("mcmc-code-2024")["ref_id"])
    for ref in (
        "code2024.user_safety.timely_removal",
        "code2024.user_safety.local_moderation_team",
        "code2024.user_safety.csam_report_24h",
        "code2024.child_safety.age_verification",
        "code2024.risk_mitigation.assessment_updates",
        "code2024.accountability.record_keeping",
        "code2024.accountability.half_yearly_report",
        "code2024.accountability.annual_public_report",
    ):
        assert ref in refs
    half = lib.get("mcmc-code-2024").get("obligations", "code2024.accountability.half_yearly_report")
    assert [(p["start"], p["end"]) for p in half.data["periods"]] == [("01-01", "06-30"), ("07-01", "12-31")]
    # audit duties: in the draft, survival into the final Code unverified
    audit = lib.get("mcmc-code-2024").get("obligations", "code2024.accountability.sbd_audit")
    assert audit.confidence == "U"


def test_obligations_filter_by_coverage(lib):
    frame = lib.obligations(covered_by="online_safety_plan")
    assert len(frame) > 0
    assert frame["covered_by"].str.split(";").map(lambda v: "online_safety_plan" in v).all()
    assert len(lib.obligations(instrument_id="dsa-sor")) == 0
    with pytest.raises(FrameworkError, match="unknown covered_by"):
        lib.obligations(covered_by="nonsense")
    with pytest.raises(FrameworkError, match="no framework 'nope'"):
        lib.obligations(instrument_id="nope")


def test_codes_implement_onsa_duties(lib):
    frame = lib.obligations().set_index("ref_id")
    assert set(frame[frame["framework_id"] == "rmc-2026"]["implements"]) == {"onsa-2025:onsa.s13"}
    assert set(frame[frame["framework_id"] == "cpc-2026"]["implements"]) == {"onsa-2025:onsa.s18"}
    assert {f"cpc.s18_3{x}" for x in "abcde"} <= set(frame.index)


def test_harm_labels_are_bilingual(lib):
    malay = lib.harm_label("csam", "ms")
    assert malay and malay != lib.harm_label("csam")
    assert "kanak-kanak" in malay
    for key in schema.HARM_CATEGORIES:
        assert lib.harm_label(key, "en") and lib.harm_label(key, "ms")
    with pytest.raises(FrameworkError, match="unknown harm key"):
        lib.harm_label("spam")
    with pytest.raises(FrameworkError, match="unknown language"):
        lib.harm_label("csam", "zh")


def test_harm_mapping_reaches_every_instrument_item(lib):
    for instrument in ("mcmc-code-2024", "onsa-2025", "dsa-sor"):
        mapping = lib.harm_mapping(instrument)
        assert tuple(mapping) == schema.HARM_CATEGORIES
        reached = {ref for refs in mapping.values() for ref in refs}
        assert reached == {e.ref_id for e in lib.get(instrument).entries("harms")}, instrument
    onsa = lib.harm_mapping("onsa-2025")
    assert onsa["hate_speech"] == ["first_schedule.8"]
    assert onsa["bullying_harassment"] == ["first_schedule.5"]
    assert onsa["obscene_indecent"] == ["first_schedule.3", "first_schedule.4"]
    assert onsa["other"] == [] and onsa["manipulated_media"] == []
    with pytest.raises(FrameworkError, match="no mapping to 'rmc-2026'"):
        lib.harm_mapping("rmc-2026")


def test_onsa_schedule_priority_flags(lib):
    harms = lib.get("onsa-2025").entries("harms")
    assert [e.ref_id for e in harms] == [f"first_schedule.{n}" for n in range(1, 10)]
    assert [e.ref_id for e in harms if e.data["priority"]] == ["first_schedule.1", "first_schedule.2"]


def test_dsa_categories_v1_and_v2(lib):
    harms = lib.get("dsa-sor").entries("harms")
    v2 = [e.ref_id for e in harms if 2 in e.data["schema_versions"]]
    v1_only = {e.ref_id for e in harms if e.data["schema_versions"] == [1]}
    assert len(v2) == 16
    assert v1_only == {
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    }
    dsa = lib.get("dsa-sor")
    assert (
        dsa.get("harms", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE").data["renamed_to"]
        == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    )
    assert all(e.label_ms for e in harms)


def test_framework_accessors(lib):
    onsa = lib.get("onsa-2025")
    assert onsa.kind == "instrument" and onsa.name_ms.startswith("Akta")
    assert onsa.sections == ["harms", "obligations"]
    assert onsa.sources and onsa.path.name == "onsa-2025.yaml"
    assert onsa.get("obligations", "onsa.s18").text("summary", "ms")
    with pytest.raises(FrameworkError, match="no section"):
        onsa.entries("clocks")
    with pytest.raises(FrameworkError, match="no entry"):
        onsa.get("obligations", "onsa.s99")


# --- extras: replace or add -------------------------------------------------------------------------------------


def test_extra_replaces_packaged_framework(tmp_path):
    def bump(raw):
        raw["version"] = "1.1.0"
        entry(raw, "clocks", "onsa.report_ack_1h")["hours"] = 3

    lib = load_library([variant(tmp_path, "sla-policy", bump)])
    assert lib.versions()["sla-policy"] == "1.1.0"
    assert lib.sla_policy().clock("onsa.report_ack_1h").hours == 3.0
    assert load_library().versions()["sla-policy"] == "1.0.0"


def test_extra_folder_adds_a_framework(tmp_path):
    raw = {
        "id": "team-policy",
        "version": "0.1.0",
        "kind": "instrument",
        "name": {"en": "Team policy", "ms": "Dasar pasukan"},
        "source": ["https://example.org/policy"],
        "obligations": [
            {
                "ref_id": "team.review",
                "section": None,
                "area": "accountability",
                "label": {"en": "Review", "ms": "Semakan"},
                "summary": {"en": "Review quarterly.", "ms": "Semak setiap suku tahun."},
                "covered_by": ["risk_assessment"],
                "implements": "onsa-2025:onsa.s13",
                "source": "https://example.org/policy",
                "confidence": "A",
            }
        ],
    }
    (tmp_path / "team.yml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    lib = load_library([tmp_path])
    assert lib.versions()["team-policy"] == "0.1.0"
    assert list(lib.obligations("team-policy")["ref_id"]) == ["team.review"]


def test_missing_extra_path(tmp_path):
    assert "no such framework file or folder" in load_error(tmp_path / "missing.yaml")


def test_same_id_twice_in_extras(tmp_path):
    first = variant(tmp_path, "dsa-sor", lambda raw: None)
    second = tmp_path / "copy" / "dsa-sor.yaml"
    second.parent.mkdir()
    second.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    assert "is already defined by" in load_error(first, second)


# --- integrity checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("id", "missing top-level field 'id'"),
        ("version", "invalid top-level 'version'"),
        ("kind", "missing top-level field 'kind'"),
        ("source", "missing top-level 'source'"),
    ],
)
def test_missing_top_level_fields(tmp_path, field, expected):
    path = variant(tmp_path, "rmc-2026", lambda raw: raw.pop(field))
    message = load_error(path)
    assert str(path) in message and expected in message


@pytest.mark.parametrize("lang", ["en", "ms"])
def test_missing_framework_name(tmp_path, lang):
    path = variant(tmp_path, "dsa-sor", lambda raw: raw["name"].pop(lang))
    assert f"missing top-level name.{lang}" in load_error(path)


def test_unquoted_version_is_rejected(tmp_path):
    path = variant(tmp_path, "dsa-sor", lambda raw: raw.update(version=1.0))
    assert "invalid top-level 'version': 1.0" in load_error(path)


def test_duplicate_ref_id_within_a_section(tmp_path):
    def dup(raw):
        raw["obligations"].append(copy.deepcopy(entry(raw, "obligations", "onsa.s14")))

    path = variant(tmp_path, "onsa-2025", dup)
    message = load_error(path)
    assert f"{path}: onsa.s14: duplicate ref_id in section 'obligations'" in message


def test_missing_source_and_bad_confidence(tmp_path):
    def breakit(raw):
        del entry(raw, "obligations", "rmc.safe_design")["source"]
        entry(raw, "obligations", "rmc.ai_labelling")["confidence"] = "P"

    path = variant(tmp_path, "rmc-2026", breakit)
    message = load_error(path)
    assert f"{path}: rmc.safe_design: missing source" in message
    assert f"{path}: rmc.ai_labelling: confidence must be one of A, S, U, got 'P'" in message


def test_missing_malay_label_and_english_summary(tmp_path):
    def breakit(raw):
        del entry(raw, "obligations", "cpc.parental_controls")["label"]["ms"]
        entry(raw, "obligations", "cpc.age_verification")["summary"]["en"] = ""

    path = variant(tmp_path, "cpc-2026", breakit)
    message = load_error(path)
    assert f"{path}: cpc.parental_controls: missing label.ms (Malay label)" in message
    assert f"{path}: cpc.age_verification: missing summary.en (English summary)" in message


def test_taxonomy_missing_harm_key(tmp_path):
    path = variant(tmp_path, "harm-taxonomy", lambda raw: raw["harms"].pop(1))
    assert "harm key 'ncii' of schema.HARM_CATEGORIES is missing from the taxonomy" in load_error(path)


def test_taxonomy_key_not_in_schema(tmp_path):
    def extra_key(raw):
        new = copy.deepcopy(entry(raw, "harms", "other"))
        new["ref_id"] = "spam"
        raw["harms"].append(new)

    path = variant(tmp_path, "harm-taxonomy", extra_key)
    assert f"{path}: spam: not a harm key of schema.HARM_CATEGORIES" in load_error(path)


def test_harm_key_without_mapping_for_an_instrument(tmp_path):
    def breakit(raw):
        del entry(raw, "harms", "csam")["maps_to"]["dsa-sor"]
        entry(raw, "harms", "hate_speech")["maps_to"]["onsa-2025"] = []

    path = variant(tmp_path, "harm-taxonomy", breakit)
    message = load_error(path)
    assert f"{path}: csam: no mapping for instrument 'dsa-sor'" in message
    assert f"{path}: hate_speech: maps to no 'onsa-2025' entry but gives no unmapped_reason" in message


def test_dangling_taxonomy_reference(tmp_path):
    path = variant(
        tmp_path, "harm-taxonomy", lambda raw: entry(raw, "harms", "csam")["maps_to"].update({"onsa-2025": ["x.1"]})
    )
    assert f"{path}: csam: maps_to 'onsa-2025' ref 'x.1', which is not a harm entry" in load_error(path)


def test_removing_a_target_entry_breaks_the_taxonomy(tmp_path):
    path = variant(tmp_path, "onsa-2025", lambda raw: raw["harms"].pop(8))
    assert "maps_to 'onsa-2025' ref 'first_schedule.9', which is not a harm entry" in load_error(path)


def test_dangling_implements(tmp_path):
    def breakit(raw):
        entry(raw, "obligations", "rmc.content_moderation")["implements"] = "onsa-2025:onsa.s99"
        entry(raw, "obligations", "rmc.safe_design")["implements"] = "nope:onsa.s13"

    path = variant(tmp_path, "rmc-2026", breakit)
    message = load_error(path)
    assert f"{path}: rmc.content_moderation: implements 'onsa-2025:onsa.s99'" in message
    assert "framework 'onsa-2025' has no entry 'onsa.s99'" in message
    assert "no framework 'nope' is loaded" in message


def test_removing_an_onsa_duty_breaks_the_codes(tmp_path):
    path = variant(
        tmp_path,
        "onsa-2025",
        lambda raw: raw.update(obligations=[o for o in raw["obligations"] if o["section"] != "18"]),
    )
    message = load_error(path)
    assert "cpc.parental_controls: implements 'onsa-2025:onsa.s18'" in message


def test_sla_clock_schema_references(tmp_path):
    def breakit(raw):
        entry(raw, "clocks", "onsa.report_ack_1h")["table"] = "tickets"
        entry(raw, "clocks", "onsa.report_assess_12h")["stop"] = "assessed_on"
        entry(raw, "clocks", "code2024.csam_report_24h")["start"] = "category"

    path = variant(tmp_path, "sla-policy", breakit)
    message = load_error(path)
    assert f"{path}: onsa.report_ack_1h: table 'tickets' is not a table of the data contract" in message
    assert f"{path}: onsa.report_assess_12h: stop 'assessed_on' is not a timestamp column of table 'reports'" in message
    assert "code2024.csam_report_24h: start 'category' is not a timestamp column" in message


def test_sla_clock_bad_applies_to_hours_and_stop_actions(tmp_path):
    def breakit(raw):
        entry(raw, "clocks", "code2024.csam_report_24h")["applies_to"] = ["csam", "spam"]
        entry(raw, "clocks", "onsa.report_ack_1h")["hours"] = -1
        entry(raw, "clocks", "onsa.report_assess_12h")["stop_actions"] = ["remove"]
        entry(raw, "clocks", "onsa.priority_inaccessible_24h")["stop_actions"] = ["delete"]

    path = variant(tmp_path, "sla-policy", breakit)
    message = load_error(path)
    assert "code2024.csam_report_24h: applies_to harm key 'spam' is not in schema.HARM_CATEGORIES" in message
    assert "onsa.report_ack_1h: hours must be a positive number" in message
    assert "onsa.report_assess_12h: stop_actions given but table 'reports' has no 'action' column" in message
    assert "onsa.priority_inaccessible_24h: stop_actions value 'delete' is not one of schema.ACTIONS" in message


def test_covered_by_outside_vocabulary(tmp_path):
    def breakit(raw):
        entry(raw, "obligations", "code2024.user_safety.user_tools")["covered_by"] = ["sbd_audit", "vibes"]
        entry(raw, "obligations", "code2024.user_safety.regular_review")["covered_by"] = []

    path = variant(tmp_path, "mcmc-code-2024", breakit)
    message = load_error(path)
    assert f"{path}: code2024.user_safety.user_tools: covered_by value 'vibes' is not one of" in message
    assert f"{path}: code2024.user_safety.regular_review: covered_by must be a non-empty list" in message


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text('id: broken\nversion: "1.0.0"\nname: {en: Broken, ms: Rosak\nkind: instrument\n', encoding="utf-8")
    message = load_error(path)
    assert str(path) in message and "YAML syntax error at line" in message


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "the top level must be a mapping" in load_error(path)


def test_all_problems_are_listed_not_just_the_first(tmp_path):
    def breakit(raw):
        del entry(raw, "obligations", "onsa.s13")["label"]["ms"]
        entry(raw, "obligations", "onsa.s14")["confidence"] = "maybe"
        entry(raw, "obligations", "onsa.s15")["covered_by"] = ["x"]
        entry(raw, "harms", "first_schedule.1")["priority"] = "yes"

    path = variant(tmp_path, "onsa-2025", breakit)
    with pytest.raises(FrameworkError) as info:
        load_library([path])
    problems = info.value.problems
    assert len(problems) == 4
    assert str(info.value).startswith("4 problems in the framework files:")
    assert any("first_schedule.1: priority must be true or false" in p for p in problems)


def test_a_second_taxonomy_is_rejected(tmp_path):
    path = variant(tmp_path, "harm-taxonomy", lambda raw: raw.update(id="harm-taxonomy-2"))
    assert "expected exactly one framework of kind 'taxonomy'" in load_error(path)


def test_thresholds_are_data_with_sources(lib):
    assert lib.threshold("licence.user_threshold") == 8_000_000
    assert lib.threshold("cpc.minimum_account_age") == 16
    entry = lib.threshold_entry("moderation.local_languages")
    assert entry.data["value"] == ["ms", "en", "zh", "ta"] and entry.confidence == "U"
    with pytest.raises(FrameworkError, match="no_such"):
        lib.threshold("no_such")
