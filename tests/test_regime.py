"""The December 2026 regime update: pending instruments, the ONSA duties after a decision (ss.26, 27, 30(5), 37,
61), the Child Protection Code transition and the compliance calendar — on small packs with hand-computed answers."""

from __future__ import annotations

import copy
import re
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from icalendar import Calendar

from riskkit import calendar, schema
from riskkit.cycles import parse
from riskkit.documents.ics import calendar_bytes
from riskkit.exceptions import FrameworkError, InvalidDataPack
from riskkit.library import load_library
from riskkit.metrics import compute
from riskkit.pack import load_datapack

sys.path.insert(0, str(Path(__file__).parent))
from packs import BASE_META, base_tables, make_pack

FRAMEWORKS = Path(__file__).resolve().parents[1] / "src" / "riskkit" / "frameworks"
MYT = "+08:00"


def _action(i: str, category: str, action: str, detected: str, actioned: str, notified: str) -> dict[str, str]:
    return {
        "action_id": i,
        "category": category,
        "surface": "feed",
        "detected_at": detected,
        "actioned_at": actioned,
        "detection_source": "user_report",
        "decision_by": "human",
        "action": action,
        "in_malaysia": "true",
        "rationale": "r",
        "policy_ref": "p",
        "user_notified_at": notified,
    }


def _request(i: str, kind: str, received: str, due: str, responded: str) -> dict[str, str]:
    return {
        "request_id": i,
        "agency": "MCMC",
        "kind": kind,
        "received_at": received,
        "responded_at": responded,
        "outcome": "complied" if responded else "open",
        "due_at": due,
    }


def _transition_rows(extra: bool = False) -> list[dict[str, str]]:
    def row(month, cohort, scope, verified, found, notified=0, exported=0, restricted=0, suspended=0, early=0):
        values = (scope, verified, found, notified, exported, restricted, suspended, early)
        names = schema.AGE_ASSURANCE_TABLE.column_names[2:]
        return {"month": month, "cohort": cohort, **{n: str(v) for n, v in zip(names, values, strict=True)}}

    rows = [
        row("2026-05", "existing", 1000, 999, 0),  # before the window: never counted
        row("2026-06", "existing", 1000, 100, 10, 8, 2, 3, 1, 1),
        row("2026-06", "new", 50, 45, 5),
    ]
    if extra:
        rows += [row("2026-07", "existing", 1000, 600, 20, 20, 5, 10, 0, 0), row("2026-12", "existing", 1000, 300, 0)]
    return rows


def _pack(root: Path, later: bool = False, as_of: str = "2026-07-20T00:00:00+08:00", transition: bool = True) -> Path:
    """A 2026-H1 pack; ``later`` is the same history extracted weeks after: what happened after the cycle end."""
    t = base_tables()
    t["actions"] = [
        _action(
            "N1",
            "csam",
            "remove",
            f"2026-02-01T10:00:00{MYT}",
            f"2026-02-01T11:00:00{MYT}",
            f"2026-02-01T12:00:00{MYT}",
        ),
        _action(
            "N2",
            "financial_scam",
            "suspend_account",
            f"2026-03-01T10:00:00{MYT}",
            f"2026-03-01T12:00:00{MYT}",
            f"2026-07-15T09:00:00{MYT}" if later else "",
        ),
        _action("N3", "bullying_harassment", "warn", f"2026-03-05T10:00:00{MYT}", f"2026-03-05T11:00:00{MYT}", ""),
        _action(
            "N4",
            "obscene_indecent",
            "age_restrict",
            f"2026-06-30T20:00:00{MYT}",
            f"2026-06-30T22:00:00{MYT}",
            f"2026-07-01T09:00:00{MYT}",
        ),
        _action(
            "N5",
            "hate_speech",
            "remove" if later else "",  # open at the first extract: no action yet
            f"2026-06-29T10:00:00{MYT}",
            f"2026-07-03T10:00:00{MYT}" if later else "",
            f"2026-07-03T11:00:00{MYT}" if later else "",
        ),
    ]
    t["reports"] = t["appeals"] = []
    t["authority_requests"] = [
        _request(
            "R1",
            "compliance_direction",
            f"2026-02-01T10:00:00{MYT}",
            f"2026-02-10T17:00:00{MYT}",
            f"2026-02-09T10:00:00{MYT}",
        ),
        _request(
            "R2",
            "compliance_direction",
            f"2026-06-20T10:00:00{MYT}",
            f"2026-06-25T17:00:00{MYT}",
            f"2026-07-02T10:00:00{MYT}" if later else "",
        ),
        _request(
            "R3",
            "disclosure_notice",
            f"2026-06-25T10:00:00{MYT}",
            f"2026-07-05T17:00:00{MYT}",
            f"2026-07-04T10:00:00{MYT}" if later else "",
        ),
        _request("R4", "restore_instruction", f"2026-03-01T10:00:00{MYT}", "", f"2026-03-01T12:00:00{MYT}"),
        _request(
            "R5", "takedown", f"2026-04-01T10:00:00{MYT}", f"2026-04-02T10:00:00{MYT}", f"2026-04-03T10:00:00{MYT}"
        ),
    ]
    if transition:
        t["age_assurance"] = _transition_rows()
    meta = {**BASE_META, "as_of": as_of}
    return make_pack(root, t, meta, drop=("reports", "appeals"))


