"""DSA statement-of-reasons import: both schema versions, full and light dumps, zip-of-zips and Parquet packaging,
several platforms, EU-only scope, grounds text that contradicts the category, duplicates and conflicts, and every
messy-data case. Fixtures (tests/dsa_fixtures.py) are written from the documented format; no real dump rows."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import riskkit
from dsa_fixtures import (
    LIB,
    csv_text,
    multi_platform_rows,
    statement,
    v1_statement,
    write_dump,
    write_zip_of_zips,
)
from packs import BASE_META, base_tables, make_pack
from riskkit.cli import main
from riskkit.exceptions import ParameterError
from riskkit.importers.dsa import DsaImportError, import_dsa, list_platforms
from riskkit.importers.dsa_map import Mapping
from riskkit.metrics import compute
from riskkit.pack import validate_datapack
from riskkit.runner import run_cycle

BIDI = "Penipuan \u202eknab\u202c — 诈骗 — மோசடி"
MAPPING = Mapping.from_library(LIB)


def run(inputs, out=None, **kw):
    """import_dsa with every library warning turned into an error (normal output carries none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return import_dsa([Path(p) for p in inputs], out, library=LIB, **kw)


def actions_of(pack: Path) -> pd.DataFrame:
    return pq.read_table(pack / "actions.parquet").to_pandas().set_index("action_id")


def report_of(pack: Path) -> dict:
    return json.loads((pack / "import_report.json").read_text(encoding="utf-8"))


def assert_adds_up(report: dict) -> None:
    assert report["rows_read"] == report["rows_kept"] + sum(report["dropped"].values())
    assert report["adds_up"] is True
    assert sum(r["rows"] for r in report["harm_mapping"]) == report["rows_kept"]
    assert report["in_malaysia"] + report["outside_malaysia"] == report["rows_kept"]
    assert sum(report["schema_versions"].values()) == report["rows_kept"]


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
            category="STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            category_specification='["KEYWORD_RIGHT_TO_BE_FORGOTTEN"]',
            incompatible_content_explanation="",
        ),
    ]
    result = run([write_dump(tmp_path / "sor-contoh-2025-08-03-full-00000-00000.csv", rows)], tmp_path / "pack")
    r = result.report
    assert (r.rows_read, r.rows_kept, result.sources[0]["variant"]) == (4, 4, "full")
    a = actions_of(tmp_path / "pack")
    scam, csam, demoted, label = (a.loc[f"C-{i:06d}"] for i in (1, 2, 3, 4))
    assert (scam["category"], scam["detection_source"], scam["decision_by"], scam["action"]) == (
        "financial_scam",
        "user_report",
        "human",
        "remove",
    )
    assert scam["surface"] == "text" and bool(scam["in_malaysia"])
    assert scam["actioned_at"] == pd.Timestamp("2025-08-03T00:00:00Z")  # application_date: the decision
    assert scam["content_posted_at"] == pd.Timestamp("2025-08-01T00:00:00Z")  # content_date
    assert a["detected_at"].isna().all()  # a statement of reasons has no detection time
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
    assert csam["rationale"] == "Phishing link | Known hash | Link to a fake bank login page"
    assert (demoted["detection_source"], demoted["decision_by"], demoted["action"]) == (
        "trusted_flagger",
        "hybrid",
        "restrict",
    )
    assert not bool(demoted["in_malaysia"])  # territorial_scope DE, FR
    # EU scope and ground, for the DSA transparency export: DE/FR is EU data, MY is not
    assert bool(demoted["in_eu"]) and not bool(scam["in_eu"])
    assert (scam["decision_ground"], csam["decision_ground"]) == ("terms", "illegal")
    assert (label["action"], label["detection_source"], label["category"]) == ("label", "proactive_human", "other")
    assert label["rationale"] == BIDI  # non-ASCII and bidi controls intact; empty parts left out
    meta = yaml.safe_load((tmp_path / "pack" / "datapack.yaml").read_text())
    assert meta["time_resolution"] == "day" and meta["platform"]["name"] == "Contoh"
    assert meta["time_basis"] == "decision"
    assert meta["import"]["mapping"] == "dsa-import 2.1.0"
    assert validate_datapack(tmp_path / "pack", library=LIB).ok
    assert_adds_up(report_of(tmp_path / "pack"))


