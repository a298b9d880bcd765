"""Replays of the awkward kinds a user meets: unguarded scripts, forks, -c, damage."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import agentreplay
from tests.debugger.conftest import Servers, agentreplay_cli, record_example

UNGUARDED = """\
import os, uuid, httpx, agentreplay

@agentreplay.entrypoint
def main(city):
    answer = httpx.get(os.environ["SUPPORT_TOOLS_URL"] + "/lookup_order",
                       params={"order_id": "A-1001", "city": city}).json()
    return f"{answer['status']} {uuid.uuid4()}"

print(main("Paris"))
"""


def test_an_entrypoint_script_without_a_main_guard_replays_offline(
    servers: Servers, tmp_path: Path
) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    cassette = tmp_path / "unguarded.cassette"
    env = {**servers.env, "AGENTREPLAY_MODE": "record", "AGENTREPLAY_CASSETTE": str(cassette)}
    recorded = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    servers.stop()
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines()[0] == recorded.stdout.strip()  # same uuid, no live call
    assert "reproduced" in replayed.stdout


def test_forks_can_be_replayed_like_their_parent(servers: Servers, tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    fork = tmp_path / "fork.cassette"
    made = agentreplay_cli(
        "replay", str(cassette), "--live-after", "1", "-o", str(fork), env=servers.env
    )
    assert made.returncode == 0, made.stdout + made.stderr
    servers.stop()
    again = agentreplay_cli("replay", str(fork), env=servers.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reproduced" in again.stdout


def test_python_dash_c_records_and_replays(servers: Servers, tmp_path: Path) -> None:
    cassette = tmp_path / "code.cassette"
    code = (
        "import os, httpx, uuid; print(uuid.uuid4(), httpx.get(os.environ"
        "['SUPPORT_TOOLS_URL'] + '/lookup_order', params={'order_id': 'A-1002'}).json())"
    )
    recorded = agentreplay_cli(
        "record",
        "-o",
        str(cassette),
        "--env",
        "SUPPORT_TOOLS_URL",
        "--",
        sys.executable,
        "-c",
        code,
        env=servers.env,
    )
    assert recorded.returncode == 0, recorded.stderr
    servers.stop()
    replayed = agentreplay_cli("replay", str(cassette), env=servers.env)
    assert replayed.stdout.splitlines()[0] == recorded.stdout.strip()
    assert "reproduced" in replayed.stdout


def test_recording_a_missing_script_is_a_usage_error(tmp_path: Path) -> None:
    cassette = tmp_path / "none.cassette"
    done = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, "nope.py", cwd=tmp_path
    )
    assert done.returncode == 2 and "no such script: nope.py" in done.stderr
    assert not cassette.exists()


def test_a_divergence_is_reported_once_without_a_traceback(
    servers: Servers, tmp_path: Path
) -> None:
    from tests.debugger.conftest import EXAMPLE

    cassette = tmp_path / "run.cassette"  # the model's address is not kept in the cassette
    agentreplay_cli(
        "record",
        "-o",
        str(cassette),
        "--env",
        "SUPPORT_TOOLS_URL",
        "--",
        sys.executable,
        str(EXAMPLE),
        "Where?",
        env=servers.env,
    )
    servers.stop()
    env = {**servers.env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}  # another address
    done = agentreplay_cli("replay", str(cassette), env=env)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert output.count("differences:") == 1
    assert "Traceback" not in output
    assert "only the address differs" in output and "--env NAME" in output


def test_replaying_a_damaged_cassette_says_so(servers: Servers, tmp_path: Path) -> None:
    cassette = tmp_path / "run.cassette"
    record_example(servers, cassette)
    servers.stop()
    data = cassette.read_bytes()
    cut = tmp_path / "cut.cassette"
    cut.write_bytes(data[: len(data) * 2 // 3])
    done = agentreplay_cli("replay", str(cut), env=servers.env)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "damaged or truncated" in output
    warned = [line for line in output.splitlines() if "warning" in line.lower()]
    assert len(warned) == 1 and warned[0].startswith("agentreplay: warning: ")  # said once
    assert "CassetteWarning" not in output


def test_entrypoint_replay_by_environment_needs_no_api_key(
    servers: Servers, tmp_path: Path
) -> None:
    from tests.debugger.conftest import EXAMPLE

    cassette = tmp_path / "ep.cassette"
    env = {**servers.env, "AGENTREPLAY_MODE": "Record", "AGENTREPLAY_CASSETTE": str(cassette)}
    subprocess.run(
        [sys.executable, str(EXAMPLE), "Where?"], env=env, check=True, capture_output=True
    )
    servers.stop()
    env = {k: v for k, v in servers.env.items() if k != "OPENAI_API_KEY"}
    env.update(AGENTREPLAY_MODE="REPLAY", AGENTREPLAY_CASSETTE=str(cassette))
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "Where?"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "agentreplay: reproduced" in done.stderr


def test_an_entrypoint_keeps_the_variables_agentreplay_env_names(
    servers: Servers, tmp_path: Path
) -> None:
    from tests.debugger.conftest import EXAMPLE

    cassette = tmp_path / "ep.cassette"
    env = {
        **servers.env,
        "AGENTREPLAY_MODE": "record",
        "AGENTREPLAY_CASSETTE": str(cassette),
        "AGENTREPLAY_ENV": "OPENAI_BASE_URL, SUPPORT_TOOLS_URL",
    }
    subprocess.run(
        [sys.executable, str(EXAMPLE), "Where?"], env=env, check=True, capture_output=True
    )
    with agentreplay.open(cassette) as opened:
        kept = opened.header["env"]
    assert kept["SUPPORT_TOOLS_URL"] == servers.tools.url
    assert "OPENAI_API_KEY" not in kept
    servers.stop()
    # Another machine: none of the addresses, no key.
    bare = {
        k: v
        for k, v in servers.env.items()
        if k not in ("OPENAI_BASE_URL", "SUPPORT_TOOLS_URL", "OPENAI_API_KEY")
    }
    by_cli = agentreplay_cli("replay", str(cassette), env=bare)
    assert by_cli.returncode == 0, by_cli.stdout + by_cli.stderr
    assert "reproduced" in by_cli.stdout
    elsewhere = {**bare, "SUPPORT_TOOLS_URL": "http://tools.other.test:9"}  # kept value wins
    by_env = subprocess.run(
        [sys.executable, str(EXAMPLE), "Where?"],
        env={**elsewhere, "AGENTREPLAY_MODE": "replay", "AGENTREPLAY_CASSETTE": str(cassette)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "agentreplay: reproduced" in by_env.stderr, by_env.stderr


def test_pace_on_the_command_line_paces_the_replayed_sleeps(tmp_path: Path) -> None:
    script = tmp_path / "sleepy.py"
    script.write_text(
        "import time\nprint('sleeping', flush=True)\ntime.sleep(1.5)\nprint('woke', flush=True)\n"
    )
    cassette = tmp_path / "sleepy.cassette"
    recorded = agentreplay_cli("record", "-o", str(cassette), "--", sys.executable, str(script))
    assert recorded.returncode == 0, recorded.stderr

    def slept(*pace: str) -> float:
        """How long the replayed sleep took, between the two lines the script prints
        (start-up time, which a loaded machine stretches, is not in it)."""
        command = [sys.executable, "-m", "agentreplay", "replay", str(cassette), *pace]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            assert child.stdout is not None
            seen: dict[str, float] = {}
            for line in child.stdout:
                seen.setdefault(line.strip(), time.monotonic())
        assert child.returncode == 0 and {"sleeping", "woke"} <= set(seen), seen
        return seen["woke"] - seen["sleeping"]

    instant, paced, doubled = slept(), slept("--pace", "recorded"), slept("--pace", "2")
    assert paced >= 1.45 and doubled >= 0.7  # a paced sleep cannot be quicker than recorded
    assert instant < 0.7 < paced


MOVABLE = """\
import sys, uuid, agentreplay

