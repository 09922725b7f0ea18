"""Benchmark: metrics where the data lives — the DuckDB engine over a partitioned Parquet lake, against the project's
hand-written DuckDB reference SQL, with the riskkit process's peak memory; Spark against DuckDB; and the memory of the
in-process path per action.

1. Generates (or reuses) a pack with N actions (``riskkit sample``), then rewrites its event tables as a Parquet lake
   partitioned by month (``lake/actions/month=2025-07/…``) and writes two warehouse packs over it (``source:`` with
   ``parquet:`` tables): one on DuckDB, one on Spark (local[*], both cores).
2. Runs each variant ``--repeat`` times, each in a fresh process, sampling the RSS of its whole process tree
   (benchmarks/measure.py; a Spark run's JVM is in its tree):
   * ``reference``: the hand-written DuckDB SQL of bench_metrics.py over the lake (core metrics only);
   * ``duckdb metrics``: riskkit on the DuckDB engine, every registered metric (open without validation + compute);
   * ``duckdb end to end``: ``riskkit metrics LAKE --cycle C --out …`` (validation pushed down, then metrics);
   * ``spark metrics``: as ``duckdb metrics`` on Spark local[*];
   * ``spark cluster metrics`` (``--spark-cluster``): the same on a Spark standalone cluster started for the run —
     a master and two workers (1 core, 3 GiB each) on 127.0.0.1, as in the tests (``tests/spark_cluster.py``);
   * ``in-process``: ``riskkit metrics PACK --cycle C`` reading the files into pandas (the default path), at N and
     at N/5 to get the memory per action and the largest half-year it handles in 24 GiB.
3. Checks that the tables are identical (DuckDB, Spark, in-process) and prints medians and ratios.

    python benchmarks/bench_engines.py --actions 10000000 --repeat 3 [--pack DIR] [--no-spark] [--no-inprocess]
        [--spark-cluster]

Targets (issue 17): DuckDB metrics <= 1.2x the reference SQL; riskkit peak RSS <= 1.5 GB, not growing with rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_metrics import reference_code
from measure import measure

BIN = Path(sys.executable).parent
CYCLE = "2025-H2"
EVENT = {"actions": "detected_at", "reports": "received_at", "appeals": "filed_at"}

RUN_REFERENCE = r"""
import json, sys, time
t0 = time.perf_counter()
import duckdb
lake = sys.argv[1]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
files = {k: f"{lake}/{k}/**/*.parquet" for k in ("actions", "reports", "appeals")}
main = con.execute(SQL.format(**files)).fetchall()
reports = con.execute(RSQL.format(**files)).fetchall()
appeals = con.execute(ASQL.format(**files)).fetchall()
s22 = con.execute(S22SQL.format(**files)).fetchall()
print(json.dumps({"wall": time.perf_counter() - t0, "groups": len(main)}))
"""

RUN_RISKKIT = r"""
import json, sys, time
t0 = time.perf_counter()
from riskkit.library import load_library
from riskkit.engines.packs import open_pack
from riskkit.metrics import compute
lib = load_library()
t1 = time.perf_counter()
pack = open_pack(sys.argv[1], library=lib, validate=False)
t2 = time.perf_counter()
m = compute(pack, sys.argv[2], library=lib)
t3 = time.perf_counter()
m.table.to_csv(sys.argv[3], index=False)
print(json.dumps({"wall": t3 - t0, "import": t1 - t0, "open": t2 - t1, "compute": t3 - t2}))
"""


IDS = ("action_id", "report_id", "appeal_id")


def partition(pack: Path, lake: Path, copies: int = 1) -> None:
    """The pack's event tables as Parquet datasets partitioned by month (Malaysian time) of their cohort column,
    streamed batch by batch; ``copies`` > 1 repeats the pack with its ids prefixed (r1-, r2-, …) to reach sizes
    the generator does not make (it stops at 50 M actions)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    for name, column in EVENT.items():
        source = pq.ParquetFile(pack / f"{name}.parquet")
        fields = [pa.field(f.name, pa.string()) if copies > 1 and f.name in IDS else f for f in source.schema_arrow]
        schema = pa.schema([*fields, pa.field("month", pa.string())])

        def batches(source=source, column=column, schema=schema):
            for copy in range(copies):
                prefix = pa.scalar(f"r{copy + 1}-", type=pa.string())
                for batch in source.iter_batches(batch_size=1_000_000):
                    local = batch.column(column).cast(pa.timestamp("us", tz="Asia/Kuala_Lumpur"))
                    cols = list(batch.columns)
                    for i, field in enumerate(batch.schema):
                        if copies > 1 and field.name in IDS:
                            text = cols[i].cast(pa.string())
                            cols[i] = pc.binary_join_element_wise(prefix, text, pa.scalar("", pa.string()))
                    cols.append(pc.strftime(local, format="%Y-%m"))
                    yield pa.RecordBatch.from_arrays(cols, schema=schema)

        ds.write_dataset(
            pa.RecordBatchReader.from_batches(schema, batches()),
            lake / name,
            format="parquet",
            partitioning=ds.partitioning(pa.schema([("month", pa.string())]), flavor="hive"),
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_file=2_000_000,
        )


