"""Which Python values a cassette can hold, and how to say so when it can't."""

from __future__ import annotations

from typing import Any

from agentreplay.cassette.compare import without_addresses
from agentreplay.errors import RecordingError

__all__ = ["check_plain", "copy_plain", "plain_args", "to_plain_or_none"]

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


def _problem(value: Any, path: str) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (float, str, bytes)):
        return None
    if isinstance(value, int):
        return None if _INT_MIN <= value <= _INT_MAX else f"{path}: integer {value} is too large"
    if type(value) is list:
        for i, item in enumerate(value):
            problem = _problem(item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if type(value) is dict:
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                return f"{path}: dict key {key!r} of type {type(key).__name__}"
            problem = _problem(item, f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{path}: {type(value).__module__}.{type(value).__qualname__}"


def _copy(value: Any) -> Any:
    """A copy of plain data as it is now: the writer encodes it later, on its thread,
    and the program may change a list or dict in the meantime."""
    kind = type(value)
    if kind is list:
        return [_copy(item) for item in value]
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    return value


def copy_plain(value: Any) -> Any:
    """A deep copy of plain data (lists and dicts copied, the rest shared)."""
    return _copy(value)


def check_plain(value: Any, what: str) -> Any:
    """A copy of ``value`` if msgpack can hold it exactly, else raise RecordingError."""
    problem = _problem(value, "value")
    if problem is not None:
        raise RecordingError(
            f"{what} cannot be recorded: {problem} is not one of None, bool, int, float, "
            f"str, bytes, list or dict. Return plain data (a list for a tuple, a dict for "
            f"an object, e.g. model.model_dump())."
        )
    return _copy(value)


def to_plain_or_none(value: Any) -> Any:
    return _copy(value) if _problem(value, "value") is None else None


def plain_args(values: Any) -> list[Any]:
    """Arguments as plain data; anything else becomes its type name and repr, for matching."""
    out = []
    for value in values:
        if _problem(value, "") is None:
            out.append(_copy(value))
        else:
            text = without_addresses(repr(value))[:200]
            out.append(f"<{type(value).__qualname__} {text}>")
    return out
