"""Import DSA statements of reasons (Transparency Database daily dumps) as riskkit data packs.

Reads dump CSV chunks, their zip-of-zips packaging and Parquet (:mod:`.dsa_read`); maps every statement to a
moderation action with ``frameworks/dsa-import.yaml`` (:mod:`.dsa_map`); writes one pack, one pack per platform,
or the actions table of an existing pack; reports what happened to every row read (:mod:`.dsa_report`).

Streaming: chunks of at most 200,000 statements are mapped and staged to Parquet as they are read. What stays in
memory per statement is its duplicate-check key: 34 bytes (three 64-bit hashes — uuid, content, platform_uid —,
the platform, the source file and the row), plus the final sort's index at its peak.

Messy data is reported, never silently fixed: exact duplicates are dropped and counted; the same uuid with
different content, or the same platform_uid under two uuids, is an error naming both places (nothing written);
unknown enumeration values are kept (as ``other`` or the nearest action) and counted per value; rows missing
required fields, with malformed JSON lists or impossible dates are dropped and counted by reason; statements whose
platform_uid namespace or reference URL belongs to another platform of the dump are kept and flagged. Text
(including non-ASCII and bidirectional control characters) is kept byte for byte.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from riskkit import __version__, schema
from riskkit.exceptions import ParameterError
from riskkit.importers import dsa_read
from riskkit.importers.dsa_map import AUX, MAPPING_ID, Mapper, Mapping, hash_strings
from riskkit.importers.dsa_read import DsaImportError
from riskkit.importers.dsa_report import DUPLICATE, EMPTY_PLATFORM, OTHER_PLATFORMS, ImportResult, PackReport
from riskkit.library import Library
from riskkit.paths import writable_folder

__all__ = ["CHUNK_ROWS", "MAPPING_ID", "DsaImportError", "ImportResult", "import_dsa", "list_platforms"]

CHUNK_ROWS = 200_000
#: A platform_uid shape is a platform's namespace when at least this share (and NAMESPACE_MIN rows) has it.
NAMESPACE_SHARE = 0.05
NAMESPACE_MIN = 20
#: Words of platform names too generic to tell platforms apart in a URL.
_GENERIC = {"store", "shop", "shopping", "play", "search", "online", "market", "marketplace", "services", "service"}


def list_platforms(inputs: Sequence[str | Path], *, chunk_rows: int = CHUNK_ROWS) -> Counter:
    """platform_name -> statements in the dump (reads only that column; writes nothing)."""
    found = dsa_read.collect([Path(p) for p in inputs])
    counts: Counter = Counter()
    for path in found.files:
        for _source, table, _first in dsa_read.tables(path, chunk_rows, found.skipped, columns=["platform_name"]):
            if "platform_name" not in table.column_names:
                counts["(no platform_name column)"] += table.num_rows
                continue
            vc = pc.value_counts(pc.utf8_trim_whitespace(table.column("platform_name")))
            for item in vc.to_pylist():
                counts[item["values"] or "(empty platform_name)"] += item["counts"]
    return counts


def import_dsa(
    inputs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    library: Library,
    into: str | Path | None = None,
    platform: str | None = None,
    territory: str = "MY",
    service_type: str = "social_media",
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Import dump files as a new pack (``out``), one pack per platform under ``out``, or as the ``actions`` table
    of an existing pack (``into``). ``library`` is the framework library (loaded once by the caller).

    ``platform``: a ``platform_name`` to import (filtered while reading); ``"all"`` for one pack per platform under
    ``out`` (also the default when the dump holds several platforms). ``territory``: ISO 3166-1 alpha-2 codes, one
    or a comma list (a statement is in Malaysian scope when its territorial_scope lists one of them), or ``all``
    when every statement concerns Malaysia (required for light dumps, which have no territorial_scope).
    Nothing is written unless the whole import succeeds; with ``into``, unless the pack as it would be validates."""
    if (out is None) == (into is None):
        raise ParameterError("give exactly one of --out (a new pack) or --into (an existing pack)")
    if service_type not in schema.SERVICE_TYPES:
        raise ParameterError(f"--service-type {service_type!r}: one of {', '.join(schema.SERVICE_TYPES)}")
    m = Mapping.from_library(library)
    codes = m.parse_territory(territory)
    name = (platform or "").strip()
    if platform is not None and not name:
        raise ParameterError("--platform is empty: give a platform_name from the dump (see --list-platforms) or all")
    every = name.lower() == "all"
    only = name if name and not every else None
    if into is not None and every:
        raise ParameterError("--platform all writes one pack per platform: use it with --out, not --into")
    if chunk_rows < 1:
        raise ParameterError("chunk_rows must be positive")
    target = Path(out if out is not None else into)  # type: ignore[arg-type]
    if out is not None and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ParameterError(f"{target} exists and is not empty; choose a new folder (nothing was written)")
    writable_folder(target, "--out" if out is not None else "--into")
    existing = _check_into(target) if into is not None else None
    found = dsa_read.collect([Path(p) for p in inputs])
    options = {
        "inputs": [str(p) for p in inputs],
        "out": str(out) if out is not None else None,
        "into": str(into) if into is not None else None,
        "platform": platform,
        "territory": "all" if codes is None else list(codes),
        "service_type": service_type,
        "chunk_rows": chunk_rows,
    }
    result = ImportResult(options=options, mapping_version=m.version, target=target)
    result.inputs, result.skipped = found.described, found.skipped
    work = target.parent / f".{target.name}.import-partial"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    digests = dsa_read.checksums(found)
    try:
        mapper = Mapper(m, codes, only, single=into is not None)
        staging = _stream(found, mapper, work, chunk_rows, codes)
        _summarise_reading(result, mapper, only)
        keep = _deduplicate(mapper, found, chunk_rows)
        digests()
        named = [p for p in mapper.platforms.values if p and mapper.read_by_platform[mapper.platforms.id(p)]]
        per_platform = into is None and (every or (only is None and len(named) > 1))
        result.layout = "into" if into is not None else "per_platform" if per_platform else "pack"
        _finish(result, mapper, keep, staging, work, found, chunk_rows, service_type)
        if into is not None:
            _merge_into(result, work, target, existing or {}, library)
        else:
            _publish(result, work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


# ------------------------------------------------------------------------------------------------ reading


class _Staging:
    """Actions go straight to one Parquet file per platform as chunks are mapped; the AUX columns (small integers)
    to one side file in read order. Buffers per platform are flushed at CHUNK_ROWS rows in total, so a global dump
    with many platforms neither holds many rows nor writes tiny row groups."""

    def __init__(self, work: Path) -> None:
        self.dir = work / "by-platform"
        self.dir.mkdir()
        self.aux_path = work / "aux.parquet"
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.buffers: dict[int, list[pa.Table]] = {}
        self.buffered = 0
        self.aux: pq.ParquetWriter | None = None

    def file(self, pid: int) -> Path:
        return self.dir / f"{pid}.parquet"

    def add(self, staged: pa.Table) -> None:
        aux, actions = staged.select(list(AUX)), staged.drop_columns(list(AUX))
        if self.aux is None:
            self.aux = pq.ParquetWriter(self.aux_path, aux.schema, compression="lz4")
        self.aux.write_table(aux)
        plat = aux.column("_platform").to_numpy()
        pids = np.unique(plat)
        for pid in pids.tolist():
            part = actions if len(pids) == 1 else actions.filter(pa.array(plat == pid))
            self.buffers.setdefault(pid, []).append(part)
            self.buffered += part.num_rows
        if self.buffered >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        for pid, parts in self.buffers.items():
            table = pa.concat_tables(parts)
            if pid not in self.writers:
                self.writers[pid] = pq.ParquetWriter(self.file(pid), table.schema, compression="zstd")
            self.writers[pid].write_table(table)
        self.buffers, self.buffered = {}, 0

    def close(self) -> None:
        self.flush()
        for writer in self.writers.values():
            writer.close()
        if self.aux is not None:
            self.aux.close()


def _stream(found: dsa_read.Inputs, mapper: Mapper, work: Path, rows: int, codes: tuple[str, ...] | None) -> _Staging:
    staging = _Staging(work)
    try:
        for i, path in enumerate(found.files):
            for source, table, first_row in dsa_read.tables(path, rows, found.skipped):
                mapper.check_columns(source, table.column_names)
                if codes is not None and "territorial_scope" not in table.column_names:
                    raise DsaImportError(
                        f"{source}: a light dump has no territorial_scope, so Malaysian scope cannot be decided; "
                        "pass --territory all if every statement concerns Malaysia (nothing was written)"
                    )
                staged = mapper.map(source, table, first_row, file=i)
                if staged is not None and staged.num_rows:
                    staging.add(staged)
    finally:
        staging.close()
    return staging


def _summarise_reading(result: ImportResult, mapper: Mapper, only: str | None) -> None:
    names = mapper.platforms.values
    result.rows_read = mapper.rows_read
    result.sources = [s.to_dict() for s in mapper.sources]
    counts: Counter = Counter()
    for pid, n in mapper.read_by_platform.items():
        counts[names[pid] or "(empty platform_name)"] += int(n)
    result.platforms = dict(counts.most_common())
    if only is not None and only not in counts:
        close = difflib.get_close_matches(only, [n for n in counts], n=3, cutoff=0.5)
        close += [n for n in counts if n.casefold() == only.casefold() and n not in close]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(f"{k} ({v:,})" for k, v in counts.most_common(10))
        raise DsaImportError(
            f"--platform {only!r}: no statement of that platform in the dump{hint} (found: {listed}; "
            "riskkit import dsa --list-platforms lists them all; nothing was written)"
        )


# ------------------------------------------------------------------------------------------------ duplicates


def _deduplicate(mapper: Mapper, found: dsa_read.Inputs, rows: int) -> np.ndarray:
    """Keep mask over the staged statements: exact duplicates (same uuid, same content) dropped, the first kept.

    Only statements whose uuid occurs more than once have their content compared, in a second pass over their
    sources (none when the dump holds no repeated uuid). The same uuid with different content, or one platform's
    platform_uid under two uuids, is an error naming the id and both places (nothing is written)."""
    k = mapper.keys
    if not k.uuid:
        return np.zeros(0, dtype=bool)
    uuid = np.concatenate(k.uuid)
    k.uuid.clear()
    plat, src, row = np.concatenate(k.platform), np.concatenate(k.src), np.concatenate(k.row)
    k.platform, k.src, k.row = [plat], [src], [row]
    place = _place(mapper, src, row)
    keep = np.ones(len(uuid), dtype=bool)
    order = np.argsort(uuid, kind="stable")  # among equal uuids, staged (= file) order
    uuid = uuid[order]
    same = uuid[1:] == uuid[:-1]
    del uuid
    if same.any():
        # each repeated statement against the first of its uuid
        start = np.r_[True, ~same]
        first = order[np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))]
        later = np.r_[False, same]
        a, b = first[later], order[later]
        del first, later, start
        at = np.unique(np.concatenate([a, b]))
        ident, light, full = _content_hashes(mapper, found, rows, at, src, row)
        ia, ib = np.searchsorted(at, a), np.searchsorted(at, b)
        same_uuid = ident[ia] == ident[ib]  # a second, independent hash: 64-bit collisions are not duplicates
        is_full = np.array([s.variant == "full" for s in mapper.sources])[src]
        both_full = is_full[a] & is_full[b]
        # the same content: every column both copies carry (a light copy lacks the free-text columns)
        equal = np.where(both_full, full[ia] == full[ib], light[ia] == light[ib])
        conflict = same_uuid & ~equal
        if conflict.any():
            ca, cb = a[conflict][:20], b[conflict][:20]
            cells = _cells(mapper, found, rows, np.unique(np.concatenate([ca, cb])), src, row)
            listed = []
            for i, j in zip(ca.tolist(), cb.tolist(), strict=True):
                differ = [c for c in mapper.m.full if c in cells[i] and c in cells[j] and cells[i][c] != cells[j][c]]
                listed.append(f"uuid {cells[i]['uuid']}: {place(i)} and {place(j)} differ in {', '.join(differ)}")
            raise DsaImportError(
                f"{int(conflict.sum()):,} statement(s) reuse a uuid with different content; nothing was written:\n  "
                + "\n  ".join(listed)
            )
        duplicate = b[same_uuid & equal]
        keep[duplicate] = False
        for pid, n in zip(*np.unique(plat[duplicate], return_counts=True), strict=True):
            mapper.dropped[(int(pid), DUPLICATE)] += int(n)
    del order, same
    puid = np.concatenate(k.puid)
    k.puid.clear()
    kept = np.flatnonzero(keep)
    puid = puid[kept]
    order = np.argsort(puid, kind="stable")
    puid = puid[order]
    same = puid[1:] == puid[:-1]
    del puid
    order = kept[order]
    pairs = [(int(a), int(b)) for a, b in zip(order[:-1][same], order[1:][same], strict=True)]
    if pairs:
        cells = _cells(mapper, found, rows, np.unique(np.array(pairs[:1000])), src, row)
        real = [
            (a, b)
            for a, b in pairs[:1000]
            if (cells[a]["platform_uid"], cells[a]["platform_name"].strip())
            == (cells[b]["platform_uid"], cells[b]["platform_name"].strip())
        ]
        if real:
            listed = [
                f"platform_uid {cells[a]['platform_uid']} ({mapper.platforms.values[plat[a]]}): {place(a)} "
                f"(uuid {cells[a]['uuid']}) and {place(b)} (uuid {cells[b]['uuid']})"
                for a, b in real[:20]
            ]
            raise DsaImportError(
                f"{len(real):,} platform_uid(s) appear under two uuids (the pack's action_id must be unique); "
                "nothing was written:\n  " + "\n  ".join(listed)
            )
    return keep


