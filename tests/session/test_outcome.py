"""The verdict of a replay, as the user reads it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import DivergenceError
from agentreplay.cassette.events import ErrorInfo, RunOutcome
from agentreplay.session.outcome import ExitStatus, compare_outcomes
from tests.servers import ToolServer


def _verdict(recorded_error: ErrorInfo | None, error: ErrorInfo | None, what_if: str) -> str:
    recorded = RunOutcome(
        "0", 9, 100, None, "'done'" if recorded_error is None else "", recorded_error
    )
    result = compare_outcomes(
        recorded,
        3,
        error,
        "'other'" if error is None else "",
        error is None,
        step=3,
        divergence=None,
        unused_calls=0,
        what_if=what_if,
    )
    return str(result)


def test_a_what_if_run_says_raised_for_an_exception_on_either_side() -> None:
    boom = ErrorInfo("openai.InternalServerError", "Error code: 500", "", ["Error code: 500"])
    key = ErrorInfo("KeyError", "'order'", "", ["order"])
    assert _verdict(key, boom, "step 1 overridden") == (
        "what-if (step 1 overridden): the run raised InternalServerError('Error code: 500'); "
        "the recording: raised KeyError('order')"
    )
    assert _verdict(None, None, "step 1 overridden") == (
        "what-if (step 1 overridden): the run returned 'other'; the recording: returned 'done'"
    )


def test_a_reproduced_failure_names_the_exception_and_the_step() -> None:
    key = ErrorInfo("KeyError", "'order'", "", ["order"])
    assert _verdict(key, key, "") == "reproduced: KeyError('order') at step 3"


def test_a_replay_of_a_damaged_cassette_leads_with_the_damage_wherever_it_diverged() -> None:
    damaged = "cassette x is damaged or truncated at byte 2939: file ends inside a stream piece"
    for step, reason in ((None, "a clock read"), (3, "the recording ends inside this body")):
        divergence = DivergenceError(reason, step=step, task="0", expected="a", actual="b")
        result = compare_outcomes(
            None,
            0,
            None,
            "None",
            True,
            step=3,
            divergence=divergence,
            unused_calls=0,
            damaged=damaged,
        )
        where = "past what could be read" if step is None else f"at step {step}, where it ends"
        assert str(result) == (
            f"the cassette is damaged or truncated ({damaged}), and the replay diverged "
            f"{where}: {reason}"
        )


def test_a_scripts_exit_status_reads_as_one() -> None:
    assert repr(ExitStatus(3)) == "exit status 3" and ExitStatus(3) == 3


def _task_group_agent(url: str, fail: Callable[[str], Exception]) -> Callable[[], None]:
    """An agent whose one task fetches an answer and fails with it, in a TaskGroup."""

    async def ask() -> None:
        async with httpx.AsyncClient() as client:
            answer = (await client.get(f"{url}/tool/4")).json()["answer"]
        raise fail(answer)

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(ask())

    return lambda: asyncio.run(main())


def _replay_task_group(
    server: ToolServer,
    cassette: Path,
    recorded: Callable[[str], Exception],
    replayed: Callable[[str], Exception],
) -> str:
    with pytest.raises(ExceptionGroup), agentreplay.record(cassette):
        _task_group_agent(server.url, recorded)()
    server.stop()
    session = agentreplay.replay(cassette)
    with pytest.raises(ExceptionGroup), session:
        _task_group_agent(server.url, replayed)()
    assert session.result is not None
    return str(session.result)


def test_a_task_group_failure_is_reproduced_with_its_sub_exception(
    server: ToolServer, cassette: Path
) -> None:
    assert _replay_task_group(server, cassette, ValueError, ValueError) == (
        "reproduced: ExceptionGroup('unhandled errors in a TaskGroup (1 sub-exception): "
        "ValueError: result-4') at step 1"
    )


def test_a_task_group_failure_whose_sub_exception_changed_type_is_not_reproduced(
    server: ToolServer, cassette: Path
) -> None:
    assert _replay_task_group(server, cassette, ValueError, KeyError) == (
        "not reproduced: recorded ExceptionGroup('unhandled errors in a TaskGroup "
        "(1 sub-exception): ValueError: result-4'), replay ExceptionGroup(\"unhandled errors "
        "in a TaskGroup (1 sub-exception): KeyError: 'result-4'\")"
    )


def test_a_task_group_failure_whose_sub_exception_says_another_thing_is_not_reproduced(
    server: ToolServer, cassette: Path
) -> None:
    verdict = _replay_task_group(
        server, cassette, ValueError, lambda answer: ValueError(f"{answer}, twice")
    )
    assert verdict == (
        "not reproduced: recorded ExceptionGroup('unhandled errors in a TaskGroup "
        "(1 sub-exception): ValueError: result-4'), replay ExceptionGroup('unhandled errors "
        "in a TaskGroup (1 sub-exception): ValueError: result-4, twice')"
    )


def test_a_recording_made_before_groups_named_their_sub_exceptions_still_reproduces() -> None:
    older = ErrorInfo("ExceptionGroup", "unhandled errors in a TaskGroup (1 sub-exception)")
    now = ErrorInfo(
        "ExceptionGroup", "unhandled errors in a TaskGroup (1 sub-exception): ValueError: boom"
    )
    assert _verdict(older, now, "") == (
        "reproduced: ExceptionGroup('unhandled errors in a TaskGroup (1 sub-exception)') at step 3"
    )
    elsewhere = ErrorInfo("ExceptionGroup", "unhandled errors in a TaskGroup (2 sub-exceptions)")
    assert _verdict(elsewhere, now, "").startswith("not reproduced")


class Order:
    """An object with no repr of its own: its repr holds its memory address."""


def test_a_returned_object_reproduces_whatever_its_address(
    server: ToolServer, cassette: Path
) -> None:
    def agent() -> Order:
        httpx.get(f"{server.url}/tool/1")
        return Order()

    recorded = agentreplay.record(cassette)(agent)()  # kept alive: the replay's is elsewhere
    server.stop()
    session = agentreplay.replay(cassette)
    replayed = session(agent)()
    assert repr(replayed) != repr(recorded)
    assert session.result is not None and session.result.reproduced, session.result
    # what it says keeps the address the recording holds
    assert str(session.result) == f"reproduced: returned {recorded!r} after step 1"


def test_an_error_naming_an_object_reproduces_whatever_its_address(
    server: ToolServer, cassette: Path
) -> None:
    orders = [Order(), Order()]

    def agent(order: Order) -> None:
        httpx.get(f"{server.url}/tool/1")
        raise RuntimeError(f"cannot ship {order!r}")

    with pytest.raises(RuntimeError), agentreplay.record(cassette):
        agent(orders[0])
    server.stop()
    session = agentreplay.replay(cassette)
    with pytest.raises(RuntimeError), session:
        agent(orders[1])
    assert session.result is not None and session.result.reproduced, session.result


def test_an_address_hides_no_other_difference() -> None:
    recorded = RunOutcome("0", 9, 100, None, "<app.Order object at 0x7f01>", None)
    result = compare_outcomes(
        recorded,
        3,
        None,
        "<app.Refund object at 0x7f02>",
        True,
        step=3,
        divergence=None,
        unused_calls=0,
    )
    assert str(result) == (
        "not reproduced: recorded returned <app.Order object at 0x7f01>, "
        "replay returned <app.Refund object at 0x7f02>"
    )
