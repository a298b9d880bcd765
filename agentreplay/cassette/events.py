"""The events a cassette holds: one frozen dataclass per kind.

Events are what replay substitutes. Each carries the logical task that
produced it (``"0"`` is the root run, ``"0.2"`` the second task or thread it
started), its sequence number within that task, and ``at``: nanoseconds since
the run started. Events that belong to an HTTP exchange or a tool call point
back at the sequence number of the event that opened it.

Each kind is declared once, with `event_kind`: its number in the file, how it
belongs to a step, and the role replay gives it. `KINDS` is that registry;
the codec, step tracking, replay, the step model and the CLI read it, so a new
kind is one class here (and, if it is a new kind of input, its handling where
`replay` names a role no one handles yet; see docs/architecture.md).

Conversion to plain msgpack data lives in `codec.py`; compression and framing
in `frames.py`. This module only says what an event is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, Final, TypeAlias, TypeVar, dataclass_transform

__all__ = [
    "BY_CODE",
    "KINDS",
    "ClockRead",
    "EntropyDraw",
    "ErrorInfo",
    "Event",
    "EventKind",
    "Headers",
    "HttpChunk",
    "HttpEnd",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "OrderPoint",
    "RunOutcome",
    "StepEnd",
    "StepRole",
    "StepStart",
    "ToolCall",
    "ToolResult",
    "event_kind",
    "fast_dataclass",
]

E = TypeVar("E")

Headers: TypeAlias = tuple[tuple[str, str], ...]
"""HTTP header pairs in wire order, names and values decoded as latin-1 (lossless)."""


_CANCELLATIONS: Final = frozenset(
    {
        "asyncio.exceptions.CancelledError",
        "concurrent.futures._base.CancelledError",
        "trio.Cancelled",
    }
)


_GROUP_HEAD: Final = re.compile(r"(.*?\(\d+ sub-exceptions?\)): ", re.DOTALL)
"""How a group's message begins: ``str()`` of the group, which only counts them."""
_GROUP_WIDTH: Final = 15
_GROUP_DEPTH: Final = 10
"""How many sub-exceptions of a group, and how deep in nested groups, a message names
(what a traceback shows of a group)."""


