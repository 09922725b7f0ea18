"""Text that reaches a terminal: control characters from data or file names are shown escaped, never obeyed.

A cell, a column name or a file name can hold an ANSI escape sequence (``\\x1b[2J`` clears the screen) or a
bidirectional override that reorders what a reader sees. Every message riskkit prints passes through
:func:`printable`, which writes such characters the way Python writes them in a string literal (``\\x1b``,
``\\u202e``) and leaves everything else — accents, Malay, Chinese, Tamil — as it is.
"""

from __future__ import annotations

import re

#: C0 controls except newline, DEL, C1 controls, and the Unicode bidirectional embeddings, overrides and isolates.
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every control character written as an escape (``\\x1b``), newlines kept unless told."""
    pattern = _CONTROLS if keep_newlines else _CONTROLS_AND_NEWLINE
    return pattern.sub(_escape, text)


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character :func:`printable` would escape (newlines included)."""
    return _CONTROLS_AND_NEWLINE.search(text) is not None
