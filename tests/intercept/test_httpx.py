"""httpx and httpx2, sync and async, against a real local server."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer

MODULES = ["httpx", "httpx2"]
# Bound before any session starts, so replay does not hand it recorded values: the
# tests that measure real pacing need the real clock (agent reads of
# time.perf_counter() are recorded and replayed, which is the point of the tool).
_real_clock = time.perf_counter


@pytest.fixture(params=MODULES)
def http(request: pytest.FixtureRequest) -> Any:
    return importlib.import_module(request.param)


def _sync_run(http: Any, url: str) -> dict[str, Any]:
    with http.Client() as client:
        plain = client.post(f"{url}/echo", json={"q": "hello"})
        with client.stream("GET", f"{url}/sse?n=4&delay=0.01") as response:
            raw = list(response.iter_raw())
        with client.stream("GET", f"{url}/bytes?n=70000") as response:
            chunks = list(response.iter_bytes())
        gz = client.get(f"{url}/gzip")
        err = client.get(f"{url}/status/503")
    return {
        "echo": (plain.status_code, plain.json()["body"], plain.headers["content-type"]),
        "sse": raw,
        "bytes": b"".join(chunks),
        "gzip": (gz.json(), gz.headers["content-encoding"]),
        "status": (err.status_code, err.json()),
    }


async def _async_run(http: Any, url: str) -> dict[str, Any]:
    async with http.AsyncClient() as client:
        plain = await client.post(f"{url}/echo", json={"q": "hello"})
        async with client.stream("GET", f"{url}/sse?n=4&delay=0.01") as response:
            raw = [chunk async for chunk in response.aiter_raw()]
        async with client.stream("GET", f"{url}/bytes?n=70000") as response:
            chunks = [chunk async for chunk in response.aiter_bytes()]
        gz = await client.get(f"{url}/gzip")
        err = await client.get(f"{url}/status/503")
    return {
        "echo": (plain.status_code, plain.json()["body"], plain.headers["content-type"]),
        "sse": raw,
        "bytes": b"".join(chunks),
        "gzip": (gz.json(), gz.headers["content-encoding"]),
        "status": (err.status_code, err.json()),
    }


def test_sync_round_trip_is_identical_offline(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    with agentreplay.record(cassette):
        recorded = _sync_run(http, server.url)
    served = server.count()
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = _sync_run(http, server.url)
    assert replayed == recorded
    assert len(recorded["sse"]) == 5  # four events and [DONE], each its own chunk
    assert server.count() == served
    assert run.result is not None and run.result.reproduced


def test_async_round_trip_is_identical_offline(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    with agentreplay.record(cassette):
        recorded = asyncio.run(_async_run(http, server.url))
    server.stop()
    with agentreplay.replay(cassette) as run:
        replayed = asyncio.run(_async_run(http, server.url))
    assert replayed == recorded
    assert len(recorded["sse"]) == 5
    assert run.result is not None and run.result.reproduced


def test_recording_passes_the_first_chunk_through_before_the_second_is_sent(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    server.gate = threading.Event()
    with agentreplay.record(cassette), http.Client() as client:
        with client.stream("GET", f"{server.url}/sse?n=3") as response:
            for chunk in response.iter_raw():
                server.gate.set()  # only the first chunk can open the gate in time
                assert chunk
    assert server.gate_opened_in_time is True


def test_async_recording_passes_the_first_chunk_through(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    gate = server.gate = threading.Event()

    async def run() -> None:
        async with (
            http.AsyncClient() as client,
            client.stream("GET", f"{server.url}/sse?n=3") as response,
        ):
            async for _ in response.aiter_raw():
                gate.set()

    with agentreplay.record(cassette):
        asyncio.run(run())
    assert server.gate_opened_in_time is True


def _closed_port() -> str:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def _error_of(call: Any) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("no exception")


@pytest.mark.parametrize("case", ["connect", "timeout", "broken-body"])
def test_errors_replay_as_the_same_exception(
    http: Any, server: ToolServer, cassette: Path, case: str
) -> None:
    nowhere = _closed_port()

    def run() -> None:
        with http.Client(timeout=0.3) as client:
            if case == "connect":
                client.get(nowhere)
            elif case == "timeout":
                client.get(f"{server.url}/slow?delay=2")
            else:
                client.get(f"{server.url}/drop")

    with agentreplay.record(cassette):
        recorded = _error_of(run)
    server.stop()
    with agentreplay.replay(cassette):
        replayed = _error_of(run)
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)
    assert isinstance(recorded, http.TransportError)


def test_changed_request_is_a_divergence_with_a_json_diff(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    body: Any = {"messages": [{"role": "user", "content": "Paris"}], "model": "m"}
    with agentreplay.record(cassette), http.Client() as client:
        client.post(f"{server.url}/echo", json=body)
    body["messages"][0]["content"] = "Lyon"
    with (
        pytest.raises(DivergenceError) as info,
        agentreplay.replay(cassette),
        http.Client() as client,
    ):
        client.post(f"{server.url}/echo", json=body)  # the call site
    error = info.value
    assert error.step == 1
    assert "$.messages[0].content: 'Paris' != 'Lyon'" in str(error)
    assert error.call_site is not None
    assert error.call_site.filename == __file__
    assert "client.post" in error.call_site.line


def test_call_past_the_end_of_the_recording_is_a_divergence(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    with agentreplay.record(cassette), http.Client() as client:
        client.get(f"{server.url}/tool/1")
    server.stop()
    with (
        pytest.raises(DivergenceError, match="no more") as info,
        agentreplay.replay(cassette),
        http.Client() as client,
    ):
        client.get(f"{server.url}/tool/1")
        client.get(f"{server.url}/tool/2")
    assert info.value.step is None


def test_replay_paces_chunks_at_the_recorded_offsets_when_asked(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    def gaps() -> list[float]:
        stamps = []
        with (
            http.Client() as client,
            client.stream("GET", f"{server.url}/sse?n=3&delay=0.2") as response,
        ):
            for _ in response.iter_raw():
                stamps.append(_real_clock())
        return [b - a for a, b in itertools.pairwise(stamps)]

    with agentreplay.record(cassette):
        recorded = gaps()
    server.stop()
    with agentreplay.replay(cassette, pace="recorded"):
        paced = gaps()
    with agentreplay.replay(cassette):
        instant = gaps()
    assert all(gap > 0.15 for gap in recorded)
    assert all(gap > 0.12 for gap in paced)  # follows the recorded 0.2 s gaps
    assert sum(instant) < sum(recorded) / 4


def test_a_body_the_transport_already_read_is_recorded(http: Any, cassette: Path) -> None:
    # MockTransport (and respx) hand back responses whose content is read in advance.
    def handler(request: Any) -> Any:
        return http.Response(200, json={"mocked": True, "path": request.url.path})

    def run() -> Any:
        with http.Client(transport=http.MockTransport(handler)) as client:
            return client.get("http://example.test/answer").json()

    with agentreplay.record(cassette):
        recorded = run()
    with agentreplay.replay(cassette) as session:
        assert run() == recorded == {"mocked": True, "path": "/answer"}
    assert session.result is not None and session.result.reproduced


def test_a_body_read_in_two_passes_goes_on_where_the_first_stopped(
    http: Any, server: ToolServer, cassette: Path
) -> None:
    # The openai SDK stops reading a stream at `[DONE]`, then drains what is left of
    # it by iterating the response's stream a second time: a live stream goes on from
    # where the first pass stopped, and so must a replayed one.
    async def run() -> tuple[list[bytes], list[bytes]]:
        async with http.AsyncClient() as client:
            async with client.stream("GET", f"{server.url}/sse?n=4&delay=0.01") as response:
                reader = response.stream.__aiter__()  # held open, as the SDK's is
                first = [await reader.__anext__(), await reader.__anext__()]
                rest = [chunk async for chunk in response.stream]
        return first, rest

    with agentreplay.record(cassette):
        recorded = asyncio.run(run())
    server.stop()
    with agentreplay.replay(cassette) as session:
        replayed = asyncio.run(run())
    assert len(recorded[0]) == 2 and len(recorded[1]) == 3
    assert replayed == recorded
    assert session.result is not None and session.result.reproduced
