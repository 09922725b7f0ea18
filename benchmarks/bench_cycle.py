"""Benchmark: one evaluated cycle against one metrics run, and the sample cycle against the runner's floor.

1. A half-year of N actions (default 10 M): ``riskkit run --cycle 2026-H1`` (evaluate once, exports, record
   keeping, notebooks over the saved result, HTML) against ``riskkit metrics`` on the same pack — wall time and
   peak memory summed over every process (the runner and its kernels). Targets: <= 2x the time, <= 1.3x the memory.
2. The sample cycle (``riskkit run`` on data/sample) against ``riskkit run`` on as many trivial notebooks (the
   runner's own floor: kernels, papermill and nbconvert with no work in the notebooks). Target: <= 2x.

Also printed: how many times the pack was read and the cycle evaluated (from the run's manifest).

    python benchmarks/bench_cycle.py --actions 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
from measure import measure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CYCLE = "2026-H1"


def trivial_notebooks(folder: Path, library_audits: int) -> Path:
    """Trivial copies of the half-year notebooks: the same metadata (so as many executions), no work."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb")):
        meta = nbformat.read(source, as_version=4).metadata
        nb = new_notebook(
            cells=[
                new_markdown_cell("# Trivial"),
                new_code_cell('result_dir = None\naudit = ""', metadata={"tags": ["parameters"]}),
                new_code_cell("x = 1"),
                new_code_cell("print(x + 1)"),
            ]
        )
        nb.metadata = meta
        nbformat.write(nb, folder / source.name)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pack", default=None, help="reuse this generated pack")
    args = parser.parse_args()
    riskkit = str(BIN / "riskkit")
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-cycle-") as tmp:
        tmp_path = Path(tmp)
        pack = Path(args.pack) if args.pack else tmp_path / "pack"
        if not (pack / "datapack.yaml").is_file():
            print(f"generating {args.actions:,} actions …", flush=True)
            measure([riskkit, "sample", "--out", str(pack), "--actions", str(args.actions)])

        metrics, runs = [], []
        for i in range(args.repeat):
            metrics.append(measure([riskkit, "metrics", str(pack), "--cycle", CYCLE, "--out", f"{tmp}/m{i}.csv"]))
            runs.append(measure([riskkit, "run", "--cycle", CYCLE, "--data", str(pack), "--out", f"{tmp}/r{i}"]))
            print(
                f"  {i + 1}: metrics {metrics[-1].seconds:.1f} s / {metrics[-1].peak_tree_mib:,.0f} MiB; "
                f"cycle {runs[-1].seconds:.1f} s / {runs[-1].peak_tree_mib:,.0f} MiB "
                f"(runner alone {runs[-1].peak_main_mib:,.0f} MiB)",
                flush=True,
            )
        manifest = json.loads((tmp_path / "r0" / CYCLE / "latest" / "manifest.json").read_text())
        m_s = statistics.median(m.seconds for m in metrics)
        m_mem = statistics.median(m.peak_tree_mib for m in metrics)
        c_s = statistics.median(r.seconds for r in runs)
        c_mem = statistics.median(r.peak_tree_mib for r in runs)
        print(f"\n{args.actions:,} actions, {CYCLE}, median of {args.repeat}:")
        print(f"riskkit metrics: {m_s:6.1f} s, peak {m_mem:8,.0f} MiB")
        print(f"riskkit run:     {c_s:6.1f} s, peak {c_mem:8,.0f} MiB (sum over the runner and its kernels)")
        print(f"ratio time {c_s / m_s:.2f}x (target <= 2x), memory {c_mem / m_mem:.2f}x (target <= 1.3x)")
        ev = manifest["evaluation"]
        print(f"pack reads {ev['pack_reads']}, evaluations {ev['evaluations']}, evaluate+exports {ev['seconds']} s")

        books = trivial_notebooks(tmp_path / "trivial", 0)
        sample = str(ROOT / "data" / "sample")
        floor, full = [], []
        for i in range(args.repeat):
            run = [riskkit, "run", "--cycle", CYCLE, "--data", sample, "--quiet"]
            floor.append(measure([*run, "--out", f"{tmp}/floor{i}", "--notebooks", str(books)]).seconds)
            full.append(measure([*run, "--out", f"{tmp}/sample{i}"]).seconds)
            print(f"  {i + 1}: runner floor {floor[-1]:.1f} s, sample cycle {full[-1]:.1f} s", flush=True)
        f, c = statistics.median(floor), statistics.median(full)
        print(f"\nsample cycle {c:.1f} s vs the runner on trivial notebooks {f:.1f} s: {c / f:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
