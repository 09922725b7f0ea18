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
            {"timezone": "Asia/" + "x" * 300},  # too long for a file name: OSError from the zone lookup
            "timezone",
            "Asia/" + "x" * 300,
            "an IANA timezone",
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
    assert "Acknowledge a user report within 2 hours (2 h)" in measures  # the label states the pack's period
    assert "Mengakui penerimaan laporan pengguna dalam tempoh 2 jam (2 h)" in list(result["public.ms.rates"].iloc[:, 0])
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
    assert report.rows[f"audits/child_safety{suffix}"] == len(library.checklist("child_safety").items) == 33


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


# ------------------------------------------------------------------------------ 4. the command line


def run_args(pack: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--data", str(pack), "--out", str(out), "--quiet", *extra]


@pytest.mark.parametrize("cycle", ["0000", "9999-H2", "1999", "2100"])
def test_cycles_outside_the_supported_years_are_refused(tmp_path, capsys, cycle):
    pack = make_pack(tmp_path / "p")
    out = tmp_path / "r"
    assert main(run_args(pack, out, "--cycle", cycle)) == 2  # `run --cycle 1999` wrote a public report, exit 0
    assert "outside the years riskkit supports (2000–2099)" in capsys.readouterr().err
    assert main(["metrics", str(pack), "--cycle", cycle]) == 2
    assert main(["cycle", cycle]) == 2  # `cycle 0000` was a traceback
    assert main(["questionnaire", "--audit", "child_safety", "--cycle", cycle, "--out", str(tmp_path / "q.csv")]) == 2
    assert not out.exists() and not (tmp_path / "q.csv").exists()


@pytest.mark.parametrize(
    ("cycle", "says"),
    [
        ("2010", "2010 ends on 31 Dec 2010, before the pack's data starts (1 Jul 2025)"),
        ("2031-H1", "2031-H1 starts on 1 Jan 2031 but the data is as of 10 Jan 2026"),
    ],
)
def test_cycles_outside_the_years_the_pack_covers_are_refused(tmp_path, capsys, cycle, says):
    pack = make_pack(tmp_path / "p")
    out = tmp_path / "r"
    assert main(run_args(pack, out, "--cycle", cycle, "--allow-incomplete")) == 2
    assert says in capsys.readouterr().err
    assert main(["metrics", str(pack), "--cycle", cycle]) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()


def _jan_to_mar_pack(root: Path) -> Path:
    """A pack extracted on 1 Apr 2026 whose actions all fall in January–March 2026."""
    tables = base_tables()
    for i, row in enumerate(tables["actions"]):
        row["detected_at"] = f"2026-0{i + 1}-05T10:00:00+08:00"
        row["actioned_at"] = f"2026-0{i + 1}-05T12:00:00+08:00" if row["actioned_at"] else ""
    return make_pack(root, tables, meta={**BASE_META, "as_of": "2026-04-01T09:00:00+08:00"})


def test_latest_never_picks_a_half_year_before_the_data(tmp_path, capsys):
    pack = _jan_to_mar_pack(tmp_path / "p")
    out = tmp_path / "r"
    assert main(run_args(pack, out, "--cycle", "latest")) == 2  # picked the empty 2025-H2 and succeeded
    err = capsys.readouterr().err
    assert "'latest' (2025-H2) ends on 31 Dec 2025, before the pack's data starts (5 Jan 2026)" in err
    assert "--cycle 2026-H1 --allow-incomplete" in err
    assert not out.exists()


@pytest.mark.parametrize("bad", ["yesterday", "2026-01-01T00:00:00", "0001-01-01T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_as_of_is_parsed_once_for_every_command(tmp_path, capsys, bad):
    pack = make_pack(tmp_path / "p")
    for argv in (["validate", str(pack)], ["summary", str(pack)], ["metrics", str(pack), "--cycle", "2025-H2"]):
        assert main([*argv, "--as-of", bad]) == 2, argv
        err = capsys.readouterr().err
        assert "argument --as-of" in err and "Traceback" not in err


@pytest.mark.parametrize(("option", "value"), [("--jobs", "0"), ("--jobs", "-3"), ("--timeout", "0"), ("--jobs", "x")])
def test_jobs_and_timeout_must_be_positive(tmp_path, capsys, option, value):
    out = tmp_path / "r"
    assert main(run_args(make_pack(tmp_path / "p"), out, "--cycle", "2025-H2", option, value)) == 2
    assert f"argument {option}" in capsys.readouterr().err and not out.exists()


def test_run_cycle_checks_jobs_and_timeout_too(tmp_path):
    from riskkit.exceptions import ParameterError
    from riskkit.runner import run_cycle

    pack = make_pack(tmp_path / "p")
    with pytest.raises(ParameterError, match="--jobs must be a whole number of at least 1, got 0"):
        run_cycle(pack, "2025-H2", out=tmp_path / "r", jobs=0, progress=False)
    with pytest.raises(ParameterError, match="--timeout must be"):
        run_cycle(pack, "2025-H2", out=tmp_path / "r", timeout=-5, progress=False)
    assert not (tmp_path / "r").exists()


@pytest.fixture
def nothing_may_run(monkeypatch):
    """Fail the test if the run gets as far as reading the pack."""
    import riskkit.runner

    def refuse(*args, **kwargs):
        raise AssertionError("the run started: --out should have been refused first")

    monkeypatch.setattr(riskkit.runner, "load_any", refuse)


def test_out_that_is_a_file_or_under_a_file_is_refused_before_anything_runs(tmp_path, capsys, nothing_may_run):
    pack = make_pack(tmp_path / "p")
    assert main(run_args(pack, pack / "actions.csv", "--cycle", "2025-H2")) == 2
    assert f"--out {pack / 'actions.csv'}: exists and is not a folder" in capsys.readouterr().err
    assert main(run_args(pack, pack / "actions.csv" / "reports", "--cycle", "2025-H2")) == 2
    assert "actions.csv is a file and not a folder" in capsys.readouterr().err


def test_out_that_cannot_be_written_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch, nothing_may_run):
    # a read-only mount cannot be made in CI (root bypasses chmod): the probe riskkit makes is refused instead,
    # exactly as a read-only file system refuses it
    import tempfile

    real = tempfile.mkdtemp
    locked = tmp_path / "locked"
    locked.mkdir()

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise OSError(30, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    assert main(run_args(make_pack(tmp_path / "p"), locked / "reports", "--cycle", "2025-H2")) == 2
    err = capsys.readouterr().err
    assert f"--out {locked / 'reports'}: cannot write in {locked} (Read-only file system)" in err
    assert list(locked.iterdir()) == []


def _no_partial_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "partial" in p.name or p.name.startswith("."))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "not a readable questionnaire"),
        (b"\x00\x01PK garbage", "has no item_id column"),
        (b"a,b\n1,2\n", "has no item_id"),
    ],
)
def test_questionnaire_from_previous_is_checked(tmp_path, capsys, content, says):
    previous = tmp_path / "previous.csv"
    previous.write_bytes(content)
    out = tmp_path / "out" / "cs.xlsx"
    argv = ["questionnaire", "--audit", "child_safety", "--cycle", "2025-H2", "--from-previous", str(previous)]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not out.exists()


