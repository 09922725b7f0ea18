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

from riskkit import schema
from riskkit.exceptions import FrameworkError, ParameterError
from riskkit.framework import Library

MAPPING_ID = "dsa-import"
_LIST = re.compile(r'^\[\s*(?:"[^"\\]*"(?:\s*,\s*"[^"\\]*")*)?\s*\]$')
_BLANK = r"^\s*$"
_NAT = np.iinfo(np.int64).min
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
#: Staged columns that are not part of the actions table (dropped when the pack is written).
AUX = ("_platform", "_map", "_unknown", "_version", "_territory", "_shape", "_host", "_src", "_row")


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

    @property
    def content_columns(self) -> tuple[str, ...]:
        """The columns both dump variants carry: a statement's content for duplicate detection."""
        return tuple(c for c in self.full if c not in self.light_drops)

    @classmethod
    def from_library(cls, library: Library) -> Mapping:
        fw = library.get(MAPPING_ID)
        problems: list[str] = []
        harms = set(schema.HARM_CATEGORIES)

        def harm_of(section: str, e) -> tuple[str | None, int | None]:
            harm, version = e.data.get("harm"), e.data.get("schema")
            if harm is not None and harm not in harms:
                problems.append(f"{section} {e.ref_id}: harm {harm!r} is not a riskkit harm key")
            if version not in (None, 1, 2):
                problems.append(f"{section} {e.ref_id}: schema must be 1 or 2, got {version!r}")
            return harm, version

        categories = {e.ref_id: harm_of("categories", e) for e in fw.entries("categories")}
        keywords = {e.ref_id: harm_of("keywords", e) for e in fw.entries("keywords")}
        rules = []
        for e in fw.entries("text_rules"):
            harm, _ = harm_of("text_rules", e)
            patterns = e.data.get("patterns") or []
            if harm is None or not patterns or not all(isinstance(p, str) and p for p in patterns):
                problems.append(f"text_rules {e.ref_id}: needs a harm and a non-empty list of patterns")
                continue
            pattern = "|".join(f"(?:{p})" for p in patterns)
            try:
                pc.match_substring_regex(pa.array([""]), pattern, ignore_case=True)
            except pa.ArrowInvalid as exc:
                problems.append(f"text_rules {e.ref_id}: not an RE2 regular expression ({exc})")
                continue
            rules.append(TextRule(e.ref_id, harm, pattern))
        precedence = tuple(fw.raw.get("harm_precedence") or ())
        if sorted(precedence) != sorted(harms):
            problems.append("harm_precedence must list every riskkit harm key once")
        detection = {e.ref_id: (e.data.get("automated"), e.data.get("manual")) for e in fw.entries("detection")}
        for ref, pair in detection.items():
            if not set(pair) <= set(schema.DETECTION_SOURCES):
                problems.append(f"detection {ref}: {pair} must be detection sources")
        decision_by = {e.ref_id: e.data.get("decision_by") for e in fw.entries("decision_by")}
        if not set(decision_by.values()) <= set(schema.DECISION_MAKERS):
            problems.append("decision_by values must be riskkit decision makers")
        actions = tuple((e.ref_id, e.data.get("action")) for e in fw.entries("actions"))
        if not {a for _, a in actions} <= set(schema.ACTIONS):
            problems.append("actions must map to riskkit actions")
        columns = fw.raw.get("columns") or {}
        territory = fw.raw.get("territory_codes") or {}
        if problems:
            error = FrameworkError(f"{fw.path}: " + "; ".join(problems))
            error.problems = tuple(problems)
            raise error
        return cls(
            version=f"{fw.id} {fw.version}",
            full=tuple(columns["full"]),
            light_drops=tuple(columns["light_drops"]),
            lists=tuple(columns["lists"]),
            required=tuple(columns["required"]),
            text_fields=tuple(fw.raw["text_fields"]),
            precedence=precedence,
            categories=categories,
            keywords=keywords,
            text_rules=tuple(rules),
            detection=detection,
            decision_by=decision_by,
            actions=actions,
            v2_from_us=int(pd.Timestamp(str(fw.raw["schema_v2_from"]), tz="UTC").value // 1000),
            territory_codes=frozenset(str(territory.get("codes", "")).split()),
            territory_hints=dict(territory.get("hints") or {}),
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


def _timestamps_us(values: list[str]) -> np.ndarray:
    """Dump dates ('YYYY-MM-DD HH:MM:SS', also date-only or ISO 8601) as µs since the epoch, UTC; NaT = int64 min."""
    s = pd.Series(values, dtype=object).str.strip()
    parsed = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S", utc=True, errors="coerce")
    for fmt in ("%Y-%m-%d", "ISO8601"):
        missing = parsed.isna() & (s != "")
        if not missing.any():
            break
        parsed = parsed.where(~missing, pd.to_datetime(s.where(missing, ""), format=fmt, utc=True, errors="coerce"))
    out = parsed.dt.as_unit("us").array.asi8.copy()
    return out


def _join_present(parts: list[pa.Array], sep: str = " | ") -> pa.Array:
    """The non-blank cells of each row joined with ``sep`` (Arrow's null_handling='skip' drops all-null rows)."""
    out = parts[0]
    present = pc.invert(pc.match_substring_regex(out, _BLANK))
    for part in parts[1:]:
        has = pc.invert(pc.match_substring_regex(part, _BLANK))
        joined = pc.binary_join_element_wise(out, part, sep)
        out = pc.if_else(pc.and_(present, has), joined, pc.if_else(present, out, part))
        present = pc.or_(present, has)
    return pc.if_else(present, out, "")


def _nonblank(arr: pa.Array) -> pa.Array:
    """The column with blank cells as null (for 'first non-empty' and 'join the non-empty')."""
    return pc.if_else(pc.match_substring_regex(arr, _BLANK), pa.scalar(None, pa.string()), arr)


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


class Mapper:
    """Maps chunks one after the other, keeping the registries and counts an import report needs."""

    def __init__(self, m: Mapping, territory: tuple[str, ...] | None, only: str | None, single: bool) -> None:
        self.m = m
        self.territory = territory
        self.only = only  # a platform_name to keep; None = every platform
        self.single = single  # --into: the dump must hold one platform
        self.platforms = Registry()
        self.read_by_platform: Counter = Counter()  # platform id -> rows read
        self.dropped: Counter = Counter()  # (platform id or -1, reason) -> rows
        self.harm_map = Registry()  # (category, evidence, value, harm)
        self.unknown = Registry(none=())  # tuple of (field, value) pairs
        self.territories = Registry()  # tuple of codes
        self.shapes = Registry()
        self.shape_counts: Counter = Counter()  # (platform id, shape id) -> rows (every platform)
        self.hosts = Registry(none="")
        self.sources: list[SourceStats] = []
        self.keys = Keys()
        self.rows_read = 0
        self._text_rule_ids = [r.ref_id for r in m.text_rules]

    # -------------------------------------------------------------------------------- one chunk

    def map(self, source: str, t: pa.Table, first_row: int, file: int = 0) -> pa.Table | None:
        """The staged actions (with the AUX columns) of the chunk's kept statements; None when none is kept.

        ``first_row``: the file row of the chunk's first statement; ``file``: the index of its input file."""
        m = self.m
        if not self.sources or self.sources[-1].name != source:
            variant = "full" if "decision_facts" in t.column_names else "light"
            self.sources.append(SourceStats(source, variant, file))
        stats = self.sources[-1]
        src = len(self.sources) - 1
        n = t.num_rows
        if n == 0:
            return None
        cols = {c: _single(t.column(c)) if c in t.column_names else _empty(n) for c in m.full}
        self.rows_read += n
        stats.rows += n

        # platform of every row (every platform is counted, and its platform_uid shapes, for the namespace check)
        codes, names = _encode(cols["platform_name"])
        plat = self.platforms.ids_of([s.strip() for s in names.to_pylist()])[codes]
        self.read_by_platform.update(dict(zip(*np.unique(plat, return_counts=True), strict=True)))
        shape_codes, shapes = _encode(
            pc.replace_substring_regex(pc.utf8_slice_codeunits(cols["platform_uid"], 0, 3), "[0-9]", "9")
        )
        shape = self.shapes.ids_of(shapes.to_pylist())[shape_codes]
        key, count = np.unique(plat.astype(np.int64) << 32 | shape.astype(np.int64), return_counts=True)
        for k, c in zip(key.tolist(), count.tolist(), strict=True):
            self.shape_counts[(k >> 32, k & 0xFFFFFFFF)] += c
        version = self._versions(cols, stats)
        rows = first_row + np.arange(n)
        if self.single:
            seen = [self.platforms.values[p] for p in self.read_by_platform if self.platforms.values[p]]
            if len(seen) > 1:
                raise _several(seen)

        # the wanted platform's rows
        if self.only is not None:
            wanted = plat == self.platforms.id(self.only)
            if not wanted.any():
                return None
            if not wanted.all():
                sel = pa.array(np.flatnonzero(wanted))
                cols = {c: a.take(sel) for c, a in cols.items()}
                plat, shape, version = plat[wanted], shape[wanted], version[wanted]
                rows = rows[wanted]

        ok, dates = self._validate(cols, plat)
        if not ok.all():
            if not ok.any():
                return None
            sel = pa.array(np.flatnonzero(ok))
            cols = {c: a.take(sel) for c, a in cols.items()}
            plat, shape, rows, version = plat[ok], shape[ok], rows[ok], version[ok]
            dates = {k: v[ok] for k, v in dates.items()}
        return self._mapped(cols, plat, shape, rows, version, dates, src)

    # -------------------------------------------------------------------------------- schema version

    def _versions(self, cols: dict[str, pa.Array], stats: SourceStats) -> np.ndarray:
        """Schema version of each row: v1-only or v2-only values decide, else the creation date."""
        m = self.m

        def marks(arr: pa.Array, table: dict, is_list: bool) -> np.ndarray:
            codes, values = _encode(arr)
            out = np.zeros(len(values), dtype=np.int8)
            for i, v in enumerate(values.to_pylist()):
                items = (parse_list(v) or ()) if is_list else (v.strip(),)
                for item in items:
                    version = table.get(item, (None, None))[1]
                    if version:
                        out[i] |= version  # 1 = v1 only, 2 = v2 only, 3 = both
            return out[codes]

        mark = marks(cols["category"], m.categories, False)
        mark |= marks(cols["category_addition"], m.categories, True)
        mark |= marks(cols["category_specification"], m.keywords, True)
        when = self._dates(cols["created_at"])
        missing = when == _NAT
        if missing.any():
            when = np.where(missing, self._dates(cols["application_date"]), when)
        by_date = np.where((when != _NAT) & (when < m.v2_from_us), 1, 2)
        version = np.where(mark == 0, by_date, np.where(mark == 1, 1, 2))
        how = np.where(mark == 0, 0, np.where(mark == 3, 2, 1))
        labels = ("date", "values", "values of both schemas")
        key, count = np.unique(version * 4 + how, return_counts=True)
        for k, c in zip(key.tolist(), count.tolist(), strict=True):
            stats.versions[(k // 4, labels[k % 4])] += c
        return version

    def _dates(self, arr: pa.Array) -> np.ndarray:
        codes, values = _encode(arr)
        return _timestamps_us(values.to_pylist())[codes]

    # -------------------------------------------------------------------------------- validity

    def _validate(self, cols: dict[str, pa.Array], plat: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Rows to keep, and the parsed dates; every dropped row is counted under its first reason."""
        m = self.m
        n = len(plat)
        reason = np.zeros(n, dtype=np.int16)
        reasons: list[str] = []

        def flag(mask: np.ndarray, why: str) -> None:
            reasons.append(why)
            reason[(reason == 0) & mask] = len(reasons)

        for col in m.required:
            flag(_np(pc.match_substring_regex(cols[col], _BLANK)), f"invalid: empty required field {col}")
        parsed: dict[str, tuple[np.ndarray, list]] = {}
        for col in m.lists:
            codes, values = _encode(cols[col])
            lists = [parse_list(v) for v in values.to_pylist()]
            parsed[col] = (codes, lists)
        no_decision = np.ones(n, dtype=bool)
        for col in DECISIONS:
            if col in parsed:
                codes, lists = parsed[col]  # a malformed list is reported as such, not as "no decision"
                filled = np.array([v is None or bool(v) for v in lists], dtype=bool)[codes]
            else:
                filled = ~_np(pc.match_substring_regex(cols[col], _BLANK))
            no_decision &= ~filled
        flag(no_decision, "invalid: no decision_* field filled")
        for col in m.lists:
            codes, lists = parsed[col]
            flag(np.array([v is None for v in lists], dtype=bool)[codes], f"invalid: malformed JSON list in {col}")
        dates = {}
        for col in ("content_date", "application_date"):
            codes, values = _encode(cols[col])
            text = values.to_pylist()
            us = _timestamps_us(text)
            bad = np.array([u == _NAT and t.strip() != "" for u, t in zip(us, text, strict=True)], dtype=bool)
            flag(bad[codes], f"invalid: unreadable {col}")
            dates[col] = us[codes]
        both = (dates["content_date"] != _NAT) & (dates["application_date"] != _NAT)
        flag(
            both & (dates["application_date"] < dates["content_date"]), "invalid: application_date before content_date"
        )
        if reason.any():
            key, count = np.unique(plat.astype(np.int64) * 64 + reason, return_counts=True)
            for k, c in zip(key.tolist(), count.tolist(), strict=True):
                if k % 64:
                    self.dropped[(k // 64, reasons[k % 64 - 1])] += c
        return reason == 0, dates

    # -------------------------------------------------------------------------------- mapping

    def _mapped(
        self,
        cols: dict[str, pa.Array],
        plat: np.ndarray,
        shape: np.ndarray,
        rows: np.ndarray,
        version: np.ndarray,
        dates: dict[str, np.ndarray],
        src: int,
    ) -> pa.Table:
        m = self.m
        n = len(plat)
        # the lists were parsed on the rows before the validity filter: re-encode on the kept rows
        enc = {c: _encode(cols[c]) for c in ("category", *m.lists, "source_type", "automated_detection")}
        enc["automated_decision"] = _encode(cols["automated_decision"])
        for c in ("decision_monetary", "decision_provision", "decision_account"):
            enc[c] = _encode(cols[c])
        lists = {c: [parse_list(v) or () for v in enc[c][1].to_pylist()] for c in m.lists}

        # harm: (category, specification, addition, first matching text rule)
        rank = np.full(n, np.iinfo(np.int16).max, dtype=np.int16)
        for fld in m.text_fields:
            codes, values = _encode(cols[fld])
            r = m.text_ranks(values)[codes]
            rank = np.where((r >= 0) & (r < rank), r, rank)
        rank = np.where(rank == np.iinfo(np.int16).max, -1, rank)
        cat_codes, cat_values = enc["category"]
        cats = [v.strip() for v in cat_values.to_pylist()]
        spec_codes = enc["category_specification"][0]
        add_codes = enc["category_addition"][0]
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
        harm = pa.array(harm_of, pa.string()).take(pa.array(labels))
        map_id = np.array(map_of, dtype=np.int32)[labels]
        src_cat = pa.array(source_category, pa.string()).take(pa.array(labels))

        # detection source (source_type x automated_detection), decision maker
        st_codes, st_values = enc["source_type"]
        ad_codes, ad_values = enc["automated_detection"]
        d_labels, d_first = _factorize(st_codes, ad_codes)
        st_list, ad_list = [v.strip() for v in st_values.to_pylist()], ad_values.to_pylist()
        det, det_unknown = [], []
        for row in d_first.tolist():
            value = st_list[st_codes[row]]
            rule = m.detection.get(value)
            automated = ad_list[ad_codes[row]].strip().lower() in ("yes", "true", "1")
            det.append((rule[0] if automated else rule[1]) if rule else "user_report")
            det_unknown.append(() if rule else (("source_type", value),))
        detection = pa.array(det, pa.string()).take(pa.array(d_labels))
        dec_codes, dec_values = enc["automated_decision"]
        dec_list = [v.strip() for v in dec_values.to_pylist()]
        decider = pa.array([m.decision_by.get(v, "hybrid") for v in dec_list], pa.string()).take(pa.array(dec_codes))
        dec_unknown = [() if v in m.decision_by else (("automated_decision", v),) for v in dec_list]

        # action, by precedence over the four decision fields
        vis_codes = enc["decision_visibility"][0]
        a_labels, a_first = _factorize(vis_codes, *(enc[c][0] for c in DECISIONS[1:]))
        known = {k for k, _ in m.actions}
        other_values = {c: [v.strip() for v in enc[c][1].to_pylist()] for c in DECISIONS[1:]}
        act, act_unknown = [], []
        for row in a_first.tolist():
            present = set(lists["decision_visibility"][vis_codes[row]])
            present |= {other_values[c][enc[c][0][row]] for c in DECISIONS[1:]} - {""}
            act.append(next((a for k, a in m.actions if k in present), "restrict"))
            act_unknown.append(tuple(("decision", v) for v in sorted(present - known)))
        action = pa.array(act, pa.string()).take(pa.array(a_labels))

        # surface, Malaysian scope
        ct_codes = enc["content_type"][0]
        surfaces = [v[0].removeprefix("CONTENT_TYPE_").lower() if v else "unknown" for v in lists["content_type"]]
        surface = pa.array(surfaces, pa.string()).take(pa.array(ct_codes))
        ts_codes = enc["territorial_scope"][0]
        scopes = lists["territorial_scope"]
        if self.territory is None:
            in_scope = np.ones(n, dtype=bool)
        else:
            wanted = set(self.territory)
            in_scope = np.array([bool(wanted.intersection(v)) for v in scopes], dtype=bool)[ts_codes]
        territory_id = self.territories.ids_of([tuple(sorted(v)) for v in scopes])[ts_codes]

        # unknown values (rare): one id per combination of the four profiles, only on rows with any
        u_ids = np.zeros(n, dtype=np.int32)
        any_unknown = (
            np.array([bool(u) for u in harm_unknown])[labels]
            | np.array([bool(u) for u in det_unknown])[d_labels]
            | np.array([bool(u) for u in dec_unknown], dtype=bool)[dec_codes]
            | np.array([bool(u) for u in act_unknown])[a_labels]
        )
        if any_unknown.any():
            at = np.flatnonzero(any_unknown)
            u_labels, u_first = _factorize(labels[at], d_labels[at], dec_codes[at].astype(np.int64), a_labels[at])
            profiles = []
            for r in at[u_first].tolist():
                pairs = {*harm_unknown[labels[r]], *det_unknown[d_labels[r]], *dec_unknown[dec_codes[r]]}
                profiles.append(self.unknown.id(tuple(sorted(pairs | set(act_unknown[a_labels[r]])))))
            u_ids[at] = np.array(profiles, dtype=np.int32)[u_labels]

        # platform consistency: the host of the reference URL
        h_codes, h_values = _encode(cols["decision_ground_reference_url"])
        host = self.hosts.ids_of([_host(v) for v in h_values.to_pylist()])[h_codes]

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

        table = pa.table(
            {
                "action_id": cols["platform_uid"],
                "category": harm,
                "surface": surface,
                "detected_at": stamp(dates["content_date"]),
                "actioned_at": stamp(dates["application_date"]),
                "detection_source": detection,
                "decision_by": decider,
                "action": action,
                "in_malaysia": pa.array(in_scope, pa.bool_()),
                "rationale": rationale,
                "policy_ref": policy,
                "content_id": cols["uuid"],
                "source_category": src_cat,
                "_platform": pa.array(plat.astype(np.int32)),
                "_map": pa.array(map_id),
                "_unknown": pa.array(u_ids),
                "_version": pa.array(version.astype(np.int8)),
                "_territory": pa.array(territory_id),
                "_shape": pa.array(shape.astype(np.int32)),
                "_host": pa.array(host),
                "_src": pa.array(np.full(n, src, dtype=np.int32)),
                "_row": pa.array(rows.astype(np.int32)),
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
