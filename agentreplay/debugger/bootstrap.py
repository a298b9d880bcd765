"""The child side of script mode: ``python -m agentreplay.debugger.bootstrap``.

The parent (`launch.py`) starts a fresh interpreter with ``PYTHONHASHSEED``
pinned and a JSON plan in ``AGENTREPLAY_PLAN``. This module starts the
session before any of the program's own code runs, then runs the target: a
script path or a module as ``__main__`` (with its argv), or an entrypoint
function with its recorded arguments. When replaying, it writes the verdict
to the plan's result file for the parent to report.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import runpy
import sys
from typing import Any

from agentreplay.errors import UsageError
from agentreplay.session.core import Session

PLAN_ENV = "AGENTREPLAY_PLAN"


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _run_script(target: dict[str, Any]) -> Any:
    sys.argv = list(target["argv"])
    if target["kind"] == "module":
        return runpy.run_module(target["name"], run_name="__main__", alter_sys=True)
    path = target["path"]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    return runpy.run_path(path, run_name="__main__")


def _entrypoint(target: dict[str, Any]) -> Any:
    module_name, _, qualname = str(target["entrypoint"]).partition(":")
    if module_name == "__main__":
        path = target.get("file")
        if not path:
            raise UsageError("the entrypoint was in __main__ and its file is unknown")
        sys.path.insert(0, os.path.dirname(path))
        namespace = runpy.run_path(path, run_name="__agentreplay_main__")
        func: Any = namespace[qualname.split(".")[0]]
        for part in qualname.split(".")[1:]:
            func = getattr(func, part)
    else:
        func = importlib.import_module(module_name)
        for part in qualname.split("."):
            func = getattr(func, part)
    return getattr(func, "__wrapped__", func)


def _session(plan: dict[str, Any]) -> Session:
    options = plan.get("options", {})
    if plan["mode"] == "record":
        from agentreplay.session.recording import Recording

        return Recording(plan["cassette"], header=plan.get("header"), metadata=plan.get("metadata"))
    from agentreplay.session.replaying import Replay

    overrides = {int(k): v for k, v in (options.get("overrides") or {}).items()}
    return Replay(
        plan["cassette"],
        pace=options.get("pace", "instant"),
        live_after=options.get("live_after"),
        overrides=overrides,
        break_at=options.get("break_at"),
        break_on_divergence=options.get("break_on_divergence", False),
        fork_path=options.get("fork_path"),
    )


def _write_result(plan: dict[str, Any], session: Session) -> None:
    path = plan.get("result_file")
    result = getattr(session, "result", None)
    if not path or result is None:
        return
    divergence = result.divergence
    data = {
        "reproduced": result.reproduced,
        "summary": result.summary,
        "step": result.step,
        "divergence": None
        if divergence is None
        else {"step": divergence.step, "task": divergence.task, "message": str(divergence)},
        "fork": str(getattr(session, "fork_path", None) or "") or None,
    }
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file)


def run(plan: dict[str, Any]) -> int:
    session = _session(plan)
    target = plan["target"]
    code = 0
    if target["kind"] == "entrypoint":
        func = _entrypoint(target)
        args, kwargs = target.get("args") or [[], {}]
        call = session(func)
        try:
            if inspect.iscoroutinefunction(func):
                asyncio.run(call(*args, **kwargs))
            else:
                call(*args, **kwargs)
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:
            _write_result(plan, session)
            raise
        _write_result(plan, session)
        return code
    session.start()
    try:
        _run_script(target)
    except SystemExit as exc:
        code = _exit_code(exc)
        session.stop(exc if code else None, code, returned=not code)
    except BaseException as exc:
        session.stop(exc)
        _write_result(plan, session)
        raise
    else:
        session.stop(None, 0, returned=True)
    _write_result(plan, session)
    return code


def main() -> int:
    raw = os.environ.pop(PLAN_ENV, None)
    if raw is None:
        print(
            "agentreplay bootstrap: no plan; run it through `agentreplay record` or "
            "`agentreplay replay`",
            file=sys.stderr,
        )
        return 2
    plan = json.loads(raw)
    for key, value in (plan.get("env") or {}).items():
        os.environ.setdefault(key, value)
    return run(plan)


if __name__ == "__main__":
    raise SystemExit(main())
