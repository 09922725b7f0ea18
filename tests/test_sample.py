"""The synthetic Serambi pack: contract conformance, documented patterns, determinism and safety of generate(),
and the checks on its scenario file."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from riskkit import safe_yaml, sample, schema
from riskkit.exceptions import ParameterError, RiskkitError
from riskkit.library import Library, load_library
from riskkit.pack import load_datapack
from riskkit.sample import generator
from riskkit.sample.scenario import DEFAULT_PATH, Scenario, ScenarioError, load_scenario, parse_scenario

N = 20_000
AS_OF = pd.Timestamp("2026-07-10T09:00:00+08:00")
START = pd.Timestamp("2025-01-01T00:00:00+08:00")
END = pd.Timestamp("2026-07-01T00:00:00+08:00")
PARQUET = ("actions", "reports", "appeals")
CSV = ("authority_requests", "users", "capacity", "feature_changes", "prevalence_samples", "age_assurance")
TS_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
REPORTED = ("user_report", "trusted_flagger", "authority")


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, lib: Library) -> Path:
    out = tmp_path_factory.mktemp("sample") / "serambi"
    summary = sample.generate(out, N, library=lib)
    assert summary.path == out
    assert summary.rows["actions"] == N
    return out


@pytest.fixture(scope="module")
def raw(pack: Path) -> dict[str, pd.DataFrame]:
    """Tables as written: Parquet through pyarrow, CSV as text (empty cell = '')."""
    out = {name: pq.read_table(pack / f"{name}.parquet").to_pandas() for name in PARQUET}
    for name in CSV:
        out[name] = pd.read_csv(pack / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def t(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Typed tables: enums as str, CSV timestamps parsed to UTC, numbers as numbers."""
    out = {}
    for name, df in raw.items():
        df = df.copy()
        for col in (c for c in schema.TABLES[name].columns if c.name in df.columns):
            if col.kind == "enum" or (col.kind in ("id", "string", "text") and name in PARQUET):
                df[col.name] = df[col.name].astype(object).where(df[col.name].notna(), None)
            elif col.kind == "timestamp" and name in CSV:
                df[col.name] = pd.to_datetime(df[col.name].replace("", None), format="ISO8601", utc=True)
            elif col.kind in ("int", "float") and name in CSV:
                df[col.name] = pd.to_numeric(df[col.name].replace("", None))
        out[name] = df
    a = out["actions"]
    myt = a.detected_at.dt.tz_convert("Asia/Kuala_Lumpur")
    a["half"] = myt.dt.year.astype(str) + "-H" + np.where(myt.dt.month <= 6, "1", "2")
    a["hours"] = (a.actioned_at - a.detected_at).dt.total_seconds() / 3600
    a["proactive"] = a.detection_source.isin(["automated", "proactive_human"])
    return out


# ----------------------------------------------------------------------------------------------- contract


