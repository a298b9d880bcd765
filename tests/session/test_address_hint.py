"""The hint that only the address differs is given only when nothing else does."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer

HINT = "(only the address differs"


def _diverge(cassette: Path, recorded: str, replayed: str, body: str) -> str:
    with agentreplay.record(cassette):
        httpx.post(recorded + "/echo", content=b"same")
    with pytest.raises(DivergenceError) as caught, agentreplay.replay(cassette):
        httpx.post(replayed + "/echo", content=body.encode())
    return str(caught.value)


def test_only_the_port_differs_gives_the_hint(server: ToolServer, cassette: Path) -> None:
    other = server.url.rsplit(":", 1)[0] + ":9"
    assert HINT in _diverge(cassette, server.url, other, "same")


def test_port_and_body_differing_gives_no_hint(server: ToolServer, cassette: Path) -> None:
    other = server.url.rsplit(":", 1)[0] + ":9"
    message = _diverge(cassette, server.url, other, "changed")
    assert "body" in message
    assert HINT not in message
