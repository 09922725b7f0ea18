"""Validation pushed down into the engine: the file checks as counting queries, with at most 200 examples per kind.

For each engine table: required columns and their types; then one aggregate query counts, per column, empty
required cells, values outside an enum (or outside datapack.yaml's surfaces), negative or out-of-range numbers,
timestamps without a time zone, after the pack's as-of, or before the step they follow; one query per key counts
duplicates, one anti-join per reference counts dangling ids. Only where a count is not zero is a second query sent,
fetching up to :data:`~riskkit.pack.problems.EXAMPLES_KEPT` example rows ordered by the table's key. Problems are
the file packs' problems (same kinds, columns, values and expectations); an engine row has no row number, so the
example's key stands in for it (``action_id 'A17'``).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskkit import arrays, schema
from riskkit.engines.ibis_engine import IbisEngine, Registered, _first_line
from riskkit.exceptions import EngineError
from riskkit.pack.model import PackMeta
from riskkit.pack.problems import EXAMPLES_KEPT, Problem, ValidationReport, cell_text

#: (table, column) pairs other tables refer to.
REFERENCED = sorted({(fk.ref_table, fk.ref_column) for t in schema.TABLES.values() for fk in t.foreign_keys})


@dataclass
class _Rule:
    kind: str
    column: str
    bad: Any  # Ibis boolean expression
    expected: str
    related: str | None = None  # another column shown in the example (time order)
    detail: str = ""
    severity: str = "error"


def check_tables(
    engine: IbisEngine,
    meta: PackMeta,
    report: ValidationReport,
    *,
    columns_checked: Collection[str] = (),
) -> None:
    """Check every table registered in ``engine``. ``columns_checked``: tables whose cells were already checked
    in-process (CSV tables uploaded after validation); their keys and references are still checked here."""
    checked = _in_parallel(
        engine,
        report,
        [
            (lambda own, name=name, reg=reg: name in columns_checked or _check_columns(engine, name, reg, meta, own))
            for name, reg in engine.tables.items()
        ],
    )
    usable = {name: reg for (name, reg), ok in zip(engine.tables.items(), checked, strict=True) if ok}
    tasks = []
    for name, reg in usable.items():
        table = schema.table(name)
        if not table.primary_key or not set(table.primary_key) <= set(reg.table.columns):
            continue
        referenced = len(table.primary_key) == 1 and (name, table.primary_key[0]) in REFERENCED
        if name not in columns_checked or referenced:  # in-process checks leave referenced keys to the references
            rows = report.rows.get(reg.label, 0)
            tasks.append(lambda own, reg=reg, table=table, rows=rows: _check_unique(engine, reg, table, own, rows))
    for name, reg in usable.items():
        for fk in schema.table(name).foreign_keys:
            target = usable.get(fk.ref_table)
            if target is not None and fk.column in reg.table.columns and fk.ref_column in target.table.columns:
                rows = max(report.rows.get(target.label, 0), report.rows.get(reg.label, 0))
                tasks.append(
                    lambda own, reg=reg, fk=fk, target=target, rows=rows: _check_reference(
                        engine, reg, fk, target, own, rows
                    )
                )
    _in_parallel(engine, report, tasks)


def _in_parallel(engine: IbisEngine, report: ValidationReport, tasks: list[Any]) -> list[Any]:
    """Run checks (each ``task(report)``) — side by side on Spark, whose per-query latency dominates, one after the
    other elsewhere — each into its own report, merged in task order so the report is deterministic."""
    own = [ValidationReport(pack=report.pack) for _ in tasks]
    if engine.backend == "pyspark" and len(tasks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda pair: pair[0](pair[1]), zip(tasks, own, strict=True)))
    else:
        results = [task(r) for task, r in zip(tasks, own, strict=True)]
    for r in own:
        report.merge(r)
    return results


def _run(engine: IbisEngine, expr: Any, what: str) -> pd.DataFrame:
    try:
        return expr.to_pyarrow().to_pandas()
    except Exception as exc:
        raise EngineError(f"{what}: the {engine.name} engine failed: {_first_line(exc)}") from None


def _check_columns(engine: IbisEngine, name: str, reg: Registered, meta: PackMeta, report: ValidationReport) -> bool:
    """Column-level checks of one table; False when the table cannot be used (missing columns, empty)."""
    table = schema.for_time_basis(schema.table(name), meta.time_basis)
    t = reg.table
    present = set(t.columns)
    if reg.file is not None:  # a file read in place: columns outside the contract are ignored, as for files
        for col in t.columns:
            if col not in table.column_names:
                report.add(
                    Problem(
                        "warning",
                        "unknown_column",
                        reg.label,
                        column=str(col),
                        detail="not in the data contract; ignored",
                        expected="one of " + ", ".join(table.column_names),
                    )
                )
        present = {c for c in t.columns if c in table.column_names}
    missing = [c for c in table.required_columns if c not in present]
    for col in missing:
        report.add(
            Problem(
                "error",
                "missing_column",
                reg.label,
                column=col,
                expected=f"a `{col}` column ({table.column(col).description})",
            )
        )
    rules: list[_Rule] = []
    as_of = arrays.timestamp_us(meta.as_of)
    shown_as_of = meta.as_of.tz_convert("Asia/Kuala_Lumpur").isoformat()
    usable_types = True
    for col in table.columns:
        if col.name not in present:
            continue
        dtype = t.schema()[col.name]
        v = t[col.name]
        wrong = _wrong_type(col, dtype)
        if wrong:
            report.add(
                Problem(
                    "error",
                    "unparseable",
                    reg.label,
                    column=col.name,
                    value=str(dtype),
                    detail="the column's type in the engine",
                    expected=wrong,
                )
            )
            usable_types = False
            continue
        text = dtype.is_string()
        empty = (v.isnull() | (v.length() == 0)) if text else v.isnull()
        if not col.nullable:
            rules.append(_Rule("empty_value", col.name, empty, col.expected))
        if col.kind == "enum":
            rules.append(_Rule("enum", col.name, ~empty & ~v.isin(list(col.enum or ())), col.expected))
        if name == "actions" and col.name == "surface" and meta.surfaces:
            expected = "a surface listed in datapack.yaml: " + ", ".join(meta.surfaces)
            rules.append(_Rule("enum", col.name, ~empty & ~v.isin(list(meta.surfaces)), expected))
        if col.kind in ("int", "float"):
            if col.kind == "int" and dtype.is_floating():
                rules.append(_Rule("unparseable", col.name, v.notnull() & (v != v.floor()), col.expected))
            if col.minimum is not None:
                rules.append(
                    _Rule("negative" if col.minimum == 0 else "out_of_range", col.name, v < col.minimum, col.expected)
                )
            if col.maximum is not None:
                rules.append(_Rule("out_of_range", col.name, v > col.maximum, col.expected))
        if col.kind == "timestamp":
            zone = reg.wall_clock.get(col.name)
            if zone == "":
                rules.append(
                    _Rule(
                        "naive_timestamp",
                        col.name,
                        v.notnull(),
                        "timestamps with a timezone (or `timezone:` in datapack.yaml)",
                        detail="the engine column has no time zone",
                    )
                )
            else:
                us = engine.epoch_us(v, zone)
                rules.append(
                    _Rule(
                        "future_timestamp", col.name, us > as_of, f"a time on or before the pack's as-of {shown_as_of}"
                    )
                )
    for order in table.time_orders:
        cols = (order.earlier, order.later)
        if not set(cols) <= present or any(reg.wall_clock.get(c) == "" for c in cols):
            continue
        if not all(t.schema()[c].is_timestamp() for c in cols):
            continue
        earlier = engine.epoch_us(t[order.earlier], reg.wall_clock.get(order.earlier))
        later = engine.epoch_us(t[order.later], reg.wall_clock.get(order.later))
        rules.append(
            _Rule(
                "time_order", order.later, later < earlier, f"{order.later} on or after {order.earlier}", order.earlier
            )
        )
    for column, time in schema.OUTCOME_RULES.get(name, ()):
        if {column, time} <= present:
            value = t[column]
            filled = value.notnull() & (value.length() > 0) if t.schema()[column].is_string() else value.notnull()
            on_open, on_decided = schema.outcome_expectations(column, time)
            rules.append(
                _Rule("open_item_outcome", column, t[time].isnull() & filled, on_open, detail=f"{time} is empty")
            )
            rules.append(_Rule("empty_value", column, t[time].notnull() & ~filled, on_decided))
    for column, other, wording in schema.ROW_RULES.get(name, ()):
        if {column, other} <= present:
            rules.append(_Rule("out_of_range", column, t[column] > t[other], wording))

    counts = {"_rows": t.count()}
    counts |= {f"_r{i}": rule.bad.fill_null(False).cast("int64").sum() for i, rule in enumerate(rules)}
    row = _run(engine, t.aggregate(**counts), reg.label).iloc[0]
    rows = int(row["_rows"])
    report.rows[reg.label] = rows
    if rows == 0:
        report.add(
            Problem(
                "error",
                "empty_table",
                reg.label,
                detail="the table has no data rows",
                expected=f"at least one {table.row_unit}",
            )
        )
        return False
    key = [c for c in table.primary_key if c in present] or [c for c in table.column_names if c in present][:1]
    for i, rule in enumerate(rules):
        total = _int(row[f"_r{i}"])
        if total:
            _examples(engine, reg, key, rule, total, report)
    return not missing and usable_types


def _int(value: Any) -> int:
    """An engine's count or sum (empty sums come back as NULL/NaN)."""
    return 0 if value is None or pd.isna(value) else int(value)


