"""`make bench`: every benchmark, each in fresh processes, printing medians and ratios.

Benchmarks live here, never in the unit tests. Set BENCH_ACTIONS / BENCH_REPEAT to scale them, and
BENCH_ENGINES_LARGE (e.g. 100000000) to also run the DuckDB engine on a lake of that many actions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def main() -> None:
    actions = os.environ.get("BENCH_ACTIONS", "10000000")
    repeat = os.environ.get("BENCH_REPEAT", "3")
    run("bench_sample.py", "--actions", actions, "--repeat", repeat)
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-") as tmp:
        pack = Path(tmp) / "pack"
        run("bench_metrics.py", "--actions", actions, "--repeat", repeat, "--pack", str(pack))
        run("bench_cycle.py", "--actions", actions, "--repeat", repeat, "--pack", str(pack))
        run("bench_engines.py", "--actions", actions, "--repeat", repeat, "--pack", str(pack), "--work", tmp)
    large = os.environ.get("BENCH_ENGINES_LARGE")  # e.g. 100000000: the DuckDB engine at that size too
    if large:
        run("bench_engines.py", "--actions", large, "--repeat", repeat, "--no-spark", "--no-inprocess")
    for extra in sorted(HERE.glob("bench_*.py")):
        if extra.name not in ("bench_sample.py", "bench_metrics.py", "bench_cycle.py", "bench_engines.py"):
            run(extra.name, "--repeat", repeat)


if __name__ == "__main__":
    main()
