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

from agentreplay.cassette.blobs import INLINE_MAX
from agentreplay.cassette.events import KINDS, ErrorInfo, Event, HttpChunk
from agentreplay.errors import CassetteError

__all__ = [
    "ENCODERS",
    "KIND_CODES",
    "ChunkFields",
    "check_plain",
    "decode_event",
    "decode_events",
    "encode_chunk_fields",
    "encode_event",
    "to_absolute",
    "to_relative",
]

Intern = Callable[[bytes], "bytes | list[int]"]
Resolve = Callable[[list[int]], bytes]
Encoder = Callable[[Event, Intern], list[Any]]

# Each kind's code and (field, tag) pairs, from the registry of event kinds; the tags
# are explained in events.py.
_SCHEMA: Final[dict[type[Event], tuple[int, tuple[tuple[str, str], ...]]]] = {
    cls: (kind.code, kind.fields) for cls, kind in KINDS.items()
}

KIND_CODES: Final[dict[type[Event], int]] = {cls: code for cls, (code, _) in _SCHEMA.items()}
_BY_CODE: Final = {code: (cls, fields) for cls, (code, fields) in _SCHEMA.items()}

# The exact types a field may decode to on the fast path: a kind whose fields all
# appear here is checked with one comparison of ``tuple(map(type, item))``.
_FAST_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "s": (str,),
    "i": (int,),
    "n": (int, float),
    "o": (bool,),
    "b": (bytes,),
}


def _encode_error(error: ErrorInfo | None) -> list[Any] | None:
    if error is None:
        return None
    return [error.type, error.message, error.traceback, error.args]


def _encoder_source(code: int, fields: tuple[tuple[str, str], ...], *, values: bool) -> str:
    """An encoder's source, generated from the kind's field list (never from data) as one
    list display: the writer runs it once per event, a streamed answer's chunks included.
    With ``values``, it takes the event's fields as a tuple, in order, not the event."""
    names = ["task", "seq", "at", *(name for name, _ in fields)]
    if values:
        head = f"def encode(event, intern):\n    {', '.join(names)}, = event\n"
        access = "{}".format
    else:
        head = "def encode(event, intern):\n"
        access = "event.{}".format
    items = [str(code), *(access(name) for name in names[:3])]
    for name, tag in fields:
        value = access(name)
        if tag == "b":  # short ones stay inline; spare the call
            items.append(f"({value} if len({value}) < INLINE_MAX else intern({value}))")
        elif tag == "h":
            items.append(f"[item for pair in {value} for item in pair]")
        elif tag in "eE":
            items.append(f"_encode_error({value})")
        else:
            items.append(value)
    return f"{head}    return [{', '.join(items)}]\n"


def _make_encoder(code: int, fields: tuple[tuple[str, str], ...], *, values: bool = False) -> Any:
    env: dict[str, Any] = {"INLINE_MAX": INLINE_MAX, "_encode_error": _encode_error}
    exec(_encoder_source(code, fields, values=values), env)
    return env["encode"]


ENCODERS: Final[dict[type[Event], Encoder]] = {
    cls: _make_encoder(code, fields) for cls, (code, fields) in _SCHEMA.items()
}

ChunkFields = tuple[str, int, int, int, bytes]
"""An `HttpChunk` given by its fields, in order: what a recorder hands a writer for each
chunk of a streamed body, without making the event (see `EventSink.append_chunk`)."""
encode_chunk_fields: Final[Callable[[ChunkFields, Intern], list[Any]]] = _make_encoder(
    *_SCHEMA[HttpChunk], values=True
)


def encode_event(event: Event, intern: Intern) -> list[Any]:
    """Return the plain-data form of ``event``; long byte strings go through ``intern``."""
    return ENCODERS[type(event)](event, intern)


def _bad(what: str) -> CassetteError:
    return CassetteError(f"malformed event: {what}")


_PLAIN_SCALARS: Final = frozenset({type(None), bool, int, float, str, bytes})