@pytest.fixture(scope="module")
def lib():
    return load_library()


# ------------------------------------------------------------------------------------------- metrics


def test_poster_notice_share_is_judged_at_the_cycle_end(tmp_path, lib):
    # inaccessible and decided by the cycle end: N1 (notified), N2 (not yet), N4 (notified after the end) -> 1/3;
    # N3 is a warning (nothing made inaccessible), N5 still open at the end
    for later, as_of in ((False, "2026-07-20T00:00:00+08:00"), (True, "2026-08-25T00:00:00+08:00")):
        pack = load_datapack(_pack(tmp_path / str(later), later, as_of), library=lib)
        m = compute(pack, "2026-H1", library=lib)
        row = m.row("poster_notice_share")
        assert (row["numerator"], row["denominator"]) == (1, 3), later
        assert m.value("poster_notice_share", "csam") == 1.0 and m.value("poster_notice_share", "financial_scam") == 0.0


def test_requests_with_their_own_deadline_are_judged_at_the_cycle_end(tmp_path, lib):
    # R1 on time; R2 past its due date at the cycle end (late, whatever it does later); R3 not yet due at the end;
    # R4 states no deadline (counted apart); R5 is a takedown, not a deadline-bearing kind
    for later, as_of in ((False, "2026-07-20T00:00:00+08:00"), (True, "2026-08-25T00:00:00+08:00")):
        pack = load_datapack(_pack(tmp_path / str(later), later, as_of), library=lib)
        m = compute(pack, "2026-H1", library=lib)
        row = m.row("request_on_time_rate")
        assert (row["numerator"], row["denominator"]) == (1, 2), later
        kind = m.row("request_on_time_rate", dimension="kind", level="compliance_direction")
        assert (kind["numerator"], kind["denominator"]) == (1, 2)
        assert m.row("request_on_time_rate", dimension="kind", level="disclosure_notice") is None  # nothing due yet
        assert m.value("requests_without_deadline") == 1


def test_a_pack_without_the_new_columns_says_not_available(tmp_path, lib):
    pack = load_datapack(make_pack(tmp_path / "p"), library=lib)
    m = compute(pack, "2025-H2", library=lib)
    assert "user_notified_at" in m.unavailable["poster_notice_share"]
    assert "due_at" in m.unavailable["request_on_time_rate"]
    assert m.unavailable["age_assurance"] == "not available (no `age_assurance` table)"


def test_transition_metrics_by_hand(tmp_path, lib):
    pack = load_datapack(_pack(tmp_path / "p"), library=lib)
    m = compute(pack, "2026-H1", library=lib)
    assert m.value("age_existing_verified_share") == pytest.approx(100 / 1000)  # May is before the window
    assert m.value("age_existing_verification_due_share") == pytest.approx(30 / 183)  # 1 Jun - 1 Jul of 183 days
    assert m.value("age_existing_on_pace") == 0.0
    assert m.value("age_under16_notified_share") == pytest.approx(8 / 10)
    assert m.value("age_under16_full_window_share") == pytest.approx((3 + 1 - 1) / (3 + 1))
    assert m.value("age_under16_data_exported_share") == pytest.approx(2 / 8)
    assert m.value("age_new_verified_share") == pytest.approx(45 / 50)
    assert (
        m.row("age_existing_verified_share")["previous_value"] != m.row("age_existing_verified_share")["previous_value"]
    )


