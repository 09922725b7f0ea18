"""Run a command and measure its wall time and peak memory summed over its whole process tree (kernels too)."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Measured:
    seconds: float
    peak_tree_mib: float  # highest sum of RSS over the process and all its descendants, sampled every 50 ms
    peak_main_mib: float  # highest RSS of the top process alone


def measure(cmd: list[str], cwd: Path | None = None, interval: float = 0.05) -> Measured:
    """Run ``cmd`` to completion (it must succeed) while sampling the RSS of its process tree."""
    peak_tree = peak_main = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_main
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                main = root.memory_info().rss
                tree = main + sum(_rss(c) for c in root.children(recursive=True))
            except psutil.Error:
                break
            peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
            time.sleep(interval)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return Measured(seconds, peak_tree / 2**20, peak_main / 2**20)


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.Error:
        return 0
