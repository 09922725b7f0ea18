"""Read framework files: YAML (no aliases), the kind's model, and messages naming file, entry and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from riskkit import safe_yaml
from riskkit.library.models import KINDS, Header

#: Parts of a pydantic error location that name a union member or validator, not a field of the file.
_UNION_TAG = re.compile(r"\[|^function-|^[A-Z][A-Za-z]+$")


def read_framework(path: Path, problems: list[str]) -> Header | None:
    """The typed framework in ``path``, or None with every problem appended to ``problems``."""
    try:
        raw = safe_yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text (byte {exc.start})")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path}: {safe_yaml.error_text(exc)}")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{path}: the top level must be a mapping with id, version, kind, name and source")
        return None
    kind = raw.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        problems.append(f"{path}: top level: field 'kind': unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe(path, raw, exc))
        return None


def describe(path: Path, raw: dict[str, Any], exc: ValidationError) -> list[str]:
    """One message per validation error: ``file: entry 'ref' (section[i]): field 'x.y': what is wrong``."""
    out = []
    for err in exc.errors(include_url=False):
        loc = [part for part in err["loc"] if isinstance(part, int) or not _UNION_TAG.search(str(part))]
        where = "top level"
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            items = raw.get(loc[0])
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            ref = item.get("ref_id") if isinstance(item, dict) else None
            where = f"entry {ref!r} ({loc[0]}[{loc[1]}])" if ref else f"{loc[0]}[{loc[1]}]"
            loc = loc[2:]
        elif len(loc) >= 2 and isinstance(loc[0], str) and isinstance(raw.get(loc[0]), list):
            where = f"entry {loc[1]!r} ({loc[0]})"
            loc = loc[2:]
        name = ".".join(str(p) for p in loc)
        field = f"field {name!r}" if name else "the entry itself" if where != "top level" else "the file"
        out.append(f"{path}: {where}: {field}: {_message(err)}")
    return out


def _message(err: dict[str, Any]) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return "missing (a required field)"
    if kind == "extra_forbidden":
        return f"unknown field (value {_short(value)}); check its spelling"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{msg} (got {_short(value)})"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
