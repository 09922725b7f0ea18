"""Warehouse packs: datapack.yaml names a `source:` (here a DuckDB database) instead of files; a platform's own
column names and enum values are mapped to the contract's; broken tables get the file packs' messages."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from conftest import SAMPLE
from riskkit import schema
from riskkit.cli import main
from riskkit.engines.ibis_engine import _arrow
from riskkit.engines.packs import open_pack, validate_pack
from riskkit.exceptions import EngineError
from riskkit.metrics import compute
from riskkit.pack import validate_datapack

EVENT_TABLES = ("actions", "reports", "appeals")


def _typed_arrow(df: pd.DataFrame, name: str) -> pa.Table:
    """A validated frame as a warehouse would hold it: lists as ';'-joined text, months as YYYY-MM text."""
    table = schema.table(name)
    d = df.copy()
    for c in table.columns:
        if c.name in d and c.kind == "list":
            d[c.name] = d[c.name].map(";".join)
    arrow = _arrow(d, table)
    for c in table.columns:
        if c.name in d and c.kind == "list":
            arrow = arrow.append_column(c.name, pa.array(d[c.name], type=pa.string()))
    return arrow


def make_warehouse(
    root: Path, sample_pack, parquet_from: Path = SAMPLE, source_tables: dict | None = None, load=None
) -> Path:
    """A pack folder whose tables are in ``warehouse.duckdb``: the event tables from ``parquet_from``'s Parquet
    files, the others from the sample; audits stay files. ``load(con)`` may reshape the warehouse."""
    root.mkdir(parents=True)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    for name in EVENT_TABLES:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{parquet_from / f'{name}.parquet'}')")
    for name, df in sample_pack.tables.items():
        if name not in EVENT_TABLES:
            con.register("src", _typed_arrow(df, name))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM src")
            con.unregister("src")
    if load is not None:
        load(con)
    con.close()
    meta = yaml.safe_load((SAMPLE / "datapack.yaml").read_text())
    del meta["tables"]
    tables = source_tables or {name: {"table": name} for name in sample_pack.tables}
    meta["source"] = {"backend": "duckdb", "database": "warehouse.duckdb", "tables": tables}
    (root / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    shutil.copytree(SAMPLE / "audits", root / "audits")
    return root


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, sample_pack) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("wh") / "pack", sample_pack)


def test_the_sample_as_a_duckdb_warehouse_pack_gives_the_same_metrics(warehouse, sample_pack, library):
    pack = open_pack(warehouse, library=library)
    assert pack.engine.name == "duckdb" and set(pack.engine.tables) == {*EVENT_TABLES, "authority_requests"}
    assert pack.report.rows["actions (duckdb table actions)"] == len(sample_pack.actions)
    assert pack.report.totals == validate_datapack(SAMPLE, library=library).totals
    for cycle in ("2026-H1", "2025"):
        pd.testing.assert_frame_equal(
            compute(sample_pack, cycle, library=library).table, compute(pack, cycle, library=library).table
        )


# a platform's own schema: other column names, its own codes for harms, actions and the Malaysian market
HARM_CODES = {f"H{i:02d}": c for i, c in enumerate(schema.HARM_CATEGORIES)}
ACTION_CODES = {"TD": "remove", "RS": "restrict", "AR": "age_restrict", "LB": "label", "WN": "warn"}
ACTION_CODES |= {"SU": "suspend_account", "TM": "terminate_account", "NV": "no_violation"}


def _platform_schema(con) -> None:
    harm = " ".join(f"WHEN '{c}' THEN '{code}'" for code, c in HARM_CODES.items())
    act = " ".join(f"WHEN '{a}' THEN '{code}'" for code, a in ACTION_CODES.items())
    con.execute(f"""
        CREATE TABLE decisions AS SELECT
          action_id AS decision_id, CASE category {harm} END AS harm_code, surface AS placement,
          detected_at AS flagged_at, actioned_at AS decided_at, detection_source, decision_by,
          CASE action {act} END AS outcome_code, CASE WHEN in_malaysia THEN 'MY' ELSE 'ROW' END AS market,
          rationale, policy_ref, user_notified_at AS poster_told_at, content_id, involves_minor,
          views_before_action, reported_to_authority
        FROM actions""")
    con.execute("CREATE TABLE tickets AS SELECT report_id AS ticket, * EXCLUDE (report_id) FROM reports")
    con.execute("DROP TABLE actions")
    con.execute("DROP TABLE reports")


MAPPED = {
    "actions": {
        "table": "decisions",
        "columns": {
            "action_id": "decision_id",
            "category": "harm_code",
            "surface": "placement",
            "detected_at": "flagged_at",
            "actioned_at": "decided_at",
            "action": "outcome_code",
            "in_malaysia": "market",
            "user_notified_at": "poster_told_at",
        },
        "values": {"category": HARM_CODES, "action": ACTION_CODES, "in_malaysia": {"MY": True, "ROW": False}},
    },
    "reports": {"sql": "SELECT ticket AS report_id, * EXCLUDE (ticket) FROM tickets"},
}


@pytest.fixture(scope="module")
def mapped(tmp_path_factory, sample_pack) -> Path:
    tables = {name: {"table": name} for name in sample_pack.tables} | MAPPED
    return make_warehouse(
        tmp_path_factory.mktemp("mapped") / "pack", sample_pack, source_tables=tables, load=_platform_schema
    )


def test_a_mapped_warehouse_pack_validates_and_gives_the_same_metrics(mapped, sample_pack, library, capsys):
    assert main(["validate", str(mapped)]) == 0
    assert "valid — 0 error(s)" in capsys.readouterr().out
    pack = open_pack(mapped, library=library)
    pd.testing.assert_frame_equal(
        compute(sample_pack, "2026-H1", library=library).table, compute(pack, "2026-H1", library=library).table
    )


def test_an_unmapped_value_is_reported_like_a_bad_file_value(mapped, library, tmp_path, sample_pack):
    root = tmp_path / "pack"
    shutil.copytree(mapped, root)
    meta = yaml.safe_load((root / "datapack.yaml").read_text())
    del meta["source"]["tables"]["actions"]["values"]["category"]["H02"]  # financial_scam's code left unmapped
    (root / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    report = validate_pack(root, library=library)
    bad = report.of("enum")
    assert bad and {p.value for p in bad} == {"H02"} and {p.column for p in bad} == {"category"}
    assert bad[0].file == "actions (duckdb table decisions)" and bad[0].detail.startswith("action_id '")
    assert report.count("error", "enum") == int((sample_pack.actions["category"] == "financial_scam").sum())
    assert len(bad) == 200  # examples capped, total exact


def test_a_broken_warehouse_table_gets_the_file_packs_messages(tmp_path, sample_pack, library):
    files = tmp_path / "files"
    shutil.copytree(SAMPLE, files)
    actions = pd.read_parquet(SAMPLE / "actions.parquet")
    actions = actions.astype(
        {c: "string" for c in actions.columns if isinstance(actions[c].dtype, pd.CategoricalDtype)}
    )
    actions.loc[[3, 4], "action_id"] = actions.loc[2, "action_id"]
    actions.loc[10, "category"] = "spam"
    actions.loc[11, "actioned_at"] = actions.loc[11, "detected_at"] - pd.Timedelta(minutes=5)
    actions.to_parquet(files / "actions.parquet", index=False)
    wh = make_warehouse(tmp_path / "wh", sample_pack, parquet_from=files)
    file_report = validate_datapack(files, library=library)
    wh_report = validate_pack(wh, library=library)
    assert wh_report.totals == file_report.totals

    def seen(report):
        return Counter((p.severity, p.kind, p.column, p.value) for p in report.problems)

    assert seen(wh_report) == seen(file_report)
    errors = {p.file for p in wh_report.problems if p.severity == "error"}
    assert "actions (duckdb table actions)" in errors and all("(duckdb table " in f for f in errors)


def test_warehouse_errors_are_clear(tmp_path, sample_pack, library, monkeypatch, capsys):
    root = make_warehouse(tmp_path / "pack", sample_pack)
    meta = yaml.safe_load((root / "datapack.yaml").read_text())

    def with_source(**changes) -> Path:
        (root / "datapack.yaml").write_text(yaml.safe_dump({**meta, "source": {**meta["source"], **changes}}))
        return root

    with_source(tables={**meta["source"]["tables"], "actions": {"table": "no_such_table"}})
    report = validate_pack(root, library=library)
    assert report.of("datapack_yaml")[0].column == "source.tables.actions"
    assert "missing_table" in {k for _, k in report.totals}

    with_source(tables={**meta["source"]["tables"], "actions": {"table": "actions", "columns": {"action_id": "id"}}})
    assert (
        "a column of actions (duckdb table actions)"
        in validate_pack(root, library=library).of("datapack_yaml")[0].expected
    )

    with_source(backend="snowflake://analyst:hunter2@account/db/schema")
    problem = validate_pack(root, library=library).of("datapack_yaml")[0]
    assert "hunter2" not in problem.value and "environment" in problem.expected

    monkeypatch.delenv("RISKKIT_TEST_TOKEN", raising=False)
    with_source(backend="trino://analyst:${RISKKIT_TEST_TOKEN}@localhost:1/hive/default")
    with pytest.raises(EngineError, match="RISKKIT_TEST_TOKEN"):
        validate_pack(root, library=library)

    with_source(backend="oracle")
    assert validate_pack(root, library=library).of("datapack_yaml")[0].column == "source.backend"

    with_source(database="missing.duckdb")
    assert main(["validate", str(root)]) == 2
    err = capsys.readouterr().err
    assert "no DuckDB database at" in err and "Traceback" not in err

    (root / "datapack.yaml").write_text(yaml.safe_dump({**meta, "source": {**meta["source"], "tabels": {}}}))
    assert main(["validate", str(root)]) == 2
    assert "source.tabels" in capsys.readouterr().out


def test_the_dsa_export_refuses_a_warehouse_pack_clearly(warehouse, tmp_path, capsys):
    """Not on an engine yet: one clear line and exit 2, never 'the actions table is missing'."""
    assert (
        main(
            ["export", "dsa-transparency", "--data", str(warehouse), "--cycle", "2026-H1", "--out", str(tmp_path / "d")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "is a warehouse pack" in err and "does not run on an engine yet" in err and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_a_whole_cycle_on_warehouse_packs_is_identical(warehouse, mapped, sample_result, library):
    """Risk register, audits, register of obligations, MCMC and public tables from a warehouse, mapped or not."""
    from riskkit.evaluate import evaluate

    for folder in (warehouse, mapped):
        result = evaluate(open_pack(folder, library=library), "2026-H1", library=library)
        assert result.tables.keys() == sample_result.tables.keys()
        for name, table in sample_result.tables.items():
            if name != "inputs":  # provenance: files and their hashes here, the warehouse's tables there
                pd.testing.assert_frame_equal(table, result.tables[name], obj=f"{folder.parent.name}: {name}")
        inputs = result.tables["inputs"].set_index("table")
        assert inputs.loc["actions", "rows"] == sample_result.tables["inputs"].set_index("table").loc["actions", "rows"]
        assert inputs.loc["actions", "file"].startswith("actions (duckdb ") and pd.isna(inputs.loc["actions", "sha256"])
