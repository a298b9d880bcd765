"""The parent side of script mode: start a program under record or replay.

Recording ``python agent.py ARGS`` (or ``python -m pkg ARGS``) runs it in a
fresh interpreter with ``PYTHONHASHSEED`` pinned (hash randomisation is fixed
only at interpreter start), through `bootstrap.py`. The cassette's header
keeps what is needed to run it again: argv, the working directory, the hash
seed, and an allow-list of environment variables.

Replaying a cassette runs the recorded script, or calls the recorded
``@agentreplay.entrypoint`` function with its recorded arguments, the same way,
or sends a request captured by ``agentreplay.capture.ASGIMiddleware`` through
its app again (`agentreplay.debugger.asgi`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentreplay.cassette.reader import open_reader
from agentreplay.debugger.messages import PLAN_ENV, ReplayOptions, RunPlan, Verdict
from agentreplay.debugger.trust import Launch, describe, module_under
from agentreplay.errors import AgentReplayError, UsageError
from agentreplay.session.environment import applicable_env, kept_env, set_placeholder_keys

__all__ = [
    "IsolationUnavailable",
    "Launch",
    "NotConfirmed",
    "ReplayOptions",
    "RunReport",
    "record_command",
    "replay_cassette",
    "target_of",
]


class NotConfirmed(UsageError):
    """The replay would run code from elsewhere, and the user did not agree to it."""


class IsolationUnavailable(AgentReplayError):
    """``--isolate`` was asked for, and this machine cannot give the child a network
    namespace of its own."""


def isolation_prefix() -> list[str]:
    """The command that starts a program in a network namespace of its own, with no
    interface up: ``unshare --net`` (as root), else with the user mapped into a user
    namespace, whichever this machine allows."""
    if not sys.platform.startswith("linux"):
        raise IsolationUnavailable(
            f"--isolate needs Linux network namespaces, which {sys.platform} does not have"
        )
    unshare = shutil.which("unshare")
    if unshare is None:
        raise IsolationUnavailable(
            "--isolate needs the unshare command (util-linux), which is not installed"
        )
    candidates = [[unshare, "--net"]] if os.geteuid() == 0 else []
    candidates += [[unshare, "--net", "--map-current-user"], [unshare, "--net", "--map-root-user"]]
    why = ""
    for prefix in candidates:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", ""], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return prefix
        why = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
    raise IsolationUnavailable(
        f"--isolate: this machine does not allow a network namespace here ({why}); replay "
        f"without --isolate, where Python-level connections and processes are refused"
    )


def target_of(command: list[str]) -> tuple[str, dict[str, Any]]:
    """Split ``python [-m module | -c code | script.py] args...`` into the interpreter and
    the target it runs."""
    if not command:
        raise UsageError(
            "nothing to record: give the command after --, e.g. "
            "agentreplay record -- python agent.py"
        )
    interpreter, rest = command[0], command[1:]
    if not Path(interpreter).name.startswith("python"):
        raise UsageError(
            f"script mode runs Python programs (python agent.py or python -m "
            f"pkg), not {interpreter!r}"
        )
    while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
        rest = rest[1:]  # interpreter options such as -u or -X dev
    if rest[:1] == ["-m"] and len(rest) >= 2:
        return interpreter, {"kind": "module", "name": rest[1], "argv": [rest[1], *rest[2:]]}
    if rest[:1] == ["-c"] and len(rest) >= 2:
        return interpreter, {"kind": "code", "code": rest[1], "argv": ["-c", *rest[2:]]}
    if rest and rest[0].startswith("-"):
        raise UsageError(f"{rest[0]} needs an argument: python -m module or python -c code")
    if rest:
        if not os.path.isfile(rest[0]):
            raise UsageError(f"no such script: {rest[0]}")
        return interpreter, {
            "kind": "path",
            "path": os.path.abspath(rest[0]),
            "argv": [rest[0], *rest[1:]],
        }
    raise UsageError("no script given: agentreplay record -- python agent.py [args]")


@dataclass
class RunReport:
    exit_code: int
    verdict: Verdict | None  # a replay's, when it finished
    output: str = ""  # stdout and stderr, when captured
    travel: dict[str, Any] | None = None  # pdb's goto/back: where to stop when run again
    timed_out: bool = False
    interrupted: bool = False  # by Ctrl-C (a record: the program then ended)


def _run_child(
    interpreter: str,
    plan: RunPlan,
    env: dict[str, str],
    cwd: str | None,
    capture: bool = False,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
) -> RunReport:
    with tempfile.TemporaryDirectory(prefix="agentreplay-") as tmp:
        result_file = os.path.join(tmp, "result.json")
        plan.result_file = result_file
        child_env = {**env, PLAN_ENV: plan.encode()}
        command = [interpreter, "-m", "agentreplay.debugger.bootstrap"]
        if plan.options.isolate:
            command = [*isolation_prefix(), *command]
        with subprocess.Popen(
            command,
            env=child_env,
            cwd=cwd,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
            text=True,
        ) as child:
            try:
                output, timed_out = _wait(child, cancel, timeout)
            except KeyboardInterrupt:
                if plan.mode == "record":
                    _after_interrupt(child)
                    return RunReport(child.returncode, None, interrupted=True)
                # A replay: the program (pdb, at a breakpoint) has the Ctrl-C too and
                # decides; the run is over for the user only if it ended of it.
                output, timed_out = _outlast(child), False
                if child.returncode in (130, -signal.SIGINT):
                    raise
        if timed_out:
            return RunReport(-1, None, f"{output}\ntimed out after {timeout:g} s", timed_out=True)
        verdict = Verdict.read(result_file) if os.path.exists(result_file) else None
        travel = plan.options.travel_file
        if travel and os.path.exists(travel):
            with open(travel, encoding="utf-8") as file:
                wanted = json.load(file)
            os.unlink(travel)
            return RunReport(child.returncode, None, output, wanted)
        return RunReport(child.returncode, verdict, output)


def _after_interrupt(child: subprocess.Popen[str]) -> None:
    """Let the program end after a Ctrl-C, its recording or replay closed as it ends.

    Ctrl-C in a terminal reaches the program too (one process group); a SIGINT sent to
    agentreplay alone is passed on to it. A second Ctrl-C kills it."""
    try:
        try:
            child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            child.communicate()
    except KeyboardInterrupt:
        child.kill()
        child.wait()
        raise


def _outlast(child: subprocess.Popen[str]) -> str:
    """The program's output once it ended, whatever Ctrl-Cs come meanwhile (they reach
    the program too, which handles them)."""
    while True:
        try:
            output, _ = child.communicate()
            return output or ""
        except KeyboardInterrupt:
            continue


def _wait(
    child: subprocess.Popen[str], cancel: threading.Event | None, timeout: float | None
) -> tuple[str, bool]:
    """The child's output once it ended, and whether it ran out of time; it is terminated
    as soon as ``cancel`` is set, and killed after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            polling = cancel is not None or deadline is not None
            output, _ = child.communicate(timeout=0.1 if polling else None)
            return output or "", False
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() > deadline:
                child.kill()
                output, _ = child.communicate()
                return output or "", True
            if cancel is not None and cancel.is_set() and child.poll() is None:
                child.terminate()


