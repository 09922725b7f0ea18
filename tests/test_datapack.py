"""Data-pack reading and validation: one broken pack per validation class, asserting file, row and column."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import riskkit
from packs import BASE_META, base_tables, make_pack, write_csv
from riskkit.cli import main
from riskkit.exceptions import InvalidDataPack
from riskkit.pack import TableNotAvailable, load_datapack, validate_datapack


def only(report, kind):
    """The kept problems of one kind, asserting there is at least one."""
    found = report.of(kind)
    assert found, f"expected a {kind!r} problem; got:\n{report.format()}"
    return found


def loc(problem):
    return (problem.file, problem.row, problem.column)


# ------------------------------------------------------------------------------------------- the valid baseline


def test_valid_pack_loads_typed_frames(tmp_path, library):
    pack = riskkit.load_datapack(make_pack(tmp_path / "p"), library=library)
    assert pack.report.ok and pack.report.errors == 0
    a = pack.actions
    assert list(a["action_id"]) == ["A1", "A2", "A3"]
    assert isinstance(a["category"].dtype, pd.CategoricalDtype)
    assert "csam" in a["category"].cat.categories and len(a["category"].cat.categories) == 11
    assert str(a["detected_at"].dt.tz) == "UTC"
    # 10:00 MYT is 02:00 UTC
    assert a.loc[0, "detected_at"] == pd.Timestamp("2025-07-01T02:00:00Z")
    assert pd.isna(a.loc[2, "actioned_at"])  # open item
    assert a["in_malaysia"].tolist() == [True, True, False]
    assert pd.isna(a.loc[2, "rationale"])
    users = pack.get("users")
    assert users["mau"].dtype == "Int64" and users["mau"].sum() == 8_400_000
    assert str(users["month"].dtype) == "period[M]"
    assert users.attrs["age_verified_unit"] == "share"
    cap = pack.get("capacity")
    assert cap.loc[0, "languages"] == ("ms", "en", "zh", "ta")
    assert pack.get("prevalence_samples")["views_violating"].tolist() == [2]


def test_optional_tables_absent_are_reported_not_failed(tmp_path, library):
    path = make_pack(tmp_path / "p", drop=("users", "capacity", "reports", "appeals"))
    pack = load_datapack(path, library=library)
    assert pack.report.ok
    assert set(pack.report.unavailable) == {"users", "capacity", "reports", "appeals", "age_assurance"}
    assert pack.get("users") is None
    assert pack.not_available("users") == "not available (no `users` table)"
    with pytest.raises(TableNotAvailable, match="no `users` table"):
        pack.require("users")
    infos = [p for p in pack.report.of("not_available") if p.file == "users"]
    assert "peak Malaysian users" in infos[0].detail


def test_bom_and_crlf_are_accepted(tmp_path, library):
    path = make_pack(tmp_path / "p")
    text = (path / "actions.csv").read_text(encoding="utf-8").replace("\r\n", "\n")
    (path / "actions.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    pack = load_datapack(path, library=library)
    assert list(pack.actions.columns[:2]) == ["action_id", "category"]
    assert pack.actions.loc[0, "action_id"] == "A1"


def test_unknown_column_is_a_warning_only(tmp_path, library):
    tables = base_tables()
    for row in tables["actions"]:
        row["moderator_note"] = "x"
    pack = load_datapack(make_pack(tmp_path / "p", tables), library=library)
    (w,) = only(pack.report, "unknown_column")
    assert w.severity == "warning" and loc(w) == ("actions.csv", 1, "moderator_note")
    assert "moderator_note" not in pack.actions.columns


def test_input_files_are_never_modified(tmp_path, library):
    tables = base_tables()
    tables["actions"][1]["category"] = "scam"  # make it invalid too
    path = make_pack(tmp_path / "p", tables)
    before = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in path.iterdir()}
    mtimes = {f.name: f.stat().st_mtime_ns for f in path.iterdir()}
    validate_datapack(path, library=library)
    assert {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in path.iterdir()} == before
    assert {f.name: f.stat().st_mtime_ns for f in path.iterdir()} == mtimes


# ------------------------------------------------------------------------------------------- one class per test


def test_missing_datapack_yaml(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "datapack.yaml").unlink()
    report = validate_datapack(path, library=library)
    (p,) = only(report, "missing_file")
    assert p.file == "datapack.yaml" and not report.ok


def test_datapack_yaml_syntax_error_names_line(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "datapack.yaml").write_text("platform:\n  name: X\n  service_type: [social_media\n")
    (p,) = only(validate_datapack(path, library=library), "datapack_yaml")
    assert p.file == "datapack.yaml" and p.row == 4 and "YAML error at line 4" in p.detail


def test_datapack_yaml_bad_values(tmp_path, library):
    meta = {**BASE_META, "platform": {"name": "", "service_type": "forum"}, "timezone": "Mars/Olympus"}
    meta["tables"] = {"actionz": "actions.csv"}
    report = validate_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    cols = {p.column: p for p in report.of("datapack_yaml")}
    assert set(cols) == {"platform.name", "platform.service_type", "timezone", "tables.actionz"}
    assert cols["platform.service_type"].value == "forum"
    assert "social_media" in cols["platform.service_type"].expected


@pytest.mark.parametrize(
    ("eu", "key", "expected"),
    [
        ("vlop", "eu", "a valid dictionary"),
        ({"provider_type": "vlopp"}, "eu.provider_type", "'intermediary', 'hosting', 'online_platform', 'vlop'"),
        ({"member_states": ["DE", "XX"]}, "eu.member_states[2]", "Input should be 'AT'"),
        ({"member_states": "DE"}, "eu.member_states", "all, or a list of EU Member State codes"),
        ({"member_states": ["GR", "EL"]}, "eu.member_states", "each Member State once"),
        ({"provider_name": ""}, "eu.provider_name", "at least 1 character"),
        ({"qualitative": {"summary": "x"}}, "eu.qualitative.summary", "an indicator id of the qualitative template"),
        ({"qualitative": {"governance": "x" * 5001}}, "eu.qualitative.governance", "at most 5000 characters"),
        ({"qualitative": {"governance": "  "}}, "eu.qualitative.governance", "a non-empty text"),
        ({"langauge": "en"}, "eu.langauge", "no such key: check its spelling"),
    ],
)
def test_datapack_yaml_eu_block_is_typed(tmp_path, library, eu, key, expected):
    report = validate_datapack(make_pack(tmp_path / "p", meta={**BASE_META, "eu": eu}), library=library)
    (p,) = only(report, "datapack_yaml")
    assert p.column == key and expected in p.expected, p.format()


def test_datapack_yaml_eu_block_is_read(tmp_path, library):
    eu = {"provider_type": "vlop", "member_states": ["SE", "GR", "AT"], "qualitative": {"governance": "\tAs is.  "}}
    pack = load_datapack(make_pack(tmp_path / "p", meta={**BASE_META, "eu": eu}), library=library)
    assert pack.meta.eu.provider_type == "vlop" and pack.meta.eu.member_states == ["AT", "EL", "SE"]
    assert pack.meta.eu.qualitative == {"governance": "\tAs is."}  # kept as written, trailing blanks dropped
    assert load_datapack(make_pack(tmp_path / "q"), library=library).meta.eu is None


def test_missing_actions_table(tmp_path, library):
    report = validate_datapack(make_pack(tmp_path / "p", drop=("actions", "appeals")), library=library)
    (p,) = only(report, "missing_table")
    assert "actions" in p.file and not report.ok


def test_table_named_in_yaml_but_missing(tmp_path, library):
    meta = {**BASE_META, "tables": {"reports": "exports/reports.csv"}}
    report = validate_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    (p,) = only(report, "missing_file")
    assert p.file == "exports/reports.csv" and "reports" in p.detail


def test_missing_required_column(tmp_path, library):
    tables = base_tables()
    for row in tables["actions"]:
        del row["surface"]
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    (p,) = only(report, "missing_column")
    assert loc(p) == ("actions.csv", 1, "surface")


def test_unparseable_values(tmp_path, library):
    tables = base_tables()
    tables["actions"][1]["detected_at"] = "2025-02-30T10:00:00+08:00"
    tables["actions"][2]["in_malaysia"] = "maybe"
    tables["users"][1]["mau"] = "lots"
    tables["users"][0]["month"] = "2025-13"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    found = {loc(p): p for p in report.of("unparseable")}
    assert set(found) == {
        ("actions.csv", 3, "detected_at"),
        ("actions.csv", 4, "in_malaysia"),
        ("users.csv", 3, "mau"),
        ("users.csv", 2, "month"),
    }
    assert found[("actions.csv", 3, "detected_at")].value == "2025-02-30T10:00:00+08:00"
    assert "ISO 8601" in found[("actions.csv", 3, "detected_at")].expected


def test_empty_required_cell(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["surface"] = ""
    (p,) = only(validate_datapack(make_pack(tmp_path / "p", tables), library=library), "empty_value")
    assert loc(p) == ("actions.csv", 2, "surface")


def test_enum_violations(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    tables["appeals"][0]["outcome"] = "REVERSED"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    found = {loc(p): p for p in report.of("enum")}
    assert set(found) == {("actions.csv", 2, "category"), ("appeals.csv", 2, "outcome")}
    assert found[("actions.csv", 2, "category")].value == "spam"
    assert "financial_scam" in found[("actions.csv", 2, "category")].expected


def test_duplicate_keys(tmp_path, library):
    tables = base_tables()
    tables["actions"][2]["action_id"] = "A1"
    tables["users"].append(dict(tables["users"][0]))
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    found = {loc(p): p for p in report.of("duplicate_key")}
    assert set(found) == {("actions.csv", 4, "action_id"), ("users.csv", 4, "month + age_band")}
    assert found[("actions.csv", 4, "action_id")].detail == "same key as row 2"


def test_dangling_references(tmp_path, library):
    tables = base_tables()
    tables["appeals"][0]["action_id"] = "A404"
    tables["reports"][1]["action_id"] = "A999"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    found = {loc(p): p.value for p in report.of("dangling_reference")}
    assert found == {("appeals.csv", 2, "action_id"): "A404", ("reports.csv", 3, "action_id"): "A999"}


def test_time_order(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["actioned_at"] = "2025-07-01T09:00:00+08:00"  # before detected 10:00
    tables["appeals"][0]["decided_at"] = "2025-08-04T10:00:00Z"  # before filed 08-05
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    found = {loc(p): p for p in report.of("time_order")}
    assert set(found) == {("actions.csv", 2, "actioned_at"), ("appeals.csv", 2, "decided_at")}
    assert found[("actions.csv", 2, "actioned_at")].detail == "detected_at is 2025-07-01T10:00:00+08:00"


def test_naive_timestamps_without_timezone(tmp_path, library):
    tables = base_tables()
    tables["actions"][1]["detected_at"] = "2025-08-01 10:00:00"
    (p,) = only(validate_datapack(make_pack(tmp_path / "p", tables), library=library), "naive_timestamp")
    assert loc(p) == ("actions.csv", 3, "detected_at") and p.value == "2025-08-01 10:00:00"


def test_naive_timestamps_with_declared_timezone_are_localised(tmp_path, library):
    tables = base_tables()
    tables["actions"][1]["detected_at"] = "2025-08-01 10:00:00"
    meta = {**BASE_META, "timezone": "Asia/Kuala_Lumpur"}
    pack = load_datapack(make_pack(tmp_path / "p", tables, meta=meta), library=library)
    assert pack.actions.loc[1, "detected_at"] == pd.Timestamp("2025-08-01T02:00:00Z")


def test_timestamps_after_as_of(tmp_path, library):
    tables = base_tables()
    tables["reports"][0]["resolved_at"] = "2026-02-01T00:00:00Z"
    (p,) = only(validate_datapack(make_pack(tmp_path / "p", tables), library=library), "future_timestamp")
    assert loc(p) == ("reports.csv", 2, "resolved_at")
    # the CLI/API as_of overrides datapack.yaml
    assert validate_datapack(make_pack(tmp_path / "q", tables), library=library, as_of="2026-06-01T00:00:00+08:00").ok


def test_negative_counts(tmp_path, library):
    tables = base_tables()
    tables["users"][0]["mau"] = "-5"
    tables["capacity"][0]["training_hours"] = "-1.5"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert {loc(p) for p in report.of("negative")} == {("users.csv", 2, "mau"), ("capacity.csv", 2, "training_hours")}


def test_violating_views_above_sampled(tmp_path, library):
    tables = base_tables()
    tables["prevalence_samples"][0]["views_violating"] = "30000"
    (p,) = only(validate_datapack(make_pack(tmp_path / "p", tables), library=library), "out_of_range")
    assert loc(p) == ("prevalence_samples.csv", 2, "views_violating")


def test_empty_table(tmp_path, library):
    path = make_pack(tmp_path / "p")
    write_csv(path / "appeals.csv", [], header=list(base_tables()["appeals"][0]))
    (p,) = only(validate_datapack(path, library=library), "empty_table")
    assert p.file == "appeals.csv"


def test_non_utf8_file(tmp_path, library):
    path = make_pack(tmp_path / "p")
    write_csv(path / "feature_changes.csv", base_tables()["feature_changes"], encoding="utf-8")
    data = (path / "feature_changes.csv").read_bytes().replace(b"Live streaming", b"Siaran langsung \xe9")
    (path / "feature_changes.csv").write_bytes(data)
    (p,) = only(validate_datapack(path, library=library), "encoding")
    assert p.file == "feature_changes.csv" and p.row == 2 and p.value == "e9"
    assert "UTF-8" in p.expected


def test_malformed_csv(tmp_path, library):
    path = make_pack(tmp_path / "p")
    (path / "capacity.csv").write_text("month,local_moderators_fte\n2025-07,1\n2025-08,1,extra\n")
    (p,) = only(validate_datapack(path, library=library), "malformed_file")
    assert (p.file, p.row) == ("capacity.csv", 3) and "Expected 2 fields" in p.detail


def test_all_problems_are_collected_not_the_first(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    tables["actions"][1]["action"] = "ban"
    tables["users"][0]["mau"] = "-1"
    tables["appeals"][0]["action_id"] = "nope"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert report.count("error", "enum") == 2
    assert report.count("error", "negative") == 1
    assert report.count("error", "dangling_reference") == 1
    assert report.errors == 4


def test_totals_are_exact_beyond_kept_examples(tmp_path, library):
    tables = base_tables()
    row = tables["actions"][0]
    tables["actions"] = [{**row, "action_id": f"A{i}", "category": "spam"} for i in range(500)]
    tables["appeals"][0]["action_id"] = "A1"
    tables["reports"][0]["action_id"] = "A2"
    report = validate_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert report.count("error", "enum") == 500
    assert len(report.of("enum")) == 200
    text = report.format(max_per_kind=3)
    assert "… and 497 more" in text


def test_declared_surfaces_are_enforced(tmp_path, library):
    meta = {**BASE_META, "surfaces": ["feed", "messages"]}
    report = validate_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    found = {loc(p): p.value for p in report.of("enum")}
    assert found == {("actions.csv", 4, "surface"): "comments", ("feature_changes.csv", 2, "surfaces"): "live;feed"}


def test_age_verified_count_unit(tmp_path, library):
    tables = base_tables()
    tables["users"][0]["age_verified"] = "4050000"  # half of 8.1M
    tables["users"][1]["age_verified"] = "400000"  # more than mau 300k
    meta = {**BASE_META, "age_verified_unit": "count"}
    report = validate_datapack(make_pack(tmp_path / "p", tables, meta=meta), library=library)
    (p,) = only(report, "out_of_range")
    assert loc(p) == ("users.csv", 3, "age_verified")
    tables["users"][1]["age_verified"] = "150000"
    pack = load_datapack(make_pack(tmp_path / "q", tables, meta=meta), library=library)
    assert pack.get("users")["age_verified"].tolist() == [0.5, 0.5]


# ------------------------------------------------------------------------------------------- Parquet


def _actions_frame(naive: bool = False) -> pd.DataFrame:
    df = pd.DataFrame(base_tables()["actions"])
    for col in ("detected_at", "actioned_at"):
        ts = pd.to_datetime(df[col].replace("", None), format="ISO8601", utc=True)
        df[col] = ts.dt.tz_localize(None) if naive else ts
    df["in_malaysia"] = df["in_malaysia"] == "true"
    df["views_before_action"] = [10, 20, 30]
    return df


def test_parquet_tables_with_native_types(tmp_path, library):
    path = make_pack(tmp_path / "p", drop=("actions",))
    pq.write_table(pa.Table.from_pandas(_actions_frame(), preserve_index=False), path / "actions.parquet")
    pack = load_datapack(path, library=library)
    assert pack.files["actions"].name == "actions.parquet"
    assert pack.actions["views_before_action"].tolist() == [10, 20, 30]
    assert pack.actions.loc[0, "detected_at"] == pd.Timestamp("2025-07-01T02:00:00Z")


def test_parquet_naive_timestamps_and_row_numbers(tmp_path, library):
    path = make_pack(tmp_path / "p", drop=("actions",))
    df = _actions_frame(naive=True)
    df.loc[1, "category"] = "spam"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path / "actions.parquet")
    report = validate_datapack(path, library=library)
    assert report.count("error", "naive_timestamp") == 5  # 3 detected + 2 non-empty actioned
    (e,) = only(report, "enum")
    assert loc(e) == ("actions.parquet", 2, "category")  # Parquet rows count from 1, no header


def test_both_csv_and_parquet_for_one_table_is_ambiguous(tmp_path, library):
    path = make_pack(tmp_path / "p")
    pq.write_table(pa.Table.from_pandas(_actions_frame(), preserve_index=False), path / "actions.parquet")
    (p,) = only(validate_datapack(path, library=library), "datapack_yaml")
    assert p.column == "tables.actions" and "both" in p.detail


# ------------------------------------------------------------------------------------------- the CLI


def test_cli_validate_exit_codes(tmp_path, capsys):
    good = make_pack(tmp_path / "good")
    assert main(["validate", str(good)]) == 0
    assert "valid — 0 error(s)" in capsys.readouterr().out
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    bad = make_pack(tmp_path / "bad", tables)
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "INVALID — 1 error(s)" in out
    assert "actions.csv, row 2, column category: value 'spam'" in out


def test_cli_summary_of_invalid_pack_prints_report_without_traceback(tmp_path, capsys):
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    assert main(["summary", str(make_pack(tmp_path / "bad", tables))]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "column category" in err


def test_cli_validate_missing_folder(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().out


def test_invalid_pack_raises_with_report(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    with pytest.raises(InvalidDataPack) as info:
        load_datapack(make_pack(tmp_path / "p", tables), library=library)
    assert info.value.report.count("error", "enum") == 1


def test_high_risk_periods_are_read(tmp_path, library):
    meta = {
        **BASE_META,
        "high_risk_periods": [
            {"name": "GE16", "start": "2025-11-01", "end": "2025-11-30", "categories": ["hate_speech"]},
        ],
    }
    pack = load_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    (period,) = pack.meta.high_risk_periods
    assert period.name == "GE16" and period.categories == ("hate_speech",)
    meta["high_risk_periods"][0]["categories"] = ["elections"]
    (path := tmp_path / "q").mkdir()
    make_pack(path, meta=meta)
    (p,) = only(validate_datapack(path, library=library), "datapack_yaml")
    assert p.column == "high_risk_periods[1].categories[1]" and p.value == "elections"


def test_yaml_fixture_roundtrip_is_plain():
    # guard: the test helper writes plain YAML the loader accepts (no python tags)
    assert "!!python" not in yaml.safe_dump(BASE_META)


def test_path_objects_and_strings_are_both_accepted(tmp_path, library):
    path = make_pack(tmp_path / "p")
    assert load_datapack(str(path), library=library).path == Path(str(path))


def test_sla_overrides_are_checked_against_the_policy(tmp_path, library):
    meta = {**BASE_META, "sla_overrides": {"onsa.report_ack_1h": {"hours": 2, "source": "internal"}}}
    pack = load_datapack(make_pack(tmp_path / "p", meta=meta), library=library)
    assert pack.meta.sla_overrides["onsa.report_ack_1h"]["hours"] == 2
    meta = {**BASE_META, "sla_overrides": {"onsa.ack_in_a_jiffy": {"hours": 2}}}
    (p,) = only(validate_datapack(make_pack(tmp_path / "q", meta=meta), library=library), "datapack_yaml")
    assert p.column == "sla_overrides" and "onsa.ack_in_a_jiffy" in p.value


def test_projection_reads_and_validates_only_named_columns(tmp_path, library):
    tables = base_tables()
    tables["actions"][0]["rationale"] = "x"
    tables["actions"][1]["views_before_action"] = "-3"  # invalid, but not read
    for row in tables["actions"]:
        row.setdefault("views_before_action", "")
    path = make_pack(tmp_path / "p", tables)
    assert not validate_datapack(path, library=library).ok
    pack = load_datapack(
        path, library=library, columns={"actions": ["action_id", "category", "detected_at", "actioned_at"]}
    )
    assert list(pack.actions.columns) == ["action_id", "category", "detected_at", "actioned_at"]
    assert pack.report.of("projection")[0].file == "actions"
    assert list(pack.get("reports").columns)[:2] == ["report_id", "received_at"]  # other tables whole
    with pytest.raises(riskkit.exceptions.ParameterError, match="not in the data contract: colour"):
        load_datapack(path, library=library, columns={"actions": ["colour"]})