def test_harm_from_keywords_then_grounds_text_then_category(tmp_path):
    """Real rows under a broad category say in their grounds what the category does not."""
    minors, speech = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    cases = {
        # (category, category_specification, text in incompatible_content_ground) -> harm
        1: (minors, "[]", "Minimum Age Requirement", "other"),
        2: (minors, "[]", "Products harmful to minors or pornographic", "obscene_indecent"),
        3: (minors, "[]", "Minor sexualization", "csam"),
        4: (minors, "[]", "Terms of Service 7.1", "other"),  # nothing resolves it: unresolved
        5: (speech, "[]", "Pornography or sexualised content", "obscene_indecent"),
        6: (speech, "[]", "Profanity", "obscene_indecent"),
        7: (speech, "[]", "Harassment and bullying", "bullying_harassment"),
        8: (speech, '["KEYWORD_HATE_SPEECH"]', "Nudity", "hate_speech"),  # the keyword wins over the text
        9: ("STATEMENT_CATEGORY_VIOLENCE", "[]", "Sexual Exploitation and Gender-Based Violence", "ncii"),
        10: ("STATEMENT_CATEGORY_SELF_HARM", "[]", "Community Guidelines", "child_self_harm"),
        11: ("STATEMENT_CATEGORY_SELF_HARM", '["KEYWORD_SUICIDE"]', "", "child_self_harm"),
        12: (
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            '["KEYWORD_NUDITY","KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]',
            "",
            "csam",
        ),
        13: ("STATEMENT_CATEGORY_VIOLENCE", "[]", "Graphic violence", "violent_extremism"),
        14: (speech, "[]", "", "other"),
    }
    rows = [
        statement(
            i, category=c, category_specification=k, incompatible_content_ground=g, incompatible_content_explanation=""
        )
        for i, (c, k, g, _h) in cases.items()
    ]
    rows.append(
        statement(
            15,
            category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            category_specification='["KEYWORD_OTHER"]',
            category_specification_other="Sale of drugs",
            incompatible_content_ground="",
            incompatible_content_explanation="",
        )
    )
    rows.append(
        statement(
            16,
            category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            category_specification="[]",
            category_addition='["STATEMENT_CATEGORY_SCAMS_AND_FRAUD"]',
            incompatible_content_ground="Terms 3",
            incompatible_content_explanation="",
        )
    )
    result = run([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    a = actions_of(tmp_path / "pack")
    for i, (_c, _k, _g, harm) in cases.items():
        assert a.loc[f"C-{i:06d}", "category"] == harm, (i, cases[i])
    assert a.loc["C-000015", "category"] == "illegal_drugs"
    assert a.loc["C-000016", "category"] == "financial_scam"
    assert a.loc["C-000004", "source_category"] == minors  # the DSA value kept for the unresolved
    assert a.loc["C-000012", "source_category"].endswith("/KEYWORD_NUDITY;KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL")
    report = report_of(tmp_path / "pack")
    assert report["harm_confusion"][minors] == {"other": 2, "obscene_indecent": 1, "csam": 1}
    assert report["harm_confusion"][speech] == {
        "obscene_indecent": 2,
        "bullying_harassment": 1,
        "hate_speech": 1,
        "other": 1,
    }
    evidence = {(m["category"], m["evidence"], m["value"]): m["rows"] for m in report["harm_mapping"]}
    assert evidence[(minors, "text", "TEXT_MINIMUM_AGE")] == 1
    assert evidence[(minors, "unresolved", minors)] == 1
    assert evidence[(speech, "keyword", "KEYWORD_HATE_SPEECH")] == 1
    assert evidence[("STATEMENT_CATEGORY_SELF_HARM", "category", "STATEMENT_CATEGORY_SELF_HARM")] == 1
    assert (
        evidence[("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "category_addition", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD")]
        == 1
    )
    text = result.format()
    assert f"{minors} (4): other 2 [t 1, u 1] · " in text
    assert "text rules that decided: " in text and "TEXT_SEXUAL 3" in text
    assert_adds_up(report)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Child sexual abuse material (hash match)", "TEXT_CSAM"),
        ("Sexualised depiction: minor sexualisation", "TEXT_CSAM"),
        ("§ 184b StGB Kinderpornografie", "TEXT_CSAM"),
        ("Contenu pédopornographique", "TEXT_CSAM"),
        ("Pornografía infantil", "TEXT_CSAM"),
        ("Materiale pedopornografico", "TEXT_CSAM"),
        ("Pornografia dziecięca", "TEXT_CSAM"),
        ("Seksueel misbruik van kinderen", "TEXT_CSAM"),
        ("Non-consensual intimate imagery", "TEXT_NCII"),
        ("Sextortion", "TEXT_NCII"),
        ("Verbreitung intimer Bilder", "TEXT_NCII"),
        ("Intimidation", "TEXT_HARASSMENT"),  # not intimate imagery
        ("Intime Bilder ohne Einwilligung", "TEXT_NCII"),
        ("Terrorist propaganda", "TEXT_TERRORISM"),
        ("Apologie du terrorisme", "TEXT_TERRORISM"),
        ("Suicide and self-harm", "TEXT_SELF_HARM"),
        ("Selbstverletzung", "TEXT_SELF_HARM"),
        ("Zelfbeschadiging", "TEXT_SELF_HARM"),
        ("Minimum age requirement", "TEXT_MINIMUM_AGE"),
        ("Mindestalter nicht erreicht", "TEXT_MINIMUM_AGE"),
        ("Scams and fraud", "TEXT_SCAM"),
        ("Truffa", "TEXT_SCAM"),
        ("Oszustwo", "TEXT_SCAM"),
        ("Hateful behaviour", "TEXT_HATE"),
        ("Volksverhetzung (§ 130 StGB)", "TEXT_HATE"),
        ("Discours de haine", "TEXT_HATE"),
        ("Discurso de odio", "TEXT_HATE"),
        ("Mowa nienawiści", "TEXT_HATE"),
        ("Harassment", "TEXT_HARASSMENT"),
        ("Harcèlement", "TEXT_HARASSMENT"),
        ("Acoso", "TEXT_HARASSMENT"),
        ("Bullismo", "TEXT_HARASSMENT"),
        ("Pesten en intimidatie", "TEXT_HARASSMENT"),
        ("Illegal drugs and controlled substances", "TEXT_DRUGS"),
        ("Betäubungsmittel", "TEXT_DRUGS"),
        ("Violent and graphic content", "TEXT_VIOLENCE"),
        ("Nudity and sexual activity", "TEXT_SEXUAL"),
        ("Nacktheit", "TEXT_SEXUAL"),
        ("Nudité", "TEXT_SEXUAL"),
        ("Contenido sexual", "TEXT_SEXUAL"),
        ("Spam", "TEXT_SPAM"),
        ("Copyright infringement", "TEXT_INTELLECTUAL_PROPERTY"),
        ("Community Guidelines 4.2", None),
        ("", None),
    ],
)
def test_text_rules_phrase_table(text, rule):
    """The documented phrase table (frameworks/dsa-import.yaml text_rules), English and the common languages."""
    (rank,) = MAPPING.text_ranks(pa.array([text]))
    assert (MAPPING.text_rules[rank].ref_id if rank >= 0 else None) == rule