def test_after_the_deadline_only_the_window_counts(tmp_path, lib):
    t = yaml.safe_load((_pack(tmp_path / "p", as_of="2027-01-20T00:00:00+08:00") / "datapack.yaml").read_text())
    root = _pack(tmp_path / "q", as_of="2027-01-20T00:00:00+08:00")
    rows = _transition_rows(extra=True)
    pd.DataFrame(rows).to_csv(root / "age_assurance.csv", index=False)
    assert t["as_of"].startswith("2027")
    m = compute(load_datapack(root, library=lib), "2026-H2", library=lib)
    assert m.value("age_existing_verified_share") == pytest.approx((100 + 600) / 1000)  # December is after 30 Nov
    assert m.value("age_existing_verification_due_share") == 1.0
    assert m.value("age_existing_on_pace") == 0.0
    assert m.row("age_existing_verified_share")["previous_value"] == pytest.approx(0.1)
    assert m.value("age_under16_notified_share") == pytest.approx((8 + 20) / (10 + 20))


def test_age_assurance_rows_that_do_not_add_up_are_refused_with_file_row_column_and_value(tmp_path, lib):
    root = _pack(tmp_path / "p")
    rows = _transition_rows()
    rows[1]["verified"] = "1200"  # more than the 1000 in scope
    rows[1]["actioned_early"] = "9"  # more than restricted + suspended (4)
    pd.DataFrame(rows).to_csv(root / "age_assurance.csv", index=False)
    with pytest.raises(InvalidDataPack) as info:
        load_datapack(root, library=lib)
    text = info.value.report.format()
    assert info.value.report.count("error", "out_of_range") == 2
    assert "age_assurance.csv" in text and "1200" in text and "at most accounts_in_scope" in text
    assert "actioned_early" in text and "at most restricted + suspended" in text


# ------------------------------------------------------------------------------------------- register


def test_pending_and_later_obligations_are_pending(tmp_path, lib):
    fw = lib.get("onsa-2025")
    pending = next(ob for ob in fw.obligations if ob.ref_id == "onsa.regs.online_safety_plan")
    assert pending.pending and not pending.applies_on(date(2030, 1, 1), fw.in_force)
    later = pending.model_copy(update={"pending": False, "expected": None, "in_force": date(2026, 9, 1)})
    assert not later.applies_on(date(2026, 8, 31), fw.in_force) and later.applies_on(date(2026, 9, 1), fw.in_force)


def test_the_sample_register_shows_what_is_coming(sample_result):
    register = sample_result["obligations"].set_index("obligation")
    pending = register[register["status"] == "pending"]
    assert set(pending.index) == {
        "onsa-2025:onsa.regs.online_safety_plan",
        "onsa-2025:onsa.regs.compounding",
        "onsa-2025:onsa.regs.private_messaging",
        "onsa-2025:onsa.guidelines.communications_data",
    }
    assert pending["evidence"].str.startswith("awaiting the instrument").all()
    assert register.loc["onsa-2025:onsa.s30_5", "status"] == "not_met"  # one of two directions answered late
    assert register.loc["onsa-2025:onsa.s27", "status"] == "met"
    assert register.loc["onsa-2025:onsa.s26", "status"] == "not_met"  # 93.9 % of posters notified
    assert register.loc["cpc-2026:cpc.transition.under16_data_window", "status"] == "not_met"
    basis = register.loc["mcmc-code-2024:code2024.user_safety.csam_report_24h", "basis"]
    assert (
        basis == "draft"
        and register.loc["mcmc-code-2024:code2024.accountability.half_yearly_report", "basis"] == "final"
    )


def test_the_sample_transition_is_partly_late(sample_result):
    m = sample_result["metrics"].set_index(["metric", "scope", "category", "dimension", "level"])["value"]
    key = lambda metric: (metric, "malaysia", "all", "", "")  # noqa: E731
    assert m[key("age_existing_verified_share")] == pytest.approx(1_310_000 / 9_480_000)
    assert m[key("age_existing_on_pace")] == 0.0
    assert m[key("age_under16_notified_share")] == pytest.approx(49_780 / 52_400)
    assert m[key("age_under16_full_window_share")] == 0.0
    items = sample_result["audit.child_safety.items"].set_index("item_id")
    assert items.loc["CS-AGE-06", "result"] == "contradicted" and items.loc["CS-AGE-08", "result"] == "compliant"