def record_command(
    command: list[str],
    cassette: Path,
    *,
    keep_env: list[str],
    metadata: dict[str, Any] | None = None,
    capture: bool = False,
    run_id: str | None = None,
) -> RunReport:
    """Run ``command`` (a Python program) recording it into ``cassette``, under
    ``run_id`` if given (the id the cassette's name was made from)."""
    interpreter, target = target_of(command)
    env = dict(os.environ)
    seed = env.get("PYTHONHASHSEED") or str(int.from_bytes(os.urandom(4), "big"))
    env["PYTHONHASHSEED"] = seed
    kept = {**kept_env(keep_env), "PYTHONHASHSEED": seed}
    header = {
        "script": target,
        "argv": target["argv"],
        "cwd": os.getcwd(),
        "pythonhashseed": seed,
        "env": kept,
        "interpreter": interpreter,
    }
    if run_id is not None:
        header["run_id"] = run_id
    plan = RunPlan("record", str(cassette), target, header=header, metadata=metadata)
    return _run_child(interpreter, plan, env, None, capture)


def _locate(path: str, recorded_cwd: str | None, what: str) -> str:
    """The script to run: ``path``, unless the replay runs from another checkout of the
    project or ``path`` is gone (a moved checkout, another machine); then its copy at the
    same place under the current working directory, if there is one."""
    relative = os.path.relpath(path, recorded_cwd) if recorded_cwd else path
    if recorded_cwd and os.path.isabs(path) and not relative.startswith(os.pardir):
        here = os.path.join(os.getcwd(), relative)
        if os.path.isfile(here) and (not os.path.isfile(path) or _another_checkout(recorded_cwd)):
            said = (
                f"running {here}, this directory's copy of the {what} {path}"
                if os.path.isfile(path)
                else f"the {what} {path} is not there; running {here}, at the same place "
                f"relative to the working directory"
            )
            _note(said)
            return here
    if os.path.isfile(path):
        return path
    where = f" (nor at {relative} under {os.getcwd()})" if recorded_cwd else ""
    raise UsageError(
        f"the {what} {path} no longer exists{where}; run agentreplay replay from the "
        f"directory the recording was made in, or its copy"
    )


