"""A cycle evaluated once: every table a report shows, saved in the run and read back by every view.

A :class:`CycleResult` is a set of named tables (pandas frames) plus one mapping of scalars (platform, cycle,
versions, inputs, audit scores, warnings…). ``save(folder)`` writes ``folder/result/`` — one Parquet file per table
and ``result.json`` — and ``load(folder)`` reads it back identically: tables are normalised through Arrow when the
result is built, so what a notebook reads is exactly what the runner computed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.exceptions import ParameterError

RESULT_DIR = "result"
SCALARS_FILE = "result.json"
FORMAT = 1


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it reads back from Parquet (the same round trip, in memory), index dropped."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    return table.to_pandas()


@dataclass
class CycleResult:
    """Every table and scalar of one evaluated cycle (see :func:`riskkit.evaluate.evaluate`)."""

    scalars: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables = {name: normalise(df) for name, df in self.tables.items()}
        json.dumps(self.scalars)  # scalars must be plain JSON: fail here, not when saving
        self.memo: dict[str, Any] = {}  # lookups views derive from the tables (labels, definitions), built once

    # -- access ---------------------------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"the result has no table {name!r}; tables: {', '.join(sorted(self.tables))}") from None

    def get(self, name: str) -> pd.DataFrame | None:
        """The table ``name``, or None when the result has none."""
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def prefixed(self, prefix: str) -> Iterator[tuple[str, pd.DataFrame]]:
        """(name without prefix, table) for every table named ``prefix…``, in insertion order."""
        for name, df in self.tables.items():
            if name.startswith(prefix):
                yield name.removeprefix(prefix), df

    @property
    def cycle_id(self) -> str:
        return str(self.scalars["cycle"]["id"])

    # -- persistence ----------------------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/result/`` (Parquet per table + result.json); returns that folder. Written to a temporary
        folder first and renamed, so a crash never leaves a half-written result."""
        root = Path(folder)
        final = root / RESULT_DIR
        if final.exists():
            raise ParameterError(f"{final} exists; a result is written once per run")
        tmp = root / f".{RESULT_DIR}-{os.getpid()}.partial"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        names = {}
        for i, (name, df) in enumerate(self.tables.items()):
            file = f"{i:03d}_{_safe(name)}.parquet"
            df.to_parquet(tmp / file, index=False)
            names[name] = file
        doc = {"format": FORMAT, "tables": names, "scalars": self.scalars}
        (tmp / SCALARS_FILE).write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False), "utf-8")
        tmp.rename(final)
        return final

    @classmethod
    def load(cls, folder: str | Path) -> CycleResult:
        """Read a result saved by :meth:`save` (``folder`` is the run folder or its ``result/``)."""
        root = Path(folder)
        here = root if (root / SCALARS_FILE).is_file() else root / RESULT_DIR
        index = here / SCALARS_FILE
        if not index.is_file():
            raise ParameterError(f"no saved result at {root} (expected {RESULT_DIR}/{SCALARS_FILE})")
        try:
            doc = json.loads(index.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{index}: not a readable result ({exc})") from None
        if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
            raise ParameterError(f"{index}: result format {doc.get('format')!r}, this riskkit reads {FORMAT}")
        tables = {}
        for name, file in doc["tables"].items():
            tables[name] = pd.read_parquet(here / file)
        result = cls.__new__(cls)
        result.scalars = doc["scalars"]
        result.tables = tables
        result.memo = {}
        return result


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]