def test_public_tables_never_show_disclosure_notices(sample_result):
    for lang in ("en", "ms"):
        table = sample_result[f"public.{lang}.requests"]
        text = table.to_string()
        assert "isclosure notice" not in text and "data komunikasi" not in text
    m = sample_result["metrics"]
    received = m[(m["metric"] == "requests_received") & (m["scope"] == "malaysia") & (m["dimension"] == "")]
    secret = m[(m["metric"] == "requests_received") & (m["level"] == "disclosure_notice")]["value"].sum()
    assert secret == 3
    total = sample_result["public.en.requests"].iloc[-1, -1]
    assert str(total) == str(int(received["value"].iloc[0] - secret)) == "287"  # 290 received, 3 of them secret


# ------------------------------------------------------------------------------------------- frameworks


def test_every_new_entry_has_a_source_and_a_confidence(lib):
    for fw in lib.instruments():
        for entry in (*fw.obligations, *fw.dates):
            assert entry.source.strip() and entry.confidence in ("A", "S", "U"), entry.ref_id
    for d in lib.sla.request_deadlines:
        assert d.source.startswith("https://mylaw.my/") and d.confidence == "A"
    assert lib.threshold_entry("licence.user_threshold").instrument == "cma-licensing-2024"
    assert lib.get("rmc-2026").name.ms.startswith("Kod Pengurangan Risiko")


def _broken(tmp_path: Path, name: str, edit) -> list[Path]:
    data = yaml.safe_load((FRAMEWORKS / name).read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return [path]


def test_integrity_catches_a_date_of_no_obligation_and_a_missing_basis(tmp_path):
    def edit(data):
        data["dates"][0]["obligation"] = "cpc.nope"

    with pytest.raises(FrameworkError, match=re.escape("'obligation': 'cpc.nope' is not an obligation of 'cpc-2026'")):
        load_library(_broken(tmp_path, "cpc-2026.yaml", edit))

    def drop_basis(data):
        del data["obligations"][0]["basis"]

    with pytest.raises(FrameworkError, match="field 'basis': missing"):
        load_library(_broken(tmp_path, "mcmc-code-2024.yaml", drop_basis))


def test_integrity_catches_a_kind_judged_twice_and_a_pending_duty_with_a_date(tmp_path):
    def twice(data):
        data["request_deadlines"][1]["kinds"] = ["restore_instruction"]

    with pytest.raises(FrameworkError, match="'restore_instruction' is already judged by"):
        load_library(_broken(tmp_path, "sla_policy.yaml", twice))

    def dated_pending(data):
        ob = next(o for o in data["obligations"] if o["ref_id"] == "onsa.regs.compounding")
        ob["in_force"] = "2026-09-01"

    with pytest.raises(FrameworkError, match="a pending obligation has no in_force date yet"):
        load_library(_broken(tmp_path, "onsa-2025.yaml", dated_pending))


# ------------------------------------------------------------------------------------------- calendar


def _calendar(lib, provider: str | None = None, cycle: str = "2026-H1", as_of: str = "2026-07-10T09:00:00+08:00"):
    return calendar.build(lib, parse(cycle), as_of=pd.Timestamp(as_of), eu_provider_type=provider)


def test_calendar_dates_on_fixed_days(lib):
    cal = _calendar(lib)
    by_rule = {r: d for r, d in zip(cal["rule"], cal["date"], strict=True) if r}
    assert by_rule["date.cpc.in_force"] == date(2026, 6, 1)
    assert by_rule["date.cpc.first_restrictions"] == date(2026, 7, 1)
    assert by_rule["date.cpc.existing_users_deadline"] == date(2026, 11, 30)
    assert by_rule["date.cpc.last_data_windows"] == date(2026, 12, 31)
    assert by_rule["date.onsa.plan_consultation_closes"] == date(2026, 3, 13)
    half = cal[cal["rule"] == "date.code2024.half_yearly_report"]["date"].tolist()
    assert half == [date(2026, 6, 30), date(2026, 12, 31), date(2027, 6, 30)]  # the cycle start to a year after its end
    assert cal[cal["rule"] == "date.code2024.annual_public_report"]["date"].tolist() == [date(2026, 12, 31)]
    assert not cal["rule"].str.startswith("tier.").any()  # no EU provider type: no DSA report
    dated = cal[cal["date"].notna()]
    assert list(dated["date"]) == sorted(dated["date"])
    assert set(cal.loc[cal["date"].isna(), "event"]) == {"pending"} and cal["date"].isna().sum() == 4
    assert dict(zip(cal["rule"], cal["status"], strict=True))["date.cpc.existing_users_deadline"] == "coming"
    assert dict(zip(cal["rule"], cal["status"], strict=True))["date.cpc.first_restrictions"] == "passed"


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("vlop", [date(2026, 2, 28), date(2026, 8, 30), date(2027, 2, 28)]),  # half-years, two months after each
        ("hosting", [date(2026, 2, 28), date(2027, 2, 28)]),  # calendar years
    ],
)
def test_calendar_dsa_reports_two_months_after_each_period(lib, provider, expected):
    cal = _calendar(lib, provider)
    assert cal[cal["rule"] == f"tier.{provider}"]["date"].tolist() == expected


