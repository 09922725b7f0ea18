"""Risk methodology and register: scoring functions, matrix, floors, explanations, triggers, checks, exports."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from packs import base_tables, make_pack
from riskkit import schema
from riskkit.exceptions import FrameworkError, ParameterError
from riskkit.library import FRAMEWORKS_DIR, load_library
from riskkit.metrics import compute
from riskkit.pack import load_datapack
from riskkit.risk import BANDS, Assessment, Methodology, assess, quality_checks, score


@pytest.fixture(scope="module")
def method(library):
    return Methodology(library.risk_methodology)


@pytest.fixture(scope="module")
def sample_assessment(sample_result):
    """The sample's 2026-H1 register, triggers and checks as the session's evaluation computed them."""
    return SimpleNamespace(
        register=sample_result["risk.register"],
        triggers=sample_result["risk.triggers"],
        checks=sample_result["risk.checks"],
    )


@pytest.fixture(scope="module")
def h2_assessment(sample_pack, library) -> Assessment:
    metrics = compute(sample_pack, "2025-H2", library=library)
    return assess(sample_pack, "2025-H2", metrics=metrics, library=library)


def _assess(pack, cycle, library, **kw) -> Assessment:
    return assess(pack, cycle, metrics=compute(pack, cycle, library=library), library=library, **kw)


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
    harms = {h.ref_id: h for h in method.fw.harm_severity}
    assert harms["csam"].floor == 5 and harms["ncii"].floor == 5
    assert set(harms) == set(schema.HARM_CATEGORIES)
    floors = method.harm_frame().set_index("harm")["floor"]
    assert floors[method.fw.harm("csam").label.en] == 5


def _break_matrix(raw):
    raw["matrix"][0]["cells"][4][4] = "low"


def _drop_ncii_severity(raw):
    raw["harm_severity"] = [h for h in raw["harm_severity"] if h["ref_id"] != "ncii"]


def _unregistered_indicator(raw):
    raw["likelihood_indicators"][0]["metric"] = "no_such_metric"


def _drop_a_response(raw):
    raw["responses"] = [r for r in raw["responses"] if r["ref_id"] != "critical"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_break_matrix, "not monotone at likelihood 5, severity 5"),
        (_drop_ncii_severity, "harm_severity lacks ncii"),
        (_unregistered_indicator, "'no_such_metric' is not a registered metric"),
        (_drop_a_response, "responses must cover the matrix bands"),
    ],
    ids=["non-monotone", "missing-harm", "unregistered-metric", "missing-response"],
)
def test_a_broken_methodology_is_rejected_when_the_library_loads(tmp_path, mutate, message):
    raw = yaml.safe_load((FRAMEWORKS_DIR / "risk-methodology.yaml").read_text(encoding="utf-8"))
    assert raw["kind"] == "risk_methodology"
    raw["version"] = "9.0.0"
    mutate(raw)
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError, match=message) as info:
        load_library(extra=[tmp_path / "m.yaml"])
    assert str(tmp_path / "m.yaml") in str(info.value)  # the message names the file
    # the same file unbroken replaces the packaged methodology
    raw = yaml.safe_load((FRAMEWORKS_DIR / "risk-methodology.yaml").read_text(encoding="utf-8"))
    raw["version"] = "9.0.0"
    (tmp_path / "ok.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert Methodology(load_library(extra=[tmp_path / "ok.yaml"]).risk_methodology).version == "9.0.0"


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
        assert row.harm_label in row.explanation and row.surface.replace("_", " ") in row.explanation


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
    assert row["incidence_per_million"] == pytest.approx(180.4, abs=0.1)  # enforced: decided items only
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


def test_overrides_need_justification_and_show_in_the_row(sample_pack, library, h2_assessment):
    metrics = h2_assessment.metrics
    with pytest.raises(ParameterError, match="needs a justification"):
        assess(sample_pack, "2025-H2", metrics=metrics, library=library, overrides={"R-csam-live": {"likelihood": 5}})
    before = h2_assessment.register.set_index("row_id").loc["R-other-feed"]
    assert before["likelihood"] < 5 and not before["override"]
    a = assess(
        sample_pack,
        "2025-H2",
        metrics=metrics,
        library=library,
        overrides={"R-other-feed": {"likelihood": 5, "response": "accept", "justification": "test", "by": "QA"}},
    )
    row = a.register.set_index("row_id").loc["R-other-feed"]
    assert row["likelihood"] == 5 and "justification" in row["override"]
    assert row["inherent_score"] == 5 * row["severity"]


def test_previous_cycle_trend(sample_assessment):
    r = sample_assessment.register.set_index("row_id")
    assert set(r["trend"]) <= {"up", "down", "same", "new"}
    assert r.loc["R-financial_scam-feed", "trend"] == "up"  # scams nearly doubled


def test_minimal_pack_without_optional_tables_scores_without_crashing(tmp_path, library):
    drop = ("users", "capacity", "reports", "appeals", "feature_changes")
    pack = load_datapack(make_pack(tmp_path / "p", drop=drop), library=library)
    a = _assess(pack, "2025-H2", library)
    assert len(a.register) == 2  # csam/feed and scam/messages in Malaysian scope
    row = a.register.set_index("row_id").loc["R-csam-feed"]
    assert row["severity"] == 5 and row["inherent_band"] in ("high", "critical")
    assert "not available" in row["likelihood_explanation"]  # no users → no incidence per million
    assert a.checks.set_index("check").loc["scored_without_evidence", "status"] == "WARN"


def test_a_new_feature_surface_is_assessed_for_every_harm_even_without_data(tmp_path, library):
    pack = load_datapack(make_pack(tmp_path / "p", drop=("users", "capacity", "reports", "appeals")), library=library)
    r = _assess(pack, "2025-H2", library).register.set_index("row_id")
    live = r[r["surface"] == "live"]
    assert len(live) == len(schema.HARM_CATEGORIES)  # 'Live streaming' launched in 2025-H2 on live;feed
    assert live["triggers"].str.contains("feature_launch").all()
    assert live.loc["R-other-live", "scored_without_evidence"]
    assert live.loc["R-other-live", "likelihood"] == 3  # precautionary default


def test_exports_have_all_fields(h2_assessment, tmp_path):
    h2_assessment.to_csv(tmp_path / "risk_register.csv")
    h2_assessment.to_xlsx(tmp_path / "risk_register.xlsx")
    csv = pd.read_csv(tmp_path / "risk_register.csv")
    assert list(csv.columns) == list(h2_assessment.register.columns)
    assert len(csv) == len(h2_assessment.register)
    sheets = pd.read_excel(tmp_path / "risk_register.xlsx", sheet_name=None)
    assert set(sheets) == {"Cover", "register", "triggers", "quality_checks", "methodology"}
    assert sheets["register"]["row_id"].tolist() == csv["row_id"].tolist()


def test_exports_never_write_a_formula(h2_assessment, tmp_path):
    """Free text (an override's justification, an explanation) that starts like a formula stays text."""
    import dataclasses

    import openpyxl

    register = h2_assessment.register.copy()
    register.loc[register.index[0], "explanation"] = '=HYPERLINK("http://example.invalid")'
    a = dataclasses.replace(h2_assessment, register=register)
    a.to_xlsx(tmp_path / "r.xlsx")
    a.to_csv(tmp_path / "r.csv")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["register"]
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert "'=HYPERLINK" in (tmp_path / "r.csv").read_text()


def test_metrics_for_another_cycle_are_refused(sample_pack, library, h2_assessment):
    with pytest.raises(ParameterError, match="metrics are for 2025-H2, not 2026-H1"):
        assess(sample_pack, "2026-H1", metrics=h2_assessment.metrics, library=library)


def test_base_tables_fixture_unchanged():
    assert base_tables()["actions"][0]["category"] == "csam"
