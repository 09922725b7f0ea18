"""Engines: the partial aggregates computed in-process and in DuckDB are equal, so the metrics are identical; file
packs opened on an engine are validated by queries that report what the file checks report.

Spark, on a real standalone cluster, is in tests/test_spark.py.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from conftest import SAMPLE
from packs import BASE_META
from riskkit import engines, partials
from riskkit.cli import main
from riskkit.engines import inprocess
from riskkit.engines.core import Bins, Periods
from riskkit.engines.packs import open_pack, validate_pack
from riskkit.exceptions import EngineError, InvalidDataPack
from riskkit.metrics import compute
from riskkit.pack import pack_from_frames, validate_datapack
from test_metrics import H2, packs

CYCLES = ("2026-H1", "2025")


def assert_same_metrics(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.unavailable == b.unavailable


@pytest.fixture(scope="module")
def duck_sample(library):
    return open_pack(SAMPLE, library=library, engine="duckdb")


def test_sample_file_pack_on_duckdb_gives_identical_metrics(sample_pack, duck_sample, library):
    assert duck_sample.report.ok
    assert "actions" not in duck_sample.tables and duck_sample.has("actions")  # read in place by the engine
    assert set(duck_sample.tables) == {"users", "capacity", "feature_changes", "prevalence_samples", "age_assurance"}
    for cycle in CYCLES:
        assert_same_metrics(compute(sample_pack, cycle, library=library), compute(duck_sample, cycle, library=library))


def test_a_pack_in_memory_computed_on_duckdb(sample_pack, library):
    in_duckdb = compute(sample_pack, "2026-H1", library=library, engine="duckdb")
    assert_same_metrics(compute(sample_pack, "2026-H1", library=library), in_duckdb)


def test_engine_validation_of_the_sample_reads_the_same_rows(library, duck_sample):
    files = validate_datapack(SAMPLE, library=library)
    assert duck_sample.report.rows == files.rows
    assert duck_sample.report.totals == files.totals


# ------------------------------------------------------------------------------------------- property test

_DUCK: list = []


def _duckdb():
    if not _DUCK:
        _DUCK.append(engines.get("duckdb"))
    return _DUCK[0]


def engine_partials(pack, engine, cycle=H2):
    """(in-process partials, engine partials) of every spec of the pack."""
    from riskkit.cycles import parse

    lib = _LIB[0]
    conv = lib.metric_registry.conventions
    bins = Bins(conv.histogram_fine_days, conv.histogram_max_days)
    clocks = list(lib.sla_policy(pack.meta.sla_overrides).clocks)
    specs = partials.specs({k: list(v.columns) for k, v in pack.tables.items()}, clocks, pack.meta.cohort_column)
    periods = Periods(parse(cycle))
    return inprocess.partials(specs, pack.tables, periods, bins), engine.partials(pack, specs, periods, bins)


_LIB: list = []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packs())
def test_partials_are_equal_in_process_and_in_duckdb(library, frames):
    _LIB[:] = [library]
    meta = {**BASE_META, "as_of": "2031-01-01T00:00:00+08:00"}
    pack = pack_from_frames(frames, meta, library=library)
    here, there = engine_partials(pack, _duckdb())
    assert here.keys() == there.keys()
    for name in here:
        assert here[name].equals(there[name]), name
    assert_same_metrics(compute(pack, H2, library=library), compute(pack, H2, library=library, engine=_duckdb()))


# ------------------------------------------------------------------------------------------- validation pushed down


def _arrow(path: Path) -> pd.DataFrame:
    """A Parquet table as plain pandas columns (text as str, instants in UTC)."""
    table = pq.read_table(path)
    return table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema])).to_pandas()


def _plain(t: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_dictionary(t) else t


def _write(df: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


@pytest.fixture(scope="module")
def broken_pack(tmp_path_factory) -> Path:
    """The sample, cut to 3,000 actions, with errors of every kind the engine checks."""
    root = tmp_path_factory.mktemp("broken") / "pack"
    shutil.copytree(SAMPLE, root)
    actions = _arrow(SAMPLE / "actions.parquet").iloc[:3000].copy()
    ids = set(actions["action_id"])
    reports = _arrow(SAMPLE / "reports.parquet")
    reports = reports[reports["action_id"].isna() | reports["action_id"].isin(ids)].iloc[:2000].copy()
    appeals = _arrow(SAMPLE / "appeals.parquet")
    appeals = appeals[appeals["action_id"].isin(ids)].copy()
    actions.loc[[5, 6, 7], "action_id"] = actions.loc[4, "action_id"]  # a key four times
    actions.loc[[10, 11], "category"] = "spam"  # not a harm category
    actions.loc[12, "surface"] = "metaverse"  # not a declared surface
    actions.loc[13, "surface"] = None  # required
    actions.loc[14, "actioned_at"] = actions.loc[14, "detected_at"] - pd.Timedelta(hours=1)  # before detection
    actions.loc[15, "detected_at"] = pd.Timestamp("2027-01-01T00:00:00Z")  # after the as-of
    actions.loc[16, ["actioned_at", "action"]] = [pd.NaT, "no_violation"]  # an open item with a decision
    actions.loc[17, "action"] = None  # a decided item without its action
    appeals.iloc[[0, 1], appeals.columns.get_loc("action_id")] = ["NOPE-1", "NOPE-2"]  # dangling
    reports = reports.drop(columns=["outcome"])  # a required column missing
    actions["moderator_note"] = "internal"  # not in the contract: a warning, ignored
    _write(actions, root / "actions.parquet")
    _write(reports, root / "reports.parquet")
    _write(appeals, root / "appeals.parquet")
    return root


def _problems(report) -> Counter:
    return Counter((p.severity, p.kind, p.file, p.column, p.value) for p in report.problems)


def test_engine_validation_reports_what_the_file_checks_report(broken_pack, library):
    files = validate_datapack(broken_pack, library=library)
    engine = validate_pack(broken_pack, library=library, engine="duckdb")
    assert not files.ok and not engine.ok
    assert engine.totals == files.totals
    kinds = {k for _, k in files.totals}
    assert {"duplicate_key", "enum", "empty_value", "time_order", "future_timestamp", "dangling_reference"} <= kinds
    assert files.count("error", "open_item_outcome") == engine.count("error", "open_item_outcome") == 1
    (open_,) = engine.of("open_item_outcome")
    assert (open_.column, open_.value) == ("action", "no_violation") and open_.detail.startswith("action_id '")
    assert "actioned_at is empty" in open_.detail and "action empty while actioned_at is empty" in open_.expected
    assert "missing_column" in kinds and ("warning", "unknown_column") in files.totals
    assert _problems(engine) == _problems(files)
    # an engine row has no row number: its key stands in for it
    dup = engine.of("duplicate_key")[0]
    assert dup.row is None and dup.value and "rows have this key" in dup.detail
    late = engine.of("time_order")[0]
    assert late.detail.startswith("action_id '") and "detected_at is" in late.detail


def test_examples_are_capped_totals_are_exact(tmp_path, library):
    root = tmp_path / "pack"
    shutil.copytree(SAMPLE, root)
    actions = _arrow(SAMPLE / "actions.parquet")
    actions.loc[:499, "category"] = "spam"
    _write(actions, root / "actions.parquet")
    report = validate_pack(root, library=library, engine="duckdb")
    assert report.count("error", "enum") == 500
    assert len(report.of("enum")) == 200
    assert [p.detail for p in report.of("enum")] == sorted(p.detail for p in report.of("enum"))  # ordered by key


def test_wall_clock_parquet_timestamps_read_in_the_declared_zone(tmp_path, library, sample_pack):
    root = tmp_path / "pack"
    shutil.copytree(SAMPLE, root)
    actions = _arrow(SAMPLE / "actions.parquet")
    for col in ("detected_at", "actioned_at"):
        actions[col] = actions[col].dt.tz_convert("Asia/Kuala_Lumpur").dt.tz_localize(None)  # naive MYT
    _write(actions, root / "actions.parquet")
    pack = open_pack(root, library=library, engine="duckdb")
    assert_same_metrics(compute(sample_pack, "2026-H1", library=library), compute(pack, "2026-H1", library=library))
    meta = yaml.safe_load((root / "datapack.yaml").read_text())
    del meta["timezone"]
    (root / "datapack.yaml").write_text(yaml.safe_dump(meta))
    naive = validate_pack(root, library=library, engine="duckdb")
    assert naive.count("error", "naive_timestamp") == validate_datapack(root, library=library).count(
        "error", "naive_timestamp"
    )


def test_invalid_pack_on_an_engine_raises_with_every_problem(broken_pack, library):
    with pytest.raises(InvalidDataPack) as err:
        open_pack(broken_pack, library=library, engine="duckdb")
    assert err.value.report.count("error", "enum") == 3


# ------------------------------------------------------------------------------------------- errors and the CLI


def test_unknown_engine_is_a_clear_error(capsys):
    with pytest.raises(EngineError, match="unknown engine 'oracle'"):
        engines.get("oracle")
    assert main(["metrics", str(SAMPLE), "--cycle", "2026-H1", "--engine", "oracle"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err or "unknown engine" in err
    assert "Traceback" not in err


def test_unreachable_spark_master_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delenv("RISKKIT_SPARK_MASTER", raising=False)
    code = main(
        ["metrics", str(SAMPLE), "--cycle", "2026-H1", "--engine", "spark", "--spark-master", "spark://127.0.0.1:9"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Spark master at spark://127.0.0.1:9" in err and "Traceback" not in err
    monkeypatch.setenv("RISKKIT_SPARK_MASTER", "mesos://nowhere")
    assert main(["metrics", str(SAMPLE), "--cycle", "2026-H1", "--engine", "spark"]) == 2
    assert "is not a URL Spark knows" in capsys.readouterr().err


def test_cli_metrics_and_validate_on_duckdb(tmp_path, capsys, broken_pack):
    out = tmp_path / "m.csv"
    assert main(["metrics", str(SAMPLE), "--cycle", "2026-H1", "--engine", "duckdb", "--out", str(out)]) == 0
    assert main(["metrics", str(SAMPLE), "--cycle", "2026-H1", "--out", str(tmp_path / "ref.csv")]) == 0
    assert out.read_text() == (tmp_path / "ref.csv").read_text()
    assert main(["validate", str(SAMPLE), "--engine", "duckdb"]) == 0
    assert "valid — 0 error(s)" in capsys.readouterr().out
    assert main(["validate", str(broken_pack), "--engine", "duckdb"]) == 2
    printed = capsys.readouterr().out
    assert "ERROR duplicate_key" in printed and "actions.parquet, column action_id: value" in printed


# ------------------------------------------------------------------------------------------- a whole cycle


def test_a_whole_cycle_evaluated_on_duckdb_is_identical(sample_result, duck_sample, library):
    """Risk register, audits, MCMC and public tables: every table of the result, with the actions in the engine."""
    import json

    from riskkit.evaluate import evaluate

    on_duckdb = evaluate(duck_sample, "2026-H1", library=library)
    assert on_duckdb.tables.keys() == sample_result.tables.keys()
    for name, table in sample_result.tables.items():
        pd.testing.assert_frame_equal(table, on_duckdb.tables[name], obj=name)
    same = json.dumps(sample_result.scalars, sort_keys=True, default=str)
    assert json.dumps(on_duckdb.scalars, sort_keys=True, default=str) == same


def test_record_keeping_streams_from_the_engine(sample_pack, duck_sample, tmp_path):
    from riskkit.cycles import parse
    from riskkit.reports.exports import write_records

    cycle = parse("2026-H1")
    (tmp_path / "memory").mkdir()
    (tmp_path / "engine").mkdir()
    here = write_records(sample_pack, cycle, tmp_path / "memory")
    there = write_records(duck_sample, cycle, tmp_path / "engine")
    assert [p.name for p in here] == [p.name for p in there]
    for a, b in zip(here, there, strict=True):
        if a.suffix == ".csv":
            assert a.read_text() == b.read_text()  # same rows, same order (time, then id), same CSV rule
        else:
            x, y = pd.read_parquet(a), pd.read_parquet(b)
            pd.testing.assert_frame_equal(x.astype(str), y.astype(str))


def test_an_engine_pack_knows_where_its_data_starts(sample_pack, duck_sample):
    """Cycles before the data are refused on an engine as for files: the first instant is one engine query."""
    first = sample_pack.data_start()
    assert first == pd.Timestamp("2024-12-31 16:41:45", tz="UTC")  # 00:41:45 on 1 Jan 2025 in Kuala Lumpur
    assert duck_sample.data_start() == first
