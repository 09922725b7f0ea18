"""Map chunks of DSA statements of reasons to riskkit moderation actions, vectorised.

Nothing here loops over statements in Python. Every enumeration-like column is dictionary-encoded; the Python
work (which harm, which action, which unknown values) is done once per distinct value — or per distinct profile of
several columns, e.g. (category, category_specification, category_addition, matching text rule) — and spread back
to the rows with integer takes. Free text is matched with RE2 (Arrow) on each field's distinct values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.exceptions import FrameworkError, ParameterError
from riskkit.library import Library

MAPPING_ID = "dsa-import"
_LIST = re.compile(r'^\[\s*(?:"[^"\\]*"(?:\s*,\s*"[^"\\]*")*)?\s*\]$')
_BLANK = r"^\s*$"
_NAT = np.iinfo(np.int64).min
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
#: Staged columns that are not part of the actions table (dropped when the pack is written).
AUX = ("_platform", "_map", "_unknown", "_version", "_territory", "_shape", "_host", "_src", "_row", "_scope", "_day")


# ------------------------------------------------------------------------------------------------ the mapping


@dataclass(frozen=True)
class TextRule:
    ref_id: str
    harm: str
    pattern: str


@dataclass(frozen=True)
class Mapping:
    """``frameworks/dsa-import.yaml`` compiled for the importer (checked once when loaded)."""

    version: str
    full: tuple[str, ...]
    light_drops: tuple[str, ...]
    lists: tuple[str, ...]
    required: tuple[str, ...]
    text_fields: tuple[str, ...]
    precedence: tuple[str, ...]
    categories: dict[str, tuple[str | None, int | None]]
    keywords: dict[str, tuple[str | None, int | None]]
    text_rules: tuple[TextRule, ...]
    detection: dict[str, tuple[str, str]]
    decision_by: dict[str, str]
    actions: tuple[tuple[str, str], ...]
    v2_from_us: int
    territory_codes: frozenset[str]
    territory_hints: dict[str, str]
    eu_states: frozenset[str]
    grounds: dict[str, str]

    @property
    def content_columns(self) -> tuple[str, ...]:
        """The columns both dump variants carry: a statement's content for duplicate detection."""
        return tuple(c for c in self.full if c not in self.light_drops)

    @classmethod
    def from_library(cls, library: Library) -> Mapping:
        """The typed ``dsa_import_mapping`` framework compiled for the importer; its text rules must be RE2."""
        fw = library.dsa_import
        problems: list[str] = []
        rules = []
        for e in fw.text_rules:
            pattern = "|".join(f"(?:{p})" for p in e.patterns)
            try:
                pc.match_substring_regex(pa.array([""]), pattern, ignore_case=True)
            except pa.ArrowInvalid as exc:
                problems.append(
                    f"entry {e.ref_id!r} (text_rules): field 'patterns': not an RE2 regular expression ({exc})"
                )
                continue
            rules.append(TextRule(e.ref_id, e.harm, pattern))
        if problems:
            error = FrameworkError(f"{library.paths[fw.id]}: " + "; ".join(problems))
            error.problems = tuple(problems)
            raise error
        return cls(
            version=f"{fw.id} {fw.version}",
            full=tuple(fw.columns.full),
            light_drops=tuple(fw.columns.light_drops),
            lists=tuple(fw.columns.lists),
            required=tuple(fw.columns.required),
            text_fields=tuple(fw.text_fields),
            precedence=tuple(fw.harm_precedence),
            categories={e.ref_id: (e.harm, e.schema_) for e in fw.categories},
            keywords={e.ref_id: (e.harm, e.schema_) for e in fw.keywords},
            text_rules=tuple(rules),
            detection={e.ref_id: (e.automated, e.manual) for e in fw.detection},
            decision_by={e.ref_id: e.decision_by for e in fw.decision_by},
            actions=tuple((e.ref_id, e.action) for e in fw.actions),
            v2_from_us=int(pd.Timestamp(fw.schema_v2_from.isoformat(), tz="UTC").value // 1000),
            territory_codes=frozenset(fw.territory_codes.codes.split()),
            territory_hints=dict(fw.territory_codes.hints),
            eu_states=frozenset(fw.territory_codes.eu_member_states.split()),
            grounds={e.ref_id: e.ground for e in fw.decision_grounds},
        )

    def text_ranks(self, values: pa.Array) -> np.ndarray:
        """Index of the first text rule matching each value (-1: none), case-insensitive."""
        ranks = np.full(len(values), -1, dtype=np.int16)
        if len(values) == 0 or not self.text_rules:
            return ranks
        anything = "|".join(f"(?:{r.pattern})" for r in self.text_rules)
        hit_any = _np(pc.match_substring_regex(values, anything, ignore_case=True))
        candidates = np.flatnonzero(hit_any)
        if not len(candidates):
            return ranks
        sub = values.take(pa.array(candidates))
        open_ = np.ones(len(candidates), dtype=bool)
        for i, rule in enumerate(self.text_rules):
            hit = _np(pc.match_substring_regex(sub, rule.pattern, ignore_case=True)) & open_
            ranks[candidates[hit]] = i
            open_ &= ~hit
            if not open_.any():
                break
        return ranks

    def parse_territory(self, value: str | None) -> tuple[str, ...] | None:
        """``--territory``: None for ``all``, else the ISO 3166-1 alpha-2 codes (ParameterError if invalid)."""
        text = (value or "").strip()
        usage = "give ISO 3166-1 alpha-2 codes such as MY or MY,SG, or 'all'"
        if not text:
            raise ParameterError(f"--territory is empty: {usage}")
        if text.lower() == "all":
            return None
        codes = []
        for part in text.split(","):
            code = part.strip().upper()
            if not code:
                raise ParameterError(f"--territory {value!r}: an empty code in the list; {usage}")
            if code == "ALL":
                raise ParameterError(f"--territory {value!r}: 'all' cannot be combined with codes")
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ParameterError(f"--territory {value!r}: {part.strip()!r} is not a two-letter code; {usage}")
            if code not in self.territory_codes:
                hint = self.territory_hints.get(code)
                extra = f" (use {hint})" if hint else ""
                raise ParameterError(
                    f"--territory {value!r}: {code} is not an assigned ISO 3166-1 alpha-2 code{extra}; {usage}"
                )
            if code not in codes:
                codes.append(code)
        return tuple(codes)


# ------------------------------------------------------------------------------------------------ helpers


def _np(arr: Any) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def _encode(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(int32 codes per row, distinct values)."""
    d = pc.dictionary_encode(arr)
    if isinstance(d, pa.ChunkedArray):
        d = d.combine_chunks()
    return _np(d.indices).astype(np.int32, copy=False), d.dictionary


def _factorize(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label of each row's combination of ``codes`` (0, 1, … in order of appearance) and the first row of each."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        key = pd.factorize(key * (int(c.max(initial=0)) + 1) + c.astype(np.int64))[0]
    labels = pd.factorize(key)[0].astype(np.int64)
    first = np.unique(labels, return_index=True)[1]
    return labels, first


def parse_list(text: str) -> tuple[str, ...] | None:
    """A dump list cell (JSON array of enumeration strings) as a tuple; None if malformed; () if empty."""
    text = text.strip()
    if not text:
        return ()
    if not _LIST.match(text):
        return None
    return tuple(v for v in json.loads(text) if v)


def hash_strings(values: pa.Array) -> np.ndarray:
    """64-bit hash of each string (pandas' siphash of the UTF-8 bytes)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_array(_np(values.cast(pa.string())).astype(object), categorize=False)


def _timestamps_us(arr: pa.Array) -> np.ndarray:
    """Dump dates ('YYYY-MM-DD HH:MM:SS', also date-only or ISO 8601) as µs since the epoch, UTC; unreadable or
    empty = int64 min. Parsed by Arrow; only cells in neither dump format go through pandas (as distinct values)."""
    text = pc.utf8_trim_whitespace(arr)
    parsed = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    out = _np(pc.fill_null(parsed.cast(pa.int64()), _NAT)).astype(np.int64, copy=True)
    missing = (out == _NAT) & ~_np(pc.equal(text, ""))
    if missing.any():
        at = np.flatnonzero(missing)
        rest = text.take(pa.array(at))
        day = pc.strptime(rest, format="%Y-%m-%d", unit="us", error_is_null=True)
        got = _np(pc.fill_null(day.cast(pa.int64()), _NAT)).astype(np.int64, copy=True)
        still = got == _NAT
        if still.any():
            codes, values = _encode(rest.take(pa.array(np.flatnonzero(still))))
            iso = pd.to_datetime(
                pd.Series(values.to_pylist(), dtype=object), format="ISO8601", utc=True, errors="coerce"
            )
            got[still] = iso.dt.as_unit("us").array.asi8[codes]
        out[at] = got
    return out


def _join_present(parts: list[pa.Array], sep: str = " | ") -> pa.Array:
    """The non-empty cells of each row joined with ``sep`` (Arrow's null_handling='skip' drops all-null rows)."""
    out = parts[0]
    present = pc.not_equal(out, "")
    for part in parts[1:]:
        has = pc.not_equal(part, "")
        joined = pc.binary_join_element_wise(out, part, sep)
        out = pc.if_else(pc.and_(present, has), joined, pc.if_else(present, out, part))
        present = pc.or_(present, has)
    return pc.if_else(present, out, "")


def _nonblank(arr: pa.Array) -> pa.Array:
    """The column with empty cells as null (for 'first non-empty')."""
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


class Registry:
    """Stable small integer ids for values seen across chunks (id 0 can be reserved for 'none')."""

    def __init__(self, none: Any = None) -> None:
        self.values: list[Any] = []
        self.ids: dict[Any, int] = {}
        if none is not None:
            self.id(none)

    def id(self, value: Any) -> int:
        got = self.ids.get(value)
        if got is None:
            got = self.ids[value] = len(self.values)
            self.values.append(value)
        return got

    def ids_of(self, values: list[Any]) -> np.ndarray:
        return np.fromiter((self.id(v) for v in values), dtype=np.int32, count=len(values))


# ------------------------------------------------------------------------------------------------ per source


@dataclass
class SourceStats:
    """What one CSV chunk file (or Parquet file) held: variant, rows, schema versions and how they were decided."""

    name: str
    variant: str
    file: int = 0  # index of the input file it came from
    rows: int = 0
    versions: Counter = field(default_factory=Counter)  # (version, evidence) -> rows

    def to_dict(self) -> dict[str, Any]:
        v1 = sum(n for (v, _), n in self.versions.items() if v == 1)
        v2 = sum(n for (v, _), n in self.versions.items() if v == 2)
        schema_version = "v1+v2" if v1 and v2 else "v1" if v1 else "v2" if v2 else "none"
        return {
            "source": self.name,
            "variant": self.variant,
            "rows": self.rows,
            "schema": schema_version,
            "rows_v1": v1,
            "rows_v2": v2,
            "decided_by": {
                f"v{v} by {how}": n
                for (v, how), n in sorted(self.versions.items(), key=lambda kv: (kv[0][0], kv[0][1]))
            },
        }


# ------------------------------------------------------------------------------------------------ the mapper


@dataclass
class Keys:
    """Per staged statement, for duplicate detection and locations (26 bytes a statement)."""

    uuid: list[np.ndarray] = field(default_factory=list)
    puid: list[np.ndarray] = field(default_factory=list)
    platform: list[np.ndarray] = field(default_factory=list)
    src: list[np.ndarray] = field(default_factory=list)
    row: list[np.ndarray] = field(default_factory=list)


class _Chunk:
    """The columns of one chunk with their dictionary encodings, computed once and kept through row selections."""

    def __init__(self, cols: dict[str, pa.Array], n: int) -> None:
        self.cols, self.n = cols, n
        self._enc: dict[str, tuple[np.ndarray, pa.Array]] = {}
        self._values: dict[str, list[str]] = {}
        self._lists: dict[str, list[tuple[str, ...] | None]] = {}

    def enc(self, col: str) -> tuple[np.ndarray, pa.Array]:
        if col not in self._enc:
            self._enc[col] = _encode(self.cols[col])
        return self._enc[col]

    def codes(self, col: str) -> np.ndarray:
        return self.enc(col)[0]

    def values(self, col: str) -> list[str]:
        """The distinct values of ``col`` (stripped), indexed by its codes."""
        if col not in self._values:
            self._values[col] = [v.strip() for v in self.enc(col)[1].to_pylist()]
        return self._values[col]

    def lists(self, col: str) -> list[tuple[str, ...] | None]:
        """The distinct cells of a list column parsed (None = malformed), indexed by its codes."""
        if col not in self._lists:
            self._lists[col] = [parse_list(v) for v in self.values(col)]
        return self._lists[col]

    def select(self, mask: np.ndarray) -> _Chunk:
        if mask.all():
            return self
        at = pa.array(np.flatnonzero(mask))
        out = _Chunk({c: a.take(at) for c, a in self.cols.items()}, int(mask.sum()))
        out._enc = {c: (codes[mask], d) for c, (codes, d) in self._enc.items()}
        out._values, out._lists = dict(self._values), dict(self._lists)
        return out


class Mapper:
    """Maps chunks one after the other, keeping the registries and counts an import report needs."""

    def __init__(self, m: Mapping, territory: tuple[str, ...] | None, only: str | None, single: bool) -> None:
        self.m = m
        self.territory = territory
        self.only = only  # a platform_name to keep; None = every platform
        self.single = single  # --into: the dump must hold one platform
        self.platforms = Registry()
        self.read_by_platform: Counter = Counter()  # platform id -> rows read
        self.dropped: Counter = Counter()  # (platform id, reason) -> rows
        self.harm_map = Registry()  # (category, evidence, value, harm)
        self.unknown = Registry(none=())  # tuple of (field, value) pairs
        self.territories = Registry()  # tuple of codes
        self.shapes = Registry()
        self.shape_counts: Counter = Counter()  # (platform id, shape id) -> rows (every platform)
        self.hosts = Registry(none="")
        self.sources: list[SourceStats] = []
        self.keys = Keys()
        self.rows_read = 0

    def check_columns(self, source: str, names: list[str]) -> None:
        """Refuse a file with none of the statement columns: it is not a dump (a file with some of them is read,
        and its rows missing the others are dropped and counted)."""
        if not set(self.m.required) & set(names):
            from riskkit.importers.dsa_read import DsaImportError

            raise DsaImportError(
                f"{source}: not a DSA statements-of-reasons file (none of its columns is one of the dump's "
                f"{', '.join(self.m.required)}); nothing was written"
            )

    # -------------------------------------------------------------------------------- one chunk

    def map(self, source: str, t: pa.Table, first_row: int, file: int = 0) -> pa.Table | None:
        """The actions of the chunk's kept statements with the AUX columns; None when none is kept.

        ``first_row``: the file row of the chunk's first statement; ``file``: the index of its input file."""
        m = self.m
        if not self.sources or self.sources[-1].name != source:
            self.check_columns(source, t.column_names)
            variant = "full" if "decision_facts" in t.column_names else "light"
            self.sources.append(SourceStats(source, variant, file))
        stats = self.sources[-1]
        src = len(self.sources) - 1
        n = t.num_rows
        if n == 0:
            return None
        c = _Chunk({col: _single(t.column(col)) if col in t.column_names else _empty(n) for col in m.full}, n)
        self.rows_read += n
        stats.rows += n

        # platform of every row (every platform is counted, and its platform_uid shapes, for the namespace check)
        plat = self.platforms.ids_of(c.values("platform_name"))[c.codes("platform_name")]
        self.read_by_platform.update(dict(zip(*np.unique(plat, return_counts=True), strict=True)))
        if self.single:
            seen = [self.platforms.values[p] for p in self.read_by_platform if self.platforms.values[p]]
            if len(seen) > 1:
                raise _several(seen)
        prefix_codes, prefixes = _encode(pc.utf8_slice_codeunits(c.cols["platform_uid"], 0, 3))
        shapes = pc.replace_substring_regex(prefixes, "[0-9]", "9").to_pylist()
        shape = self.shapes.ids_of(shapes)[prefix_codes]
        key, count = np.unique(plat.astype(np.int64) << 32 | shape.astype(np.int64), return_counts=True)
        for k, cnt in zip(key.tolist(), count.tolist(), strict=True):
            self.shape_counts[(k >> 32, k & 0xFFFFFFFF)] += cnt
        version = self._versions(c, stats)
        rows = first_row + np.arange(n)

        # the wanted platform's rows
        if self.only is not None:
            wanted = plat == self.platforms.id(self.only)
            if not wanted.any():
                return None
            c = c.select(wanted)
            plat, shape, version, rows = plat[wanted], shape[wanted], version[wanted], rows[wanted]

        ok, dates = self._validate(c, plat)
        if not ok.any():
            return None
        if not ok.all():
            c = c.select(ok)
            plat, shape, rows, version = plat[ok], shape[ok], rows[ok], version[ok]
            dates = {k: v[ok] for k, v in dates.items()}
        return self._mapped(c, plat, shape, rows, version, dates, src)

    # -------------------------------------------------------------------------------- schema version

    def _versions(self, c: _Chunk, stats: SourceStats) -> np.ndarray:
        """Schema version of each row: v1-only or v2-only values decide, else the creation date."""
        m = self.m

        def marks(col: str, table: dict, is_list: bool) -> np.ndarray:
            distinct = c.lists(col) if is_list else [(v,) for v in c.values(col)]
            out = np.zeros(len(distinct), dtype=np.int8)
            for i, items in enumerate(distinct):
                for item in items or ():
                    version = table.get(item, (None, None))[1]
                    if version:
                        out[i] |= version  # 1 = v1 only, 2 = v2 only, 3 = both
            return out[c.codes(col)]

        mark = marks("category", m.categories, False)
        mark |= marks("category_addition", m.categories, True)
        mark |= marks("category_specification", m.keywords, True)
        when = _timestamps_us(c.cols["created_at"])
        missing = when == _NAT
        if missing.any():
            when = np.where(missing, _timestamps_us(c.cols["application_date"]), when)
        by_date = np.where((when != _NAT) & (when < m.v2_from_us), 1, 2)
        version = np.where(mark == 0, by_date, np.where(mark == 1, 1, 2))
        how = np.where(mark == 0, 0, np.where(mark == 3, 2, 1))
        labels = ("date", "values", "values of both schemas")
        key, count = np.unique(version * 4 + how, return_counts=True)
        for k, cnt in zip(key.tolist(), count.tolist(), strict=True):
            stats.versions[(k // 4, labels[k % 4])] += cnt
        return version

    # -------------------------------------------------------------------------------- validity

    def _validate(self, c: _Chunk, plat: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Rows to keep, and the parsed dates; every dropped row is counted under its first reason."""
        m = self.m
        reason = np.zeros(c.n, dtype=np.int16)
        reasons: list[str] = []

        def flag(mask: np.ndarray, why: str) -> None:
            reasons.append(why)
            reason[(reason == 0) & mask] = len(reasons)

        for col in m.required:
            flag(_np(pc.match_substring_regex(c.cols[col], _BLANK)), f"invalid: empty required field {col}")
        no_decision = np.ones(c.n, dtype=bool)
        for col in DECISIONS:
            if col in m.lists:  # a malformed list is reported as such, not as "no decision"
                filled = np.array([v is None or bool(v) for v in c.lists(col)], dtype=bool)[c.codes(col)]
            else:
                filled = np.array([bool(v) for v in c.values(col)], dtype=bool)[c.codes(col)]
            no_decision &= ~filled
        flag(no_decision, "invalid: no decision_* field filled")
        for col in m.lists:
            flag(
                np.array([v is None for v in c.lists(col)], dtype=bool)[c.codes(col)],
                f"invalid: malformed JSON list in {col}",
            )
        dates = {}
        for col in ("content_date", "application_date"):
            us = _timestamps_us(c.cols[col])
            blank = _np(pc.match_substring_regex(c.cols[col], _BLANK))
            flag((us == _NAT) & ~blank, f"invalid: unreadable {col}")
            dates[col] = us
        both = (dates["content_date"] != _NAT) & (dates["application_date"] != _NAT)
        flag(
            both & (dates["application_date"] < dates["content_date"]), "invalid: application_date before content_date"
        )
        if reason.any():
            key, count = np.unique(plat.astype(np.int64) * 64 + reason, return_counts=True)
            for k, cnt in zip(key.tolist(), count.tolist(), strict=True):
                if k % 64:
                    self.dropped[(k // 64, reasons[k % 64 - 1])] += cnt
        return reason == 0, dates

    # -------------------------------------------------------------------------------- mapping

    def _mapped(
        self,
        c: _Chunk,
        plat: np.ndarray,
        shape: np.ndarray,
        rows: np.ndarray,
        version: np.ndarray,
        dates: dict[str, np.ndarray],
        src: int,
    ) -> pa.Table:
        m = self.m
        n = c.n
        lists = {col: [v or () for v in c.lists(col)] for col in m.lists}

        # harm: (category, specification, addition, first matching text rule)
        rank = np.full(n, np.iinfo(np.int16).max, dtype=np.int16)
        for fld in m.text_fields:
            codes, values = c.enc(fld)
            r = m.text_ranks(values)[codes]
            rank = np.where((r >= 0) & (r < rank), r, rank)
        rank = np.where(rank == np.iinfo(np.int16).max, -1, rank)
        cat_codes, spec_codes, add_codes = (
            c.codes("category"),
            c.codes("category_specification"),
            c.codes("category_addition"),
        )
        cats = c.values("category")
        labels, first = _factorize(cat_codes, spec_codes, add_codes, rank.astype(np.int64) + 1)
        harm_of, map_of, source_category, harm_unknown = [], [], [], []
        for row in first.tolist():
            h, mid, sc, unk = self._harm(
                cats[cat_codes[row]],
                lists["category_specification"][spec_codes[row]],
                lists["category_addition"][add_codes[row]],
                int(rank[row]),
            )
            harm_of.append(h)
            map_of.append(mid)
            source_category.append(sc)
            harm_unknown.append(unk)
        at = pa.array(labels)
        harm = pa.array(harm_of, pa.string()).take(at)
        map_id = np.array(map_of, dtype=np.int32)[labels]
        src_cat = pa.array(source_category, pa.string()).take(at)

        # detection source (source_type x automated_detection), decision maker
        st_codes, ad_codes = c.codes("source_type"), c.codes("automated_detection")
        d_labels, d_first = _factorize(st_codes, ad_codes)
        st_list, ad_list = c.values("source_type"), c.values("automated_detection")
        det, det_unknown = [], []
        for row in d_first.tolist():
            value = st_list[st_codes[row]]
            rule = m.detection.get(value)
            automated = ad_list[ad_codes[row]].lower() in ("yes", "true", "1")
            det.append((rule[0] if automated else rule[1]) if rule else "user_report")
            det_unknown.append(() if rule else (("source_type", value),))
        detection = pa.array(det, pa.string()).take(pa.array(d_labels))
        dec_codes, dec_list = c.codes("automated_decision"), c.values("automated_decision")
        decider = pa.array([m.decision_by.get(v, "hybrid") for v in dec_list], pa.string()).take(pa.array(dec_codes))
        dec_unknown = [() if v in m.decision_by else (("automated_decision", v),) for v in dec_list]

        # action, by precedence over the four decision fields
        vis_codes = c.codes("decision_visibility")
        a_labels, a_first = _factorize(vis_codes, *(c.codes(col) for col in DECISIONS[1:]))
        known = {k for k, _ in m.actions}
        act, act_unknown = [], []
        for row in a_first.tolist():
            present = set(lists["decision_visibility"][vis_codes[row]])
            present |= {c.values(col)[c.codes(col)[row]] for col in DECISIONS[1:]} - {""}
            act.append(next((a for k, a in m.actions if k in present), "restrict"))
            act_unknown.append(tuple(("decision", v) for v in sorted(present - known)))
        action = pa.array(act, pa.string()).take(pa.array(a_labels))

        # surface, Malaysian scope
        surfaces = [v[0].removeprefix("CONTENT_TYPE_").lower() if v else "unknown" for v in lists["content_type"]]
        surface = pa.array(surfaces, pa.string()).take(pa.array(c.codes("content_type")))
        ts_codes, scopes = c.codes("territorial_scope"), lists["territorial_scope"]
        if self.territory is None:
            in_scope = np.ones(n, dtype=bool)
        else:
            wanted = set(self.territory)
            in_scope = np.array([bool(wanted.intersection(v)) for v in scopes], dtype=bool)[ts_codes]
        territory_id = self.territories.ids_of([tuple(sorted(v)) for v in scopes])[ts_codes]
        # EU scope: unknown (null) where the dump has no territorial_scope (light dumps drop it)
        in_eu = pa.array([bool(m.eu_states.intersection(v)) if v else None for v in scopes], pa.bool_())
        in_eu = in_eu.take(pa.array(ts_codes))
        ground = pa.array([m.grounds.get(v) for v in c.values("decision_ground")], pa.string())
        ground = ground.take(pa.array(c.codes("decision_ground")))

        # unknown values (rare): one id per combination of the four profiles, only on rows with any
        u_ids = np.zeros(n, dtype=np.int32)
        any_unknown = (
            np.array([bool(u) for u in harm_unknown])[labels]
            | np.array([bool(u) for u in det_unknown])[d_labels]
            | np.array([bool(u) for u in dec_unknown], dtype=bool)[dec_codes]
            | np.array([bool(u) for u in act_unknown])[a_labels]
        )
        if any_unknown.any():
            where = np.flatnonzero(any_unknown)
            u_labels, u_first = _factorize(
                labels[where], d_labels[where], dec_codes[where].astype(np.int64), a_labels[where]
            )
            profiles = []
            for r in where[u_first].tolist():
                pairs = {*harm_unknown[labels[r]], *det_unknown[d_labels[r]], *dec_unknown[dec_codes[r]]}
                profiles.append(self.unknown.id(tuple(sorted(pairs | set(act_unknown[a_labels[r]])))))
            u_ids[where] = np.array(profiles, dtype=np.int32)[u_labels]

        # platform consistency: the host of the reference URL
        host = self.hosts.ids_of([_host(v) for v in c.values("decision_ground_reference_url")])[
            c.codes("decision_ground_reference_url")
        ]
        cols = c.cols
        rationale = _join_present(
            [cols["decision_facts"], cols["illegal_content_explanation"], cols["incompatible_content_explanation"]]
        )
        policy = pc.coalesce(
            _nonblank(cols["illegal_content_legal_ground"]),
            _nonblank(cols["incompatible_content_ground"]),
            _nonblank(cols["decision_ground"]),
        ).fill_null("")
        ts = pa.timestamp("us", tz="UTC")

        def stamp(us: np.ndarray) -> pa.Array:
            return pa.array(us, type=pa.int64(), mask=us == _NAT).cast(ts)

        decided = dates["application_date"]
        table = pa.table(
            {
                "action_id": cols["platform_uid"],
                "category": harm,
                "surface": surface,
                "detected_at": pa.nulls(n, ts),  # a statement of reasons has no detection time
                "actioned_at": stamp(decided),
                "detection_source": detection,
                "decision_by": decider,
                "action": action,
                "in_malaysia": pa.array(in_scope, pa.bool_()),
                "in_eu": in_eu,
                "decision_ground": ground,
                "rationale": rationale,
                "policy_ref": policy,
                "content_id": cols["uuid"],
                "source_category": src_cat,
                "content_posted_at": stamp(dates["content_date"]),
                "_platform": pa.array(plat.astype(np.int32)),
                "_map": pa.array(map_id),
                "_unknown": pa.array(u_ids),
                "_version": pa.array(version.astype(np.int8)),
                "_territory": pa.array(territory_id),
                "_shape": pa.array(shape.astype(np.int32)),
                "_host": pa.array(host),
                "_src": pa.array(np.full(n, src, dtype=np.int32)),
                "_row": pa.array(rows.astype(np.int32)),
                "_scope": pa.array(in_scope.astype(np.int8)),
                "_day": pa.array((decided // 86_400_000_000).astype(np.int32)),
            }
        )
        self._keys(cols, plat, rows, src)
        return table

    def _harm(
        self, category: str, keywords: tuple[str, ...], additions: tuple[str, ...], rank: int
    ) -> tuple[str, int, str, tuple]:
        """(harm, mapping-table id, source_category, unknown values) of one profile."""
        m = self.m
        unknown = []
        best: tuple[int, str, str] | None = None  # (precedence, harm, keyword)
        for k in keywords:
            rule = m.keywords.get(k)
            if rule is None:
                unknown.append(("category_specification", k))
                continue
            if rule[0] is not None:
                p = m.precedence.index(rule[0])
                if best is None or p < best[0]:
                    best = (p, rule[0], k)
        if category not in m.categories:
            unknown.append(("category", category))
        for a in additions:
            if a not in m.categories:
                unknown.append(("category_addition", a))
        if best is not None:
            evidence, value, harm = "keyword", best[2], best[1]
        elif rank >= 0:
            rule = m.text_rules[rank]
            evidence, value, harm = "text", rule.ref_id, rule.harm
        elif m.categories.get(category, (None, None))[0] is not None:
            evidence, value, harm = "category", category, m.categories[category][0]
        else:
            extra = [(m.precedence.index(h), h, a) for a in additions if (h := m.categories.get(a, (None,))[0])]
            if extra:
                _, harm, value = min(extra)
                evidence = "category_addition"
            else:
                evidence, value, harm = "unresolved", category, "other"
        source_category = category + ("/" + ";".join(keywords) if keywords else "")
        mid = self.harm_map.id((category, evidence, value, harm))
        return harm, mid, source_category, tuple(sorted(set(unknown)))

    # -------------------------------------------------------------------------------- keys

    def _keys(self, cols: dict[str, pa.Array], plat: np.ndarray, rows: np.ndarray, src: int) -> None:
        """Hashes of uuid and (platform, platform_uid); the content is compared only for repeated uuids, in a second
        pass over their sources (see ``dsa._deduplicate``)."""
        k = self.keys
        k.uuid.append(hash_strings(cols["uuid"]))
        k.puid.append(hash_strings(cols["platform_uid"]) ^ (plat.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
        k.platform.append(plat.astype(np.uint16))
        k.src.append(np.full(len(plat), src, dtype=np.uint32))
        k.row.append(rows.astype(np.uint32))


def _single(col: pa.ChunkedArray) -> pa.Array:
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _empty(n: int) -> pa.Array:
    return pa.repeat(pa.scalar("", pa.string()), n)


def _host(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        return (urlsplit(url if "://" in url else "//" + url).hostname or "").lower()
    except ValueError:
        return ""


def _several(names: list[str]) -> Exception:
    from riskkit.importers.dsa_read import DsaImportError

    listed = ", ".join(repr(n) for n in names[:10])
    return DsaImportError(
        f"--into adds one platform's statements, and the dump holds several ({listed}…); "
        "choose one with --platform (nothing was written)"
    )
