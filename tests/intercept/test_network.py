"""A replay never reaches the network, even through raw sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
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


def test_a_low_level_socket_connect_is_refused(server: ToolServer, cassette: Path) -> None:
    import _socket

    with agentreplay.record(cassette):
        pass
    host, port = server.url.removeprefix("http://").split(":")
    hits = server.count()
    session = agentreplay.replay(cassette)
    with (
        pytest.raises(DivergenceError, match=rf"socket connect to 127\.0\.0\.1:{port}"),
        session,
    ):
        raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        raw.connect((host, int(port)))
        raw.sendall(b"GET /tool/raw HTTP/1.0\r\n\r\n")
    assert raw.fileno() == -1  # closed by the guard, not left open
    assert session.divergence is not None
    assert server.count() == hits


def test_a_udp_sendmsg_is_refused(cassette: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        address = listener.getsockname()
        with agentreplay.record(cassette):
            pass
        session = agentreplay.replay(cassette)
        with (
            pytest.raises(DivergenceError, match=rf"socket sendmsg to 127\.0\.0\.1:{address[1]}"),
            session,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        ):
            udp.sendmsg([b"metric:3"], [], 0, address)
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.recv(64)


def test_a_subprocess_is_refused_so_curl_never_reaches_the_server(
    server: ToolServer, cassette: Path
) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "the tests need curl"
    with agentreplay.record(cassette):
        subprocess.run([curl, "-s", server.url + "/tool/curl"], check=True, capture_output=True)
    hits = server.count()
    assert hits == 1
    session = agentreplay.replay(cassette)
    with pytest.raises(DivergenceError) as caught, session:
        subprocess.run([curl, "-s", server.url + "/tool/curl"], check=True, capture_output=True)
    message = str(caught.value)
    assert f"subprocess.Popen: {curl} -s {server.url}/tool/curl" in message
    assert "--isolate" in message
    assert caught.value.call_site is not None and caught.value.call_site.filename == __file__
    assert server.count() == hits


def test_os_system_is_refused_too(server: ToolServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        pass
    session = agentreplay.replay(cassette)
    with pytest.raises(DivergenceError, match=r"os\.system: curl -s"), session:
        os.system(f"curl -s {server.url}/tool/system")
    assert server.count() == 0


def test_the_guard_does_nothing_once_the_replay_is_over(server: ToolServer, cassette: Path) -> None:
    import _socket

    with agentreplay.record(cassette):
        pass
    with agentreplay.replay(cassette):
        pass
    host, port = server.url.removeprefix("http://").split(":")
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        raw.connect((host, int(port)))  # the audit hook stays, and lets it through
    finally:
        raw.close()
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0
