"""Events to plain msgpack data and back.

Each event becomes an array ``[kind, task, seq, at, *fields]`` with the fields
in the order of the dataclass. Byte fields are stored inline when short and
as a list of blob ids when long (see `blobs.py`); headers as a flat array
``[name, value, name, value, ...]``; an `ErrorInfo` as ``[type, message,
traceback, args]`` or nil.

Decoding checks the shape and type of every field, so data from a damaged or
hostile file turns into `CassetteError`, never an AttributeError deep in the
caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    Event,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
    RunOutcome,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
)
from agentreplay.errors import CassetteError

__all__ = ["KIND_CODES", "decode_event", "encode_event"]

Intern = Callable[[bytes], "bytes | list[int]"]
Resolve = Callable[[list[int]], bytes]

# Field type tags: s=str, i=int, n=int|float, o=bool, b=bytes (maybe blob refs),
# h=headers, e=ErrorInfo|None, l=list, d=dict with str keys, a=any plain value.
_SCHEMA: Final[dict[type[Event], tuple[int, tuple[tuple[str, str], ...]]]] = {
    HttpRequest: (1, (("method", "s"), ("url", "s"), ("headers", "h"), ("body", "b"),
                      ("client", "s"))),
    HttpResponse: (2, (("request", "i"), ("status", "i"), ("headers", "h"),
                       ("http_version", "s"), ("reason", "s"))),
    HttpChunk: (3, (("request", "i"), ("data", "b"))),
    HttpEnd: (4, (("request", "i"), ("complete", "o"))),
    HttpError: (5, (("request", "i"), ("error", "E"))),
    ClockRead: (6, (("clock", "s"), ("value", "n"))),
    EntropyDraw: (7, (("source", "s"), ("data", "b"))),
    ToolCall: (8, (("name", "s"), ("args", "l"), ("kwargs", "d"))),
    ToolResult: (9, (("call", "i"), ("value", "a"), ("error", "e"))),
    StepStart: (10, (("name", "s"),)),
    StepEnd: (11, (("start", "i"), ("error", "e"))),
    RunOutcome: (12, (("value", "a"), ("value_repr", "s"), ("error", "e"))),
}

KIND_CODES: Final[dict[type[Event], int]] = {cls: code for cls, (code, _) in _SCHEMA.items()}
_BY_CODE: Final = {code: (cls, fields) for cls, (code, fields) in _SCHEMA.items()}
_ENCODERS: Final = {cls: tuple((name, tag) for name, tag in fields) for cls, (_, fields) in
                    _SCHEMA.items()}


def _encode_error(error: ErrorInfo | None) -> list[Any] | None:
    if error is None:
        return None
    return [error.type, error.message, error.traceback, error.args]


def encode_event(event: Event, intern: Intern) -> list[Any]:
    """Return the plain-data form of ``event``; long byte strings go through ``intern``."""
    cls = type(event)
    out: list[Any] = [KIND_CODES[cls], event.task, event.seq, event.at]
    for name, tag in _ENCODERS[cls]:
        value = getattr(event, name)
        if tag == "b":
            out.append(intern(value))
        elif tag == "h":
            flat: list[str] = []
            for key, val in value:
                flat.append(key)
                flat.append(val)
            out.append(flat)
        elif tag in ("e", "E"):
            out.append(_encode_error(value))
        else:
            out.append(value)
    return out


def _bad(what: str) -> CassetteError:
    return CassetteError(f"malformed event: {what}")


def _decode_field(tag: str, name: str, value: Any, resolve: Resolve) -> Any:
    if tag == "s":
        if not isinstance(value, str):
            raise _bad(f"{name} is not a string")
        return value
    if tag == "i":
        if type(value) is not int:
            raise _bad(f"{name} is not an integer")
        return value
    if tag == "n":
        if type(value) not in (int, float):
            raise _bad(f"{name} is not a number")
        return value
    if tag == "o":
        if type(value) is not bool:
            raise _bad(f"{name} is not a boolean")
        return value
    if tag == "b":
        if isinstance(value, bytes):
            return value
        if isinstance(value, list) and all(type(v) is int for v in value):
            return resolve(value)
        raise _bad(f"{name} is neither bytes nor blob references")
    if tag == "h":
        if not isinstance(value, list) or len(value) % 2 or not all(
            isinstance(v, str) for v in value
        ):
            raise _bad(f"{name} is not a flat list of header strings")
        return tuple(zip(value[::2], value[1::2], strict=True))
    if tag in ("e", "E"):
        if value is None and tag == "e":
            return None
        if (
            not isinstance(value, list)
            or len(value) != 4
            or not all(isinstance(v, str) for v in value[:3])
            or not (value[3] is None or isinstance(value[3], list))
        ):
            raise _bad(f"{name} is not an error record")
        return ErrorInfo(value[0], value[1], value[2], value[3])
    if tag == "l":
        if not isinstance(value, list):
            raise _bad(f"{name} is not a list")
        return value
    if tag == "d":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _bad(f"{name} is not a map with string keys")
        return value
    return value


def decode_event(data: Any, resolve: Resolve) -> Event:
    """Build the event that ``data`` (one item of an events frame) describes."""
    if not isinstance(data, list) or len(data) < 4:
        raise _bad("not an array of at least four items")
    code = data[0]
    entry = _BY_CODE.get(code) if type(code) is int else None
    if entry is None:
        raise _bad(f"unknown event kind {code!r}")
    cls, fields = entry
    if len(data) != 4 + len(fields):
        raise _bad(f"{cls.__name__} has {len(data) - 4} fields, expected {len(fields)}")
    task, seq, at = data[1], data[2], data[3]
    if not isinstance(task, str) or type(seq) is not int or type(at) is not int:
        raise _bad("task, seq or at has the wrong type")
    values = [
        _decode_field(tag, name, value, resolve)
        for (name, tag), value in zip(fields, data[4:], strict=True)
    ]
    return cls(task, seq, at, *values)