def test_v1_and_v2_detected_by_values_then_by_date_per_file(tmp_path):
    v1_file = write_dump(
        tmp_path / "sor-global-2024-10-02-full-00000-00000.csv",
        [
            v1_statement(1),  # values of both schemas, created 2024: v1 by date
            v1_statement(
                2, category="STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", category_specification="[]"
            ),
            v1_statement(
                3,
                category_specification='["KEYWORD_ONLINE_BULLYING_INTIMIDATION"]',
                category="STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
            ),
        ],
    )
    v2_file = write_dump(
        tmp_path / "sor-global-2025-08-03-full-00000-00000.csv",
        [
            statement(4),  # both schemas' values, created 2025-08: v2 by date
            statement(
                5, category="STATEMENT_CATEGORY_CYBER_VIOLENCE", category_specification='["KEYWORD_CYBER_STALKING"]'
            ),
            # a v2 value before 1 July 2025: the value decides, not the date
            statement(
                6,
                category="STATEMENT_CATEGORY_CONSUMER_INFORMATION",
                category_specification="[]",
                created_at="2025-03-01 00:00:00",
                content_date="2025-02-01 00:00:00",
                application_date="2025-03-01 00:00:00",
            ),
        ],
    )
    run([v1_file, v2_file], tmp_path / "pack")
    report = report_of(tmp_path / "pack")
    first, second = report["sources"]
    assert (first["schema"], first["rows_v1"], first["rows_v2"]) == ("v1", 3, 0)
    assert first["decided_by"] == {"v1 by date": 1, "v1 by values": 2}
    assert (second["schema"], second["rows_v1"], second["rows_v2"]) == ("v2", 0, 3)
    assert second["decided_by"] == {"v2 by date": 1, "v2 by values": 2}
    assert report["schema_versions"] == {"v1": 3, "v2": 3}
    a = actions_of(tmp_path / "pack")
    assert a["category"].tolist() == [
        "financial_scam",
        "obscene_indecent",
        "bullying_harassment",
        "financial_scam",
        "bullying_harassment",
        "other",
    ]


def test_light_dump_needs_a_territory_rule(tmp_path):
    dump = write_dump(tmp_path / "sor-global-2025-08-03-light-00000.csv", [statement(1), statement(2)], light=True)
    with pytest.raises(DsaImportError, match="pass --territory all"):
        run([dump], tmp_path / "pack")
    assert not (tmp_path / "pack").exists() and not list(tmp_path.glob(".pack*"))
    result = run([dump], tmp_path / "pack", territory="all")
    assert result.sources[0]["variant"] == "light"
    a = actions_of(tmp_path / "pack")
    assert a["in_malaysia"].all() and (a["rationale"] == "").all()  # light dumps carry no decision facts
    assert a["in_eu"].isna().all()  # no territorial_scope: EU scope unknown, not "outside the EU"


# ------------------------------------------------------------------------------------------- territory


