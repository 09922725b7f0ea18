"""One evaluation, many views: the CycleResult, its round trip, custom frameworks end to end, an installed wheel."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from riskkit.audit import run_audit
from riskkit.cli import main
from riskkit.evaluate import MCMC_TABLES, PUBLIC_TABLES, evaluate
from riskkit.exceptions import ParameterError
from riskkit.library import FRAMEWORKS_DIR, load_library
from riskkit.metrics import compute
from riskkit.pack import load_datapack
from riskkit.result import CycleResult

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def test_save_and_load_give_every_table_back_identically(sample_result, tmp_path):
    folder = sample_result.save(tmp_path)
    assert folder == tmp_path / "result" and (folder / "result.json").is_file()
    loaded = CycleResult.load(tmp_path)
    assert list(loaded.tables) == list(sample_result.tables)
    for name, table in sample_result.tables.items():
        pd.testing.assert_frame_equal(loaded[name], table, check_exact=True, obj=name)
    assert loaded.scalars == sample_result.scalars
    assert CycleResult.load(folder).cycle_id == "2026-H1"  # the run folder or result/ itself


def test_a_result_is_written_once_and_a_missing_one_is_a_clear_error(sample_result, tmp_path):
    sample_result.save(tmp_path)
    with pytest.raises(ParameterError, match="a result is written once per run"):
        sample_result.save(tmp_path)
    with pytest.raises(ParameterError, match="no saved result"):
        CycleResult.load(tmp_path / "nowhere")


def test_the_result_holds_every_view_of_the_cycle(sample_result):
    r = sample_result
    assert r.cycle_id == "2026-H1" and r.scalars["cycle"]["kind"] == "half"
    assert r.scalars["platform"]["name"] == "Serambi"
    assert {f"mcmc.{t}" for t in MCMC_TABLES} <= set(r.tables)
    assert {f"public.{lang}.{t}" for t in PUBLIC_TABLES for lang in ("en", "ms")} <= set(r.tables)
    assert set(r.scalars["audits"]) == {"accessibility", "child_safety", "safety_by_design"}
    assert r.scalars["versions"]["frameworks"]["riskkit-metrics"] == "1.2.0"
    # datapack.yaml, 9 tables (age_assurance since the CPC transition) and 3 audits
    assert len(r["inputs"]) == 13 and r["inputs"]["sha256"].str.len().eq(64).all()
    assert r["risk.register"]["row_id"].is_unique and len(r["risk.register"]) > 50


def test_result_numbers_equal_the_direct_computations(sample_result, sample_pack, library):
    m = compute(sample_pack, "2026-H1", library=library)
    pd.testing.assert_frame_equal(sample_result["metrics"], m.table, check_exact=True)
    audit = run_audit(sample_pack, "child_safety", "2026-H1", metrics=m, library=library)
    assert sample_result.scalars["audits"]["child_safety"]["overall"]["score"] == pytest.approx(audit.overall["score"])
    pd.testing.assert_frame_equal(
        sample_result["audit.child_safety.findings"], audit.findings.reset_index(drop=True), check_dtype=False
    )


def test_evaluation_is_deterministic(sample_pack, library, sample_result):
    again = evaluate(sample_pack, "2026-H1", library=library)
    for name, table in sample_result.tables.items():
        pd.testing.assert_frame_equal(again[name], table, check_exact=True, obj=name)


def test_findings_carry_over_from_the_previous_run(sample_pack, library, tmp_path):
    earlier = evaluate(sample_pack, "2025-H2", library=library)
    earlier.save(tmp_path / "run")
    later = evaluate(sample_pack, "2026-H1", library=library, previous=tmp_path / "run")
    assert later.scalars["previous"]["cycle"] == "2025-H2"
    findings = later["audit.child_safety.findings"]
    carried = findings[findings["first_raised"] == "2025-H2"]
    assert len(carried) > 0
    assert "risk.changes_since_previous_run" in later


# ------------------------------------------------------------------------------------------ custom frameworks


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    """A framework folder whose child-safety checklist adds item CS-NEW-01, and a copy of the sample answering it."""
    root = tmp_path_factory.mktemp("custom")
    raw = yaml.safe_load((FRAMEWORKS_DIR / "checklist-child-safety.yaml").read_text(encoding="utf-8"))
    raw["version"] = "1.1.0"
    item = copy.deepcopy(next(i for i in raw["items"] if i["ref_id"] == "CS-AGE-01"))
    item.pop("data_test", None)
    item.update(
        ref_id="CS-NEW-01",
        label={"en": "Is there a team-specific grooming-detection review?", "ms": "Adakah semakan pengesanan?"},
        mandatory=True,
        applies_if="always",
    )
    raw["items"].append(item)
    frameworks = root / "frameworks"
    frameworks.mkdir()
    (frameworks / "checklist-child-safety.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    pack = root / "pack"
    shutil.copytree(SAMPLE, pack)
    answers = pd.read_csv(pack / "audits" / "child_safety.csv", dtype=str, keep_default_na=False)
    row = {c: "" for c in answers.columns} | {
        "item_id": "CS-NEW-01",
        "status": "not_met",
        "maturity": "1",
        "owner": "Child Safety",
        "assessed_by": "T. Tester",
        "assessed_on": "2026-06-30",
    }
    pd.concat([answers, pd.DataFrame([row])]).to_csv(pack / "audits" / "child_safety.csv", index=False)
    return frameworks, pack


def test_a_pack_answering_a_custom_item_needs_the_custom_framework(custom, capsys):
    frameworks, pack = custom
    assert main(["validate", str(pack)]) == 2
    assert "CS-NEW-01" in capsys.readouterr().out
    assert main(["validate", str(pack), "--frameworks", str(frameworks)]) == 0


def test_a_custom_item_reaches_the_audit_and_its_findings(custom):
    frameworks, pack = custom
    lib = load_library([frameworks])
    result = evaluate(load_datapack(pack, library=lib), "2026-H1", library=lib)
    items = result["audit.child_safety.items"].set_index("item_id")
    assert items.loc["CS-NEW-01", "result"] == "non_compliant"
    findings = result["audit.child_safety.findings"]
    assert "F-child_safety-CS-NEW-01-non_compliant_mandatory" in set(findings["finding_id"])
    assert result.scalars["versions"]["frameworks"]["checklist-child-safety"] == "1.1.0"
    origin = result["frameworks"].set_index("id")["origin"]
    assert origin["checklist-child-safety"] == "custom" and origin["onsa-2025"] == "packaged"


@pytest.mark.slow
@pytest.mark.notebook
def test_run_with_custom_frameworks_end_to_end(custom, tmp_path, capsys):
    frameworks, pack = custom
    out = tmp_path / "r"
    args = ["run", "--cycle", "2026-H1", "--data", str(pack), "--out", str(out), "--frameworks", str(frameworks)]
    assert main([*args, "--only", "02_audit_child_safety", "--quiet"]) == 0
    run = Path(capsys.readouterr().out.strip()).parent
    findings = pd.read_csv(run / "findings_child_safety.csv")
    assert "CS-NEW-01" in set(findings["item_id"])
    html = (run / "02_audit_child_safety.html").read_text(encoding="utf-8")
    assert "CS-NEW-01" in html
    manifest = json.loads((run / "manifest.json").read_text())
    versions = {f["id"]: (f["version"], f["origin"]) for f in manifest["frameworks"]}
    assert versions["checklist-child-safety"] == ("1.1.0", "custom")


# ------------------------------------------------------------------------------------------ installed wheel


@pytest.mark.slow
@pytest.mark.notebook
def test_an_installed_wheel_runs_a_cycle_outside_the_repository(tmp_path):
    """Build the wheel, install it into a fresh virtualenv outside the clone, run a cycle on a copy of the sample.

    The fresh environment reuses this environment's third-party packages (a .pth line) so the test needs no
    network, but riskkit itself comes only from the wheel."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("riskkit-*.whl"))
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, cwd=tmp_path
    )
    pack = tmp_path / "pack"
    shutil.copytree(SAMPLE, pack)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # nbconvert's base templates are data files of this environment's prefix; a real install brings its own
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import riskkit, riskkit.resources as r; print(riskkit.__file__); print(r.notebooks_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert str(ROOT) not in where[0] and str(site) in where[1]
    done = subprocess.run(
        [
            str(env_dir / "bin" / "riskkit"),
            "run",
            "--cycle",
            "2026-H1",
            "--data",
            str(pack),
            "--out",
            "reports",
            "--only",
            "01",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    index = Path(done.stdout.strip())
    assert index.is_file() and (index.parent / "01_systemic_risk_assessment.html").is_file()
    assert (index.parent / "result" / "result.json").is_file()


def test_the_wheel_lists_every_package_of_the_source_tree():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT / "src").parts[:-1]) for p in (ROOT / "src" / "riskkit").rglob("__init__.py")}
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
