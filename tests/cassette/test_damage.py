from __future__ import annotations

import struct
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentreplay
from agentreplay.cassette import (
    ClockRead,
    Event,
    HttpChunk,
    HttpEnd,
    HttpRequest,
    HttpResponse,
)
from agentreplay.cassette.codec import decode_events
from agentreplay.cassette.frames import FORMAT_MAJOR, FORMAT_MINOR
from agentreplay.errors import CassetteError, CassetteWarning

from .helpers import read_until_damage, write

Sample = tuple[Path, list[Event], list[tuple[int, int]]]

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _sample_events() -> list[Event]:
    events: list[Event] = []
    seq = 0
    for turn in range(6):
        body = (
            b'{"messages":['
            + b",".join(
                b'{"role":"user","content":"%s"}' % (b"m%d " % i * 60) for i in range(turn + 2)
            )
            + b"]}"
        )
        events.append(HttpRequest("0", seq, seq, "POST", "http://x/v1", (("a", "b"),), body, "x"))
        events.append(HttpResponse("0", seq + 1, seq + 1, seq, 200, (), "HTTP/1.1", "OK"))
        for c in range(3):
            events.append(HttpChunk("0", seq + 2 + c, seq + 2 + c, seq, b"data: %d\n\n" % c))
        events.append(HttpEnd("0", seq + 5, seq + 5, seq, True))
        events.append(ClockRead("0.1", turn, seq, "wall", 1_700_000_000 * 10**9 + turn))
        seq += 6
    return events


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    path = tmp_path_factory.mktemp("sample") / "run.cassette"
    events = _sample_events()
    writer = write(path, events, flush_events=4)
    # (end offset of frame, number of events in that frame and all before it)
    frames = writer._frames
    data = path.read_bytes()
    ends = [frame[0] for frame in frames[1:]] + [len(data) - 0]
    bounds: list[tuple[int, int]] = []
    count = 0
    index_start = struct.unpack("<Q", data[-8:])[0]
    ends[-1] = index_start
    for frame, end in zip(frames, ends, strict=True):
        count += frame[2]
        bounds.append((end, count))
    return path, events, bounds


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=10**9))
def test_truncation_at_any_byte_keeps_every_complete_frame(
    sample: Sample, tmp_path: Path, cut: int
) -> None:
    path, events, bounds = sample
    data = path.read_bytes()
    cut %= len(data)
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(data[:cut])
    expected = max([count for end, count in bounds if end <= cut], default=0)
    try:
        got, error = read_until_damage(damaged)
    except CassetteError:  # the header itself was cut: nothing is readable
        assert cut < bounds[0][0]
        return
    assert got == events[:expected]
    if error is not None:
        assert error.offset is not None and error.offset <= cut
        assert error.events_read == len(got)


def test_every_truncation_point_in_the_data(sample: Sample, tmp_path: Path) -> None:
    path, events, bounds = sample
    data = path.read_bytes()
    header_end = 8 + struct.unpack_from("<I", data, 4)[0]
    for cut in range(header_end, len(data)):
        damaged = tmp_path / "cut.cassette"
        damaged.write_bytes(data[:cut])
        got, _ = read_until_damage(damaged)
        expected = max([count for end, count in bounds if end <= cut], default=0)
        assert got == events[:expected], cut


@SETTINGS
@given(position=st.integers(min_value=0, max_value=10**9), bit=st.integers(0, 7))
def test_bit_flip_gives_cassette_error_or_correct_events(
    sample: Sample, tmp_path: Path, position: int, bit: int
) -> None:
    path, events, _ = sample
    data = bytearray(path.read_bytes())
    position %= len(data)
    data[position] ^= 1 << bit
    damaged = tmp_path / "flip.cassette"
    damaged.write_bytes(bytes(data))
    got, error = read_until_damage(damaged)
    assert got == events[: len(got)]
    if error is None:
        assert got == events


def test_truncated_cassette_warns_and_yields_what_it_can(sample: Sample, tmp_path: Path) -> None:
    path, events, bounds = sample
    data = path.read_bytes()
    cut = bounds[3][0] + 5
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(data[:cut])
    with (
        agentreplay.open(damaged) as cassette,
        pytest.warns(CassetteWarning, match="damaged or truncated"),
    ):
        got = list(cassette.events(errors="warn"))
    assert got == events[: bounds[3][1]]
    with agentreplay.open(damaged) as cassette, pytest.raises(CassetteError) as info:
        list(cassette.events())
    assert info.value.offset == bounds[3][0]
    assert f"at byte {bounds[3][0]}" in str(info.value)


def test_a_quiet_read_stops_at_the_damage_and_the_cassette_says_where(
    sample: Sample, tmp_path: Path
) -> None:
    path, events, bounds = sample
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(path.read_bytes()[: bounds[3][0] + 5])
    with agentreplay.open(damaged) as cassette:
        assert cassette.damage is None
        assert list(cassette.events(errors="ignore")) == events[: bounds[3][1]]  # no warning
        assert cassette.damage is not None
        assert cassette.damage.offset == bounds[3][0]
        assert cassette.damage.events_read == bounds[3][1]
    with agentreplay.open(path) as cassette:
        assert len(list(cassette.events(errors="ignore"))) == len(events)
        assert cassette.damage is None


