"""Regulator and public reports: disclosure control (tested on packs built to tempt a leak), the MCMC workbook,
the Online Safety Plan status and the record-keeping export."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from public_scan import pack_secrets, scan_public
from riskkit.cycles import parse
from riskkit.evaluate import evaluate
from riskkit.metrics import compute
from riskkit.pack import load_datapack
from riskkit.reports import public, records
from riskkit.reports.disclosure import Disclosure, DisclosureError, PublicTable
from riskkit.reports.exports import write_exports, write_records
from riskkit.reports.wording import load_wording
from riskkit.runner import run_cycle

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SECRET = "LEAK-7f3a"  # planted in every free-text field of the tempting pack


@pytest.fixture(scope="module")
def rules(library):
    return Disclosure.for_library(library)


# ------------------------------------------------------------------------------------------- PublicTable rules


def test_small_counts_are_shown_as_below_threshold_with_complementary_suppression(rules):
    counts = pd.DataFrame({"kind": ["takedown", "emergency", "preservation", "total"], "requests": [120, 3, 40, 163]})
    t = PublicTable.from_counts("t", counts, label_column="kind", disclosure=rules)
    shown = dict(zip(t.frame["kind"], t.frame["requests"], strict=True))
    assert shown["emergency"] == "<10"
    # 163 - 120 - 3 would reveal 'emergency' if 'preservation' stayed visible: the smallest other cell is hidden too
    assert shown["preservation"] == "withheld" and shown["takedown"] == "120" and shown["total"] == "163"
    assert set(t.log["reason"]) == {"count below 10", "complementary suppression (protects a hidden cell)"}


def test_no_cell_can_be_recovered_from_totals(rules):
    counts = pd.DataFrame({"kind": ["a_1", "a_2", "a_3", "total"], "n": [50, 4, 60, 114]})
    counts["kind"] = ["takedown", "emergency", "preservation", "total"]
    t = PublicTable.from_counts("t", counts, label_column="kind", disclosure=rules)
    hidden = t.frame["n"].isin(["<10", "withheld"])
    assert hidden.sum() >= 2  # never exactly one hidden cell under a published total


def test_zero_is_suppressed_too_and_two_small_cells_protect_each_other(rules):
    counts = pd.DataFrame({"kind": ["takedown", "emergency", "preservation", "total"], "n": [200, 0, 5, 205]})
    t = PublicTable.from_counts("t", counts, label_column="kind", disclosure=rules)
    assert list(t.frame["n"]) == ["200", "<10", "<10", "205"]
    assert "complementary" not in " ".join(t.log["reason"])


def test_rates_withheld_when_numerator_or_denominator_small(rules):
    rows = pd.DataFrame({"m": ["appeal_rate", "reversal_rate", "Appeal rate"], "num": [3, 50, 0], "den": [400, 8, 500]})
    t = PublicTable.from_rates("t", rows, label_column="m", rate_columns={"share": ("num", "den")}, disclosure=rules)
    assert list(t.frame["share"]) == ["withheld", "withheld", "0.0%"]


def test_free_text_and_raw_small_counts_are_refused(rules):
    with pytest.raises(DisclosureError, match="not one of riskkit's labels"):
        PublicTable("t", pd.DataFrame({"kind": ["Ahmad bin Ali"], "n": ["120"]})).check(rules)
    with pytest.raises(DisclosureError, match="small count 4"):
        PublicTable("t", pd.DataFrame({"kind": ["takedown"], "n": ["4"]})).check(rules)


def test_the_threshold_must_be_a_positive_whole_number(library):
    from riskkit.exceptions import ParameterError

    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError, match="disclosure threshold"):
            Disclosure.for_library(library, bad)


# ------------------------------------------------------------------------------------------- a pack built to tempt a leak


@pytest.fixture(scope="module")
def tempting_pack(tmp_path_factory):
    """The sample with a handful of CSAM actions, one child report, two emergency requests and a secret in every
    free-text field."""
    pack = tmp_path_factory.mktemp("tempt") / "pack"
    shutil.copytree(SAMPLE, pack)
    actions = pq.read_table(pack / "actions.parquet").to_pandas()
    for col in ("rationale", "policy_ref", "content_id"):
        actions[col] = actions[col].astype("string")
    in_2025 = (actions["detected_at"] >= "2024-12-31T16:00:00Z") & (actions["detected_at"] < "2025-12-31T16:00:00Z")
    csam = actions.index[(actions["category"] == "csam") & in_2025]
    actions = actions.drop(csam[4:])  # keep 4 CSAM actions in 2025
    actions.loc[actions.index[:2000], "rationale"] = f"{SECRET} user @someone posted"
    actions.loc[actions.index[:2000], "content_id"] = f"{SECRET}-id"
    actions.to_parquet(pack / "actions.parquet", index=False)
    reports = pq.read_table(pack / "reports.parquet").to_pandas()
    reports = reports[reports["action_id"].isna() | reports["action_id"].isin(actions["action_id"])]
    child = reports.index[reports["reporter_type"] == "child"]
    reports = reports.drop(child[1:])  # one report by a child in the whole pack
    reports.to_parquet(pack / "reports.parquet", index=False)
    appeals = pq.read_table(pack / "appeals.parquet").to_pandas()
    appeals[appeals["action_id"].isin(actions["action_id"])].to_parquet(pack / "appeals.parquet", index=False)
    requests = pd.read_csv(pack / "authority_requests.csv", dtype=str, keep_default_na=False)
    emergency = requests.index[requests["kind"] == "emergency"]
    requests = requests.drop(emergency[2:])
    requests.loc[requests.index[:5], "agency"] = f"{SECRET} agency"
    requests.to_csv(pack / "authority_requests.csv", index=False)
    answers = pd.read_csv(pack / "audits" / "child_safety.csv", dtype=str, keep_default_na=False)
    answers["evidence"] = f"{SECRET} evidence"
    answers.to_csv(pack / "audits" / "child_safety.csv", index=False)
    return pack


def test_tempting_pack_public_tables_hide_small_counts(tempting_pack, library, rules):
    m = compute(load_datapack(tempting_pack, library=library), "2025", library=library)
    words = load_wording()
    tables = {lang: public.public_tables(m, 0, rules, library, words, lang) for lang in ("en", "ms")}
    harm = tables["en"]["harm"].frame.set_index("Harm")["Enforcement actions"]
    assert m.value("actions_enforced", "csam") < 10
    assert harm["Child sexual abuse material"] == "<10"
    assert harm.isin(["<10", "withheld"]).sum() >= 2  # a second cell hides the first from the total
    reports = tables["en"]["reports"].frame.set_index("Reported by")["Reports"]
    assert reports["Children"] == "<10"
    requests = tables["en"]["requests"].frame.set_index("Kind of request")["Requests"]
    assert requests["Emergency requests"] == "<10"
    handling = tables["en"]["handling"].frame.set_index("Harm")
    assert handling.loc["Child sexual abuse material", "Found proactively"] == "withheld"
    # Malay: the same cells hidden, in Malay words
    ms = tables["ms"]["harm"].frame.set_index("Kemudaratan")["Tindakan penguatkuasaan"]
    assert list(ms.replace({"dirahsiakan": "withheld"})) == list(harm)
    assert ms["Bahan penderaan seksual kanak-kanak"] == "<10"
    assert tables["ms"]["handling"].frame.iloc[0]["Dikesan secara proaktif"] == "dirahsiakan"


@pytest.mark.slow
@pytest.mark.notebook
def test_public_folder_of_a_tempting_pack_leaks_no_small_count_and_no_free_text(tempting_pack, tmp_path, library):
    result = run_cycle(tempting_pack, "2025", out=tmp_path / "r", progress=False)
    public_dir = result.folder / "public"
    ids, texts = pack_secrets(tempting_pack, result.folder, library)
    assert {f"{SECRET} user @someone posted", f"{SECRET} evidence"} <= texts
    assert scan_public(public_dir, ids, texts, threshold=10) == []
    m = compute(load_datapack(tempting_pack, library=library), "2025", library=library)
    csam = int(m.value("actions_enforced", "csam"))
    for lang in ("en", "ms"):
        html = (public_dir / f"annual-report-2025-{lang}.html").read_text()
        assert f">{csam}<" not in html  # the table cell shows <10, never the number
        assert "&lt;10" in html
    english = (public_dir / "annual-report-2025-en.html").read_text()
    assert "fewer than 10 of them concerned child sexual abuse material" in english
    assert SECRET not in (result.folder / "04_public_annual_safety_report_en.ipynb").read_text()


# ------------------------------------------------------------------------------------------- MCMC report


@pytest.fixture(scope="module")
def h1(sample_pack, library, tmp_path_factory):
    """The sample's 2025-H1 evaluated and exported (no notebooks): (result, folder)."""
    folder = tmp_path_factory.mktemp("h1")
    result = evaluate(sample_pack, "2025-H1", library=library)
    write_exports(result, folder)
    write_records(sample_pack, parse("2025-H1"), folder)
    return result, folder


