"""Documents that travel: honest runs, PDFs of a run, workbooks and CSVs safe from formula injection."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from packs import make_pack
from riskkit.cli import main
from riskkit.documents.tabular import DANGEROUS_FIRST

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PAYLOAD = '=HYPERLINK("http://evil.example/x","click")'


@pytest.fixture
def instant_notebooks(monkeypatch):
    """Kernels replaced by an instant success: these tests are about the run folder, not the notebooks."""
    import riskkit.runner

    def fake(job, folder, params, context, timeout, progress, i):
        page = "<html><body>" + ("Incomplete data" if context.get("incomplete") else "") + "</body></html>"
        (folder / f"{job.name}.html").write_text(page, encoding="utf-8")
        return riskkit.runner.NotebookRun(
            job.name, job.group, "succeeded", 0.0, "", f"{job.name}.html", 1, "", job.title
        )

    monkeypatch.setattr(riskkit.runner, "_execute", fake)


def test_a_cycle_the_data_does_not_cover_is_refused(tmp_path, capsys):
    pack = make_pack(tmp_path / "pack")  # extracted 10 Jan 2026
    out = tmp_path / "r"
    code = main(["run", "--cycle", "2026-H1", "--data", str(pack), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "2026-H1 ends on 30 Jun 2026 but the data is as of 10 Jan 2026 00:00 MYT" in err
    assert "--allow-incomplete" in err and not out.exists()


def test_an_incomplete_run_is_marked_and_never_latest(tmp_path, instant_notebooks):
    from riskkit.runner import run_cycle

    pack = make_pack(tmp_path / "pack")
    good = run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False)
    partial = run_cycle(pack, "2026-H1", out=tmp_path / "r", allow_incomplete=True, progress=False)
    assert partial.folder.name.endswith("-partial")
    manifest = json.loads((partial.folder / "manifest.json").read_text())
    assert manifest["partial"] and "covers the cycle only in part" in manifest["incomplete"]
    assert "Incomplete data" in (partial.folder / "01_systemic_risk_assessment.html").read_text()
    assert not (tmp_path / "r" / "2026-H1" / "latest").exists()
    assert (tmp_path / "r" / "2025-H2" / "latest").resolve() == good.folder.resolve()


def test_an_only_run_is_partial_and_leaves_latest_alone(tmp_path, instant_notebooks):
    from riskkit.runner import run_cycle

    pack = make_pack(tmp_path / "pack")
    full = run_cycle(pack, "2025-H2", out=tmp_path / "r", progress=False)
    only = run_cycle(pack, "2025-H2", out=tmp_path / "r", only=["02"], progress=False)
    assert only.folder.name.endswith("-partial")
    assert json.loads((only.folder / "manifest.json").read_text())["partial"] is True
    assert (tmp_path / "r" / "2025-H2" / "latest").resolve() == full.folder.resolve()


def test_as_of_must_be_a_time_with_an_offset(tmp_path, capsys):
    pack = make_pack(tmp_path / "pack")
    for bad in ("yesterday", "2026-01-01T00:00:00"):
        assert main(["run", "--cycle", "2025-H2", "--data", str(pack), "--as-of", bad, "--out", str(tmp_path)]) == 2
        assert "--as-of" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.browser
def test_the_pdfs_of_a_run_have_headers_page_numbers_and_every_page(sample_run, tmp_path):
    from riskkit.documents.pdf import pdf_page_count, pdf_page_texts
    from riskkit.documents.run_pdfs import write_run_pdfs

    run = tmp_path / "run"
    shutil.copytree(sample_run, run, symlinks=True)
    for html in run.glob("0[2]*.html"):  # three audits print like the risk assessment: keep the test quick
        html.unlink()
    written = write_run_pdfs(run)
    assert {p.name for p in written} == {"01_systemic_risk_assessment.pdf", "03_mcmc_half_yearly_report.pdf"}
    manifest = json.loads((run / "manifest.json").read_text())
    for pdf in written:
        n = pdf_page_count(pdf)
        texts = pdf_page_texts(pdf)
        assert n > 3
        for i, text in enumerate(texts, start=1):
            assert f"Page {i} of {n}" in text
            assert f"Serambi · 2026-H1 · run {manifest['run_id']}" in text
    assert "Half-yearly report to MCMC" in pdf_page_texts(run / "03_mcmc_half_yearly_report.pdf")[0]


# ------------------------------------------------------------------------------------------ formula injection


@pytest.fixture(scope="module")
def injected_run(tmp_path_factory):
    """A run of a pack with a spreadsheet formula in every free-text field it has."""
    from riskkit.runner import run_cycle

    root = tmp_path_factory.mktemp("inject")
    pack = root / "pack"
    shutil.copytree(SAMPLE, pack)
    meta = yaml.safe_load((pack / "datapack.yaml").read_text())
    meta["platform"]["licence_id"] = "+" + PAYLOAD
    meta["high_risk_periods"][0]["name"] = "@" + PAYLOAD
    (pack / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    for audit in ("child_safety", "safety_by_design", "accessibility"):
        answers = pd.read_csv(pack / "audits" / f"{audit}.csv", dtype=str, keep_default_na=False)
        for col in ("evidence", "owner", "notes", "assessed_by"):
            answers[col] = PAYLOAD
        answers.to_csv(pack / "audits" / f"{audit}.csv", index=False)
    features = pd.read_csv(pack / "feature_changes.csv", dtype=str, keep_default_na=False)
    features["feature"] = [f"-{PAYLOAD} {i}" for i in range(len(features))]
    features.to_csv(pack / "feature_changes.csv", index=False)
    actions = pq.read_table(pack / "actions.parquet").to_pandas()
    for col in ("rationale", "policy_ref"):
        actions[col] = actions[col].astype("string")
        actions.loc[actions.index[::7], col] = PAYLOAD
    actions.to_parquet(pack / "actions.parquet", index=False)

    def fake(job, folder, params, context, timeout, progress, i):
        import riskkit.runner

        (folder / f"{job.name}.html").write_text("<html></html>", encoding="utf-8")
        return riskkit.runner.NotebookRun(job.name, job.group, "succeeded", 0.0, "", f"{job.name}.html", 1, "", "")

    import riskkit.runner

    real = riskkit.runner._execute
    riskkit.runner._execute = fake
    try:
        return run_cycle(pack, "2026-H1", out=root / "r", progress=False).folder
    finally:
        riskkit.runner._execute = real


def test_no_workbook_cell_is_ever_a_formula(injected_run):
    books = sorted(injected_run.glob("*.xlsx"))
    assert len(books) >= 5
    seen = 0
    for book in books:
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book.name}!{ws.title}!{cell.coordinate} is a formula"
                    if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                        seen += 1
                        assert cell.data_type == "s"
    assert seen > 10  # the payload did reach the workbooks, as text


def test_no_csv_field_starts_like_a_formula(injected_run):
    files = sorted(injected_run.glob("*.csv"))
    assert len(files) >= 8
    seen = 0
    for file in files:
        with file.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for field in row:
                    if not _number(field):  # -46.0 is a number, not a formula; text is what must be neutralised
                        assert not field.startswith(DANGEROUS_FIRST), f"{file.name}: {field[:40]!r}"
                    seen += "HYPERLINK" in field
    assert seen > 10


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
