"""Recording real SDK traffic against the fake model server, and reading it back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anthropic
import openai

import agentreplay
from agentreplay.cassette import HttpChunk, HttpEnd, HttpError, HttpRequest, HttpResponse
from agentreplay.demo.model_server import ModelServer
from agentreplay.llm import LLMCall, decode_exchange

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
