"""Cassettes made to hurt their reader: sound frames, lying contents.

Whatever the file, `show`, `show --step`, `export` and `Cassette.steps()`,
`.step()`, `.outcome` end normally or with `CassetteError`, within bounded memory.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings

from agentreplay.cassette.stream import STREAM_MAGIC
from agentreplay.errors import CassetteError, CassetteWarning
from agentreplay.steps import open_cassette

from .helpers import read_until_damage
from .hostile import (
    blob,
    build,
    chunk,
    data_frame,
    end,
    footer,
    framed,
    hostile_files,
    index_frame,
    outcome,
    pack,
    request,
    response,
    run_every_reader,
)

MB = 1024 * 1024
LIMIT = 160 * MB
"""What reading any file here may hold at once, at most."""


def _write(tmp_path: Path, data: bytes, name: str = "hostile.cassette") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _one_exchange(steps: list[int]) -> list[object]:
    events = [request(0, b"{}"), response(1, 0), chunk(2, 0, b"data: {}\n\n"), end(3, 0)]
    return [1, [*events, outcome(4)], steps]


# -- crashes found by a probe, one test each ---------------------------------------------


@pytest.mark.parametrize("steps", [[7, 7, 7, 7, 7], [0, 1, 2, 3, 4], [-1, -1, -1, -1, -1]])
def test_step_numbers_that_do_not_match_the_events(tmp_path: Path, steps: list[int]) -> None:
    # No index: the reader rebuilds one by scanning, and must not trust these numbers.
    path = _write(tmp_path, build([_one_exchange(steps)]))
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette:
        assert [info.number for info in cassette.step_infos()] == [1]


@pytest.mark.parametrize("offset", [2**63, 2**64 - 1, 2**40, 3])
def test_a_footer_that_points_outside_the_file(tmp_path: Path, offset: int) -> None:
    data = build([_one_exchange([1, 1, 1, 1, 1])], index={"frames": []}, footer_offset=offset)
    path = _write(tmp_path, data)
    run_every_reader(path, limit=LIMIT)
    with pytest.warns(match="rebuilding the index"), open_cassette(path) as cassette:
        assert len(cassette.step_infos()) == 1


@pytest.mark.parametrize("offset", [-5, 2**63 - 1, 2**64 - 1, 1, 10**9])
def test_index_offsets_outside_the_file(tmp_path: Path, offset: int) -> None:
    index = {
        "events": 5,
        "frames": [[offset, 1, 5]],
        "steps": [[1, "http", "POST x", "0", 0, 0, 3, offset, offset]],
        "blobs": [offset],
        "outcome": offset,
    }
    path = _write(tmp_path, build([_one_exchange([1, 1, 1, 1, 1])], index=index))
    run_every_reader(path, limit=LIMIT)


@pytest.mark.parametrize(
    "field",
    [
        {"created_ns": "yesterday"},
        {"created": 5},
        {"run_id": ["x"]},
        {"parent": "nowhere"},
        {"parent": {"path": 1, "step": "x"}},
        {"imported": 3},
        {"env": {"PATH": 5}},
        {"entrypoint": 7},
        {"argv": "python agent.py"},
    ],
)
def test_header_fields_of_the_wrong_type(tmp_path: Path, field: dict[str, object]) -> None:
    path = _write(tmp_path, build([_one_exchange([1, 1, 1, 1, 1])], header=field))
    run_every_reader(path, limit=LIMIT)
    with pytest.raises(CassetteError, match=f"header field {next(iter(field))!r}"):
        open_cassette(path)


# -- bombs: a few bytes that would expand to gigabytes -------------------------------------


def test_repeated_blob_references(tmp_path: Path) -> None:
    piece = b"x" * (64 * 1024)
    refs = [0] * (16 * 1024)  # 1 GiB if joined
    frames = [
        [2, [blob(0, piece)]],
        [1, [request(0, refs), response(1, 0), chunk(2, 0, refs), end(3, 0)], [1, 1, 1, 1]],
    ]
    data = build(frames)
    assert len(data) < 1024
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


def test_blob_references_repeated_across_many_events(tmp_path: Path) -> None:
    piece = b"y" * (64 * 1024)
    events = [request(i, [0] * 256) for i in range(200)]  # 16 MiB each, 3.2 GiB in all
    data = build([[2, [blob(0, piece)]], [1, events, list(range(1, 201))]])
    assert len(data) < 2048
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


def test_an_index_that_expands_to_gigabytes(tmp_path: Path) -> None:
    index = {"events": 0, "frames": [[0, 1, 0]] * 4_000_000, "steps": [], "blobs": []}
    data = build([_one_exchange([1, 1, 1, 1, 1])], index=index)
    assert len(data) < 4096
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


def test_a_header_of_millions_of_empty_arrays(tmp_path: Path) -> None:
    data = build([], header={"run_id": "x", "metadata": {"m": [[]] * 8_000_000}})
    assert len(data) < 9 * MB  # as Python lists: half a gigabyte
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


def test_many_large_blob_frames_in_a_small_file(tmp_path: Path) -> None:
    piece = b"z" * (64 * 1024)
    frames: list[object] = [
        [2, [blob(n * 1024 + i, piece) for i in range(1024)]]
        for n in range(16)  # 64 MiB each
    ]
    frames.append([1, [request(0, [0, 1024, 2048])], [1]])
    data = build(frames)
    assert len(data) < 256 * 1024
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


def test_an_events_frame_of_empty_arrays(tmp_path: Path) -> None:
    data = build([[1, [[]] * 6_000_000, [0] * 6_000_000]])
    assert len(data) < 8192
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


# -- any such file -----------------------------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=hostile_files())
def test_any_hostile_cassette_gives_cassette_error_at_worst(tmp_path: Path, data: bytes) -> None:
    run_every_reader(_write(tmp_path, data), limit=LIMIT)


# -- chained frames whose links lie ----------------------------------------------------


@pytest.mark.parametrize("distance", [1, 5, 10**6, 2**32 - 1])
def test_a_link_that_names_no_keyframe(tmp_path: Path, distance: int) -> None:
    from agentreplay.cassette.chain import encode_link

    from .hostile import data_frame

    frames = [_one_exchange([1, 1, 1, 1, 1])]
    data = bytearray(build(frames))
    data += encode_link(distance) + data_frame([1, [outcome(9)], [0]])
    path = _write(tmp_path, bytes(data))
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette, pytest.raises(CassetteError):
        list(cassette.events())


def test_a_chained_frame_read_with_the_wrong_dictionary(tmp_path: Path) -> None:
    from agentreplay.cassette.chain import compress, encode_link

    from .hostile import pack

    first = build([_one_exchange([1, 1, 1, 1, 1])])
    keyframe = first.index(b"\x28\xb5\x2f\xfd")
    content = pack([1, [outcome(9)], [0]])
    frame = compress(content, b"another history " + content)  # refers to what is not there
    data = first + encode_link(len(first) - keyframe) + frame
    path = _write(tmp_path, data)
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette, pytest.raises(CassetteError, match="damaged"):
        list(cassette.events())


# -- streams whose pieces lie ----------------------------------------------------------


def _stream_file(pieces: bytes) -> bytes:
    """A cassette whose data is ``pieces``: a stream's bytes, from its marker on."""
    return build([]) + pieces


