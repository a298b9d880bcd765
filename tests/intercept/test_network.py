"""A replay never reaches the network, even through raw sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer


def test_raw_socket_to_another_host_is_refused_during_replay(cassette: Path) -> None:
    with agentreplay.record(cassette):
        pass
    session = agentreplay.replay(cassette)
    with (
        pytest.raises(DivergenceError, match=r"socket connect to 192\.0\.2\.1:9"),
        session,
        socket.socket() as sock,
    ):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed
    assert session.divergence is not None


def test_loopback_stays_open_and_recording_is_not_guarded(
    server: ToolServer, cassette: Path
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with agentreplay.record(cassette), socket.create_connection((host, int(port)), timeout=2):
        pass
    with (
        agentreplay.replay(cassette) as run,
        socket.create_connection((host, int(port)), timeout=2),
    ):
        pass
    assert run.divergence is None