def test_a_garbage_xlsx_from_previous_is_a_clear_error(tmp_path, capsys):
    previous = tmp_path / "previous.xlsx"
    previous.write_bytes(b"PK\x03\x04 this is not a workbook")
    argv = ["questionnaire", "--audit", "child_safety", "--cycle", "2025-H2", "--from-previous", str(previous)]
    assert main([*argv, "--out", str(tmp_path / "q.csv")]) == 2
    assert f"--from-previous {previous}: not a readable questionnaire" in capsys.readouterr().err


def test_questionnaire_out_is_checked_and_a_failed_write_leaves_nothing(tmp_path, capsys, monkeypatch):
    base = ["questionnaire", "--audit", "child_safety", "--cycle", "2025-H2", "--out"]
    (tmp_path / "file").write_text("x")
    assert main([*base, str(tmp_path / "file" / "q.csv")]) == 2
    assert "is a file and not a folder" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "q.txt")]) == 2
    import riskkit.audit

    def disk_full(q, path):
        Path(path).write_bytes(b"PK half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(riskkit.audit, "_write_xlsx", disk_full)
    assert main([*base, str(tmp_path / "q.xlsx")]) == 1
    err = capsys.readouterr().err
    assert f"could not write {tmp_path / 'q.xlsx'}: No space left on device; nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_import_dsa_inputs_get_clear_errors_and_leave_nothing(tmp_path, capsys):
    from dsa_fixtures import statement, write_dump

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    cases = [
        (empty, "empty.csv: empty file (no header row)"),
        (other, "other.csv: not a DSA statements-of-reasons file"),
    ]
    for path, says in cases:
        assert main(["import", "dsa", str(path), "--out", str(tmp_path / "pack")]) == 2
        assert says in capsys.readouterr().err
    assert main(["import", "dsa", str(write_dump(tmp_path / "d.csv", [statement(1)])), "--out", str(empty)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "empty.csv", "other.csv"]


def test_import_dsa_refuses_a_zip_bomb_before_inflating_it(tmp_path, capsys):
    import zipfile

    from dsa_fixtures import csv_text, statement

    bomb = tmp_path / "sor-global-2026-01-01-full.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("chunk.csv", csv_text([statement(1)]) + "\n" * (8 << 20))  # 8 MiB of line ends: ~8 KiB packed
    assert main(["import", "dsa", str(bomb), "--out", str(tmp_path / "pack")]) == 2
    err = capsys.readouterr().err
    assert "chunk.csv: would inflate from" in err and "more than 200 times its compressed size" in err
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as outer:
        outer.writestr("a.zip", _zip_of({"b.zip": _zip_of({"c.csv": csv_text([statement(1)])})}))
    assert main(["import", "dsa", str(nested), "--out", str(tmp_path / "pack")]) == 2
    assert "nested.zip/a.zip/b.zip: zips nested deeper than a dump's zip of zips" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nested.zip", bomb.name]


def _zip_of(members: dict[str, str | bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_in_memory_frames_keep_their_types(library):
    """pack_from_frames goes through the same column checks: typed frames (periods, integers) are accepted."""
    from riskkit.pack import pack_from_frames

    frames = {name: pd.DataFrame(rows) for name, rows in base_tables().items()}
    frames["users"]["month"] = pd.PeriodIndex(frames["users"]["month"], freq="M")
    frames["users"]["mau"] = frames["users"]["mau"].astype("int64")
    pack = pack_from_frames(frames, BASE_META, library=library)
    assert pack.get("users")["mau"].tolist() == [8_100_000, 300_000]
    frames["users"]["mau"] = [True, False]
    with pytest.raises(InvalidDataPack) as info:
        pack_from_frames(frames, BASE_META, library=library)
    (p,) = info.value.report.of("wrong_type")
    assert (p.file, p.column, p.value) == ("users (in memory)", "mau", "a column of bool")
