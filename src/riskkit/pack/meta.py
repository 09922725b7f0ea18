"""Read and check datapack.yaml: the platform, the pack's as-of instant, timezone, clocks and declared periods."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from riskkit import safe_yaml
from riskkit.cycles import FIRST_YEAR, LAST_YEAR, check_supported
from riskkit.exceptions import CycleError
from riskkit.library import Library
from riskkit.library.policy import override_problems
from riskkit.pack import manifest
from riskkit.pack.files import NotUtf8, decode_text, inside_folder
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
    if not inside_folder(path, file, report):
        return None
    try:
        raw = safe_yaml.load(decode_text(file, report) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add(
            Problem(
                "error",
                "datapack_yaml",
                DATAPACK_YAML,
                row=(mark.line + 1) if mark else None,
                detail=safe_yaml.error_text(exc),
                expected="valid YAML without anchors, aliases or repeated keys",
            )
        )
        return None
    except NotUtf8:
        return None
    return parse_meta(raw, report, as_of, library)


def parse_meta(raw: Any, report: ValidationReport, as_of: str | datetime | None, library: Library) -> PackMeta | None:
    """Validate the datapack.yaml mapping (from the file, or given in memory): every key typed (see
    :mod:`riskkit.pack.manifest`), then the checks that need the library (clock and target ids) and the clock."""

    def bad(key: str, value: Any, expected: str) -> None:
        report.add(Problem("error", "datapack_yaml", DATAPACK_YAML, column=key, value=str(value), expected=expected))

    typed, errors = manifest.problems(raw)
    for key, value, expected in errors:
        bad(key, value, expected)
    timezone = raw.get("timezone") if isinstance(raw, dict) and isinstance(raw.get("timezone"), str) else None
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a key too long for a file name
            bad("timezone", timezone, "an IANA timezone such as Asia/Kuala_Lumpur")
            timezone = None
    if typed is None:
        return None
    stamp = as_of if as_of is not None else typed.as_of
    try:
        as_of_ts = pd.Timestamp(stamp) if stamp is not None else pd.Timestamp.now(tz="UTC")
        if as_of_ts.tzinfo is None:
            if timezone is None:
                raise ValueError("naive")
            as_of_ts = as_of_ts.tz_localize(ZoneInfo(timezone))
        as_of_ts = check_supported(as_of_ts.tz_convert("UTC"), "as_of")
    except CycleError:
        bad("as_of", stamp, f"a time between {FIRST_YEAR} and {LAST_YEAR} (the years riskkit supports)")
        as_of_ts = pd.Timestamp.now(tz="UTC")
    except (ValueError, TypeError, OverflowError):
        bad("as_of", stamp, "an ISO 8601 timestamp with offset, e.g. 2026-07-10T09:00:00+08:00")
        as_of_ts = pd.Timestamp.now(tz="UTC")
    overrides = {k: v.model_dump(exclude_none=True) for k, v in typed.sla_overrides.items()}
    clock_ids = {c.ref_id: [r.ref_id for r in c.readings or ()] for c in library.sla.clocks}
    for text in override_problems(clock_ids, overrides):
        where, _, problem = text.partition(": ")
        if ".reading" in where:  # name the readings the clock has
            bad(where, problem.split(";")[0], problem.split("; ", 1)[-1] + " (riskkit frameworks: sla-policy)")
        else:
            bad("sla_overrides", text, "known clock ids (riskkit frameworks: sla-policy)")
    known_targets = [t.ref_id for t in library.targets]
    for key in typed.targets:
        if key not in known_targets:
            bad(f"targets.{key}", key, "a target of the library: " + ", ".join(known_targets))
    if typed.eu is not None:
        indicators = library.dsa_transparency_layout.qualitative_keys()
        for key in typed.eu.qualitative:
            if key not in indicators:
                bad(
                    f"eu.qualitative.{key}",
                    key,
                    "an indicator id of the qualitative template: " + ", ".join(indicators),
                )
    periods = tuple(
        HighRiskPeriod(p.name, pd.Timestamp(p.start), pd.Timestamp(p.end), tuple(p.categories), p.source)
        for p in typed.high_risk_periods
    )
    return PackMeta(
        platform_name=typed.platform.name,
        service_type=typed.platform.service_type,
        licence_id=typed.platform.licence_id,
        timezone=timezone,
        as_of=as_of_ts,
        surfaces=tuple(typed.surfaces) if typed.surfaces else None,
        age_verified_unit=typed.age_verified_unit,
        time_resolution=typed.time_resolution,
        sla_overrides=overrides,
        high_risk_periods=periods,
        raw=raw,
        time_basis=typed.time_basis,
        target_overrides={k: v.model_dump(exclude_none=True) for k, v in typed.targets.items()},
        sign_off=typed.sign_off,
        risk_overrides={k: v.model_dump(exclude_none=True) for k, v in typed.risk_overrides.items()},
        eu=typed.eu,
    )
