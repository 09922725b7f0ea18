"""What a loaded data pack is: its metadata (datapack.yaml) and its typed tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.exceptions import RiskkitError
from riskkit.pack.problems import ValidationReport

DATAPACK_YAML = "datapack.yaml"


class TableNotAvailable(RiskkitError):
    """A computation needs a table the pack does not have."""


@dataclass(frozen=True)
class HighRiskPeriod:
    """A declared high-risk period (elections, national crises) from datapack.yaml."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp  # inclusive last day, as declared
    categories: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class PackMeta:
    """What datapack.yaml says about the pack."""

    platform_name: str
    service_type: str
    licence_id: str | None
    timezone: str | None
    as_of: pd.Timestamp
    surfaces: tuple[str, ...] | None = None
    age_verified_unit: str | None = None
    time_resolution: str = "second"
    sla_overrides: Mapping[str, Any] = field(default_factory=dict)
    high_risk_periods: tuple[HighRiskPeriod, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    time_basis: str = "detection"  # detection | decision (statements of reasons carry no detection time)
    target_overrides: Mapping[str, Any] = field(default_factory=dict)
    sign_off: Any = None  # riskkit.pack.manifest.SignOff
    risk_overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cohort_column(self) -> str:
        """The actions column that puts an action in a cycle: detected_at, or actioned_at with time_basis decision."""
        return "actioned_at" if self.time_basis == "decision" else "detected_at"

    eu: Any = None  # riskkit.pack.manifest.Eu: the eu: block, None when datapack.yaml has none


@dataclass
class DataPack:
    """A validated data pack: typed frames per table (categoricals for enums, tz-aware UTC timestamps)."""

    path: Path
    meta: PackMeta
    tables: dict[str, pd.DataFrame]
    audits: dict[str, pd.DataFrame]
    files: dict[str, Path]
    report: ValidationReport
    #: The engine holding tables that are not read into this process (a warehouse pack, or a file pack opened on
    #: an engine); None when every table is a frame in ``tables``. See :mod:`riskkit.engines`.
    engine: Any = None

    def has(self, name: str) -> bool:
        return name in self.tables or (self.engine is not None and name in getattr(self.engine, "tables", {}))

    def get(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the pack does not have it."""
        return self.tables.get(name)

    def require(self, name: str) -> pd.DataFrame:
        """The table, or :class:`TableNotAvailable` with the "not available" wording."""
        if name not in self.tables:
            if self.has(name):
                raise TableNotAvailable(
                    f"not available here: the `{name}` table stays in the {self.engine.name} engine and this "
                    "computation needs it in memory"
                )
            raise TableNotAvailable(self.not_available(name))
        return self.tables[name]

    def not_available(self, name: str) -> str:
        """``not available (no `users` table)`` — the sentence notebooks print instead of failing."""
        return f"not available (no `{name}` table)"

    @property
    def actions(self) -> pd.DataFrame:
        return self.tables["actions"]

    def data_start(self) -> pd.Timestamp | None:
        """The first instant of the actions (by the column that puts an action in a cycle), None when unknown."""
        actions = self.tables.get("actions")
        column = self.meta.cohort_column
        if actions is None and self.engine is not None:
            return self.engine.first_instant("actions", column)
        if actions is None or column not in actions.columns:
            return None
        first = actions[column].min()
        return None if pd.isna(first) else first