def test_files_and_datapack_yaml(pack: Path) -> None:
    meta = yaml.safe_load((pack / "datapack.yaml").read_text(encoding="utf-8"))
    assert meta["contract"] == schema.CONTRACT_VERSION
    assert meta["platform"]["name"] == "Serambi"
    assert meta["platform"]["service_type"] in schema.SERVICE_TYPES
    assert meta["timezone"] == "Asia/Kuala_Lumpur"
    assert meta["as_of"] == "2026-07-10T09:00:00+08:00"
    assert meta["generator"] == {"name": "riskkit.sample", "seed": sample.DEFAULT_SEED, "actions": N}
    assert meta["age_verified_unit"] == "share"
    assert set(meta["tables"]) == set(PARQUET + CSV)
    for name, file in meta["tables"].items():
        assert (pack / file).is_file(), name
    assert isinstance(meta["audits"], dict)
    for file in meta["audits"].values():
        assert (pack / file).is_file()
    (period,) = meta["high_risk_periods"]
    assert (period["start"], period["end"]) == ("2025-11-01", "2025-12-06")
    assert set(period["categories"]) <= set(schema.HARM_CATEGORIES)
    assert (pack / "README.md").read_text(encoding="utf-8").startswith("# Serambi")
    assert not [p for p in pack.parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


#: Optional columns the sample does not fill: import-only ones (the sample is riskkit-native data) and the EU scope
#: columns of the DSA transparency report (the sample has no EU part).
NOT_GENERATED = {
    "actions": {"source_category", "in_eu", "decision_ground", "content_posted_at"},
    "reports": {"in_eu"},
    "authority_requests": {"eu_member_state", "source_category", "items", "acknowledged_at"},
}


def generated(name: str) -> list[schema.Column]:
    """The contract's columns of a table that the generator fills."""
    return [c for c in schema.TABLES[name].columns if c.name not in NOT_GENERATED.get(name, ())]


def test_columns_in_schema_order(raw: dict[str, pd.DataFrame], pack: Path) -> None:
    for name, df in raw.items():
        expected = tuple(c.name for c in generated(name))
        assert tuple(df.columns) == expected, name
        assert len(df) > 0, name
    assert {"content_id", "involves_minor", "views_before_action", "reported_to_authority"} <= set(raw["actions"])


def test_parquet_timestamps_are_tz_aware_utc(pack: Path) -> None:
    for name in PARQUET:
        sch = pq.read_schema(pack / f"{name}.parquet")
        for col in schema.TABLES[name].columns:
            if col.kind == "timestamp" and col.name not in NOT_GENERATED.get(name, ()):
                assert sch.field(col.name).type == pa.timestamp("us", tz="UTC"), (name, col.name)


def test_csv_cells_are_well_formed(raw: dict[str, pd.DataFrame], pack: Path) -> None:
    for name in CSV:
        (pack / f"{name}.csv").read_bytes().decode("utf-8")  # UTF-8
        df = raw[name]
        for col in generated(name):
            values = df[col.name]
            filled = values[values != ""]
            if not col.nullable:
                assert len(filled) == len(values), (name, col.name)
            if col.kind == "timestamp":
                assert filled.str.match(TS_TEXT).all(), (name, col.name)
            if col.kind == "bool":
                assert set(filled) <= {"true", "false"}, (name, col.name)
            if col.kind == "month":
                assert filled.str.match(r"^\d{4}-\d\d$").all(), (name, col.name)


def test_enums_keys_and_nulls(t: dict[str, pd.DataFrame]) -> None:
    for name, df in t.items():
        table = schema.TABLES[name]
        for col in generated(name):
            values = df[col.name]
            missing = values.isna() | values.astype(str).eq("")
            if not col.nullable:
                assert not missing.any(), (name, col.name)
            if col.enum:
                assert set(values[~missing]) <= set(col.enum), (name, col.name)
            if col.minimum is not None:
                assert (pd.to_numeric(values[~missing]) >= col.minimum).all(), (name, col.name)
        assert not df.duplicated(list(table.primary_key)).any(), name


def test_foreign_keys(t: dict[str, pd.DataFrame]) -> None:
    ids = set(t["actions"].action_id)
    for name in ("reports", "appeals"):
        linked = t[name].action_id.dropna()
        assert len(linked) > 0
        assert set(linked) <= ids, name


def test_time_orders_and_bounds(t: dict[str, pd.DataFrame]) -> None:
    for name, df in t.items():
        table = schema.TABLES[name]
        for order in (o for o in table.time_orders if {o.earlier, o.later} <= set(df.columns)):
            both = df[order.earlier].notna() & df[order.later].notna()
            assert (df.loc[both, order.later] >= df.loc[both, order.earlier]).all(), (name, order)
        for col in generated(name):
            if col.kind == "timestamp":
                assert (df[col.name].dropna() <= AS_OF).all(), (name, col.name)
    a = t["actions"]
    assert a.detected_at.min() >= START and a.detected_at.max() < END
    assert a.detected_at.is_monotonic_increasing
    r = t["reports"]
    assert r.received_at.min() >= START and r.received_at.max() < END
    ap = t["appeals"].merge(a[["action_id", "actioned_at", "action"]], on="action_id")
    assert (ap.filed_at > ap.actioned_at).all()
    assert (ap.action != "no_violation").all()


def test_load_datapack_accepts_the_pack(pack: Path, lib: Library) -> None:
    loaded = load_datapack(pack, library=lib)
    assert loaded.report.ok
    assert loaded.report.warnings == 0
    assert len(loaded.actions) == N


# ----------------------------------------------------------------------------------------------- patterns


def test_category_mix(t: dict[str, pd.DataFrame]) -> None:
    a = t["actions"]
    share = a.category.value_counts(normalize=True)
    assert set(share.index[:2]) == {"financial_scam", "bullying_harassment"}
    assert 0.005 < share["csam"] < 0.03
    per_half = pd.crosstab(a.category, a.half)
    assert list(per_half.columns) == ["2025-H1", "2025-H2", "2026-H1"]
    assert set(per_half.index) == set(schema.HARM_CATEGORIES)
    assert (per_half > 0).all().all()


def test_proactive_rates(t: dict[str, pd.DataFrame]) -> None:
    rate = t["actions"].pivot_table(index="category", columns="half", values="proactive", aggfunc="mean")
    for half in rate.columns:
        assert rate.loc["csam", half] > 0.9
        for cat in ("financial_scam", "bullying_harassment"):
            assert 0.18 < rate.loc[cat, half] < 0.42, (cat, half)
            assert rate.loc["csam", half] > rate.loc[cat, half]
    # classifier_scam from Jul 2025 lifts scam detection
    assert rate.loc["financial_scam", "2025-H2"] > rate.loc["financial_scam", "2025-H1"] + 0.07


def test_decision_makers(t: dict[str, pd.DataFrame]) -> None:
    auto = pd.crosstab(t["actions"].category, t["actions"].decision_by, normalize="index")["automated"]
    assert auto["csam"] > 0.75 and auto["other"] > 0.75
    assert auto["bullying_harassment"] < 0.15 and auto["hate_speech"] < 0.15


def test_time_to_action(t: dict[str, pd.DataFrame]) -> None:
    a = t["actions"]
    closed = a[a.actioned_at.notna()]
    median = closed.groupby("category").hours.median()
    assert 1.5 < median["csam"] < 3.0
    assert 6.0 < median["financial_scam"] < 13.0
    assert 14.0 < median["bullying_harassment"] < 26.0
    late = closed.assign(late=closed.hours > 24).groupby("category").late.mean()
    assert 0.01 < late["csam"] < 0.08
    assert late["financial_scam"] > late["csam"] + 0.1
    assert closed.hours.max() > 24 * 14  # long tails
    priority = closed[closed.category.isin(["csam", "financial_scam"])]
    by_route = priority.groupby(priority.detection_source.isin(REPORTED)).hours.apply(lambda h: (h > 24).mean())
    assert by_route[True] > by_route[False]
    still_open = a[a.actioned_at.isna()]
    assert 0 < len(still_open) < 0.01 * len(a)
    assert still_open.detected_at.min() >= pd.Timestamp("2026-05-01T00:00+08:00")
    assert still_open.views_before_action.isna().all()


def test_scope_records_and_actions(t: dict[str, pd.DataFrame]) -> None:
    a = t["actions"]
    assert 0.80 < a.in_malaysia.mean() < 0.90
    for col, ceiling in (("rationale", 0.07), ("policy_ref", 0.05)):
        gaps = a[col].isna().groupby(a.half).mean()
        assert (gaps > 0).all() and (gaps < ceiling).all(), col
        assert gaps["2026-H1"] < gaps["2025-H1"], col
    mix = pd.crosstab(a.category, a.action, normalize="index")
    assert mix.loc["csam", ["remove", "terminate_account"]].sum() > 0.95
    assert mix.loc["csam", "terminate_account"] > 0.6
    assert mix.loc["financial_scam", ["remove", "suspend_account"]].sum() > 0.65
    assert mix.loc["bullying_harassment", ["remove", "warn", "restrict"]].sum() > 0.7
    assert mix.loc["manipulated_media", "label"] > 0.35
    assert 0.05 < (a.action == "no_violation").mean() < 0.2
    assert a.loc[a.category == "csam", "involves_minor"].all()
    assert a.loc[(a.category == "csam") & (a.action != "no_violation"), "reported_to_authority"].mean() > 0.9
    assert not a.loc[a.action == "no_violation", "reported_to_authority"].any()
    account = a.action.isin(schema.ACCOUNT_ACTIONS)
    decided = a.action.notna()  # an open item has no action yet (the contract)
    assert a.loc[account, "content_id"].str.startswith("u").all()
    assert a.loc[~account & decided, "content_id"].str.startswith("c").all()


def test_trends(t: dict[str, pd.DataFrame]) -> None:
    a = t["actions"]
    per_half = pd.crosstab(a.category, a.half)
    assert per_half.loc["financial_scam", "2026-H1"] >= 1.5 * per_half.loc["financial_scam", "2025-H2"]
    day = a.detected_at.dt.tz_convert("Asia/Kuala_Lumpur").dt.tz_localize(None).dt.normalize()

    def per_day(cat: str, first: str, last: str) -> float:
        inside = (a.category == cat) & (day >= first) & (day <= last)
        return inside.sum() / ((pd.Timestamp(last) - pd.Timestamp(first)).days + 1)

    for cat in ("hate_speech", "manipulated_media"):
        assert per_day(cat, "2025-11-01", "2025-12-06") > 1.7 * per_day(cat, "2025-09-26", "2025-10-31"), cat
    assert per_day("manipulated_media", "2026-02-10", "2026-06-30") > 1.6 * per_day(
        "manipulated_media", "2025-12-07", "2026-02-09"
    )
    live = a[a.surface == "live"]
    assert len(live) > 0
    assert live.detected_at.min() >= pd.Timestamp("2025-08-05T10:00:00+08:00")
    assert set(a.surface) == set(sample.SURFACES)


def test_reports(t: dict[str, pd.DataFrame]) -> None:
    a, r = t["actions"], t["reports"]
    reported = a[a.detection_source.isin(REPORTED)]
    linked = r[r.action_id.notna()]
    assert linked.action_id.is_unique
    assert set(linked.action_id) == set(reported.action_id)
    joined = linked.merge(a, on="action_id", suffixes=("", "_a"))
    assert (joined.received_at == joined.detected_at).all()
    assert (joined.category == joined.category_a).all()
    assert (joined.in_malaysia == joined.in_malaysia_a).all()
    closed = joined[joined.actioned_at.notna()]
    expected = np.where(closed.action == "no_violation", "no_violation", "actioned")
    assert (closed.outcome == expected).all()
    assert (joined.loc[joined.actioned_at.isna(), "outcome"] == "open").all()
    unlinked = r[r.action_id.isna()]
    assert len(unlinked) > 0.3 * len(linked)
    assert set(unlinked.outcome) - {"open"} == {"no_violation", "dismissed", "duplicate"}
    assert set(r.reporter_type) == set(schema.REPORTER_TYPES)
    ack = (r.acknowledged_at - r.received_at).dt.total_seconds() / 3600
    assess = (r.assessed_at - r.received_at).dt.total_seconds() / 3600
    ack_ok, assess_ok = (ack.dropna() <= 1).mean(), (assess.dropna() <= 12).mean()
    assert 0.9 < ack_ok < 0.99
    assert 0.8 < assess_ok < 0.97
    assert assess_ok < ack_ok  # the 12-hour clock is breached more often
    open_reports = r[r.outcome == "open"]
    assert len(open_reports) > 0 and open_reports.resolved_at.isna().all()
    assert r.loc[r.outcome != "open", "resolved_at"].notna().all()


def test_appeals(t: dict[str, pd.DataFrame]) -> None:
    a, p = t["actions"], t["appeals"]
    appealable = (a.action != "no_violation").sum()
    assert 0.03 < len(p) / appealable < 0.06
    joined = p.merge(a[["action_id", "decision_by"]], on="action_id")
    decided = joined[joined.outcome != "open"]
    reversal = decided.groupby("decision_by").outcome.apply(lambda s: (s == "reversed").mean())
    assert 0.12 < reversal["automated"] < 0.30
    assert 0.02 < reversal["human"] < 0.12
    assert reversal["automated"] > reversal["human"]
    still_open = p[p.outcome == "open"]
    assert len(still_open) > 0 and still_open.decided_at.isna().all()
    assert p.loc[p.outcome != "open", "decided_at"].notna().all()
    assert p.action_id.is_unique


def test_authority_requests(t: dict[str, pd.DataFrame]) -> None:
    q = t["authority_requests"]
    fixed = sample.default_scenario().authority_requests.fixed
    assert len(fixed) == 7
    assert len(q) == max(60, N // sample.ACTIONS_PER_REQUEST) + len(fixed)  # drawn, then the ONSA steps as given
    stated = q[q.due_at.notna()]
    assert list(stated.request_id) == list(q.request_id[-len(fixed) :])  # only the fixed ones state a deadline
    assert set(stated.kind) == {
        "compliance_direction",
        "restore_instruction",
        "non_compliance_notice",
        "disclosure_notice",
    }
    assert set(q.agency) == {"PDRM", "MCMC", "BNM", "NSRC"}
    assert set(q.kind) == set(schema.REQUEST_KINDS)
    outcome = q.outcome.value_counts(normalize=True)
    assert outcome["complied"] > 0.7
    assert {"partial", "rejected", "open"} <= set(outcome.index)
    assert q.loc[q.outcome == "open", "responded_at"].isna().all()
    hours = ((q.responded_at - q.received_at).dt.total_seconds() / 3600).groupby(q.kind).median()
    assert hours["emergency"] < 4 < hours["takedown"] < hours["data_disclosure"]
    assert hours["data_disclosure"] > 48


def test_users(t: dict[str, pd.DataFrame]) -> None:
    u = t["users"]
    assert len(u) == 18 * len(schema.AGE_BANDS)
    mau = u.pivot(index="month", columns="age_band", values="mau")
    assert list(mau.index) == list(sample.MONTHS)
    assert mau.index[0] == "2025-01" and mau.index[-1] == "2026-06"
    total = mau.sum(axis=1)
    assert (total >= 8_000_000).all()
    assert 9_200_000 <= total.max() <= 9_400_000
    assert total.idxmax() == "2026-05"
    share = mau.div(total, axis=0).loc["2026-05"]
    assert 0.05 < share["13_15"] < 0.08 and 0.005 < share["under_13"] < 0.02 and share["18_plus"] > 0.8
    for band in schema.UNDER_16_AGE_BANDS:
        assert 0 < mau.loc["2026-06", band] < 0.25 * mau.loc["2026-05", band], band
    assert mau.loc["2026-06", "16_17"] > 0.95 * mau.loc["2026-05", "16_17"]
    verified = u.pivot(index="month", columns="age_band", values="age_verified")
    assert ((verified >= 0) & (verified <= 1)).all().all()
    assert verified.loc["2026-06", "18_plus"] > 5 * verified.loc["2025-12", "18_plus"]
    assert verified.loc["2026-06", "16_17"] > 0.5 > verified.loc["2025-12", "16_17"]


def test_capacity(t: dict[str, pd.DataFrame]) -> None:
    c = t["capacity"]
    assert list(c.month) == list(sample.MONTHS)
    fte = c.local_moderators_fte
    assert 115 < fte.iloc[0] < 125 and 175 < fte.iloc[-1] < 185
    assert fte.iloc[-1] > fte.iloc[0] * 1.4
    assert (c.languages == "ms;en;zh;ta").all()
    assert (c.training_hours > 0).all() and (c.wellbeing_hours > 0).all()
    tools = [set(v.split(";")) for v in c.automated_tools]
    assert all(a <= b for a, b in itertools.pairwise(tools))
    assert tools[0] == {"hash_matching", "classifier_nudity"}
    assert {"classifier_scam", "llm_triage"} <= tools[-1]


def test_feature_changes(t: dict[str, pd.DataFrame]) -> None:
    f = t["feature_changes"].set_index("feature")
    assert {"Live streaming", "AI image tool", "Group video calls"} <= set(f.index)
    assert f.loc["Live streaming", "surfaces"] == "live;feed"
    assert f.loc["Live streaming", "available_to_minors"] == "true"
    assert f.loc["AI image tool", "surfaces"] == "feed;messages"
    assert f.loc["AI image tool", "available_to_minors"] == "false"
    launched = f.launched_at.dt.tz_convert("Asia/Kuala_Lumpur")
    assert launched["Live streaming"].strftime("%Y-%m") == "2025-08"
    assert launched["AI image tool"].strftime("%Y-%m") == "2026-02"
    halves = set(launched.dt.year.astype(str) + "-H" + np.where(launched.dt.month <= 6, "1", "2"))
    assert 0 < len(halves) < 3  # launches in some, not all, of the three half-years


def test_prevalence(t: dict[str, pd.DataFrame]) -> None:
    p = t["prevalence_samples"]
    assert len(p) == 18 * len(schema.HARM_CATEGORIES)
    assert p.views_sampled.between(10_000, 50_000).all()
    assert (p.views_violating <= p.views_sampled).all()
    rate = p.groupby("category").views_violating.sum() / p.groupby("category").views_sampled.sum()
    assert (rate < 0.005).all()
    assert rate["financial_scam"] > 10 * rate["csam"]


# ----------------------------------------------------------------------------------------------- generate()


def test_same_seed_gives_identical_bytes(tmp_path: Path, lib: Library) -> None:
    first = sample.generate(tmp_path / "a", 2_000, seed=7, library=lib)
    second = sample.generate(tmp_path / "b", 2_000, seed=7, library=lib)
    files = sorted(p.relative_to(first.path) for p in first.path.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.path) for p in second.path.rglob("*") if p.is_file())
    assert len(files) >= 10
    for rel in files:
        assert (first.path / rel).read_bytes() == (second.path / rel).read_bytes(), rel
    other = sample.generate(tmp_path / "c", 2_000, seed=8, library=lib)
    assert (other.path / "actions.parquet").read_bytes() != (first.path / "actions.parquet").read_bytes()


def test_refuses_non_empty_folder_unless_overwrite(tmp_path: Path, lib: Library) -> None:
    out = tmp_path / "pack"
    out.mkdir()
    sample.generate(out, 500, library=lib)  # an existing empty folder is fine
    (out / "stale.txt").write_text("old", encoding="utf-8")
    with pytest.raises(ParameterError, match="not empty"):
        sample.generate(out, 500, library=lib)
    assert (out / "stale.txt").exists()
    summary = sample.generate(out, 600, library=lib, overwrite=True)
    assert summary.rows["actions"] == 600
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(ParameterError, match="not a folder"):
        sample.generate(a_file, 500, library=lib, overwrite=True)


def test_interrupted_run_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lib: Library) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(generator, "_prevalence_frame", boom)
    with pytest.raises(RuntimeError):
        sample.generate(tmp_path / "pack", 500, library=lib)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("actions", [99, 0, -5, 50_000_001, 1.5, "100", True])
