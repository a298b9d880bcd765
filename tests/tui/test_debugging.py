"""The debugger loop from the run screen: b, F and o run the replays the CLI runs."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentreplay
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer
from agentreplay.tui.screens.diff import DiffScreen
from agentreplay.tui.screens.progress import ProgressScreen
from agentreplay.tui.screens.run import RunScreen
from tests.debugger.conftest import Scripted, Servers, record_example
from tests.tui.conftest import app_for, settle


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """The example agent's model and tool servers, up for the live parts of forks."""
    script = Scripted()
    model = ModelServer(script, chunk_delay=0.002).start()
    tools = ToolServer().start()
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"{model.url}/v1",
        "SUPPORT_TOOLS_URL": tools.url,
        "OPENAI_API_KEY": "sk-test-key",
    }
    env.pop("AGENTREPLAY_MODE", None)
    found = Servers(model, tools, script, env)
    yield found
    found.stop()


@pytest.fixture(scope="module")
def example_run(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`agentreplay record -- python examples/support_agent.py`: model, tool, model."""
    path = tmp_path_factory.mktemp("example") / "run.cassette"
    done = record_example(servers, path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def run(example_run: Path, copy_of: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example run in this test's folder, where forks are written."""
    assert callable(copy_of)
    path: Path = copy_of(example_run)
    monkeypatch.setenv("OPENAI_BASE_URL", os.environ.get("OPENAI_BASE_URL", ""))
    return path


def path_of(app: object) -> Path:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, RunScreen)
    return screen.path


def diff_status(app: object) -> str:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, DiffScreen)
    return str(screen.query_one("#status").render())


def status_of(app: object) -> str:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, RunScreen)
    return str(screen.query_one("#status").render())


async def loaded(pilot: object, number: int = 1) -> RunScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        return (
            isinstance(screen, RunScreen)
            and screen.step is not None
            and (screen.step.number == number)
        )

    if number != 1:
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.step is not None
        )
        await pilot.press("g", str(number), "enter")
    await settle(pilot, ready)
    screen = app.screen
    assert isinstance(screen, RunScreen)
    return screen


def opened_another(app: object, run: Path) -> bool:
    """The diff of ``run`` and what a fork or what-if recorded is on screen."""
    screen = getattr(app, "screen", None)
    return (
        isinstance(screen, DiffScreen)
        and screen.a == run
        and screen.result is not None
        and "recorded into" in str(screen.query_one("#status").render())
    )


def produced(app: object) -> Path:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, DiffScreen)
    return screen.b


def _edit_script(tmp_path: Path, text: str) -> str:
    script = tmp_path / "edit.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({text!r})\n")
    return f"{sys.executable} {script}"


@pytest.mark.asyncio
async def test_capital_f_forks_live_after_the_step_and_opens_the_diff_with_the_fork(
    servers: Servers, run: Path
) -> None:
    served = len(servers.model.requests)
    app = app_for(run)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 2)
        await pilot.press("F")
        await settle(pilot, lambda: isinstance(app.screen, ProgressScreen))
        await settle(pilot, lambda: opened_another(app, run), timeout=60)
        fork = produced(app)
        assert fork == run.with_name("run.fork2.cassette")
        assert f"recorded into {fork}" in diff_status(app)
        # The fork replayed steps 1-2 and asked the model again at step 3: the same answer.
        assert "identical" in str(app.screen.query_one("#diff-verdict").render())
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.path == run)
    assert len(servers.model.requests) == served + 1  # only step 3 went to the model
    with agentreplay.open(fork) as opened:
        assert opened.header["parent"]["step"] == 2
        assert len(opened.step_infos()) == 3


@pytest.mark.asyncio
async def test_escape_cancels_a_fork_that_is_still_running(servers: Servers, run: Path) -> None:
    servers.model.first_chunk_gate = threading.Event()  # the live answer stalls
    try:
        app = app_for(run)
        async with app.run_test(size=(100, 30)) as pilot:
            await loaded(pilot, 2)
            await pilot.press("F")
            await settle(pilot, lambda: isinstance(app.screen, ProgressScreen))
            await pilot.pause(1.0)
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, RunScreen), timeout=10)
            assert path_of(app) == run
            assert "forking live after step 2" in status_of(app)
            assert "cancelled" in status_of(app)
    finally:
        servers.model.first_chunk_gate.set()
        servers.model.first_chunk_gate = None


@pytest.mark.asyncio
async def test_o_runs_the_answer_as_edited_and_opens_the_diff_with_the_what_if(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", _edit_script(tmp_path, '{"content": "It shipped today."}'))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    app = app_for(run)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 1)
        await pilot.press("o")
        await settle(pilot, lambda: opened_another(app, run), timeout=60)
        whatif = produced(app)
        assert whatif == run.with_name("run.whatif1.cassette")
        message = diff_status(app)
        verdict = str(app.screen.query_one("#diff-verdict").render())
        assert "first divergence at step 1 / step 1" in verdict
        assert "what-if (step 1 overridden): the run exited with status 0" in message
    assert list(scratch.iterdir()) == []  # the edited answer's file, read and removed
    with agentreplay.open(whatif) as opened:
        steps = list(opened.steps())
    assert len(steps) == 1 and steps[0].llm is not None
    assert steps[0].llm.output_text == "It shipped today."


@pytest.mark.asyncio
async def test_o_shows_the_recorded_answer_as_override_json(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen.json"
    script = tmp_path / "peek.py"
    script.write_text(f"import shutil, sys\nshutil.copy(sys.argv[1], {str(seen)!r})\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    app = app_for(run)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 1)
        await pilot.press("o")
        await settle(pilot, lambda: "was not changed" in status_of(app))
    answer = json.loads(seen.read_text())
    assert answer["content"] == ""
    assert answer["tool_calls"][0]["name"] == "lookup_order"
    assert answer["tool_calls"][0]["arguments"] == {"order_id": "A-1001"}


@pytest.mark.asyncio
async def test_o_with_an_answer_that_is_not_json_says_so(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", _edit_script(tmp_path, "{not json"))
    app = app_for(run)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 1)
        await pilot.press("o")
        await settle(pilot, lambda: "is not JSON" in status_of(app))
        assert path_of(app) == run


@pytest.mark.asyncio
async def test_o_on_a_span_says_it_has_no_answer(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 1)
        await pilot.press("o")
        await settle(pilot, lambda: "no recorded response to change" in status_of(app))


@pytest.mark.asyncio
async def test_b_needs_a_terminal_to_hand_to_pdb(run: Path) -> None:
    app = app_for(run)  # run_test has no terminal: the real one is tested end to end
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, 2)
        await pilot.press("b")
        await settle(pilot, lambda: "cannot be handed over to pdb" in status_of(app))


def test_b_hands_the_terminal_to_pdb_and_the_app_comes_back(servers: Servers, run: Path) -> None:
    from tests.terminal import Terminal

    terminal = Terminal(["tui", str(run)], env=servers.env, cwd=str(run.parent))
    terminal.wait_for("step 1 L support-model-1")
    terminal.type("j")
    terminal.wait_for("step 2 H GET")
    terminal.type("b")
    screen = terminal.wait_for("(Pdb)")
    assert "stopped before step 2" in screen and "call_tool()" in screen
    terminal.type(*"p arguments", "\r")
    terminal.wait_for("{'order_id': 'A-1001'}")
    terminal.type("c", "\r")
    screen = terminal.wait_for("reproduced")  # the app is back, with the replay's verdict
    assert "step 2 H GET" in screen and "g Go to" in screen
    terminal.type("q")
    assert terminal.finish() == 0
