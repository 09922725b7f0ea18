"""A year run's ``public/`` folder: only what may be published.

The public report in each language as HTML (the rendered pages, which carry no run id, hash, file name or framework
id), its disclosed tables as CSV in each language, and a README saying what each file is. PDFs of the pages are
added next to them by ``riskkit run --pdf`` / ``riskkit pdf``. Nothing is copied from the pack: every figure comes
from the result's disclosed public tables.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd

from riskkit.documents.tabular import write_csv
from riskkit.reports.public import TABLES
from riskkit.reports.wording import Wording, load_wording
from riskkit.result import CycleResult

FOLDER = "public"


def page_name(year: str, lang: str) -> str:
    """``annual-report-2026-en.html``."""
    return f"annual-report-{year}-{lang}.html"


def write_public_folder(run_folder: Path, result: CycleResult, pages: dict[str, Path], published: date) -> Path:
    """Write ``run_folder/public`` from the rendered public ``pages`` (language -> HTML file) and the result's
    public tables; returns the folder."""
    words = load_wording()
    out = run_folder / FOLDER
    out.mkdir()
    for lang, page in pages.items():
        shutil.copyfile(page, out / page_name(result.cycle_id, lang))
    for lang in words.languages:
        for number, key in enumerate(TABLES, start=1):
            (out / f"tables-{lang}").mkdir(exist_ok=True)
            frame = machine_readable(result[f"public.{lang}.{key}"])
            write_csv(frame, out / f"tables-{lang}" / f"{number}-{key}.csv", bom=True)
    write_readme(out, result, published)
    return out


def machine_readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A disclosed table for software: ``35,233`` becomes ``35233``; ``<10``, ``withheld`` and ``50.8%`` stay as
    the report shows them (they are what may be published)."""
    out = frame.copy()
    for col in out.columns[1:]:
        out[col] = [_THOUSANDS.sub("", v) if isinstance(v, str) and _GROUPED.fullmatch(v) else v for v in out[col]]
    return out


_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_THOUSANDS = re.compile(",")


def write_readme(folder: Path, result: CycleResult, published: date) -> Path:
    """``README.txt`` of a public folder, listing the files it holds now (again after PDFs are added)."""
    words = load_wording()
    year = result.cycle_id
    listing: list[tuple[str, str]] = []  # (file, wording key of its description)
    for lang in words.languages:
        for suffix, key in ((".html", "readme_html"), (".pdf", "readme_pdf")):
            name = page_name(year, lang).removesuffix(".html") + suffix
            if (folder / name).is_file():
                listing.append((name, key))
    for lang in words.languages:
        for number, key in enumerate(TABLES, start=1):
            name = f"tables-{lang}/{number}-{key}.csv"
            if (folder / name).is_file():
                listing.append((name, f"table_{key}"))
    threshold = result.scalars["public"]["threshold"]
    signed = bool(result.scalars["sign_off"]["signed"])
    path = folder / "README.txt"
    path.write_text(_readme(words, year, listing, published, threshold, signed), encoding="utf-8")
    return path


def _readme(
    words: Wording, year: str, listing: list[tuple[str, str]], published: date, threshold: int, signed: bool
) -> str:
    """Plain text, every language in turn: what the folder is, what each file is, when it was published."""
    parts = []
    for lang in words.languages:
        title = words.t("readme_title", lang, year=year)
        lines = [title, "=" * len(title), ""]
        if not signed:
            lines += [words.t("readme_draft", lang), ""]
        lines += [words.t("readme_intro", lang, threshold=threshold), ""]
        lines += [f"{words.t('published', lang)}: {words.date(published, lang)}", ""]
        for name, key in listing:
            what = words.t(key, lang)
            if key.startswith("table_"):
                what = f"{words.t('readme_csv', lang)}: {what}"
            lines.append(f"- {name}: {what}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