def test_actions_bounds(tmp_path: Path, actions: object, lib: Library) -> None:
    with pytest.raises(ParameterError):
        sample.generate(tmp_path / "pack", actions, library=lib)  # type: ignore[arg-type]
    assert not (tmp_path / "pack").exists()


def test_minimum_pack_still_has_every_category_per_half(tmp_path: Path, lib: Library) -> None:
    out = sample.generate(tmp_path / "tiny", sample.MIN_ACTIONS, library=lib).path
    a = pd.read_parquet(out / "actions.parquet")
    myt = a.detected_at.dt.tz_convert("Asia/Kuala_Lumpur")
    half = myt.dt.year.astype(str) + np.where(myt.dt.month <= 6, "H1", "H2")
    assert len(a) == sample.MIN_ACTIONS
    assert (pd.crosstab(a.category.astype(str), half) > 0).all().all()
    assert pd.crosstab(a.category.astype(str), half).shape == (len(schema.HARM_CATEGORIES), 3)


def test_audit_answers_for_checklists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lib: Library) -> None:
    monkeypatch.setattr(generator, "_checklists", lambda library: [("demo-checklist", ["D-1", "D-2", "D-3", "D-4"])])
    out = sample.generate(tmp_path / "pack", 500, library=lib).path
    meta = yaml.safe_load((out / "datapack.yaml").read_text(encoding="utf-8"))
    assert meta["audits"] == {"demo-checklist": "audits/demo-checklist.csv"}
    answers = pd.read_csv(out / "audits" / "demo-checklist.csv", dtype=str, keep_default_na=False)
    assert tuple(answers.columns) == schema.AUDIT_TABLE.required_columns
    assert list(answers.item_id) == ["D-1", "D-2", "D-3", "D-4"]
    assert set(answers.status) <= set(schema.AUDIT_STATUSES)
    filled = answers.maturity[answers.maturity != ""].astype(int)
    assert filled.between(0, 4).all()
    assert (answers.maturity[answers.status == "not_applicable"] == "").all()


