"""A replay never reaches the network, even through raw sockets."""

from __future__ import annotations

import socket
import threading
import urllib.request
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


def test_loopback_is_refused_too_and_names_the_call_site(
    server: ToolServer, cassette: Path
) -> None:
    # A database or API on localhost is as much an unrecorded input as a remote one.
    with agentreplay.record(cassette):
        pass
    hits = server.count()
    session = agentreplay.replay(cassette)
    with pytest.raises(DivergenceError) as caught, session:
        urllib.request.urlopen(server.url + "/tool/x", timeout=2)
    message = str(caught.value)
    assert "socket connect to 127.0.0.1:" in message and "@agentreplay.tool" in message
    assert caught.value.call_site is not None
    assert caught.value.call_site.filename == __file__
    assert session.divergence is caught.value
    assert server.count() == hits


def test_threads_outside_the_run_and_recording_are_not_guarded(
    server: ToolServer, cassette: Path
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with agentreplay.record(cassette), socket.create_connection((host, int(port)), timeout=2):
        pass
    connected = threading.Event()
    go = threading.Event()

    def watcher() -> None:  # a thread of the test runner's, started before the replay
        go.wait(5)
        with socket.create_connection((host, int(port)), timeout=2):
            connected.set()

    thread = threading.Thread(target=watcher)
    thread.start()
    with agentreplay.replay(cassette) as run:
        go.set()
        thread.join(5)
    assert connected.is_set()
    assert run.divergence is None


def test_a_datagram_sent_without_connecting_is_refused_too(cassette: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(2)
        address = listener.getsockname()
        with agentreplay.record(cassette), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"metric:1", address)  # recording leaves it alone
        assert listener.recv(64) == b"metric:1"
        session = agentreplay.replay(cassette)
        with (
            pytest.raises(DivergenceError, match=rf"socket sendto to 127\.0\.0\.1:{address[1]}"),
            session,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        ):
            udp.sendto(b"metric:2", 0, address)
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.recv(64)
