"""Shared test set-up: the pack builders on the path, the library, and the sample evaluated and run once.

``sample_run`` (a full ``riskkit run`` of the sample's 2026-H1) and ``sample_year_run`` (2025) are built once per
test session even under pytest-xdist: the first worker to need one builds it under a file lock in a folder shared
by all workers, the others reuse it. Tests only read these runs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def library():
    from riskkit.library import load_library

    return load_library()


@pytest.fixture(scope="session")
def sample_pack(library):
    from riskkit.pack import load_datapack

    return load_datapack(SAMPLE, library=library)


@pytest.fixture(scope="session")
def sample_result(sample_pack, library):
    """The sample's 2026-H1 evaluated in memory (no notebooks)."""
    from riskkit.evaluate import evaluate

    return evaluate(sample_pack, "2026-H1", library=library)


def _shared_run(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]) -> Path:
    """A run folder built once per session and shared by every xdist worker (``build(out) -> run folder``)."""
    base = tmp_path_factory.getbasetemp()
    # under pytest-xdist each worker's base is <session>/popen-gwN: share the session folder; alone, use the base
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / f"shared-{name}"
    done = shared / f"shared-{name}.json"
    with FileLock(str(shared / f"shared-{name}.lock")):
        if not done.is_file():
            folder = build(out)
            done.write_text(json.dumps({"folder": str(folder)}))
    return Path(json.loads(done.read_text())["folder"])


def seed_previous_run(out: Path, cycle: str, pack: Path = SAMPLE) -> Path:
    """A minimal earlier run of ``cycle`` (its saved result, pointed to by ``latest``) for carry-over, no notebooks."""
    from riskkit.evaluate import evaluate
    from riskkit.library import load_library
    from riskkit.pack import load_datapack

    lib = load_library()
    folder = out / cycle / "2000-01-01"
    evaluate(load_datapack(pack, library=lib), cycle, library=lib).save(folder)
    (out / cycle / "latest").symlink_to(folder.name, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> Path:
    """The folder of a complete ``riskkit run`` of the sample's 2026-H1 (after a 2025-H2 run, so findings carry)."""
    from riskkit.runner import run_cycle

    def build(out: Path) -> Path:
        seed_previous_run(out, "2025-H2")
        return run_cycle(SAMPLE, "2026-H1", out=out, progress=False).folder

    return _shared_run(tmp_path_factory, "half", build)


@pytest.fixture(scope="session")
def sample_year_run(tmp_path_factory) -> Path:
    """The folder of a complete ``riskkit run`` of the sample's calendar year 2025."""
    from riskkit.runner import run_cycle

    return _shared_run(tmp_path_factory, "year", lambda out: run_cycle(SAMPLE, "2025", out=out, progress=False).folder)


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory):
    """The Spark engine on a standalone cluster on 127.0.0.1 — a master and two workers (JVMs started from the
    pyspark distribution) — with this process as the driver; stopped at the end of the session."""
    from spark_cluster import DRIVER_CONF, java_available, standalone_cluster

    if not java_available():
        pytest.skip("Spark needs Java 17 (.ci/run installs openjdk-17-jre-headless)")
    from riskkit.engines.ibis_engine import IbisEngine

    with standalone_cluster(tmp_path_factory.mktemp("spark")) as cluster:
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        engine = IbisEngine.spark(cluster.url, **DRIVER_CONF)  # starts while the workers register
        cluster.wait_for_workers()
        cluster.wait_for_executors(engine.con._session)
        try:
            yield engine
        finally:
            engine.con._session.stop()


@pytest.fixture
def instant_notebooks(monkeypatch):
    """Kernels replaced by an instant success: for tests of the run folder's mechanics only."""
    import riskkit.runner

    def fake(job, folder, params, context, timeout, progress, i):
        (folder / f"{job.name}.html").write_text("<html><body>ok</body></html>", encoding="utf-8")
        return riskkit.runner.NotebookRun(
            job.name, job.group, "succeeded", 0.0, "", f"{job.name}.html", 28, "", job.title
        )

    monkeypatch.setattr(riskkit.runner, "_execute", fake)
