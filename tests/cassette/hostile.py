"""Cassettes built on purpose: every frame well formed and checksummed, the contents wrong.

`build` writes frames from plain values exactly as the writer frames them, so
a reader cannot reject them for their framing (in streams or not); the strategy `hostile_files`
draws such files with wrong step numbers, offsets that point anywhere,
counts that do not add up, repeated blob references, headers with fields of
the wrong type, and frames that expand to many times their size.
"""

from __future__ import annotations

import io
import resource
import struct
import tracemalloc
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import msgpack
import zstandard
from hypothesis import strategies as st

from agentreplay.cassette.frames import FOOTER_MAGIC, FOOTER_TAG, INDEX_MAGIC, encode_header
from agentreplay.cassette.stream import StreamCompressor
from agentreplay.cli import main
from agentreplay.errors import CassetteError, CassetteWarning
from agentreplay.steps import open_cassette

_compressor = zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True)
_MB = 1024 * 1024


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def data_frame(value: Any) -> bytes:
    """A data frame of any msgpack value: sound zstd, checksum and content size."""
    return _compressor.compress(pack(value))


def index_frame(value: Any) -> bytes:
    compressed = _compressor.compress(pack(value))
    payload = struct.pack("<I", zlib.crc32(compressed)) + compressed
    return struct.pack("<II", INDEX_MAGIC, len(payload)) + payload


def footer(offset: int) -> bytes:
    return struct.pack("<II", FOOTER_MAGIC, 16) + FOOTER_TAG + struct.pack("<Q", offset)


def blob(blob_id: int, data: bytes) -> list[Any]:
    return [blob_id, data]


def framed(frames: list[Any], start: int, *, streamed: bool = False) -> tuple[bytes, list[int]]:
    """The data frames holding ``frames`` (plain values) from offset ``start``, each a zstd
    frame or (``streamed``) all pieces of one stream, as the writer makes them; and the
    offset of each."""
    out, offsets = bytearray(), []
    stream = StreamCompressor()
    for value in frames:
        offsets.append(start + len(out))
        if streamed:
            out += (b"" if stream.is_open else stream.open(0)) + stream.piece(pack(value))
        else:
            out += data_frame(value)
    return bytes(out + stream.end(0)), offsets


def build(
    frames: list[Any],
    *,
    header: dict[str, Any] | None = None,
    index: Any = None,
    footer_offset: int | None = None,
    streamed: bool = False,
) -> bytes:
    """A cassette of a header, data frames holding ``frames`` (plain values; in a stream
    if ``streamed``), and, if ``index`` is given, an index frame and a footer (at
    ``footer_offset``, or the index's own offset when None)."""
    out = bytearray(encode_header(header if header is not None else {"run_id": "hostile"}))
    out += framed(frames, len(out), streamed=streamed)[0]
    if index is not None:
        offset = len(out)
        out += index_frame(index)
        out += footer(offset if footer_offset is None else footer_offset % 2**64)
    elif footer_offset is not None:
        out += footer(footer_offset % 2**64)
    return bytes(out)


def request(seq: int, body: Any = b"", url: str = "http://h/v1/chat/completions") -> list[Any]:
    return [1, "0", seq, seq, "POST", url, ["content-type", "application/json"], body, "httpx"]


def response(seq: int, request_seq: int) -> list[Any]:
    return [2, "0", seq, seq, request_seq, 200, [], "HTTP/1.1", "OK"]


def chunk(seq: int, request_seq: int, data: Any) -> list[Any]:
    return [3, "0", seq, seq, request_seq, data]


def end(seq: int, request_seq: int) -> list[Any]:
    return [4, "0", seq, seq, request_seq, True]


def outcome(seq: int) -> list[Any]:
    return [12, "0", seq, seq, None, "None", ["ValueError", "boom", "Traceback", ["boom"]]]


# -- running every reader on a file ----------------------------------------------------

READERS: dict[str, Callable[[Path], object]] = {
    "show": lambda path: main(["show", str(path)]),
    "show --step 1": lambda path: main(["show", str(path), "--step", "1"]),
    "show --step 2": lambda path: main(["show", str(path), "--step", "2"]),
    "show --json": lambda path: main(["show", str(path), "--json"]),
    "show --events": lambda path: main(["show", str(path), "--events"]),
    "export jsonl": lambda path: main(["export", str(path)]),
    "export otlp": lambda path: main(["export", str(path), "--format", "otlp"]),
    "steps": lambda path: _api(path, lambda c: (list(c.steps()), c.outcome)),
    "step 1": lambda path: _api(path, lambda c: c.step(1)),
    "outcome": lambda path: _api(path, lambda c: c.outcome),
    "events": lambda path: _api(path, lambda c: list(c.events())),
}