def test_eu_only_statements_are_reported_out_of_malaysian_scope(tmp_path):
    eu = [statement(i, territorial_scope='["DE","FR"]' if i % 2 else '["DE"]') for i in range(1, 11)]
    dump = write_dump(tmp_path / "eu.csv", eu)
    result = run([dump], tmp_path / "default")
    report = report_of(tmp_path / "default")
    assert (report["rows_kept"], report["in_malaysia"], report["outside_malaysia"]) == (10, 0, 10)
    assert report["territory"] == ["MY"] and report["territories"] == {"DE": 10, "FR": 5}
    assert "WARNING: none of the 10 statements is in Malaysian scope (territorial_scope lists: DE 10, FR 5)" in (
        result.format()
    )
    assert "WARNING" in (tmp_path / "default" / "import_report.md").read_text()
    run([dump], tmp_path / "fr", territory="my, fr")
    assert report_of(tmp_path / "fr")["territory"] == ["MY", "FR"]
    assert (report_of(tmp_path / "fr")["in_malaysia"], report_of(tmp_path / "fr")["outside_malaysia"]) == (5, 5)
    run([dump], tmp_path / "all", territory="all")
    assert (report_of(tmp_path / "all")["in_malaysia"], report_of(tmp_path / "all")["territory"]) == (10, "all")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("XX", "XX is not an assigned ISO 3166-1 alpha-2 code"),
        ("", "--territory is empty"),
        ("   ", "--territory is empty"),
        ("Malaysia", "'Malaysia' is not a two-letter code"),
        ("MY,,DE", "an empty code in the list"),
        ("MY,all", "'all' cannot be combined with codes"),
        ("EL", "EL is not an assigned ISO 3166-1 alpha-2 code (use GR)"),
        ("M1", "'M1' is not a two-letter code"),
    ],
)
def test_territory_is_validated(tmp_path, capsys, value, message):
    dump = write_dump(tmp_path / "d.csv", [statement(1)])
    assert main(["import", "dsa", str(dump), "--out", str(tmp_path / "pack"), "--territory", value]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "pack").exists()


# ------------------------------------------------------------------------------------------- platforms


def test_multi_platform_dump_gives_one_valid_pack_per_platform(tmp_path):
    dump = write_zip_of_zips(
        tmp_path / "sor-global-2025-08-05-full.zip", [multi_platform_rows()[:28], multi_platform_rows()[28:]]
    )
    result = run([dump], tmp_path / "packs")
    assert result.layout == "per_platform"
    assert sorted(p.name for p in (tmp_path / "packs").iterdir()) == [
        "contoh",
        "gambar",
        "import_report.json",
        "import_report.md",
    ]
    contoh, gambar = report_of(tmp_path / "packs" / "contoh"), report_of(tmp_path / "packs" / "gambar")
    assert (contoh["rows_read"], contoh["rows_kept"], contoh["dropped"]) == (
        56,
        31,
        {"other platforms' statements": 25},
    )
    assert (gambar["rows_kept"], gambar["dropped"]) == (25, {"other platforms' statements": 31})
    for report in (contoh, gambar):
        assert_adds_up(report)
        assert report["options"]["platform"] is None and report["options"]["territory"] == ["MY"]
    assert gambar["harm_confusion"] == {"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": {"obscene_indecent": 25}}
    for name in ("contoh", "gambar"):
        assert validate_datapack(tmp_path / "packs" / name, library=LIB).ok
        assert (
            yaml.safe_load((tmp_path / "packs" / name / "datapack.yaml").read_text())["platform"]["name"]
            == name.title()
        )
    top = json.loads((tmp_path / "packs" / "import_report.json").read_text())
    assert top["packs"]["Contoh"]["folder"] == "contoh" and top["rows_read"] == 56
    assert top["platforms_in_dump"] == {"Contoh": 31, "Gambar": 25}
    assert top["options"]["out"] == str(tmp_path / "packs")
    assert len(top["skipped"]) == 2 and all(s.endswith(".csv.zip.sha1") for s in top["skipped"])
    # the mislabelled statement: kept, flagged with its reasons, counted
    flagged = contoh["platform_mismatch"]
    assert (flagged["rows"], flagged["kept"]) == (1, True)
    assert flagged["by_reason"] == {"platform_uid namespace of Gambar": 1}
    assert flagged["examples"][0].endswith(".csv row 29: platform_uid G-000999 (platform_uid namespace of Gambar)")
    assert gambar["platform_mismatch"]["rows"] == 0


