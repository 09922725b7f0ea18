"""Every input (issue 19): datapack.yaml typed key by key, nothing read from outside the pack. Each case names the
key, file, row, column and value."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from packs import BASE_META, make_pack
from riskkit.pack import load_datapack, validate_datapack


def errors(report, kind=None):
    return [p for p in report.problems if p.severity == "error" and (kind is None or p.kind == kind)]


def yaml_problem(tmp_path, library, **patch):
    """The single datapack.yaml problem of BASE_META with ``patch`` applied."""
    meta = {**copy.deepcopy(BASE_META), **patch}
    report = validate_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    found = errors(report, "datapack_yaml")
    assert len(found) == 1, report.format()
    return found[0]


# ------------------------------------------------------------------------------ 1. datapack.yaml, key by key

PLATFORM = BASE_META["platform"]


@pytest.mark.parametrize(
    ("patch", "key", "value", "expected"),
    [
        ({"platform": {**PLATFORM, "licence_id": ["ASP(C)-1"]}}, "platform.licence_id", "['ASP(C)-1']", "string"),
        ({"platform": {**PLATFORM, "licence_id": 5}}, "platform.licence_id", "5", "string"),
        ({"as_of": 20260110}, "as_of", "20260110", "a time with an offset"),
        ({"as_of": "2026-01-10"}, "as_of", "2026-01-10", "ISO 8601 timestamp with offset"),
        ({"as_of": "9999-12-31T00:00:00+08:00"}, "as_of", "9999-12-31T00:00:00+08:00", "between 2000 and 2099"),
        ({"as_of": "0001-01-01T00:00:00Z"}, "as_of", "0001-01-01T00:00:00Z", "between 2000 and 2099"),
        ({"contract": True}, "contract", "True", "the data-contract version"),
        (
            {"high_risk_periods": [{"name": "GE16", "start": "", "end": "2025-11-30"}]},
            "high_risk_periods[1].start",
            "",
            "a valid date written YYYY-MM-DD",
        ),
        (
            {"high_risk_periods": [{"name": "GE16", "start": "2025-11-01", "end": "2025-11-30", "categories": 5}]},
            "high_risk_periods[1].categories",
            "5",
            "a valid list",
        ),
        (
            {"high_risk_periods": [{"name": "GE16", "start": "0001-01-01", "end": "2025-11-30"}]},
            "high_risk_periods[1].start",
            "0001-01-01",
            "a date between 2000-01-01 and 2099-12-31",
        ),
        (
            {"sla_overrides": {"onsa.report_ack_1h": {"hours": 0}}},
            "sla_overrides.onsa.report_ack_1h.hours",
            "0",
            "greater than 0",
        ),
        (
            {"sla_overrides": {"onsa.report_ack_1h": {"hours": -2}}},
            "sla_overrides.onsa.report_ack_1h.hours",
            "-2",
            "greater than 0",
        ),
        (
            {"sla_overrides": {"onsa.report_ack_1h": {"hours": 1e308}}},
            "sla_overrides.onsa.report_ack_1h.hours",
            "1e+308",
            "less than or equal to 8784",
        ),
        (
            {"sla_overrides": {"onsa.report_ack_1h": {"hours": float("nan")}}},
            "sla_overrides.onsa.report_ack_1h.hours",
            "nan",
            "finite number",
        ),
        (
            {"targets": {"target.report_ack_1h": {"value": float("inf"), "source": "policy"}}},
            "targets.target.report_ack_1h.value",
            "inf",
            "finite number",
        ),
        (
            {"risk_overrides": {"R-csam-live": {"likelihood": 6, "justification": "x", "by": "Aisyah"}}},
            "risk_overrides.R-csam-live.likelihood",  # the key as written, capitals included
            "6",
            "less than or equal to 5",
        ),
        (
            {"platform": {**PLATFORM, "name": "Evil\x1b[2J"}},
            "platform.name",
            "Evil\x1b[2J",
            "without control characters",
        ),
    ],
)
def test_datapack_yaml_every_key_typed(tmp_path, library, patch, key, value, expected):
    p = yaml_problem(tmp_path, library, **patch)
    assert (p.file, p.column, p.value) == ("datapack.yaml", key, value), p.format()
    assert expected in p.expected, p.format()
    assert "\x1b" not in p.format()


def test_a_union_key_gives_one_message_under_its_own_name(tmp_path, library):
    # as_of is a time or a text: pydantic's union member names ("as_of.datetime") never reach the user
    p = yaml_problem(tmp_path, library, as_of=["2026-01-10"])
    assert p.column == "as_of" and "." not in p.column


def test_duplicate_keys_and_aliases_in_datapack_yaml_are_refused(tmp_path, library):
    path = make_pack(tmp_path / "p")
    text = (path / "datapack.yaml").read_text()
    (path / "datapack.yaml").write_text(text + "as_of: '2026-02-01T00:00:00+08:00'\n")
    (p,) = errors(validate_datapack(path, library=library), "datapack_yaml")
    assert "duplicate key 'as_of' (first at line 6)" in p.detail and p.row == 7
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nplatform: {name: X, service_type: social_media}\n'
    (path / "datapack.yaml").write_text(bomb)
    (p,) = errors(validate_datapack(path, library=library), "datapack_yaml")
    assert "anchors and aliases" in p.detail


def test_the_readme_sla_override_example_keeps_the_public_report_working(tmp_path, library):
    from riskkit.evaluate import evaluate

    override = {"onsa.report_ack_1h": {"hours": 2, "source": "internal policy v3", "confidence": "A"}}
    pack = load_datapack(make_pack(tmp_path / "p", meta={**BASE_META, "sla_overrides": override}), library=library)
    result = evaluate(pack, "2025", library=library)  # raised DisclosureError on riskkit's own clock label
    measures = list(result["public.en.rates"].iloc[:, 0])
    assert "Acknowledge a user report within 1 hour (2 h)" in measures
    assert result["public.ms.rates"].shape == result["public.en.rates"].shape


def test_free_text_still_cannot_reach_the_public_report(library):
    from riskkit.reports.disclosure import Disclosure, DisclosureError, PublicTable

    disclosure = Disclosure.for_library(library, sla_overrides={"onsa.report_ack_1h": {"hours": 2}})
    frame = pd.DataFrame({"measure": ["Acknowledge a user report within 1 hour (3 h)"], "n": [50], "d": [100]})
    with pytest.raises(DisclosureError, match="not one of riskkit's labels"):
        PublicTable.from_rates(
            "t", frame, label_column="measure", rate_columns={"s": ("n", "d")}, disclosure=disclosure
        )


# ------------------------------------------------------------------------------ 2. nothing outside the pack


def test_default_located_files_that_link_outside_the_pack_are_refused(tmp_path, library):
    path = make_pack(tmp_path / "p")
    elsewhere = make_pack(tmp_path / "elsewhere")
    (path / "users.csv").unlink()
    (path / "users.csv").symlink_to(elsewhere / "users.csv")
    (path / "audits").mkdir()
    (path / "audits" / "child_safety.csv").symlink_to("/etc/passwd")
    (path / "capacity.csv").rename(path / "real-capacity.csv")
    (path / "capacity.csv").symlink_to("real-capacity.csv")  # a link inside the pack is fine
    report = validate_datapack(path, library=library)
    refused = {p.file: p for p in errors(report, "outside_pack")}
    assert set(refused) == {"users.csv", "audits/child_safety.csv"}
    assert "resolves outside the pack folder" in refused["users.csv"].detail
    assert "users.csv" not in report.rows and "capacity.csv" in report.rows


def test_a_datapack_yaml_or_audits_folder_linking_out_is_refused(tmp_path, library):
    path = make_pack(tmp_path / "p")
    other = make_pack(tmp_path / "other")
    (path / "datapack.yaml").unlink()
    (path / "datapack.yaml").symlink_to(other / "datapack.yaml")
    (path / "audits").symlink_to(tmp_path / "other", target_is_directory=True)
    report = validate_datapack(path, library=library)
    assert {p.file for p in errors(report, "outside_pack")} == {"datapack.yaml", "audits"}


@pytest.mark.parametrize(("rel", "reason"), [("../other/actions.csv", "'..'"), ("/etc/passwd", "absolute")])
def test_named_paths_outside_the_pack_name_the_key(tmp_path, library, rel, reason):
    make_pack(tmp_path / "other")
    path = make_pack(tmp_path / "p", meta={**BASE_META, "tables": {"actions": rel}})
    p = next(p for p in errors(validate_datapack(path, library=library)) if p.column == "tables.actions")
    assert p.value == rel and reason in p.detail