def test_mcmc_workbook_is_fit_to_submit(h1):
    result, folder = h1
    path = folder / "mcmc_half_yearly_2025-H1.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Cover"
    assert {"Obligations by status", "Obligations register", "Targets", "Data appendix"} <= set(wb.sheetnames)
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows() if r[0].value}
    assert cover["Platform"] == "Serambi" and cover["Cycle"].startswith("2025-H1")
    assert cover["Data as of"] == "10 Jul 2026, 09:00 (MYT)"
    assert cover["Sign-off"].startswith("UNSIGNED DRAFT")
    assert any(str(k).startswith("Input actions.parquet") for k in cover)
    counts = wb["Obligations by status"]
    assert counts.freeze_panes == "A2" and counts.auto_filter.ref and counts["A1"].font.b
    shown = {r[0].value: r[1].value for r in counts.iter_rows(min_row=2)}
    expected = result["summary.status_counts"].set_index("label")["obligations"].to_dict()
    assert shown == expected
    handling = wb["Handling of harmful content by"]  # the title cut at a word within Excel's 31 characters
    header = [c.value for c in handling[1]]
    col = header.index("Found proactively") + 1
    cell = handling.cell(row=2, column=col)
    assert cell.number_format == "0.0%" and isinstance(cell.value, float)
    assert cell.value == pytest.approx(result["mcmc.harm_handling"]["proactive_rate"].iloc[0])
    appendix = pd.read_excel(path, sheet_name="Data appendix")
    assert len(appendix) == len(result["metrics"])