def _scan(
    mapper: Mapper, found: dsa_read.Inputs, rows: int, positions: np.ndarray, src: np.ndarray, row: np.ndarray, fn
) -> None:
    """Read the sources of the staged statements at ``positions`` again and call ``fn(positions, table)`` with the
    rows of those statements (sources without any are skipped unparsed)."""
    wanted: dict[int, dict[int, int]] = {}  # source -> file row -> staged position
    for pos in positions.tolist():
        wanted.setdefault(int(src[pos]), {})[int(row[pos])] = pos
    names = {mapper.sources[s].name: s for s in wanted}
    for f in sorted({mapper.sources[s].file for s in wanted}):
        for source, table, first_row in dsa_read.tables(found.files[f], rows, [], sources=set(names)):
            s = names.get(source)
            if s is None:
                continue
            here = {r - first_row: p for r, p in wanted[s].items() if first_row <= r < first_row + table.num_rows}
            if here:
                fn(np.array(list(here.values()), dtype=np.int64), table.take(pa.array(list(here))))


def _content_hashes(mapper, found, rows, positions, src, row) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(second uuid hash, hash of the columns both dump variants carry, hash of every column) of the statements at
    ``positions`` (sorted), aligned with them."""
    ident = np.zeros(len(positions), dtype=np.uint64)
    light = np.zeros(len(positions), dtype=np.uint64)
    full = np.zeros(len(positions), dtype=np.uint64)

    def digest(table: pa.Table, columns) -> np.ndarray:
        n = table.num_rows
        cells = [table.column(c) if c in table.column_names else pa.repeat(pa.scalar(""), n) for c in columns]
        joined = pc.binary_join_element_wise(*cells, "\x1f")
        return hash_strings(joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined)

    def fn(at: np.ndarray, table: pa.Table) -> None:
        i = np.searchsorted(positions, at)
        uuids = np.asarray(table.column("uuid").to_pylist(), dtype=object)
        ident[i] = pd.util.hash_array(uuids, hash_key="riskkit-dsa-uuid")
        light[i] = digest(table, mapper.m.content_columns)
        full[i] = digest(table, mapper.m.full)

    _scan(mapper, found, rows, positions, src, row, fn)
    return ident, light, full


def _cells(mapper, found, rows, positions, src, row) -> dict[int, dict[str, str]]:
    """Every cell of a few statements, for naming what differs (error path)."""
    out: dict[int, dict[str, str]] = {}

    def fn(at: np.ndarray, table: pa.Table) -> None:
        values = table.to_pylist()
        for k, pos in enumerate(at.tolist()):
            out[pos] = values[k]

    _scan(mapper, found, rows, positions, src, row, fn)
    return out


def _place(mapper: Mapper, src: np.ndarray, row: np.ndarray):
    def place(i: int) -> str:
        return f"{mapper.sources[int(src[i])].name} row {int(row[i])}"

    return place


# ------------------------------------------------------------------------------------------------ packs


class _Pack:
    """One platform's pack: the report of its kept statements, from the AUX side file."""

    def __init__(self, name: str, folder: Path, rel: str) -> None:
        self.name, self.folder = name, folder
        self.report = PackReport(platform=name, folder=rel)
        self.days: tuple[int, int] | None = None
        self.map_counts = np.zeros(0, dtype=np.int64)
        self.unknown_counts = np.zeros(0, dtype=np.int64)
        self.territory_counts = np.zeros(0, dtype=np.int64)
        self.flagged: list[tuple[int, int, int, str]] = []  # (position, src, row, why) of the first examples

    def add(self, aux: dict[str, np.ndarray], positions: np.ndarray, flags: dict[int, str], hosts: dict[int, str]):
        r = self.report
        n = len(positions)
        r.rows_kept += n
        scope = int(aux["_scope"].sum())
        r.in_malaysia += scope
        r.outside_malaysia += n - scope
        self.map_counts = _add_counts(self.map_counts, aux["_map"])
        self.unknown_counts = _add_counts(self.unknown_counts, aux["_unknown"])
        self.territory_counts = _add_counts(self.territory_counts, aux["_territory"])
        for v, c in zip(*np.unique(aux["_version"], return_counts=True), strict=True):
            r.versions[int(v)] += int(c)
        if n:
            lo, hi = int(aux["_day"].min()), int(aux["_day"].max())
            self.days = (lo, hi) if self.days is None else (min(self.days[0], lo), max(self.days[1], hi))
        flagged = np.zeros(n, dtype=bool)
        for table, values in ((flags, aux["_shape"]), (hosts, aux["_host"])):
            if table:
                hit = np.isin(values, list(table)) & ~flagged
                for i in np.flatnonzero(hit).tolist():
                    why = table[int(values[i])]
                    r.mismatch[why] += 1
                    if len(self.flagged) < 10:
                        self.flagged.append((int(positions[i]), int(aux["_src"][i]), int(aux["_row"][i]), why))
                flagged |= hit

    def close(self, mapper: Mapper) -> None:
        r = self.report
        for mid, n in enumerate(self.map_counts.tolist()):
            if n:
                r.mapping[mapper.harm_map.values[mid]] += n
        for uid, n in enumerate(self.unknown_counts.tolist()):
            if n:
                for pair in mapper.unknown.values[uid]:
                    r.unknown[pair] += n
        for tid, n in enumerate(self.territory_counts.tolist()):
            if n:
                for code in mapper.territories.values[tid]:
                    r.territories[code] += n
        if self.days is not None:
            first, last = (pd.Timestamp(d * 86_400, unit="s", tz="UTC") for d in self.days)
            r.first_decision, r.last_decision = first.date().isoformat(), last.date().isoformat()
            r.as_of = (last + pd.Timedelta(days=1)).isoformat()


