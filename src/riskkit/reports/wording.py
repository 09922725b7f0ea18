"""The public report's wording in each language it is published in (``public-report.yaml`` beside this module).

Checked when loaded: every entry in every language, the same ``{fields}`` in each language, twelve month names.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskkit import safe_yaml
from riskkit.exceptions import FrameworkError, ParameterError

FILE = "public-report.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: str
    languages: list[str] = Field(min_length=1)
    months: dict[str, list[str]]
    text: dict[str, dict[str, str]]

    @model_validator(mode="after")
    def _complete(self) -> _Model:
        langs = set(self.languages)
        for lang in self.languages:
            if len(self.months.get(lang, [])) != 12:
                raise ValueError(f"months: {lang!r} needs the twelve month names")
        for key, texts in self.text.items():
            if set(texts) != langs or not all(t.strip() for t in texts.values()):
                raise ValueError(f"text {key!r}: needs a non-empty text in each of {', '.join(self.languages)}")
            fields = {lang: _fields(t) for lang, t in texts.items()}
            if len({frozenset(f) for f in fields.values()}) > 1:
                raise ValueError(f"text {key!r}: the languages use different {{fields}}: {fields}")
        return self


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Wording:
    """The public report's texts: ``words.t("harm_heading", "ms")``, ``words.t("scope", "en", period=…)``."""

    languages: tuple[str, ...]
    months: dict[str, tuple[str, ...]]
    text: dict[str, dict[str, str]]

    def t(self, key: str, lang: str, **values: Any) -> str:
        """The text ``key`` in ``lang``, its ``{fields}`` filled from ``values``."""
        if lang not in self.languages:
            raise ParameterError(f"language {lang!r}: the public report is written in {', '.join(self.languages)}")
        try:
            template = self.text[key][lang]
        except KeyError:
            raise KeyError(f"the public report's wording has no text {key!r}") from None
        return template.format(**values) if values else template

    def date(self, day: date, lang: str) -> str:
        """``1 December 2026`` / ``1 Disember 2026``."""
        return f"{day.day} {self.months[lang][day.month - 1]} {day.year}"

    def all_texts(self) -> set[str]:
        """Every text in every language (the words a public table may carry)."""
        return {t for texts in self.text.values() for t in texts.values()}


@cache
def load_wording() -> Wording:
    """The packaged wording (read and checked once per process; it never changes while riskkit runs)."""
    raw = resources.files("riskkit.reports").joinpath(FILE).read_text(encoding="utf-8")
    try:
        model = _Model.model_validate(safe_yaml.load(raw))
    except ValidationError as exc:
        raise FrameworkError(f"riskkit/reports/{FILE}: {exc}") from None
    return Wording(
        tuple(model.languages),
        {k: tuple(v) for k, v in model.months.items()},
        {k: dict(v) for k, v in model.text.items()},
    )
