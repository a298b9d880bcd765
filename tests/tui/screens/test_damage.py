"""A damaged or unfinished cassette opens with what can be read, under a banner."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentreplay
from agentreplay.tui.screens.run import RunScreen
from agentreplay.tui.widgets.damage_banner import DamageBanner
from tests.tui.conftest import app_for, settle

pytestmark = pytest.mark.asyncio


def cut(source: Path, target: Path, keep: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


async def test_a_cut_cassette_shows_the_steps_before_the_cut_and_where_it_is(
    shown: Path, tmp_path: Path
) -> None:
    damaged = cut(shown, tmp_path / "cut.cassette", 0.6)
    with agentreplay.open(damaged) as cassette:
        readable = len(cassette.step_infos())
        damage = cassette.damage
    assert damage is not None and 0 < readable < 7
    app = app_for(damaged)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.summary is not None
        )
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert len(screen.steps.rows) == readable
        banner = screen.query_one(DamageBanner)
        assert banner.display
        text = str(banner.render())
        assert f"unreadable at byte {damage.offset:,}" in text
        assert f"showing the {readable} steps before it" in text
        assert "no outcome" in str(screen.query_one("#run-header").render())


async def test_damage_found_while_reading_the_steps_raises_the_banner(
    shown: Path, tmp_path: Path
) -> None:
    data = bytearray(shown.read_bytes())
    with agentreplay.open(shown) as cassette:
        last = cassette.step_infos()[-1].first_frame
    data[last + 20 : last + 40] = bytes(20)  # the index is sound; the last frame is not
    damaged = tmp_path / "flipped.cassette"
    damaged.write_bytes(bytes(data))
    app = app_for(damaged)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.summary is not None
        )
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert len(screen.steps.rows) == 7  # the index still names every step
        banner = screen.query_one(DamageBanner)
        assert banner.display and f"at byte {last:,}" in str(banner.render())
        await pilot.press("G")
        await pilot.pause(0.3)
        assert "cannot be read" in str(screen.query_one("#status").render())


async def test_a_sound_cassette_has_no_banner(shown: Path) -> None:
    app = app_for(shown)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.summary is not None
        )
        assert not app.screen.query_one(DamageBanner).display