def test_coming_up_is_the_next_six_months_then_pending(lib):
    cal = _calendar(lib, "vlop")
    soon = calendar.coming_up(cal, pd.Timestamp("2026-07-10T09:00:00+08:00"))
    dated = [d for d in soon["date"] if d is not None and d == d]
    assert dated[0] == date(2026, 8, 30) and max(dated) <= date(2027, 1, 6)
    assert date(2026, 11, 30) in dated and date(2027, 2, 28) not in dated
    assert soon["date"].isna().sum() == 4


def test_calendar_triggers_from_the_pack(lib):
    features = pd.DataFrame({"feature": ["Live rooms"], "launched_at": [pd.Timestamp("2026-09-14T23:30:00Z")]})
    period = type("P", (), {"name": "GE16", "start": pd.Timestamp("2026-11-01T00:00:00+08:00")})()
    cal = calendar.build(
        lib,
        parse("2026-H1"),
        as_of=pd.Timestamp("2026-07-10T09:00:00+08:00"),
        features=features,
        high_risk_periods=[period],
    )
    triggers = cal[cal["event"] == "trigger"]
    assert triggers["date"].tolist() == [date(2026, 9, 15), date(2026, 11, 1)]  # 23:30 UTC is the next day in MYT
    assert "Live rooms" in triggers["title"].iloc[0] and "GE16" in triggers["title"].iloc[1]


def test_ics_is_deterministic_and_holds_every_dated_duty(lib):
    cal = _calendar(lib, "vlop")
    stamp = pd.Timestamp("2026-07-10T09:00:00+08:00")
    first = calendar_bytes(cal, name="Testgram", stamp=stamp)
    assert first == calendar_bytes(copy.deepcopy(cal), name="Testgram", stamp=stamp)
    parsed = Calendar.from_ical(first)
    events = [c for c in parsed.walk() if c.name == "VEVENT"]
    assert len(events) == int(cal["date"].notna().sum())
    starts = sorted(e.decoded("dtstart") for e in events)
    assert date(2026, 11, 30) in starts and date(2026, 8, 30) in starts
    assert b"DTSTART;VALUE=DATE:20261130" in first and b"DTSTAMP:20260710T010000Z" in first
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_calendar_views_read_in_plain_language_and_go_into_the_workbook(sample_result, tmp_path):
    import openpyxl

    from riskkit.reports import exports, views

    for view in (views.coming_up(sample_result), views.calendar_view(sample_result)):
        text = view.frame.drop(columns=["date"]).to_string()
        for key in ("date.cpc", "onsa-2025", "cpc-2026:", "window_ends", "period_ends", "tier."):
            assert key not in text, (view.title, key)
    soon = views.coming_up(sample_result).frame
    assert soon["date"].dropna().dt.date.tolist()[0] == date(2026, 11, 30)
    assert soon["what"].iloc[-1].endswith("(pending)") and soon["status"].iloc[-1] == "date not yet set"
    written = exports.write_exports(sample_result, tmp_path, {"run_id": "r", "run_started": "s"})
    assert {"compliance_calendar.csv", "compliance_calendar.ics"} <= {p.name for p in written}
    book = openpyxl.load_workbook(tmp_path / "mcmc_half_yearly_2026-H1.xlsx", read_only=True)
    assert "Coming up in the next six" in book.sheetnames and "Compliance calendar" in book.sheetnames
