"""The diff screen: two runs side by side, aligned by agentreplay.diff."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from agentreplay.tui.screens.diff import DiffScreen
from agentreplay.tui.screens.directory import DirectoryScreen
from agentreplay.tui.screens.run import RunScreen
from agentreplay.tui.widgets.diff_table import DiffTable
from agentreplay.tui.widgets.run_table import RunTable
from tests.tui.conftest import app_for, settle

pytestmark = pytest.mark.asyncio


def screen_of(app: object) -> DiffScreen:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, DiffScreen)
    return screen


def compared(app: object) -> bool:
    screen = getattr(app, "screen", None)
    return isinstance(screen, DiffScreen) and screen.result is not None


def shown(app: object) -> str:
    """The field diff's text, as a terminal 200 cells wide would print it."""
    content = screen_of(app).query_one("#field-diff-body", Static).content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def cursor(app: object) -> int:
    return screen_of(app).query_one(DiffTable).cursor


async def test_two_runs_open_at_their_first_divergence(failed: Path, recordings: Path) -> None:
    app = app_for(failed, recordings / "changed.cassette")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = screen_of(app)
        assert screen.result is not None
        verdict = str(screen.query_one("#diff-verdict").render())
        # The tool server counts its requests: its answer at step 3 differs, and so does
        # the prompt of step 7, which quotes it; step 5 was answered another way.
        assert "3 changed, 0 only in A, 0 only in B; first divergence at step 3 / step 3" in verdict
        rows = screen.query_one(DiffTable).rows
        verdicts = [r.verdict.value for r in rows]
        assert verdicts == ["same", "same", "changed", "same", "changed", "same", "changed"]
        assert cursor(app) == 2
        await settle(pilot, lambda: "served" in shown(app))
        await pilot.press("n")
        await settle(pilot, lambda: screen.shown is not None and screen.shown.index == 4)
        assert screen.shown is not None
        answer = next(c for c in screen.shown.changes if c.path == "output_text")
        assert (answer.old, answer.new) == (
            "The order B-2001 could not be found.",
            "No order B-2001 exists.",
        )
        text = shown(app)  # the answer as a word diff: what went, what came
        assert "output_text" in text and "could not be found" in text and "exists" in text


async def test_f_n_p_and_j_k_move_between_rows(failed: Path, recordings: Path) -> None:
    app = app_for(failed, recordings / "changed.cassette")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: compared(app))
        await pilot.press("home")
        assert cursor(app) == 0
        await pilot.press("j", "down")
        assert cursor(app) == 2
        await pilot.press("k")
        assert cursor(app) == 1
        await pilot.press("n")
        assert cursor(app) == 2
        await pilot.press("n", "n")
        assert cursor(app) == 6
        await pilot.press("n")
        assert cursor(app) == 6 and "no later change" in str(
            screen_of(app).query_one("#status").render()
        )
        await pilot.press("p")
        assert cursor(app) == 4
        await pilot.press("end")
        assert cursor(app) == 6
        await pilot.press("home", "f")
        assert cursor(app) == 2
        await settle(pilot, lambda: "changed" in shown(app))


async def test_identical_runs_say_so(failed: Path) -> None:
    app = app_for(failed, failed)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: compared(app))
        assert "identical" in str(screen_of(app).query_one("#diff-verdict").render())
        await pilot.press("f")
        assert "no divergence" in str(screen_of(app).query_one("#status").render())


async def test_a_and_b_open_either_run_at_the_rows_step(failed: Path, recordings: Path) -> None:
    app = app_for(failed, recordings / "changed.cassette")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: compared(app))
        await pilot.press("b")
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.step is not None
        )
        run = app.screen
        assert isinstance(run, RunScreen) and run.path.name == "changed.cassette"
        assert run.steps.current == 3  # the first divergence
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, DiffScreen))
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.path == failed  # type: ignore[attr-defined]


async def test_d_on_two_marked_runs_opens_their_diff(recordings: Path, tmp_path: Path) -> None:
    for name in ("failed", "changed"):
        shutil.copy(recordings / f"{name}.cassette", tmp_path / f"{name}.cassette")
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, DirectoryScreen)
                and app.screen.query_one(RunTable).row_count == 2
            ),
        )
        await pilot.press("space", "j", "space", "d")
        await settle(pilot, lambda: compared(app))
        assert {screen_of(app).a.name, screen_of(app).b.name} == {
            "failed.cassette",
            "changed.cassette",
        }
        await settle(pilot, lambda: "changed" in shown(app))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, DirectoryScreen))
