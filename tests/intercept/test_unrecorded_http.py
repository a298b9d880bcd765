"""While recording, HTTP through a client agentreplay does not intercept (``urllib.request``,
``http.client``) is said at once: its answer is not in the cassette, and a replay will
refuse the connection."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.request
import warnings
from pathlib import Path

import httpx
import pytest
import requests

import agentreplay
from agentreplay import DivergenceError
from agentreplay.cassette.events import RunOutcome
from agentreplay.cassette.reader import open_reader
from agentreplay.cassette.writer import CassetteWriter
from agentreplay.cli import main
from agentreplay.errors import CassetteWarning
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


def test_the_cassette_names_what_was_not_recorded_and_show_says_so(
    server: ToolServer, cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host_port = server.url.removeprefix("http://")
    with pytest.warns(RuntimeWarning, match="not recorded"), agentreplay.record(cassette) as run:
        assert httpx.get(server.url + "/tool/6").is_success
        assert _fetch(server.url + "/tool/7") and _fetch(server.url + "/tool/8")
    assert run.unrecorded == [host_port]
    with open_reader(cassette) as reader:
        assert reader.unrecorded == [host_port]
    assert main(["show", str(cassette)]) == 0
    said = capsys.readouterr().out
    assert f"not recorded: the run connected to {host_port} through http.client" in said
    assert "a replay will refuse that connection" in said
    assert main(["show", "--json", str(cassette)]) == 0
    assert json.loads(capsys.readouterr().out)["unrecorded"] == [host_port]

    clean = cassette.with_name("clean.cassette")
    with agentreplay.record(clean) as run:
        assert httpx.get(server.url + "/tool/6").is_success
    assert run.unrecorded == []
    with open_reader(clean) as reader:
        assert reader.unrecorded == []
    assert main(["show", str(clean)]) == 0
    assert "not recorded" not in capsys.readouterr().out


def test_record_says_after_the_run_what_a_replay_will_refuse(
    server: ToolServer, tmp_path: Path
) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(
        "import os, urllib.request\n"
        "with urllib.request.urlopen(os.environ['TOOL_URL'] + '/tool/1', timeout=5) as r:\n"
        "    print(r.read().decode())\n"
    )
    cassette = tmp_path / "run.cassette"
    env = {**os.environ, "TOOL_URL": server.url}
    env.pop("AGENTREPLAY_MODE", None)
    record = ["record", "-o", str(cassette), "--", "python", str(agent)]
    done = subprocess.run(
        [sys.executable, "-m", "agentreplay", *record],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    host_port = server.url.removeprefix("http://")
    closing = [line for line in done.stderr.splitlines() if line.startswith("agentreplay: warn")]
    assert closing == [
        f"agentreplay: warning: not recorded: the run connected to {host_port} through "
        "http.client or urllib.request, so a replay will refuse that connection (fetch with "
        "httpx, requests or aiohttp, or inside an @agentreplay.tool function)"
    ], done.stderr
    assert f"{agent}:2: RuntimeWarning" in done.stderr  # and it was said at the line, as it ran


def test_an_index_whose_unrecorded_list_is_malformed_is_not_believed(cassette: Path) -> None:
    writer = CassetteWriter(cassette, {"run_id": "r"})
    writer._unrecorded = [7]  # type: ignore[list-item]
    writer.append(RunOutcome("0", 0, 0, None, "None", None))
    writer.close()
    with pytest.warns(CassetteWarning, match="unrecorded address is not a short string"):
        with open_reader(cassette) as reader:
            assert reader.unrecorded == []
            assert reader.event_count == 1


def test_an_entrypoint_says_it_in_its_closing_lines(server: ToolServer, tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text(
        "import os, urllib.request\n"
        "import agentreplay\n\n\n"
        "@agentreplay.entrypoint\n"
        "def main() -> bytes:\n"
        "    with urllib.request.urlopen(os.environ['TOOL_URL'] + '/tool/1', timeout=5) as r:\n"
        "        return r.read()\n\n\n"
        "main()\n"
    )
    env = {**os.environ, "TOOL_URL": server.url, "AGENTREPLAY_MODE": "record"}
    env["AGENTREPLAY_CASSETTE"] = "run.cassette"
    done = subprocess.run(
        [sys.executable, "agent.py"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    host_port = server.url.removeprefix("http://")
    assert done.stderr.splitlines()[-2:] == [
        "agentreplay: recorded run.cassette",
        f"agentreplay: warning: not recorded: the run connected to {host_port} through "
        "http.client or urllib.request, so a replay will refuse that connection (fetch with "
        "httpx, requests or aiohttp, or inside an @agentreplay.tool function)",
    ], done.stderr
