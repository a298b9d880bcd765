"""The events a cassette holds: one frozen dataclass per kind.

Events are what replay substitutes. Each carries the logical task that
produced it (``"0"`` is the root run, ``"0.2"`` the second task or thread it
started), its sequence number within that task, and ``at``: nanoseconds since
the run started. Events that belong to an HTTP exchange or a tool call point
back at the sequence number of the event that opened it.

Conversion to plain msgpack data lives in `codec.py`; compression and framing
in `frames.py`. This module only says what an event is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeAlias, TypeVar, dataclass_transform

__all__ = [
    "ClockRead",
    "EntropyDraw",
    "ErrorInfo",
    "Event",
    "Headers",
    "HttpChunk",
    "HttpEnd",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "RunOutcome",
    "StepEnd",
    "StepStart",
    "ToolCall",
    "ToolResult",
]

E = TypeVar("E")

Headers: TypeAlias = tuple[tuple[str, str], ...]
"""HTTP header pairs in wire order, names and values decoded as latin-1 (lossless)."""


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An exception, as recorded: its qualified type name, message (``str(exc)``),
    traceback text, and its ``args`` when they are plain data (to rebuild it exactly)."""

    type: str
    message: str
    traceback: str = ""
    args: list[Any] | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, *, traceback: str = "") -> ErrorInfo:
        kind = type(exc)
        module = kind.__module__
        name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
        args = list(exc.args)
        plain = all(isinstance(a, (str, int, float, bool, bytes, type(None))) for a in args)
        return cls(name, str(exc), traceback, args if plain else None)

    def __str__(self) -> str:
        short = self.type.rsplit(".", 1)[-1]
        if self.args is not None and len(self.args) == 1:
            return f"{short}({self.args[0]!r})"
        return f"{short}({self.message!r})"


def _fast_init(cls: type[E]) -> Callable[..., None]:
    """An ``__init__`` for a frozen slotted dataclass that fills the slots directly.

    The one `dataclasses` writes sets each field through ``object.__setattr__``,
    which makes building an event cost about 1 µs: too much on the recording path,
    where a streamed answer makes one per chunk. Like `dataclasses`, this is
    generated from the field list, never from data.
    """
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    env: dict[str, Any] = {}
    lines = [f"def __init__(self, {', '.join(names)}):"]
    for name in names:
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        env[f"set_{name}"] = vars(owner)[name].__set__
        lines.append(f"    set_{name}(self, {name})")
    exec("\n".join(lines), env)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@dataclass_transform(frozen_default=True)
def _event(cls: type[E]) -> type[E]:
    """``@dataclass(frozen=True, slots=True)`` with a faster ``__init__``."""
    cls = dataclass(frozen=True, slots=True)(cls)
    cls.__init__ = _fast_init(cls)  # type: ignore[method-assign]
    return cls


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every event has."""

    task: str
    seq: int
    at: int


@_event
class HttpRequest(Event):
    """A request leaving the process; opens an HTTP exchange and a step."""

    method: str
    url: str
    headers: Headers
    body: bytes
    client: str


@_event
class HttpResponse(Event):
    """Status line and headers of the response to request ``request``."""

    request: int
    status: int
    headers: Headers
    http_version: str
    reason: str


@_event
class HttpChunk(Event):
    """One piece of a response body exactly as the client received it from the wire."""

    request: int
    data: bytes


@_event
class HttpEnd(Event):
    """The response body ended; ``complete`` is False if the caller closed it early."""

    request: int
    complete: bool


@_event
class HttpError(Event):
    """The exchange failed (connection error, timeout, broken body) with this error."""

    request: int
    error: ErrorInfo


@_event
class ClockRead(Event):
    """A clock read by agent code: ``wall`` (ns since the epoch), ``monotonic`` or
    ``perf_counter`` (the value returned)."""

    clock: str
    value: int | float


@_event
class EntropyDraw(Event):
    """Random bytes handed to agent code (``urandom``) or a seed (``seed``)."""

    source: str
    data: bytes


@_event
class ToolCall(Event):
    """A call to a function marked ``@agentreplay.tool``; opens a step."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]


@_event
class ToolResult(Event):
    """What tool call ``call`` returned, or the error it raised."""

    call: int
    value: Any
    error: ErrorInfo | None


@_event
class StepStart(Event):
    """``agentreplay.step(name)`` was entered; opens a step."""

    name: str


@_event
class StepEnd(Event):
    """The span opened by StepStart ``start`` was left, perhaps by an exception."""

    start: int
    error: ErrorInfo | None


@_event
class RunOutcome(Event):
    """How the run ended: the value it returned (as data and as repr) or its exception."""

    value: Any
    value_repr: str
    error: ErrorInfo | None
