"""agentreplay record / replay on a real script in a real subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import agentreplay
from tests.debugger.conftest import (
    EXAMPLE,
    Servers,
    agentreplay_cli,
    header,
    record_example,
)


def test_a_failing_script_replays_offline_with_the_same_exception(
    servers: Servers, tmp_path: Path
) -> None:
    servers.script.order = "B-2001"  # an order the tool server does not know: the bug fires
    cassette = tmp_path / "failing.cassette"
    recorded = record_example(servers, cassette)
    assert recorded.returncode == 1
    assert "KeyError: 'order'" in recorded.stderr
    servers.stop()
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
    assert replayed.returncode == 0, replayed.stderr
    assert "reproduced: KeyError('order') at step 2" in replayed.stdout
    assert "KeyError: 'order'" in replayed.stderr  # the agent's own traceback, again


def test_a_changed_script_reports_where_it_diverged(servers: Servers, tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    shutil.copy(EXAMPLE, script)
    cassette = tmp_path / "run.cassette"
    assert record_example(servers, cassette, script=script).returncode == 0
    servers.stop()
    script.write_text(
        script.read_text().replace("You are a support agent.", "You are a terse support agent.")
    )
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
    assert replayed.returncode == 1
    assert "diverged at step 1" in replayed.stdout
    assert "You are a support agent" in replayed.stderr
    assert "You are a terse support agent" in replayed.stderr
    assert f"{script}:" in replayed.stderr  # the call site in the agent's code


def test_header_keeps_argv_cwd_hash_seed_and_allowed_env(servers: Servers, tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    servers.env["SOME_SECRET"] = "hunter2"
    assert record_example(servers, cassette, question="Is it shipped?").returncode == 0
    found = header(cassette)
    assert found["argv"] == [str(EXAMPLE), "Is it shipped?"]
    assert found["cwd"] == os.getcwd()
    assert found["pythonhashseed"].isdigit()
    assert found["env"]["SUPPORT_TOOLS_URL"] == servers.tools.url
    assert "SOME_SECRET" not in found["env"] and "OPENAI_API_KEY" not in found["env"]
    assert b"hunter2" not in cassette.read_bytes()


def test_hash_seed_is_pinned_so_set_order_replays(servers: Servers, tmp_path: Path) -> None:
    script = tmp_path / "hashy.py"
    script.write_text(
        "import os, httpx\n"
        "order = ','.join({'alpha', 'beta', 'gamma', 'delta', 'epsilon'})\n"
        "httpx.get(os.environ['SUPPORT_TOOLS_URL'] + '/lookup_order',\n"
        "          params={'order_id': 'A-1001', 'note': order})\n"
    )
    cassette = tmp_path / "run.cassette"
    assert record_example(servers, cassette, script=script).returncode == 0
    servers.stop()
    for _ in range(2):  # without the recorded seed, set order changes between interpreters
        replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
        assert "reproduced: exited with status 0 after step 1" in replayed.stdout, replayed.stderr
    shown = agentreplay_cli("show", str(cassette))
    assert "exited with status 0 after step 1" in shown.stdout


def test_module_mode(servers: Servers, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import os, sys, httpx\n"
        "r = httpx.get(os.environ['SUPPORT_TOOLS_URL'] + '/lookup_order',\n"
        "              params={'order_id': sys.argv[1]})\n"
        "raise SystemExit(0 if r.status_code == 200 else 3)\n"
    )
    cassette = tmp_path / "module.cassette"
    recorded = agentreplay_cli(
        "record",
        "-o",
        str(cassette),
        "--env",
        "SUPPORT_TOOLS_URL",
        "--",
        sys.executable,
        "-m",
        "pkg",
        "B-2001",
        env=servers.env,
        cwd=tmp_path,
    )
    assert recorded.returncode == 3
    servers.stop()
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env, cwd=tmp_path)
    assert "reproduced: SystemExit(3)" in replayed.stdout, replayed.stderr


def test_entrypoint_mode_from_the_environment(servers: Servers, tmp_path: Path) -> None:
    env = {
        **servers.env,
        "AGENTREPLAY_MODE": "record",
        "AGENTREPLAY_CASSETTE": str(tmp_path / "runs" / "{timestamp}-{run_id}.cassette"),
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "Where is my order?"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [cassette] = (tmp_path / "runs").glob("*.cassette")
    found = header(cassette)
    assert found["entrypoint"] == "__main__:main"
    assert found["args"] == [["Where is my order?"], {}]
    # The run id in the file's name is the header's, so a cassette found by name is the run.
    assert found["run_id"].startswith(cassette.stem.rsplit("-", 1)[-1])
    with agentreplay.open(cassette) as opened:
        assert opened.outcome is not None and "on its way" in opened.outcome.value
    servers.stop()
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
    assert replayed.returncode == 0, replayed.stderr
    assert "reproduced: returned 'Order A-1001 is on its way.'" in replayed.stdout


def test_record_names_the_cassette_by_the_run_id_in_its_header(tmp_path: Path) -> None:
    done = agentreplay_cli(
        "record", "-o", "runs/{run_id}.cassette", "--", sys.executable, "-c", "pass",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [cassette] = (tmp_path / "runs").glob("*.cassette")
    assert len(cassette.stem) == 12
    assert header(cassette)["run_id"].startswith(cassette.stem)


def test_entrypoint_is_off_by_default(servers: Servers, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "Hi"],
        env=servers.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert not list(tmp_path.rglob("*.cassette"))
    assert "agentreplay" not in done.stderr


def test_replay_of_a_missing_or_foreign_cassette_is_a_clear_error(tmp_path: Path) -> None:
    missing = agentreplay_cli("replay", str(tmp_path / "nope.cassette"))
    assert missing.returncode == 3 and "cannot open cassette" in missing.stderr
    with agentreplay.record(tmp_path / "inline.cassette"):
        pass
    foreign = agentreplay_cli("replay", str(tmp_path / "inline.cassette"))
    assert foreign.returncode == 2
    assert "agentreplay.replay()" in foreign.stderr
    junk = tmp_path / "junk.cassette"
    junk.write_bytes(b"not a cassette at all")
    broken = agentreplay_cli("replay", str(junk))
    assert broken.returncode == 3 and "not an agentreplay cassette" in broken.stderr


@pytest.mark.parametrize("whom", ["group", "agentreplay"])
def test_ctrl_c_during_record_keeps_the_cassette_and_says_so(tmp_path: Path, whom: str) -> None:
    """Ctrl-C in a terminal reaches agentreplay and the program (one process group); a
    SIGINT sent to agentreplay alone is passed on. Either way the program's recording
    ends, and agentreplay says where it is."""
    script = tmp_path / "slow.py"
    script.write_text(
        "import time\nprint('started', flush=True)\nfor _ in range(600):\n    time.sleep(0.05)\n"
    )
    cassette = tmp_path / "slow.cassette"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "agentreplay", "record", "-o", str(cassette), "--",
         sys.executable, str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert recorder.stdout is not None
    assert recorder.stdout.readline() == "started\n"
    if whom == "group":
        os.killpg(recorder.pid, signal.SIGINT)
    else:
        recorder.send_signal(signal.SIGINT)
    _, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 130, err
    assert f"agentreplay: recorded {cassette} (interrupted, exit code 130)" in err
    assert "KeyboardInterrupt" in err  # the program's own traceback, without agentreplay's
    assert f"{os.sep}agentreplay{os.sep}" not in err, err
    assert "agentreplay replay" in err
    with agentreplay.open(cassette) as opened:
        assert opened.outcome is not None and opened.outcome.error is not None
        assert opened.outcome.error.type == "KeyboardInterrupt"


def test_ctrl_c_during_replay_ends_it_with_the_program(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text(
        "import time\nprint('started', flush=True)\nfor _ in range(60):\n    time.sleep(0.05)\n"
    )
    cassette = tmp_path / "slow.cassette"
    recorded = agentreplay_cli("record", "-o", str(cassette), "--", sys.executable, str(script))
    assert recorded.returncode == 0, recorded.stderr
    replayer = subprocess.Popen(
        [sys.executable, "-m", "agentreplay", "replay", str(cassette), "--pace", "recorded"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert replayer.stdout is not None
    assert replayer.stdout.readline() == "started\n"
    os.killpg(replayer.pid, signal.SIGINT)
    _, err = replayer.communicate(timeout=60)
    assert replayer.returncode == 130, err
    assert "reproduced" not in err  # no verdict on a run the user stopped