@agentreplay.entrypoint
def main(name):
    return f"{name} {uuid.uuid4()}"

if __name__ == "__main__":
    print(main(sys.argv[1]) if len(sys.argv) > 1 else uuid.uuid4())
"""


def _git_init(*checkouts: Path) -> None:
    for checkout in checkouts:
        subprocess.run(["git", "init", "-q", str(checkout)], check=True)


def _record_entrypoint(cassette: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``python *argv`` in ``cwd``, its @entrypoint recording into ``cassette``."""
    env = {**os.environ, "AGENTREPLAY_MODE": "record", "AGENTREPLAY_CASSETTE": str(cassette)}
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )


def test_a_moved_checkout_replays_from_its_new_place(tmp_path: Path) -> None:
    import shutil

    old = tmp_path / "checkout"
    (old / "agents").mkdir(parents=True)
    (old / "agents" / "agent.py").write_text(MOVABLE)
    script_cassette, entry_cassette = tmp_path / "script.cassette", tmp_path / "entry.cassette"
    recorded = agentreplay_cli(
        "record", "-o", str(script_cassette), "--", sys.executable, "agents/agent.py", cwd=old
    )
    entry = _record_entrypoint(entry_cassette, old, "agents/agent.py", "ada")
    new = tmp_path / "elsewhere"
    shutil.move(old, new)
    for cassette, printed in ((script_cassette, recorded.stdout), (entry_cassette, entry.stdout)):
        done = agentreplay_cli("replay", str(cassette), cwd=new)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[0] == printed.strip()  # same uuid, from the cassette
        assert f"running {new / 'agents' / 'agent.py'}" in done.stderr
    lost = agentreplay_cli("replay", str(script_cassette), cwd=tmp_path)
    assert lost.returncode == 2
    assert "no longer exists (nor at agents/agent.py under" in lost.stderr