def test_rebuilding_the_index_of_a_cut_cassette_finds_the_damage(
    sample: Sample, tmp_path: Path
) -> None:
    path, _, bounds = sample
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(path.read_bytes()[: bounds[3][0] + 5])
    with agentreplay.open(damaged) as cassette:
        infos = cassette.step_infos()  # the second step was cut before its end
        assert [info.end_at is not None for info in infos] == [True, False]
        assert cassette.damage is not None and cassette.damage.offset == bounds[3][0]


def test_cassette_cut_at_a_frame_boundary_reads_fully_with_a_warning(
    sample: Sample, tmp_path: Path
) -> None:
    path, events, bounds = sample
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(path.read_bytes()[: bounds[-1][0]])
    with agentreplay.open(damaged) as cassette:
        with pytest.warns(CassetteWarning, match="not closed"):
            assert list(cassette.events()) == events
        assert not cassette.closed_cleanly
        assert cassette.step(2) == events[7:13]


def test_newer_major_version_names_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "new.cassette"
    write(path, _sample_events())
    data = bytearray(path.read_bytes())
    struct.pack_into("<HH", data, 16, FORMAT_MAJOR + 1, 0)
    path.write_bytes(bytes(data))
    this = rf"\(format {FORMAT_MAJOR}\.{FORMAT_MINOR}\)"
    with pytest.raises(CassetteError, match=rf"format version {FORMAT_MAJOR + 1}\.0 .*{this}"):
        agentreplay.open(path)


@pytest.mark.parametrize("bit", range(32))
def test_a_flipped_bit_in_the_version_is_found_not_read_as_another_format(
    sample: Sample, tmp_path: Path, bit: int
) -> None:
    path, _, _ = sample
    data = bytearray(path.read_bytes())
    data[16 + bit // 8] ^= 1 << (bit % 8)  # older formats store numbers and times otherwise
    damaged = tmp_path / "version.cassette"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CassetteError, match=r"header checksum mismatch|newer than"):
        agentreplay.open(damaged)


@pytest.mark.parametrize("content", [b"", b"hello world, not a cassette", b"\x00" * 100])
def test_not_a_cassette(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.cassette"
    path.write_bytes(content)
    with pytest.raises(CassetteError, match="at byte 0"):
        agentreplay.open(path)


def test_missing_file_is_a_cassette_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="cannot open"):
        agentreplay.open(tmp_path / "nope.cassette")


def test_ext_types_are_refused(tmp_path: Path) -> None:
    import msgpack

    from agentreplay.cassette.frames import FRAME_EVENTS, _compressor, encode_header

    path = tmp_path / "ext.cassette"
    evil = msgpack.packb([FRAME_EVENTS, [msgpack.ExtType(1, b"x")], [0]])
    path.write_bytes(encode_header({}) + _compressor.compress(evil))
    got, error = read_until_damage(path)
    assert got == [] and error is not None
    assert "extension type" in str(error)


def test_damaged_index_is_rebuilt_by_scanning(sample: Sample, tmp_path: Path) -> None:
    path, events, _ = sample
    data = bytearray(path.read_bytes())
    index_offset = struct.unpack("<Q", data[-8:])[0]
    data[index_offset + 20] ^= 0xFF
    damaged = tmp_path / "index.cassette"
    damaged.write_bytes(bytes(data))
    with agentreplay.open(damaged) as cassette:
        with pytest.warns(CassetteWarning, match="index checksum"):
            infos = cassette.step_infos()
        assert len(infos) == 6
        assert cassette.step(3) == events[14:20]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with agentreplay.open(path) as cassette:
            assert len(cassette.step_infos()) == 6


@pytest.mark.parametrize(
    "item",
    [
        5,
        [],
        {0: 3, 1: "0", 2: 0, 3: 0, 4: 1, 5: b"x"},  # a map shaped like an HttpChunk
        [True, "0", 0, 0, "GET", "http://h/", [], b"", "httpx"],  # bool is not a kind code
        [[3], "0", 0, 0, 1, b"x"],  # an unhashable kind
        [3, "0", 0, 0, "1", b"x"],  # a field of the wrong type
        [99, "0", 0, 0],  # an unknown kind
    ],
)
def test_malformed_event_items_are_cassette_errors(item: object) -> None:
    good = [3, "0", 0, 0, 1, b"x"]
    with pytest.raises(CassetteError):
        decode_events([good, item], lambda ids: b"")
    assert decode_events([good], lambda ids: b"") == [HttpChunk("0", 0, 0, 1, b"x")]


@pytest.mark.parametrize("missing", [1, 8, 15])
def test_a_cassette_cut_in_its_footer_reads_fully_with_a_warning(
    sample: Sample, tmp_path: Path, missing: int
) -> None:
    path, events, _ = sample
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(path.read_bytes()[:-missing])
    with agentreplay.open(damaged) as cassette:
        with pytest.warns(CassetteWarning, match="cut short in its footer"):
            assert list(cassette.events()) == events
        assert not cassette.closed_cleanly
        assert cassette.step(2) == events[7:13]
