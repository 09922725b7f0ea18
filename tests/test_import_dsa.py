"""DSA statement-of-reasons import: both schema versions, full and light dumps, zip-of-zips and Parquet packaging,
and every messy-data case. Fixture files are written here from the documented format (research/metrics-anchors.md
§2); no real dump rows are used."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import riskkit
from packs import base_tables, make_pack
from riskkit.cli import main
from riskkit.datapack import validate_datapack
from riskkit.exceptions import ParameterError
from riskkit.framework import load_library
from riskkit.importers.dsa import DsaImportError, import_dsa
from riskkit.metrics import compute
from riskkit.runner import run_cycle

FULL = load_library().get("dsa-import").raw["columns"]["full"]
LIGHT_DROPS = load_library().get("dsa-import").raw["columns"]["light_drops"]
BIDI = "Penipuan \u202eknab\u202c — 诈骗 — மோசடி"


def statement(i: int, **changes: str) -> dict[str, str]:
    """One statement as a dump row (v2 schema, a phishing post reported by a user, removed by a human)."""
    row = {c: "" for c in FULL}
    row.update(
        uuid=f"00000000-0000-4000-8000-{i:012d}",
        decision_visibility='["DECISION_VISIBILITY_CONTENT_REMOVED"]',
        account_type="ACCOUNT_TYPE_PRIVATE",
        decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
        incompatible_content_ground="Community Guidelines 4.2",
        incompatible_content_explanation="Link to a fake bank login page",
        incompatible_content_illegal="Yes",
        category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        category_addition="[]",
        category_specification='["KEYWORD_PHISHING"]',
        content_type='["CONTENT_TYPE_TEXT"]',
        content_language="MS",
        content_date="2025-08-01 00:00:00",
        territorial_scope='["MY"]',
        application_date="2025-08-03 00:00:00",
        decision_facts="Phishing link",
        source_type="SOURCE_ARTICLE_16",
        automated_detection="No",
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        platform_name="Contoh",
        platform_uid=f"P{i:06d}",
        created_at="2025-08-03 10:00:00",
    )
    row.update(changes)
    return row


def write_dump(path: Path, rows: list[dict[str, str]], light: bool = False) -> Path:
    cols = [c for c in FULL if not (light and c in LIGHT_DROPS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, quoting=csv.QUOTE_ALL, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def actions_of(pack: Path) -> pd.DataFrame:
    return pq.read_table(pack / "actions.parquet").to_pandas().set_index("action_id")


# ------------------------------------------------------------------------------------------- the mapping


def test_v2_full_dump_maps_every_field(tmp_path):
    rows = [
        statement(1),
        statement(
            2,
            category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            category_specification='["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]',
            source_type="SOURCE_VOLUNTARY",
            automated_detection="Yes",
            automated_decision="AUTOMATED_DECISION_FULLY",
            decision_account="DECISION_ACCOUNT_TERMINATED",
            content_type='["CONTENT_TYPE_IMAGE"]',
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground="Sexual Offences against Children Act 2017 s.4",
            illegal_content_explanation="Known hash",
        ),
        statement(
            3,
            source_type="SOURCE_TRUSTED_FLAGGER",
            automated_decision="AUTOMATED_DECISION_PARTIALLY",
            territorial_scope='["DE","FR"]',
            decision_visibility='["DECISION_VISIBILITY_CONTENT_DEMOTED"]',
        ),
        statement(
            4,
            source_type="SOURCE_VOLUNTARY",
            automated_detection="No",
            decision_facts=BIDI,
            decision_visibility='["DECISION_VISIBILITY_CONTENT_LABELLED"]',
            category="STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
            category_specification='["KEYWORD_MISINFORMATION_DISINFORMATION"]',
        ),
    ]
    report = import_dsa([write_dump(tmp_path / "sor-contoh-2025-08-03-full-00000-00000.csv", rows)], tmp_path / "pack")
    assert report.rows_in == 4 and report.rows_out == 4 and report.variant == {"full"}
    a = actions_of(tmp_path / "pack")
    scam, csam, demoted, label = (a.loc[f"P{i:06d}"] for i in (1, 2, 3, 4))
    assert (scam["category"], scam["detection_source"], scam["decision_by"], scam["action"]) == (
        "financial_scam",
        "user_report",
        "human",
        "remove",
    )
    assert scam["surface"] == "text" and bool(scam["in_malaysia"])
    assert scam["detected_at"] == pd.Timestamp("2025-08-01T00:00:00Z")
    assert scam["actioned_at"] == pd.Timestamp("2025-08-03T00:00:00Z")
    assert scam["policy_ref"] == "Community Guidelines 4.2"
    assert scam["rationale"] == "Phishing link | Link to a fake bank login page"
    assert scam["source_category"] == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD/KEYWORD_PHISHING"
    assert scam["content_id"] == "00000000-0000-4000-8000-000000000001"
    assert (csam["category"], csam["detection_source"], csam["decision_by"], csam["action"]) == (
        "csam",
        "automated",
        "automated",
        "terminate_account",
    )
    assert csam["policy_ref"].startswith("Sexual Offences against Children Act")
    assert (demoted["detection_source"], demoted["decision_by"], demoted["action"]) == (
        "trusted_flagger",
        "hybrid",
        "restrict",
    )
    assert not bool(demoted["in_malaysia"])  # territorial_scope DE, FR
    assert (label["action"], label["detection_source"], label["category"]) == ("label", "proactive_human", "other")
    assert label["rationale"].startswith(BIDI + " | ")  # non-ASCII and bidi controls intact
    meta = yaml.safe_load((tmp_path / "pack" / "datapack.yaml").read_text())
    assert meta["time_resolution"] == "day" and meta["platform"]["name"] == "Contoh"
    assert meta["import"]["mapping"] == "dsa-import 1.0.0"
    assert validate_datapack(tmp_path / "pack").ok


def test_v1_values_are_detected_and_mapped(tmp_path):
    rows = [
        statement(1, category="STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", category_specification="[]"),
        statement(
            2,
            category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
            category_specification='["KEYWORD_ONLINE_BULLYING_INTIMIDATION"]',
        ),
        statement(
            3,
            category="STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
            category_specification='["KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE"]',
        ),
        statement(4),
    ]
    report = import_dsa([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    assert report.schema_versions == {1: 3, 2: 1}
    a = actions_of(tmp_path / "pack")
    assert a["category"].tolist() == ["obscene_indecent", "bullying_harassment", "manipulated_media", "financial_scam"]


def test_self_harm_becomes_child_self_harm_only_for_minors(tmp_path):
    rows = [
        statement(1, category="STATEMENT_CATEGORY_SELF_HARM", category_specification='["KEYWORD_SUICIDE"]'),
        statement(
            2,
            category="STATEMENT_CATEGORY_SELF_HARM",
            category_specification='["KEYWORD_SUICIDE"]',
            category_addition='["STATEMENT_CATEGORY_PROTECTION_OF_MINORS"]',
        ),
    ]
    import_dsa([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    assert actions_of(tmp_path / "pack")["category"].tolist() == ["other", "child_self_harm"]


def test_light_dump_needs_a_territory_rule(tmp_path):
    dump = write_dump(tmp_path / "sor-global-2025-08-03-light-00000.csv", [statement(1), statement(2)], light=True)
    with pytest.raises(DsaImportError, match="pass --territory all"):
        import_dsa([dump], tmp_path / "pack")
    assert not (tmp_path / "pack").exists()
    report = import_dsa([dump], tmp_path / "pack", territory="all")
    assert report.variant == {"light"}
    a = actions_of(tmp_path / "pack")
    assert a["in_malaysia"].all() and (a["rationale"] == "").all()  # light dumps carry no decision facts


# ------------------------------------------------------------------------------------------- packaging


def test_zip_of_zips_and_parquet_give_the_same_pack(tmp_path):
    rows = [
        statement(
            i, category_specification='["KEYWORD_HATE_SPEECH"]', category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
        )
        for i in range(1, 6)
    ]
    rows += [statement(i) for i in range(6, 11)]
    reference = import_dsa([write_dump(tmp_path / "plain.csv", rows)], tmp_path / "from-csv")
    outer = tmp_path / "sor-global-2025-08-03-full.zip"
    with zipfile.ZipFile(outer, "w") as z:
        for part, chunk in enumerate((rows[:5], rows[5:])):
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as iz:
                buf = io.StringIO()
                w = csv.DictWriter(buf, fieldnames=FULL, quoting=csv.QUOTE_ALL)
                w.writeheader()
                w.writerows(chunk)
                iz.writestr(f"sor-global-2025-08-03-full-{part:05d}-00000.csv", buf.getvalue())
            z.writestr(f"sor-global-2025-08-03-full-{part:05d}.csv.zip", inner.getvalue())
            z.writestr(f"sor-global-2025-08-03-full-{part:05d}.csv.zip.sha1", "0" * 40)
    zipped = import_dsa([outer], tmp_path / "from-zip")
    frame = pd.DataFrame(rows)
    for col in (
        "decision_visibility",
        "category_addition",
        "category_specification",
        "content_type",
        "territorial_scope",
    ):
        frame[col] = frame[col].map(json.loads)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "dump.parquet")
    parquet = import_dsa([tmp_path / "dump.parquet"], tmp_path / "from-parquet")
    assert reference.rows_out == zipped.rows_out == parquet.rows_out == 10
    a = actions_of(tmp_path / "from-csv")
    pd.testing.assert_frame_equal(a, actions_of(tmp_path / "from-zip"))
    pd.testing.assert_frame_equal(a, actions_of(tmp_path / "from-parquet"))
    assert a["category"].value_counts().to_dict() == {"hate_speech": 5, "financial_scam": 5}


# ------------------------------------------------------------------------------------------- messy data


def test_exact_duplicates_across_chunks_are_dropped_and_counted(tmp_path):
    first = write_dump(tmp_path / "day1.csv", [statement(1), statement(2)])
    second = write_dump(tmp_path / "day2.csv", [statement(2), statement(3)])  # P000002 again, identical
    report = import_dsa([first, second], tmp_path / "pack")
    assert report.rows_in == 4 and report.rows_out == 3
    assert report.dropped["exact duplicate of an earlier statement"] == 1
    assert sorted(actions_of(tmp_path / "pack").index) == ["P000001", "P000002", "P000003"]


def test_same_id_with_different_content_is_an_error_and_nothing_is_written(tmp_path):
    first = write_dump(tmp_path / "day1.csv", [statement(1), statement(2)])
    second = write_dump(tmp_path / "day2.csv", [statement(3), statement(2, decision_facts="changed")])
    with pytest.raises(DsaImportError, match="reuse a platform_uid with different content") as info:
        import_dsa([first, second], tmp_path / "pack")
    assert "day2.csv row 3" in str(info.value) and "day1.csv row 3" in str(info.value)
    assert not (tmp_path / "pack").exists()
    assert not list(tmp_path.glob(".pack*"))


def test_unknown_values_are_kept_and_counted(tmp_path):
    rows = [
        statement(1, category="STATEMENT_CATEGORY_SOMETHING_NEW", category_specification="[]"),
        statement(2, category_specification='["KEYWORD_BRAND_NEW"]'),
        statement(3, source_type="SOURCE_SOMETHING"),
        statement(4, decision_visibility='["DECISION_VISIBILITY_SHADOW"]'),
        statement(5, automated_decision="AUTOMATED_DECISION_MAYBE"),
    ]
    report = import_dsa([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    assert report.rows_out == 5
    assert report.unknown[("category", "STATEMENT_CATEGORY_SOMETHING_NEW")] == 1
    assert report.unknown[("category_specification", "KEYWORD_BRAND_NEW")] == 1
    assert report.unknown[("source_type", "SOURCE_SOMETHING")] == 1
    assert report.unknown[("decision", "DECISION_VISIBILITY_SHADOW")] == 1
    assert report.unknown[("automated_decision", "AUTOMATED_DECISION_MAYBE")] == 1
    a = actions_of(tmp_path / "pack")
    assert a.loc["P000001", "category"] == "other"
    assert a.loc["P000001", "source_category"] == "STATEMENT_CATEGORY_SOMETHING_NEW"
    assert a.loc["P000002", "category"] == "financial_scam"  # falls back to the category
    assert a.loc["P000004", "action"] == "restrict"


def test_empty_required_fields_malformed_lists_and_bad_dates_are_dropped_by_reason(tmp_path):
    rows = [
        statement(1),
        statement(2, category=""),
        statement(3, application_date=""),
        statement(4, decision_visibility='["DECISION_VISIBILITY_CONTENT_REMOVED"'),
        statement(5, territorial_scope="[MY]"),
        statement(6, content_date="2025-13-45 00:00:00"),
        statement(7, content_date="2025-08-05 00:00:00"),  # after application_date
        statement(8, decision_visibility="[]"),
    ]
    report = import_dsa([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    assert report.rows_out == 1
    assert report.dropped == {
        "empty required field category": 1,
        "empty required field application_date": 1,
        "malformed JSON list in decision_visibility": 1,
        "malformed JSON list in territorial_scope": 1,
        "unreadable content_date": 1,
        "application_date before content_date": 1,
        "no decision_* field filled": 1,
    }
    text = (tmp_path / "pack" / "import_report.md").read_text()
    assert "malformed JSON list in territorial_scope" in text and "KEYWORD_PHISHING -> financial_scam" in text


def test_several_platforms_need_a_choice(tmp_path):
    dump = write_dump(tmp_path / "d.csv", [statement(1), statement(2, platform_name="Lain")])
    with pytest.raises(DsaImportError, match="several platforms"):
        import_dsa([dump], tmp_path / "pack")
    report = import_dsa([dump], tmp_path / "pack", platform="Lain")
    assert report.rows_out == 1 and list(actions_of(tmp_path / "pack").index) == ["P000002"]
    with pytest.raises(DsaImportError, match="not in the dump"):
        import_dsa([dump], tmp_path / "other", platform="Nope")


def test_out_must_be_new_and_inputs_must_exist(tmp_path):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "keep.txt").write_text("mine")
    dump = write_dump(tmp_path / "d.csv", [statement(1)])
    with pytest.raises(ParameterError, match="not empty"):
        import_dsa([dump], tmp_path / "pack")
    assert (tmp_path / "pack" / "keep.txt").read_text() == "mine"
    with pytest.raises(ParameterError, match="no such input file"):
        import_dsa([tmp_path / "nope.csv"], tmp_path / "p2")


# ------------------------------------------------------------------------------------------- into a pack, and a cycle


def test_into_an_existing_pack_without_actions(tmp_path):
    tables = base_tables()
    pack = make_pack(tmp_path / "pack", {k: tables[k] for k in ("users", "capacity", "authority_requests")})
    before = (pack / "users.csv").read_bytes()
    import_dsa([write_dump(tmp_path / "d.csv", [statement(1), statement(2)])], into=pack)
    assert (pack / "users.csv").read_bytes() == before
    p = riskkit.load_datapack(pack)
    assert len(p.actions) == 2 and p.get("users") is not None and p.meta.time_resolution == "day"
    with pytest.raises(ParameterError, match="already has an actions table"):
        import_dsa([write_dump(tmp_path / "e.csv", [statement(3)])], into=pack)


def test_imported_pack_runs_metrics_and_a_cycle(tmp_path):
    rows = [
        statement(i, content_date=f"2025-{m:02d}-01 00:00:00", application_date=f"2025-{m:02d}-0{1 + i % 3} 00:00:00")
        for i, m in zip(range(1, 61), [7, 8, 9, 10, 11, 12] * 10, strict=True)
    ]
    rows += [
        statement(
            100 + i,
            category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            category_specification='["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]',
            source_type="SOURCE_VOLUNTARY",
            automated_detection="Yes",
            content_date="2025-09-01 00:00:00",
            application_date="2025-09-01 00:00:00",
        )
        for i in range(20)
    ]
    import_dsa([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    pack = riskkit.load_datapack(tmp_path / "pack")
    m = compute(pack, "2025-H2")
    assert m.value("actions_enforced") == 80
    assert m.value("proactive_rate", "csam") == 1.0
    assert m.value("tta_median_h", "financial_scam") in (24.0, 48.0)  # whole days
    assert "users" in m.unavailable
    result = run_cycle(tmp_path / "pack", "2025-H2", out=tmp_path / "reports", progress=False)
    assert result.status == "succeeded"
    html = (result.folder / "01_systemic_risk_assessment.html").read_text()
    assert "day: times to action are only as precise as a day" in html
    assert "not available (no `users` table)" in html


def test_cli_import(tmp_path, capsys):
    dump = write_dump(tmp_path / "d.csv", [statement(1), statement(2)])
    assert main(["import", "dsa", str(dump), "--out", str(tmp_path / "pack")]) == 0
    out = capsys.readouterr().out
    assert "kept 2 actions" in out and "valid — 0 error(s)" in out
    assert main(["import", "dsa", str(dump), "--out", str(tmp_path / "pack")]) == 2
    assert "not empty" in capsys.readouterr().err
