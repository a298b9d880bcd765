"""The step model built from a recorded multi-turn, tool-using agent."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from genai_prices.data_snapshot import get_snapshot

import agentreplay
from agentreplay.cassette.events import (
    ClockRead,
    EntropyDraw,
    ErrorInfo,
    Event,
    HttpChunk,
    HttpEnd,
    HttpError,
    HttpRequest,
    HttpResponse,
)
from agentreplay.steps import Step, Summary, body_plain, iter_steps, step_from_events
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
    assert {str(tool_a.url).rsplit("/", 1)[-1], str(tool_b.url).rsplit("/", 1)[-1]} == {
        "Paris",
        "Lyon",
    }
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
    # tokens x the table's prices: uncached input, cache reads and output each at their own
    _, model = get_snapshot().find_provider_model("gpt-4o", None, "openai", None)
    prices: Any = model.prices
    expected = (
        (120 - 20) * float(prices.input_mtok)
        + 20 * float(prices.cache_read_mtok)
        + 30 * float(prices.output_mtok)
    ) / 1e6
    assert first.cost == pytest.approx(expected, rel=1e-9) and expected > 0
    summary = _summary(steps)
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


def test_a_step_built_from_its_own_events_keeps_its_http_exchange(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        infos = cassette.step_infos()
        step = step_from_events(2, cassette.step(2), infos[1].parent)
    assert step is not None and step.kind == "http"
    assert step.request_headers is not None and ("Accept", "*/*") in step.request_headers
    assert step.request_body == b""
    assert step.response_headers is not None
    assert ("content-type", "application/json") in step.response_headers
    assert step.response_body is not None and b'"answer": "result-' in step.response_body
    assert step.to_plain()["response"]["body"]["data"] == step.response_body.decode()


def test_a_step_built_from_its_own_events_keeps_its_clock_and_entropy_reads(
    tmp_path: Path,
) -> None:
    import time
    import uuid

    path = tmp_path / "reads.cassette"
    with agentreplay.record(path):
        with agentreplay.step("stamp"):
            time.time()
            uuid.uuid4()
    with agentreplay.open(path) as cassette:
        step = step_from_events(1, cassette.step(1))
        streamed = next(iter_steps(cassette))
    assert step is not None and step.inputs is not None
    clock, entropy = step.inputs
    assert isinstance(clock, ClockRead) and clock.clock == "wall"
    assert isinstance(entropy, EntropyDraw) and len(entropy.data) == 16
    assert streamed.inputs is None and streamed.reads == 2


def test_a_kept_exchange_has_its_status_line_and_chunk_times() -> None:
    step = step_from_events(1, _exchange((), b"a", b"b"))
    assert step is not None
    assert (step.http_version, step.http_status, step.http_reason) == ("HTTP/1.1", 200, "OK")
    assert step.chunk_at == [3, 4]


def test_a_step_mentions_its_prompt_answer_url_and_tool_names(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        steps = list(iter_steps(cassette))
    first, tool_a, _, remember, _, answer = steps
    assert first.mentions("weather in PARIS")  # the prompt, any case
    assert first.mentions('"city": "Lyon"')  # a tool call's arguments
    assert answer.mentions("rainy") and not first.mentions("rainy")  # the answer
    assert tool_a.mentions("/tool/") and not tool_a.mentions("sunny")  # the URL
    assert remember.mentions("remember") and remember.mentions("TWO CITIES")
    assert not any(s.mentions("no such words") for s in steps)


def test_the_streaming_pass_holds_no_http_bodies(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        steps = list(iter_steps(cassette))
    assert all(s.request_body is None and s.response_body is None for s in steps)
    assert all(s._chunks is None and s._request is None for s in steps)
    assert all("request" not in s.to_plain() for s in steps)


def _exchange(headers: tuple[tuple[str, str], ...], *chunks: bytes) -> list[Event]:
    events: list[Event] = [
        HttpRequest("0", 0, 1, "POST", "http://tools.test/x", (("a", "b"),), b"{}", "httpx"),
        HttpResponse("0", 1, 2, 0, 200, headers, "HTTP/1.1", "OK"),
    ]
    events += [HttpChunk("0", 2 + i, 3 + i, 0, data) for i, data in enumerate(chunks)]
    events.append(HttpEnd("0", 9, 20, 0, True))
    return events


def test_a_kept_response_body_is_joined_and_its_content_encoding_undone() -> None:
    packed = gzip.compress(b'{"ok": true}')
    events = _exchange((("content-encoding", "gzip"),), packed[:5], packed[5:])
    step = step_from_events(1, events)
    assert step is not None and step.response_body == b'{"ok": true}'
    assert step.request_headers == (("a", "b"),) and step.request_body == b"{}"


def test_a_failed_exchange_keeps_its_request_and_has_no_response() -> None:
    request = _exchange(())[0]
    error = HttpError("0", 1, 5, 0, ErrorInfo("httpx.ConnectError", "refused"))
    step = step_from_events(1, [request, error])
    assert step is not None and step.status == "error" and step.response_body is None
    plain = step.to_plain()
    assert plain["request"]["body"]["data"] == "{}" and plain["response"] is None


def test_a_body_is_text_when_utf8_else_base64() -> None:
    assert body_plain("héllo".encode()) == {"size": 6, "encoding": "utf-8", "data": "héllo"}
    binary = body_plain(b"\xff\x00\x01")
    assert binary == {
        "size": 3,
        "encoding": "base64",
        "data": base64.b64encode(b"\xff\x00\x01").decode(),
    }


def test_a_long_body_is_cut_with_a_note_and_never_mid_character() -> None:
    data = "é".encode() * 10  # 20 bytes; a cut at 5 falls inside the third "é"
    plain = body_plain(data, limit=5)
    assert plain["encoding"] == "utf-8" and plain["data"] == "éé"
    assert plain["size"] == 20 and plain["note"] == "cut to the first 5 of 20 bytes"
    assert "note" not in body_plain(data, limit=20)


def test_the_summary_counts_the_calls_that_reported_tokens(recorded: Path) -> None:
    with agentreplay.open(recorded) as cassette:
        summary = _summary(iter_steps(cassette))
    assert summary.llm_calls == summary.counted_calls == 2


def _summary(steps: Iterable[Step]) -> Summary:
    summary = Summary()
    for step in steps:
        summary.add(step)
    return summary
