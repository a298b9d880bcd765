"""--break-at in pdb, --live-after forks, --override what-ifs."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pexpect

import agentreplay
from agentreplay.cassette import HttpRequest
from tests.debugger.conftest import EXAMPLE, Servers, agentreplay_cli, header, record_example


def test_break_at_stops_in_pdb_at_the_agents_line(servers: Servers, tmp_path: Path) -> None:
    servers.script.order = "B-2001"
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    servers.stop()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentreplay", "replay", str(cassette), "--break-at", "2"],
        env=servers.env,
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect("stopped before step 2")
        child.expect(r"\(Pdb\) ")
        location = child.before
        assert f"{EXAMPLE}(" in location and "call_tool()" in location
        assert "tools.get(" in location  # the line that issues the tool's HTTP call
        child.sendline("p arguments")  # came from the recorded model answer
        child.expect(r"\(Pdb\) ")
        assert "{'order_id': 'B-2001'}" in child.before
        child.sendline("c")
        child.expect("reproduced: KeyError")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


HOOK = """
import json, os


def stop(frame=None):
    with open(os.environ["HOOK_LOG"], "a") as log:
        log.write(json.dumps([frame.f_code.co_filename, frame.f_code.co_name,
                              repr(frame.f_locals.get("arguments"))]) + "\\n")
"""


def test_another_debugger_named_by_pythonbreakpoint_gets_the_agents_frame(
    servers: Servers, tmp_path: Path
) -> None:
    servers.script.order = "B-2001"
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    servers.stop()
    (tmp_path / "mydebugger.py").write_text(HOOK)
    log = tmp_path / "hook.log"
    env = {
        **servers.env,
        "PYTHONBREAKPOINT": "mydebugger.stop",
        "PYTHONPATH": str(tmp_path),
        "HOOK_LOG": str(log),
    }
    done = agentreplay_cli("replay", str(cassette), "--break-at", "2", env=env, timeout=60)
    assert done.returncode == 0 and "reproduced" in done.stdout, done.stdout + done.stderr
    assert json.loads(log.read_text()) == [str(EXAMPLE), "call_tool", "{'order_id': 'B-2001'}"]


def test_pythonbreakpoint_zero_disables_breaking(servers: Servers, tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    servers.stop()
    env = {**servers.env, "PYTHONBREAKPOINT": "0"}
    done = agentreplay_cli("replay", str(cassette), "--break-at", "1", env=env, timeout=60)
    assert done.returncode == 0 and "reproduced" in done.stdout


def _requests(path: Path) -> list[HttpRequest]:
    with agentreplay.open(path) as opened:
        return [e for e in opened.events() if isinstance(e, HttpRequest)]


def _content(path: Path, step: int) -> list[tuple[object, ...]]:
    """A step's events without what differs between a run and its fork (time, seq)."""
    with agentreplay.open(path) as opened:
        events = opened.step(step)
    skip = {"task", "seq", "at", "request"}
    return [
        (
            type(event).__name__,
            *(getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in skip),
        )
        for event in events
    ]


