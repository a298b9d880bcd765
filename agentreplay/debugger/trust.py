"""What a script-mode replay will run, and whether the user must agree to it first.

Replaying a cassette runs the program it recorded, as running a script does.
So `agentreplay replay` always says what it will run before running it, and
asks (``--yes``, or a "y" at the terminal) when all of these hold:

- the cassette was not made here (`agentreplay.session.provenance`: another
  host, another user, no mark, or a header changed since it was recorded);
- it runs code from outside the working tree (the current directory): inline
  ``-c`` code, a module or entrypoint that is not a file under it (``os:system``,
  ``-m pip``), a script elsewhere, or a working directory elsewhere.

Code inside the working tree is the user's own, whoever recorded the
cassette: running it with recorded arguments is what replaying means.
"""

from __future__ import annotations

import importlib.machinery
import os
import shlex
import sys
from dataclasses import dataclass, field
from typing import Any

from agentreplay.session.provenance import made_here, origin_of

__all__ = ["Launch", "describe", "module_under"]

_SHOWN = 200
"""Characters of an argument or value shown on the one line (inline code is shown whole)."""


@dataclass
class Launch:
    """What a replay is about to run."""

    line: str
    """One line: the command or call, and where it runs."""
    made_here: bool
    origin: str
    code: str | None = None
    """Inline ``-c`` code, shown whole when the user is asked."""
    outside: list[str] = field(default_factory=list)
    """What runs from outside the working tree, one reason each."""
    refused_env: list[str] = field(default_factory=list)
    """Variables the header sets that a replay never applies (they load code)."""

    @property
    def needs_consent(self) -> bool:
        return not self.made_here and bool(self.outside)


def _short(value: str) -> str:
    return value if len(value) <= _SHOWN else f"{value[:_SHOWN]}... ({len(value)} characters)"


def _under(path: str, tree: str) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(path), tree]) == tree
    except ValueError:  # another drive
        return False


def _module_file(name: str, run_dir: str) -> str | None:
    """Where the top-level package of ``name`` would be imported from in the child
    (whose path starts with its working directory), without importing anything."""
    top = name.partition(".")[0]
    if not top.isidentifier():
        return None
    spec = importlib.machinery.PathFinder.find_spec(top, [run_dir, *_child_path()])
    if spec is None:
        return None
    if spec.origin and os.path.isabs(spec.origin):
        return spec.origin
    locations = list(spec.submodule_search_locations or [])
    return locations[0] if locations else None


def module_under(name: str, tree: str) -> str | None:
    """Where module ``name`` would be imported from by a child run in ``tree``, if that
    is a file under ``tree`` (not an installed package)."""
    found = _module_file(name, tree)
    return found if found is not None and _under(found, os.path.realpath(tree)) else None


def _child_path() -> list[str]:
    return [entry for entry in sys.path[1:] if entry]


def describe(target: dict[str, Any], header: dict[str, Any], run_dir: str) -> Launch:
    """What running ``target`` (a `RunPlan` target) in ``run_dir`` means."""
    tree = os.path.realpath(os.getcwd())
    here = made_here(header)
    launch = Launch(line="", made_here=here, origin=origin_of(header))
    kind = target.get("kind")
    argv = [str(arg) for arg in target.get("argv") or []]
    args = " ".join(shlex.quote(_short(arg)) for arg in argv[1:])
    if kind == "code":
        code = str(target.get("code", ""))
        launch.code = code
        launch.line = f"python -c {shlex.quote(_short(code))} {args}".rstrip()
        launch.outside.append("it runs inline code (python -c) kept in the cassette")
    elif kind == "module":
        name = str(target.get("name", ""))
        launch.line = f"python -m {shlex.quote(name)} {args}".rstrip()
        where = _module_file(name, run_dir)
        if where is None or not _under(where, tree):
            launch.outside.append(f"module {name} is {_place(where)}")
    elif kind == "path":
        path = str(target.get("path", ""))
        launch.line = f"python {shlex.quote(path)} {args}".rstrip()
        if not _under(path, tree):
            launch.outside.append(f"script {path} is outside the working tree")
    elif kind == "asgi":
        app = str(target.get("app", ""))
        launch.line = f"the captured request through {app}"
        where = _module_file(app.partition(":")[0], str(target.get("app_dir") or run_dir))
        if where is None or not _under(where, tree):
            launch.outside.append(f"app {app} is {_place(where)}")
    else:
        entrypoint = str(target.get("entrypoint", ""))
        module = entrypoint.partition(":")[0]
        call = _call(entrypoint, target.get("args"))
        if module == "__main__":
            where = str(target.get("file") or "")
            launch.line = f"{call} in {where}"
        else:
            found = _module_file(module, run_dir)
            where = found or ""
            launch.line = call
            if found is None or not _under(found, tree):
                launch.outside.append(f"entrypoint {entrypoint} is {_place(found)}")
        if module == "__main__" and not _under(where, tree):
            launch.outside.append(f"the entrypoint's script {where} is outside the working tree")
    if not _under(run_dir, tree):
        launch.outside.append(f"it runs in {run_dir}, outside the working tree")
    made = "here" if here else f"by {launch.origin}, not here"
    launch.line += f" in {run_dir} (recorded {made})"
    return launch


def _place(where: str | None) -> str:
    if where is None:
        return "not found under the working tree (a built-in or installed module)"
    return f"outside the working tree ({where})"


def _call(entrypoint: str, recorded: Any) -> str:
    args, kwargs = recorded if isinstance(recorded, list) and len(recorded) == 2 else ([], {})
    shown = [_short(repr(arg)) for arg in args if isinstance(args, list)]
    if isinstance(kwargs, dict):
        shown += [f"{key}={_short(repr(value))}" for key, value in kwargs.items()]
    return f"{entrypoint}({', '.join(shown)})"