def _type_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _message(exc: BaseException, depth: int = 0) -> str:
    """``str(exc)``; for an exception group, followed by what each of its exceptions says,
    as the last line of a traceback does (``unhandled errors in a TaskGroup
    (1 sub-exception): ValueError: boom``), since the group's own text only counts them."""
    text = str(exc)
    if not isinstance(exc, BaseExceptionGroup):
        return text
    if depth == _GROUP_DEPTH:
        return f"{text}: …"
    said = []
    for sub in exc.exceptions[:_GROUP_WIDTH]:
        message = _message(sub, depth + 1)
        said.append(f"{_type_name(type(sub))}: {message}" if message else _type_name(type(sub)))
    if len(exc.exceptions) > _GROUP_WIDTH:
        said.append(f"and {len(exc.exceptions) - _GROUP_WIDTH} more")
    return f"{text}: {said[0]}" if len(said) == 1 else f"{text}: [{'; '.join(said)}]"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An exception, as recorded: its qualified type name, message (``str(exc)``, and for
    an exception group what its exceptions say), traceback text, and its ``args`` when
    they are plain data (to rebuild it exactly)."""

    type: str
    message: str
    traceback: str = ""
    args: list[Any] | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, *, traceback: str = "") -> ErrorInfo:
        args = list(exc.args)
        plain = all(isinstance(a, (str, int, float, bool, bytes, type(None))) for a in args)
        return cls(_type_name(type(exc)), _message(exc), traceback, args if plain else None)

    @property
    def own_message(self) -> str:
        """``str()`` of the exception: the message, of a group without what its exceptions
        said."""
        head = _GROUP_HEAD.match(self.message)
        return self.message if head is None else head[1]

    @property
    def cancellation(self) -> bool:
        """The program cut the work short itself (a deadline, ``task.cancel()``): it did
        not fail. Replay holds such work open until the same cancellation comes."""
        return self.type in _CANCELLATIONS

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
def fast_dataclass(cls: type[E]) -> type[E]:
    """``@dataclass(frozen=True, slots=True)`` with a faster ``__init__``.

    That ``__init__`` takes every field, in order: a field default or a
    ``__post_init__`` would be silently ignored, so both are refused.
    """
    if "__post_init__" in vars(cls):
        raise TypeError(f"{cls.__name__}: a fast dataclass cannot have __post_init__")
    own = vars(cls).get("__annotations__", {})
    defaults = [name for name in own if name in vars(cls)]
    if defaults:
        raise TypeError(f"{cls.__name__}: a fast dataclass cannot give defaults ({defaults})")
    cls = dataclass(frozen=True, slots=True)(cls)
    cls.__init__ = _fast_init(cls)  # type: ignore[method-assign]
    return cls


class StepRole(IntEnum):
    """What an event does to the step it belongs to (see `tracking.py`)."""

    NONE = 0
    """Belongs to the innermost step open in its task (clock reads, entropy, the outcome)."""
    OPENS = 1
    """Opens a new step."""
    CONTINUES = 2
    """Belongs to the step its ``link`` field names, which stays open."""
    CLOSES = 3
    """Belongs to, and closes, the step its ``link`` field names."""


@dataclass(frozen=True)
class EventKind:
    """Everything the layers need to know of one kind of event, declared once.

    ``code`` is its number in the file; ``fields`` its own fields with their
    codec tags, derived from the annotations; ``step_role`` and ``link`` say
    how it belongs to a step (``link`` names the field holding the sequence
    number of the event that opened it), ``opens`` the kind of step it opens;
    ``replay`` names the role replay and the step model give it.
    """

    cls: type[Event]
    code: int
    fields: tuple[tuple[str, str], ...]
    step_role: StepRole
    link: str
    opens: str
    replay: str


KINDS: dict[type[Event], EventKind] = {}
"""Every event kind, by class: the one registry the codec, step tracking, replay,
the step model and the CLI read."""
BY_CODE: dict[int, EventKind] = {}

# Codec tags by annotation: s=str, i=int, n=int|float, o=bool, b=bytes (maybe blob
# refs), h=headers, E=ErrorInfo, e=ErrorInfo|None, l=list, d=dict with str keys,
# a=any plain value.
_TAGS: Final = {
    "str": "s",
    "int": "i",
    "int | float": "n",
    "bool": "o",
    "bytes": "b",
    "Headers": "h",
    "ErrorInfo": "E",
    "ErrorInfo | None": "e",
    "list[Any]": "l",
    "dict[str, Any]": "d",
    "Any": "a",
}


def _field_tags(cls: type[Event]) -> tuple[tuple[str, str], ...]:
    tags = []
    for item in fields(cls):
        if item.name in ("task", "seq", "at"):
            continue
        annotation = item.type if isinstance(item.type, str) else item.type.__name__
        tag = _TAGS.get(annotation)
        if tag is None:
            raise TypeError(
                f"{cls.__name__}.{item.name}: a cassette cannot hold {annotation!r}; "
                f"use one of {', '.join(_TAGS)}"
            )
        tags.append((item.name, tag))
    return tuple(tags)


@dataclass_transform(frozen_default=True)
def event_kind(
    code: int, *, replay: str, opens: str = "", continues: str = "", closes: str = ""
) -> Callable[[type[E]], type[E]]:
    """Declare an event kind: its file code, how replay uses it (``replay``), and how it
    belongs to a step: ``opens="http"`` opens a step of that kind, ``continues="request"``
    or ``closes="request"`` name the field linking it to the event that opened one."""

    def declare(cls: type[E]) -> type[E]:
        made: Any = fast_dataclass(cls)
        if code in BY_CODE or made in KINDS:
            raise TypeError(f"event code {code} or class {cls.__name__} is declared twice")
        role = (
            StepRole.OPENS
            if opens
            else StepRole.CONTINUES
            if continues
            else StepRole.CLOSES
            if closes
            else StepRole.NONE
        )
        kind = EventKind(made, code, _field_tags(made), role, continues or closes, opens, replay)
        KINDS[made] = BY_CODE[code] = kind
        return made  # type: ignore[no-any-return]

    return declare


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every event has."""

    task: str
    seq: int
    at: int

    def describe(self) -> str:
        """A one-line summary, for people reading raw events."""
        return ""

    def step_name(self) -> str:
        """The name of the step this event opens (for kinds that open one)."""
        return type(self).__name__


