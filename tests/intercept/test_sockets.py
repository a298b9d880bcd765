"""Recording and replaying leave no socket open: every client's connections are closed
as the client closes them, by the interceptors as well as without them.

The suite turns a socket collected unclosed into a failure only here: elsewhere such a
socket is collected in whichever later test the garbage collector runs in, so the
suite ignores it (pyproject.toml) and this test checks agentreplay's own part."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

AGENT = """
import asyncio, gc, sys, warnings
import aiohttp, httpx, requests
import agentreplay
from tests.servers import ToolServer

leaks = []
sys.unraisablehook = lambda unraisable: leaks.append(repr(unraisable.exc_value))
warnings.simplefilter("error", ResourceWarning)


def run(url):
    with httpx.Client() as client:
        client.get(f"{url}/tool/1")
        with client.stream("GET", f"{url}/sse?n=3") as response:
            list(response.iter_raw())
    with requests.Session() as session:
        session.get(f"{url}/tool/2").close()
        session.get(f"{url}/sse?n=3", stream=True).close()

    async def concurrently():
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", f"{url}/sse?n=3") as response:
                [chunk async for chunk in response.aiter_raw()]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/tool/3") as response:
                await response.read()

    asyncio.run(concurrently())


server = ToolServer().start()
with agentreplay.record(sys.argv[1]):
    run(server.url)
server.stop()
for _ in range(2):
    with agentreplay.replay(sys.argv[1]):
        run(server.url)
gc.collect()
print(len(leaks))
print(*leaks, sep="\\n")
"""


def test_recording_and_replaying_every_client_leaves_no_socket_unclosed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", AGENT, str(tmp_path / "run.cassette")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "0", done.stdout