def lake_pack(pack: Path, lake: Path, folder: Path, backend: str) -> Path:
    """A warehouse pack over the lake: event tables ``parquet:`` folders, small tables files beside datapack.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = yaml.safe_load((pack / "datapack.yaml").read_text())
    meta.pop("tables", None)
    meta.pop("audits", None)
    meta["source"] = {"backend": backend, "tables": {name: {"parquet": str(lake / name)} for name in EVENT}}
    for file in pack.iterdir():
        if file.is_file() and file.suffix == ".csv":
            shutil.copy(file, folder / file.name)
    (folder / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return folder


#: riskkit on a standalone cluster: the driver's session on the cluster first (loopback addresses, executors sized
#: for the workers), then the same measurement as RUN_RISKKIT (whose warehouse pack then finds that session).
CLUSTER_SESSION = r"""
import json, os, sys
from riskkit.engines.ibis_engine import IbisEngine
os.environ["RISKKIT_SPARK_MASTER"] = sys.argv.pop(4)
conf = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.executor.memory": "2g"}
IbisEngine.spark(os.environ["RISKKIT_SPARK_MASTER"], **conf)
"""


def spark_on_cluster(on_spark: Path, tables: dict, work: Path, repeat: int, record) -> None:
    """``spark cluster metrics``: ``repeat`` fresh driver processes on one standalone cluster of two workers."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from spark_cluster import standalone_cluster

    with standalone_cluster(work / "spark-cluster", workers=2, memory="3g") as cluster:
        cluster.wait_for_workers()
        for _ in range(repeat):
            r, wall, rss = run_python(
                CLUSTER_SESSION + RUN_RISKKIT, str(on_spark), CYCLE, str(tables["spark-cluster"]), cluster.url
            )
            record("spark cluster metrics", r, wall, rss)


def metrics_cli(pack: Path, out: Path) -> list[str]:
    """``riskkit metrics`` on ``pack`` for the benchmark's cycle, its table written to ``out``."""
    return [str(BIN / "riskkit"), "metrics", str(pack), "--cycle", CYCLE, "--out", str(out), "--overwrite"]


