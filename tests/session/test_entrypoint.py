"""@agentreplay.entrypoint in-process: off by default, async functions, cassette=."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay.runtime.scope import active_session
from tests.servers import ToolServer

seen: list[object] = []


def _hooks() -> tuple[object, ...]:
    return (time.time, time.sleep, os.urandom, socket.socket.connect, dt.datetime)


@agentreplay.entrypoint
def plain(n: int) -> int:
    seen.extend([active_session(), _hooks()])
    return n + 1


def test_off_by_default_it_patches_nothing_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTREPLAY_MODE", raising=False)
    monkeypatch.chdir(tmp_path)
    seen.clear()
    assert plain(1) == 2
    assert seen == [None, _hooks()]  # no session, nothing patched during the call
    assert list(tmp_path.rglob("*")) == []


def make_agent(url: str, cassette: Path) -> object:
    @agentreplay.entrypoint(cassette=str(cassette))
    async def agent(city: str) -> str:
        async with httpx.AsyncClient() as client:
            answer = (await client.get(f"{url}/tool/{city}")).json()["answer"]
        return f"{answer} {uuid.uuid4()} {dt.datetime.now().isoformat()}"

    return agent


def test_an_async_entrypoint_records_and_replays_into_the_cassette_it_names(
    server: ToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = tmp_path / "named.cassette"
    monkeypatch.setenv("AGENTREPLAY_CASSETTE", str(tmp_path / "not-this-one.cassette"))
    monkeypatch.setenv("AGENTREPLAY_MODE", "record")
    recorded = asyncio.run(make_agent(server.url, cassette)("Paris"))  # type: ignore[operator]
    assert cassette.exists() and not (tmp_path / "not-this-one.cassette").exists()
    with agentreplay.open(cassette) as opened:
        assert opened.header["entrypoint"].endswith("make_agent.<locals>.agent")
        assert opened.header["args"] == [["Paris"], {}]
    url = server.url
    server.stop()
    monkeypatch.undo()
    monkeypatch.setenv("AGENTREPLAY_MODE", "replay")
    replayed = asyncio.run(make_agent(url, cassette)("Paris"))  # type: ignore[operator]
    assert replayed == recorded  # the answer, the uuid and the time, offline


@pytest.mark.parametrize("names", ["OPENAI_API_KEY", "TOOLS_URL, github-token", "DB_PASSWORD"])
def test_agentreplay_env_refuses_names_that_read_like_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    monkeypatch.setenv("AGENTREPLAY_MODE", "record")
    monkeypatch.setenv("AGENTREPLAY_CASSETTE", str(tmp_path / "run.cassette"))
    monkeypatch.setenv("AGENTREPLAY_ENV", names)
    with pytest.raises(agentreplay.UsageError, match="looks like a secret"):
        plain(1)
    assert not (tmp_path / "run.cassette").exists()


def test_cli_env_refuses_a_secret_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agentreplay.cli import main

    out = tmp_path / "run.cassette"
    code = main(["record", "-o", str(out), "--env", "ANTHROPIC_API_KEY", "--", "python", "-c", ""])
    assert code == 2
    assert "ANTHROPIC_API_KEY looks like a secret" in capsys.readouterr().err
    assert not out.exists()
