"""Format 6.0: events store their time and sequence number as differences, blob records
carry no digest; files of 5.0 and before still read as they were written."""

from __future__ import annotations

import hashlib
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import agentreplay
from agentreplay.cassette.codec import to_absolute, to_relative
from agentreplay.cassette.events import HttpChunk, HttpEnd, HttpRequest, HttpResponse
from agentreplay.cassette.frames import FRAME_EVENTS, FrameReader
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.errors import CassetteError, CassetteWarning

from .hostile import blob, build
from .test_crash_and_seek import _long_run

DATA = Path(__file__).parent / "data"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["0", "0.1", "0.2"]),
            st.integers(0, 2**40),
            st.integers(-(2**62), 2**62),
        ),
        max_size=40,
    )
)
def test_differences_give_back_every_time_and_sequence_number(
    rows: list[tuple[str, int, int]],
) -> None:
    items = [[3, task, seq, at, 0, b"x"] for task, seq, at in rows]
    stored = [list(item) for item in items]
    to_relative(stored)
    to_absolute(stored)
    assert stored == items


def test_a_recording_stores_small_differences_and_reads_back_what_it_recorded(
    tmp_path: Path,
) -> None:
    start = 7_000_000_000_000  # two hours into a run, in ns
    events = [
        HttpRequest("0", 500, start, "POST", "http://model/v1", (), b"{}", "httpx"),
        HttpResponse("0", 501, start + 250_000_000, 500, 200, (), "HTTP/1.1", "OK"),
    ]
    events += [
        HttpChunk("0", 502 + n, start + 250_000_000 + n * 20_000_000, 500, b"tok")
        for n in range(20)
    ]
    events.append(HttpEnd("0", 522, start + 700_000_000, 500, True))
    path = tmp_path / "run.cassette"
    writer = CassetteWriter(path, {"run_id": "relative"}, background=False)
    for event in events:
        writer.append(event)
    writer.close()

    with path.open("rb") as file:
        frames = FrameReader(file, str(path))
        frames.read_header()
        index = frames.read_index(frames.read_footer() or 0)
        (offset,) = [offset for offset, kind, _ in index["frames"] if kind == FRAME_EVENTS]
        stored = frames.next_frame(offset)[2][1]
    assert [item[2] for item in stored] == [500] + [0] * 22  # each one after the last
    assert [item[3] for item in stored[:3]] == [start, 250_000_000, 0]
    assert {item[3] for item in stored[3:-1]} == {20_000_000}
    with agentreplay.open(path) as cassette:
        assert cassette.format_version[0] >= 6  # times and numbers as differences
        assert list(cassette.events()) == events
        assert cassette.step(1) == events


def test_a_format_5_cassette_of_absolute_times_and_digested_blobs_still_reads() -> None:
    events = _long_run(300)
    with agentreplay.open(DATA / "streams-5.0.cassette") as cassette:
        assert cassette.format_version == (5, 0)
        assert cassette.step(250) == events[996:1000]
        assert list(cassette.events()) == events


def _version(data: bytes, major: int) -> bytes:
    """``data`` (a cassette) with the format major version in its header changed, and its
    checksum as that version has it (before 7.0, of the map alone)."""
    size = struct.unpack_from("<I", data, 4)[0]
    version, body = struct.pack("<H", major) + data[18:20], data[24 : 8 + size]
    crc = zlib.crc32(version + body if major >= 7 else body)
    return data[:16] + version + struct.pack("<I", crc) + data[24:]


def _one_blob(record: list[object]) -> bytes:
    request = [1, "0", 0, 0, "POST", "http://model/v1", [], [0], "httpx"]
    return build([[2, [record]], [FRAME_EVENTS, [request], [1]]])


def _read(path: Path) -> list[object]:
    """The events of a file built without an index (as if its recording was cut)."""
    with agentreplay.open(path) as cassette, warnings.catch_warnings():
        warnings.simplefilter("ignore", CassetteWarning)
        return list(cassette.events())


def test_blob_records_are_read_in_the_shape_of_their_version(tmp_path: Path) -> None:
    data = bytes(600)
    digest = hashlib.blake2b(data, digest_size=16).digest()
    path = tmp_path / "blob.cassette"

    path.write_bytes(_version(_one_blob([0, digest, data]), 5))
    (request,) = _read(path)
    assert isinstance(request, HttpRequest) and request.body == data

    path.write_bytes(_version(_one_blob([0, bytes(16), data]), 5))  # a digest that lies
    with pytest.raises(CassetteError, match="fails its digest"):
        _read(path)

    path.write_bytes(_one_blob(blob(0, data)))
    (request,) = _read(path)
    assert isinstance(request, HttpRequest) and request.body == data

    path.write_bytes(_one_blob([0, digest, data]))  # 5.0's shape in a 6.0 file
    with pytest.raises(CassetteError, match="blob record is malformed"):
        _read(path)


def test_differences_that_add_up_past_what_msgpack_holds_are_refused(tmp_path: Path) -> None:
    huge = 2**64 - 1
    chunks = [[3, "0", 0, huge, 0, b"a"], [3, "0", 0, huge, 0, b"b"]]
    path = tmp_path / "overflow.cassette"
    path.write_bytes(build([[FRAME_EVENTS, chunks, [0, 0]]]))
    with pytest.raises(CassetteError, match="out of range"):
        _read(path)