@event_kind(1, opens="http", replay="http.request")
class HttpRequest(Event):
    """A request leaving the process; opens an HTTP exchange and a step."""

    method: str
    url: str
    headers: Headers
    body: bytes
    client: str

    def step_name(self) -> str:
        return f"{self.method} {self.url}"

    def describe(self) -> str:
        return f"{self.method} {self.url} ({len(self.body)} B body)"


@event_kind(2, continues="request", replay="http.response")
class HttpResponse(Event):
    """Status line and headers of the response to request ``request``."""

    request: int
    status: int
    headers: Headers
    http_version: str
    reason: str

    def describe(self) -> str:
        return f"{self.status} {self.reason} ({len(self.headers)} headers)"


@event_kind(3, continues="request", replay="http.chunk")
class HttpChunk(Event):
    """One piece of a response body exactly as the client received it from the wire."""

    request: int
    data: bytes

    def describe(self) -> str:
        return f"{len(self.data)} B: {self.data[:48]!r}"


@event_kind(4, closes="request", replay="http.end")
class HttpEnd(Event):
    """The response body ended; ``complete`` is False if the caller closed it before
    reading all of it (stopping at a server-sent stream's terminal ``data: [DONE]``
    event, or at the last byte of a declared length, counts as all of it)."""

    request: int
    complete: bool

    def describe(self) -> str:
        return "body complete" if self.complete else "body closed early"


@event_kind(5, closes="request", replay="http.error")
class HttpError(Event):
    """The exchange failed (connection error, timeout, broken body) with this error."""

    request: int
    error: ErrorInfo

    def describe(self) -> str:
        return str(self.error)


@event_kind(6, replay="clock")
class ClockRead(Event):
    """A clock read by agent code: ``wall`` (ns since the epoch), ``monotonic`` or
    ``perf_counter`` (the value returned)."""

    clock: str
    value: int | float

    def describe(self) -> str:
        return f"{self.clock} = {self.value}"


@event_kind(7, replay="entropy")
class EntropyDraw(Event):
    """Random bytes handed to agent code (``urandom``) or a seed (``seed``)."""

    source: str
    data: bytes

    def describe(self) -> str:
        return f"{self.source}: {len(self.data)} B"


@event_kind(8, opens="tool", replay="tool.call")
class ToolCall(Event):
    """A call to a function marked ``@agentreplay.tool``; opens a step."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]

    def step_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"{self.name}({len(self.args)} args, {len(self.kwargs)} kwargs)"


@event_kind(9, closes="call", replay="tool.result")
class ToolResult(Event):
    """What tool call ``call`` returned, or the error it raised."""

    call: int
    value: Any
    error: ErrorInfo | None

    def describe(self) -> str:
        return f"raised {self.error}" if self.error else f"returned {self.value!r}"[:80]


@event_kind(10, opens="span", replay="span.start")
class StepStart(Event):
    """``agentreplay.step(name)`` was entered; opens a step."""

    name: str

    def step_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return self.name


@event_kind(11, closes="start", replay="span.end")
class StepEnd(Event):
    """The span opened by StepStart ``start`` was left, perhaps by an exception."""

    start: int
    error: ErrorInfo | None

    def describe(self) -> str:
        return f"raised {self.error}" if self.error else "ok"


@event_kind(13, replay="order")
class OrderPoint(Event):
    """A point where the run's threads took turns: an executor job ended (``job.end``),
    or an item went into or out of a shared queue (``queue.put``, ``queue.get``).
    Replay lets threads pass these points in the recorded order."""

    what: str

    def describe(self) -> str:
        return self.what


@event_kind(12, replay="outcome")
class RunOutcome(Event):
    """How the run ended: the value it returned (as data and as repr) or its exception."""

    value: Any
    value_repr: str
    error: ErrorInfo | None

    def describe(self) -> str:
        return f"raised {self.error}" if self.error else f"returned {self.value_repr}"
