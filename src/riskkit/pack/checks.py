"""Checks across rows and tables: unique keys, references, time order, questionnaire items, the users table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskkit import arrays, schema
from riskkit.library import Library
from riskkit.pack.model import PackMeta
from riskkit.pack.problems import EXAMPLES_KEPT, FileContext, Problem, ValidationReport, cell_text


def check_table_rules(df: pd.DataFrame, table: schema.Table, ctx: FileContext, raw: pd.DataFrame | None = None) -> None:
    """Keys, time order, outcome and row rules of one typed table (``raw``: the cells as read, so a value the typing
    refused — an enum typo — still counts as present)."""
    referenced = len(table.primary_key) == 1 and (table.name, table.primary_key[0]) in _REFERENCED
    if table.primary_key and all(c in df.columns for c in table.primary_key) and not referenced:
        _check_duplicates(df, table, ctx)  # referenced keys are checked with their references (_check_keys)
    for order in table.time_orders:
        if order.earlier in df.columns and order.later in df.columns:
            bad = (df[order.later] < df[order.earlier]).fillna(False).to_numpy()
            ctx.flag(
                "time_order",
                bad,
                df[order.later],
                order.later,
                f"{order.later} on or after {order.earlier}",
                related=(order.earlier, df[order.earlier]),
            )
    for column, time in schema.OUTCOME_RULES.get(table.name, ()):
        if column in df.columns and time in df.columns:
            cells = raw[column].reset_index(drop=True) if raw is not None and column in raw.columns else df[column]
            open_, filled = df[time].isna().to_numpy(), ~arrays.is_empty(cells.astype("string"))
            on_open, on_decided = schema.outcome_expectations(column, time)
            ctx.flag("open_item_outcome", open_ & filled, cells, column, on_open, f"{time} is empty")
            ctx.flag("empty_value", ~open_ & ~filled, None, column, on_decided)
    for column, other, wording in schema.ROW_RULES.get(table.name, ()):
        others = other.split("+")
        if column in df.columns and all(o in df.columns for o in others):
            limit = sum((df[o] for o in others[1:]), df[others[0]])
            bad = (df[column] > limit).fillna(False).to_numpy()
            ctx.flag("out_of_range", bad, df[column], column, wording)


def _check_duplicates(df: pd.DataFrame, table: schema.Table, ctx: FileContext) -> None:
    key = list(table.primary_key)
    keyed = df[key]
    if len(key) == 1:
        dup = df[key[0]].duplicated(keep="first").to_numpy() & df[key[0]].notna().to_numpy()
    else:
        dup = (keyed.duplicated(keep="first") & keyed.notna().all(axis=1)).to_numpy()
    if not dup.any():
        return
    complete = keyed.notna().all(axis=1)
    first_rows: dict[tuple, int] = {}
    involved = keyed[keyed.duplicated(keep=False) & complete]
    for pos, row in zip(np.flatnonzero(df.index.isin(involved.index)), involved.itertuples(index=False), strict=True):
        first_rows.setdefault(tuple(row), pos + ctx.row_offset)
    values = keyed.astype("string").agg(" / ".join, axis=1) if len(key) > 1 else keyed[key[0]]
    positions = np.flatnonzero(dup)
    for pos in positions[:EXAMPLES_KEPT]:
        k = tuple(keyed.iloc[pos])
        ctx.report.add(
            Problem(
                "error",
                "duplicate_key",
                ctx.file,
                int(pos) + ctx.row_offset,
                " + ".join(key),
                cell_text(values.iloc[pos]),
                f"a unique {' + '.join(key)}",
                f"same key as row {first_rows.get(k)}",
            )
        )
    if len(positions) > EXAMPLES_KEPT:
        ctx.report.totals[("error", "duplicate_key")] += len(positions) - EXAMPLES_KEPT


def check_references(
    tables: dict[str, pd.DataFrame], files: dict[str, Path], path: Path, report: ValidationReport, meta: PackMeta
) -> None:
    _check_keys(tables, report, meta)
    for name, df in tables.items():
        ctx = FileContext(report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, meta.as_of)
        if meta.surfaces and name == "actions" and "surface" in df.columns:
            bad = df["surface"].notna().to_numpy() & ~arrays.isin(df["surface"], meta.surfaces)
            ctx.flag(
                "enum", bad, df["surface"], "surface", "a surface listed in datapack.yaml: " + ", ".join(meta.surfaces)
            )
        if meta.surfaces and name == "feature_changes" and "surfaces" in df.columns:
            bad = np.array([any(x not in meta.surfaces for x in v) for v in df["surfaces"]], dtype=bool)
            ctx.flag(
                "enum",
                bad,
                df["surfaces"].map(";".join),
                "surfaces",
                "surfaces listed in datapack.yaml: " + ", ".join(meta.surfaces),
            )


#: (table, column) pairs other tables refer to; their uniqueness is checked together with the references.
_REFERENCED = sorted({(fk.ref_table, fk.ref_column) for t in schema.TABLES.values() for fk in t.foreign_keys})


def _check_keys(tables: dict[str, pd.DataFrame], report: ValidationReport, meta: PackMeta) -> None:
    """Uniqueness of each referenced key and every foreign key into it, from one dictionary encoding.

    Hashing ten million ids is the dominant validation cost, so the key column and all referencing columns are
    encoded in a single pass (Arrow shares the dictionary across chunks): a code seen twice in the key column is a
    duplicate, a referencing code never seen in it is dangling."""
    for target_name, key in _REFERENCED:
        target = tables.get(target_name)
        if target is None or key not in target.columns:
            continue
        refs = [
            (name, fk)
            for name, df in tables.items()
            for fk in schema.table(name).foreign_keys
            if (fk.ref_table, fk.ref_column) == (target_name, key) and fk.column in df.columns
        ]
        codes, size = _key_codes([target[key]] + [tables[name][fk.column] for name, fk in refs])
        own = codes[: len(target)]
        counts = np.bincount(own[own >= 0], minlength=size)
        if (counts > 1).any():  # rare: report with the exact, first-row-naming path
            t_ctx = FileContext(
                report, target.attrs.get("file", target_name), target.attrs.get("row_offset", 2), None, meta.as_of
            )
            _check_duplicates(target, schema.table(target_name), t_ctx)
        offset = len(target)
        for name, fk in refs:
            df = tables[name]
            seg = codes[offset : offset + len(df)]
            offset += len(df)
            bad = (seg >= 0) & (counts[np.maximum(seg, 0)] == 0)
            ctx = FileContext(report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, meta.as_of)
            expected = f"an {key} that exists in {target.attrs.get('file', target_name)}"
            ctx.flag("dangling_reference", bad, df[fk.column], fk.column, expected)


def _key_codes(columns: list[pd.Series]) -> tuple[np.ndarray, int]:
    """Dictionary codes (-1 for empty) of the columns concatenated, and the dictionary size.

    Uses each column's own Arrow chunks (no combined copy) and keeps only the int32 codes."""
    import pyarrow as pa

    chunked = [arrays.arrow_chunks(c) for c in columns]
    first = chunked[0].type
    kind = first if pa.types.is_string(first) or pa.types.is_large_string(first) else pa.large_string()
    chunks = [ch if ch.type == kind else ch.cast(kind) for a in chunked for ch in a.chunks]
    encoded = pa.chunked_array(chunks, type=kind).dictionary_encode()
    del chunks, chunked
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), 0
    size = len(encoded.chunks[0].dictionary)
    codes = np.concatenate(
        [ch.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False) for ch in encoded.chunks]
    )
    del encoded
    arrays.release_arrow_memory()
    return codes, size


