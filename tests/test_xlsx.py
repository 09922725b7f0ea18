"""The one xlsx writer: cover sheet, typed cells with the right number formats, frozen header and autofilter,
safe sheet names, atomic writes — and no text ever becomes a formula (checked for arbitrary text by hypothesis,
with the CSV writer's quoting alongside)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from riskkit.documents import DocumentError, files, xlsx
from riskkit.documents.tabular import DANGEROUS_FIRST, neutralise, write_csv
from riskkit.documents.xlsx import Column, Cover, Sheet, clean_text, safe_sheet_names, write_workbook

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "\tTAB", "=1+1", "#N/A"]
COLUMNS = [
    Column("id", "Action"),
    Column("n", "Count", "integer"),
    Column("x", "Mean", "number"),
    Column("share", "Within 24 h", "percent"),
    Column("day", "Day", "date"),
    Column("at", "Actioned at", "datetime"),
    Column("h", "Time to action", "hours"),
]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["A-1", "a much longer identifier of forty chars", None],
            "n": pd.array([1234567, 0, None], dtype="Int64"),
            "x": [2.5, np.nan, -1.25],
            "share": [0.953, 1.0, None],
            "day": [dt.date(2025, 7, 1), pd.Timestamp("2025-12-31T20:00:00Z"), pd.NaT],
            "at": pd.to_datetime(["2025-07-01T01:30:00Z", "2025-12-31T16:00:00Z", None], utc=True),
            "h": [1.5, pd.Timedelta(minutes=90), None],
        }
    )


@pytest.fixture
def book(tmp_path):
    cover = Cover([("Platform", "Serambi"), ("Cycle", "2025-H2"), ("Run", "2026-01-10T0900"), ("Note", "x " * 200)])
    path = write_workbook(
        tmp_path / "book.xlsx",
        cover,
        [Sheet("Actions", "Moderation actions", frame(), COLUMNS, note="Malaysia only")],
    )
    return path, load_workbook(path)


def test_cover_sheet_comes_first_with_bold_labels_and_contents(book):
    _, wb = book
    assert wb.sheetnames == ["Cover", "Actions"]
    ws = wb["Cover"]
    assert [ws.cell(r, 1).value for r in range(1, 5)] == ["Platform", "Cycle", "Run", "Note"]
    assert [ws.cell(r, 2).value for r in range(1, 4)] == ["Serambi", "2025-H2", "2026-01-10T0900"]
    assert all(ws.cell(r, 1).font.b for r in range(1, 5))
    assert ws.cell(4, 2).alignment.wrap_text
    assert ws.column_dimensions["B"].width >= 60 > ws.column_dimensions["A"].width
    assert ws.cell(6, 1).value == "Contents" and ws.cell(6, 1).font.b
    assert (ws.cell(7, 1).value, ws.cell(7, 2).value) == ("Actions", "Moderation actions. Malaysia only (3 rows)")


def test_data_sheet_has_bold_header_frozen_panes_autofilter_and_widths(book):
    _, wb = book
    ws = wb["Actions"]
    assert [c.value for c in ws[1]] == [
        "Action",
        "Count",
        "Mean",
        "Within 24 h",
        "Day",
        "Actioned at (MYT)",
        "Time to action",
    ]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G4"
    widths = {k: ws.column_dimensions[k].width for k in "ABCDEFG"}
    assert all(8 <= w <= 60 for w in widths.values())
    assert widths["A"] >= 41  # the 39-character identifier fits
    assert widths["F"] >= 19  # a full datetime fits
    assert ws.print_title_rows == "$1:$1"
    assert ws.oddHeader.center.text == "Moderation actions"


def test_cells_are_typed_by_kind_with_number_formats(book):
    _, wb = book
    ws = wb["Actions"]
    row = {c.column_letter: c for c in ws[2]}
    assert (row["B"].value, row["B"].number_format) == (1234567, "#,##0")
    assert (row["C"].value, row["C"].number_format) == (2.5, "#,##0.00")
    assert (row["D"].value, row["D"].number_format) == (0.953, "0.0%")  # a real number, not "95.3%"
    assert isinstance(row["E"].value, dt.datetime) and row["E"].number_format == "yyyy-mm-dd"
    assert row["E"].value == dt.datetime(2025, 7, 1)
    assert row["F"].value == dt.datetime(2025, 7, 1, 9, 30)  # 01:30 UTC is 09:30 in Kuala Lumpur
    assert row["F"].number_format == "yyyy-mm-dd hh:mm:ss" and row["F"].is_date
    assert (row["G"].value, row["G"].number_format) == (1.5, "#,##0.0")
    second = {c.column_letter: c for c in ws[3]}
    assert second["E"].value == dt.datetime(2026, 1, 1)  # 20:00 UTC on 31 Dec is 1 Jan in Malaysia
    assert second["F"].value == dt.datetime(2026, 1, 1, 0, 0)
    assert second["G"].value == 1.5  # a timedelta in hours


def test_missing_values_are_empty_cells(book):
    _, wb = book
    ws = wb["Actions"]
    assert [c.value for c in ws[4]] == [None, None, -1.25, None, None, None, None]
    assert ws["C3"].value is None  # NaN


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    data = pd.DataFrame({"text": HOSTILE, "n": range(len(HOSTILE))})
    cover = Cover([("Platform", "=cmd|' /C calc'!A0")])
    path = write_workbook(tmp_path / "hostile.xlsx", cover, [Sheet("Evidence", "Evidence", data)])
    wb = load_workbook(path)
    ws = wb["Evidence"]
    for r, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(r, 1)
        assert cell.value == text and cell.data_type == "s", (text, cell.value, cell.data_type)
        assert cell.quotePrefix  # Excel keeps it text even after the cell is edited
    assert wb["Cover"]["B1"].value == "=cmd|' /C calc'!A0" and wb["Cover"]["B1"].data_type == "s"
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)


def test_values_not_of_the_column_kind_are_kept_as_text(tmp_path):
    data = pd.DataFrame({"d": ["2025-03-01", "not a date", "=1"], "n": ["1,200", "n/a", "-5"]})
    cols = [Column("d", "Day", "date"), Column("n", "Count", "integer")]
    wb = load_workbook(write_workbook(tmp_path / "b.xlsx", Cover([]), [Sheet("S", "S", data, cols)]))
    ws = wb["S"]
    assert ws["A2"].value == dt.datetime(2025, 3, 1)
    assert (ws["A3"].value, ws["A3"].data_type) == ("not a date", "s")
    assert (ws["A4"].value, ws["A4"].data_type) == ("=1", "s")
    assert [ws["B2"].value, ws["B3"].value, ws["B4"].value] == [1200, "n/a", -5]


def test_sheet_names_are_safe_and_unique():
    names = safe_sheet_names(["Cover", "a/b:c*d?e[f]g\\h", "x" * 40, "x" * 40, "history", "'quoted'", "", "cover"])
    assert names == [
        "Cover (2)",
        "a_b_c_d_e_f_g_h",
        "x" * 31,
        "x" * 27 + " (2)",
        "History_",
        "quoted",
        "Sheet",
        "cover (3)",
    ]
    assert all(len(n) <= 31 for n in names)
    assert len({n.casefold() for n in names}) == len(names)


def test_clean_text_keeps_what_a_worksheet_can_hold():
    assert clean_text("a\x00b\x1fc\td\ne") == "a\ufffdb\ufffdc\td\ne"
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text("_x0041_") == "_x005F_x0041_"  # Excel would otherwise show "A"
    long = clean_text("y" * 40_000)
    assert len(long) == 32_767 and long.endswith("…")


def test_refuses_to_overwrite_and_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"last good")
    with pytest.raises(DocumentError, match="already exists"):
        write_workbook(path, Cover([]), [Sheet("S", "S", frame(), COLUMNS)])
    assert path.read_bytes() == b"last good"
    monkeypatch.setattr(files.os, "fsync", lambda fd: 1 / 0)  # fails after the workbook is written, before the move
    with pytest.raises(ZeroDivisionError):
        write_workbook(path, Cover([]), [Sheet("S", "S", frame(), COLUMNS)], overwrite=True)
    assert path.read_bytes() == b"last good"
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_overwrite_replaces(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"old")
    write_workbook(path, Cover([("a", "b")]), [], overwrite=True)
    assert load_workbook(path).sheetnames == ["Cover"]


def test_sheets_excel_cannot_hold_are_refused(tmp_path, monkeypatch):
    with pytest.raises(DocumentError, match="no column"):
        write_workbook(tmp_path / "a.xlsx", Cover([]), [Sheet("S", "S", frame(), [Column("nope", "Nope")])])
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    with pytest.raises(DocumentError, match="export it as CSV"):
        write_workbook(tmp_path / "b.xlsx", Cover([]), [Sheet("S", "S", frame(), COLUMNS)])
    assert not (tmp_path / "b.xlsx").exists()


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="kind"):
        Column("a", "A", "money")  # type: ignore[arg-type]


def test_columns_inferred_from_dtypes(tmp_path):
    data = pd.DataFrame({"n": [1, 2], "x": [0.5, 1.5], "t": ["a", "b"], "at": pd.to_datetime(["2025-01-01"] * 2)})
    assert [c.kind for c in xlsx.infer_columns(data)] == ["integer", "number", "text", "datetime"]
    ws = load_workbook(write_workbook(tmp_path / "i.xlsx", Cover([]), [Sheet("S", "S", data)]))["S"]
    assert [c.value for c in ws[1]] == ["n", "x", "t", "at (MYT)"]
    assert ws["A2"].number_format == "#,##0" and ws["B2"].number_format == "#,##0.00"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=40), min_size=1, max_size=12))
def test_no_text_ever_becomes_a_formula(tmp_path, texts):
    """Any text: the xlsx cell is a string cell holding it (as a worksheet can), the CSV cell never starts with a
    character that would make it a formula."""
    texts = [*texts, *(c + t for c, t in zip(DANGEROUS_FIRST, texts * 6, strict=False))]
    data = pd.DataFrame({"text": pd.Series(texts, dtype=object)})
    path = write_workbook(tmp_path / "p.xlsx", Cover([("t", texts[0])]), [Sheet("S", "S", data)], overwrite=True)
    ws = load_workbook(path)["S"]
    for r, text in enumerate(texts, start=2):
        cell = ws.cell(r, 1)
        expected = clean_text(text)
        if expected == "":
            assert cell.value is None
        else:
            assert cell.data_type == "s" and cell.value == expected, (text, cell.value, cell.data_type)
    out = write_csv(data, tmp_path / "p.csv", overwrite=True)
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert [r[0] if r else "" for r in rows[1:]] == [neutralise(t) for t in texts]
    assert not any(r and r[0].startswith(DANGEROUS_FIRST) for r in rows[1:])