def _record(content: bytes, *, length: int | None = None) -> bytes:
    return struct.pack("<II", len(content) if length is None else length, zlib.crc32(content))


def _raw_stream(*parts: bytes, flush_each: bool = True, **params: int) -> bytes:
    """A marker and one zstd frame of ``parts``, a block flush after each (or only after
    the last), ended."""
    compressor = zstandard.ZstdCompressor(
        compression_params=zstandard.ZstdCompressionParameters.from_level(
            3, write_checksum=True, **params
        )
    ).compressobj()
    out = bytearray(struct.pack("<II", STREAM_MAGIC, 0))
    for part in parts:
        out += compressor.compress(part)
        if flush_each:
            out += compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    out += compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    return bytes(out + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH))


def _events_content() -> bytes:
    return pack(_one_exchange([1, 1, 1, 1, 1]))


@pytest.mark.parametrize(
    ("pieces", "error"),
    [
        (  # a record that claims far more than the file could hold
            _raw_stream(_record(b"", length=2**31) + b"x" * 100),
            "over the limit",
        ),
        (  # two records in one piece: the first piece runs past its record
            _raw_stream(
                _record(_events_content()) + _events_content(),
                _record(_events_content()) + _events_content(),
                flush_each=False,
            ),
            "does not end where its record does",
        ),
        (  # a record whose bytes are not the ones its checksum was taken of
            _raw_stream(_record(b"other") + b"abcde"),
            "checksum mismatch",
        ),
        (  # more content than a writer puts in one stream
            _raw_stream(
                *(_record(c) + c for c in [pack([2, [blob(i, bytes(MB))]]) for i in range(3)])
            ),
            "more than a writer puts in one",
        ),
        (  # a window far larger than a writer uses: refused before it is allocated
            _raw_stream(_record(_events_content()) + _events_content(), window_log=27),
            "damaged",
        ),
        (  # a marker, then no zstd frame
            struct.pack("<II", STREAM_MAGIC, 0) + b"\x00" * 40,
            "not followed by a zstd frame",
        ),
        (  # a stream without its checksum
            struct.pack("<II", STREAM_MAGIC, 0)
            + zstandard.ZstdCompressor(write_checksum=False).compress(b"x" * 20),
            "must have a checksum",
        ),
    ],
    ids=["huge-record", "two-records", "bad-crc", "too-long", "huge-window", "no-zstd", "no-sum"],
)
def test_a_stream_that_lies(tmp_path: Path, pieces: bytes, error: str) -> None:
    path = _write(tmp_path, _stream_file(pieces))
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette, pytest.raises(CassetteError, match=error):
        list(cassette.events())


