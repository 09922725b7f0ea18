"""Every input (issue 19): datapack.yaml typed key by key, nothing read from outside the pack, columns and values
checked in one place, control characters printed escaped. Each case names the key, file, row, column and value."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from packs import BASE_META, base_tables, make_pack, write_csv
from riskkit.cli import main
from riskkit.exceptions import InvalidDataPack
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


# ------------------------------------------------------------------------------ 3. columns and values


def _edit_header(path: Path, table: str, old: str, new: str) -> None:
    file = path / f"{table}.csv"
    head, _, rest = file.read_text().partition("\n")
    file.write_text(head.replace(old, new, 1) + "\n" + rest)


@pytest.mark.parametrize(
    ("name", "detail"),
    [("category", "the same name as column 2"), ("Category", "apart from case or spaces"), (" category ", "apart")],
)
def test_a_repeated_column_is_an_error_naming_both(tmp_path, library, name, detail):
    path = make_pack(tmp_path / "p")
    _edit_header(path, "actions", "policy_ref", name)
    report = validate_datapack(path, library=library)
    (p,) = errors(report, "duplicate_column")
    assert (p.file, p.row, p.column) == ("actions.csv", 1, name)
    assert detail in p.detail and "column 11" in p.detail
    assert not report.ok


def test_a_repeated_parquet_column_is_an_error_not_a_reader_message(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "actions.csv").unlink()
    actions = pd.DataFrame(base_tables()["actions"])
    arrays = [pa.array(actions[c]) for c in actions.columns] + [pa.array(actions["category"])]
    pq.write_table(pa.table(arrays, names=[*actions.columns, "CATEGORY"]), path / "actions.parquet")
    (p,) = errors(validate_datapack(path, library=library), "duplicate_column")
    assert (p.file, p.column) == ("actions.parquet", "CATEGORY") and "column 2" in p.detail


def test_a_column_differing_only_in_case_is_named_in_the_missing_column_error(tmp_path, library):
    path = make_pack(tmp_path / "p")
    _edit_header(path, "actions", "policy_ref", "Policy_Ref")
    (p,) = errors(validate_datapack(path, library=library), "missing_column")
    assert p.column == "policy_ref" and "found 'Policy_Ref'" in p.detail


@pytest.mark.parametrize(
    ("column", "values", "shown"),
    [
        ("detected_at", [1_751_335_200, 1_754_013_600, 1_767_106_800], "a column of int64"),
        ("category", [1, 2, 3], "a column of int64"),
    ],
)
def test_parquet_columns_of_the_wrong_physical_type_get_one_clear_message(tmp_path, library, column, values, shown):
    path = make_pack(tmp_path / "p")
    (path / "actions.csv").unlink()
    pd.DataFrame(base_tables()["actions"]).assign(**{column: values}).to_parquet(path / "actions.parquet")
    report = validate_datapack(path, library=library)
    (p,) = errors(report, "wrong_type")
    assert (p.file, p.row, p.column, p.value) == ("actions.parquet", None, column, shown)
    assert errors(report) == [p]  # one message for the column, not one per row, and no traceback


def test_a_boolean_parquet_count_is_refused(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "users.csv").unlink()
    pd.DataFrame(base_tables()["users"]).assign(mau=[True, False]).to_parquet(path / "users.parquet")
    (p,) = errors(validate_datapack(path, library=library), "wrong_type")
    assert (p.column, p.value) == ("mau", "a column of bool")


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("capacity", "local_moderators_fte", "inf", "a finite number"),
        ("capacity", "training_hours", "-inf", "a finite number"),
        ("capacity", "training_hours", "1e308", "at most 9,007,199,254,740,992 (2^53)"),
        ("users", "mau", "1e308", "at most 9,007,199,254,740,992"),  # was a TypeError traceback
        ("users", "mau", str(2**53 + 2), "at most 9,007,199,254,740,992"),
        ("users", "mau", "nan", "a whole number >= 0"),
        ("users", "mau", "-1", "a whole number >= 0"),
        ("prevalence_samples", "views_sampled", "inf", "a finite number"),
    ],
)
def test_counts_and_measures_must_be_finite_exact_and_not_negative(tmp_path, library, table, column, value, expected):
    tables = base_tables()
    tables[table][0][column] = value
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    (p,) = errors(report)
    assert (p.file, p.row, p.column, p.value) == (f"{table}.csv", 2, column, value)
    assert expected in p.expected, p.format()


def test_parquet_nan_is_an_error_but_null_is_an_empty_cell(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "capacity.csv").unlink()
    rows = [base_tables()["capacity"][0], {**base_tables()["capacity"][0], "month": "2025-08"}]
    frame = pd.DataFrame(rows).astype({"training_hours": float, "wellbeing_hours": float})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    hours = pa.array([float("nan"), None], type=pa.float64())
    table = table.set_column(table.schema.get_field_index("training_hours"), "training_hours", hours)
    pq.write_table(table, path / "capacity.parquet")
    report = validate_datapack(path, library=library)
    by_row = {p.row: p for p in errors(report)}
    assert by_row[1].kind == "unparseable" and by_row[1].column == "training_hours" and "NaN" in by_row[1].expected
    assert by_row[2].kind == "empty_value"  # null in a required column: empty, as in a CSV


def test_an_infinite_measure_never_reaches_a_metric(tmp_path, library):
    tables = base_tables()
    tables["capacity"][0]["local_moderators_fte"] = "inf"
    with pytest.raises(InvalidDataPack) as info:
        load_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert info.value.report.count("error", "out_of_range") == 1


@pytest.mark.parametrize(
    ("table", "column", "value", "kind"),
    [
        ("actions", "detected_at", "1970-01-01T00:00:00Z", "too_early"),
        ("actions", "detected_at", "1999-12-31T23:59:00+08:00", "too_early"),
        ("actions", "actioned_at", "9999-01-01T00:00:00Z", "future_timestamp"),
        ("users", "month", "1990-01", "too_early"),
        ("users", "month", "9999-01", "future_timestamp"),
    ],
)
def test_timestamps_before_2000_or_after_the_as_of_are_flagged(tmp_path, library, table, column, value, kind):
    tables = base_tables()
    tables[table][0][column] = value
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    p = next(p for p in errors(report) if p.kind == kind)
    assert (p.file, p.row, p.column, p.value) == (f"{table}.csv", 2, column, value)


def test_old_content_times_are_a_warning_only(tmp_path, library):
    tables = base_tables()
    for row in tables["actions"]:
        row["content_posted_at"] = "1998-05-01T00:00:00Z"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert report.ok
    assert {p.severity for p in report.of("too_early")} == {"warning"} and report.count("warning", "too_early") == 3


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_riskkit_own_blank_questionnaire_validates(tmp_path, library, suffix, capsys):
    path = make_pack(tmp_path / "p")
    out = path / "audits" / f"child_safety{suffix}"
    assert main(["questionnaire", "--audit", "child_safety", "--cycle", "2025-H2", "--out", str(out)]) == 0
    report = validate_datapack(path, library=library)  # was a TypeError on the empty assessed_on
    assert report.ok, report.format()
    assert report.rows[f"audits/child_safety{suffix}"] == 30


def test_questionnaire_dates_are_checked(tmp_path, library):
    path = make_pack(tmp_path / "p")
    blank = dict.fromkeys(["maturity", "evidence", "owner", "notes", "assessed_by"], "")
    rows = [
        {"item_id": "CS-AGE-01", "status": "met", **blank, "assessed_on": "1999-01-01"},
        {"item_id": "CS-AGE-02", "status": "met", **blank, "assessed_on": "2030-01-01"},
        {"item_id": "CS-AGE-03", "status": "met", **blank, "assessed_on": "2025-12-01"},
    ]
    write_csv(path / "audits" / "child_safety.csv", rows)
    report = validate_datapack(path, library=library)
    found = {(p.kind, p.row) for p in errors(report)}
    assert found == {("too_early", 2), ("future_timestamp", 3)}, report.format()


def test_control_characters_in_data_and_file_names_are_printed_escaped(tmp_path, library, capsys):
    tables = base_tables()
    tables["actions"][0]["category"] = "\x1b[31mcsam"
    for row in tables["actions"]:
        row["note\x1b]0;owned\x07"] = "x"
    path = make_pack(tmp_path / "p", tables)
    write_csv(path / "audits" / "evil\x1b[2J.csv", [{"item_id": "X", "status": "met"}])
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "'\\x1b[31mcsam'" in out  # the value, escaped
    assert "note\\x1b]0;owned\\x07" in out  # the column name
    assert "audits/evil\\x1b[2J.csv" in out  # the file name


def test_cli_errors_are_printed_escaped(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "no\x1b[2Jpack")]) == 2
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "no\\x1b[2Jpack" in captured.out


def test_every_numeric_column_of_the_sample_is_within_the_limits(sample_pack):
    # guard for the limits themselves: the sample (realistic sizes) is far inside them
    for df in sample_pack.tables.values():
        for col in df.select_dtypes("number"):
            values = df[col].dropna().astype(float)
            assert np.isfinite(values).all() and (values.abs() <= 2**53).all()
