"""The pdb prompt of a replay: outside the run, and a way back to any step."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

from tests.debugger.conftest import record_script
from tests.servers import ToolServer

AGENT = """\
import random, sys, time, uuid
import httpx
import agentreplay

URL = sys.argv[1]


@agentreplay.tool
def lookup(name):
    return httpx.get(URL + "/tool/" + name).json()["tool"]


first = httpx.get(URL + "/tool/one").json()          # step 1
found = lookup("two")                                # step 2
after = [str(uuid.uuid4()), time.time(), random.random()]
print("AFTER", after)                                # the marked line
last = httpx.get(URL + "/tool/three").json()         # step 3
print("DRAWS", uuid.uuid4(), time.time(), random.random(), found)
"""


def _spawn(cassette: Path, tmp_path: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "agentreplay", "replay", str(cassette), *args],
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 250),
    )


def _draws(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith(("AFTER", "DRAWS"))]


def test_what_is_typed_at_the_prompt_neither_consumes_nor_records(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, recorded = record_script(tmp_path, AGENT, server.url)
    hits = server.count()
    child = _spawn(cassette, tmp_path, "--break-at", "2")
    try:
        child.expect_exact("stopped before step 2")
        child.expect_exact("(Pdb) ")
        for typed in ("import uuid, time, random", "uuid.uuid4()", "time.time()",
                      "random.random()", "p uuid.uuid4() != uuid.uuid4()"):  # fmt: skip
            child.sendline(typed)
            child.expect_exact("(Pdb) ")
            assert "diverged" not in child.before and "Error" not in child.before
        assert "True" in child.before  # fresh entropy, not recorded draws
        child.sendline("time.time() > 1e9")
        child.expect_exact("(Pdb) ")
        child.sendline("lookup('from-the-prompt')")  # a recorded tool: runs live, unrecorded
        child.expect_exact("(Pdb) ")
        assert "from-the-prompt" in child.before
        child.sendline("c")
        child.expect(pexpect.EOF)
        output = child.before
    finally:
        child.close()
    assert "reproduced: exited with status 0 after step 3" in output
    assert _draws(output) == _draws(recorded)  # the run saw exactly its recorded inputs
    assert server.count() == hits + 1  # only the tool typed at the prompt went out
    assert child.exitstatus == 0


def test_goto_and_back_replay_again_to_a_step_keeping_breakpoints(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, recorded = record_script(tmp_path, AGENT, server.url)
    script = tmp_path / "agent.py"
    marked = AGENT.splitlines().index(next(x for x in AGENT.splitlines() if "marked" in x)) + 1
    child = _spawn(cassette, tmp_path, "--break-at", "3")
    try:
        child.expect_exact("stopped before step 3")
        child.expect_exact("goto N replays again and stops before step N (1..3)")
        child.expect_exact("(Pdb) ")
        child.sendline(f"break {script}:{marked}")
        child.expect_exact("(Pdb) ")
        child.sendline("back")
        child.expect_exact("agentreplay: replaying again, to stop before step 2")
        child.expect_exact("stopped before step 2")
        child.expect_exact("(Pdb) ")
        child.sendline("goto 1")
        child.expect_exact("stopped before step 1")
        child.expect_exact("(Pdb) ")
        child.sendline("c")  # on to the breakpoint set in the first replay
        child.expect_exact(f"{script}({marked})")
        child.expect_exact("(Pdb) ")
        child.sendline("goto 9")
        child.expect_exact("there is no step 9: this run has steps 1..3")
        child.expect_exact("(Pdb) ")
        child.sendline("help goto")
        child.expect_exact("Replay the run again from the start")
        child.expect_exact("(Pdb) ")
        child.sendline("c")
        child.expect(pexpect.EOF)
        output = child.before
    finally:
        child.close()
    assert "reproduced: exited with status 0 after step 3" in output
    assert _draws(output) == _draws(recorded)
    assert child.exitstatus == 0


def test_ctrl_c_at_the_prompt_is_pdbs_and_the_replay_goes_on(
    server: ToolServer, tmp_path: Path
) -> None:
    cassette, _ = record_script(tmp_path, AGENT, server.url)
    child = _spawn(cassette, tmp_path, "--break-at", "2")
    try:
        child.expect_exact("(Pdb) ")
        for _ in range(2):  # the terminal's Ctrl-C reaches agentreplay and pdb alike
            child.sendintr()
            child.expect_exact("(Pdb) ")
        child.sendline("c")
        child.expect(pexpect.EOF)
        output = child.before
    finally:
        child.close()
    assert "reproduced: exited with status 0 after step 3" in output
    assert child.exitstatus == 0