def finish_users(
    tables: dict[str, pd.DataFrame], files: dict[str, Path], path: Path, report: ValidationReport, meta: PackMeta
) -> None:
    """Normalise users.age_verified to a share of mau, checking it against the declared or inferred unit."""
    users = tables.get("users")
    if users is None or "age_verified" not in users.columns:
        return
    ctx = FileContext(report, users.attrs.get("file", "users"), users.attrs.get("row_offset", 2), None, meta.as_of)
    values = users["age_verified"]
    unit = meta.age_verified_unit
    if unit is None:
        unit = "share" if bool((values.dropna() <= 1).all()) else "count"
        ctx.problem(
            "inferred",
            severity="info",
            column="age_verified",
            detail=f"read as a {unit} ({'every value <= 1' if unit == 'share' else 'some values > 1'})",
            expected="age_verified_unit: share|count in datapack.yaml",
        )
    mau = users["mau"].astype("float64")
    if unit == "share":
        bad = (values > 1).fillna(False).to_numpy()
        ctx.flag("out_of_range", bad, values, "age_verified", "a share between 0 and 1 (age_verified_unit: share)")
        share = values.where(~bad)
    else:
        bad = (values > mau).fillna(False).to_numpy()
        ctx.flag("out_of_range", bad, values, "age_verified", "a count no larger than mau (age_verified_unit: count)")
        share = (values / mau.where(mau > 0)).where(~bad)
    users["age_verified"] = share.astype("float64")
    users.attrs["age_verified_unit"] = unit


def check_audit_items(audits: dict[str, pd.DataFrame], report: ValidationReport, library: Library) -> None:
    """Questionnaire answers must name items of the audit's checklist (the file's name is the audit's)."""
    if not audits:
        return
    checklists = library.checklists()
    for name, df in audits.items():
        ctx = FileContext(
            report, df.attrs.get("file", name), df.attrs.get("row_offset", 2), None, pd.Timestamp.now(tz="UTC")
        )
        if name not in checklists:
            ctx.problem(
                "unknown_column",
                severity="warning",
                detail=f"no checklist for audit '{name}'; the answers are kept but cannot be scored",
                expected="an audit named after a checklist: " + ", ".join(checklists),
            )
            continue
        known = [item.ref_id for item in checklists[name].items]
        bad = df["item_id"].notna().to_numpy() & ~arrays.isin(df["item_id"], known)
        ctx.flag("dangling_reference", bad, df["item_id"], "item_id", f"an item of checklist {checklists[name].id}")
