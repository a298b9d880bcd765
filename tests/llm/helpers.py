"""Recording real SDK traffic against the fake model server, and reading it back."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anthropic
import openai

import agentreplay
from agentreplay.cassette import HttpChunk, HttpEnd, HttpError, HttpRequest, HttpResponse
from agentreplay.cli import main
from agentreplay.demo.model_server import ModelServer
from agentreplay.llm import LLMCall, decode_exchange
from agentreplay.session.matching import DefaultMatcher, RequestInfo

Serve = Callable[..., ModelServer]
"""The ``serve`` fixture: ``serve(reply_or_responder, chunk_delay=0.0)`` starts a server."""


@dataclass
class Exchange:
    """One HTTP exchange as recorded: what `decode_exchange` takes."""

    request: HttpRequest
    response: HttpResponse | None = None
    chunks: list[HttpChunk] = field(default_factory=list)
    end_at: int | None = None

    def decode(self) -> LLMCall | None:
        return decode_exchange(self.request, self.response, self.chunks, self.end_at)

    def call(self) -> LLMCall:
        decoded = self.decode()
        assert decoded is not None, f"not decoded as an LLM call: {self.request.url}"
        return decoded

    @property
    def body(self) -> bytes:
        return b"".join(chunk.data for chunk in self.chunks)


def exchanges(path: Path) -> list[Exchange]:
    """The cassette's HTTP exchanges in request order, grouped by (task, request seq)."""
    found: dict[tuple[str, int], Exchange] = {}
    with agentreplay.open(path) as cassette:
        for event in cassette.events():
            if isinstance(event, HttpRequest):
                found[event.task, event.seq] = Exchange(event)
            elif isinstance(event, HttpResponse):
                found[event.task, event.request].response = event
            elif isinstance(event, HttpChunk):
                found[event.task, event.request].chunks.append(event)
            elif isinstance(event, HttpEnd | HttpError):
                found[event.task, event.request].end_at = event.at
    return list(found.values())


def record(path: Path, agent: Callable[[], object]) -> list[Exchange]:
    """Run ``agent`` while recording into ``path``; its HTTP exchanges."""
    with agentreplay.record(path):
        agent()
    return exchanges(path)


def record_calls(path: Path, agent: Callable[[], object]) -> list[LLMCall]:
    """Run ``agent`` while recording; every exchange decoded as an LLM call."""
    return [exchange.call() for exchange in record(path, agent)]


class HasUrl(Protocol):
    """A server, or just where it was (replay needs only the address)."""

    @property
    def url(self) -> str: ...


def openai_client(server: HasUrl) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def anthropic_client(server: HasUrl) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


class _Sent:
    """A matcher that keeps each request the replayed run sent and matched."""

    def __init__(self) -> None:
        self.requests: list[RequestInfo] = []

    def diff(self, expected: RequestInfo, actual: RequestInfo) -> list[str]:
        lines = DefaultMatcher().diff(expected, actual)
        if not lines:
            self.requests.append(actual)
        return lines


def replay(path: Path, agent: Callable[[], Any]) -> tuple[Any, list[LLMCall]]:
    """Replay ``path`` around ``agent`` (strictly, so offline): what the agent returned, and
    its model calls decoded from the requests it sent and the answers it was handed."""
    sent = _Sent()
    with agentreplay.replay(path, matcher=sent) as run:
        result = agent()
    assert run.result is not None and run.result.reproduced, run.result
    recorded = exchanges(path)
    assert len(sent.requests) == len(recorded)
    calls = []
    for exchange, request in zip(recorded, sent.requests, strict=True):
        asked = dataclasses.replace(exchange.request, url=request.url, body=request.body)
        calls.append(dataclasses.replace(exchange, request=asked).call())
    return result, calls


def show_json(path: Path) -> dict[str, Any]:
    """What ``agentreplay show FILE --json`` prints."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["show", str(path), "--json"]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data
