"""Benchmark: importing a generated DSA dump of N statements (default 5 M) — wall time and peak RSS.

The dump is synthetic (random values of the documented enumerations, in the daily-dump CSV layout, split into
100,000-row chunk files as the real dumps are); it is written once into a temporary folder.

    python benchmarks/bench_dsa_import.py --rows 5000000 --repeat 1
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit.framework import load_library

RUN = r"""
import json, resource, sys, time
from riskkit.framework import load_library
from riskkit.importers.dsa import import_dsa
library = load_library()
t0 = time.perf_counter()
result = import_dsa(sys.argv[2:], sys.argv[1], territory="MY", library=library)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows_out": result.report.rows_kept,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_dump(folder: Path, rows: int, chunk: int = 100_000, seed: int = 7) -> list[Path]:
    raw = load_library().get("dsa-import").raw
    cols = raw["columns"]["full"]
    cats = [e["ref_id"] for e in raw["categories"] if e.get("schema") != 1]
    kws = [e["ref_id"] for e in raw["keywords"] if e.get("schema") != 1]
    vis = [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
    ]
    sources = ["SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"]
    deciders = ["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
    rng = np.random.default_rng(seed)
    paths = []
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        ids = np.arange(start, start + n)
        day = rng.integers(0, 180, n)
        lag = rng.integers(0, 5, n)
        content = pd.to_datetime("2025-07-01") + pd.to_timedelta(day, unit="D")
        frame = pd.DataFrame({c: "" for c in cols}, index=range(n))
        frame["uuid"] = [f"00000000-0000-4000-8000-{i:012d}" for i in ids]
        frame["decision_visibility"] = [json.dumps([v]) for v in rng.choice(vis, n)]
        frame["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        frame["incompatible_content_ground"] = "Terms of service 4.2"
        frame["incompatible_content_explanation"] = "Violates the platform's rules on harmful content."
        frame["category"] = rng.choice(cats, n)
        frame["category_addition"] = "[]"
        frame["category_specification"] = [json.dumps([k]) for k in rng.choice(kws, n)]
        frame["content_type"] = '["CONTENT_TYPE_VIDEO"]'
        frame["content_date"] = content.strftime("%Y-%m-%d 00:00:00")
        frame["territorial_scope"] = np.where(rng.random(n) < 0.8, '["MY"]', '["SG"]')
        frame["application_date"] = (content + pd.to_timedelta(lag, unit="D")).strftime("%Y-%m-%d 00:00:00")
        frame["decision_facts"] = "Content reviewed and found to breach the platform's policy."
        frame["source_type"] = rng.choice(sources, n)
        frame["automated_detection"] = np.where(rng.random(n) < 0.6, "Yes", "No")
        frame["automated_decision"] = rng.choice(deciders, n)
        frame["platform_name"] = "Contoh"
        frame["platform_uid"] = [f"P{i:010d}" for i in ids]
        frame["created_at"] = frame["application_date"]
        path = folder / f"sor-contoh-2025-full-{start // chunk:05d}-00000.csv"
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-dsa-") as tmp:
        t0 = time.perf_counter()
        files = write_dump(Path(tmp) / "dump", args.rows) if (Path(tmp) / "dump").mkdir() is None else []
        size = sum(f.stat().st_size for f in files)
        print(
            f"dump: {args.rows:,} statements in {len(files)} files, {size / 2**20:,.0f} MiB "
            f"(written in {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        runs = []
        for i in range(args.repeat):
            proc = subprocess.run(
                [sys.executable, "-c", RUN, f"{tmp}/pack{i}", *map(str, files)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(
                f"  run {i + 1}: {runs[-1]['seconds']:.1f} s, peak RSS {runs[-1]['peak_rss_mib']:.0f} MiB", flush=True
            )
    seconds = statistics.median(r["seconds"] for r in runs)
    rss = statistics.median(r["peak_rss_mib"] for r in runs)
    print(
        f"import of {args.rows:,} statements: median {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s), "
        f"peak RSS {rss:.0f} MiB ({rss * 2**20 / args.rows:.0f} bytes per statement, chunk 200,000 rows)"
    )


if __name__ == "__main__":
    main()
