"""One canary, put everywhere a secret can travel during a run, never reaches a cassette."""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import anthropic
import httpx
import openai
import pytest
import requests

import agentreplay
from agentreplay.demo.model_server import ModelServer, Reply
from tests.helpers import cassette_bytes
from tests.servers import ToolServer

CANARY = "canary-7f3a9c1e52b04d68"
"""A secret that must not appear in any byte of a cassette, compressed or not."""


@agentreplay.tool
def lookup(token: str, query: dict[str, Any]) -> dict[str, Any]:
    return {"echo": token, "rows": [query]}


@agentreplay.tool
def failing_tool(password: str) -> None:
    raise PermissionError(f"login refused for password {password}")


def _headers_everywhere() -> dict[str, str]:
    basic = base64.b64encode(f"ada:{CANARY}".encode()).decode()
    return {
        "Authorization": f"Bearer {CANARY}",
        "Proxy-Authorization": f"Basic {basic}",
        "Cookie": f"session={CANARY}; theme=dark",
        "x-api-key": CANARY,
        "api-key": CANARY,
        "X-Auth-Token": CANARY,
        "Ocp-Apim-Subscription-Key": CANARY,
        "X-Amz-Security-Token": CANARY,
        "x-goog-api-key": CANARY,
        "X-Client-Secret": CANARY,
        "X-Hub-Signature": CANARY,
        "X-Custom-Key": CANARY,
    }


_QUERY_NAMES = (
    "key",
    "KEY",
    "apiKey",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "accessToken",
    "token",
    "secret",
    "password",
    "signature",
    "sig",
    "client_secret",
)


async def _aiohttp_calls(url: str) -> None:
    host = url.removeprefix("http://")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://ada:{CANARY}@{host}/tool/a?key={CANARY}") as response:
            await response.read()
        async with session.get(f"{url}/echo", headers={"Authorization": f"Bearer {CANARY}"}) as r:
            await r.read()


def _run(server: ToolServer, model: ModelServer) -> None:
    url = server.url
    host = url.removeprefix("http://")
    # Headers, with httpx, httpx2 (through the SDKs) and requests.
    httpx.get(f"{url}/echo", headers=_headers_everywhere())
    requests.get(f"{url}/echo", headers=_headers_everywhere())
    # Query parameters, by any case and spelling.
    for name in _QUERY_NAMES:
        httpx.get(f"{url}/echo?q=1&{name}={CANARY}")
    requests.get(f"{url}/echo", params={"apiKey": CANARY, "q": "2"})
    # Credentials in the URL, with each client.
    httpx.get(f"http://ada:{CANARY}@{host}/echo")
    requests.get(f"http://ada:{CANARY}@{host}/echo")
    httpx.get(f"{url}/echo", auth=("ada", CANARY))
    asyncio.run(_aiohttp_calls(url))
    # A form body.
    httpx.post(f"{url}/echo", data={"user": "ada", "password": CANARY, "key": CANARY})
    requests.post(f"{url}/echo", data={"client_secret": CANARY})
    # The SDKs, keyed from the environment and directly.
    openai.OpenAI(base_url=f"{model.url}/v1").chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    anthropic.Anthropic(base_url=model.url, api_key=CANARY).messages.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    # Errors: a failed request whose URL holds the key, raise_for_status with the key.
    dead = ToolServer().start()
    dead.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{dead.url}/tool/1?key={CANARY}")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{dead.url}/tool/1?api_key={CANARY}")
    with pytest.raises(httpx.HTTPStatusError):
        httpx.get(f"{url}/status/401?key={CANARY}").raise_for_status()
    # Tools: arguments, values and errors; a step that fails.
    lookup(CANARY, {"password": CANARY, "note": f"key is {CANARY}"})
    with pytest.raises(PermissionError):
        failing_tool(CANARY)
    with pytest.raises(ValueError), agentreplay.step("login"):
        raise ValueError(f"bad credentials {CANARY}")
    # And the run ends with an exception that names the URL and its key.
    requests.get(f"{url}/status/403", params={"token": CANARY}).raise_for_status()


def test_the_canary_reaches_no_frame_of_the_cassette(
    server: ToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("DATABASE_URL", f"postgres://ada:{CANARY}@db.internal:5432/app")
    monkeypatch.setenv("AGENTREPLAY_MODE", "record")
    monkeypatch.setenv("AGENTREPLAY_ENV", "DATABASE_URL")
    monkeypatch.setattr(sys, "argv", ["agent.py", "--api-key", CANARY, f"--token={CANARY}"])
    cassette = tmp_path / "run.cassette"
    model = ModelServer(lambda request: Reply(text=f"I was called with {CANARY}")).start()

    @agentreplay.entrypoint(cassette=str(cassette), metadata={"deploy": f"key {CANARY}"})
    def main(question: str, api_key: str) -> None:
        _run(server, model)

    try:
        with pytest.raises(requests.HTTPError):
            main("what is the weather?", api_key=CANARY)
    finally:
        model.stop()
    data = cassette_bytes(cassette)
    for form in {CANARY, quote(CANARY), base64.b64encode(f"ada:{CANARY}".encode()).decode()}:
        assert form.encode() not in data, form
    assert b"[REDACTED]" in data
    with agentreplay.open(cassette) as opened:
        header = opened.header
        assert header["env"]["DATABASE_URL"] == "postgres://[REDACTED]@db.internal:5432/app"
        assert header["argv"] == ["agent.py", "--api-key", "[REDACTED]", "--token=[REDACTED]"]
        outcome = opened.outcome
        assert outcome is not None and outcome.error is not None
        assert "token=%5BREDACTED%5D" in outcome.error.message or "[REDACTED]" in (
            outcome.error.message
        )
        steps = list(opened.steps())
    # What is not secret is still there: the redaction hid values, not the run.
    assert any(step.kind == "tool" and step.name == "lookup" for step in steps)
    assert any(step.kind == "llm" for step in steps)
    assert b"user=ada" in data and b"what is the weather?" in data


def test_a_replay_matches_the_redacted_run_and_reproduces_its_outcome(
    server: ToolServer, cassette: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", CANARY)

    def run(secret: str) -> None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:9/tool/1?key={secret}")
        lookup(secret, {"password": secret})
        httpx.get(f"{server.url}/status/401?key={secret}").raise_for_status()

    with pytest.raises(httpx.HTTPStatusError), agentreplay.record(cassette):
        run(CANARY)
    assert CANARY.encode() not in cassette_bytes(cassette)
    server.stop()
    other = "other-secret-0123456789"
    monkeypatch.setenv("SERVICE_TOKEN", other)
    with pytest.raises(httpx.HTTPStatusError), agentreplay.replay(cassette) as replayed:
        run(other)
    assert replayed.result is not None and replayed.result.reproduced, replayed.result
