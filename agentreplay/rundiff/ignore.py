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
_WILD = re.compile(r"[*?\[]")
_Next = tuple[frozenset[tuple[int, int]], bool]


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
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_key_memo", {})

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
        states = frozenset((i, 0) for i in range(len(self.patterns)))
        stripped = self._strip(tree, states)
        assert isinstance(stripped, dict)
        return stripped

    def _advance(self, states: frozenset[tuple[int, int]], step: str | int) -> _Next:
        """The states after descending into ``step``, and whether a pattern ends there."""
        memo: dict[tuple[Any, Any], _Next] = self._memo  # type: ignore[attr-defined]
        key = (states, step)
        found = memo.get(key)
        if found is None:
            found = memo[key] = self._advance_once(states, step)
        return found

    def _advance_once(self, states: frozenset[tuple[int, int]], step: str | int) -> _Next:
        compiled: tuple[tuple[Any, ...], ...] = self._compiled  # type: ignore[attr-defined]
        after: set[tuple[int, int]] = set()
        done = False
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
                    done = True
                after.add((which, at + 1))
        for which, at in after:  # a ** at the end of a pattern matches all below
            parts = compiled[which]
            if at < len(parts) and all(p is _DEEP for p in parts[at:]):
                done = True
        return frozenset(after), done

    def _keys(self, states: frozenset[tuple[int, int]]) -> tuple[Any, ...] | None:
        """The only keys or indexes the states can descend into, or None if any can."""
        memo: dict[Any, tuple[Any, ...] | None] = self._key_memo  # type: ignore[attr-defined]
        if states in memo:
            return memo[states]
        compiled: tuple[tuple[Any, ...], ...] = self._compiled  # type: ignore[attr-defined]
        keys: set[Any] = set()
        for which, at in states:
            part = compiled[which][at] if at < len(compiled[which]) else None
            if part is None:
                continue
            if part is _DEEP or part is _ANY or (isinstance(part, str) and _WILD.search(part)):
                keys = set()
                memo[states] = None
                return None
            keys.add(part)
        found = memo[states] = tuple(keys)
        return found

    def _strip(self, value: Any, states: frozenset[tuple[int, int]]) -> Any:
        if isinstance(value, dict):
            keys = self._keys(states)
            if keys is not None:  # look at those keys alone
                steps: Any = [k for k in keys if isinstance(k, str) and k in value]
            else:
                steps = value
        elif isinstance(value, list):
            keys = self._keys(states)
            if keys is not None:
                size = len(value)
                steps = [k for k in keys if type(k) is int and 0 <= k < size]
            else:
                steps = range(len(value))
        else:
            return value
        replaced: dict[Any, Any] = {}
        for step in steps:
            after, done = self._advance(states, step)
            if done:
                replaced[step] = _DROP
            elif after:
                child = value[step]
                if isinstance(child, dict | list):
                    new = self._strip(child, after)
                    if new is not child:
                        replaced[step] = new
        if not replaced:
            return value
        if isinstance(value, dict):
            return {k: replaced.get(k, v) for k, v in value.items() if replaced.get(k) is not _DROP}
        return [replaced.get(i, v) for i, v in enumerate(value) if replaced.get(i) is not _DROP]
