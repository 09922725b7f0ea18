"""The framework library: packaged YAML frameworks, their schemas per kind, their queries, the integrity checks."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError
from riskkit.library import FRAMEWORKS_DIR, OBLIGATION_COLUMNS, Clock, load_library
from riskkit.library.models import COVERED_BY

PACKAGED_IDS = {
    "harm-taxonomy",
    "mcmc-code-2024",
    "onsa-2025",
    "rmc-2026",
    "cpc-2026",
    "dsa-sor",
    "sla-policy",
    "regulatory-thresholds",
    "dsa-transparency-layout",
    "dsa-transparency-mapping",
}
FILES = {
    "riskkit-targets": "targets.yaml",
    "compliance-status": "compliance-status.yaml",
    "riskkit-metrics": "metric-registry.yaml",
    "risk-methodology": "risk-methodology.yaml",
    "audit-methodology": "audit-methodology.yaml",
    "dsa-import": "dsa-import.yaml",
    "regulatory-thresholds": "thresholds.yaml",
    "checklist-child-safety": "checklist-child-safety.yaml",
    "harm-taxonomy": "harm_taxonomy.yaml",
    "mcmc-code-2024": "mcmc-code-2024.yaml",
    "onsa-2025": "onsa-2025.yaml",
    "rmc-2026": "rmc-2026.yaml",
    "cpc-2026": "cpc-2026.yaml",
    "dsa-sor": "dsa-sor.yaml",
    "sla-policy": "sla_policy.yaml",
    "dsa-transparency-layout": "dsa-transparency-layout.yaml",
    "dsa-transparency-mapping": "dsa-transparency-mapping.yaml",
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
    code = lib.sla_policy().clock("code2024.csam_report_24h")
    assert code.categories == schema.HARM_CATEGORIES and code.stop_actions is None  # default: all reported
    assert (code.reading, code.reading_default) == ("all_reported", True)
    assert code.reading_text() == "reading: all reported harmful content (default)"
    narrow = lib.sla_policy({"code2024.csam_report_24h": {"reading": "csam_only"}}).clock("code2024.csam_report_24h")
    assert narrow.categories == ("csam",) and narrow.reading == "csam_only" and narrow.overridden
    assert narrow.reading_text() == "reading: reports of CSAM only (chosen by the data pack)"


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
        ({"onsa.report_ack_1h": {"hours": 0}}, "sla_overrides.onsa.report_ack_1h.hours: must be a number of hours"),
        ({"onsa.report_ack_1h": {"hours": -3}}, "sla_overrides.onsa.report_ack_1h.hours: must be a number of hours"),
        ({"onsa.report_ack_1h": {"hours": "two"}}, "sla_overrides.onsa.report_ack_1h.hours: must be a number"),
        ({"onsa.report_ack_1h": {"hours": True}}, "sla_overrides.onsa.report_ack_1h.hours: must be a number"),
        ({"onsa.report_ack_1h": {"hours": 1e308}}, "above 0 and at most 8784, got 1e+308"),
        ({"onsa.report_ack_1h": {"hours": 2, "confidence": "X"}}, "confidence: must be one of A, S, U"),
        ({"onsa.report_ack_1h": 2}, "sla_overrides.onsa.report_ack_1h: must be a mapping"),
        ({"onsa.report_ack_1h": {"hour": 2}}, "unknown key 'hour'"),
    ],
)
def test_bad_overrides_raise_naming_the_clock(lib, overrides, expected):
    with pytest.raises(FrameworkError, match=re.escape(expected)):
        lib.sla_policy(overrides)


def test_override_problems_are_all_reported(lib):
    with pytest.raises(FrameworkError) as info:
        lib.sla_policy({"nope": {"hours": 1}, "onsa.report_ack_1h": {"hours": -1}})
    assert "unknown clock 'nope'" in str(info.value) and "sla_overrides.onsa.report_ack_1h.hours" in str(info.value)


def test_onsa_obligations_cover_the_provider_duties(lib):
    frame = lib.obligations(instrument_id="onsa-2025")
    assert list(frame.columns) == list(OBLIGATION_COLUMNS)
    refs = set(frame["ref_id"])
    assert {f"onsa.s{n}" for n in range(13, 24)} <= refs
    assert {"onsa.s25", "onsa.s28", "onsa.s29"} <= refs
    assert "onsa.s24" not in refs
    rows = frame.set_index("ref_id")
    assert rows.loc["onsa.s13", "section"] == "13" and rows.loc["onsa.s13", "confidence"] == "A"
    # December 2026 corrections: s.16/17 content secondary (Bill, MCMC 1 Jan 2026), s.19 only its heading read
    assert rows.loc["onsa.s16", "confidence"] == "S" and rows.loc["onsa.s17", "confidence"] == "S"
    assert rows.loc["onsa.s19", "confidence"] == "U"
    assert {"onsa.s26", "onsa.s27", "onsa.s30_5", "onsa.s37", "onsa.s61"} <= refs
    assert (rows.loc[["onsa.s26", "onsa.s27", "onsa.s30_5", "onsa.s37", "onsa.s61"], "confidence"] == "A").all()


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
    half = lib.get("mcmc-code-2024").find("code2024.accountability.half_yearly_report")
    assert [(p.start, p.end) for p in half.periods] == [("01-01", "06-30"), ("07-01", "12-31")]
    # audit duties: in the draft, survival into the final Code unverified
    audit = lib.get("mcmc-code-2024").find("code2024.accountability.sbd_audit")
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
        assert reached == {e.ref_id for e in lib.get(instrument).harms}, instrument
    onsa = lib.harm_mapping("onsa-2025")
    assert onsa["hate_speech"] == ["first_schedule.8"]
    assert onsa["bullying_harassment"] == ["first_schedule.5"]
    assert onsa["obscene_indecent"] == ["first_schedule.3", "first_schedule.4"]
    assert onsa["other"] == [] and onsa["manipulated_media"] == []
    with pytest.raises(FrameworkError, match="no mapping to 'rmc-2026'"):
        lib.harm_mapping("rmc-2026")


def test_onsa_schedule_priority_flags(lib):
    harms = lib.get("onsa-2025").harms
    assert [e.ref_id for e in harms] == [f"first_schedule.{n}" for n in range(1, 10)]
    assert [e.ref_id for e in harms if e.priority] == ["first_schedule.1", "first_schedule.2"]


def test_dsa_categories_v1_and_v2(lib):
    harms = lib.get("dsa-sor").harms
    v2 = [e.ref_id for e in harms if 2 in e.schema_versions]
    v1_only = {e.ref_id for e in harms if e.schema_versions == [1]}
    assert len(v2) == 16
    assert v1_only == {
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    }
    dsa = lib.get("dsa-sor")
    assert (
        dsa.find("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE").renamed_to == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    )
    assert all(e.label.ms for e in harms)


def test_framework_accessors_are_typed(lib):
    onsa = lib.get("onsa-2025")
    assert onsa.kind == "instrument" and onsa.name.ms.startswith("Akta")
    assert list(onsa.sections()) == ["harms", "obligations", "dates"]
    assert onsa.source and lib.paths["onsa-2025"].name == "onsa-2025.yaml"
    assert onsa.find("onsa.s18").summary.get("ms")
    assert onsa.find("onsa.s99") is None
    assert onsa.in_force.isoformat() == "2026-01-01"
    method = lib.risk_methodology
    assert method.controls.accuracy.higher_is_better is False and method.controls.accuracy.min_appeals == 10
    assert method.likelihood_rules.no_evidence.default == 3
    item = next(i for i in lib.checklist("child_safety").items if i.ref_id == "CS-AGE-02")
    assert (item.data_test.metric, item.data_test.operator, item.data_test.value) == ("under16_mau_last_month", "==", 0)
    assert lib.metric_registry.conventions.small_denominator == 30
    with pytest.raises(FrameworkError, match="no framework 'nope'"):
        lib.get("nope")


# --- extras: replace or add -------------------------------------------------------------------------------------


def test_extra_replaces_packaged_framework(tmp_path):
    def bump(raw):
        raw["version"] = "9.0.0"
        entry(raw, "clocks", "onsa.report_ack_1h")["hours"] = 3

    lib = load_library([variant(tmp_path, "sla-policy", bump)])
    assert lib.versions()["sla-policy"] == "9.0.0"
    assert lib.sla_policy().clock("onsa.report_ack_1h").hours == 3.0
    assert load_library().versions()["sla-policy"] == "1.2.0"
    assert lib.describe().set_index("id").loc["sla-policy", "origin"] == "custom"
    assert lib.describe().set_index("id").loc["onsa-2025", "origin"] == "packaged"


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


# --- schemas: every kind, every kind of mistake -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("id", "top level: field 'id': missing"),
        ("version", "top level: field 'version': missing"),
        ("name", "top level: field 'name': missing"),
        ("source", "top level: field 'source': missing"),
    ],
)
def test_missing_top_level_fields(tmp_path, field, expected):
    path = variant(tmp_path, "rmc-2026", lambda raw: raw.pop(field))
    message = load_error(path)
    assert f"{path}: {expected}" in message


def test_missing_kind_and_unknown_kind(tmp_path):
    path = variant(tmp_path, "rmc-2026", lambda raw: raw.pop("kind"))
    assert f"{path}: top level: field 'kind': unknown kind None" in load_error(path)
    path = variant(tmp_path, "rmc-2026", lambda raw: raw.update(kind="instrumnet"))
    message = load_error(path)
    assert "unknown kind 'instrumnet'; known kinds: taxonomy, instrument" in message


@pytest.mark.parametrize("lang", ["en", "ms"])
def test_missing_framework_name(tmp_path, lang):
    path = variant(tmp_path, "dsa-sor", lambda raw: raw["name"].pop(lang))
    assert f"{path}: top level: field 'name.{lang}': missing" in load_error(path)


def test_unquoted_version_is_rejected(tmp_path):
    path = variant(tmp_path, "dsa-sor", lambda raw: raw.update(version=1.0))
    assert "top level: field 'version': Input should be a valid string (got 1.0)" in load_error(path)


#: One broken copy of every kind: (framework id, mutation, what the message must say).
BROKEN = [
    (
        "riskkit-targets",
        lambda raw: entry(raw, "targets", "target.proactive_rate").pop("no_number"),
        "entry 'target.proactive_rate' (targets[9]): the entry itself: a target without a value must say why",
    ),
    (
        "riskkit-targets",
        lambda raw: entry(raw, "targets", "target.report_ack_1h").update(metric="sla.onsa.report_ack_2h"),
        "entry 'target.report_ack_1h': field 'metric': 'sla.onsa.report_ack_2h' is not a registered metric",
    ),
    (
        "compliance-status",
        lambda raw: raw["rules"].pop(),
        "top level: the file: the last rule must be `when: always`",
    ),
    (
        "compliance-status",
        lambda raw: entry(raw, "rules", "rule.met").update(status="compliant"),
        "entry 'rule.met' (rules[3]): field 'status': Input should be 'met', 'partly_met'",
    ),
    (
        "riskkit-metrics",
        lambda raw: entry(raw, "metrics", "proactive_rate").update(kind="rates"),
        "entry 'proactive_rate' (metrics[4]): field 'kind': Input should be 'count', 'rate', 'duration', 'value' or "
        "'flag' (got 'rates')",
    ),
    (
        "riskkit-metrics",
        lambda raw: raw["conventions"].update(significance_level=5),
        "top level: field 'conventions.significance_level': Input should be less than 1 (got 5)",
    ),
    (
        "risk-methodology",
        lambda raw: entry(raw, "controls", "proactive").update(thresholds=[0.3, 0.5, 0.7]),
        "entry 'proactive' (controls): field 'thresholds': List should have at least 4 items",
    ),
    (
        "risk-methodology",
        lambda raw: entry(raw, "matrix", "bands")["cells"][4].__setitem__(4, "medium"),
        "entry 'bands' (matrix[0]): the entry itself: cells are not monotone at likelihood 5, severity 5",
    ),
    (
        "risk-methodology",
        lambda raw: raw["harm_severity"].pop(),
        "top level: the file: harm_severity lacks other",
    ),
    (
        "audit-methodology",
        lambda raw: entry(raw, "findings", "data_contradiction").update(due_days="thirty"),
        "entry 'data_contradiction' (findings[2]): field 'due_days': Input should be a valid integer (got 'thirty')",
    ),
    (
        "dsa-import",
        lambda raw: entry(raw, "categories", "STATEMENT_CATEGORY_VIOLENCE").update(harm="violence"),
        "entry 'STATEMENT_CATEGORY_VIOLENCE' (categories[",
    ),
    (
        "regulatory-thresholds",
        lambda raw: entry(raw, "thresholds", "licence.user_threshold").update(effective_from="first of January"),
        "entry 'licence.user_threshold' (thresholds[0]): field 'effective_from': Input should be a valid date",
    ),
    (
        "checklist-child-safety",
        lambda raw: entry(raw, "items", "CS-AGE-02")["data_test"].update(operator="=>"),
        "entry 'CS-AGE-02' (items[",
    ),
    (
        "checklist-child-safety",
        lambda raw: entry(raw, "items", "CS-AGE-02").update(wieght=2),
        "field 'wieght': unknown field (value 2); check its spelling",
    ),
    (
        "checklist-child-safety",
        lambda raw: entry(raw, "items", "CS-AGE-02").update(mandatory="yes"),
        "field 'mandatory': Input should be a valid boolean (got 'yes')",
    ),
    (
        "harm-taxonomy",
        lambda raw: entry(raw, "harms", "csam").update(confidence="P"),
        "entry 'csam' (harms[0]): field 'confidence': Input should be 'A', 'S' or 'U' (got 'P')",
    ),
    (
        "sla-policy",
        lambda raw: entry(raw, "clocks", "onsa.report_ack_1h").update(hours=-1),
        "entry 'onsa.report_ack_1h' (clocks[1]): field 'hours': Input should be greater than 0 (got -1)",
    ),
    (
        "onsa-2025",
        lambda raw: entry(raw, "harms", "first_schedule.1").update(priority="yes"),
        "entry 'first_schedule.1' (harms[0]): field 'priority': Input should be a valid boolean (got 'yes')",
    ),
    (
        "mcmc-code-2024",
        lambda raw: entry(raw, "obligations", "code2024.user_safety.user_tools").update(covered_by=["vibes"]),
        "field 'covered_by.0': Input should be 'risk_assessment',",
    ),
    (
        "dsa-transparency-layout",
        lambda raw: entry(raw, "parts", "part.4")["columns"][5].update(type="counts"),
        "entry 'part.4' (parts[3]): field 'columns.5.type': Input should be 'count', 'hours', 'ratio', 'text' or "
        "'date' (got 'counts')",
    ),
    (
        "dsa-transparency-layout",
        lambda raw: entry(raw, "rows", "p7.ods").update(applicability="platform"),
        "top level: the file: p7.ods: unknown applicability 'platform'",
    ),
    (
        "dsa-transparency-layout",
        lambda raw: entry(raw, "parts", "part.6")["columns"][0].update(header="=Applicability"),
        "field 'columns.0.header': must not start with = + - @, tab or carriage return",
    ),
    (
        "dsa-transparency-mapping",
        lambda raw: entry(raw, "measures", "amar.total").update(available=True, method="Counted somehow."),
        "entry 'amar.total' (measures[",
    ),
    (
        "dsa-transparency-mapping",
        lambda raw: raw["actions"].pop(),
        "top level: the file: actions must map each action of the data contract once; missing no_violation",
    ),
    (
        "dsa-transparency-mapping",
        lambda raw: entry(raw, "harms", "harm.csam").update(keyword="KEYWORD_PHISHING"),
        "entry 'harm.csam': field 'keyword': 'KEYWORD_PHISHING' is not a sub-category of "
        "'STATEMENT_CATEGORY_PROTECTION_OF_MINORS'",
    ),
    (
        "dsa-transparency-mapping",
        lambda raw: entry(raw, "harms", "harm.hate_speech").update(category="STATEMENT_CATEGORY_ANIMAL_WELFARE"),
        "'STATEMENT_CATEGORY_ANIMAL_WELFARE' is not one of the dsa-sor categories the harm taxonomy maps",
    ),
    (
        "dsa-transparency-mapping",
        lambda raw: entry(raw, "actions", "action.restrict").update(restrictions=["own.restriction.visibility_hidden"]),
        "entry 'action.restrict': field 'restrictions': 'own.restriction.visibility_hidden' is not a column of parts "
        "5, 6",
    ),
]


@pytest.mark.parametrize(
    ("framework_id", "mutate", "expected"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)]
)
def test_a_broken_copy_of_each_kind_is_refused(tmp_path, framework_id, mutate, expected):
    path = variant(tmp_path, framework_id, mutate)
    message = load_error(path)
    assert str(path) in message and expected in message, message


def test_every_kind_has_a_broken_copy_test():
    kinds = {load_library().get(fw_id).kind for fw_id, _, _ in BROKEN}
    from riskkit.library.models import KINDS

    assert kinds == set(KINDS)


def test_json_schemas_cover_every_kind():
    from riskkit.library.models import KINDS, json_schemas

    schemas = json_schemas()
    assert set(schemas) == set(KINDS)
    assert schemas["metric_registry"]["$defs"]["MetricEntry"]["properties"]["kind"]["enum"] == [
        "count",
        "rate",
        "duration",
        "value",
        "flag",
    ]


def test_aliases_and_duplicate_keys_are_refused(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    bomb.write_text("\n".join(lines), encoding="utf-8")
    assert "anchors and aliases (&name / *name) are not allowed" in load_error(bomb)
    dup = tmp_path / "dup.yaml"
    dup.write_text("id: x\nid: y\n", encoding="utf-8")
    assert "duplicate key 'id' (first at line 1)" in load_error(dup)


# --- integrity checks across files ------------------------------------------------------------------------------


def test_duplicate_ref_id_within_a_section(tmp_path):
    def dup(raw):
        raw["obligations"].append(copy.deepcopy(entry(raw, "obligations", "onsa.s14")))

    path = variant(tmp_path, "onsa-2025", dup)
    message = load_error(path)
    assert f"{path}: entry 'onsa.s14' (obligations[" in message and "duplicate ref_id in the same section" in message


def test_missing_source_and_bad_confidence(tmp_path):
    def breakit(raw):
        del entry(raw, "obligations", "rmc.safe_design")["source"]
        entry(raw, "obligations", "rmc.ai_labelling")["confidence"] = "P"

    path = variant(tmp_path, "rmc-2026", breakit)
    message = load_error(path)
    assert "entry 'rmc.safe_design' (obligations[" in message and "field 'source': missing" in message
    assert (
        "entry 'rmc.ai_labelling' (obligations[" in message and "Input should be 'A', 'S' or 'U' (got 'P')" in message
    )


def test_missing_malay_label_and_english_summary(tmp_path):
    def breakit(raw):
        del entry(raw, "obligations", "cpc.parental_controls")["label"]["ms"]
        entry(raw, "obligations", "cpc.age_verification")["summary"]["en"] = ""

    path = variant(tmp_path, "cpc-2026", breakit)
    message = load_error(path)
    assert "entry 'cpc.parental_controls'" in message and "field 'label.ms': missing" in message
    assert "entry 'cpc.age_verification'" in message and "field 'summary.en': String should have at least 1" in message


def test_taxonomy_missing_harm_key(tmp_path):
    path = variant(tmp_path, "harm-taxonomy", lambda raw: raw["harms"].pop(1))
    assert "field 'harms': harm key 'ncii' of the data contract is missing" in load_error(path)


def test_taxonomy_key_not_in_schema(tmp_path):
    def extra_key(raw):
        new = copy.deepcopy(entry(raw, "harms", "other"))
        new["ref_id"] = "spam"
        raw["harms"].append(new)

    path = variant(tmp_path, "harm-taxonomy", extra_key)
    assert "entry 'spam' (harms[11]): field 'ref_id': Input should be 'csam'" in load_error(path)


def test_harm_key_without_mapping_for_an_instrument(tmp_path):
    def breakit(raw):
        del entry(raw, "harms", "csam")["maps_to"]["dsa-sor"]
        entry(raw, "harms", "hate_speech")["maps_to"]["onsa-2025"] = []

    path = variant(tmp_path, "harm-taxonomy", breakit)
    message = load_error(path)
    assert f"{path}: entry 'csam': field 'maps_to.dsa-sor': missing" in message
    assert f"{path}: entry 'hate_speech': field 'unmapped_reason.onsa-2025': maps to nothing" in message


def test_dangling_taxonomy_reference(tmp_path):
    path = variant(
        tmp_path, "harm-taxonomy", lambda raw: entry(raw, "harms", "csam")["maps_to"].update({"onsa-2025": ["x.1"]})
    )
    assert f"{path}: entry 'csam': field 'maps_to.onsa-2025': 'x.1' is not a harm entry" in load_error(path)


def test_removing_a_target_entry_breaks_the_taxonomy(tmp_path):
    path = variant(tmp_path, "onsa-2025", lambda raw: raw["harms"].pop(8))
    assert "'first_schedule.9' is not a harm entry of 'onsa-2025'" in load_error(path)


def test_dangling_implements(tmp_path):
    def breakit(raw):
        entry(raw, "obligations", "rmc.content_moderation")["implements"] = "onsa-2025:onsa.s99"
        entry(raw, "obligations", "rmc.safe_design")["implements"] = "nope:onsa.s13"

    path = variant(tmp_path, "rmc-2026", breakit)
    message = load_error(path)
    assert f"{path}: entry 'rmc.content_moderation': field 'implements': 'onsa-2025:onsa.s99'" in message
    assert "framework 'onsa-2025' has no entry 'onsa.s99'" in message
    assert "no framework 'nope' is loaded" in message


def test_removing_an_onsa_duty_breaks_the_codes(tmp_path):
    path = variant(
        tmp_path,
        "onsa-2025",
        lambda raw: raw.update(obligations=[o for o in raw["obligations"] if o["section"] != "18"]),
    )
    assert "entry 'cpc.parental_controls': field 'implements': 'onsa-2025:onsa.s18'" in load_error(path)


def test_sla_clock_schema_references(tmp_path):
    def breakit(raw):
        entry(raw, "clocks", "onsa.report_ack_1h")["table"] = "tickets"
        entry(raw, "clocks", "onsa.report_assess_12h")["stop"] = "assessed_on"
        entry(raw, "clocks", "code2024.csam_report_24h")["start"] = "category"

    path = variant(tmp_path, "sla-policy", breakit)
    message = load_error(path)
    assert "entry 'onsa.report_ack_1h': field 'table': 'tickets' is not a table of the data contract" in message
    assert "entry 'onsa.report_assess_12h': field 'stop': 'assessed_on' is not a timestamp column" in message
    assert "entry 'code2024.csam_report_24h': field 'start': 'category' is not a timestamp column" in message


def test_sla_clock_bad_applies_to_and_stop_actions(tmp_path):
    def breakit(raw):
        entry(raw, "clocks", "code2024.csam_report_24h")["applies_to"] = ["csam", "spam"]
        entry(raw, "clocks", "onsa.report_assess_12h")["stop_actions"] = ["remove"]
        entry(raw, "clocks", "onsa.priority_inaccessible_24h")["stop_actions"] = ["delete"]

    path = variant(tmp_path, "sla-policy", breakit)
    message = load_error(path)
    assert "entry 'code2024.csam_report_24h' (clocks[0]): field 'applies_to" in message and "(got 'spam')" in message
    assert "entry 'onsa.priority_inaccessible_24h' (clocks[3]): field 'stop_actions.0'" in message
    good = variant(
        tmp_path,
        "sla-policy",
        lambda raw: entry(raw, "clocks", "onsa.report_assess_12h").update(stop_actions=["remove"]),
    )
    assert "field 'stop_actions': table 'reports' has no 'action' column" in load_error(good)


def test_checklist_cross_references(tmp_path):
    def breakit(raw):
        item = entry(raw, "items", "CS-AGE-02")
        item["data_test"]["metric"] = "under16_users"
        item["references"]["cpc-2026"] = ["cpc.no_such_measure"]
        item["domain"] = "nowhere"

    path = variant(tmp_path, "checklist-child-safety", breakit)
    message = load_error(path)
    assert "entry 'CS-AGE-02': field 'data_test.metric': 'under16_users' is not a registered metric" in message
    assert "field 'references.cpc-2026': 'cpc.no_such_measure': framework 'cpc-2026' has no entry" in message
    assert "field 'domain': 'nowhere' is not a declared domain" in message


def test_risk_methodology_uses_registered_metrics_and_known_audits(tmp_path):
    def breakit(raw):
        entry(raw, "likelihood_indicators", "incidence")["metric"] = "actions_enforcd"
        entry(raw, "controls", "audit")["audits"]["privacy"] = "all"

    path = variant(tmp_path, "risk-methodology", breakit)
    message = load_error(path)
    assert "entry 'incidence': field 'metric': 'actions_enforcd' is not a registered metric" in message
    assert "entry 'audit': field 'audits.privacy': no checklist for audit 'privacy' is loaded" in message


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text('id: broken\nversion: "1.0.0"\nname: {en: Broken, ms: Rosak\nkind: instrument\n', encoding="utf-8")
    message = load_error(path)
    assert str(path) in message and "YAML error at line" in message


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
    assert any("entry 'first_schedule.1' (harms[0]): field 'priority'" in p for p in problems)


def test_a_second_taxonomy_is_rejected(tmp_path):
    path = variant(tmp_path, "harm-taxonomy", lambda raw: raw.update(id="harm-taxonomy-2"))
    assert "expected exactly one framework of kind 'taxonomy'" in load_error(path)


def test_thresholds_are_data_with_sources(lib):
    assert lib.threshold("licence.user_threshold") == 8_000_000
    assert lib.threshold("cpc.minimum_account_age") == 16
    entry = lib.threshold_entry("moderation.local_languages")
    assert entry.value == ["ms", "en", "zh", "ta"] and entry.confidence == "U"
    with pytest.raises(FrameworkError, match="no_such"):
        lib.threshold("no_such")


def test_cli_refuses_a_broken_framework_folder_with_exit_2(tmp_path, capsys):
    from riskkit.cli import main

    variant(tmp_path, "riskkit-metrics", lambda raw: entry(raw, "metrics", "proactive_rate").update(kind="rates"))
    code = main(["frameworks", "--frameworks", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "entry 'proactive_rate' (metrics[4]): field 'kind'" in err and "Traceback" not in err


def test_frameworks_and_docs_cite_public_sources_only():
    """No shipped file cites development notes or a path of a development machine."""
    root = Path(__file__).parents[1]
    files = [*(root / "src" / "riskkit").rglob("*.yaml"), *(root / "docs").glob("*.md"), root / "README.md"]
    pattern = re.compile(r"/work/|shared/research|research/[\w-]+\.md|research §|metrics-anchors|malaysia-regime\.md")
    offenders = [f"{p.relative_to(root)}: {m.group(0)}" for p in files for m in pattern.finditer(p.read_text())]
    assert len(files) > 20 and offenders == []
