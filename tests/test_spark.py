"""Spark on a real standalone cluster (a master and two workers on 127.0.0.1, see ``spark_engine`` in conftest):
the sample's metrics are identical to the in-process ones, figure for figure, and the partials of random packs are
equal in-process, in DuckDB and in Spark."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import SAMPLE
from packs import BASE_META
from riskkit.engines.packs import open_pack
from riskkit.metrics import compute
from riskkit.pack import pack_from_frames, validate_datapack
from test_engines import _duckdb, engine_partials
from test_metrics import packs

pytestmark = pytest.mark.spark


def test_sample_metrics_on_a_spark_cluster_equal_in_process(spark_engine, sample_pack, library):
    started = time.perf_counter()
    spark = spark_engine.con._session
    assert spark.sparkContext.master.startswith("spark://127.0.0.1:")
    assert spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() == 3  # the driver and two executors
    pack = open_pack(SAMPLE, library=library, engine=spark_engine)
    assert pack.report.totals == validate_datapack(SAMPLE, library=library).totals  # validated on the cluster
    assert pack.report.rows["actions.parquet"] == len(sample_pack.actions)
    on_spark = compute(pack, "2026-H1", library=library)
    here = compute(sample_pack, "2026-H1", library=library)
    pd.testing.assert_frame_equal(here.table, on_spark.table, check_exact=True)  # every figure, exactly
    assert len(on_spark.table) > 1000
    print(f"sample validated and computed on the cluster in {time.perf_counter() - started:.1f} s")


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(frames=packs())
def test_partials_are_equal_in_process_in_duckdb_and_in_spark(spark_engine, library, frames):
    import test_engines

    test_engines._LIB[:] = [library]
    meta = {**BASE_META, "as_of": "2031-01-01T00:00:00+08:00"}
    pack = pack_from_frames(frames, meta, library=library)
    here, in_spark = engine_partials(pack, spark_engine)
    _, in_duckdb = engine_partials(pack, _duckdb())
    for name in here:  # equal partials, one finaliser: equal metrics (the sample's table is compared above)
        assert here[name].equals(in_spark[name]), name
        assert in_duckdb[name].equals(in_spark[name]), name


def test_a_warehouse_pack_on_spark_maps_names_and_reads_wall_clock_times(spark_engine, tmp_path, library):
    """The tests' small pack with its actions as the platform keeps them: its own column names and codes, and
    wall-clock Malaysian times without a zone (Parquet TIMESTAMP_NTZ), read by Spark through `source:`."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    from packs import make_pack
    from riskkit.pack import load_datapack

    files = make_pack(tmp_path / "files")
    reference = compute(load_datapack(files, library=library), "2025-H2", library=library)
    actions = load_datapack(files, library=library).actions.astype({"action": "string", "category": "string"})
    for col in ("detected_at", "actioned_at"):
        actions[col] = actions[col].dt.tz_convert("Asia/Kuala_Lumpur").dt.tz_localize(None)
    actions["action"] = actions["action"].map({"remove": "TD", "suspend_account": "SU", "warn": "WN"})
    actions = actions.rename(columns={"action_id": "decision_id", "detected_at": "flagged_at", "action": "outcome"})
    lake = tmp_path / "lake"
    lake.mkdir()
    pq.write_table(pa.Table.from_pandas(actions, preserve_index=False), lake / "decisions.parquet")
    wh = tmp_path / "warehouse"
    wh.mkdir()
    for csv in files.glob("*.csv"):
        if csv.name != "actions.csv":
            (wh / csv.name).write_bytes(csv.read_bytes())
    meta = {**BASE_META, "timezone": "Asia/Kuala_Lumpur"}
    meta["source"] = {
        "backend": "pyspark",
        "tables": {
            "actions": {
                "parquet": str(lake / "decisions.parquet"),
                "columns": {"action_id": "decision_id", "detected_at": "flagged_at", "action": "outcome"},
                "values": {"action": {"TD": "remove", "SU": "suspend_account", "WN": "warn"}},
            }
        },
    }
    (wh / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    pack = open_pack(wh, library=library, engine=spark_engine)
    assert pack.report.ok, pack.report.format()
    assert pack.engine.tables["actions"].wall_clock["detected_at"] == "Asia/Kuala_Lumpur"  # read in the pack's zone
    pd.testing.assert_frame_equal(reference.table, compute(pack, "2025-H2", library=library).table)


def test_the_explorer_on_a_spark_cluster_equals_in_process(spark_engine, sample_pack, library):
    """The explorer's cubes computed on the cluster, and one drill-down page fetched from it, equal in-process."""
    import numpy as np

    from riskkit.explorer import ExplorerModel, Selection

    started = time.perf_counter()
    here = ExplorerModel(sample_pack, library=library)
    on_spark = ExplorerModel(open_pack(SAMPLE, library=library, engine=spark_engine, validate=False), library=library)
    assert on_spark.engine_rows is not None and on_spark.surfaces == here.surfaces
    for name in ("counts", "tta", "appeals", "reports"):
        assert np.array_equal(getattr(on_spark, name), getattr(here, name)), name
    assert int(on_spark.counts.sum()) == len(sample_pack.actions)
    sel = here.validate(Selection(cycle="2026-H1", categories=("ncii",), surfaces=("messages",)))
    assert on_spark.count(sel) == here.count(sel) > 20
    pd.testing.assert_frame_equal(
        on_spark.page(sel, 1, 20, "hours_to_action", False), here.page(sel, 1, 20, "hours_to_action", False)
    )
    print(f"explorer opened and paged on the cluster in {time.perf_counter() - started:.1f} s")