def check_plain(value: Any, what: str) -> Any:
    """Return ``value`` if it is nil, bool, int, float, str, bytes, or arrays and maps of them.

    msgpack turns extension type -1 into a ``Timestamp`` whatever ``ext_hook``
    says, so free-form values are walked once to keep every extension out.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif kind not in _PLAIN_SCALARS:
            raise CassetteError(f"{what} holds a {kind.__name__}, which is not plain data")
    return value


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
        if (
            not isinstance(value, list)
            or len(value) % 2
            or not all(isinstance(v, str) for v in value)
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
        return ErrorInfo(value[0], value[1], value[2], check_plain(value[3], name))
    if tag == "l":
        if not isinstance(value, list):
            raise _bad(f"{name} is not a list")
        return check_plain(value, name)
    if tag == "d":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _bad(f"{name} is not a map with string keys")
        return check_plain(value, name)
    return check_plain(value, name)


def _make_builder(cls: type[Event]) -> Callable[[list[Any]], Event]:
    """A function building ``cls`` from ``[kind, task, seq, at, *fields]``, values as given.

    It fills the slots directly: a frozen dataclass's ``__init__`` goes through
    ``object.__setattr__`` once per field, which doubles the cost of reading a
    cassette. Like `dataclasses`, it is generated from the field list (never from
    data), unrolled because a loop over the fields costs as much as ``__init__``.
    """
    names = ("task", "seq", "at", *(name for name, _ in _SCHEMA[cls][1]))
    env: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = ["def build(item):", *_filling(cls, names, env)]
    exec("\n".join(lines), env)  # code built from the schema above, never from data
    return env["build"]  # type: ignore[no-any-return]


def _filling(cls: type[Event], names: tuple[str, ...], env: dict[str, Any]) -> list[str]:
    """The lines that make ``event`` and set each slot from ``item[1:]``, their setters
    put in ``env``."""
    lines = ["    event = new(cls)"]
    for position, name in enumerate(names, 1):
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        env[f"set_{name}"] = vars(owner)[name].__set__
        lines.append(f"    set_{name}(event, item[{position}])")
    return [*lines, "    return event"]


_BUILDERS: Final = {cls: _make_builder(cls) for cls in _SCHEMA}

_CHECKS: Final = {
    "s": "type({v}) is not str",
    "i": "type({v}) is not int",
    "n": "type({v}) not in _NUMBERS",
    "o": "type({v}) is not bool",
    "b": "type({v}) is not bytes",
}


def _make_fast(cls: type[Event]) -> Callable[[list[Any]], Event | None]:
    """Check and build in one call an item whose fields need no conversion (short byte
    strings inline, no error records): ``None`` sends it down the careful path."""
    fields = _SCHEMA[cls][1]
    names = ("task", "seq", "at", *(name for name, _ in fields))
    tags = ("s", "i", "i", *(tag for _, tag in fields))
    env: dict[str, Any] = {"new": object.__new__, "cls": cls, "_NUMBERS": (int, float)}
    checks = [
        "type(item) is not list",
        f"len(item) != {len(names) + 1}",
        "type(item[0]) is not int",
    ]
    checks += [_CHECKS[tag].format(v=f"item[{i}]") for i, tag in enumerate(tags, 1)]
    lines = [
        "def fast(item):",
        f"    if {' or '.join(checks)}:",
        "        return None",
        *_filling(cls, names, env),
    ]
    exec("\n".join(lines), env)  # code built from the schema above, never from data
    return env["fast"]  # type: ignore[no-any-return]


# kind code -> fast path, for the kinds whose every field can skip conversion.
_FAST: Final[dict[int, Callable[[list[Any]], Event | None]]] = {
    code: _make_fast(cls)
    for cls, (code, fields) in _SCHEMA.items()
    if all(tag in _CHECKS for _, tag in fields)
}


def decode_event(data: Any, resolve: Resolve) -> Event:
    """Build the event that ``data`` (one item of an events frame) describes."""
    if type(data) is not list or len(data) < 4:
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
    return _BUILDERS[cls]([code, task, seq, at, *values])


def _no_fast_path(item: list[Any]) -> Event | None:
    return None


def decode_events(items: list[Any], resolve: Resolve) -> list[Event]:
    """Build the events of one events frame (``decode_event`` of each item, faster)."""
    fast = _FAST.get
    out: list[Event] = []
    append = out.append
    for item in items:
        try:
            event = fast(item[0], _no_fast_path)(item)
        except (TypeError, LookupError):  # not a list, empty, or an unhashable kind
            event = None
        append(decode_event(item, resolve) if event is None else event)
    return out


# -- times and sequence numbers as differences (format 6.0) ---------------------
_LOW, _HIGH = -(1 << 63), 1 << 64  # what msgpack holds


def to_relative(items: list[list[Any]]) -> None:
    """Make an events frame's ``seq`` and ``at`` differences, in place (format 6.0,
    docs/cassette-format.md section 5.1): each ``at`` from the event before it in the
    frame, each ``seq`` from the last of its task's events in the frame, less one; the
    first event of the frame and of each task keep their own. Times and counters that
    move by small steps then cost a byte or two where they cost up to nine."""
    previous = 0
    last: dict[str, int] = {}
    for item in items:
        task, seq, at = item[1], item[2], item[3]
        item[3] = at - previous
        previous = at
        if task in last:
            item[2] = seq - last[task] - 1
        last[task] = seq


def to_absolute(items: list[Any]) -> None:
    """Undo `to_relative`, in place, on an events frame read from a file. An item that
    is no event array of the right types is left for `decode_events` to refuse."""
    previous = 0
    last: dict[str, int] = {}
    for item in items:
        if type(item) is not list or len(item) < 4:
            continue
        task, seq, at = item[1], item[2], item[3]
        if type(task) is not str or type(seq) is not int or type(at) is not int:
            continue
        at += previous
        if task in last:
            seq += last[task] + 1
        if not (_LOW <= at < _HIGH and _LOW <= seq < _HIGH):
            raise _bad(f"the seq or at of an event of task {task!r} is out of range")
        item[2] = seq
        item[3] = previous = at
        last[task] = seq
