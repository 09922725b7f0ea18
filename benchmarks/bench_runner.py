"""Benchmark: a full sample cycle through `riskkit run` vs the toolchain floor.

Floor = the same number of trivial notebooks (a markdown cell, a parameters cell, three small code cells) each
run through the `papermill` CLI and then `jupyter nbconvert --to html --no-input`, one after the other — what the
tools cost with no work in the notebooks. Also reported: `riskkit run` on those trivial notebooks (the runner's
own floor, with its parallelism and single import of the heavy libraries).

    python benchmarks/bench_runner.py --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _trivial(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, n + 1):
        nb = new_notebook(
            cells=[
                new_markdown_cell("# Trivial"),
                new_code_cell(
                    'data_path = ""\ncycle = ""\nas_of = ""\noutput_dir = None\nprevious_run = ""',
                    metadata={"tags": ["parameters"]},
                ),
                new_code_cell("x = 1"),
                new_code_cell("y = x + 1"),
                new_code_cell("print(y)"),
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"{i:02d}_trivial.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sample = ROOT / "data" / "sample"
    n = len(list((ROOT / "notebooks").glob("0[1-5]_*.ipynb")))
    floor, runner_floor, full = [], [], []
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-run-") as tmp:
        books = _trivial(Path(tmp) / "trivial", n)
        for i in range(args.repeat):
            t = 0.0
            for book in books:
                out = Path(tmp) / f"out-{i}-{book.name}"
                t += _timed([str(BIN / "papermill"), str(book), str(out), "-k", "python3", "--no-progress-bar"])
                t += _timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)])
            floor.append(t)
            run = [str(BIN / "riskkit"), "run", "--cycle", "2026-H1", "--data", str(sample), "--quiet"]
            runner_floor.append(_timed([*run, "--out", f"{tmp}/rf{i}", "--notebooks", str(Path(tmp) / "trivial")]))
            full.append(_timed([*run, "--out", f"{tmp}/full{i}"]))
            print(
                f"  run {i + 1}: floor {floor[-1]:.1f} s, runner on trivial {runner_floor[-1]:.1f} s, "
                f"full sample cycle {full[-1]:.1f} s",
                flush=True,
            )
    f, r, c = statistics.median(floor), statistics.median(runner_floor), statistics.median(full)
    print(f"\n{n} notebooks, median of {args.repeat}:")
    print(f"toolchain floor (papermill + nbconvert CLI, one after another): {f:6.1f} s")
    print(f"riskkit run on the same trivial notebooks:                     {r:6.1f} s")
    print(f"riskkit run, full sample cycle 2026-H1:                        {c:6.1f} s")
    print(f"ratio full cycle / toolchain floor: {c / f:.2f}x (target <= 1.5x)")
    print(f"ratio full cycle / riskkit on trivial notebooks: {c / r:.2f}x")


if __name__ == "__main__":
    main()
