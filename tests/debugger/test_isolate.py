"""``agentreplay replay --isolate``: not even C code or a subprocess reaches the network.

Where this machine cannot make a network namespace, the same tests check the
one-line refusal instead: nothing runs half-isolated.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from agentreplay.debugger.launch import IsolationUnavailable, isolation_prefix
from tests.debugger.conftest import agentreplay_cli
from tests.servers import ToolServer

# A connect() from C, as a C database driver makes it: no Python socket is involved.
C_CONNECT = """\
import ctypes, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
address = struct.pack("=H", socket.AF_INET) + struct.pack("!H", int(sys.argv[1]))
address += socket.inet_aton("127.0.0.1") + bytes(8)
connected = libc.connect(fd, address, len(address)) == 0
if connected:
    request = b"GET /tool/from-c HTTP/1.0\\r\\n\\r\\n"
    libc.send(fd, request, len(request), 0)
    libc.recv(fd, ctypes.create_string_buffer(1024), 1024, 0)
libc.close(fd)
print("connected" if connected else "no network")
"""

CURL = """\
import subprocess, sys
done = subprocess.run(["curl", "-s", "-o", "/dev/null", sys.argv[1]], check=False)
print("curl exit", done.returncode)
"""


def _isolation_available() -> str | None:
    try:
        isolation_prefix()
    except IsolationUnavailable as exc:
        return str(exc)
    return None


def _record(tmp_path: Path, source: str, argument: str) -> Path:
    script = tmp_path / "agent.py"
    script.write_text(source)
    cassette = tmp_path / "run.cassette"
    recorded = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, str(script), argument, cwd=tmp_path
    )
    assert recorded.returncode == 0, recorded.stderr
    return cassette


@pytest.fixture
def port(server: ToolServer) -> str:
    return server.url.rsplit(":", 1)[1]


def test_a_c_level_connect_reaches_the_server_without_isolation(
    server: ToolServer, port: str, tmp_path: Path
) -> None:
    # What the audit hook cannot see, and why --isolate exists.
    cassette = _record(tmp_path, C_CONNECT, port)
    assert server.count() == 1
    replayed = agentreplay_cli("replay", str(cassette), cwd=tmp_path)
    assert "connected" in replayed.stdout
    assert server.count() == 2


def test_a_c_level_connect_under_isolate_never_reaches_the_server(
    server: ToolServer, port: str, tmp_path: Path
) -> None:
    cassette = _record(tmp_path, C_CONNECT, port)
    assert server.count() == 1
    replayed = agentreplay_cli("replay", str(cassette), "--isolate", cwd=tmp_path)
    assert server.count() == 1
    unavailable = _isolation_available()
    if unavailable is not None:
        assert replayed.returncode == 3
        assert replayed.stderr.strip() == f"agentreplay: error: {unavailable}"
        return
    assert "no network" in replayed.stdout, replayed.stderr
    assert "reproduced" in replayed.stdout  # the script itself ended as recorded (exit 0)


def test_a_subprocess_may_start_under_isolate_and_finds_no_network(
    server: ToolServer, tmp_path: Path
) -> None:
    assert shutil.which("curl") is not None, "the tests need curl"
    cassette = _record(tmp_path, CURL, server.url + "/tool/curl")
    assert server.count() == 1
    plain = agentreplay_cli("replay", str(cassette), cwd=tmp_path)
    assert plain.returncode == 1  # refused by the audit hook, a divergence
    assert "a process was started during replay" in plain.stderr
    isolated = agentreplay_cli("replay", str(cassette), "--isolate", cwd=tmp_path)
    assert server.count() == 1
    if _isolation_available() is None:
        assert "curl exit 7" in isolated.stdout, isolated.stderr  # could not connect


def test_isolate_and_a_fork_do_not_go_together(server: ToolServer, tmp_path: Path) -> None:
    cassette = _record(tmp_path, CURL, server.url + "/tool/curl")
    both = agentreplay_cli("replay", str(cassette), "--isolate", "--live-after", "0", cwd=tmp_path)
    assert both.returncode == 2
    assert both.stderr.strip() == (
        "agentreplay: error: --isolate and --live-after do not go together: a fork goes live"
    )
