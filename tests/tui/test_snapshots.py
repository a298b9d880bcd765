"""What the screens look like, as SVG snapshots at 80x24 and 160x48.

The runs shown are deterministic copies of real recordings (fixed times, ids,
ports and machine-specific headers), so the pictures do not change between
runs. ``pytest --snapshot-update`` rewrites them after a deliberate change.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from agentreplay.tui.screens.directory import DirectoryScreen
from agentreplay.tui.screens.help import HelpScreen
from agentreplay.tui.screens.run import RunScreen
from agentreplay.tui.widgets.run_table import RunTable
from agentreplay.tui.widgets.status_line import StatusLine
from tests.tui.conftest import app_for, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])

Compare = Callable[..., bool]


def on_step(number: int, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    """Open the run, go to step ``number``, press ``keys``, and wait for it all to draw."""

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app

        def ready() -> bool:
            screen = app.screen
            return (
                isinstance(screen, RunScreen)
                and screen.summary is not None
                and screen.step is not None
                and screen.step.number == screen.steps.current
            )

        await settle(pilot, ready)
        if number != 1:
            await pilot.press("g", *str(number), "enter")
            await settle(pilot, ready)
        await pilot.press(*keys)
        await settle(pilot, lambda: ready() or isinstance(app.screen, HelpScreen))
        await pilot.pause(0.1)

    return run_before


@SIZES
def test_the_run_screen_on_an_llm_step(
    snap_compare: Compare, shown: Path, size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(shown), terminal_size=size, run_before=on_step(7))


@SIZES
@pytest.mark.parametrize(
    ("step", "key"),
    [(2, "1"), (2, "2"), (2, "3"), (2, "4"), (1, "5")],
    ids=["prompt", "answer", "timing", "http", "events"],
)
def test_each_detail_tab(
    snap_compare: Compare, shown: Path, size: tuple[int, int], step: int, key: str
) -> None:
    assert snap_compare(app_for(shown), terminal_size=size, run_before=on_step(step, key))


@SIZES
def test_the_help_screen(snap_compare: Compare, shown: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(shown), terminal_size=size, run_before=on_step(1, "question_mark"))


@SIZES
def test_the_directory_list(
    snap_compare: Compare,
    recordings: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    (tmp_path / "runs" / "nightly").mkdir(parents=True)
    shutil.copy(recordings / "shown.cassette", tmp_path / "runs" / "failed.cassette")
    shutil.copy(
        recordings / "shown-answered.cassette", tmp_path / "runs" / "nightly" / "ok.cassette"
    )
    (tmp_path / "runs" / "broken.cassette").write_bytes(b"not a cassette")
    monkeypatch.chdir(tmp_path)
    app = app_for(Path("runs"))

    async def listed(pilot: Pilot[int]) -> None:
        def done() -> bool:
            screen = app.screen
            return (
                isinstance(screen, DirectoryScreen)
                and "reading" not in str(screen.query_one(StatusLine).render())
                and bool(screen.query_one(RunTable).row_count)
            )

        await settle(pilot, done)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=listed)


@SIZES
def test_the_diff_screen_at_the_first_divergence(
    snap_compare: Compare, recordings: Path, size: tuple[int, int]
) -> None:
    from agentreplay.tui.screens.diff import DiffScreen

    app = app_for(recordings / "shown.cassette", recordings / "shown-changed.cassette")

    async def compared(pilot: Pilot[int]) -> None:
        def done() -> bool:
            screen = app.screen
            return (
                isinstance(screen, DiffScreen)
                and screen.result is not None
                and screen.shown is not None
                and screen.shown is screen.table.current
            )

        await settle(pilot, done)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=compared)


@SIZES
def test_a_damaged_cassettes_banner(
    snap_compare: Compare, shown: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    data = shown.read_bytes()
    damaged = tmp_path / "cut.cassette"
    damaged.write_bytes(data[: int(len(data) * 0.6)])
    assert snap_compare(app_for(damaged), terminal_size=size, run_before=on_step(1))