def test_a_stream_whose_end_fails_its_checksum(tmp_path: Path) -> None:
    content = _events_content()
    data = bytearray(_stream_file(_raw_stream(_record(content) + content)))
    data[-1] ^= 0xFF  # the zstd checksum of the whole stream, after the end block
    path = _write(tmp_path, bytes(data))
    run_every_reader(path, limit=LIMIT)
    got, error = read_until_damage(path)
    # The piece before the end is sound (its record's crc32 says so): it is read, and the
    # error names the end's own offset, where the damage is.
    assert len(got) == 5
    assert error is not None and "fails its checksum" in error.detail
    assert error.offset == len(data) - 7


def test_an_index_whose_stream_covers_a_frame_of_its_own(tmp_path: Path) -> None:
    # The index says the stream goes on past its end, over the next frame: reading that
    # frame at random must fail cleanly, not read garbage.
    head = build([])
    stream, offsets = framed([_one_exchange([1, 1, 1, 1, 1])], len(head), streamed=True)
    alone = data_frame([1, [outcome(9)], [0]])
    after = len(head) + len(stream)
    index = {
        "events": 6,
        "frames": [[offsets[0], 1, 5], [after, 1, 1]],
        "steps": [[1, "http", "POST x", "0", 0, 0, 1, offsets[0], offsets[0]]],
        "blobs": [],
        "outcome": after,
        "streams": [[len(head), after + len(alone)]],
        "closed_at": 0,
    }
    body = head + stream + alone
    path = _write(tmp_path, body + index_frame(index) + footer(len(body)))
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette:
        assert len(list(cassette.events())) == 6  # read in order, it is sound
        with pytest.raises(CassetteError, match="no stream piece starts"):
            cassette.outcome  # noqa: B018


def _steps_frame_in_a_stream(tmp_path: Path) -> Path:
    """A stream of an exchange, then a steps frame as its second piece, which the index
    names: the writer always writes a steps frame alone, for the index to read by itself."""
    head = build([])
    entry = [1, "http", "POST x", "0", 0, 0, 1, len(head), len(head)]
    stream, offsets = framed(
        [_one_exchange([1, 1, 1, 1, 1]), [3, [entry]]], len(head), streamed=True
    )
    after = len(head) + len(stream)
    index = {
        "events": 5,
        "frames": [[offsets[0], 1, 5], [offsets[1], 3, 0]],
        "steps": [],
        "blobs": [],
        "outcome": offsets[0],
        "streams": [[len(head), after]],
        "closed_at": 0,
    }
    body = head + stream
    return _write(tmp_path, body + index_frame(index) + footer(len(body)))


def _read(path: Path, events_first: bool) -> tuple[int, list[list[object]], bool]:
    with open_cassette(path) as cassette:
        count = len(list(cassette.events())) if events_first else -1
        steps = [info.to_plain() for info in cassette.step_infos()]
        count = len(list(cassette.events()))
        return count, steps, cassette.closed_cleanly


def test_a_steps_frame_inside_a_stream_is_refused_whatever_was_read_first(
    tmp_path: Path,
) -> None:
    path = _steps_frame_in_a_stream(tmp_path)
    run_every_reader(path, limit=LIMIT)
    with pytest.warns(CassetteWarning, match="steps frame"):
        index_first = _read(path, events_first=False)
    with pytest.warns(CassetteWarning, match="steps frame"):
        events_first = _read(path, events_first=True)
    assert index_first == events_first
    count, steps, closed_cleanly = index_first
    assert count == 5 and not closed_cleanly  # the index is refused; the events stand
    assert [step[:3] for step in steps] == [[1, "http", "POST http://h/v1/chat/completions"]]


def test_a_stream_whose_last_block_holds_a_record(tmp_path: Path) -> None:
    # Ended without a block flush first: the record is in the frame's last block, where
    # only the stream's end may be.
    content = _events_content()
    compressor = zstandard.ZstdCompressor(write_checksum=True).compressobj()
    pieces = struct.pack("<II", STREAM_MAGIC, 0) + compressor.compress(_record(content) + content)
    path = _write(tmp_path, _stream_file(pieces + compressor.flush()))
    run_every_reader(path, limit=LIMIT)
    with open_cassette(path) as cassette, pytest.raises(CassetteError, match="last block"):
        list(cassette.events())
