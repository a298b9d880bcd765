"""The step model built from a recorded multi-turn, tool-using agent."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentreplay
from agentreplay.steps import iter_steps, summarize
from tests.agents import record_agent


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steps") / "agent.cassette"
    assert record_agent(path) == "Paris is sunny and Lyon is rainy."
    return path


def test_steps_follow_the_agent_llm_then_tools_then_llm(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        steps = list(iter_steps(cassette))
    assert [(s.number, s.kind) for s in steps] == [
        (1, "llm"),
        (2, "http"),
        (3, "http"),
        (4, "tool"),
        (5, "span"),
        (6, "llm"),
    ]
    first, tool_a, tool_b, remember, span, answer = steps
    assert first.llm is not None and first.llm.model == "gpt-4o"
    assert [c.name for c in first.llm.tool_calls] == ["weather", "weather"]
    # The two tool calls ran concurrently, each in its own logical task (0.1.1 is the
    # SDK's own platform probe, run in a thread on the first request).
    assert {tool_a.task, tool_b.task} == {"0.1.2", "0.1.3"}
    assert {tool_a.url.rsplit("/", 1)[-1], tool_b.url.rsplit("/", 1)[-1]} == {"Paris", "Lyon"}
    assert remember.name.endswith("remember") and remember.value == "TWO CITIES"
    assert span.name == "answer" and answer.parent == span.number
    assert answer.llm is not None and answer.llm.stream
    assert answer.llm.output_text == "Paris is sunny and Lyon is rainy."
    assert answer.llm.ttft is not None and 0 < answer.llm.ttft <= (answer.duration or 0)
    assert all(s.status == "ok" for s in steps)


def test_usage_and_cost_come_from_the_price_table(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        steps = list(iter_steps(cassette))
    first = steps[0]
    assert first.llm is not None
    assert (first.llm.input_tokens, first.llm.output_tokens, first.llm.cached_tokens) == (
        120,
        30,
        20,
    )
    assert first.cost is not None and first.cost > 0  # gpt-4o is in genai-prices' table
    summary = summarize(steps)
    assert (summary.llm_calls, summary.tool_calls, summary.http_calls) == (2, 1, 2)
    assert summary.input_tokens == 320 and summary.output_tokens == 42


def test_an_unknown_model_has_no_cost(tmp_path: Path) -> None:
    from agentreplay.llm import LLMCall
    from agentreplay.steps import price

    call = LLMCall(
        provider="openai-compatible",
        api="chat.completions",
        model="my-local-llm",
        response_model=None,
        messages=[],
        tools=[],
        params={},
        stream=False,
        output_text="",
        thinking="",
        tool_calls=[],
        finish_reason="stop",
        input_tokens=10,
        output_tokens=5,
        cached_tokens=0,
        ttft=None,
        duration=None,
        gaps=[],
        status=200,
        error=None,
    )
    assert price(call) is None


def test_clock_and_entropy_reads_belong_to_their_step(tmp_path: Path) -> None:
    import time
    import uuid

    path = tmp_path / "reads.cassette"
    with agentreplay.record(path):
        time.time()
        with agentreplay.step("outer"):
            uuid.uuid4()
            with agentreplay.step("inner"):
                time.time()
                time.time()
    with agentreplay.open(path) as cassette:
        steps = {s.name: s for s in iter_steps(cassette)}
    assert steps["outer"].reads == 1 and steps["inner"].reads == 2
    assert steps["inner"].parent == steps["outer"].number
