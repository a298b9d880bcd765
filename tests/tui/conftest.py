"""Recordings for the TUI tests, made once per session with the real SDKs."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentreplay.demo.model_server import ModelRequest, ModelServer, Reply
from agentreplay.tui.app import AgentReplayApp
from agentreplay.tui.keymap import Settings
from tests.servers import ToolServer
from tests.tui.agents import (
    deterministic_copy,
    record_answered,
    record_concurrent,
    record_failing,
    respond,
)

MODEL_AT = "http://127.0.0.1:40001"
TOOLS_AT = "http://127.0.0.1:40002"


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with ``failed.cassette`` (a run that raised), ``changed.cassette`` (the same
    run, with another answer at step 5), ``concurrent.cassette`` (two tasks at once),
    ``answered.cassette`` (one call that went well); and ``shown.cassette``,
    ``shown-changed.cassette`` and ``shown-answered.cassette``: those with their times and
    ids fixed."""
    folder = tmp_path_factory.mktemp("recordings")
    with ModelServer(respond, chunk_delay=0.002) as model, ToolServer() as tools:
        record_failing(folder / "failed.cassette", model.url, tools.url)
        record_concurrent(folder / "concurrent.cassette", model.url, tools.url)
        record_answered(folder / "answered.cassette", model.url)
        model.responder = changed
        record_failing(folder / "changed.cassette", model.url, tools.url)
        addresses = {model.url: MODEL_AT, tools.url: TOOLS_AT}
    deterministic_copy(folder / "failed.cassette", folder / "shown.cassette", addresses)
    deterministic_copy(
        folder / "changed.cassette",
        folder / "shown-changed.cassette",
        addresses,
        run_id="5eed0000c0ffee00decade0000000003",
    )
    deterministic_copy(
        folder / "answered.cassette",
        folder / "shown-answered.cassette",
        addresses,
        run_id="5eed0000c0ffee00decade0000000002",
        created="2026-01-03T09:30:00.000000+00:00",
    )
    yield folder


def changed(request: ModelRequest) -> Reply:
    """The failed run's model, with another summary at step 5."""
    return respond(request, "No order B-2001 exists.")


@pytest.fixture
def failed(recordings: Path) -> Path:
    return recordings / "failed.cassette"


@pytest.fixture
def concurrent(recordings: Path) -> Path:
    return recordings / "concurrent.cassette"


@pytest.fixture
def shown(recordings: Path) -> Path:
    return recordings / "shown.cassette"


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Path], Path]:
    """A copy of a recording in this test's own folder, for tests that write beside it."""

    def copy(path: Path) -> Path:
        return Path(shutil.copy(path, tmp_path / path.name))

    return copy


def app_for(*paths: Path, settings: Settings | None = None) -> AgentReplayApp:
    """The app on ``paths``, without animations: a test waits for the screen to settle."""
    app = AgentReplayApp(list(paths), settings=settings)
    app.animation_level = "none"
    return app


async def settle(pilot: object, until: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``until()`` holds (a worker finished, a screen opened)."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until():
        if loop.time() > deadline:
            raise AssertionError("the app did not get there")
        await pilot.pause(0.02)