def test_live_after_forks_a_new_cassette_that_keeps_steps_up_to_n(
    servers: Servers, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    assert len(_requests(cassette)) == 3  # model, tool, model
    served = len(servers.model.requests)
    fork = tmp_path / "fork.cassette"
    done = agentreplay_cli(
        "replay", str(cassette), "--live-after", "2", "-o", str(fork), env=servers.env
    )
    assert done.returncode == 0, done.stderr
    assert f"recorded into {fork}" in done.stdout
    assert len(servers.model.requests) == served + 1  # only step 3 went to the model
    parent, child = _requests(cassette), _requests(fork)
    assert [(r.method, r.url, r.body) for r in child[:2]] == [
        (r.method, r.url, r.body) for r in parent[:2]
    ]
    for step in (1, 2):  # request, response head, every chunk and the end: all the same
        assert _content(fork, step) == _content(cassette, step)
        assert len(_content(fork, step)) >= 4
    assert header(fork)["parent"] == {
        "path": str(cassette),
        "run_id": header(cassette)["run_id"],
        "step": 2,
    }
    with agentreplay.open(fork) as opened:
        assert [info.kind for info in opened.step_infos()] == ["http", "http", "http"]


def test_overriding_a_tool_call_decision_changes_what_the_agent_does(
    servers: Servers, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)  # step 1: lookup_order(A-1001)
    servers.stop()
    decision = tmp_path / "decision.json"
    decision.write_text(
        json.dumps(
            {"tool_calls": [{"name": "shipping_status", "arguments": {"order_id": "A-1003"}}]}
        )
    )
    done = agentreplay_cli("replay", str(cassette), "--override", f"1={decision}", env=servers.env)
    assert done.returncode == 1
    assert "diverged at step 2" in done.stdout
    assert "shipping_status?order_id=A-1003" in done.stderr  # what the agent did instead
    assert "lookup_order?order_id=A-1001" in done.stderr  # what the recording expected


def _decision(tmp_path: Path, tool: str, order: str) -> Path:
    path = tmp_path / f"{tool}-{order}.json"
    path.write_text(json.dumps({"tool_calls": [{"name": tool, "arguments": {"order_id": order}}]}))
    return path


def test_after_an_override_later_steps_replay_while_they_still_match(
    servers: Servers, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)  # 1: model asks lookup_order(A-1001), 2: tool, 3: answer
    servers.stop()
    same = _decision(tmp_path, "lookup_order", "A-1001")  # re-encoded, not the recorded bytes
    done = agentreplay_cli("replay", str(cassette), "--override", f"1={same}", env=servers.env)
    assert done.returncode == 0, done.stdout + done.stderr  # a what-if that finished
    assert (
        "what-if (step 1 overridden): the run exited with status 0; the recording: exited "
        "with status 0" in done.stdout
    )
    assert "Order A-1001 is on its way." in done.stdout  # step 3 came from the cassette


def test_an_override_with_live_after_goes_live_where_the_run_leaves_the_recording(
    servers: Servers, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    other = _decision(tmp_path, "shipping_status", "A-1003")
    fork = tmp_path / "fork.cassette"
    done = agentreplay_cli(
        "replay",
        str(cassette),
        "--override",
        f"1={other}",
        "--live-after",
        "1",
        "-o",
        str(fork),
        env=servers.env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the live part was recorded into {fork}" in done.stdout
    with agentreplay.open(fork) as forked:
        names = [info.name for info in forked.step_infos()]
    assert "shipping_status?order_id=A-1003" in names[1]  # asked live, of the running server
    assert len(names) == 3 and "chat/completions" in names[2]


def test_override_in_library_form_with_a_text_answer(servers: Servers, tmp_path: Path) -> None:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import support_agent
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    cassette = tmp_path / "run.cassette"
    import os

    old = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "SUPPORT_TOOLS_URL", "OPENAI_API_KEY")}
    os.environ.update({k: servers.env[k] for k in old})
    try:
        agentreplay.record(cassette)(support_agent.main)("Where is my order?")
        servers.stop()
        session = agentreplay.replay(cassette, overrides={1: "Nothing to look up today."})
        answer = session(support_agent.main)("Where is my order?")
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert answer == "Nothing to look up today."
    assert session.result is not None and not session.result.reproduced
    assert session.result.what_if
    assert str(session.result) == (
        "what-if (step 1 overridden): the run returned 'Nothing to look up today.'; "
        "the recording: returned 'Order A-1001 is on its way.'"
    )


def test_break_on_divergence_stops_where_the_run_diverges(servers: Servers, tmp_path: Path) -> None:
    import shutil

    script = tmp_path / "agent.py"
    shutil.copy(EXAMPLE, script)
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette, script=script)
    servers.stop()
    script.write_text(script.read_text().replace("temperature=0.7", "temperature=0.2"))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentreplay", "replay", str(cassette), "--break-on-divergence"],
        env=servers.env,
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect(r"\$\.temperature: 0\.7 != 0\.2")
        child.expect(r"\(Pdb\) ")
        assert f"{script}(" in child.before
        child.sendline("p len(messages)")
        child.expect(r"\(Pdb\) ")
        assert "2" in child.before
        child.sendline("c")
        child.expect("diverged at step 1")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 1
