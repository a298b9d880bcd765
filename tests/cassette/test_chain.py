"""Chained frames: a recording flushed at its real pace compresses like one written at once."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import agentreplay
from agentreplay.cassette import CassetteWriter, Event
from agentreplay.cassette.chain import LINK_MAGIC
from agentreplay.cassette.frames import FORMAT_MAJOR

from .helpers import read_until_damage
from .test_crash_and_seek import _long_run

REPOSITORY = Path(__file__).parents[2]


def _paced(path: Path, events: list[Event], every: int, *, chain: bool = True) -> CassetteWriter:
    """Written as a recording at its pace writes: a small frame every ``every`` events."""
    writer = CassetteWriter(path, {"paced": True}, background=False, chain=chain)
    for n, event in enumerate(events, 1):
        writer.append(event)
        if n % every == 0:
            writer.flush()
    writer.close()
    return writer


def test_paced_frames_are_chained_and_compress_better(tmp_path: Path) -> None:
    events = _long_run(400)
    chained = _paced(tmp_path / "chained.cassette", events, every=3)
    _paced(tmp_path / "cut.cassette", events, every=3, chain=False)
    batch = _paced(tmp_path / "batch.cassette", events, every=256, chain=False)
    with agentreplay.open(chained.path) as cassette:
        assert cassette.format_version[0] == FORMAT_MAJOR
        assert list(cassette.events()) == events
        assert [e for n in (1, 200, 400) for e in cassette.step(n)] == [
            *events[0:4],
            *events[796:800],
            *events[1596:1600],
        ]
    size = chained.path.stat().st_size
    assert struct.pack("<I", LINK_MAGIC) in chained.path.read_bytes()
    assert size < (tmp_path / "cut.cassette").stat().st_size
    assert struct.pack("<I", LINK_MAGIC) not in batch.path.read_bytes()


def test_a_chained_cassette_cut_anywhere_keeps_every_complete_frame(tmp_path: Path) -> None:
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


def test_reading_one_step_decompresses_at_most_one_chain(tmp_path: Path) -> None:
    events = _long_run(6000)  # about 1.5 MB of content: more than one chain
    writer = _paced(tmp_path / "run.cassette", events, every=4)
    links = writer.path.read_bytes().count(struct.pack("<I", LINK_MAGIC))
    keyframes = len(writer._frames) - links
    assert keyframes >= 2
    with agentreplay.open(writer.path) as cassette:
        assert cassette.step(5500) == events[21996:22000]
        read = cassette.frames_decompressed
    assert 1 < read <= len(writer._frames) - keyframes + 1
    assert read < len(writer._frames) // 2  # not the whole file


@pytest.mark.parametrize("name", ["answers_an_order_question", "unknown_order"])
def test_the_repository_s_format_1_cassettes_still_read(name: str) -> None:
    path = REPOSITORY / "cassettes" / "examples" / f"{name}.cassette"
    with agentreplay.open(path) as cassette:
        assert cassette.format_version[0] == 1
        steps = list(cassette.steps())
        assert steps and cassette.outcome is not None
        assert cassette.step(1)
