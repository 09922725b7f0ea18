"""Scan a run's ``public/`` folder as a reviewer would before publishing: every file, for anything identifying,
internal or below the disclosure threshold.

- forbidden text: identifiers and free text of the pack, input file names, hashes, run ids, framework ids, paths,
  code — anywhere in any file (HTML, CSV, README, PDF text);
- small counts: every cell of a count column (by its header, in either language) in the CSVs and in the HTML
  tables, and every bar of every chart, must be ``<threshold``, withheld, zero or at least the threshold.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from riskkit.reports.wording import load_wording

COUNT_COLUMNS = ("col_actions", "col_reports", "col_requests")


def count_headers() -> set[str]:
    words = load_wording()
    return {words.t(k, lang) for k in COUNT_COLUMNS for lang in words.languages}


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts (header row first), and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def _small(text: str, threshold: int) -> bool:
    """A published count below the threshold (``<10`` and withheld cells are fine; 0 is fine)."""
    plain = text.replace(",", "").strip()
    return plain.isdigit() and 0 < int(plain) < threshold


def _check_rows(rows: list[list[str]], where: str, threshold: int, headers: set[str]) -> list[str]:
    if not rows:
        return []
    problems = []
    columns = [i for i, h in enumerate(rows[0]) if h in headers]
    for row in rows[1:]:
        for i in columns:
            if i < len(row) and _small(row[i], threshold):
                problems.append(f"{where}: count {row[i]!r} below {threshold} in column {rows[0][i]!r} ({row[0]!r})")
    return problems


def _values(data: object) -> list[float | None]:
    """A trace's x/y as numbers: plain lists, or plotly's base64 typed arrays (``{"dtype", "bdata"}``)."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    if isinstance(data, list):
        return [v if isinstance(v, int | float) else None for v in data]
    return []


def _chart_problems(text: str, where: str, threshold: int) -> list[str]:
    problems = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", text):
        traces, _ = decoder.raw_decode(text, match.end())
        for trace in traces:
            if trace.get("type") != "bar":
                continue
            axis = "x" if trace.get("orientation") == "h" else "y"
            for v in _values(trace.get(axis)):
                if v is not None and 0 < v < threshold:
                    problems.append(f"{where}: a chart draws the count {v} (below {threshold})")
    return problems


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


#: What only internal documents may hold: code, notebook and pack file kinds, local paths.
INTERNAL_MARKERS = ("import ", "result_dir", "Traceback", ".ipynb", ".parquet", "datapack.yaml", "/tmp/", "/home/")


def pack_secrets(pack: Path, run_folder: Path, library) -> tuple[set[str], set[str]]:
    """(identifiers, texts) no public file may contain: every id and free text of the pack (its tables and its audit
    questionnaires), the sign-off's names, the run's id, input files and hashes, framework ids, the pack's path."""
    import pandas as pd

    from riskkit import schema
    from riskkit.pack import load_datapack

    data = load_datapack(pack, library=library)
    ids: set[str] = set()
    texts: set[str] = set()
    for table, spec in schema.TABLES.items():
        frame = data.tables.get(table)
        if frame is None:
            continue
        for col in spec.columns:
            if col.name in frame.columns and col.kind in ("id", "text"):
                values = {str(v) for v in frame[col.name].dropna().unique()}
                (ids if col.kind == "id" else texts).update(values)
    for questionnaire in (pack / "audits").glob("*.csv"):
        answers = pd.read_csv(questionnaire, dtype=str, keep_default_na=False)
        for col in ("evidence", "owner", "notes", "assessed_by"):
            if col in answers:
                texts.update(v for v in answers[col] if v.strip())
    sign_off = data.meta.sign_off
    for people in (sign_off.prepared_by, sign_off.reviewed_by, sign_off.approved_by) if sign_off else ():
        texts.update(p.name for p in people)
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    ids.add(manifest["run_id"])
    for item in manifest["inputs"]:
        texts.add(item["file"])
        ids.add(item["sha256"])
    ids.update(f["id"] for f in manifest["frameworks"])
    texts.update({str(pack), str(run_folder), *INTERNAL_MARKERS})
    texts = {t for t in texts if len(t.strip()) >= 4}  # a two-letter note would match everywhere
    return ids, texts


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*[A-Za-z0-9]")


def scan_public(folder: Path, ids: Iterable[str], texts: Iterable[str], threshold: int) -> list[str]:
    """Every problem found in ``folder`` (empty: fit to publish): ``ids`` must not occur as a word, ``texts``
    nowhere."""
    headers = count_headers()
    ids = {str(x) for x in ids if str(x).strip()}
    forbidden = [f for f in {str(x) for x in texts} if f.strip()]
    problems: list[str] = []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    if not files:
        return [f"{folder}: empty"]
    for path in files:
        where = path.relative_to(folder).as_posix()
        if path.suffix == ".pdf":
            text = _pdf_text(path)
        elif path.suffix in (".html", ".csv", ".txt"):
            text = path.read_text(encoding="utf-8-sig")
        else:
            problems.append(f"{where}: unexpected kind of file")
            continue
        problems += [f"{where}: contains {f!r}" for f in forbidden if f in text]
        problems += [f"{where}: contains the identifier {t!r}" for t in sorted(ids & set(_TOKEN.findall(text)))]
        if path.suffix == ".csv":
            problems += _check_rows(list(csv.reader(io.StringIO(text))), where, threshold, headers)
        elif path.suffix == ".html":
            parser = _Tables()
            parser.feed(text)
            for n, rows in enumerate(parser.tables, start=1):
                problems += _check_rows(rows, f"{where} table {n}", threshold, headers)
            problems += _chart_problems(text, where, threshold)
    return problems