def _add_counts(acc: np.ndarray, values: np.ndarray) -> np.ndarray:
    counts = np.bincount(values, minlength=len(acc)) if len(values) else np.zeros(len(acc), dtype=np.int64)
    if len(acc) < len(counts):
        acc = np.concatenate([acc, np.zeros(len(counts) - len(acc), dtype=np.int64)])
    acc[: len(counts)] += counts
    return acc


def _finish(
    result: ImportResult,
    mapper: Mapper,
    keep: np.ndarray,
    staging: _Staging,
    work: Path,
    found: dsa_read.Inputs,
    rows: int,
    service_type: str,
) -> None:
    """Complete every platform's pack: its report from the kept statements' AUX columns, its actions file (rewritten
    without the dropped duplicates, if it had any), its datapack.yaml."""
    names = mapper.platforms.values
    packs: dict[int, _Pack] = {}
    used: set[str] = set()
    flags, hosts = _namespace_flags(mapper), _host_flags(mapper)
    masks: dict[int, list[np.ndarray]] = {}  # per platform: which of its staged rows are kept
    rewrite: set[int] = set()
    offset = 0
    if staging.aux_path.exists():
        for batch in pq.ParquetFile(staging.aux_path).iter_batches(batch_size=CHUNK_ROWS):
            aux = {name: batch.column(name).to_numpy() for name in batch.schema.names}
            mask = keep[offset : offset + batch.num_rows]
            positions = np.arange(offset, offset + batch.num_rows)
            offset += batch.num_rows
            plat = aux["_platform"]
            for pid in np.unique(plat).tolist():
                mine = plat == pid
                masks.setdefault(pid, []).append(mask[mine])
                if not masks[pid][-1].all():
                    rewrite.add(pid)
                sel = mine & mask
                if not sel.any():
                    continue
                if pid not in packs:
                    rel = "." if result.layout != "per_platform" else _folder_name(names[pid], used)
                    packs[pid] = _Pack(names[pid], work / "packs" / rel, rel)
                packs[pid].add(
                    {k: v[sel] for k, v in aux.items()}, positions[sel], flags.get(pid, {}), hosts.get(pid, {})
                )
        staging.aux_path.unlink()
    empty = mapper.platforms.ids.get("")
    empty_rows = int(mapper.read_by_platform[empty]) if empty is not None else 0
    for pid, n in mapper.read_by_platform.items():
        if pid not in packs and pid != empty:
            dropped = {r: c for (p, r), c in mapper.dropped.items() if p == pid}
            why = "; ".join(f"{c:,} {r}" for r, c in dropped.items()) or "no statement kept"
            if mapper.only is None or names[pid] == mapper.only:
                result.not_imported[names[pid]] = f"{int(n):,} read, none kept ({why})"
    if not packs:
        raise DsaImportError("no statement could be imported (nothing was written):\n" + result.header())
    examples = [e for pack in packs.values() for e in pack.flagged]
    cells = _cells(mapper, found, rows, np.unique([e[0] for e in examples]), *_locations(mapper)) if examples else {}
    for pid, pack in packs.items():
        pack.folder.mkdir(parents=True, exist_ok=True)
        target = pack.folder / "actions.parquet"
        if pid in rewrite:
            _rewrite_without(staging.file(pid), target, np.concatenate(masks[pid]))
        else:
            staging.file(pid).replace(target)
        pack.close(mapper)
        r = pack.report
        for pos, src, row, why in pack.flagged:
            puid = cells.get(pos, {}).get("platform_uid", "?")
            r.mismatch_examples.append(f"{mapper.sources[src].name} row {row}: platform_uid {puid} ({why})")
        r.rows_read = mapper.rows_read
        other = mapper.rows_read - int(mapper.read_by_platform[pid]) - empty_rows
        if other:
            r.dropped[OTHER_PLATFORMS] = other
        if empty_rows:
            r.dropped[EMPTY_PLATFORM] = empty_rows
        for (p, reason), c in mapper.dropped.items():
            if p == pid:
                r.dropped[reason] += int(c)
        if not r.adds_up:  # pragma: no cover - an accounting bug, never data
            raise AssertionError(f"import report of {pack.name} does not add up: {r.rows_read} != kept + dropped")
        result.reports[pack.name] = r
        _write_pack_files(result, pack, service_type)
    shutil.rmtree(staging.dir, ignore_errors=True)