def _work_tree(directory: str) -> str | None:
    """The root of the git work tree ``directory`` is in (a ``.git`` folder, or the file
    a worktree has), or None."""
    path = os.path.realpath(directory)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _another_checkout(recorded_cwd: str) -> bool:
    """Whether the replay runs from the same place in another git work tree than the one
    the recording was made in: a second checkout (or worktree) of the project, whose code
    is what the user means to run."""
    here, then = _work_tree(os.getcwd()), _work_tree(recorded_cwd)
    return (
        here is not None
        and then is not None
        and here != then
        and os.path.relpath(os.path.realpath(os.getcwd()), here)
        == os.path.relpath(os.path.realpath(recorded_cwd), then)
    )


def _imports_from_here(target: dict[str, Any], recorded_cwd: str) -> bool:
    """Whether a module run or an entrypoint, replayed from another checkout of the
    project, is to import this checkout's copy of its module."""
    if target.get("kind") == "module":
        name = str(target.get("name", ""))
    elif target.get("kind") == "entrypoint":
        name = str(target.get("entrypoint", "")).partition(":")[0]
    else:
        return False
    here = os.getcwd()
    # An entrypoint in a script (__main__) was found by _locate already.
    if name == "__main__" or not _another_checkout(recorded_cwd):
        return False
    if module_under(name, here) is None:
        return False
    _note(f"running {name} as this checkout has it, in {here}; the recording ran in {recorded_cwd}")
    return True


_said: set[str] = set()
_said_lock = threading.Lock()


def _note(text: str) -> None:
    """Say ``text`` on stderr, once per process: `agentreplay check` replays many cassettes
    at once, from threads, and one note stands for all of them."""
    with _said_lock:
        if text not in _said:
            _said.add(text)
            print(f"agentreplay: {text}", file=sys.stderr, flush=True)


def _asgi_target(cassette: Path, asgi: dict[str, Any]) -> dict[str, Any]:
    """A request captured by the ASGI middleware: the app to send it through again."""
    if not isinstance(asgi.get("app"), str):
        raise UsageError(
            f"{cassette}: the app's import path was not found when the request was captured; "
            f"give it to the middleware (ASGIMiddleware(app, app_path='pkg.main:app'))"
        )
    if not isinstance(asgi.get("request"), dict):
        raise UsageError(f"{cassette}: the captured request was not recorded")
    return {
        "kind": "asgi",
        "app": asgi["app"],
        "app_dir": asgi.get("app_dir"),
        "file": asgi.get("file"),
    }


