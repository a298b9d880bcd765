"""The run screen, key by key, on runs recorded with the real SDKs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from agentreplay.tui.app import AgentReplayApp
from agentreplay.tui.keymap import Settings
from agentreplay.tui.screens.help import HelpScreen
from agentreplay.tui.screens.run import RunScreen
from agentreplay.tui.widgets.prompt_bar import PromptBar
from agentreplay.tui.widgets.status_line import StatusLine
from agentreplay.tui.widgets.step_list import StepList
from tests.tui.conftest import app_for, settle

pytestmark = pytest.mark.asyncio

# failed.cassette, as recorded:
#   1 span plan  2 llm gpt-4o (in 1)  3 http GET /tool/B-2001  4 tool remember
#   5 llm claude-sonnet-4-5  6 http GET /status/500 (error)  7 llm gpt-4o; then KeyError


def screen_of(app: AgentReplayApp) -> RunScreen:
    assert isinstance(app.screen, RunScreen)
    return app.screen


def current(app: AgentReplayApp) -> int:
    return screen_of(app).query_one(StepList).current


def status(app: AgentReplayApp) -> str:
    return str(screen_of(app).query_one(StatusLine).render())


def ready(app: AgentReplayApp) -> bool:
    screen = app.screen
    return (
        isinstance(screen, RunScreen)
        and screen.summary is not None
        and screen.step is not None
        and screen.step.number == screen.steps.current
    )


async def opened(pilot: Pilot[int]) -> RunScreen:
    app = pilot.app
    assert isinstance(app, AgentReplayApp)
    await settle(pilot, lambda: ready(app))
    return screen_of(app)


async def press(pilot: Pilot[int], *keys: str) -> None:
    app = pilot.app
    assert isinstance(app, AgentReplayApp)
    await pilot.press(*keys)
    await settle(pilot, lambda: ready(app) or not isinstance(app.screen, RunScreen))


async def test_the_first_paint_lists_every_step_from_the_index(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        rows = screen.steps.rows
        assert [(r.number, r.kind, r.parent) for r in rows] == [
            (1, "span", 0),
            (2, "llm", 1),
            (3, "http", 0),
            (4, "tool", 0),
            (5, "llm", 0),
            (6, "http", 0),
            (7, "llm", 0),
        ]
        assert rows[1].name == "gpt-4o" and rows[4].name == "claude-sonnet-4-5"
        assert [r.status for r in rows].count("error") == 1 and rows[5].status == "error"
        assert rows[1].input_tokens == 120 and rows[1].ttft is not None
        header = str(screen.query_one("#run-header").render())
        assert "raised KeyError('order') at step 7" in header
        assert "7 steps · 3 LLM calls · 341 in / 34 out tokens" in header
        assert current(app) == 1 and screen.step is not None and screen.step.kind == "span"


async def test_j_k_and_the_arrows_move_one_step(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "j", "j")
        assert current(app) == 3
        await press(pilot, "down")
        assert current(app) == 4
        await press(pilot, "k")
        assert current(app) == 3
        await press(pilot, "up", "up", "up", "up")
        assert current(app) == 1  # stops at the first


async def test_g_then_a_number_goes_to_that_step(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await press(pilot, "g", "5", "enter")
        assert current(app) == 5
        assert screen.step is not None and screen.step.llm is not None
        assert screen.step.llm.model == "claude-sonnet-4-5"
        await press(pilot, "g", "9", "9", "enter")
        assert current(app) == 5 and "no step 99: steps are 1-7" in status(app)
        await press(pilot, "g", "escape")
        assert not screen.query_one(PromptBar).display and current(app) == 5


async def test_capital_g_end_and_home_go_to_the_last_and_first_step(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "G")
        assert current(app) == 7
        await press(pilot, "home")
        assert current(app) == 1
        await press(pilot, "end")
        assert current(app) == 7


async def test_page_keys_move_a_screenful(concurrent: Path, failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 8)) as pilot:
        await opened(pilot)
        await press(pilot, "pagedown")
        assert current(app) > 2
        await press(pilot, "pageup")
        assert current(app) == 1


async def test_slash_searches_prompts_answers_urls_and_tool_names(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "slash", *"could not be found", "enter")  # an answer (step 5)
        await settle(pilot, lambda: current(app) == 5)
        assert "step 5, match 1 of 1" in status(app)
        await press(pilot, "slash", *"B-2001", "enter")  # prompts, a URL, arguments
        await settle(pilot, lambda: "match" in status(app) and current(app) != 5)
        matches = screen_of(app).matches
        assert matches[:2] == [2, 3] and 5 in matches and 7 in matches
        assert current(app) == 7  # the first match after step 5
        await press(pilot, "n")
        assert current(app) == 2  # wraps around
        await press(pilot, "n")
        assert current(app) == 3
        await press(pilot, "N", "N")
        assert current(app) == 7
        await press(pilot, "slash", *"remember", "enter")  # a tool's name
        await settle(pilot, lambda: current(app) == 4)


async def test_a_search_without_match_says_so(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "n")
        assert "no search yet" in status(app)
        await press(pilot, "slash", *"zebra", "enter")
        await settle(pilot, lambda: "no step mentions 'zebra'" in status(app))
        assert current(app) == 1


async def test_e_goes_to_the_next_error(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await press(pilot, "e")
        assert current(app) == 6 and "error at step 6" in status(app)
        assert screen.step is not None and screen.step.error == "HTTP 500 Internal Server Error"
        await press(pilot, "e")
        assert current(app) == 6  # the only one: found again


async def test_brackets_go_to_the_next_and_previous_llm_call(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "right_square_bracket")
        assert current(app) == 2
        await press(pilot, "right_square_bracket")
        assert current(app) == 5
        await press(pilot, "right_square_bracket")
        assert current(app) == 7
        await press(pilot, "left_square_bracket")
        assert current(app) == 5


async def test_t_groups_the_steps_by_logical_task(concurrent: Path) -> None:
    app = app_for(concurrent)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        steps = screen.steps
        tasks = {row.task for row in steps.rows}
        assert len(tasks) >= 2  # the two concurrent tasks
        in_order = [line.number for line in steps._lines]
        await press(pilot, "t")
        assert steps.by_task and "grouped by task" in status(app)
        headings = [line.group for line in steps._lines if line.number == 0]
        assert sorted(headings) == sorted(tasks)
        for task in tasks:  # each task's steps follow its heading
            start = next(i for i, line in enumerate(steps._lines) if line.group == task)
            members = [line.number for line in steps._lines[start + 1 :]]
            members = members[: members.index(0)] if 0 in members else members
            assert {steps.rows[n - 1].task for n in members} == {task}
        await press(pilot, "t")
        assert [line.number for line in steps._lines] == in_order


async def test_number_keys_switch_the_detail_tabs(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await press(pilot, "g", "2", "enter")
        tabs = screen.query_one("#detail-tabs", TabbedContent)
        for key, tab in zip("12345", ("prompt", "answer", "timing", "http", "events"), strict=True):
            await press(pilot, key)
            assert tabs.active == tab
        await press(pilot, "g", "1", "enter")  # a span: only Timing and Events apply
        assert tabs.active == "events"
        await press(pilot, "1")
        assert tabs.active == "events" and "a span step has no prompt tab" in status(app)


async def test_each_kind_of_step_opens_on_its_own_tab_until_one_is_chosen(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        tabs = screen.query_one("#detail-tabs", TabbedContent)
        for number, tab in (("1", "timing"), ("3", "http"), ("4", "answer"), ("2", "prompt")):
            await press(pilot, "g", number, "enter")
            assert tabs.active == tab, number
        await press(pilot, "5")  # chosen: Events, on every kind of step
        for number in "1342":
            await press(pilot, "g", number, "enter")
            assert tabs.active == "events", number


async def test_ctrl_o_and_ctrl_i_go_back_and_forward_through_jumps(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "g", "5", "enter")
        await press(pilot, "e")
        assert current(app) == 6
        await press(pilot, "ctrl+o")
        assert current(app) == 5
        await press(pilot, "ctrl+o")
        assert current(app) == 1
        await press(pilot, "ctrl+i")
        assert current(app) == 5
        await press(pilot, "tab")  # the same key as ctrl+i in a terminal
        assert current(app) == 6
        await press(pilot, "tab")
        assert "no later jump" in status(app)


async def test_y_copies_the_step_as_json_and_writes_it_to_a_file(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await press(pilot, "g", "2", "enter", "y")
        copied = json.loads(app.clipboard)
        assert copied["number"] == 2 and copied["llm"]["model"] == "gpt-4o"
        assert copied["llm"]["tool_calls"][0]["name"] == "lookup_order"
        assert copied["llm"]["messages"][1]["content"] == "Where is my order B-2001?"
        written = status(app).split("written to ")[1].split(" (")[0]
        assert json.loads(Path(written).read_text()) == copied


async def test_enter_folds_and_unfolds_a_span(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        steps = screen.steps
        assert [line.number for line in steps._lines][:2] == [1, 2]
        await press(pilot, "enter")
        assert [line.number for line in steps._lines][:2] == [1, 3]
        await press(pilot, "g", "2", "enter")  # going to a folded step unfolds its span
        assert current(app) == 2 and [line.number for line in steps._lines][:2] == [1, 2]
        await press(pilot, "k", "space", "space")
        assert [line.number for line in steps._lines][:2] == [1, 2]


async def test_h_and_l_move_between_the_panes(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        assert app.focused is screen.steps
        await press(pilot, "l")
        assert app.focused is not None and app.focused.id is None
        assert type(app.focused).__name__ == "TimingView"  # the span's first tab
        await press(pilot, "h")
        assert app.focused is screen.steps
        await press(pilot, "g", "4", "enter", "l")
        # A pane that fits takes no focus (there is nothing to scroll), and says so.
        assert (app.focused is screen.steps) == ("nothing to scroll" in status(app))


async def test_a_click_selects_a_step(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        await pilot.click(StepList, offset=(4, 4))  # under the header line: step n at y = n
        await settle(pilot, lambda: ready(app))
        assert current(app) == 4 and screen.step is not None and screen.step.kind == "tool"


async def test_question_mark_shows_every_key_and_its_id(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        ids = {action_id for _, _, action_id in help_screen.keys}
        assert {"run.next", "run.go_to", "run.search", "run.fork", "app.quit"} <= ids
        keys = {action_id: keys for keys, _, action_id in help_screen.keys}
        assert keys["run.next"] == "j, ↓" and keys["run.last"] == "G, end"
        described = {action_id: text for _, text, action_id in help_screen.keys}
        assert "jump" in described["run.back"] and "jump" in described["run.forward"]
        assert "run.close" not in ids  # opened alone: there is no list to go back to
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen))


async def test_ctrl_p_runs_any_action_from_the_command_palette(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"next error")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen) and current(app) == 6)


async def test_q_quits_with_exit_code_zero(failed: Path) -> None:
    app = app_for(failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        # Not pilot.press: after the key it waits for the app's animator, which an app
        # that has exited never completes (a hang, about one run in ten).
        app.post_message(events.Key("q", "q"))
        deadline = asyncio.get_running_loop().time() + 20
        while app.return_code is None:  # set by the exit the key asked for
            assert asyncio.get_running_loop().time() < deadline, "q did not quit"
            await asyncio.sleep(0.02)
    assert app.return_code == 0


async def test_keys_remapped_in_the_config_take_over(failed: Path) -> None:
    settings = Settings(keys={"run.next": "x", "run.search": "ctrl+f"}, theme="textual-light")
    app = app_for(failed, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(pilot)
        assert app.theme == "textual-light"
        await press(pilot, "j")
        assert current(app) == 1  # j no longer moves
        await press(pilot, "x", "x")
        assert current(app) == 3
        await press(pilot, "ctrl+f", *"remember", "enter")
        await settle(pilot, lambda: current(app) == 4)
