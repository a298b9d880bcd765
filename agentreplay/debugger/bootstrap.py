"""The child side of script mode: ``python -m agentreplay.debugger.bootstrap``.

The parent (`launch.py`) starts a fresh interpreter with ``PYTHONHASHSEED``
pinned and a JSON plan in ``AGENTREPLAY_PLAN``. This module starts the
session before any of the program's own code runs, then runs the target: a
script path, a module or ``-c`` code as ``__main__`` (with its argv), or an
entrypoint function with its recorded arguments. When replaying, it writes
the verdict to the plan's result file for the parent to report.

An entrypoint that lives in a script (``__main__``) is replayed by running
that script as ``__main__`` with ``AGENTREPLAY_MODE=replay``: its own
``@agentreplay.entrypoint`` then replays exactly the call it recorded, and
the script's top-level code runs as it did when recording.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import runpy
import sys
import traceback
import warnings
from typing import Any

from agentreplay.cassette.reader import open_reader
from agentreplay.debugger.asgi import load_app, serve_recorded
from agentreplay.debugger.messages import OPTIONS_ENV, PLAN_ENV, RESULT_ENV, RunPlan, Verdict
from agentreplay.debugger.policy import debug_replay
from agentreplay.errors import CassetteWarning, DivergenceError, UsageError
from agentreplay.intercept import network
from agentreplay.session.core import Session, user_traceback
from agentreplay.session.outcome import ExitStatus
from agentreplay.session.recording import Recording
from agentreplay.session.replaying import Replay


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _run_script(target: dict[str, Any]) -> Any:
    sys.argv = list(target["argv"])
    if target["kind"] == "module":
        return runpy.run_module(target["name"], run_name="__main__", alter_sys=True)
    if target["kind"] == "code":
        sys.path.insert(0, "")
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(target["code"], "<string>", "exec"), namespace)  # the recorded -c code
        return namespace
    path = target["path"]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    return runpy.run_path(path, run_name="__main__")


def _entrypoint(target: dict[str, Any]) -> Any:
    module_name, _, qualname = str(target["entrypoint"]).partition(":")
    func: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        func = getattr(func, part)
    func = getattr(func, "__wrapped__", func)
    # The header names a function by where it is defined; a name that reaches another
    # module's function through an import (``pkg:os.system``) is not an entrypoint.
    if getattr(func, "__module__", None) != module_name or (
        getattr(func, "__qualname__", None) != qualname
    ):
        raise UsageError(
            f"{target['entrypoint']} is not a function defined in {module_name}, so it "
            f"was not recorded as an entrypoint"
        )
    return func


def _session(plan: RunPlan) -> Session:
    if plan.mode == "record":
        return Recording(plan.cassette, header=plan.header, metadata=plan.metadata)
    return debug_replay(plan.cassette, plan.options)


def _run_entrypoint(plan: RunPlan, session: Session) -> int:
    target = plan.target
    func = _entrypoint(target)
    args, kwargs = target.get("args") or [[], {}]
    call = session(func)
    if inspect.iscoroutinefunction(func):
        asyncio.run(call(*args, **kwargs))
    else:
        call(*args, **kwargs)
    return 0


def _run_asgi(plan: RunPlan, session: Session) -> int:
    """Send the captured request through its app; the middleware starts the replay."""
    with open_reader(plan.cassette) as cassette:
        request = cassette.header["asgi"]["request"]
    app = load_app(plan.target)
    try:
        asyncio.run(serve_recorded(app, request, session))
    except Exception:
        if session.root is None:
            raise
        # The app raised, and the verdict compares that with what was captured.
    if session.root is None:
        raise UsageError(
            f"the app {plan.target['app']} no longer sends requests through "
            f"agentreplay.capture.ASGIMiddleware, so the replay never started"
        )
    return 0


def _run_main_entrypoint(plan: RunPlan) -> int:
    """Run the script that holds the entrypoint; its decorator replays the call."""
    target = plan.target
    path = target.get("file")
    if not path or not os.path.exists(path):
        raise UsageError(f"the entrypoint's script {path or '(unknown)'} no longer exists")
    os.environ["AGENTREPLAY_MODE"] = "replay"
    os.environ["AGENTREPLAY_CASSETTE"] = plan.cassette
    os.environ[OPTIONS_ENV] = plan.options.to_env()
    if plan.result_file:
        os.environ[RESULT_ENV] = plan.result_file
    _run_script({"kind": "path", "path": path, "argv": target.get("argv") or [path]})
    return 0


def run(plan: RunPlan) -> int:
    target = plan.target
    if target["kind"] == "entrypoint" and str(target["entrypoint"]).startswith("__main__:"):
        try:
            return _run_main_entrypoint(plan)
        except SystemExit as exc:
            return _exit_code(exc)
        except DivergenceError:
            return 1  # the entrypoint reported it and wrote the result
    session = _session(plan)
    code = 0
    try:
        if target["kind"] == "entrypoint":
            code = _run_entrypoint(plan, session)
        elif target["kind"] == "asgi":
            code = _run_asgi(plan, session)
        else:
            session.start()
            try:
                _run_script(target)
            except SystemExit as exc:
                code = _exit_code(exc)
                session.stop(exc if code else None, ExitStatus(code), returned=not code)
            except BaseException as exc:
                session.stop(exc)
                raise
            else:
                session.stop(None, ExitStatus(0), returned=True)
    except SystemExit as exc:
        code = _exit_code(exc)
    except DivergenceError:
        code = 1  # reported once, by the parent, from the result file
    finally:
        verdict = Verdict.of(session) if isinstance(session, Replay) else None
        if plan.result_file and verdict is not None:
            verdict.write(plan.result_file)
    return code


def _from_the_program(exc: BaseException) -> bool:
    return user_traceback(exc) is not exc.__traceback__


def main() -> int:
    raw = os.environ.pop(PLAN_ENV, None)
    if raw is None:
        print(
            "agentreplay bootstrap: no plan; run it through `agentreplay record` or "
            "`agentreplay replay`",
            file=sys.stderr,
        )
        return 2
    plan = RunPlan.decode(raw)
    if plan.options.isolate:
        network.mark_isolated()  # no network here: processes may start
    if plan.mode == "replay":
        # The parent prints what could not be read, once, from the result file.
        warnings.filterwarnings("ignore", category=CassetteWarning)
    try:
        return run(plan)
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, UsageError) and not _from_the_program(exc):
            print(f"agentreplay: error: {exc}", file=sys.stderr)  # as the CLI says it
            return 2
        _print_failure(exc)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def _print_failure(exc: BaseException) -> None:
    """The program's own failure, as Python would print it: without the frames of
    agentreplay and runpy that started it, nor those of agentreplay's hook it was in when
    it came (a Ctrl-C during ``time.sleep``)."""
    shown = traceback.TracebackException(type(exc), exc, user_traceback(exc))
    while len(shown.stack) > 1 and _OWN_FILES in (shown.stack[-1].filename or ""):
        shown.stack.pop()
    print("".join(shown.format()), end="", file=sys.stderr)


_OWN_FILES = f"{os.sep}agentreplay{os.sep}"


if __name__ == "__main__":
    raise SystemExit(main())
