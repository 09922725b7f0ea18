"""Time ``riskkit.sample.generate`` for a large pack: wall time and peak RSS, median over --repeat runs.

Each run is a fresh subprocess (so peak RSS is that run's own, measured with ``resource.getrusage``)
writing into a temporary folder that is removed afterwards.

    .venv/bin/python benchmarks/bench_sample.py --actions 10000000 --repeat 3

Budget (DESIGN: 2-core machine): 10 M actions in <= 60 s and <= 4 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from riskkit.library import load_library
from riskkit.sample import generate
started = time.perf_counter()
summary = generate(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), library=load_library())
wall = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"seconds": wall, "peak_rss_mib": peak_kib / 1024, "rows": summary.rows}))
"""


def run_once(actions: int, seed: int) -> dict:
    """One generation in a child process; returns seconds, peak_rss_mib, rows and the pack size in bytes."""
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-") as tmp:
        out = Path(tmp) / "pack"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(out), str(actions), str(seed)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000_000, help="actions to generate (default 10,000,000)")
    parser.add_argument("--seed", type=int, default=866, help="seed (default 866)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported (default 3)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="budget for the median wall time")
    parser.add_argument("--max-rss-mib", type=float, default=4096.0, help="budget for the median peak RSS")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    runs = []
    for i in range(args.repeat):
        result = run_once(args.actions, args.seed)
        runs.append(result)
        print(
            f"run {i + 1}/{args.repeat}: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB, "
            f"pack {result['bytes'] / 2**20:.0f} MiB",
            flush=True,
        )
    seconds = statistics.median(r["seconds"] for r in runs)
    rss = statistics.median(r["peak_rss_mib"] for r in runs)
    rows = ", ".join(f"{k} {v:,}" for k, v in runs[0]["rows"].items())
    print(f"actions: {args.actions:,}  rows: {rows}")
    print(f"median of {args.repeat}: wall {seconds:.1f} s, peak RSS {rss:.0f} MiB")
    ok = seconds <= args.max_seconds and rss <= args.max_rss_mib
    print(f"budget (<= {args.max_seconds:g} s, <= {args.max_rss_mib:g} MiB): {'ok' if ok else 'EXCEEDED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