def test_a_second_checkout_replays_its_own_copy_of_the_script(tmp_path: Path) -> None:
    """Replayed from another checkout, the run is that checkout's code (the fix being
    tried), not the first one's, which is still there."""
    first, second, plain = tmp_path / "first", tmp_path / "second", tmp_path / "plain"
    for checkout in (first, second, plain):
        (checkout / "agents").mkdir(parents=True)
        (checkout / "agents" / "agent.py").write_text(
            MOVABLE.replace("print(main(", f"print({checkout.name!r}, main(")
        )
    _git_init(first, second)
    cassette = tmp_path / "run.cassette"
    recorded = agentreplay_cli(
        "record", "-o", str(cassette), "--", sys.executable, "agents/agent.py", cwd=first
    )
    assert recorded.stdout.startswith("first "), recorded.stdout
    here = agentreplay_cli("replay", str(cassette), cwd=second)
    assert here.returncode == 0, here.stdout + here.stderr
    name, uuid = here.stdout.splitlines()[0].split()
    assert (name, uuid) == ("second", recorded.stdout.split()[1])
    assert f"running {second / 'agents' / 'agent.py'}" in here.stderr
    there = agentreplay_cli("replay", str(cassette), cwd=first)
    assert there.stdout.startswith("first ") and "running" not in there.stderr
    # A directory that is no checkout of the project runs the recorded script.
    unrelated = agentreplay_cli("replay", str(cassette), cwd=plain)
    assert unrelated.stdout.startswith("first ") and "running" not in unrelated.stderr


PACKAGED = """\
import sys, uuid, agentreplay

WHO = {who!r}

@agentreplay.entrypoint
def run(name):
    return f"{{WHO}} {{name}} {{uuid.uuid4()}}"

if __name__ == "__main__":
    print(WHO, uuid.uuid4())
"""


def test_a_second_checkout_replays_its_own_modules(tmp_path: Path) -> None:
    """An entrypoint or ``python -m`` run recorded in one checkout imports the modules of
    the checkout it is replayed from."""
    first, second = tmp_path / "first", tmp_path / "second"
    for checkout in (first, second):
        (checkout / "agents").mkdir(parents=True)
        (checkout / "agents" / "__init__.py").write_text("")
        (checkout / "agents" / "main.py").write_text(PACKAGED.format(who=checkout.name))
    _git_init(first, second)
    module_cassette, entry_cassette = tmp_path / "module.cassette", tmp_path / "entry.cassette"
    by_module = agentreplay_cli(
        "record", "-o", str(module_cassette), "--", sys.executable, "-m", "agents.main", cwd=first
    )
    by_entry = _record_entrypoint(
        entry_cassette, first, "-c", "from agents.main import run; print(run('ada'))"
    )
    for cassette, printed in (
        (module_cassette, by_module.stdout),
        (entry_cassette, by_entry.stdout),
    ):
        assert printed.startswith("first "), printed
        here = agentreplay_cli("replay", str(cassette), cwd=second)
        # Same inputs (the uuid), this checkout's code; an entrypoint's changed return
        # value is not the recorded one.
        assert printed.strip().replace("first", "second", 1) in here.stdout + here.stderr
        assert here.returncode == (0 if cassette == module_cassette else 1)
        assert f"running agents.main as this checkout has it, in {second};" in here.stderr
        there = agentreplay_cli("replay", str(cassette), cwd=first)
        assert there.returncode == 0 and printed.strip() in there.stdout
        assert "as this checkout has it" not in there.stderr


def test_a_replay_started_from_code_stops_when_cancelled(servers: Servers, tmp_path: Path) -> None:
    import threading

    from agentreplay.debugger.launch import ReplayOptions, replay_cassette

    cassette = tmp_path / "run.cassette"
    assert record_example(servers, cassette).returncode == 0
    servers.stop()
    done = replay_cassette(cassette, ReplayOptions(), capture=True)
    assert done.verdict is not None and done.verdict.reproduced
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    stopped = replay_cassette(cassette, ReplayOptions(), capture=True, cancel=cancel)
    assert stopped.verdict is None and stopped.exit_code < 0  # ended by a signal
    assert time.monotonic() - started < 5


def test_check_says_a_checkout_note_once_for_all_its_cassettes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for checkout in (first, second):
        (checkout / "agents").mkdir(parents=True)
        (checkout / "agents" / "__init__.py").write_text("")
        (checkout / "agents" / "main.py").write_text(PACKAGED.format(who="same"))
    _git_init(first, second)
    for n in range(3):
        recorded = agentreplay_cli(
            "record", "-o", str(tmp_path / f"run{n}.cassette"), "--",
            sys.executable, "-m", "agents.main", cwd=first,
        )  # fmt: skip
        assert recorded.returncode == 0, recorded.stderr
    checked = agentreplay_cli("check", "-j", "2", str(tmp_path), cwd=second)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    note = f"agentreplay: running agents.main as this checkout has it, in {second}; "
    lines = checked.stderr.splitlines()
    assert [line for line in lines if line.startswith(note)] == [
        note + f"the recording ran in {first}"
    ], checked.stderr
    assert checked.stdout.count("reproduced") >= 3
