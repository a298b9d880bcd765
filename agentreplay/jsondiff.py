"""Where two JSON values differ: typed changes with paths, and one way to word them.

`diff(a, b)` walks both values together. Objects are compared key by key;
arrays item by item at the same index (an item past the shorter one's end is
added or removed); strings, numbers, booleans and null by value and type
(``1`` and ``1.0`` differ, so do ``1`` and ``True``). Each difference is a
`Change` whose ``path`` is the list of keys and indexes that leads to it.

`render` words a list of changes the way divergence messages do:
``$.messages[0].content: 'Paris' != 'Rome'``. Aligning arrays that had items
inserted in the middle is left to callers that know what the items are (the
run diff aligns chat messages by role and content before diffing each pair).

This module sits at the bottom of the package: it imports nothing above it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["MAX_LINES", "Change", "Path", "diff", "path_text", "render", "short"]

MAX_LINES = 12
"""Lines `render` writes at most."""

Path = tuple[str | int, ...]
"""Keys (str) and array indexes (int) from the root to a value."""

_PLAIN_KEY = re.compile(r"[^.\[\]]+")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: ``kind`` is ``"added"`` (only in b: ``new``), ``"removed"`` (only
    in a: ``old``) or ``"changed"`` (``old`` in a, ``new`` in b)."""

    path: Path
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


def diff(a: Any, b: Any, path: Path = ()) -> list[Change]:
    """Every place where ``a`` and ``b`` differ, in document order (a's keys first)."""
    out: list[Change] = []
    _walk(a, b, path, out)
    return out


def _walk(a: Any, b: Any, path: Path, out: list[Change]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key, value in a.items():
            if key not in b:
                out.append(Change((*path, key), "removed", old=value))
            else:
                _walk(value, b[key], (*path, key), out)
        out.extend(Change((*path, key), "added", new=v) for key, v in b.items() if key not in a)
    elif isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _walk(x, y, (*path, i), out)
        out.extend(Change((*path, i), "removed", old=a[i]) for i in range(len(b), len(a)))
        out.extend(Change((*path, i), "added", new=b[i]) for i in range(len(a), len(b)))
    elif a != b or type(a) is not type(b):
        out.append(Change(path, "changed", a, b))


def path_text(path: Path, root: str = "$") -> str:
    """``$.messages[0].content``; with ``root=""``, ``messages[0].content``. A key that
    holds a dot or a bracket is written as ``["a.b"]``."""
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not isinstance(part, str):  # a key msgpack allowed and JSON does not
            text += f"[{part!r}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def short(value: Any, limit: int = 120) -> str:
    """A value on one line, cut to ``limit`` characters: strings as their repr, the rest
    as JSON."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _string_line(where: str, a: str, b: str) -> str:
    if len(a) <= 100 and len(b) <= 100:
        return f"{where}: {a!r} != {b!r}"
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, at - 30)
    return (
        f"{where}: differs at character {at}: "
        f"...{a[start : at + 50]!r} != ...{b[start : at + 50]!r}"
    )


def render(changes: Sequence[Change], root: str = "$", limit: int = MAX_LINES) -> list[str]:
    """One line per change, at most ``limit``. Items past the end of the shorter of two
    arrays make one line: ``$.items: 2 more items (was 1, now 3); first new: ...``."""
    lines: list[str] = []
    i = 0
    while i < len(changes) and len(lines) < limit:
        change = changes[i]
        parent, last = change.path[:-1], change.path[-1] if change.path else None
        if change.kind != "changed" and isinstance(last, int):
            run = 1  # the array's tail: consecutive items, all added or all removed
            while (
                i + run < len(changes)
                and changes[i + run].kind == change.kind
                and changes[i + run].path == (*parent, last + run)
            ):
                run += 1
            lines.append(_tail_line(path_text(parent, root), change, last, run))
            i += run
            continue
        where = path_text(change.path, root)
        if change.kind == "removed":
            lines.append(f"{where}: removed (was {short(change.old)})")
        elif change.kind == "added":
            lines.append(f"{where}: added {short(change.new)}")
        elif isinstance(change.old, str) and isinstance(change.new, str):
            lines.append(_string_line(where, change.old, change.new))
        else:
            lines.append(f"{where}: {short(change.old)} != {short(change.new)}")
        i += 1
    return lines


def _tail_line(where: str, first: Change, index: int, count: int) -> str:
    if first.kind == "removed":
        was, now = index + count, index
        return (
            f"{where}: {count} fewer items (was {was}, now {now}); "
            f"first missing: {short(first.old)}"
        )
    was, now = index, index + count
    return f"{where}: {count} more items (was {was}, now {now}); first new: {short(first.new)}"