def _api(path: Path, use: Callable[[Any], object]) -> object:
    try:
        with open_cassette(path) as cassette:
            return use(cassette)
    except IndexError:
        return None  # step(1) of a cassette without step 1: the documented answer


def run_every_reader(path: Path, *, limit: int) -> dict[str, int]:
    """Run every way of reading ``path``; each may return or raise CassetteError only,
    and none may allocate more than ``limit`` bytes at once (tracemalloc's peak).
    Returns each reader's peak."""
    peaks: dict[str, int] = {}
    for name, read in READERS.items():
        with measured() as peak, warnings.catch_warnings():
            warnings.simplefilter("ignore", CassetteWarning)
            sink = io.StringIO()
            try:
                with redirect_stdout(sink), redirect_stderr(sink):
                    read(path)
            except CassetteError:
                pass
        peaks[name] = peak()
        assert peaks[name] <= limit, f"{name}: {peaks[name] / _MB:.1f} MiB"
    return peaks


@contextmanager
def measured() -> Iterator[Callable[[], int]]:
    """The peak of memory traced while the block ran, in bytes."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    peak = [0]
    try:
        yield lambda: peak[0]
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1] - base
        if started:
            tracemalloc.stop()


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- the strategy ----------------------------------------------------------------------

_ints = st.one_of(
    st.integers(-3, 40),
    st.sampled_from([2**31, 2**32 + 5, 2**62, 2**63 - 1, 2**64 - 1, -(2**63)]),
)
_texts = st.sampled_from(["0", "0.1", "", "x", "yesterday", "http://h/v1/messages"])
_values = st.recursive(
    st.none() | st.booleans() | _ints | _texts | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=10,
)
_HEADER_FIELDS = [
    "run_id",
    "created",
    "created_ns",
    "python",
    "entrypoint",
    "argv",
    "env",
    "parent",
    "imported",
    "redaction",
    "metadata",
    "recorded",
    "args",
    "cwd",
]
_GOOD_HEADER = {"run_id": "hostile", "created": "2026-01-01T00:00:00+00:00", "created_ns": 0}
_URLS = [
    "http://h/v1/chat/completions",
    "http://h/v1/messages",
    "http://h/v1/responses",
    "http://h/tool/1",
]
_BODIES = [
    b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}',
    b'{"model":"m","messages":"not a list","tools":5}',
    b'{"model":["m"],"input":[{"type":"x"}]}',
    b"[1,2",
    b"",
]
_CHUNKS = [
    b'data: {"choices":[{"delta":{"content":"a"}}]}\n\n',
    b'data: {"choices":[{"delta":{"tool_calls":[{"index":99,"function":{}}]}}]}\n\n',
    b'event: message_start\ndata: {"type":"message_start","message":{"usage":5}}\n\n',
    b"data: [DONE]\n\n",
    b'{"choices":[{"message":{"content":null}}],"usage":{"prompt_tokens":"x"}}',
    b"\xff\xfe",
]
_PIECE = b'{"role":"user","content":"' + b"x" * 300 + b'"},'


@st.composite
def _body(draw: st.DrawFn, pool: list[bytes]) -> Any:
    """Inline bytes, or references to blobs (known ids, unknown ones, repeated ones)."""
    if draw(st.integers(0, 3)) or not pool:
        return draw(st.sampled_from(pool or _BODIES))
    ids = draw(st.lists(st.integers(-1, 6), min_size=1, max_size=6))
    return ids * draw(st.sampled_from([1, 1, 2, 40]))


@st.composite
def _exchange(draw: st.DrawFn, seq: int) -> list[list[Any]]:
    """An HTTP exchange (or a tool call) as items, some fields lying."""
    link = seq if draw(st.integers(0, 4)) else draw(_ints)
    if draw(st.integers(0, 5)) == 0:
        call = [8, "0", seq, seq, "lookup", [draw(_values)], {"q": draw(_values)}]
        result = [9, "0", seq + 1, seq + 1, link, draw(_values), None]
        return [call, result]
    items = [
        [
            1,
            "0",
            seq,
            seq,
            "POST",
            draw(st.sampled_from(_URLS)),
            ["content-type", "x"],
            draw(_body(_BODIES)),
            "httpx",
        ],
        [
            2,
            "0",
            seq + 1,
            seq + 1,
            link,
            draw(st.sampled_from([200, 500, 99])),
            ["content-type", draw(st.sampled_from(["text/event-stream", "application/json"]))],
            "HTTP/1.1",
            "OK",
        ],
    ]
    for i in range(draw(st.integers(0, 3))):
        items.append([3, "0", seq + 2 + i, seq + 2 + i, link, draw(_body(_CHUNKS))])
    if draw(st.booleans()):
        items.append([4, "0", seq + 9, seq + 9, link, draw(st.booleans())])
    return items


@st.composite
def _frames(draw: st.DrawFn) -> list[list[Any]]:
    frames: list[list[Any]] = []
    step = 0
    seq = 0
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 3)) == 0:
            ids = draw(st.lists(st.integers(-1, 6), min_size=1, max_size=4))
            size = draw(st.sampled_from([1, 300, 64 * 1024, 4 * _MB]))
            piece = (_PIECE * (size // len(_PIECE) + 1))[:size]
            frames.append([2, [blob(i, piece) for i in ids]])
            continue
        events: list[Any] = []
        steps: list[int] = []
        for _ in range(draw(st.integers(1, 3))):
            step += 1
            exchange = draw(_exchange(seq))
            seq += 10
            events += exchange
            steps += [step] * len(exchange)
        if draw(st.integers(0, 5)) == 0:
            events.append(outcome(seq))
            steps.append(0)
        if draw(st.integers(0, 3)) == 0:  # step numbers that lie
            steps = draw(st.lists(_ints, min_size=len(steps), max_size=len(steps)))
        elif draw(st.integers(0, 7)) == 0:  # an item that is not an event at all
            events[draw(st.integers(0, len(events) - 1))] = draw(_values)
        frames.append([1, events, steps])
    return frames


def _true_index(
    frames: list[list[Any]], offsets: list[int], streams: list[list[int]]
) -> dict[str, Any]:
    """The index a writer would have written (step numbers as the frames say)."""
    entries: list[list[int]] = []
    steps: dict[int, tuple[int, int]] = {}
    blobs: dict[int, int] = {}
    outcome_at = None
    for offset, frame in zip(offsets, frames, strict=True):
        if frame[0] == 2:
            entries.append([offset, 2, 0])
            blobs.update((item[0], offset) for item in frame[1] if isinstance(item[0], int))
            continue
        entries.append([offset, 1, len(frame[1])])
        for item, number in zip(frame[1], frame[2], strict=False):
            if isinstance(number, int) and number > 0:
                first, _ = steps.get(number, (offset, offset))
                steps[number] = (first, offset)
            if isinstance(item, list) and item[:1] == [12]:
                outcome_at = offset
    return {
        "events": sum(e[2] for e in entries),
        "frames": entries,
        "steps": [
            [n, "http", "POST x", "0", 0, 0, 1, *steps.get(n, (-1, -1))]
            for n in range(1, len(steps) + 1)
        ],
        "blobs": [blobs.get(i, -1) for i in range(len(blobs))],
        "outcome": outcome_at,
        "streams": streams,
        "closed_at": 0,
    }


@st.composite
def _index(
    draw: st.DrawFn, frames: list[list[Any]], offsets: list[int], streams: list[list[int]]
) -> Any:
    index = _true_index(frames, offsets, streams)
    anywhere = st.one_of(st.sampled_from(offsets or [0]), _ints)
    for _ in range(draw(st.integers(0, 3))):  # then a few lies
        key = draw(
            st.sampled_from(["events", "frames", "steps", "blobs", "outcome", "streams", "extra"])
        )
        if key == "frames" and index["frames"]:
            entry = draw(st.integers(0, len(index["frames"]) - 1))
            index["frames"][entry][draw(st.integers(0, 2))] = draw(anywhere)
        elif key == "steps" and index["steps"]:
            entry = draw(st.integers(0, len(index["steps"]) - 1))
            index["steps"][entry][draw(st.sampled_from([0, 4, 7, 8]))] = draw(anywhere)
        elif key == "blobs":
            index["blobs"] = draw(st.lists(anywhere, max_size=4))
        elif key == "outcome":
            index["outcome"] = draw(anywhere)
        elif key == "streams":
            index["streams"] = draw(st.lists(st.lists(anywhere, min_size=2, max_size=2)))
        elif key == "events":
            index["events"] = draw(_ints)
        else:  # a field of another shape altogether: the last lie told
            index[draw(st.sampled_from(["frames", "steps", "x"]))] = draw(_values)
            break
    return index


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    """A cassette whose every frame is sound and whose contents lie."""
    header = dict(_GOOD_HEADER)
    if draw(st.integers(0, 9)) == 0:
        header.update(draw(st.dictionaries(st.sampled_from(_HEADER_FIELDS), _values, max_size=3)))
    frames = draw(_frames())
    streamed = bool(frames) and draw(st.booleans())
    prefix = len(encode_header(header))
    data, offsets = framed(frames, prefix, streamed=streamed)
    streams = [[prefix, prefix + len(data)]] if streamed else []
    index = draw(_index(frames, offsets, streams)) if draw(st.integers(0, 3)) else None
    footer_offset = None if draw(st.integers(0, 5)) else draw(_ints)
    return build(frames, header=header, index=index, footer_offset=footer_offset, streamed=streamed)