# ----------------------------------------------------------------------------------------------- scenario


@pytest.fixture(scope="module")
def raw_scenario() -> dict[str, Any]:
    """The packaged scenario.yaml as parsed YAML (before the checks)."""
    return safe_yaml.load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _edited(raw: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def test_packaged_scenario_is_what_the_api_exposes() -> None:
    sc = load_scenario()
    assert isinstance(sc, Scenario)
    assert sc.surfaces == sample.SURFACES and "live" in sample.SURFACES
    assert sc.calendar.months == sample.MONTHS
    assert (sample.MONTHS[0], sample.MONTHS[-1], len(sample.MONTHS)) == ("2025-01", "2026-06", 18)
    assert sc.calendar.halves == ("2025-H1", "2025-H2", "2026-H1")
    assert sc.authority_requests.actions_per_request == sample.ACTIONS_PER_REQUEST
    assert sc.calendar.as_of == int(AS_OF.timestamp())
    with pytest.raises(AttributeError):
        _ = sample.NO_SUCH_CONSTANT
    with pytest.raises(ValueError, match="frozen"):
        sc.platform.name = "Other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "value", "key", "message"),
    [
        # unknown keys
        (("views", "colour"), 1, "views.colour", "unknown key"),
        (("platform", "nmae"), "Serambi", "platform.nmae", "unknown key"),
        (("volume", "base_share", "cscam"), 0.0, "volume.base_share.cscam", "unknown key"),
        (("ages",), {}, "ages", "unknown key"),
        # shares outside [0, 1]
        (("in_malaysia", "csam"), 1.2, "in_malaysia.csam", "less than or equal to 1"),
        (("appeals", "reversal", "human"), -0.1, "appeals.reversal.human", "greater than or equal to 0"),
        (("record_gaps", "rationale"), [0.05, 1.5, 0.015], "record_gaps.rationale[1]", "less than or equal to 1"),
        # mixes that must sum to 1
        (("detection", "mix", "ncii", "automated"), 0.45, "detection.mix.ncii", "must sum to 1"),
        (("action_mix", "csam", "remove"), 0.2, "action_mix.csam", "must sum to 1"),
        (("volume", "base_share", "other"), 0.2, "volume.base_share", "must sum to 1"),
        (("users", "band_share", "unknown"), 0.5, "users.band_share", "must sum to 1"),
        (("authority_requests", "agencies", 0, "share"), 0.5, "authority_requests: agencies", "must sum to 1"),
        # tables that must be complete or line up with the period
        (("in_malaysia",), {"csam": 0.7}, "in_malaysia", "missing: ncii"),
        (("volume", "monthly", "financial_scam"), [1.0] * 17, "volume.monthly.financial_scam", "one per month"),
        (("features", 0, "new_surface"), "radio", "features[0].new_surface", "not a surface"),
    ],
)
def test_broken_scenario_is_refused_naming_the_key(
    raw_scenario: dict[str, Any], path: tuple[str | int, ...], value: Any, key: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_edited(raw_scenario, path, value), source="edited.yaml")
    assert isinstance(caught.value, RiskkitError)
    problems = [p for p in caught.value.problems if p.startswith(key)]
    assert problems, caught.value.problems
    assert any(message in p for p in problems), problems
    assert str(caught.value).startswith("edited.yaml: invalid sample scenario")


def test_every_problem_of_a_scenario_is_listed(raw_scenario: dict[str, Any]) -> None:
    broken = _edited(_edited(raw_scenario, ("views", "colour"), 1), ("in_malaysia", "csam"), 2.0)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(broken)
    assert [p.split(":")[0] for p in caught.value.problems] == ["in_malaysia.csam", "views.colour"]


def test_scenario_file_yaml_errors_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("platform: {}\nplatform: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="duplicate key 'platform'"):
        load_scenario(path)
    path.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(path)