def _locations(mapper: Mapper) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(mapper.keys.src), np.concatenate(mapper.keys.row)


def _rewrite_without(source: Path, target: Path, keep: np.ndarray) -> None:
    """Copy a platform's staged actions without the dropped duplicates (``keep``: one flag per staged row)."""
    writer = None
    offset = 0
    for batch in pq.ParquetFile(source).iter_batches(batch_size=CHUNK_ROWS):
        table = pa.Table.from_batches([batch]).filter(pa.array(keep[offset : offset + batch.num_rows]))
        offset += batch.num_rows
        if writer is None:
            writer = pq.ParquetWriter(target, table.schema, compression="zstd")
        writer.write_table(table)
    if writer is not None:
        writer.close()
    source.unlink()


def _write_reports(result: ImportResult, folder: Path, r: PackReport) -> None:
    (folder / "import_report.md").write_text(r.markdown(result), encoding="utf-8")
    (folder / "import_report.json").write_text(
        json.dumps(r.to_dict(result), indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def _validation(check) -> str:
    return "validation: " + check.summary_line().split(": ", 1)[-1]


def _write_pack_files(result: ImportResult, pack: _Pack, service_type: str) -> None:
    r = pack.report
    folder = pack.folder
    meta = {
        "contract": schema.CONTRACT_VERSION,
        "platform": {"name": pack.name, "service_type": service_type},
        "as_of": r.as_of,
        "time_resolution": "day",
        "time_basis": "decision",
        "tables": {"actions": "actions.parquet"},
        "import": _provenance(result),
    }
    (folder / "datapack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _provenance(result: ImportResult) -> dict[str, Any]:
    return {
        "source": "DSA statements of reasons",
        "mapping": result.mapping_version,
        "riskkit": __version__,
        "note": "application_date is the decision time (actioned_at, whole days); a statement of reasons has no "
        "detection time (detected_at empty, time_basis: decision); content_date is content_posted_at",
        "inputs": result.inputs,
        "report": "import_report.json",
    }


def _folder_name(name: str, used: set[str]) -> str:
    """A safe, unique folder name for a platform: ASCII letters, digits and dashes."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60] or "platform"
    candidate, i = base, 2
    while candidate in used:
        candidate, i = f"{base}-{i}", i + 1
    used.add(candidate)
    return candidate


# ------------------------------------------------------------------------------------------------ platform checks


def _namespace_flags(mapper: Mapper) -> dict[int, dict[int, str]]:
    """platform id -> {platform_uid shape id: reason} for shapes that are another platform's namespace only."""
    totals = mapper.read_by_platform
    names = mapper.platforms.values
    namespaces: dict[int, set[int]] = {}
    for (pid, sid), n in mapper.shape_counts.items():
        if n >= max(NAMESPACE_MIN, NAMESPACE_SHARE * totals[pid]):
            namespaces.setdefault(pid, set()).add(sid)
    owners: dict[int, list[int]] = {}
    for pid, shapes in namespaces.items():
        for sid in shapes:
            owners.setdefault(sid, []).append(pid)
    out: dict[int, dict[int, str]] = {}
    for (pid, sid), _n in mapper.shape_counts.items():
        if sid in namespaces.get(pid, set()):
            continue
        others = [names[q] for q in owners.get(sid, []) if q != pid]
        if others:
            out.setdefault(pid, {})[sid] = f"platform_uid namespace of {others[0]}"
    return out


def _tokens(name: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower())
    return {w for w in words if len(w) >= 4 and w not in _GENERIC}


def _host_flags(mapper: Mapper) -> dict[int, dict[int, str]]:
    """platform id -> {reference-URL host id: reason} for hosts naming another platform of the dump, not this one."""
    names = mapper.platforms.values
    tokens = {pid: _tokens(names[pid]) for pid in range(len(names))}
    out: dict[int, dict[int, str]] = {}
    for hid, host in enumerate(mapper.hosts.values):
        if not host:
            continue
        for pid in range(len(names)):
            if tokens[pid] and any(t in host for t in tokens[pid]):
                continue
            other = next((names[q] for q in range(len(names)) if q != pid and any(t in host for t in tokens[q])), None)
            if other:
                out.setdefault(pid, {})[hid] = f"decision_ground_reference_url host {host} names {other}"
    return out


# ------------------------------------------------------------------------------------------------ writing


def _publish(result: ImportResult, work: Path, target: Path) -> None:
    """Move the packs into place with one rename.

    They are not validated again here: every value comes from the mapping's closed vocabularies, ids are unique
    (duplicates dropped, conflicts refused), timestamps parsed and ordered — valid by construction, which the tests
    check for every shape of dump. Validation would hold the whole actions table in memory (3 GB for 5 M
    statements); ``riskkit import dsa`` validates each pack after the import, as ``riskkit validate`` does."""
    root = work / "packs"
    for r in result.reports.values():
        _write_reports(result, root / r.folder, r)
    if result.layout == "per_platform":
        (root / "import_report.md").write_text(result.markdown(), encoding="utf-8")
        (root / "import_report.json").write_text(
            json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
    if target.exists():
        target.rmdir()  # empty (checked before)
    root.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    for r in result.reports.values():
        r.folder = str(target / r.folder) if r.folder != "." else str(target)


def _check_into(pack: Path) -> dict[str, Any]:
    if not (pack / "datapack.yaml").is_file():
        raise ParameterError(f"--into {pack}: not a data pack (no datapack.yaml)")
    meta = yaml.safe_load((pack / "datapack.yaml").read_text(encoding="utf-8")) or {}
    if not isinstance(meta, dict):
        raise ParameterError(f"--into {pack}: datapack.yaml is not a mapping")
    declared = (meta.get("tables") or {}).get("actions") if isinstance(meta.get("tables"), dict) else None
    if declared or any((pack / f"actions{ext}").exists() for ext in (".csv", ".parquet")):
        raise ParameterError(
            f"--into {pack}: the pack already has an actions table; riskkit never overwrites it "
            "(import into a new pack with --out, or move the existing actions away first)"
        )
    return meta


def _link(source: Path, target: Path) -> None:
    """``target`` as the same file as ``source`` (a hard link, else a copy): the mirror is checked like a real pack,
    and a pack's files may not be symlinks leading out of it."""
    if source.is_dir():
        target.mkdir()
        for child in sorted(source.iterdir()):
            _link(child, target / child.name)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _merge_into(result: ImportResult, work: Path, pack: Path, meta: dict[str, Any], library: Library) -> None:
    """Add the imported actions to an existing pack — only after the whole pack, as it would be, validates."""
    from riskkit.pack import validate_datapack

    (r,) = result.reports.values()
    staged = work / "packs"
    own = (meta.get("platform") or {}).get("name") if isinstance(meta.get("platform"), dict) else None
    if own and own != r.platform:
        result.notes.append(f"the dump's platform_name {r.platform!r} differs from the pack's platform.name {own!r}")
    merged = dict(meta)
    merged["tables"] = {**(meta.get("tables") or {}), "actions": "actions.parquet"}
    merged["time_resolution"] = "day"
    merged["time_basis"] = "decision"
    merged["import"] = _provenance(result)
    current = _timestamp(meta.get("as_of"))
    imported = pd.Timestamp(r.as_of) if r.as_of else None
    if imported is not None and (current is None or current < imported):
        merged["as_of"] = imported.isoformat()
    # the pack as it would be: its own files (linked, never copied or changed) + the new actions and datapack.yaml
    mirror = work / "mirror"
    mirror.mkdir()
    for entry in sorted(pack.iterdir()):
        if entry.name not in ("datapack.yaml", "actions.parquet", "import_report.md", "import_report.json"):
            _link(entry, mirror / entry.name)
    _link(staged / "actions.parquet", mirror / "actions.parquet")
    (mirror / "datapack.yaml").write_text(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True), encoding="utf-8")
    check = validate_datapack(mirror, library=library)
    r.validation = _validation(check)
    if not check.ok:
        raise DsaImportError(
            f"--into {pack}: the pack would not be valid with the imported actions; nothing was written:\n"
            + check.format(max_per_kind=5)
        )
    _write_reports(result, staged, r)
    for name in ("actions.parquet", "import_report.md", "import_report.json"):
        if name != "actions.parquet" and (pack / name).exists():
            (pack / name).replace(pack / f"{name}.previous")
        shutil.move(str(staged / name), str(pack / name))
    tmp = pack / ".datapack.yaml.partial"
    tmp.write_text(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(pack / "datapack.yaml")
    shutil.rmtree(work, ignore_errors=True)
    r.folder = str(pack)


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    return ts if ts.tzinfo is not None else None
