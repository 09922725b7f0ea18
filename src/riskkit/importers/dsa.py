"""Import DSA statements of reasons (Transparency Database daily dumps) as a riskkit data pack.

Reads dump CSV chunks, their zip-of-zips packaging and Parquet; detects the full or light variant by its columns
and schema v1 or v2 by its values; maps every statement to a moderation action with ``frameworks/dsa-import.yaml``.
Streams in chunks of 200,000 statements. What grows with the dump is duplicate detection: 26 bytes per statement
(two 64-bit hashes, a file index, a row number), about 80 at the peak of the final sort — measured 990 MiB for
5 M statements, so about 0.6 GB + 80 bytes per statement.

Messy data is reported, never silent: exact duplicate rows are dropped and counted; the same id with different
content is an error (nothing is written); unknown enumeration values are kept (as ``other`` or the nearest action)
and counted per value; rows missing required fields, with malformed JSON lists or impossible dates are dropped and
counted by reason. Text (including non-ASCII and bidirectional control characters) is kept intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from riskkit import __version__, schema
from riskkit.exceptions import ParameterError, RiskkitError
from riskkit.library import Library

MAPPING_ID = "dsa-import"
CHUNK_ROWS = 200_000
_LIST = re.compile(r'^\[\s*(?:"[^"\\]*"(?:\s*,\s*"[^"\\]*")*)?\s*\]$')
REQUIRED = ("platform_uid", "category", "content_date", "application_date", "source_type", "automated_decision")


class DsaImportError(RiskkitError):
    """The dump cannot be imported as it is (conflicting ids, several platforms, no territorial scope…);
    nothing is written."""


@dataclass
class ImportReport:
    """What an import read, kept, dropped and how it mapped categories."""

    inputs: list[dict[str, Any]] = field(default_factory=list)
    variant: set[str] = field(default_factory=set)
    schema_versions: Counter = field(default_factory=Counter)
    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)  # (field, value) -> count
    mapping: Counter = field(default_factory=Counter)  # (category, keyword, harm) -> count
    platforms: Counter = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)
    territory: str = "MY"
    in_malaysia: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "riskkit": __version__,
            "inputs": self.inputs,
            "variant": sorted(self.variant),
            "schema_versions": dict(self.schema_versions),
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "in_malaysia": self.in_malaysia,
            "territory": self.territory,
            "dropped": dict(self.dropped),
            "unknown_values": [{"field": f, "value": v, "rows": n} for (f, v), n in sorted(self.unknown.items())],
            "category_mapping": [
                {"category": c, "keyword": k, "harm": h, "rows": n} for (c, k, h), n in sorted(self.mapping.items())
            ],
            "platforms": dict(self.platforms),
        }

    def format(self) -> str:
        lines = [
            f"read {self.rows_in:,} statements from {len(self.inputs)} input(s) "
            f"({', '.join(sorted(self.variant)) or 'no'} variant; schema "
            + ", ".join(f"v{v}: {n:,} rows" for v, n in sorted(self.schema_versions.items()))
            + ")",
            f"kept {self.rows_out:,} actions ({self.in_malaysia:,} in Malaysian scope, territory rule: {self.territory})",
        ]
        for reason, n in sorted(self.dropped.items()):
            lines.append(f"  dropped {n:,}: {reason}")
        for (fld, value), n in sorted(self.unknown.items()):
            lines.append(f"  unknown {fld} value {value!r}: {n:,} row(s) kept, mapped to the default")
        lines.append("category mapping (DSA category / keyword -> riskkit harm: rows):")
        for (cat, kw, harm), n in sorted(self.mapping.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {cat}{' / ' + kw if kw else ''} -> {harm}: {n:,}")
        return "\n".join(lines)

    def markdown(self) -> str:
        return "# DSA import report\n\n```\n" + self.format() + "\n```\n"


# ------------------------------------------------------------------------------------------------ mapping


@dataclass(frozen=True)
class _Mapping:
    category: dict[str, dict[str, Any]]
    keyword: dict[str, dict[str, Any]]
    detection: dict[str, dict[str, Any]]
    decision_by: dict[str, dict[str, Any]]
    actions: list[tuple[str, str]]  # precedence order
    minors: tuple[str, ...]
    columns: tuple[str, ...]
    light_drops: tuple[str, ...]
    lists: tuple[str, ...]
    version: str

    @classmethod
    def load(cls, library: Library) -> _Mapping:
        fw = library.dsa_import

        def keyed(entries: list[Any]) -> dict[str, dict[str, Any]]:
            return {e.ref_id: e.model_dump(by_alias=True) for e in entries}

        return cls(
            category=keyed(fw.categories),
            keyword=keyed(fw.keywords),
            detection=keyed(fw.detection),
            decision_by=keyed(fw.decision_by),
            actions=[(e.ref_id, e.action) for e in fw.actions],
            minors=tuple(fw.minors_marker),
            columns=tuple(fw.columns.full),
            light_drops=tuple(fw.columns.light_drops),
            lists=tuple(fw.columns.lists),
            version=f"{fw.id} {fw.version}",
        )

    def v1_only(self) -> set[str]:
        return {k for k, v in {**self.category, **self.keyword}.items() if v.get("schema") == 1}


# ------------------------------------------------------------------------------------------------ reading


def _chunks(path: Path, rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
    """(source name, chunk of string cells) from a CSV, a zip (of zips) of CSVs, or a Parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_chunks(path.name, path, rows)
    elif suffix == ".zip":
        yield from _zip_chunks(path.name, zipfile.ZipFile(path), rows)
    elif suffix == ".parquet":
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=rows):
            yield path.name, _as_strings(batch.to_pandas())
    else:
        raise ParameterError(f"{path}: expected a dump .csv, .zip (of zips) or .parquet file")


