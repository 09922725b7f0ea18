"""CSV exports: RFC 4180, UTF-8, atomic, and every text cell that a spreadsheet would run as a formula is quoted
with a leading single quote (OWASP's rule)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from riskkit.documents import DocumentError
from riskkit.documents.files import atomic_path
from riskkit.documents.tabular import DANGEROUS_FIRST, neutralise, neutralise_frame, write_csv

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", HOSTILE)
def test_neutralise_quotes_text_a_spreadsheet_would_run(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "a=b", " =1", "'=already quoted", "1.5", "Serambi · 2026"])
def test_neutralise_leaves_other_text_alone(text):
    assert neutralise(text) == text


def _rows(path):
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def test_csv_round_trip_shows_the_quoted_text(tmp_path):
    frame = pd.DataFrame(
        {
            "object": pd.Series([*HOSTILE, 'say "hi", ok', None], dtype=object),
            "string": pd.array(["-1", "x", None, "@a", "=b", "multi\r\nline", "\tq", "ok"], dtype="string"),
            "category": pd.Categorical(["=1", "b", "=1", None, "c", "+", "d", "e"]),
            "number": [-1.5, 2, None, 4, 5, 6, 7, 8],
            "mixed": pd.Series(["-3", -3, None, float("nan"), "x", True, "=y", 0], dtype=object),
        }
    )
    path = write_csv(frame, tmp_path / "out.csv")
    raw, rows = _rows(path)
    assert rows[0] == ["object", "string", "category", "number", "mixed"]
    body = rows[1:]
    assert [r[0] for r in body] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tTAB",
        "'\rCR",
        'say "hi", ok',
        "",
    ]
    assert [r[1] for r in body] == ["'-1", "x", "", "'@a", "'=b", "multi\r\nline", "'\tq", "ok"]
    assert [r[2] for r in body] == ["'=1", "b", "'=1", "", "c", "'+", "d", "e"]
    assert body[0][3] == "-1.5"  # numbers are not text: a negative number stays a number
    assert [r[4] for r in body] == ["'-3", "-3", "", "", "x", "True", "'=y", "0"]
    assert raw.startswith(b"object,string") and raw.count(b"\r\n") >= 9  # CRLF records, no BOM
    assert b'"\'=HYPERLINK(""http://x"",""y"")"' in raw  # RFC 4180 quoting doubles quotes
    assert all(not cell.startswith(DANGEROUS_FIRST) for row in body for cell in row[:3])  # the text columns


def test_neutralise_frame_keeps_the_input_and_dtypes(tmp_path):
    frame = pd.DataFrame({"a": ["=1", "b"], "n": [1, 2]})
    out = neutralise_frame(frame)
    assert frame["a"].tolist() == ["=1", "b"]
    assert out["a"].tolist() == ["'=1", "b"]
    assert out["n"].dtype == frame["n"].dtype


def test_csv_utf8_and_optional_bom(tmp_path):
    frame = pd.DataFrame({"platform": ["Serambi · 丝绸 · Kedai"]})
    plain = write_csv(frame, tmp_path / "plain.csv")
    assert plain.read_bytes() == "platform\r\nSerambi · 丝绸 · Kedai\r\n".encode()
    bom = write_csv(frame, tmp_path / "bom.csv", bom=True)
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfplatform")


def test_csv_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(DocumentError, match="already exists"):
        write_csv(pd.DataFrame({"a": [1]}), path)
    assert path.read_text(encoding="utf-8") == "keep me"
    write_csv(pd.DataFrame({"a": [1]}), path, overwrite=True)
    assert path.read_bytes() == b"a\r\n1\r\n"


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("last good", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert path.read_text(encoding="utf-8") == "last good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("zone", ["Asia/Kuala_Lumpur", "Europe/Berlin", "America/St_Johns", "UTC"])
def test_iso_instants_write_what_arrow_strftime_writes(zone):
    """The fast formatter of CSV timestamps: the same text as Arrow's strftime, nulls kept, chunks joined — in a
    zone with summer time and one with a half-hour offset too (2000-2036, where Arrow applies summer time)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from riskkit.documents.tabular import iso_instants

    rng = np.random.default_rng(7)
    values = rng.integers(946_684_800_000_000, 2_114_380_800_000_000, 50_000)
    arr = pa.array(values, type=pa.timestamp("us", tz=zone), mask=rng.random(len(values)) < 0.1)
    expected = pc.strftime(arr, format="%Y-%m-%dT%H:%M:%S%z")
    got = iso_instants(pa.chunked_array([arr[:1000], arr[1000:]]))
    assert got.equals(expected)
    assert got.null_count == arr.null_count > 0


def test_large_exports_neutralise_text_and_dictionaries_alike(tmp_path):
    """write_csv_arrow (record keeping): formulas in plain and dictionary-encoded text are quoted, nulls stay
    empty, timestamps carry their offset — the same rule as write_csv."""
    import pyarrow as pa

    from riskkit.documents.tabular import write_csv_arrow

    text = ["=HYPERLINK(1)", None, "ok", "-1+1", "@SUM(A1)", "\tplain"]
    table = pa.table(
        {
            "rationale": pa.array(text),
            "category": pa.array(text).dictionary_encode(),
            "at": pa.array([0, 1_000_000, None, 3, 4, 5], type=pa.timestamp("us", tz="Asia/Kuala_Lumpur")),
            "n": pa.array([1, 2, 3, 4, 5, 6]),
        }
    )
    path = write_csv_arrow(table, tmp_path / "out.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["rationale", "category", "at", "n"]
    expected = ["'=HYPERLINK(1)", "", "ok", "'-1+1", "'@SUM(A1)", "'\tplain"]
    assert [r[0] for r in rows[1:]] == expected and [r[1] for r in rows[1:]] == expected
    assert rows[1][2] == "1970-01-01T07:30:00.000000+0730" and rows[2][2] == "1970-01-01T07:30:01.000000+0730"
    assert rows[3][2] == ""
