"""requests (through urllib3) against a real local server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer


def _run(url: str) -> dict[str, Any]:
    with requests.Session() as session:
        plain = session.post(f"{url}/echo", json={"q": "hello"})
        sse = session.get(f"{url}/sse?n=4&delay=0.01", stream=True)
        chunks = list(sse.iter_content(chunk_size=None))
        lines = list(session.get(f"{url}/sse?n=2", stream=True).iter_lines())
        gz = session.get(f"{url}/gzip")
        binary = session.get(f"{url}/bytes?n=50000").content
        err = session.get(f"{url}/status/500")
    return {
        "echo": (plain.status_code, plain.json()["body"], plain.headers["content-type"]),
        "sse": chunks,
        "lines": lines,
        "gzip": (gz.json(), gz.headers["content-encoding"]),
        "bytes": binary,
        "status": (err.status_code, err.reason, err.json()),
    }


def test_round_trip_is_identical_offline(server: ToolServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        recorded = _run(server.url)
    served = server.count()
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = _run(server.url)
    assert replayed == recorded
    assert len(recorded["sse"]) == 5
    assert server.count() == served
    assert run.result is not None and run.result.reproduced


def test_recording_passes_the_first_chunk_through(server: ToolServer, cassette: Path) -> None:
    server.gate = threading.Event()
    with agentreplay.record(cassette):
        response = requests.get(f"{server.url}/sse?n=3", stream=True)
        for _ in response.iter_content(chunk_size=None):
            server.gate.set()
    assert server.gate_opened_in_time is True


@pytest.mark.parametrize("path", ["connect", "/slow?delay=2", "/drop"])
def test_errors_replay_as_the_same_exception(server: ToolServer, cassette: Path, path: str) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()

    def run() -> BaseException:
        try:
            requests.get(nowhere if path == "connect" else server.url + path, timeout=0.3)
        except requests.RequestException as exc:
            return exc
        raise AssertionError("no exception")

    with agentreplay.record(cassette):
        recorded = run()
    server.stop()
    with agentreplay.replay(cassette):
        replayed = run()
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)


def test_changed_body_is_a_divergence(server: ToolServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        requests.post(f"{server.url}/echo", json={"city": "Paris"})
    with (
        pytest.raises(DivergenceError, match=r"\$\.city: 'Paris' != 'Lyon'"),
        agentreplay.replay(cassette),
    ):
        requests.post(f"{server.url}/echo", json={"city": "Lyon"})


def test_an_extra_request_names_the_library_whose_clock_read_met_the_end(
    server: ToolServer, cassette: Path
) -> None:
    """requests reads the clock as it sends; past the end of the recording that read is
    what diverges first, and the message says whose it was, and the agent's line."""
    with agentreplay.record(cassette), requests.Session() as session:
        session.get(f"{server.url}/tool/1")
    with (
        pytest.raises(DivergenceError) as raised,
        agentreplay.replay(cassette),
        requests.Session() as session,
    ):
        session.get(f"{server.url}/tool/1")
        session.get(f"{server.url}/tool/2")  # the line the divergence names
    message = str(raised.value)
    first = message.splitlines()[0]
    assert first.startswith("replay diverged after the last step (task 0): a wall clock read ")
    assert " by requests/" in first or " by urllib3/" in first, message
    assert 'session.get(f"{server.url}/tool/2")' in message
