"""The directory screen: the runs under a folder, newest first, to open or compare."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentreplay.tui.screens.directory import DirectoryScreen
from agentreplay.tui.screens.run import RunScreen
from agentreplay.tui.widgets.run_table import RunTable
from agentreplay.tui.widgets.status_line import StatusLine
from tests.tui.conftest import app_for, settle

pytestmark = pytest.mark.asyncio


@pytest.fixture
def folder(recordings: Path, tmp_path: Path) -> Path:
    """The failed run (oldest), the concurrent run, a copy with fixed times (2026-01-02),
    and a file that is no cassette, one folder down."""
    root = tmp_path / "runs"
    (root / "old").mkdir(parents=True)
    for name in ("failed", "concurrent", "shown"):
        shutil.copy(recordings / f"{name}.cassette", root / f"{name}.cassette")
    (root / "old" / "junk.cassette").write_bytes(b"not a cassette at all")
    return root


def table_of(app: object) -> RunTable:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, DirectoryScreen)
    return screen.query_one(RunTable)


def totalled(app: object) -> bool:
    screen = getattr(app, "screen", None)
    if not isinstance(screen, DirectoryScreen):
        return False
    return "reading" not in str(screen.query_one(StatusLine).render()) and bool(
        screen.query_one(RunTable).row_count
    )


async def test_the_runs_are_listed_newest_first_with_failures_marked(folder: Path) -> None:
    app = app_for(folder)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, lambda: totalled(app))
        table = table_of(app)
        order = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert order[-2:] == ["shown.cassette", "old/junk.cassette"]  # 2026-01-02, then none
        assert set(order[:2]) == {"failed.cassette", "concurrent.cassette"}
        rows = {table.get_row_at(i)[2].plain: table.get_row_at(i) for i in range(table.row_count)}
        failed = rows["failed.cassette"]
        assert failed[7].plain == "✗ raised KeyError('order') at step 7"
        assert failed[7].style == "bold red"
        assert failed[4].plain == "7" and failed[5].plain == "341/34"
        assert rows["concurrent.cassette"][7].plain.startswith("✓ completed")
        assert rows["old/junk.cassette"][7].plain.startswith("✗ unreadable")
        assert "4 runs, 3 failed" in str(app.screen.query_one(StatusLine).render())


async def test_enter_opens_a_run_and_escape_comes_back(folder: Path) -> None:
    app = app_for(folder)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, lambda: totalled(app))
        table = table_of(app)
        target = next(
            i for i in range(table.row_count) if table.get_row_at(i)[2].plain == "shown.cassette"
        )
        table.move_cursor(row=target)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen))
        assert isinstance(app.screen, RunScreen) and app.screen.path.name == "shown.cassette"
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, DirectoryScreen))


async def test_an_unreadable_run_says_why_instead_of_opening(folder: Path) -> None:
    app = app_for(folder)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, lambda: totalled(app))
        table = table_of(app)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DirectoryScreen)
        assert "junk.cassette: " in str(app.screen.query_one(StatusLine).render())


async def test_space_marks_at_most_two_runs_and_d_needs_two(folder: Path) -> None:
    app = app_for(folder)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, lambda: totalled(app))
        table = table_of(app)
        await pilot.press("d")
        assert "mark two runs" in str(app.screen.query_one(StatusLine).render())
        await pilot.press("space", "j", "space", "j", "space")
        assert len(table.marked) == 2
        first = table.get_row_at(0)[2].plain
        assert all(not key.endswith(first) for key in table.marked)  # the oldest mark went
        assert [table.get_row_at(i)[0].plain for i in range(3)] == [" ", "●", "●"]
        await pilot.press("k", "space")
        assert len(table.marked) == 1


async def test_r_reads_the_folder_again(folder: Path, recordings: Path) -> None:
    app = app_for(folder)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, lambda: totalled(app))
        assert table_of(app).row_count == 4
        shutil.copy(recordings / "answered.cassette", folder / "new.cassette")
        await pilot.press("r")
        await settle(pilot, lambda: totalled(app) and table_of(app).row_count == 5)
