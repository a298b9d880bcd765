"""Which fields of a step never count as a difference.

A pattern names fields the way changes are written: keys joined by dots,
array items in brackets. ``*`` in a key is a wildcard (``x-stainless-*``), a
key of just ``*`` matches any one key or index, ``[*]`` any index, and
``**`` any number of keys and indexes (none included). Matching fields are
dropped from both steps before they are compared, so an ignored field never
makes a pair "changed".

`DEFAULT_IGNORE` holds what differs between any two runs of the same agent:
ids the model or the SDK makes up, and HTTP headers that carry dates, request
ids, rate limits, sizes or client versions. Timing, tokens and cost are not
fields at all: they are reported as deltas beside the verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from agentreplay.errors import UsageError

__all__ = ["DEFAULT_IGNORE", "Ignore"]

DEFAULT_IGNORE: tuple[str, ...] = (
    # ids the model (or the provider) gives tool calls, echoed back in later prompts
    "tool_calls[*].id",
    "messages[*].id",
    "messages[*].call_id",
    "messages[*].tool_call_id",
    "messages[*].tool_calls[*].id",
    "messages[*].content[*].id",
    "messages[*].content[*].tool_use_id",
    # HTTP headers that differ between any two runs
    "*.headers.date",
    "*.headers.age",
    "*.headers.expires",
    "*.headers.last-modified",
    "*.headers.etag",
    "*.headers.*request-id",
    "*.headers.*requestid",
    "*.headers.cf-ray",
    "*.headers.traceparent",
    "*.headers.tracestate",
    "*.headers.set-cookie",
    "*.headers.content-length",
    "*.headers.user-agent",
    "*.headers.x-stainless-*",
    "*.headers.*ratelimit-*",
    "*.headers.openai-processing-ms",
    "*.headers.server-timing",
)
"""Patterns ignored unless a ``!pattern`` in ``ignore=`` takes one back."""

_STEP = re.compile(r'\.?([^.\[\]]+)|\[(\*|\d+|"(?:[^"\\]|\\.)*")\]')
_ANY = object()  # [*]
_DEEP = object()  # **
_DROP = object()
_MIXED = object()  # not worked out yet / not the same for every index
_UNSET = object()
_WILD = re.compile(r"[*?\[]")


def _parse(pattern: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    at = 0
    while at < len(pattern):
        found = _STEP.match(pattern, at)
        if found is None or (at == 0 and pattern.startswith(".")):
            raise UsageError(f"ignore: cannot read the path pattern {pattern!r} at {at}")
        key, index = found.groups()
        if key is not None:
            parts.append(_DEEP if key == "**" else key)
        elif index == "*":
            parts.append(_ANY)
        elif index.startswith('"'):
            parts.append(index[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
        else:
            parts.append(int(index))
        at = found.end()
    if not parts:
        raise UsageError("ignore: an empty path pattern")
    return tuple(parts)


def _matches(part: Any, step: str | int) -> bool:
    if part is _ANY:
        return isinstance(step, int)
    if isinstance(part, int):
        return isinstance(step, int) and part == step
    if part == "*":
        return True
    return isinstance(step, str) and fnmatchcase(step, part)


@dataclass(frozen=True)
class Ignore:
    """A set of path patterns, compiled. ``Ignore.of(["x", "!y"])`` is the defaults plus
    ``x``, less the default pattern ``y``."""

    patterns: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(_parse(p) for p in self.patterns))
        object.__setattr__(self, "_nodes", {})
        root = self._node(frozenset((i, 0) for i in range(len(self.patterns))))
        object.__setattr__(self, "_root", root)

    @classmethod
    def of(cls, ignore: Iterable[str] = ()) -> Ignore:
        if isinstance(ignore, str):
            raise UsageError(f"ignore: give a list of path patterns, not the string {ignore!r}")
        patterns = list(DEFAULT_IGNORE)
        for pattern in ignore:
            if pattern.startswith("!"):
                if pattern[1:] not in patterns:
                    raise UsageError(
                        f"ignore: {pattern[1:]!r} is not ignored, so {pattern!r} takes "
                        f"nothing back; the default patterns are {', '.join(DEFAULT_IGNORE)}"
                    )
                patterns.remove(pattern[1:])
            elif pattern not in patterns:
                _parse(pattern)
                patterns.append(pattern)
        return cls(tuple(patterns))

    def strip(self, tree: dict[str, Any]) -> dict[str, Any]:
        """``tree`` without the fields the patterns match (the same object when there are
        none; containers are copied only where something was dropped)."""
        stripped = _strip(tree, self._root)  # type: ignore[attr-defined]
        assert isinstance(stripped, dict)
        return stripped

    def _node(self, states: frozenset[tuple[int, int]]) -> _Node:
        nodes: dict[frozenset[tuple[int, int]], _Node] = self._nodes  # type: ignore[attr-defined]
        node = nodes.get(states)
        if node is None:
            node = nodes[states] = _Node(self, states)
        return node

    def _next(self, states: frozenset[tuple[int, int]], step: str | int) -> Any:
        """Where descending into ``step`` leads: `_DROP` if a pattern ends there, None if
        no pattern can match below, else the `_Node` of the patterns still going."""
        compiled: tuple[tuple[Any, ...], ...] = self._compiled  # type: ignore[attr-defined]
        after: set[tuple[int, int]] = set()
        pending = list(states)
        seen = set(pending)
        while pending:
            which, at = pending.pop()
            parts = compiled[which]
            if at == len(parts):
                continue
            part = parts[at]
            if part is _DEEP:
                after.add((which, at))  # ** eats this step and stays
                if (which, at + 1) not in seen:  # or eats nothing
                    seen.add((which, at + 1))
                    pending.append((which, at + 1))
                continue
            if _matches(part, step):
                if at + 1 == len(parts):
                    return _DROP
                after.add((which, at + 1))
        for which, at in after:  # a ** at the end of a pattern matches all below
            if all(p is _DEEP for p in compiled[which][at:]):
                return _DROP
        return self._node(frozenset(after)) if after else None


class _Node:
    """Patterns part way through, at some place in a tree; where each step leads from
    here is worked out once."""

    __slots__ = ("ignore", "keys", "memo", "states", "uniform", "wild")

    def __init__(self, ignore: Ignore, states: frozenset[tuple[int, int]]) -> None:
        self.ignore = ignore
        self.states = states
        self.memo: dict[Any, Any] = {}
        compiled: tuple[tuple[Any, ...], ...] = ignore._compiled  # type: ignore[attr-defined]
        parts = [compiled[which][at] for which, at in states if at < len(compiled[which])]
        wild = any(
            p is _DEEP or p is _ANY or (isinstance(p, str) and _WILD.search(p)) for p in parts
        )
        # The only keys worth looking at in an object, or None when any may match.
        self.keys: tuple[str, ...] | None = (
            None if wild else tuple(dict.fromkeys(p for p in parts if isinstance(p, str)))
        )
        # Where every index of an array leads, when no pattern names an index (worked
        # out on first use: it may lead back to this very node).
        self.wild = wild
        self.uniform: Any = _MIXED if any(isinstance(p, int) for p in parts) else _UNSET

    def go(self, step: str | int) -> Any:
        found = self.memo.get(step, _MIXED)
        if found is _MIXED:
            found = self.memo[step] = self.ignore._next(self.states, step)
        return found


def _strip(value: Any, node: _Node) -> Any:
    replaced: dict[Any, Any] | None = None
    if type(value) is dict:
        present: Any = value
        if node.keys is not None:
            present = [k for k in node.keys if k in value]
            if not present:
                return value
        memo = node.memo
        for key in present:
            after = memo.get(key, _MIXED)
            if after is _MIXED:
                after = node.go(key)
            if after is None:
                continue
            if after is _DROP:
                new = _DROP
            else:
                child = value[key]
                kind = type(child)
                if kind is not dict and kind is not list:
                    continue
                new = _strip(child, after)
                if new is child:
                    continue
            if replaced is None:
                replaced = {}
            replaced[key] = new
        if replaced is None:
            return value
        return {k: replaced.get(k, v) for k, v in value.items() if replaced.get(k) is not _DROP}
    if type(value) is not list:
        return value
    uniform = node.uniform
    if uniform is _UNSET:
        uniform = node.uniform = node.go(0) if node.wild else None
    if uniform is None:
        return value
    if uniform is _DROP:
        return []
    for index, child in enumerate(value):
        after = uniform if uniform is not _MIXED else node.go(index)
        if after is None:
            continue
        if after is _DROP:
            new = _DROP
        else:
            kind = type(child)
            if kind is not dict and kind is not list:
                continue
            new = _strip(child, after)
            if new is child:
                continue
        if replaced is None:
            replaced = {}
        replaced[index] = new
    if replaced is None:
        return value
    return [replaced.get(i, v) for i, v in enumerate(value) if replaced.get(i) is not _DROP]