def _json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def run_python(code: str, *args: str) -> tuple[dict, float, float]:
    """(its JSON, wall, peak RSS of the process tree in MiB) of a fresh Python process."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    out = Path(fh.name).with_suffix(".out")
    started = time.perf_counter()
    m = measure(["bash", "-c", f'"{sys.executable}" "{fh.name}" "$@" > "{out}"', "bench", *args])
    del started
    result = _json(out.read_text())
    Path(fh.name).unlink()
    out.unlink()
    return result, m.seconds, m.peak_tree_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pack", type=Path, default=None, help="reuse a generated pack folder")
    parser.add_argument("--work", type=Path, default=None, help="folder for the lake (default: a temporary one)")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-inprocess", action="store_true")
    parser.add_argument("--spark-cluster", action="store_true", help="also on a Spark standalone cluster (2 workers)")
    parser.add_argument(
        "--copies", type=int, default=1, help="repeat the pack this many times in the lake (ids prefixed): N x copies"
    )
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="riskkit-bench-engines-")
    work = args.work or Path(tmp.name)
    pack = args.pack or work / "pack"
    if not (pack / "datapack.yaml").exists():
        from riskkit.library import load_library
        from riskkit.sample import generate

        print(f"generating {args.actions:,} actions into {pack} …", flush=True)
        generate(pack, actions=args.actions, library=load_library())
    lake = work / "lake"
    if not (lake / "actions").is_dir():
        t = time.perf_counter()
        partition(pack, lake, args.copies)
        print(f"partitioned lake written in {time.perf_counter() - t:.1f} s: {lake}", flush=True)
    on_duckdb = lake_pack(pack, lake, work / "lake-duckdb", "duckdb")
    on_spark = lake_pack(pack, lake, work / "lake-spark", "pyspark")
    reference = reference_code() + RUN_REFERENCE
    runs: dict[str, list[tuple[float, float, dict]]] = {}
    tables = {k: work / f"metrics-{k}.csv" for k in ("duckdb", "spark", "spark-cluster", "inprocess")}
    for stale in tables.values():
        stale.unlink(missing_ok=True)

    def record(name: str, result: dict, wall: float, rss: float) -> None:
        runs.setdefault(name, []).append((wall, rss, result))
        print(f"  {name:<22} wall {wall:7.2f} s   peak RSS {rss:7.0f} MiB", flush=True)

    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat}", flush=True)
        r, wall, rss = run_python(reference, str(lake))
        record("reference SQL", r, wall, rss)
        r, wall, rss = run_python(RUN_RISKKIT, str(on_duckdb), CYCLE, str(tables["duckdb"]))
        record("duckdb metrics", r, wall, rss)
        m = measure(metrics_cli(on_duckdb, work / "e2e.csv"))
        record("duckdb end to end", {}, m.seconds, m.peak_tree_mib)
        if not args.no_spark:
            r, wall, rss = run_python(RUN_RISKKIT, str(on_spark), CYCLE, str(tables["spark"]))
            record("spark metrics", r, wall, rss)
    if args.spark_cluster:
        spark_on_cluster(on_spark, tables, work, args.repeat, record)
    if not args.no_inprocess:
        for _ in range(args.repeat):
            m = measure(metrics_cli(pack, tables["inprocess"]))
            record("in-process", {}, m.seconds, m.peak_tree_mib)
        small = work / "pack-small"
        if not (small / "datapack.yaml").exists():
            from riskkit.library import load_library
            from riskkit.sample import generate

            generate(small, actions=args.actions // 5, library=load_library())
        for _ in range(args.repeat):
            m = measure(metrics_cli(small, work / "s.csv"))
            record("in-process at N/5", {}, m.seconds, m.peak_tree_mib)

    def med(name: str, i: int) -> float:
        return statistics.median(r[i] for r in runs[name])

    print()
    total = args.actions * args.copies
    print(f"{total:,} actions (cycle {CYCLE}); medians of {args.repeat} fresh processes; lake {lake}")
    print(f"{'variant':<22} {'wall s':>8} {'peak RSS MiB':>13}")
    for name in runs:
        print(f"{name:<22} {med(name, 0):8.2f} {med(name, 1):13.0f}")
    ref = med("reference SQL", 0)
    print(f"duckdb metrics / reference SQL, wall:      {med('duckdb metrics', 0) / ref:.2f}x (target <= 1.2x)")
    print(f"duckdb end to end (validated) / reference: {med('duckdb end to end', 0) / ref:.2f}x")
    print(
        f"duckdb peak RSS: metrics {med('duckdb metrics', 1):.0f} MiB, end to end {med('duckdb end to end', 1):.0f} MiB (target <= 1536)"
    )
    for spark in ("spark metrics", "spark cluster metrics"):
        if spark in runs:
            print(f"{spark} / duckdb metrics, wall: {med(spark, 0) / med('duckdb metrics', 0):.2f}x")
    if "in-process" in runs:
        per = (med("in-process", 1) - med("in-process at N/5", 1)) * 2**20 / (args.actions - args.actions // 5)
        base = med("in-process", 1) * 2**20 - per * args.actions
        largest = (24 * 2**30 - base) / per
        print(
            f"in-process: {per:.0f} bytes per action (peak RSS slope between N/5 and N); a 24 GiB machine holds "
            f"about {largest / 1e6:.0f} M actions (with proportionate reports and appeals)"
        )
    same = [k for k, f in tables.items() if f.exists()]
    texts = {k: tables[k].read_text() for k in same}
    identical = len(set(texts.values())) <= 1
    print("metrics tables identical:", ", ".join(same), "->", "yes" if identical else "NO")
    detail = {name: [{"wall": w, "rss_mib": r, **x} for w, r, x in v] for name, v in runs.items()}
    (work / "bench_engines.json").write_text(json.dumps(detail, indent=1))
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
