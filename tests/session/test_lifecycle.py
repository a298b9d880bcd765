"""Starting a session is all or nothing: a failure at any point leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import time_machine

import agentreplay
from agentreplay import CassetteError, DivergenceError
from agentreplay.cassette import CassetteWriter, ClockRead
from agentreplay.intercept.entropy import EntropyInterceptor
from agentreplay.runtime import registry
from agentreplay.runtime.scope import active_session
from tests.servers import ToolServer


def _hooked() -> tuple[object, ...]:
    """What a session patches, read the way the agent would reach it."""
    return (
        time.monotonic,
        time.sleep,
        os.urandom,
        asyncio.BaseEventLoop.create_task,
        threading.Thread.start,
        httpx.Client._transport_for_url,
        tuple(time_machine.traveller_stack),
    )


@pytest.fixture
def untouched() -> Iterator[tuple[object, ...]]:
    before = _hooked()
    yield before
    assert _hooked() == before
    assert registry.installed() == []
    assert active_session() is None


def _header_only(path: Path) -> Path:
    CassetteWriter(path, {"run_id": "crashed"}).abandon()  # as a crash before any flush
    return path


def test_a_header_only_cassette_does_not_start_and_leaves_nothing_behind(
    tmp_path: Path, untouched: tuple[object, ...]
) -> None:
    replay = agentreplay.replay(_header_only(tmp_path / "crashed.cassette"))
    with pytest.raises(CassetteError, match="holds no events"):
        replay.start()
    assert not replay.running
    assert _hooked() == untouched


def test_a_missing_cassette_does_not_start(tmp_path: Path, untouched: tuple[object, ...]) -> None:
    with pytest.raises(CassetteError, match="cannot open"):
        agentreplay.replay(tmp_path / "nope.cassette").start()


def test_a_hook_that_fails_to_install_takes_the_others_out_again(
    tmp_path: Path, untouched: tuple[object, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: EntropyInterceptor) -> None:
        raise RuntimeError("cannot hook entropy")

    monkeypatch.setattr(EntropyInterceptor, "install", broken)
    cassette = tmp_path / "run.cassette"
    with pytest.raises(RuntimeError, match="cannot hook entropy"):
        agentreplay.record(cassette).start()
    assert _hooked() == untouched  # the clock and task hooks went in before it, and came out
    assert not cassette.exists()  # nothing worth keeping was written
    monkeypatch.undo()
    with agentreplay.record(cassette):  # the registry is not left half-counted
        assert registry.installed() != []
    assert registry.installed() == []


def test_a_replay_that_diverges_while_starting_is_undone(
    tmp_path: Path, untouched: tuple[object, ...]
) -> None:
    # Every run starts with the seed of the global random; this one recorded a clock read.
    cassette = tmp_path / "odd.cassette"
    writer = CassetteWriter(cassette, {"run_id": "odd"}, background=False)
    writer.append(ClockRead("0", 0, 0, "wall", 1))
    writer.close()
    with pytest.raises(DivergenceError, match="random bytes"):
        agentreplay.replay(cassette).start()


def test_a_failed_start_inside_a_running_session_leaves_the_outer_one_running(
    server: ToolServer, tmp_path: Path, untouched: tuple[object, ...]
) -> None:
    outer = tmp_path / "outer.cassette"
    with agentreplay.record(outer) as recording:
        hooked = _hooked()
        with pytest.raises(CassetteError):
            agentreplay.replay(_header_only(tmp_path / "crashed.cassette")).start()
        assert active_session() is recording
        assert _hooked() == hooked
        httpx.get(f"{server.url}/tool/1")
    with agentreplay.open(outer) as cassette:
        assert [info.kind for info in cassette.step_infos()] == ["http"]


def test_entering_returns_the_session_with_its_own_type(tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    with agentreplay.record(cassette) as recording:
        assert isinstance(recording, agentreplay.Recording)
    with agentreplay.replay(cassette) as run:
        pass
    assert isinstance(run, agentreplay.Replay)
    assert run.result is not None and run.result.reproduced


def test_a_cassette_that_cannot_be_written_fails_to_start_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    before = _hooked()
    recording = agentreplay.record(tmp_path / "file" / "run.cassette")
    with pytest.raises(agentreplay.UsageError) as raised:
        recording.start()
    assert str(raised.value) == (
        f"cannot write the cassette {tmp_path}/file/run.cassette: {tmp_path}/file is a file, "
        "not a folder"
    )
    assert not recording.started and _hooked() == before and active_session() is None
