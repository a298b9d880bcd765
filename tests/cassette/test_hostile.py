"""Cassettes made to hurt their reader: sound frames, lying contents.

Whatever the file, `show`, `show --step`, `export` and `Cassette.steps()`,
`.step()`, `.outcome` end normally or with `CassetteError`, within bounded memory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from agentreplay.errors import CassetteError
from agentreplay.steps import open_cassette

from .hostile import (
    blob,
    build,
    chunk,
    end,
    hostile_files,
    outcome,
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