def _target(cassette: Path, header: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The recorded program as a `RunPlan` target, and whether it was found moved."""
    recorded_cwd = header.get("cwd") if isinstance(header.get("cwd"), str) else None
    moved = False
    script = header.get("script")
    if isinstance(script, dict) and script:
        target = dict(script)
        if target.get("kind") not in ("path", "module", "code"):
            raise UsageError(f"{cassette}: the recorded program is of an unknown kind")
        if target.get("kind") == "path":
            found = _locate(str(target.get("path", "")), recorded_cwd, "recorded script")
            moved = found != target["path"]
            argv = list(target.get("argv") or [found])
            target.update(path=found, argv=[found, *argv[1:]] if moved else argv)
        return target, moved
    if isinstance(header.get("entrypoint"), str) and header["entrypoint"]:
        target = {
            "kind": "entrypoint",
            "entrypoint": header["entrypoint"],
            "file": header.get("entrypoint_file"),
            "args": header.get("args"),
            "argv": header.get("argv"),
        }
        in_script = str(header["entrypoint"]).startswith("__main__:")
        if in_script:
            found = _locate(str(target["file"] or ""), recorded_cwd, "entrypoint's script")
            moved = found != target["file"]
            target["file"] = found
        if header.get("args") is None and not in_script:
            raise UsageError(
                f"{cassette}: the entrypoint's arguments could not be recorded "
                f"(not plain data), so it cannot be called again from here"
            )
        return target, moved
    if isinstance(header.get("asgi"), dict):
        return _asgi_target(cassette, header["asgi"]), False
    if header.get("imported"):
        raise UsageError(
            f"{cassette} was imported from a vcrpy cassette: it holds HTTP exchanges but no "
            f"program to run; replay it with agentreplay.replay() around the code that made "
            f"them, or with the pytest fixture"
        )
    if isinstance(header.get("capture"), dict):
        name = header["capture"].get("name")
        raise UsageError(
            f"{cassette} was captured by agentreplay.capture.run(name={name!r}) around code "
            f"that agentreplay cannot start by itself; replay it with agentreplay.replay(FILE) "
            f"around the same call (docs/capture.md)"
        )
    metadata = header.get("metadata")
    test = metadata.get("pytest") if isinstance(metadata, dict) else None
    nodeid = test.get("nodeid") if isinstance(test, dict) else None
    if isinstance(nodeid, str) and nodeid:
        raise UsageError(
            f"{cassette} is the cassette of the test {nodeid}; replay it by running the "
            f"test, which replays it offline: pytest {shlex.quote(nodeid)}"
        )
    raise UsageError(
        f"{cassette} was recorded with agentreplay.record() around code that "
        f"agentreplay cannot start by itself; replay it with agentreplay.replay() "
        f"around the same code, or record with @agentreplay.entrypoint or "
        f"`agentreplay record -- python ...`"
    )


def replay_cassette(
    cassette: Path,
    options: ReplayOptions,
    *,
    capture: bool = False,
    confirm: Callable[[Launch], bool] | None = None,
    cancel: threading.Event | None = None,
    timeout: float | None = None,
    hash_seed: str | None = None,
) -> RunReport:
    """Run the program recorded in ``cassette`` again, under replay.

    ``confirm`` is shown what will run (`Launch`) before anything runs, and says
    whether to go on; without it, a replay that needs the user's consent
    (`Launch.needs_consent`) raises `NotConfirmed`. Setting ``cancel`` stops it (the
    report then has no verdict), and so does running past ``timeout`` seconds
    (``timed_out``). ``hash_seed`` is the ``PYTHONHASHSEED`` to use when the
    recording kept none."""
    with open_reader(cassette) as opened:
        header = dict(opened.header)
    target, moved = _target(cassette, header)
    recorded_cwd = header.get("cwd") if isinstance(header.get("cwd"), str) else None
    cwd = None if moved or not recorded_cwd or not os.path.isdir(recorded_cwd) else recorded_cwd
    if cwd is not None and _imports_from_here(target, cwd):
        cwd = None
    if options.isolate and options.live_after is not None:
        raise UsageError("--isolate and --live-after do not go together: a fork goes live")
    if options.isolate:
        isolation_prefix()  # before asking anything: it may not be there
    launch = describe(target, header, cwd or os.getcwd())
    applied, refused = applicable_env(header.get("env"))
    launch.refused_env = refused
    go = confirm(launch) if confirm is not None else not launch.needs_consent
    if not go:
        raise NotConfirmed(
            f"not run: {cassette} was not recorded here and "
            f"{launch.outside[0] if launch.outside else 'runs code'}; "
            f"read what it runs above, then pass --yes to run it"
        )
    env = dict(os.environ)
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    env.update(applied)
    seed = str(header.get("pythonhashseed") or "")
    if seed.isdigit() and int(seed) < 2**32:
        env["PYTHONHASHSEED"] = seed
    set_placeholder_keys(env)
    env["AGENTREPLAY_CAPTURE"] = "off"  # a replay is never captured
    with tempfile.TemporaryDirectory(prefix="agentreplay-travel-") as tmp:
        if options.break_at is not None or options.break_on_divergence:
            options = dataclasses.replace(options, travel_file=os.path.join(tmp, "goto.json"))
        while True:
            plan = RunPlan("replay", str(Path(cassette).resolve()), target, options=options)
            report = _run_child(sys.executable, plan, env, cwd, capture, cancel, timeout)
            if report.travel is None:
                return report
            # pdb's goto/back: the same replay again, stopping at the step asked for.
            options = dataclasses.replace(
                options,
                break_at=int(report.travel["step"]),
                breakpoints=list(report.travel.get("breakpoints") or []),
            )