def test_platform_filter_all_and_list(tmp_path, capsys):
    dump = write_dump(tmp_path / "day.csv", multi_platform_rows())
    result = run([dump], tmp_path / "g", platform="Gambar")
    assert result.layout == "pack" and result.report.rows_kept == 25
    assert report_of(tmp_path / "g")["dropped"] == {"other platforms' statements": 31}
    assert report_of(tmp_path / "g")["options"]["platform"] == "Gambar"
    single = write_dump(tmp_path / "one.csv", [statement(1), statement(2)])
    run([single], tmp_path / "every", platform="all")
    assert (tmp_path / "every" / "contoh" / "actions.parquet").is_file()
    assert (tmp_path / "every" / "import_report.json").is_file()
    with pytest.raises(DsaImportError, match=r"did you mean 'Gambar'") as info:
        run([dump], tmp_path / "nope", platform="gambar")
    assert "Contoh (31)" in str(info.value) and not (tmp_path / "nope").exists()
    assert list_platforms([dump]) == {"Contoh": 31, "Gambar": 25}
    assert main(["import", "dsa", str(dump), "--list-platforms"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1:3] == ["Contoh                 31", "Gambar                 25"]
    assert "2 platform(s), 56 statements (no pack written)" in out


def test_into_refuses_several_platforms_without_reading_the_rest(tmp_path):
    pack = make_pack(tmp_path / "pack", {"users": base_tables()["users"]})
    dump = write_dump(tmp_path / "a.csv", multi_platform_rows())
    broken = tmp_path / "b.csv"
    broken.write_bytes(b'"uuid","platform_name"\n"x","\xff"\n')  # never reached: the import stops at the first file
    with pytest.raises(DsaImportError, match="--into adds one platform's statements"):
        run([dump, broken], into=pack)
    assert sorted(p.name for p in pack.iterdir()) == ["datapack.yaml", "users.csv"]


def test_platform_folder_names_are_safe(tmp_path):
    rows = [statement(1, "Ünïcode Plätform/../x"), statement(2, "A b"), statement(3, "A-b")]
    run([write_dump(tmp_path / "d.csv", rows)], tmp_path / "packs")
    assert sorted(p.name for p in (tmp_path / "packs").iterdir() if p.is_dir()) == [
        "a-b",
        "a-b-2",
        "unicode-platform-x",
    ]


# ------------------------------------------------------------------------------------------- packaging


def test_zip_of_zips_and_parquet_give_the_same_pack(tmp_path):
    rows = [
        statement(
            i, category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", category_specification='["KEYWORD_HATE_SPEECH"]'
        )
        for i in range(1, 6)
    ]
    rows += [statement(i) for i in range(6, 11)]
    reference = run([write_dump(tmp_path / "plain.csv", rows)], tmp_path / "from-csv")
    outer = write_zip_of_zips(tmp_path / "sor-global-2025-08-03-full.zip", [rows[:5], rows[5:]])
    zipped = run([outer, outer.with_name(outer.name + ".sha1")], tmp_path / "from-zip")
    assert zipped.skipped == [
        "sor-global-2025-08-03-full.zip.sha1",
        "sor-global-2025-08-03-full.zip/sor-global-2025-08-03-full-00000.csv.zip.sha1",
        "sor-global-2025-08-03-full.zip/sor-global-2025-08-03-full-00001.csv.zip.sha1",
    ]
    assert [s["source"] for s in zipped.sources] == [
        "sor-global-2025-08-03-full.zip/sor-global-2025-08-03-full-00000.csv.zip/sor-global-2025-08-03-full-00000-00000.csv",
        "sor-global-2025-08-03-full.zip/sor-global-2025-08-03-full-00001.csv.zip/sor-global-2025-08-03-full-00001-00000.csv",
    ]
    frame = pd.DataFrame(rows)
    for col in (
        "decision_visibility",
        "category_addition",
        "category_specification",
        "content_type",
        "territorial_scope",
    ):
        frame[col] = frame[col].map(json.loads)
    for col in ("content_date", "application_date", "created_at"):
        frame[col] = pd.to_datetime(frame[col])
    frame["automated_detection"] = frame["automated_detection"] == "Yes"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "dump.parquet")
    parquet = run([tmp_path / "dump.parquet"], tmp_path / "from-parquet")
    assert reference.report.rows_kept == zipped.report.rows_kept == parquet.report.rows_kept == 10
    a = actions_of(tmp_path / "from-csv")
    pd.testing.assert_frame_equal(a, actions_of(tmp_path / "from-zip"))
    pd.testing.assert_frame_equal(a, actions_of(tmp_path / "from-parquet"))
    assert a["category"].value_counts().to_dict() == {"hate_speech": 5, "financial_scam": 5}


def test_unreadable_inputs_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_text([statement(1)]).encode() + b'"x","\xff\xfe"\n')
    with pytest.raises(DsaImportError, match=r"bad.csv: "):
        run([bad], tmp_path / "p1")
    enc = tmp_path / "latin1.csv"
    enc.write_bytes(csv_text([statement(1, decision_facts="caf\u00e9")]).encode("latin-1"))
    with pytest.raises(DsaImportError, match=r"latin1.csv: not UTF-8 \(row 2, column decision_facts"):
        run([enc], tmp_path / "p2")
    with pytest.raises(ParameterError, match=r"expected a dump \.csv, \.zip"):
        run([tmp_path / "bad.csv", _touch(tmp_path / "notes.txt")], tmp_path / "p3")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".p", "p"))]


def _touch(path: Path) -> Path:
    path.write_text("x")
    return path


# ------------------------------------------------------------------------------------------- duplicates


