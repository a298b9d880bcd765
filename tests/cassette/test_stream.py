"""Streams: a recording flushed at its real pace compresses like one written at once."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

import agentreplay
from agentreplay.cassette import (
    CassetteWriter,
    Event,
    HttpChunk,
    HttpEnd,
    HttpRequest,
    HttpResponse,
)
from agentreplay.cassette.frames import FORMAT_MAJOR
from agentreplay.cassette.stream import STREAM_MAGIC
from agentreplay.errors import CassetteError
from agentreplay.steps import Cassette

from .helpers import read_until_damage
from .test_crash_and_seek import _long_run

REPOSITORY = Path(__file__).parents[2]
MARKER = struct.pack("<I", STREAM_MAGIC)


def _paced(path: Path, events: list[Event], every: int, *, stream: bool = True) -> CassetteWriter:
    """Written as a recording at its pace writes: a small frame every ``every`` events."""
    writer = CassetteWriter(path, {"paced": True}, background=False, stream=stream)
    for n, event in enumerate(events, 1):
        writer.append(event)
        if n % every == 0:
            writer.flush()
    writer.close()
    return writer


def test_paced_frames_go_in_a_stream_and_compress_like_a_batch(tmp_path: Path) -> None:
    events = _long_run(400)
    streamed = _paced(tmp_path / "streamed.cassette", events, every=3)
    cut = _paced(tmp_path / "cut.cassette", events, every=3, stream=False)
    batch = _paced(tmp_path / "batch.cassette", events, every=256, stream=False)
    with agentreplay.open(streamed.path) as cassette:
        assert cassette.format_version[0] == FORMAT_MAJOR
        assert list(cassette.events()) == events
        assert [e for n in (1, 200, 400) for e in cassette.step(n)] == [
            *events[0:4],
            *events[796:800],
            *events[1596:1600],
        ]
    assert streamed.path.read_bytes().count(MARKER) == 1
    assert MARKER not in batch.path.read_bytes()
    # These events differ only by a number: a batch of them compresses to almost nothing,
    # and every piece of the stream still has its block header and checksum.
    assert streamed.path.stat().st_size < cut.path.stat().st_size * 0.8


def test_a_streamed_cassette_cut_anywhere_keeps_every_complete_piece(tmp_path: Path) -> None:
    events = _long_run(30)
    writer = _paced(tmp_path / "run.cassette", events, every=5)
    data = writer.path.read_bytes()
    ends = [offset for offset, _, _ in writer._frames[1:]]
    counts = [sum(count for _, _, count in writer._frames[: i + 1]) for i in range(len(ends))]
    damaged = tmp_path / "cut.cassette"
    for cut in range(ends[0] - 40, len(data), 7):
        damaged.write_bytes(data[:cut])
        got, _ = read_until_damage(damaged)
        complete = max([c for end, c in zip(ends, counts, strict=True) if end <= cut], default=0)
        assert got == events[: len(got)] and len(got) >= complete, cut


def test_a_damaged_piece_names_its_offset_and_keeps_the_pieces_before_it(
    tmp_path: Path,
) -> None:
    events = _long_run(30)
    writer = _paced(tmp_path / "run.cassette", events, every=4)
    frames = writer._frames
    data = bytearray(writer.path.read_bytes())
    victim = len(frames) // 2
    offset, end = frames[victim][0], frames[victim + 1][0]
    for position in range(offset + 1, end, max(1, (end - offset) // 5)):
        damaged = bytearray(data)
        damaged[position] ^= 0x40
        (tmp_path / "damaged.cassette").write_bytes(damaged)
        got, error = read_until_damage(tmp_path / "damaged.cassette")
        before = sum(count for _, _, count in frames[:victim])
        assert error is not None, position
        assert error.offset == offset, position
        assert got == events[:before], position


def test_a_damaged_piece_read_again_gives_the_same_error(tmp_path: Path) -> None:
    events = _long_run(30)
    writer = _paced(tmp_path / "run.cassette", events, every=4)
    frames = writer._frames
    data = bytearray(writer.path.read_bytes())
    victim = len(frames) // 2
    offset, end = frames[victim][0], frames[victim + 1][0]
    for position in range(offset + 1, end):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "damaged.cassette").write_bytes(damaged)
        messages = []
        with Cassette(tmp_path / "damaged.cassette") as cassette:
            for _ in range(2):  # the second read goes on from the stream read so far
                with pytest.raises(CassetteError) as caught:
                    cassette.step(len(events) // 4)
                messages.append(str(caught.value))
        assert messages[0] == messages[1], position
        assert "decompressobj" not in messages[0], position


def test_reading_one_step_decompresses_at_most_one_stream(tmp_path: Path) -> None:
    events = _long_run(6000)  # about 1.5 MB of content: more than one stream
    writer = _paced(tmp_path / "run.cassette", events, every=4)
    streams = writer.path.read_bytes().count(MARKER)
    assert streams >= 2
    with agentreplay.open(writer.path) as cassette:
        assert cassette.step(5500) == events[21996:22000]
        read = cassette.frames_decompressed
        assert 1 < read < len(writer._frames) // 2  # not the whole file
        assert cassette.step(5501) == events[22000:22004]  # the next: read on, not again
        assert cassette.frames_decompressed == read + 1


def test_two_readers_of_one_cassette_interleave(tmp_path: Path) -> None:
    events = _long_run(300)
    writer = _paced(tmp_path / "run.cassette", events, every=3)
    with agentreplay.open(writer.path) as cassette:
        first, second = cassette.events(), cassette.events()
        ahead = [next(first) for _ in range(50)]
        pairs = list(zip(first, second, strict=False))
        assert ahead + [a for a, _ in pairs] == events
        assert [b for _, b in pairs] == events[: len(pairs)]


def test_a_step_and_its_blobs_in_one_stream_are_read_once(tmp_path: Path) -> None:
    # Every flush holds a blobs frame and then the events frame referring to it: a step
    # reads the events, then goes back for the blobs, then on to its next frame.
    events: list[Event] = [
        HttpRequest("0", 0, 0, "POST", "http://model/v1", (), b"{}", "httpx"),
        HttpResponse("0", 1, 1, 0, 200, (), "HTTP/1.1", "OK"),
    ]
    events += [HttpChunk("0", n, n, 0, b"token %06d " % n * 60) for n in range(2, 202)]
    events.append(HttpEnd("0", 202, 202, 0, True))
    writer = _paced(tmp_path / "run.cassette", events, every=2)
    data = writer.path.read_bytes()
    assert data.count(MARKER) == 1
    with agentreplay.open(writer.path) as cassette:
        assert cassette.step(1) == events
        assert cassette.frames_decompressed == len(writer._frames)  # each piece once


def test_a_format_4_cassette_of_chained_frames_still_reads() -> None:
    path = REPOSITORY / "tests" / "cassette" / "data" / "chained-4.0.cassette"
    events = _long_run(300)
    with agentreplay.open(path) as cassette:
        assert cassette.format_version == (4, 0)
        assert cassette.step(250) == events[996:1000]
        assert list(cassette.events()) == events


@pytest.mark.parametrize("name", ["answers_an_order_question", "unknown_order"])
def test_the_repository_s_format_1_cassettes_still_read(name: str) -> None:
    path = REPOSITORY / "cassettes" / "examples" / f"{name}.cassette"
    with agentreplay.open(path) as cassette:
        assert cassette.format_version[0] == 1
        steps = list(cassette.steps())
        assert steps and cassette.outcome is not None
        assert cassette.step(1)


def _token_stream(gap: int) -> list[Event]:
    """A model's streamed answers, 3 MiB of them, a chunk every ``gap`` ns."""
    words = random.Random(7).choices(
        ["the", "tool", "returned", "an", "error", "retry", "with", "a", "smaller", "query"],
        k=40_000,
    )
    events: list[Event] = []
    for n, word in enumerate(words):
        data = b'data: {"id":"chatcmpl-%d","choices":[{"index":0,"delta":{"content":" %s"}}]}\n\n'
        events.append(HttpChunk("0", n, n * gap, 0, data % (n // 400, word.encode())))
    return events


def test_a_slow_recording_is_compressed_harder_than_a_busy_one(tmp_path: Path) -> None:
    """Streams whose content comes at a real agent's pace use the denser level; once the
    content comes fast, or the writer has a backlog, the faster one."""
    slow = _paced(tmp_path / "slow.cassette", _token_stream(20_000_000), every=5)
    busy = _paced(tmp_path / "busy.cassette", _token_stream(1_000), every=5)
    # A frame is cut every 256 events: a writer that finds that many waiting is behind.
    batches = _paced(tmp_path / "batches.cassette", _token_stream(20_000_000), every=255)
    behind = _paced(tmp_path / "behind.cassette", _token_stream(20_000_000), every=256)
    for writer in (slow, busy, batches, behind):
        with agentreplay.open(writer.path) as cassette:
            assert sum(1 for _ in cassette.events()) == 40_000
    assert slow.path.stat().st_size < busy.path.stat().st_size * 0.9
    assert batches.path.stat().st_size < behind.path.stat().st_size * 0.9