def _wrong_type(col: schema.Column, dtype: Any) -> str:
    """What the column should be when the engine's type cannot hold it ('' when it can)."""
    if col.kind == "timestamp" and not dtype.is_timestamp():
        return "a timestamp column (an instant, e.g. TIMESTAMP WITH TIME ZONE)"
    if col.kind == "enum" and not dtype.is_string():
        return "a text column holding " + col.expected
    if col.kind == "bool" and not dtype.is_boolean():
        return "a boolean column (true or false)"
    if col.kind in ("int", "float") and not dtype.is_numeric():
        return "a numeric column holding " + col.expected
    if col.kind in ("month", "list", "date"):
        return ""  # small tables are read into memory and checked there
    return ""


def _examples(engine: IbisEngine, reg: Registered, key: list[str], rule: _Rule, total: int, report) -> None:
    t = reg.table
    shown = [rule.column] + ([rule.related] if rule.related else [])
    cols = list(dict.fromkeys(key + shown))
    select = {c: _shown(engine, reg, c) for c in cols}
    q = t.filter(rule.bad.fill_null(False)).select(**select).order_by(key).limit(EXAMPLES_KEPT)
    df = _readable(_run(engine, q, reg.label), reg)
    for rec in df.itertuples(index=False):
        values = dict(zip(df.columns, rec, strict=True))
        where = ", ".join(f"{k} {cell_text(values[k])!r}" for k in key)
        detail = where if rule.related is None else f"{where}; {rule.related} is {cell_text(values[rule.related])}"
        if rule.detail:
            detail = f"{detail} ({rule.detail})"
        value = None if rule.kind == "empty_value" else cell_text(values[rule.column])
        report.add(Problem(rule.severity, rule.kind, reg.label, None, rule.column, value, rule.expected, detail))
    if total > len(df):
        report.totals[(rule.severity, rule.kind)] += total - len(df)