def test_exact_duplicates_are_dropped_and_counted_once(tmp_path):
    first = write_dump(tmp_path / "day1.csv", [statement(1), statement(2)])
    second = write_zip_of_zips(tmp_path / "day2.zip", [[statement(2), statement(3)]])  # statement 2 again
    light = write_dump(tmp_path / "light.csv", [statement(3)], light=True)  # a light copy of statement 3
    result = run([first, second, light], tmp_path / "pack", territory="all")
    report = report_of(tmp_path / "pack")
    assert (report["rows_read"], report["rows_kept"]) == (5, 3)
    assert report["dropped"] == {"exact duplicate of an earlier statement (same uuid, same content)": 2}
    assert sorted(actions_of(tmp_path / "pack").index) == ["C-000001", "C-000002", "C-000003"]
    # counts are of kept rows: with --territory all every kept statement is in scope, and only once
    assert (report["in_malaysia"], report["harm_mapping"][0]["rows"]) == (3, 3)
    assert "kept 3 + dropped 2" in result.format()
    assert_adds_up(report)


def test_same_uuid_with_different_content_is_an_error_naming_both_places(tmp_path):
    first = write_dump(tmp_path / "day1.csv", [statement(1), statement(2)])
    second = write_dump(
        tmp_path / "day2.csv", [statement(3), statement(2, decision_facts="changed", platform_uid="C-000002")]
    )
    with pytest.raises(DsaImportError, match="reuse a uuid with different content") as info:
        run([first, second], tmp_path / "pack")
    assert (
        "uuid 00000000-0000-4000-8000-000000000002: day1.csv row 3 and day2.csv row 3 differ in decision_facts"
        in str(info.value)
    )
    assert not (tmp_path / "pack").exists() and not list(tmp_path.glob(".pack*"))


def test_one_platform_uid_under_two_uuids_is_an_error(tmp_path):
    dump = write_dump(tmp_path / "d.csv", [statement(1), statement(2, platform_uid="C-000001")])
    with pytest.raises(DsaImportError, match="appear under two uuids") as info:
        run([dump], tmp_path / "pack")
    message = str(info.value)
    assert "platform_uid C-000001 (Contoh): d.csv row 2 (uuid 00000000-0000-4000-8000-000000000001)" in message
    assert "d.csv row 3 (uuid 00000000-0000-4000-8000-000000000002)" in message


# ------------------------------------------------------------------------------------------- messy data


