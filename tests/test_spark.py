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