def _readable(df: pd.DataFrame, reg: Registered) -> pd.DataFrame:
    """Example rows with instants back as timestamps (they travel as microseconds since the epoch)."""
    for column in df.columns:
        if column in reg.wall_clock and reg.wall_clock[column] != "" and pd.api.types.is_numeric_dtype(df[column]):
            df[column] = pd.to_datetime(df[column], unit="us", utc=True)
    return df


def _shown(engine: IbisEngine, reg: Registered, column: str) -> Any:
    """A column as examples show it: instants as UTC timestamps (the engine's session zone plays no part)."""
    v = reg.table[column]
    if v.type().is_timestamp() and reg.wall_clock.get(column) != "":
        return engine.epoch_us(v, reg.wall_clock.get(column))
    return v


#: Rows per pass of a key check on DuckDB (RISKKIT_KEY_PASS_ROWS): a key's hash table is built for one hash
#: slice of the keys at a time, so the memory of this process does not grow with the rows.
KEY_PASS_ROWS = 20_000_000


def _slices(engine: IbisEngine, rows: int) -> int:
    """How many hash slices a key check over ``rows`` rows runs in (1 on engines that spill by themselves)."""
    if engine.backend != "duckdb":
        return 1
    per = int(os.environ.get("RISKKIT_KEY_PASS_ROWS", KEY_PASS_ROWS))
    return max(1, -(-rows // max(per, 1)))


def _slice(t: Any, column: str, i: int, n: int) -> Any:
    """Rows of ``t`` whose ``column`` falls in hash slice ``i`` of ``n``."""
    if n == 1:
        return t
    return t.filter((t[column].cast("string").hash() % n + n) % n == i)


def _check_unique(
    engine: IbisEngine, reg: Registered, table: schema.Table, report: ValidationReport, rows: int
) -> None:
    import ibis

    key = list(table.primary_key)
    n = _slices(engine, rows)
    total, frames = 0, []
    for i in range(n):
        t = _slice(reg.table, key[0], i, n)
        kept = t.filter(ibis.and_(*[t[c].notnull() for c in key]))
        groups = kept.group_by(key).aggregate(_n=kept.count())
        dup = groups.filter(groups["_n"] > 1)
        found = _int(_run(engine, dup.aggregate(_extra=(dup["_n"] - 1).sum()), reg.label).iloc[0]["_extra"])
        if found:
            total += found
            frames.append(_run(engine, dup.order_by(key).limit(EXAMPLES_KEPT), reg.label))
    if not total:
        return
    df = pd.concat(frames).sort_values(key, kind="stable").head(EXAMPLES_KEPT)
    kept = 0
    for rec in df.itertuples(index=False):
        values = dict(zip(df.columns, rec, strict=True))
        shown = " / ".join(cell_text(values[c]) for c in key)
        count = int(values["_n"])
        for _ in range(count - 1):
            if kept >= EXAMPLES_KEPT:
                break
            report.add(
                Problem(
                    "error",
                    "duplicate_key",
                    reg.label,
                    None,
                    " + ".join(key),
                    shown,
                    f"a unique {' + '.join(key)}",
                    f"{count} rows have this key",
                )
            )
            kept += 1
    if total > kept:
        report.totals[("error", "duplicate_key")] += total - kept


def _check_reference(
    engine: IbisEngine,
    reg: Registered,
    fk: schema.ForeignKey,
    target: Registered,
    report: ValidationReport,
    rows: int,
) -> None:
    table = schema.table(reg_name(engine, reg))
    key = [c for c in table.primary_key if c in reg.table.columns] or [fk.column]
    cols = list(dict.fromkeys([*key, fk.column]))
    n = _slices(engine, rows)
    total, frames = 0, []
    for i in range(n):
        t, r = _slice(reg.table, fk.column, i, n), _slice(target.table, fk.ref_column, i, n)
        probes = t.filter(t[fk.column].notnull() & (t[fk.column].cast("string").length() > 0))
        dangling = probes.anti_join(r, probes[fk.column] == r[fk.ref_column])
        found = _int(_run(engine, dangling.count().name("_n").as_table(), reg.label).iloc[0]["_n"])
        if found:
            total += found
            frames.append(_run(engine, dangling.select(*cols).order_by(key).limit(EXAMPLES_KEPT), reg.label))
    if not total:
        return
    df = pd.concat(frames).sort_values(key, kind="stable").head(EXAMPLES_KEPT)
    expected = f"an {fk.ref_column} that exists in {target.label}"
    for rec in df.itertuples(index=False):
        values = dict(zip(df.columns, rec, strict=True))
        where = ", ".join(f"{k} {cell_text(values[k])!r}" for k in key if k != fk.column)
        report.add(
            Problem(
                "error", "dangling_reference", reg.label, None, fk.column, cell_text(values[fk.column]), expected, where
            )
        )
    if total > len(df):
        report.totals[("error", "dangling_reference")] += total - len(df)


def reg_name(engine: IbisEngine, reg: Registered) -> str:
    return next(name for name, r in engine.tables.items() if r is reg)
