"""Word and line diffs of two texts, with `difflib`.

A text on one line is compared word by word (whitespace and punctuation are
tokens of their own, so joining the pieces gives the texts back); a text of
several lines, line by line. The result is a list of ``(op, text)`` pieces:
``"="`` in both, ``"-"`` only in the old text, ``"+"`` only in the new one.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

__all__ = ["Piece", "plain", "text_diff"]

Piece = tuple[Literal["=", "-", "+"], str]

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
_MAX_TOKENS = 20_000  # beyond this, word diffs get slow: compare lines instead


def _tokens(text: str, by_line: bool) -> list[str]:
    return text.splitlines(keepends=True) if by_line else _TOKENS.findall(text)


def text_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn ``old`` into ``new``: by word if both are one line (and not
    huge), else by line."""
    by_line = "\n" in old or "\n" in new
    a, b = _tokens(old, by_line), _tokens(new, by_line)
    if not by_line and max(len(a), len(b)) > _MAX_TOKENS:
        a, b = [old], [new]
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("+", "".join(b[j1:j2])))
    return pieces


def plain(pieces: list[Piece], context: int = 40) -> str:
    """The pieces as one text, ``[-removed-]{+added+}``, long unchanged stretches cut to
    ``context`` characters at either end."""
    out = []
    last = len(pieces) - 1
    for index, (op, text) in enumerate(pieces):
        if op == "-":
            out.append(f"[-{text}-]")
        elif op == "+":
            out.append(f"{{+{text}+}}")
        elif len(text) <= 2 * context + 5:
            out.append(text)
        else:
            head = text[:context] if index else ""
            tail = text[-context:] if index < last else ""
            out.append(f"{head}…{tail}")
    return "".join(out)
