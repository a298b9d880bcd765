"""agentreplay.diff on runs recorded with the real SDKs against local servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import openai
import pytest

import agentreplay
from agentreplay.cassette import ErrorInfo, RunOutcome
from agentreplay.demo.model_server import ModelRequest, ModelServer, Reply
from agentreplay.errors import UsageError
from agentreplay.rundiff import RunDiff, Verdict, diff
from tests.cassette.helpers import write
from tests.rundiff.runs import Servers, record_run, servers
from tests.servers import ToolServer

__all__ = ["servers"]  # the fixture


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_two_recordings_of_the_same_run_are_identical(
    servers: Servers, tmp_path: Path, sdk: str
) -> None:
    a = record_run(tmp_path / "a.cassette", servers, sdk)
    b = record_run(tmp_path / "b.cassette", servers, sdk)
    result = diff(a, b)
    # ids, dates and durations differ between the two recordings, and do not count
    assert result.identical, [row.changes for row in result.rows]
    assert result.summary() == "identical"
    assert [(r.a.number, r.b.number) for r in result.rows if r.a and r.b] == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
    ]
    assert [row.kind for row in result.rows] == ["llm", "http", "llm", "tool"]
    assert result.first_divergence is None
    assert result.outcome.same


def test_ids_count_when_the_default_pattern_is_taken_back(servers: Servers, tmp_path: Path) -> None:
    a = record_run(tmp_path / "a.cassette", servers)
    b = record_run(tmp_path / "b.cassette", servers)
    result = diff(a, b, ignore=["!tool_calls[*].id", "!messages[*].tool_call_id"])
    first = result.first_divergence
    assert first is not None and first.a is not None and first.a.number == 1
    assert [c.path for c in first.changes] == ["tool_calls[0].id"]
    later = result.row(a=3)
    assert later.verdict is Verdict.CHANGED
    assert {c.path for c in later.changes} >= {"messages[3].tool_call_id"}


def test_an_extra_tool_call_is_one_changed_llm_step_and_one_insertion(
    servers: Servers, tmp_path: Path
) -> None:
    a = record_run(tmp_path / "a.cassette", servers)
    servers.script.tools = ["lookup_order", "shipping_status"]
    b = record_run(tmp_path / "b.cassette", servers)
    result = diff(a, b)
    table = [
        (r.a.number if r.a else None, r.b.number if r.b else None, r.kind, r.verdict)
        for r in result.rows
    ]
    assert table == [
        (1, 1, "llm", Verdict.CHANGED),
        (2, 2, "http", Verdict.SAME),
        (None, 3, "http", Verdict.ONLY_B),
        (3, 4, "llm", Verdict.CHANGED),
        (4, 5, "tool", Verdict.SAME),
    ]
    assert (
        result.summary()
        == "2 changed, 0 only in A, 1 only in B; first divergence at step 1 / step 1"
    )
    first = result.first_divergence
    assert first is result.rows[0]
    (change,) = first.changes
    assert (change.path, change.kind) == ("tool_calls[1]", "added")
    assert change.new["name"] == "shipping_status"
    assert change.new["arguments"] == {"order_id": "A-1001"}
    assert result.rows[2].b is not None and "shipping_status" in result.rows[2].b.name
    later = {(c.path, c.kind, c.label) for c in result.rows[3].changes}
    assert later == {
        ("messages[2].tool_calls[1]", "added", "assistant"),
        ("messages[4]", "added", "tool"),
    }


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_changed_system_prompt_is_a_word_diff_of_messages_0_content(
    servers: Servers, tmp_path: Path, sdk: str
) -> None:
    a = record_run(tmp_path / "a.cassette", servers, sdk)
    terse = "You are a terse support agent for a coffee shop."
    b = record_run(tmp_path / "b.cassette", servers, sdk, system=terse)
    result = diff(a, b)
    assert [row.verdict for row in result.rows] == [
        Verdict.CHANGED,
        Verdict.SAME,
        Verdict.CHANGED,
        Verdict.SAME,
    ]
    (change,) = result.rows[0].changes
    assert change.path == "messages[0].content" and change.label == "system"
    assert change.text_diff() == [
        ("=", "You are a "),
        ("-", "helpful"),
        ("+", "terse"),
        ("=", " support agent for a coffee shop."),
    ]


def _concurrent_server(slow: str) -> ModelServer:
    def answer(request: ModelRequest) -> Reply:
        question = request.body["messages"][-1]["content"]
        if slow in question:
            import time

            time.sleep(0.3)
        return Reply(text=f"answer to {question}")

    return ModelServer(answer).start()


async def _two_tasks(url: str, first_waits: float) -> str:
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0) as model:

        async def ask(question: str, wait: float) -> str:
            await asyncio.sleep(wait)
            reply = await model.chat.completions.create(
                model="m", messages=[{"role": "user", "content": question}]
            )
            return reply.choices[0].message.content or ""

        answers = await asyncio.gather(ask("Paris?", first_waits), ask("Lyon?", 0.1 - first_waits))
        final = await model.chat.completions.create(
            model="m", messages=[{"role": "user", "content": " / ".join(answers)}]
        )
        return final.choices[0].message.content or ""


def test_concurrent_tasks_align_per_task_whatever_order_they_ran_in(tmp_path: Path) -> None:
    a, b = tmp_path / "a.cassette", tmp_path / "b.cassette"
    for path, slow, first_waits in ((a, "Lyon", 0.0), (b, "Paris", 0.1)):
        server = _concurrent_server(slow)
        try:
            with agentreplay.record(path):
                asyncio.run(_two_tasks(server.url, first_waits))
        finally:
            server.stop()
    with agentreplay.open(a) as ca, agentreplay.open(b) as cb:
        order_a = [info.task for info in ca.step_infos()]
        order_b = [info.task for info in cb.step_infos()]
    assert order_a[:2] == list(reversed(order_b[:2]))  # started (and ended) in other orders
    result = diff(a, b)
    assert result.identical, result.summary()
    pairs = {(r.a.task, r.a.number, r.b.number) for r in result.rows if r.a and r.b}
    assert pairs == {(order_a[0], 1, 2), (order_a[1], 2, 1), (order_a[2], 3, 3)}
    assert sorted(result.tasks) == sorted((task, task) for task in {*order_a})


def test_deltas_and_reads_are_reported_but_never_the_verdict(
    servers: Servers, tmp_path: Path
) -> None:
    a = record_run(tmp_path / "a.cassette", servers)
    b = record_run(tmp_path / "b.cassette", servers)
    result = diff(a, b)
    llm = result.rows[0]
    assert llm.verdict is Verdict.SAME
    assert llm.deltas.duration is not None and llm.deltas.input_tokens == 0
    assert llm.a is not None and llm.a.input_tokens is not None and llm.a.input_tokens > 0


def test_the_json_form_round_trips(servers: Servers, tmp_path: Path) -> None:
    a = record_run(tmp_path / "a.cassette", servers)
    servers.script.answer = "It is in Lyon."
    b = record_run(tmp_path / "b.cassette", servers)
    result = diff(a, b)
    again = RunDiff.from_plain(result.to_plain())
    assert again == result
    assert [row.changes for row in again.rows] == [row.changes for row in result.rows]
    assert again.steps(again.rows[2])[1] is not None  # read again from the cassette


def test_a_bad_ignore_pattern_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="takes nothing back"):
        diff(tmp_path / "a", tmp_path / "b", ignore=["!nothing.like.this"])


def _record_failure(cassette: Path, server: ToolServer, error: BaseException) -> Path:
    with pytest.raises(type(error)), agentreplay.record(cassette):
        httpx.get(f"{server.url}/tool/1")
        raise error
    return cassette


def test_outcomes_that_differ_only_in_memory_addresses_are_the_same(
    server: ToolServer, tmp_path: Path
) -> None:
    orders = [object(), object()]  # both alive: two addresses
    a, b = (
        _record_failure(tmp_path / f"{name}.cassette", server, RuntimeError(f"lost {order!r}"))
        for name, order in zip("ab", orders, strict=True)
    )
    result = diff(a, b)
    assert result.outcome.same, result.outcome.changes
    assert result.outcome.a == f"raised RuntimeError('lost {orders[0]!r}')"


def test_a_group_whose_sub_exception_changed_ends_otherwise(
    server: ToolServer, tmp_path: Path
) -> None:
    a = _record_failure(
        tmp_path / "a.cassette", server, ExceptionGroup("tasks failed", [ValueError("late")])
    )
    b = _record_failure(
        tmp_path / "b.cassette", server, ExceptionGroup("tasks failed", [KeyError("late")])
    )
    result = diff(a, b)
    assert [(c.path, c.old, c.new) for c in result.outcome.changes] == [
        (
            "error.message",
            "tasks failed (1 sub-exception): ValueError: late",
            "tasks failed (1 sub-exception): KeyError: 'late'",
        )
    ]


def test_a_group_recorded_before_messages_named_its_exceptions_ends_the_same(
    tmp_path: Path,
) -> None:
    message = "unhandled errors in a TaskGroup (1 sub-exception)"
    older = ErrorInfo("ExceptionGroup", message)
    newer = ErrorInfo("ExceptionGroup", f"{message}: ValueError: boom")
    for name, error in (("a", older), ("b", newer)):
        write(tmp_path / f"{name}.cassette", [RunOutcome("0", 0, 10, None, "", error)])
    assert diff(tmp_path / "a.cassette", tmp_path / "b.cassette").outcome.same