def _csv_chunks(name: str, source: Any, rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
    try:
        reader = pd.read_csv(
            source, dtype=str, keep_default_na=False, na_filter=False, chunksize=rows, encoding="utf-8"
        )
        for chunk in reader:
            yield name, chunk
    except UnicodeDecodeError as exc:
        raise DsaImportError(f"{name}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except pd.errors.ParserError as exc:
        raise DsaImportError(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None


def _zip_chunks(name: str, zf: zipfile.ZipFile, rows: int) -> Iterator[tuple[str, pd.DataFrame]]:
    for member in sorted(zf.namelist()):
        lower = member.lower()
        if lower.endswith(".zip"):
            with zf.open(member) as inner:
                yield from _zip_chunks(f"{name}/{member}", zipfile.ZipFile(io.BytesIO(inner.read())), rows)
        elif lower.endswith(".csv"):
            with zf.open(member) as fh:
                yield from _csv_chunks(f"{name}/{member}", fh, rows)


def _as_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet cells to the CSV's string form (lists as JSON arrays, dates as 'YYYY-MM-DD HH:MM:SS')."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
        elif s.dtype == object and s.map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            out[col] = s.map(lambda v: json.dumps(list(v)) if isinstance(v, list | tuple | np.ndarray) else "")
        else:
            out[col] = s.astype("str").where(s.notna(), "")
    return out


# ------------------------------------------------------------------------------------------------ mapping one chunk


def _lists(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse JSON arrays of enum strings vectorised; returns (list of values per row, malformed mask)."""
    text = s.fillna("").str.strip()
    empty = text == ""
    ok = text.str.match(_LIST.pattern) | empty
    bad = (~ok).to_numpy()
    cleaned = text.str.replace(r'[\[\]"\s]', "", regex=True)
    values = cleaned.str.split(",").map(lambda v: [x for x in v if x] if isinstance(v, list) else [])
    return values, bad


def _map_chunk(
    chunk: pd.DataFrame, m: _Mapping, report: ImportReport, territory: str, platform: str | None, first_row: int
) -> pd.DataFrame:
    """Map one chunk of statements (``first_row``: the file row of its first statement, header = row 1)."""
    for col in m.columns:
        if col not in chunk.columns:
            chunk[col] = ""
    report.rows_in += len(chunk)
    report.platforms.update(chunk["platform_name"].tolist())
    if platform is not None:
        chunk = chunk[chunk["platform_name"] == platform]
    keep = np.ones(len(chunk), dtype=bool)

    def drop(mask: np.ndarray, reason: str) -> None:
        nonlocal keep
        mask = mask & keep
        if mask.any():
            report.dropped[reason] += int(mask.sum())
            keep &= ~mask

    for col in REQUIRED:
        drop((chunk[col].str.strip() == "").to_numpy(), f"empty required field {col}")
    decisions = ["decision_visibility", "decision_monetary", "decision_provision", "decision_account"]
    no_decision = np.logical_and.reduce([(chunk[c].str.strip().isin(["", "[]"])).to_numpy() for c in decisions])
    drop(no_decision, "no decision_* field filled")
    parsed = {}
    for col in m.lists:
        values, bad = _lists(chunk[col])
        parsed[col] = values
        drop(bad, f"malformed JSON list in {col}")
    dates = {}
    for col in ("content_date", "application_date"):
        d = pd.to_datetime(chunk[col].str.strip(), format="%Y-%m-%d %H:%M:%S", utc=True, errors="coerce")
        d = d.fillna(pd.to_datetime(chunk[col].str.strip(), format="%Y-%m-%d", utc=True, errors="coerce"))
        drop((d.isna() & (chunk[col].str.strip() != "")).to_numpy(), f"unreadable {col}")
        dates[col] = d
    drop(
        (dates["application_date"] < dates["content_date"]).fillna(False).to_numpy(),
        "application_date before content_date",
    )
    sel = np.flatnonzero(keep)
    c = chunk.iloc[sel]
    lists = {k: v.iloc[sel] for k, v in parsed.items()}

    # schema version by values
    v1 = m.v1_only()
    kw_first = lists["category_specification"].map(lambda v: v[0] if v else "")
    is_v1 = c["category"].isin(v1) | kw_first.isin(v1)
    report.schema_versions[1] += int(is_v1.sum())
    report.schema_versions[2] += int((~is_v1).sum())

    harm, keyword_used = _harms(c, lists, m, report)
    detection = _detection(c, m, report)
    decider = c["automated_decision"].map(lambda v: m.decision_by.get(v, {}).get("decision_by"))
    for value, n in c.loc[decider.isna(), "automated_decision"].value_counts().items():
        report.unknown[("automated_decision", value)] += int(n)
    decider = decider.fillna("hybrid")
    action = _actions(c, lists["decision_visibility"], m, report)
    if territory == "all":
        malaysia = pd.Series(True, index=c.index)
    else:
        malaysia = lists["territorial_scope"].map(lambda v, t=territory: t in v)
    surface = lists["content_type"].map(lambda v: v[0].removeprefix("CONTENT_TYPE_").lower() if v else "unknown")
    rationale = (
        c["decision_facts"]
        .str.cat([c["illegal_content_explanation"], c["incompatible_content_explanation"]], sep=" | ")
        .str.replace(r"( \| ){2,}", " | ", regex=True)
        .str.replace(r"^ \| | \| $", "", regex=True)
    )
    ground = c["illegal_content_legal_ground"].where(
        c["illegal_content_legal_ground"] != "", c["incompatible_content_ground"]
    )
    ground = ground.where(ground != "", c["decision_ground"])
    source_category = c["category"] + np.where(keyword_used != "", "/" + keyword_used, "")
    out = pd.DataFrame(
        {
            "action_id": c["platform_uid"].to_numpy(),
            "category": harm.to_numpy(),
            "surface": surface.to_numpy(),
            "detected_at": dates["content_date"].iloc[sel].to_numpy(),
            "actioned_at": dates["application_date"].iloc[sel].to_numpy(),
            "detection_source": detection.to_numpy(),
            "decision_by": decider.to_numpy(),
            "action": action.to_numpy(),
            "in_malaysia": malaysia.astype(bool).to_numpy(),
            "rationale": rationale.to_numpy(),
            "policy_ref": ground.to_numpy(),
            "content_id": c["uuid"].to_numpy(),
            "source_category": source_category.to_numpy(),
        }
    )
    out["detected_at"] = pd.to_datetime(out["detected_at"], utc=True)
    out["actioned_at"] = pd.to_datetime(out["actioned_at"], utc=True)
    report.in_malaysia += int(out["in_malaysia"].sum())
    out.attrs["content_hash"] = pd.util.hash_pandas_object(c[[x for x in c.columns]], index=False).to_numpy()
    out.attrs["rows"] = (c.index.to_numpy() + first_row).astype(np.int64)
    return out


def _harms(
    c: pd.DataFrame, lists: dict[str, pd.Series], m: _Mapping, report: ImportReport
) -> tuple[pd.Series, pd.Series]:
    minors = c["category"].isin(m.minors) | lists["category_addition"].map(lambda v: any(x in m.minors for x in v))
    harms, used = [], []
    for cat, keywords, minor in zip(c["category"], lists["category_specification"], minors, strict=True):
        rule, kw = None, ""
        for k in keywords:
            if k in m.keyword:
                rule, kw = m.keyword[k], k
                break
            report.unknown[("category_specification", k)] += 1
        if rule is None:
            rule = m.category.get(cat)
            if rule is None:
                report.unknown[("category", cat)] += 1
                rule = {"harm": "other"}
        harm = rule.get("minors_harm", rule["harm"]) if minor else rule["harm"]
        harms.append(harm)
        used.append(kw)
        report.mapping[(cat, kw, harm)] += 1
    return pd.Series(harms, index=c.index), pd.Series(used, index=c.index)


def _detection(c: pd.DataFrame, m: _Mapping, report: ImportReport) -> pd.Series:
    automated = c["automated_detection"].str.strip().str.lower().isin(["yes", "true", "1"])
    known = c["source_type"].isin(list(m.detection))
    for value, n in c.loc[~known, "source_type"].value_counts().items():
        report.unknown[("source_type", value)] += int(n)
    auto_map = {k: v["automated"] for k, v in m.detection.items()}
    manual_map = {k: v["manual"] for k, v in m.detection.items()}
    out = np.where(automated, c["source_type"].map(auto_map), c["source_type"].map(manual_map))
    return pd.Series(out, index=c.index).fillna("user_report")


def _actions(c: pd.DataFrame, visibility: pd.Series, m: _Mapping, report: ImportReport) -> pd.Series:
    values = [
        {*v, c_mon, c_pro, c_acc} - {""}
        for v, c_mon, c_pro, c_acc in zip(
            visibility, c["decision_monetary"], c["decision_provision"], c["decision_account"], strict=True
        )
    ]
    known = {k for k, _ in m.actions}
    out = []
    for present in values:
        for value in present - known:
            report.unknown[("decision", value)] += 1
        out.append(next((a for k, a in m.actions if k in present), "restrict"))
    return pd.Series(out, index=c.index)


# ------------------------------------------------------------------------------------------------ import


def import_dsa(
    inputs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    into: str | Path | None = None,
    platform: str | None = None,
    territory: str = "MY",
    service_type: str = "social_media",
    chunk_rows: int = CHUNK_ROWS,
    library: Library,
) -> ImportReport:
    """Import dump files as the ``actions`` table of a new pack (``out``) or of an existing one (``into``).

    ``territory``: an ISO code (default MY) — a statement is in Malaysian scope when its territorial_scope lists
    it — or ``all`` when every statement concerns Malaysia (required for light dumps, which have no scope)."""
    if (out is None) == (into is None):
        raise ParameterError("give exactly one of --out (a new pack) or --into (an existing pack)")
    paths = [Path(p) for p in inputs]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ParameterError("no such input file: " + ", ".join(missing))
    territory = territory if territory == "all" else territory.upper()
    target = Path(out or into)
    if out is not None and target.exists() and any(target.iterdir()):
        raise ParameterError(f"{target} exists and is not empty; choose a new folder (nothing was written)")
    if into is not None:
        _check_into(target)
    m = _Mapping.load(library)
    report = ImportReport(territory=territory)
    work = target.parent / f".{target.name}.import-partial"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    try:
        _stream(paths, work, m, report, platform, territory, chunk_rows)
        _finish(work, target, report, m, platform, service_type, into is not None)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _check_into(pack: Path) -> None:
    if not (pack / "datapack.yaml").is_file():
        raise ParameterError(f"--into {pack}: not a data pack (no datapack.yaml)")
    meta = yaml.safe_load((pack / "datapack.yaml").read_text(encoding="utf-8")) or {}
    declared = (meta.get("tables") or {}).get("actions")
    if declared or any((pack / f"actions{ext}").exists() for ext in (".csv", ".parquet")):
        raise ParameterError(
            f"--into {pack}: the pack already has an actions table; riskkit never overwrites it "
            "(import into a new pack with --out, or move the existing actions away first)"
        )


def _stream(
    paths: list[Path], work: Path, m: _Mapping, report: ImportReport, platform: str | None, territory: str, rows: int
) -> None:
    writer: pq.ParquetWriter | None = None
    puid_hashes, content_hashes, files, lines = [], [], [], []
    arrow_schema = None
    for i, path in enumerate(paths):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 22), b""):
                digest.update(block)
        report.inputs.append({"file": path.name, "sha256": digest.hexdigest(), "bytes": path.stat().st_size})
        first_row = 2
        for _name, chunk in _chunks(path, rows):
            report.variant.add("full" if "decision_facts" in chunk.columns else "light")
            if territory != "all" and "territorial_scope" not in chunk.columns:
                raise DsaImportError(
                    f"{path.name}: a light dump has no territorial_scope, so Malaysian scope cannot be decided; "
                    "pass --territory all if every statement concerns Malaysia"
                )
            mapped = _map_chunk(chunk.reset_index(drop=True), m, report, territory, platform, first_row)
            first_row += len(chunk)
            if mapped.empty:
                continue
            puid_hashes.append(pd.util.hash_pandas_object(mapped["action_id"], index=False).to_numpy())
            content_hashes.append(mapped.attrs["content_hash"])
            files.append(np.full(len(mapped), i, dtype=np.uint16))
            lines.append(mapped.attrs["rows"])
            table = pa.Table.from_pandas(mapped, preserve_index=False, schema=arrow_schema)
            arrow_schema = table.schema
            if writer is None:
                writer = pq.ParquetWriter(work / "staged.parquet", arrow_schema, compression="zstd")
            writer.write_table(table)
    if writer is not None:
        writer.close()
    if len(report.platforms) > 1 and platform is None:
        names = ", ".join(f"{k} ({v:,})" for k, v in report.platforms.most_common())
        raise DsaImportError(f"the dump holds several platforms ({names}); choose one with --platform")
    if platform is not None and platform not in report.platforms:
        raise DsaImportError(f"--platform {platform!r}: not in the dump (found {', '.join(report.platforms)})")
    keep = _deduplicate(puid_hashes, content_hashes, files, lines, paths, report)
    np.save(work / "keep.npy", keep)


def _deduplicate(puid, content, files, lines, paths, report: ImportReport) -> np.ndarray:
    """Exact duplicates are dropped (first kept); the same id with different content is an error."""
    if not puid:
        return np.zeros(0, dtype=bool)
    p, c = np.concatenate(puid), np.concatenate(content)
    f, line = np.concatenate(files), np.concatenate(lines)
    order = np.lexsort((np.arange(len(p)), c, p))
    ps, cs = p[order], c[order]
    same_id = np.r_[False, ps[1:] == ps[:-1]]
    same_content = np.r_[False, cs[1:] == cs[:-1]]
    keep = np.ones(len(p), dtype=bool)
    duplicate = same_id & same_content
    keep[order[duplicate]] = False
    if duplicate.any():
        report.dropped["exact duplicate of an earlier statement"] += int(duplicate.sum())
    conflict = same_id & ~same_content
    if conflict.any():
        for j in np.flatnonzero(conflict)[:20]:
            a, b = order[j - 1], order[j]
            report.conflicts.append(
                f"{paths[f[b]].name} row {line[b]} and {paths[f[a]].name} row {line[a]} share platform_uid "
                f"(hash {ps[j]:x}) with different content"
            )
        raise DsaImportError(
            f"{int(conflict.sum()):,} statement(s) reuse a platform_uid with different content; nothing was written:\n  "
            + "\n  ".join(report.conflicts)
        )
    return keep


def _finish(
    work: Path, target: Path, report: ImportReport, m: _Mapping, platform: str | None, service_type: str, into: bool
) -> None:
    keep = np.load(work / "keep.npy")
    staged = work / "staged.parquet"
    if not keep.any():
        raise DsaImportError("no statement could be imported:\n" + report.format())
    final = work / "actions.parquet"
    offset = 0
    writer = None
    last_actioned = None
    for batch in pq.ParquetFile(staged).iter_batches(batch_size=CHUNK_ROWS):
        mask = keep[offset : offset + batch.num_rows]
        offset += batch.num_rows
        table = pa.Table.from_batches([batch]).filter(pa.array(mask))
        if writer is None:
            writer = pq.ParquetWriter(final, table.schema, compression="zstd")
        writer.write_table(table)
        report.rows_out += table.num_rows
        top = pc.max(table.column("actioned_at")).as_py()
        last_actioned = top if last_actioned is None or (top and top > last_actioned) else last_actioned
    writer.close()
    staged.unlink()
    (work / "keep.npy").unlink()
    as_of = pd.Timestamp(last_actioned).normalize() + pd.Timedelta(days=1)
    provenance = {
        "source": "DSA statements of reasons",
        "mapping": m.version,
        "riskkit": __version__,
        "note": "content_date to application_date: time from posting to action, in whole days",
        "inputs": report.inputs,
    }
    (work / "import_report.md").write_text(report.markdown(), encoding="utf-8")
    (work / "import_report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str), encoding="utf-8")
    if into:
        _merge_into(work, target, provenance, as_of)
    else:
        name = platform or (next(iter(report.platforms)) if report.platforms else "unknown")
        meta = {
            "contract": schema.CONTRACT_VERSION,
            "platform": {"name": name, "service_type": service_type},
            "as_of": as_of.isoformat(),
            "time_resolution": "day",
            "tables": {"actions": "actions.parquet"},
            "import": provenance,
        }
        (work / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty (checked before)
        work.rename(target)


def _merge_into(work: Path, pack: Path, provenance: dict[str, Any], as_of: pd.Timestamp) -> None:
    """Add the imported actions to an existing pack: new files only, then one atomic swap of datapack.yaml."""
    meta = yaml.safe_load((pack / "datapack.yaml").read_text(encoding="utf-8")) or {}
    for name in ("actions.parquet", "import_report.md", "import_report.json"):
        if (pack / name).exists() and name != "actions.parquet":
            (pack / name).replace(pack / f"{name}.previous")
        shutil.move(str(work / name), str(pack / name))
    meta.setdefault("tables", {})["actions"] = "actions.parquet"
    meta["time_resolution"] = "day"
    meta["import"] = provenance
    current = pd.Timestamp(meta["as_of"]) if meta.get("as_of") else None
    if current is None or (current.tzinfo is not None and current < as_of):
        meta["as_of"] = as_of.isoformat()
    tmp = pack / ".datapack.yaml.partial"
    tmp.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(pack / "datapack.yaml")
    shutil.rmtree(work, ignore_errors=True)
