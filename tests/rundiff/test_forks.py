"""A fork and a what-if of the example agent, each diffed against the original run."""

from __future__ import annotations

import shlex
from pathlib import Path

import agentreplay
from agentreplay.rundiff import Verdict, diff
from tests.debugger.conftest import Servers, agentreplay_cli, record_example, servers

__all__ = ["servers"]  # the fixture


def _diff_command(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if "compare it with the original: " in line)
    return shlex.split(line.split("compare it with the original: ", 1)[1])


def test_a_fork_differs_from_its_original_only_after_the_fork(
    servers: Servers, tmp_path: Path
) -> None:
    run = tmp_path / "run.cassette"
    record_example(servers, run)  # model (lookup_order), tool, model (the answer)
    servers.script.order = "A-1003"  # the live model now answers about another order
    done = agentreplay_cli("replay", str(run), "--live-after", "2", env=servers.env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fork = tmp_path / "run.fork2.cassette"
    assert f"the live part was recorded into {fork}" in done.stdout
    command = _diff_command(done.stdout)
    assert command == ["agentreplay", "diff", "run.cassette", "run.fork2.cassette"]

    result = diff(run, fork)
    assert [(r.a.number, r.b.number, r.verdict) for r in result.rows if r.a and r.b] == [
        (1, 1, Verdict.SAME),
        (2, 2, Verdict.SAME),
        (3, 3, Verdict.CHANGED),
    ]
    (change,) = result.rows[2].changes
    assert change.path == "output_text"
    assert ("-", "1001") in (change.text_diff() or []) and ("+", "1003") in (
        change.text_diff() or []
    )
    shown = agentreplay_cli("diff", *command[2:], cwd=tmp_path)
    assert shown.returncode == 1
    assert shown.stdout.startswith(
        "1 changed, 0 only in A, 0 only in B; first divergence at step 3"
    )


def test_a_what_if_is_written_with_o_and_differs_from_the_override_on(
    servers: Servers, tmp_path: Path
) -> None:
    run = tmp_path / "run.cassette"
    record_example(servers, run)
    servers.stop()  # a what-if that keeps matching never goes live
    what_if = tmp_path / "sorry.cassette"
    done = agentreplay_cli(
        "replay", str(run), "--override", '3="Sorry, no."', "-o", str(what_if), env=servers.env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the what-if run was recorded into {what_if}" in done.stdout
    assert _diff_command(done.stdout)[2:] == [str(run), str(what_if)]
    with agentreplay.open(what_if) as opened:
        assert opened.header["mode"] == "what-if"
        assert opened.header["parent"]["what_if"] == "step 3 overridden"

    result = diff(run, what_if)
    assert [row.verdict for row in result.rows] == [Verdict.SAME, Verdict.SAME, Verdict.CHANGED]
    paths = {change.path for change in result.rows[2].changes}
    assert "output_text" in paths
    assert result.summary().startswith(
        "1 changed, 0 only in A, 0 only in B; first divergence at step 3 / step 3"
    )

    shown = agentreplay_cli("show", str(what_if))
    assert f"what-if of {run}: step 3 overridden" in " ".join(shown.stdout.split())


def test_a_what_if_without_o_is_written_beside_the_original(
    servers: Servers, tmp_path: Path
) -> None:
    run = tmp_path / "run.cassette"
    record_example(servers, run)
    servers.stop()
    done = agentreplay_cli("replay", str(run), "--override", '3="No."', env=servers.env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run.whatif3.cassette").exists()
    # one that diverges stops there, and says how to record the rest live
    decision = (
        '1={"tool_calls": [{"name": "shipping_status", "arguments": {"order_id": "A-1003"}}]}'
    )
    done = agentreplay_cli("replay", str(run), "--override", decision, env=servers.env)
    assert done.returncode == 1
    assert "add --live-after 3 (it then goes live only where it diverges)" in done.stdout
    result = diff(run, tmp_path / "run.whatif1.cassette")
    assert [row.verdict for row in result.rows] == [
        Verdict.CHANGED,
        Verdict.ONLY_A,
        Verdict.ONLY_A,
    ]
    assert not result.outcome.same and "DivergenceError" in result.outcome.b
