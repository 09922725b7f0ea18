"""Read and check datapack.yaml: the platform, the pack's as-of instant, timezone, clocks and declared periods."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from riskkit import schema
from riskkit.exceptions import FrameworkError
from riskkit.library import Library
from riskkit.pack.files import NotUtf8, decode_text
from riskkit.pack.model import DATAPACK_YAML, HighRiskPeriod, PackMeta
from riskkit.pack.problems import Problem, ValidationReport


def read_meta(path: Path, report: ValidationReport, as_of: str | datetime | None, library: Library) -> PackMeta | None:
    file = path / DATAPACK_YAML
    if not file.is_file():
        report.add(
            Problem(
                "error",
                "missing_file",
                DATAPACK_YAML,
                expected="datapack.yaml naming the platform (see README, 'The data contract')",
            )
        )
        return None
    try:
        raw = yaml.safe_load(decode_text(file, report) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add(
            Problem(
                "error",
                "datapack_yaml",
                DATAPACK_YAML,
                row=(mark.line + 1) if mark else None,
                detail=f"YAML syntax error: {getattr(exc, 'problem', exc)}",
                expected="valid YAML",
            )
        )
        return None
    except NotUtf8:
        return None
    return parse_meta(raw, report, as_of, library)


def parse_meta(raw: Any, report: ValidationReport, as_of: str | datetime | None, library: Library) -> PackMeta | None:
    """Validate the datapack.yaml mapping (from the file, or given in memory)."""
    if not isinstance(raw, dict):
        report.add(Problem("error", "datapack_yaml", DATAPACK_YAML, expected="a mapping of keys (platform:, tables:…)"))
        return None

    def bad(key: str, value: Any, expected: str) -> None:
        report.add(Problem("error", "datapack_yaml", DATAPACK_YAML, column=key, value=str(value), expected=expected))

    contract = raw.get("contract", schema.CONTRACT_VERSION)
    if contract != schema.CONTRACT_VERSION:
        bad(
            "contract",
            contract,
            f"{schema.CONTRACT_VERSION} (this riskkit reads data contract {schema.CONTRACT_VERSION})",
        )
    platform = raw.get("platform") if isinstance(raw.get("platform"), dict) else {}
    name = platform.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("platform.name", name, "the service's name")
        name = ""
    service_type = platform.get("service_type")
    if service_type not in schema.SERVICE_TYPES:
        bad("platform.service_type", service_type, "one of " + ", ".join(schema.SERVICE_TYPES))
    timezone = raw.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            bad("timezone", timezone, "an IANA timezone such as Asia/Kuala_Lumpur")
            timezone = None
    stamp = as_of if as_of is not None else raw.get("as_of")
    try:
        as_of_ts = pd.Timestamp(stamp) if stamp is not None else pd.Timestamp.now(tz="UTC")
        if as_of_ts.tzinfo is None:
            if timezone is None:
                raise ValueError("naive")
            as_of_ts = as_of_ts.tz_localize(ZoneInfo(str(timezone)))
        as_of_ts = as_of_ts.tz_convert("UTC")
    except (ValueError, TypeError):
        bad("as_of", stamp, "an ISO 8601 timestamp with offset, e.g. 2026-07-10T09:00:00+08:00")
        as_of_ts = pd.Timestamp.now(tz="UTC")
    surfaces = raw.get("surfaces")
    if surfaces is not None and not (isinstance(surfaces, list) and all(isinstance(s, str) for s in surfaces)):
        bad("surfaces", surfaces, "a list of surface names")
        surfaces = None
    resolution = raw.get("time_resolution", "second")
    if resolution not in schema.TIME_RESOLUTIONS:
        bad("time_resolution", resolution, "one of " + ", ".join(schema.TIME_RESOLUTIONS))
        resolution = "second"
    unit = raw.get("age_verified_unit")
    if unit is not None and unit not in ("share", "count"):
        bad("age_verified_unit", unit, "share or count")
        unit = None
    overrides = raw.get("sla_overrides") or {}
    if not isinstance(overrides, dict):
        bad("sla_overrides", overrides, "a mapping clock_id -> {hours, source}")
        overrides = {}
    elif overrides:
        try:
            library.sla_policy(overrides)
        except FrameworkError as exc:
            for text in exc.problems or (str(exc),):
                bad("sla_overrides", text, "known clock ids with positive hours (frameworks/sla_policy.yaml)")
            overrides = {}
    for key in ("tables", "audits"):
        if raw.get(key) is not None and not isinstance(raw.get(key), dict):
            bad(key, raw.get(key), "a mapping name -> file")
    periods = _read_periods(raw.get("high_risk_periods"), bad)
    return PackMeta(
        platform_name=name,
        service_type=str(service_type or ""),
        licence_id=platform.get("licence_id"),
        timezone=str(timezone) if timezone else None,
        as_of=as_of_ts,
        surfaces=tuple(surfaces) if surfaces else None,
        age_verified_unit=unit,
        time_resolution=str(resolution),
        sla_overrides=overrides,
        high_risk_periods=periods,
        raw=raw,
    )


def _read_periods(value: Any, bad) -> tuple[HighRiskPeriod, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        bad("high_risk_periods", value, "a list of {name, start, end, categories}")
        return ()
    periods = []
    for i, item in enumerate(value, start=1):
        key = f"high_risk_periods[{i}]"
        if not isinstance(item, dict) or not item.get("name"):
            bad(key, item, "a mapping with name, start, end and categories")
            continue
        try:
            start, end = pd.Timestamp(str(item.get("start"))), pd.Timestamp(str(item.get("end")))
        except (ValueError, TypeError):
            bad(f"{key}.start/end", f"{item.get('start')} / {item.get('end')}", "dates as YYYY-MM-DD")
            continue
        if end < start:
            bad(f"{key}.end", item.get("end"), f"a date on or after start {item.get('start')}")
            continue
        cats = item.get("categories") or list(schema.HARM_CATEGORIES)
        unknown = [c for c in cats if c not in schema.HARM_CATEGORIES]
        if unknown:
            bad(f"{key}.categories", ", ".join(map(str, unknown)), "harm keys: " + ", ".join(schema.HARM_CATEGORIES))
            continue
        periods.append(HighRiskPeriod(str(item["name"]), start, end, tuple(cats), str(item.get("source", ""))))
    return tuple(periods)
