"""While recording, HTTP through a client agentreplay does not intercept (``urllib.request``,
``http.client``) is said at once: its answer is not in the cassette, and a replay will
refuse the connection."""

from __future__ import annotations

import http.client
import urllib.request
import warnings
from pathlib import Path

import httpx
import pytest
import requests

import agentreplay
from agentreplay import DivergenceError
from tests.servers import ToolServer


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def test_urllib_while_recording_warns_once_with_the_address_and_call_site(
    server: ToolServer, cassette: Path
) -> None:
    with pytest.warns(RuntimeWarning) as caught, agentreplay.record(cassette):
        for _ in range(3):
            assert _fetch(server.url + "/tool/1")
    ours = [w for w in caught if "not recorded" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    message = str(ours[0].message)
    host_port = server.url.removeprefix("http://")
    assert f"http.client connection to {host_port}" in message
    assert "@agentreplay.tool" in message and "httpx" in message
    assert ours[0].filename == __file__  # the agent's line, not urllib's
    with pytest.raises(DivergenceError, match=r"socket connect to 127\.0\.0\.1"):
        with agentreplay.replay(cassette):
            _fetch(server.url + "/tool/1")


def test_http_client_used_directly_warns_too(server: ToolServer, cassette: Path) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with pytest.warns(RuntimeWarning, match="not recorded"), agentreplay.record(cassette):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", "/tool/2")
            assert connection.getresponse().read()
        finally:
            connection.close()


def test_intercepted_clients_and_runs_without_a_session_say_nothing(
    server: ToolServer, cassette: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _fetch(server.url + "/tool/3")  # no session: nothing is being recorded
        with agentreplay.record(cassette):
            assert requests.get(server.url + "/tool/4", timeout=5).ok  # urllib3 underneath
            assert httpx.get(server.url + "/tool/5").is_success
    with agentreplay.replay(cassette) as run:
        assert requests.get(server.url + "/tool/4", timeout=5).ok
        assert httpx.get(server.url + "/tool/5").is_success
    assert run.divergence is None
