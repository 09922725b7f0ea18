"""The cycle runner: dated runs, failure safety, same-day reruns, kill mid-run, manifest, cycle selection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from packs import base_tables, make_pack
from riskkit.cli import main
from riskkit.cycles import parse
from riskkit.exceptions import ParameterError, RunFailed
from riskkit.runner import notebooks_for, run_cycle

PARAMS = "result_dir = None"


def _notebook(folder: Path, name: str, body: str, kinds: list[str] | None = None) -> Path:
    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# {name} title"),
            new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if kinds:
        nb.metadata["riskkit"] = {"cycle_kinds": kinds}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def books(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(
        folder,
        "01_ok",
        "from riskkit.result import CycleResult\nr = CycleResult.load(result_dir)\nprint(r.cycle_id, len(r.tables))",
    )
    _notebook(folder, "02_also_ok", "print('second', result_dir)")
    _notebook(folder, "06_yearly", "print('year')", kinds=["year"])
    return folder


@pytest.fixture
def pack(tmp_path):
    return make_pack(tmp_path / "pack")


@pytest.mark.slow
@pytest.mark.notebook
def test_success_writes_dated_run_with_manifest_and_latest(books, pack, tmp_path):
    cwd = os.getcwd()
    result = run_cycle(pack, "2025-H2", out=tmp_path / "reports", notebooks_dir=books, jobs=2, progress=False)
    assert os.getcwd() == cwd  # papermill's cwd= is a process-wide chdir: the runner must not use it
    assert result.status == "succeeded" and result.exit_code == 0
    assert result.folder.parent.name == "2025-H2" and result.folder.name[:2] == "20" and len(result.folder.name) == 10
    latest = tmp_path / "reports" / "2025-H2" / "latest"
    assert latest.is_symlink() and latest.resolve() == result.folder.resolve()
    names = {p.name for p in result.folder.iterdir()}
    assert {
        "01_ok.ipynb",
        "01_ok.html",
        "02_also_ok.html",
        "result",
        "manifest.json",
        "index.html",
        "metrics.csv",
        "risk_register.xlsx",
        "mcmc_half_yearly_2025-H2.xlsx",
        "record_keeping_2025-H2.csv",
    } <= names
    executed = nbformat.read(result.folder / "01_ok.ipynb", as_version=4)
    assert "2025-H2" in executed.cells[-1].outputs[0]["text"]  # the notebook read the saved result
    assert "06_yearly.ipynb" not in names  # year notebooks are not run for half-years
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["exit_code"] == 0
    assert [n["status"] for n in manifest["notebooks"]] == ["succeeded", "succeeded"]
    assert manifest["parameters"]["cycle"] == "2025-H2"
    files = {i["file"]: i for i in manifest["inputs"]}
    assert files["actions.csv"]["rows"] == 3 and len(files["actions.csv"]["sha256"]) == 64
    frameworks = {f["id"]: f for f in manifest["frameworks"]}
    assert frameworks["harm-taxonomy"]["origin"] == "packaged" and manifest["versions"]["papermill"]
    assert manifest["evaluation"]["pack_reads"] == 1 and manifest["evaluation"]["evaluations"] == 1
    index = (result.folder / "index.html").read_text()
    assert 'href="01_ok.html"' in index and "succeeded" in index and 'href="metrics.csv"' in index
    assert not list((tmp_path / "reports" / "2025-H2").glob(".partial-*"))


def test_same_day_rerun_gets_a_suffix_and_moves_latest(books, instant_notebooks, pack, tmp_path):
    first = run_cycle(pack, "2025-H2", out=tmp_path / "r", notebooks_dir=books, progress=False)
    second = run_cycle(pack, "2025-H2", out=tmp_path / "r", notebooks_dir=books, progress=False)
    assert second.folder.name == first.folder.name + "-2"
    assert first.folder.exists() and (first.folder / "manifest.json").exists()
    assert (tmp_path / "r" / "2025-H2" / "latest").resolve() == second.folder.resolve()


@pytest.mark.slow
@pytest.mark.notebook
def test_failing_notebook_keeps_failed_run_and_leaves_latest(books, pack, tmp_path):
    good = run_cycle(pack, "2025-H2", out=tmp_path / "r", notebooks_dir=books, progress=False)
    _notebook(books, "03_broken", "raise ValueError('deliberate failure for the test')")
    with pytest.raises(RunFailed, match="03_broken") as info:
        run_cycle(pack, "2025-H2", out=tmp_path / "r", notebooks_dir=books, progress=False)
    failed = info.value.result.folder
    assert failed.name.startswith("failed-") and failed.exists()
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["exit_code"] == 1
    broken = next(n for n in manifest["notebooks"] if n["name"] == "03_broken")
    assert broken["status"] == "failed" and "deliberate failure" in broken["error"]
    html = (failed / "03_broken.html").read_text()
    assert "deliberate failure for the test" in html and "ValueError" in html
    assert (tmp_path / "r" / "2025-H2" / "latest").resolve() == good.folder.resolve()
    assert "This run failed" in (failed / "index.html").read_text()


@pytest.mark.slow
@pytest.mark.notebook
def test_cli_run_exit_codes(books, pack, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(out), "--notebooks", str(books)]) == 0
    assert capsys.readouterr().out.strip().endswith("index.html")
    _notebook(books, "03_broken", "raise RuntimeError('boom')")
    code = main(["run", "--cycle", "2025-H2", "--data", str(pack), "--out", str(out), "--notebooks", str(books)])
    assert code == 1
    captured = capsys.readouterr()
    assert "run failed" in captured.err and "failed-" in captured.out


def test_invalid_pack_exits_2_and_writes_nothing(books, tmp_path, capsys):
    tables = base_tables()
    tables["actions"][0]["category"] = "spam"
    bad = make_pack(tmp_path / "bad", tables)
    out = tmp_path / "r"
    assert main(["run", "--cycle", "2025-H2", "--data", str(bad), "--out", str(out), "--notebooks", str(books)]) == 2
    assert not out.exists()
    assert "column category" in capsys.readouterr().err


def test_run_without_data_is_a_parameter_error(capsys, monkeypatch):
    monkeypatch.delenv("RISKKIT_DATA", raising=False)
    assert main(["run", "--cycle", "latest"]) == 2
    assert "--data" in capsys.readouterr().err


def test_latest_is_judged_in_malaysian_time(books, instant_notebooks, pack, tmp_path):
    # 16:30 UTC on 30 June is 00:30 on 1 July in Kuala Lumpur: 2026-H1 is complete
    result = run_cycle(
        pack, "latest", as_of="2026-06-30T16:30:00Z", out=tmp_path / "r", notebooks_dir=books, progress=False
    )
    assert result.cycle == "2026-H1"
    before = run_cycle(
        pack, "latest", as_of="2026-06-30T15:30:00Z", out=tmp_path / "r", notebooks_dir=books, progress=False
    )
    assert before.cycle == "2025-H2"


def test_year_cycles_pick_year_notebooks_and_only_filters(books, library):
    assert [j.name for j in notebooks_for(parse("2025"), books, library)] == ["06_yearly"]
    assert [j.name for j in notebooks_for(parse("2025-H1"), books, library, only=["02"])] == ["02_also_ok"]
    with pytest.raises(ParameterError, match="no notebook for half cycles matches 09"):
        notebooks_for(parse("2025-H1"), books, library, only=["09"])


def test_the_audit_notebook_runs_once_per_checklist(library):
    from riskkit.resources import notebooks_dir

    jobs = notebooks_for(parse("2026-H1"), notebooks_dir(), library)
    audits = [j for j in jobs if j.parameters]
    assert [j.parameters["audit"] for j in audits] == list(library.checklists())
    assert [j.name for j in audits] == [f"02_audit_{a}" for a in library.checklists()]
    assert audits[1].title == "Child-safety audit"


def test_the_pack_is_read_and_evaluated_once_per_run(books, instant_notebooks, pack, tmp_path, monkeypatch):
    import riskkit.evaluate
    import riskkit.pack
    import riskkit.runner

    calls = {"read": 0, "metrics": 0, "evaluate": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(riskkit.pack, "load_datapack", counting("read", riskkit.pack.load_datapack))
    monkeypatch.setattr(riskkit.runner, "evaluate", counting("evaluate", riskkit.runner.evaluate))
    monkeypatch.setattr(riskkit.evaluate, "compute", counting("metrics", riskkit.evaluate.compute))
    run_cycle(pack, "2025-H2", out=tmp_path / "r", notebooks_dir=books, progress=False)
    assert calls == {"read": 1, "metrics": 1, "evaluate": 1}


@pytest.mark.slow
@pytest.mark.notebook
def test_kill_mid_run_leaves_earlier_runs_intact(books, pack, tmp_path):
    out = tmp_path / "r"
    good = run_cycle(pack, "2025-H2", out=out, notebooks_dir=books, progress=False)
    before = sorted(p.name for p in (out / "2025-H2").iterdir())
    _notebook(books, "03_slow", "import time\ntime.sleep(60)")
    cmd = [
        sys.executable,
        "-m",
        "riskkit.cli",
        "run",
        "--cycle",
        "2025-H2",
        "--data",
        str(pack),
        "--out",
        str(out),
        "--notebooks",
        str(books),
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until the slow notebook is executing in the partial folder
            partials = list((out / "2025-H2").glob(".partial-*"))
            if partials and (partials[0] / "03_slow.ipynb").exists():
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run never reached the slow notebook")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    after = sorted(p.name for p in (out / "2025-H2").iterdir())
    assert [n for n in after if not n.startswith(".partial-")] == before
    assert (out / "2025-H2" / "latest").resolve() == good.folder.resolve()
    assert (good.folder / "manifest.json").exists() and (good.folder / "01_ok.html").exists()


def test_latest_never_goes_past_the_data_and_partial_cycles_warn(books, instant_notebooks, pack, tmp_path):
    # the test pack was extracted on 2026-01-10: today's latest (2026-H1 or later) is not covered by the data
    result = run_cycle(pack, "latest", out=tmp_path / "r", notebooks_dir=books, progress=False)
    assert result.cycle == "2025-H2"
    with pytest.raises(ParameterError, match="the cycle is not complete"):
        run_cycle(pack, "2026-H1", out=tmp_path / "r", notebooks_dir=books, progress=False)
    partial = run_cycle(pack, "2026-H1", out=tmp_path / "r", notebooks_dir=books, progress=False, allow_incomplete=True)
    manifest = json.loads((partial.folder / "manifest.json").read_text())
    assert manifest["warnings"] and "covers the cycle only in part" in manifest["warnings"][0]
    assert manifest["partial"] and manifest["incomplete"]
