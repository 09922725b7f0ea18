"""A year run's public/ folder: only what may be published, in English and Malay, found clean by a reviewer's scan
of every file; the run's index keeps it apart from the internal files."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from public_scan import pack_secrets, scan_public
from riskkit.cli import main

SAMPLE = Path(__file__).parents[1] / "data" / "sample"

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def public(sample_year_run) -> Path:
    return sample_year_run / "public"


def test_public_folder_holds_the_report_in_both_languages_its_tables_and_a_readme(public):
    files = {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()}
    tables = {
        f"tables-{lang}/{n}-{k}.csv"
        for lang in ("en", "ms")
        for n, k in enumerate(("harm", "handling", "support", "rates", "reports", "requests"), start=1)
    }
    assert files == {"README.txt", "annual-report-2025-en.html", "annual-report-2025-ms.html", *tables}
    readme = (public / "README.txt").read_text(encoding="utf-8")
    for name in files - {"README.txt"}:
        assert readme.count(f"- {name}: ") == 2, name  # described in English and in Malay
    assert "nothing else from this run" in readme and "tiada yang lain daripada larian ini" in readme
    assert "unsigned draft" in readme  # the sample names no one in its sign-off


def test_a_reviewers_scan_finds_nothing_identifying_internal_or_small(public, sample_year_run, library):
    ids, texts = pack_secrets(SAMPLE, sample_year_run, library)
    assert len(ids) > 100_000 and "A00000001" in ids  # the scan knows the pack's identifiers
    assert scan_public(public, ids, texts, threshold=10) == []


def test_the_scan_catches_a_leak(public, sample_year_run, library, tmp_path):
    """The scan must be able to fail: plant an identifier, a rationale, a run id and a small count."""
    ids, texts = pack_secrets(SAMPLE, sample_year_run, library)
    leaky = tmp_path / "public"
    shutil.copytree(public, leaky)
    page = leaky / "annual-report-2025-en.html"
    run_id = json.loads((sample_year_run / "manifest.json").read_text())["run_id"]
    page.write_text(page.read_text().replace("</main>", f"<p>A00000042 {run_id}</p></main>"), encoding="utf-8")
    harm = leaky / "tables-ms" / "1-harm.csv"
    rows = list(csv.reader(harm.open(encoding="utf-8-sig")))
    rows[1][1] = "4"
    with harm.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    (leaky / "README.txt").write_text("Content removed: financial scam or fraud.", encoding="utf-8")
    problems = scan_public(leaky, ids, texts, threshold=10)
    assert any("'A00000042'" in p for p in problems)
    assert any(run_id in p for p in problems)
    assert any("tables-ms/1-harm.csv: count '4'" in p for p in problems)
    assert any(p.startswith("README.txt: contains 'Content removed") for p in problems)


def test_both_languages_publish_the_same_figures(public):
    for n, key in enumerate(("harm", "handling", "support", "rates", "reports", "requests"), start=1):
        en = list(csv.reader((public / f"tables-en/{n}-{key}.csv").open(encoding="utf-8-sig")))
        ms = list(csv.reader((public / f"tables-ms/{n}-{key}.csv").open(encoding="utf-8-sig")))
        assert len(en) == len(ms) and en[0] != ms[0]  # headers translated
        for a, b in zip(en[1:], ms[1:], strict=True):
            assert a[0] != b[0] or a[0].isdigit() or (a[0] == "Total" and b[0] == "Jumlah")
            assert [v.replace("withheld", "dirahsiakan") for v in a[1:]] == b[1:]
    harm = list(csv.reader((public / "tables-en/1-harm.csv").open(encoding="utf-8-sig")))
    assert harm[-1][0] == "Total" and re.fullmatch(r"\d+", harm[-1][1])  # numbers without thousands separators
    assert int(harm[-1][1]) == sum(int(r[1]) for r in harm[1:-1])


def test_public_pages_are_in_their_language_with_a_summary_and_no_provenance(public):
    en = (public / "annual-report-2025-en.html").read_text(encoding="utf-8")
    ms = (public / "annual-report-2025-ms.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in en and '<html lang="ms">' in ms
    assert "The year in brief" in en and "Ringkasan tahun ini" in ms
    assert "In 2025, we took 35,233 enforcement actions" in en
    assert "Pada tahun 2025, kami mengambil 35,233 tindakan penguatkuasaan" in ms
    assert "1 Januari – 31 Disember 2025" in ms and "Diterbitkan" in ms and "Data setakat" in ms
    assert "Harmful content we acted on" not in ms  # no English section left in the Malay page
    for page in (en, ms):
        assert "About this document" not in page and "SHA-256" not in page and "riskkit-metrics" not in page
        visible = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", page, flags=re.S)
        assert not re.findall(r"(?<![-\w])[a-z0-9]+(?:_[a-z0-9]+)+(?![-\w])", visible)  # no machine keys


def test_the_index_keeps_public_apart(sample_year_run):
    index = (sample_year_run / "index.html").read_text(encoding="utf-8")
    assert "Only the files in <code>public/</code> may be published." in index
    assert 'href="public/annual-report-2025-ms.html"' in index
    assert 'href="public/README.txt"' in index


@pytest.mark.slow
def test_publication_date_is_printed_and_a_bad_one_refused(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(["run", "--cycle", "2025", "--data", str(SAMPLE), "--out", str(out), "--publication-date", "31-03-2027"])
        == 2
    )
    assert "--publication-date '31-03-2027' is not a date" in capsys.readouterr().err
    assert not out.exists() or not any(out.rglob("*.html"))
    assert (
        main(
            [
                "run",
                "--cycle",
                "2025",
                "--data",
                str(SAMPLE),
                "--out",
                str(out),
                "--publication-date",
                "2027-03-31",
                "--quiet",
            ]
        )
        == 0
    )
    public = out / "2025" / "latest" / "public"
    assert "31 March 2027" in (public / "annual-report-2025-en.html").read_text()
    assert "31 Mac 2027" in (public / "annual-report-2025-ms.html").read_text()
    assert "Diterbitkan: 31 Mac 2027" in (public / "README.txt").read_text()


@pytest.mark.slow
@pytest.mark.browser
def test_public_pdfs_are_printed_in_their_language_without_run_ids(sample_year_run, tmp_path, library):
    from riskkit.documents.pdf import pdf_page_texts
    from riskkit.documents.run_pdfs import write_run_pdfs

    run = tmp_path / "run"
    shutil.copytree(sample_year_run, run, symlinks=True)
    for internal in run.glob("0*.html"):  # the internal copies print the same way: keep the test quick
        internal.unlink()
    written = write_run_pdfs(run)
    assert {p.relative_to(run).as_posix() for p in written} == {
        "public/annual-report-2025-en.pdf",
        "public/annual-report-2025-ms.pdf",
    }
    run_id = json.loads((run / "manifest.json").read_text())["run_id"]
    ms = pdf_page_texts(run / "public" / "annual-report-2025-ms.pdf")
    assert "Halaman 1 daripada" in ms[0] and "Ringkasan tahun ini" in " ".join(ms)
    assert all(run_id not in text for text in ms)
    readme = (run / "public" / "README.txt").read_text()
    assert "- annual-report-2025-ms.pdf: Laporan sebagai PDF yang boleh dicetak" in readme
    ids, texts = pack_secrets(SAMPLE, run, library)
    assert scan_public(run / "public", ids, texts, threshold=10) == []  # PDF text included
