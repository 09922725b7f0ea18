"""Risk methodology and register: scoring functions, matrix, floors, explanations, triggers, checks, exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import riskkit
from packs import base_tables, make_pack
from riskkit import schema
from riskkit.exceptions import FrameworkError, ParameterError
from riskkit.framework import FRAMEWORKS_DIR, load_library
from riskkit.risk import BANDS, Methodology, assess, quality_checks, score

SAMPLE = Path(__file__).parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def method():
    return Methodology.load()


@pytest.fixture(scope="module")
def sample_assessment():
    return assess(riskkit.load_datapack(SAMPLE), "2026-H1")


@pytest.fixture(scope="module")
def h2_assessment():
    return assess(riskkit.load_datapack(SAMPLE), "2025-H2")


# ------------------------------------------------------------------------------------------- scoring functions


def test_score_thresholds_both_directions():
    t = [2, 10, 40, 150]
    assert [score(v, t) for v in (0, 1.99, 2, 9.9, 10, 40, 149, 150, 1e9)] == [1, 1, 2, 2, 3, 4, 4, 5, 5]
    lower = [0.25, 0.15, 0.10, 0.05]
    assert [score(v, lower, higher_is_better=False) for v in (0.5, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0)] == [
        1,
        2,
        2,
        3,
        4,
        5,
        5,
    ]
    assert score(float("nan"), t) == 0
    with pytest.raises(ParameterError, match="four thresholds"):
        score(1, [1, 2])


def test_matrix_is_5x5_and_monotone(method):
    cells = method.cells
    assert len(cells) == 5 and all(len(row) == 5 for row in cells)
    rank = {b: i for i, b in enumerate(BANDS)}
    for lik in range(1, 6):
        for sev in range(1, 6):
            here = rank[method.band(lik, sev)]
            if lik < 5:
                assert rank[method.band(lik + 1, sev)] >= here
            if sev < 5:
                assert rank[method.band(lik, sev + 1)] >= here
    assert method.band(1, 1) == "low" and method.band(5, 5) == "critical"
    assert all(method.band(lik, 5) in ("high", "critical") for lik in range(1, 6))  # severity 5 never below high


def test_rrf_interpolates_the_maturity_points(method):
    assert method.rrf(1) == pytest.approx(0.10)
    assert method.rrf(3) == pytest.approx(0.50)
    assert method.rrf(3.5) == pytest.approx(0.575)
    assert method.rrf(5) == pytest.approx(0.80)
    assert method.rrf(float("nan")) == 0.0


def test_irremediable_harms_have_severity_floor_5(method):
    harms = method.section("harm_severity")
    assert harms["csam"]["floor"] == 5 and harms["ncii"]["floor"] == 5
    assert set(harms) == set(schema.HARM_CATEGORIES)


def test_a_non_monotone_methodology_override_is_rejected(tmp_path):
    raw = yaml.safe_load((FRAMEWORKS_DIR / "risk-methodology.yaml").read_text())
    raw["version"] = "9.0.0"
    raw["matrix"][0]["cells"][4][4] = "low"
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(FrameworkError, match="not monotone at likelihood 5, severity 5"):
        Methodology.load(load_library(extra=[tmp_path / "m.yaml"]))


# ------------------------------------------------------------------------------------------- the sample register


def test_csam_never_below_high_inherent(sample_assessment, h2_assessment):
    for a in (sample_assessment, h2_assessment):
        csam = a.register[a.register["harm"] == "csam"]
        assert len(csam) >= 5
        assert set(csam["inherent_band"]) <= {"high", "critical"}
        assert (csam["severity"] == 5).all()


def test_feature_launches_fire_triggers(sample_assessment, h2_assessment):
    t = sample_assessment.triggers
    launches = t[t["trigger"] == "feature_launch"]
    assert any("AI image tool" in d for d in launches["detail"])
    feed = sample_assessment.register.set_index("row_id").loc["R-manipulated_media-feed"]
    assert "feature_launch" in feed["triggers"]
    h2 = h2_assessment.triggers
    assert any("Live streaming" in d for d in h2[h2["trigger"] == "feature_launch"]["detail"])
    live = h2_assessment.register.set_index("row_id").loc["R-bullying_harassment-live"]
    assert "feature_launch" in live["triggers"]


def test_high_risk_period_and_volume_growth_triggers(sample_assessment, h2_assessment):
    period = h2_assessment.triggers[h2_assessment.triggers["trigger"] == "high_risk_period"]
    assert period["detail"].str.contains("Sabah state election").any()
    assert "hate_speech" in period["harms"].iloc[0]
    growth = sample_assessment.triggers[sample_assessment.triggers["trigger"] == "volume_growth"]
    assert growth["harms"].tolist() == ["financial_scam"]
    assert "volume_growth" in sample_assessment.register.set_index("row_id").loc["R-financial_scam-ads", "triggers"]


def test_every_explanation_names_its_inputs(sample_assessment):
    r = sample_assessment.register
    for row in r.itertuples():
        assert f"Likelihood {row.likelihood}" in row.likelihood_explanation
        assert "thresholds" in row.likelihood_explanation or "not available" in row.likelihood_explanation
        assert f"Severity {row.severity}" in row.severity_explanation
        assert f"scale {row.scale}" in row.severity_explanation
        assert f"irremediability {row.irremediability}" in row.severity_explanation
        assert row.controls_explanation.startswith("Controls:")
        if pd.notna(row.rrf) and row.rrf > 0:
            assert f"risk-reduction factor {row.rrf:.2f}" in row.controls_explanation
        assert row.harm in row.explanation and row.surface in row.explanation


def test_scores_are_consistent(sample_assessment):
    r = sample_assessment.register
    assert (r["inherent_score"] == r["likelihood"] * r["severity"]).all()
    assert (r["residual_score"] <= r["inherent_score"] + 1e-9).all()
    assert (r["residual_score"] - r["residual_likelihood"] * r["severity"]).abs().max() < 1e-3
    assert r["residual_band"].isin(BANDS).all() and r["inherent_band"].isin(BANDS).all()
    assert (r["methodology"] == "risk-methodology 1.0.0").all()
    # highest residual first
    assert r["residual_score"].is_monotonic_decreasing


def test_scam_on_feed_hand_check(sample_assessment):
    """financial_scam on feed, 2026-H1: incidence well above 150/million → likelihood 5; base severity 4 with a
    vulnerable-user step (10.7 % minors, feed carries a feature open to minors) → 5."""
    row = sample_assessment.register.set_index("row_id").loc["R-financial_scam-feed"]
    assert row["likelihood"] == 5 and row["severity"] == 5 and row["inherent_band"] == "critical"
    assert row["incidence_per_million"] == pytest.approx(180.9, abs=0.1)
    assert "scope +1 for vulnerable users" in row["severity_explanation"]
    assert row["response"] == "reduce"


def test_quality_checks_all_ok_on_sample(sample_assessment):
    checks = sample_assessment.checks.set_index("check")
    assert (checks["status"] == "OK").all(), checks


def test_quality_checks_flag_bad_registers(sample_assessment):
    r = sample_assessment.register.copy()
    r.loc[0, "residual_score"] = r.loc[0, "inherent_score"] + 1
    r.loc[1, ["control_sla", "control_proactive", "control_accuracy", "control_audit"]] = float("nan")
    r.loc[2, "response"] = "accept"
    r.loc[3, "scored_without_evidence"] = True
    checks = quality_checks(r).set_index("check")
    assert checks.loc["residual_above_inherent", "status"] == "FAIL"
    assert checks.loc["lowered_without_control", "row_ids"] == r.loc[1, "row_id"]
    assert checks.loc["high_residual_no_response", "status"] == "FAIL"
    assert checks.loc["scored_without_evidence", "status"] == "WARN"


def test_overrides_need_justification_and_show_in_the_row(sample_assessment):
    pack = riskkit.load_datapack(SAMPLE)
    with pytest.raises(ParameterError, match="needs a justification"):
        assess(pack, "2026-H1", metrics=sample_assessment.metrics, overrides={"R-csam-live": {"likelihood": 5}})
    a = assess(
        pack,
        "2026-H1",
        metrics=sample_assessment.metrics,
        overrides={"R-other-feed": {"likelihood": 5, "response": "accept", "justification": "test", "by": "QA"}},
    )
    row = a.register.set_index("row_id").loc["R-other-feed"]
    assert row["likelihood"] == 5 and "justification" in row["override"]
    assert row["inherent_score"] == 5 * row["severity"]


def test_previous_cycle_trend(sample_assessment):
    r = sample_assessment.register.set_index("row_id")
    assert set(r["trend"]) <= {"up", "down", "same", "new"}
    assert r.loc["R-financial_scam-feed", "trend"] == "up"  # scams nearly doubled


def test_minimal_pack_without_optional_tables_scores_without_crashing(tmp_path):
    drop = ("users", "capacity", "reports", "appeals", "feature_changes")
    pack = riskkit.load_datapack(make_pack(tmp_path / "p", drop=drop))
    a = assess(pack, "2025-H2")
    assert len(a.register) == 2  # csam/feed and scam/messages in Malaysian scope
    row = a.register.set_index("row_id").loc["R-csam-feed"]
    assert row["severity"] == 5 and row["inherent_band"] in ("high", "critical")
    assert "not available" in row["likelihood_explanation"]  # no users → no incidence per million
    assert a.checks.set_index("check").loc["scored_without_evidence", "status"] == "WARN"


def test_a_new_feature_surface_is_assessed_for_every_harm_even_without_data(tmp_path):
    pack = riskkit.load_datapack(make_pack(tmp_path / "p", drop=("users", "capacity", "reports", "appeals")))
    r = assess(pack, "2025-H2").register.set_index("row_id")
    live = r[r["surface"] == "live"]
    assert len(live) == len(schema.HARM_CATEGORIES)  # 'Live streaming' launched in 2025-H2 on live;feed
    assert live["triggers"].str.contains("feature_launch").all()
    assert live.loc["R-other-live", "scored_without_evidence"]
    assert live.loc["R-other-live", "likelihood"] == 3  # precautionary default


def test_exports_have_all_fields(sample_assessment, tmp_path):
    sample_assessment.to_csv(tmp_path / "risk_register.csv")
    sample_assessment.to_xlsx(tmp_path / "risk_register.xlsx")
    csv = pd.read_csv(tmp_path / "risk_register.csv")
    assert list(csv.columns) == list(sample_assessment.register.columns)
    assert len(csv) == len(sample_assessment.register)
    sheets = pd.read_excel(tmp_path / "risk_register.xlsx", sheet_name=None)
    assert set(sheets) == {"register", "triggers", "quality_checks", "methodology"}
    assert sheets["register"]["row_id"].tolist() == csv["row_id"].tolist()


def test_metrics_for_another_cycle_are_refused(sample_assessment):
    pack = riskkit.load_datapack(SAMPLE)
    with pytest.raises(ParameterError, match="metrics are for 2026-H1"):
        assess(pack, "2025-H2", metrics=sample_assessment.metrics)


def test_base_tables_fixture_unchanged():
    assert base_tables()["actions"][0]["category"] == "csam"


def test_workbook_parameters_accept_json_strings_and_reject_junk():
    from riskkit import workbook

    team = workbook.assessors_table('[{"name": "A", "role": "lead"}]')
    assert team.to_dict("records") == [{"name": "A", "role": "lead", "qualification": ""}]
    assert workbook.parse_mapping('{"R-x": {"likelihood": 2}}', "overrides") == {"R-x": {"likelihood": 2}}
    assert workbook.parse_mapping(None, "overrides") == {}
    with pytest.raises(ParameterError, match="assessors must be a JSON list"):
        workbook.assessors_table("[{oops")
    with pytest.raises(ParameterError, match=r"assessors\[1\] needs at least a name and a role"):
        workbook.assessors_table([{"name": "A"}])
    with pytest.raises(ParameterError, match="overrides must be a JSON object"):
        workbook.parse_mapping("[1]", "overrides")