def test_online_safety_plan_statuses(h1):
    _, folder = h1
    plan = pd.read_csv(folder / "online_safety_plan_2025-H1.csv", keep_default_na=False)
    assert set(plan["instrument"]) == {"rmc-2026", "cpc-2026"}
    assert set(plan["status"]) == {"pending"}  # the 2026 codes came into force in June 2026, after 2025-H1
    age = plan.set_index("obligation").loc["cpc-2026:cpc.minimum_age_16"]
    assert age["status_label"] == "Pending (not yet in force)" and "CS-AGE-02" in age["items"]


def test_record_keeping_export(h1, sample_pack):
    _, folder = h1
    csv = pd.read_csv(folder / "record_keeping_2025-H1.csv")
    parquet = pd.read_parquet(folder / "record_keeping_2025-H1.parquet")
    assert len(csv) == len(parquet) > 1000
    assert "no_violation" not in set(csv["action"])
    assert str(parquet["detected_at"].dt.tz) == "Asia/Kuala_Lumpur"
    rows, completeness = records.record_keeping(sample_pack, parse("2025-H1"))
    assert len(rows) == len(csv)
    total = completeness.set_index("category").loc["all"]
    assert 0.9 < total["complete"] < 1.0 and total["actions"] == len(csv)


@pytest.mark.notebook
def test_half_year_report_refuses_a_year(tmp_path):
    import papermill as pm

    nb = Path(__file__).parents[1] / "notebooks" / "03_mcmc_half_yearly_report.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="the MCMC report is half-yearly"):
        pm.execute_notebook(
            str(nb),
            str(tmp_path / "out.ipynb"),
            parameters={"data_path": str(SAMPLE), "cycle": "2025"},
            kernel_name="python3",
            progress_bar=False,
        )
