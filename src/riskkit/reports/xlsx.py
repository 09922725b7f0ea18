"""Write workbooks: a cover sheet of provenance and one sheet per table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame], cover: Mapping[str, Any]) -> Path:
    """An .xlsx with a cover sheet (provenance) and one sheet per table, written atomically."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.partial.xlsx")
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        pd.DataFrame(list(cover.items()), columns=["item", "value"]).to_excel(xl, sheet_name="cover", index=False)
        for name, df in sheets.items():
            frame = df.copy()
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            frame.to_excel(xl, sheet_name=name[:31], index=False)
    tmp.replace(out)
    return out