def test_unknown_values_are_kept_and_counted(tmp_path):
    rows = [
        statement(
            1,
            category="STATEMENT_CATEGORY_SOMETHING_NEW",
            category_specification="[]",
            incompatible_content_ground="",
            incompatible_content_explanation="",
        ),
        statement(2, category_specification='["KEYWORD_BRAND_NEW"]'),
        statement(3, source_type="SOURCE_SOMETHING"),
        statement(4, decision_visibility='["DECISION_VISIBILITY_SHADOW"]'),
        statement(5, automated_decision="AUTOMATED_DECISION_MAYBE"),
    ]
    result = run([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    assert result.report.rows_kept == 5
    unknown = {(u["field"], u["value"]): u["rows"] for u in report_of(tmp_path / "pack")["unknown_values"]}
    assert unknown == {
        ("category", "STATEMENT_CATEGORY_SOMETHING_NEW"): 1,
        ("category_specification", "KEYWORD_BRAND_NEW"): 1,
        ("source_type", "SOURCE_SOMETHING"): 1,
        ("decision", "DECISION_VISIBILITY_SHADOW"): 1,
        ("automated_decision", "AUTOMATED_DECISION_MAYBE"): 1,
    }
    a = actions_of(tmp_path / "pack")
    assert a.loc["C-000001", "category"] == "other"
    assert a.loc["C-000001", "source_category"] == "STATEMENT_CATEGORY_SOMETHING_NEW"
    assert a.loc["C-000002", "category"] == "financial_scam"  # falls back to the grounds text / category
    assert a.loc["C-000004", "action"] == "restrict"


def test_invalid_rows_are_dropped_by_reason_and_the_report_adds_up(tmp_path):
    rows = [
        statement(1),
        statement(2, category=""),
        statement(3, application_date=""),
        statement(4, decision_visibility='["DECISION_VISIBILITY_CONTENT_REMOVED"'),
        statement(5, territorial_scope="[MY]"),
        statement(6, content_date="2025-13-45 00:00:00"),
        statement(7, content_date="2025-08-05 00:00:00"),  # after application_date
        statement(8, decision_visibility="[]"),
        statement(9, platform_name=""),
    ]
    result = run([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    report = report_of(tmp_path / "pack")
    assert report["rows_kept"] == 1
    assert report["dropped"] == {
        "invalid: empty required field category": 1,
        "invalid: empty required field application_date": 1,
        "invalid: malformed JSON list in decision_visibility": 1,
        "invalid: malformed JSON list in territorial_scope": 1,
        "invalid: unreadable content_date": 1,
        "invalid: application_date before content_date": 1,
        "invalid: no decision_* field filled": 1,
        "invalid: empty required field platform_name": 1,
    }
    assert_adds_up(report)
    text = (tmp_path / "pack" / "import_report.md").read_text()
    assert "read 9 = kept 1 + dropped 8" in text and "malformed JSON list in territorial_scope" in text
    assert "STATEMENT_CATEGORY_SCAMS_AND_FRAUD (1): financial_scam 1 [k 1]" in result.format()


def test_out_must_be_new_and_inputs_must_exist(tmp_path):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "keep.txt").write_text("mine")
    dump = write_dump(tmp_path / "d.csv", [statement(1)])
    with pytest.raises(ParameterError, match="not empty"):
        run([dump], tmp_path / "pack")
    assert (tmp_path / "pack" / "keep.txt").read_text() == "mine"
    with pytest.raises(ParameterError, match="no such input file"):
        run([tmp_path / "nope.csv"], tmp_path / "p2")
    with pytest.raises(ParameterError, match="only checksum files"):
        run([_touch(tmp_path / "x.zip.sha1")], tmp_path / "p3")


# ------------------------------------------------------------------------------------------- into a pack


def test_into_an_existing_pack_without_actions(tmp_path):
    tables = base_tables()
    pack = make_pack(tmp_path / "pack", {k: tables[k] for k in ("users", "capacity", "authority_requests")})
    before = (pack / "users.csv").read_bytes()
    result = run([write_dump(tmp_path / "d.csv", [statement(1), statement(2)])], into=pack)
    assert result.layout == "into" and result.report.validation.startswith("validation: valid")
    assert (pack / "users.csv").read_bytes() == before
    p = riskkit.load_datapack(pack, library=LIB)
    assert len(p.actions) == 2 and p.get("users") is not None and p.meta.time_resolution == "day"
    assert report_of(pack)["options"]["into"] == str(pack)
    with pytest.raises(ParameterError, match="already has an actions table"):
        run([write_dump(tmp_path / "e.csv", [statement(3)])], into=pack)


@pytest.mark.parametrize("problem", ["surfaces", "reports"])
def test_into_checks_the_whole_pack_before_writing(tmp_path, problem):
    tables = base_tables()
    if problem == "surfaces":
        pack = make_pack(
            tmp_path / "pack", {"users": tables["users"]}, meta={**BASE_META, "surfaces": ["feed", "live"]}
        )
        expected = "a surface listed in datapack.yaml: feed, live"
    else:  # reports that refer to the platform's own action ids, which the dump does not have
        pack = make_pack(tmp_path / "pack", {"reports": tables["reports"]})
        expected = "dangling_reference"
    listing = {p.name: p.read_bytes() for p in pack.iterdir()}
    with pytest.raises(DsaImportError, match="would not be valid with the imported actions") as info:
        run([write_dump(tmp_path / "d.csv", [statement(1)])], into=pack)
    assert expected in str(info.value)
    assert {p.name: p.read_bytes() for p in pack.iterdir()} == listing  # nothing written
    assert not list(tmp_path.glob(".pack*"))


# ------------------------------------------------------------------------------------------- CLI and a cycle


def test_cli_import_prints_the_report_and_no_library_warnings(tmp_path, capsys):
    dump = write_zip_of_zips(tmp_path / "sor-global-2025-08-05-full.zip", [multi_platform_rows()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["import", "dsa", str(dump), str(dump) + ".sha1", "--out", str(tmp_path / "packs")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out
    assert "Contoh -> " in out and "read 56 = kept 31 + dropped 25" in out
    assert out.count(": valid — 0 error(s), 0 warning(s)") == 2  # each pack validated after the import
    assert "platform name contradicted (kept, flagged): platform_uid namespace of Gambar: 1" in out
    assert main(["import", "dsa", str(dump), "--out", str(tmp_path / "packs")]) == 2
    assert "not empty" in capsys.readouterr().err


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
    run([write_dump(tmp_path / "d.csv", rows)], tmp_path / "pack")
    pack = riskkit.load_datapack(tmp_path / "pack", library=LIB)
    m = compute(pack, "2025-H2", library=LIB)
    assert m.value("actions_enforced") == 80
    assert m.value("proactive_rate", "csam") == 1.0
    assert "users" in m.unavailable
    result = run_cycle(tmp_path / "pack", "2025-H2", out=tmp_path / "reports", progress=False, allow_incomplete=True)
    assert result.status == "succeeded"
    html = (result.folder / "01_systemic_risk_assessment.html").read_text()
    assert "day: times to action are only as precise as a day" in html
    assert "not available (no `users` table)" in html
    assert "statements of reasons carry no detection time" in html
    # the views that select actions by cycle follow the decision too (detected_at is empty in such a pack)
    records = pd.read_csv(result.folder / "record_keeping_2025-H2.csv")
    assert len(records) == 80
    from riskkit.explorer.model import ExplorerModel

    model = ExplorerModel(pack, library=LIB)
    assert str(model.months[model.first_month_with_data - model.base]) == "2025-07"


# ------------------------------------------------------------------------------------------- dates (time basis)


def test_cycles_follow_decision_dates_and_nothing_runs_from_posting(tmp_path):
    """Statements all decided in August 2025 about content posted in 2023: they are 2025-H2 decisions; time to
    action and detection-based clocks are not available; the content's age is its own informational metric."""
    dump = write_zip_of_zips(tmp_path / "sor-global-2025-08-05-full.zip", [multi_platform_rows()])
    run([dump], tmp_path / "packs")
    for name, decisions in (("contoh", 31), ("gambar", 25)):
        pack = riskkit.load_datapack(tmp_path / "packs" / name, library=LIB)
        assert pack.meta.time_basis == "decision" and pack.meta.cohort_column == "actioned_at"
        assert pack.actions["detected_at"].isna().all()
        m = compute(pack, "2025-H2", library=LIB)
        assert m.value("decisions", scope="global") == decisions
        assert compute(pack, "2023-H1", library=LIB).value("decisions", scope="global") == 0
        for metric in ("tta_median_h", "tta_p90_h", "tta_p99_h", "open_at_cycle_end"):
            assert m.unavailable[metric] == "not available: statements of reasons carry no detection time"
            assert m.row(metric) is None
        clocks = [k for k in m.unavailable if k.startswith("sla.")]
        assert clocks and all(m.unavailable[k].endswith("carry no detection time") for k in clocks)
        assert not any(
            str(k).startswith("sla.") for k in m.table.loc[m.table["metric"].str.startswith("sla."), "metric"]
        )
    gambar = compute(riskkit.load_datapack(tmp_path / "packs" / "gambar", library=LIB), "2025-H2", library=LIB)
    # posted 2023-05-01, decided 2025-08-04: 826 days, beyond the 90-day minute histogram (hourly bins)
    assert gambar.value("content_age_at_decision_median_h", scope="global") == 826 * 24
    contoh = compute(riskkit.load_datapack(tmp_path / "packs" / "contoh", library=LIB), "2025-H2", library=LIB)
    assert contoh.value("content_age_at_decision_median_h", scope="global") == 3 * 24  # posted 08-01, decided 08-04


def test_time_basis_is_part_of_the_contract(tmp_path):
    action = {
        "action_id": "A1",
        "category": "other",
        "surface": "text",
        "detected_at": "",
        "actioned_at": "2025-08-03T00:00:00Z",
        "detection_source": "user_report",
        "decision_by": "human",
        "action": "remove",
        "in_malaysia": "true",
        "rationale": "",
        "policy_ref": "",
        "content_posted_at": "2025-08-05T00:00:00Z",  # after the decision: a time-order error
    }
    meta = {**BASE_META, "time_basis": "decision"}
    report = validate_datapack(make_pack(tmp_path / "decision", {"actions": [action]}, meta=meta), library=LIB)
    assert [(p.kind, p.column) for p in report.problems if p.severity == "error"] == [("time_order", "actioned_at")]
    fixed = {**action, "content_posted_at": "2025-08-01T00:00:00Z"}
    assert validate_datapack(make_pack(tmp_path / "ok", {"actions": [fixed]}, meta=meta), library=LIB).ok
    detection = validate_datapack(make_pack(tmp_path / "detection", {"actions": [fixed]}), library=LIB)
    assert [(p.kind, p.column) for p in detection.problems if p.severity == "error"] == [("empty_value", "detected_at")]
    wrong = validate_datapack(
        make_pack(tmp_path / "wrong", {"actions": [fixed]}, meta={**BASE_META, "time_basis": "x"}), library=LIB
    )
    assert any(p.column == "time_basis" and "'detection' or 'decision'" in p.expected for p in wrong.problems)


def test_imported_statements_feed_the_dsa_transparency_report(tmp_path):
    """Import → export end to end: territorial_scope decides EU scope, decision_ground decides Part 5 or Part 6."""
    from riskkit.pack import load_datapack
    from riskkit.reports import dsa_transparency as dsa

    eu, illegal, own = '["DE","AT"]', "DECISION_GROUND_ILLEGAL_CONTENT", "SOURCE_VOLUNTARY"
    rows = [
        *(statement(i, territorial_scope=eu, decision_ground=illegal, source_type=own) for i in range(1, 4)),
        *(statement(i, territorial_scope=eu, source_type=own) for i in range(4, 6)),  # ground: terms
        statement(6, territorial_scope='["NO"]', source_type=own),  # EEA only: not EU
        statement(7, source_type=own),  # Malaysia only
    ]
    run([write_dump(tmp_path / "sor-contoh-2025-08-03-full-00000-00000.csv", rows)], tmp_path / "pack", territory="all")
    meta_path = tmp_path / "pack" / "datapack.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    meta["eu"] = {"provider_type": "vlop", "provider_name": "Contoh B.V."}
    meta["as_of"] = "2026-01-05T00:00:00+00:00"  # the dump of the period's last day arrived
    meta_path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    report = dsa.build(load_datapack(tmp_path / "pack", library=LIB), "2025-H2", library=LIB)
    column = "Number of measures taken at the provider's own initiative "
    p5, p6 = report.parts[5], report.parts[6]
    total5 = p5[p5["Category of illegal content"] == "TOTAL"].iloc[0]
    total6 = p6[p6[p6.columns[3]] == "TOTAL"].iloc[0]
    assert (total5[column], total6[column]) == (3, 2)
