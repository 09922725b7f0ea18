"""Faults during a run (issue 19): disk full, Ctrl-C and SIGTERM, a real folder named `latest`, stray links, two
runs at once. Earlier runs stay byte-identical and nothing half-written is kept.

Disk full is simulated by making a write raise ENOSPC: a small tmpfs would be more literal, but mounting one needs
CAP_SYS_ADMIN, which CI containers usually lack even as root; the error riskkit sees is the same OSError."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from packs import make_pack
from riskkit.cli import main
from riskkit.runner import run_cycle


def _notebook(folder: Path, name: str, body: str) -> Path:
    nb = new_notebook(
        cells=[new_code_cell("result_dir = None", metadata={"tags": ["parameters"]}), new_code_cell(body)]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links as their target) with its SHA-256: to show nothing earlier changed."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def earlier(tmp_path, instant_notebooks):
    """A pack and a complete earlier run of 2025-H2 in tmp_path/r (with `latest`)."""
    pack = make_pack(tmp_path / "pack")
    good = run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False)
    return pack, good.folder


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".partial-", ".latest-", "failed-")))


# ------------------------------------------------------------------------------------------- disk full


def test_disk_full_while_writing_the_exports_is_one_message_and_leaves_nothing(tmp_path, earlier, monkeypatch, capsys):
    import riskkit.runner

    pack, good = earlier
    before = snapshot(tmp_path / "r")

    def full(result, folder, meta):
        (folder / "metrics.csv").write_text("cycle,scope,categ")  # half a file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "metrics.csv"))

    monkeypatch.setattr(riskkit.runner, "write_exports", full)
    code = main(["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("riskkit: error: the run could not be written: No space left on device (")
    assert "the unfinished run was removed and earlier runs are untouched" in err
    assert _leftovers(tmp_path / "r" / "2025-H2") == []
    assert snapshot(tmp_path / "r") == before
    assert (tmp_path / "r" / "2025-H2" / "latest").resolve() == good.resolve()


def test_disk_full_while_a_notebook_is_saved_is_not_a_traceback_from_reading_it_back(tmp_path, monkeypatch, capsys):
    import papermill

    pack = make_pack(tmp_path / "pack")
    books = _notebook(tmp_path / "books", "01_one", "print(1)")

    def truncated(input_path, output_path, **kwargs):
        Path(output_path).write_text('{"cells": [{"cell_type": "code", "sour')  # cut short by the full disk
        raise OSError(errno.ENOSPC, "No space left on device", output_path)

    monkeypatch.setattr(papermill, "execute_notebook", truncated)
    argv = ["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(tmp_path / "r"), "--quiet"]
    assert main([*argv, "--notebooks", str(books)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "01_one.ipynb" in err and "Traceback" not in err
    assert _leftovers(tmp_path / "r" / "2025-H2") == [] and not (tmp_path / "r" / "2025-H2" / "latest").exists()


def test_a_notebook_cut_short_for_another_reason_is_a_failed_notebook(tmp_path, monkeypatch, capsys):
    import papermill

    pack = make_pack(tmp_path / "pack")
    books = _notebook(tmp_path / "books", "01_one", "print(1)")

    def died(input_path, output_path, **kwargs):
        Path(output_path).write_text('{"cells": [')
        raise RuntimeError("Kernel died")

    monkeypatch.setattr(papermill, "execute_notebook", died)
    argv = ["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(tmp_path / "r"), "--quiet"]
    assert main([*argv, "--notebooks", str(books)]) == 1
    assert "run failed: 1 notebook(s) failed (01_one)" in capsys.readouterr().err
    (failed,) = (tmp_path / "r" / "2025-H2").glob("failed-*")
    (nb,) = json.loads((failed / "manifest.json").read_text())["notebooks"]
    assert nb["status"] == "failed" and "the executed notebook could not be read back" in nb["error"]


# ------------------------------------------------------------------------------------------- `latest`


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_real_latest_is_never_deleted(tmp_path, instant_notebooks, capsys, kind):
    pack = make_pack(tmp_path / "pack")
    latest = tmp_path / "r" / "2025-H2" / "latest"
    latest.parent.mkdir(parents=True)
    if kind == "folder":
        latest.mkdir()
        (latest / "my-notes.docx").write_bytes(b"a person's own file")
    else:
        latest.write_text("mine")
    before = snapshot(tmp_path / "r")
    assert main(["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{latest} is a real {kind}, not riskkit's link to the latest run" in err
    assert snapshot(tmp_path / "r") == before and not latest.is_symlink()
    # a partial run does not touch `latest`: it may go ahead
    partial = run_cycle(pack, "2025-H2", out=tmp_path / "r", only=["01"], progress=False)
    assert partial.folder.name.endswith("-partial") and not latest.is_symlink()


def test_a_latest_folder_appearing_during_a_run_is_left_alone(tmp_path, instant_notebooks, monkeypatch):
    import riskkit.runner

    pack = make_pack(tmp_path / "pack")
    real = riskkit.runner._move_into_place
    latest = tmp_path / "r" / "2025-H2" / "latest"

    def then_a_person_makes_a_folder(partial, wanted):
        final = real(partial, wanted)
        latest.mkdir()
        (latest / "keep.txt").write_text("keep")
        return final

    monkeypatch.setattr(riskkit.runner, "_move_into_place", then_a_person_makes_a_folder)
    events: list[str] = []
    run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False, on_event=events.append)
    assert (latest / "keep.txt").read_text() == "keep" and not latest.is_symlink()
    assert any("is not riskkit's link" in e for e in events)


def test_no_stray_latest_links(tmp_path, instant_notebooks, monkeypatch):
    import riskkit.runner

    pack = make_pack(tmp_path / "pack")
    root = tmp_path / "r" / "2025-H2"
    root.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (root / f".latest-{dead.stdout.strip()}").symlink_to("2001-01-01")  # left by a run killed with -9
    first = run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False)
    assert [p.name for p in root.glob(".latest-*")] == []
    assert (root / "latest").resolve() == first.folder.resolve()

    real_replace = os.replace

    def no_links_here(src, dst):  # a file system where the link cannot be renamed into place
        if Path(src).name.startswith(".latest-"):
            raise OSError(errno.EPERM, "Operation not permitted")
        return real_replace(src, dst)

    monkeypatch.setattr(riskkit.runner.os, "replace", no_links_here)
    second = run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False)
    assert (root / "LATEST").read_text() == second.folder.name + "\n"
    assert [p.name for p in root.glob(".latest-*")] == []


def test_two_runs_at_once_both_complete(tmp_path, instant_notebooks):
    pack = make_pack(tmp_path / "pack")
    results, errors = [], []

    def one() -> None:
        try:
            results.append(run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    folders = sorted(r.folder.name for r in results)
    assert len(set(folders)) == 2 and folders[1] == folders[0] + "-2"
    root = tmp_path / "r" / "2025-H2"
    assert (root / "latest").resolve().name in folders
    assert _leftovers(root) == []
    assert all((r.folder / "manifest.json").is_file() for r in results)


# ------------------------------------------------------------------------------------------- signals


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_the_kernels_at_once_and_removes_the_partial_run(tmp_path, sig, code, name):
    pack = make_pack(tmp_path / "pack")
    out = tmp_path / "r"
    earlier = out / "2025-H2" / "2025-01-01"
    earlier.mkdir(parents=True)
    (earlier / "manifest.json").write_text("{}")
    (out / "2025-H2" / "latest").symlink_to("2025-01-01")
    before = snapshot(out)
    pid_file = tmp_path / "kernel.pid"
    books = _notebook(
        tmp_path / "books",
        "01_slow",
        f"import os, pathlib, time\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(120)",
    )
    cmd = [sys.executable, "-m", "riskkit.cli", "run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--notebooks", str(books), "--quiet", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 90
        while not pid_file.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert pid_file.exists(), "the notebook never started"
        time.sleep(0.3)
        kernel = int(pid_file.read_text())
        sent = time.monotonic()
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code
    assert err == f"riskkit: interrupted ({name})\n"
    assert took < 20, f"took {took:.1f} s: the kernel was not stopped (its cell sleeps 120 s)"
    assert not _alive(kernel)
    assert snapshot(out) == before and _leftovers(out / "2025-H2") == []


def _alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie waiting for its parent to reap it is not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
