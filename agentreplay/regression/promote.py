"""``agentreplay promote``: a recorded run becomes a regression test.

The cassette is copied to where the pytest plugin looks for the new test's
cassette, and a short test file is written beside it that calls the recorded
entrypoint with its recorded arguments (or runs the recorded script) through
the ``agent_cassette`` fixture, offline, and asserts what the run did: the
exception it raised, or the value it returned. The test passes at once (the
bug reproduces); it is meant to be edited to assert the fixed behaviour.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path
from typing import Any

from agentreplay.cassette.compare import ADDRESS, without_addresses
from agentreplay.cassette.events import RunOutcome
from agentreplay.cassette.reader import open_reader
from agentreplay.errors import UsageError
from agentreplay.regression.paths import cassette_path

__all__ = ["promote"]

_NAME = re.compile(r"[^0-9a-zA-Z_]+")


def _slug(text: str) -> str:
    return _NAME.sub("_", text).strip("_").lower() or "run"


def _relative(path: str, start: Path) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive
        return path


def _equals(actual: str, expected: str) -> str:
    """The line asserting that ``actual`` (code) gives the text ``expected``, memory
    addresses left out if it has any (they differ every run)."""
    if without_addresses(expected) == expected:
        return f"    assert {actual} == {expected!r}"
    left_out = f"re.sub({ADDRESS.pattern!r}, '', {actual})"
    return f"    assert {left_out} == {without_addresses(expected)!r}"


def _outcome_check(outcome: RunOutcome | None, call: str, fixture: bool) -> list[str]:
    """The lines of the test body that make the call and check what it did; under the
    fixture (``fixture``), they also tell it the run's outcome, which the replay's
    verdict compares with the recording's (the test's own end is not the run's)."""
    if outcome is None:
        return [f"    {call}  # the recording stopped before the run ended"]

    def ended(arguments: str) -> list[str]:
        return [f"    agent_cassette.run_ended({arguments})"] if fixture else []

    if outcome.error is not None:
        short = outcome.error.type.rsplit(".", 1)[-1]
        if short == "SystemExit":
            return [
                "    with pytest.raises(SystemExit) as exited:",
                f"        {call}",
                *ended("exited.value"),
                _equals("str(exited.value)", outcome.error.message),
            ]
        return [
            "    with pytest.raises(Exception) as raised:",
            f"        {call}",
            *ended("raised.value"),
            f"    assert type(raised.value).__name__ == {short!r}",
            _equals("str(raised.value)", outcome.error.own_message),
        ]
    if outcome.value_repr.startswith("exit status "):
        code = int(outcome.value_repr.removeprefix("exit status "))
        if code == 0:
            return [f"    {call}", *ended("SystemExit(0)")]
        return [
            "    with pytest.raises(SystemExit) as exited:",
            f"        {call}",
            *ended("exited.value"),
            f"    assert exited.value.code == {code}",
        ]
    lines = [f"    result = {call}", *ended("value=result")]
    if outcome.value is not None or outcome.value_repr == "None":
        return [*lines, f"    assert result == {outcome.value!r}"]
    return [*lines, _equals("repr(result)", outcome.value_repr)]


def _is_async(source_file: object, qualname: str) -> bool:
    """Is ``qualname`` an ``async def`` in ``source_file``? Read, not imported: importing
    the agent's module would run its code. False when the file or the function is gone."""
    try:
        tree = ast.parse(Path(str(source_file)).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    scope: list[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for part in qualname.split("."):
        found = next(
            (
                node
                for node in scope
                if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name == part
            ),
            None,
        )
        if found is None:
            return False
        scope = found.body
    return isinstance(found, ast.AsyncFunctionDef)


_REPLAYED = "replayed"


def _entrypoint_test(
    header: dict[str, Any], test_dir: Path
) -> tuple[str, list[str], str, str | None]:
    """(name, prelude lines, call, async target) for a run of an ``@agentreplay.entrypoint``
    function. An ``async def`` one started its session inside its coroutine, so its
    coroutine is the run's root task: the test replays it the same way, through
    ``agentreplay.replay(...)`` around the undecorated function, rather than under the
    fixture (whose session starts in the test's thread, making the coroutine a child
    task); the async target names the decorated function."""
    module, _, qualname = str(header["entrypoint"]).partition(":")
    args, kwargs = header.get("args") or [[], {}]
    arguments = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    function = qualname.split(".")[-1]
    if module == "__main__":
        script = header.get("entrypoint_file")
        if not script:
            raise UsageError("the cassette does not say which script holds its entrypoint")
        prelude = [
            "AGENT_FILE = Path(__file__).parent / " + repr(_relative(script, test_dir)),
            "_spec = importlib.util.spec_from_file_location('promoted_agent', AGENT_FILE)",
            "assert _spec is not None and _spec.loader is not None",
            "agent = importlib.util.module_from_spec(_spec)",
            "_spec.loader.exec_module(agent)  # before the test: its imports are not the run",
        ]
        target = f"agent.{qualname}"
    else:
        prelude, target = [f"from {module} import {qualname.split('.')[0]}"], qualname
    if _is_async(header.get("entrypoint_file"), qualname):
        return function, prelude, f"asyncio.run({_REPLAYED}({arguments}))", target
    return function, prelude, f"{target}({arguments})", None


def _script_test(header: dict[str, Any], test_dir: Path) -> tuple[str, list[str], str]:
    script = dict(header["script"])
    if script.get("kind") != "path":
        raise UsageError(
            f"promote turns script runs of a file into tests; this one ran "
            f"python {'-m' if script.get('kind') == 'module' else '-c'} ..."
        )
    path = _relative(str(script["path"]), test_dir)
    argv = [path, *list(script.get("argv") or [])[1:]]
    prelude = [
        "SCRIPT = Path(__file__).parent / " + repr(path),
        f"ARGV = {argv!r}",
    ]
    return Path(path).stem, prelude, "runpy.run_path(str(SCRIPT), run_name='__main__')"


def promote(cassette: Path, to: Path) -> tuple[Path, Path]:
    """Write a regression test for the run in ``cassette`` under the folder ``to``;
    returns (test file, the cassette's copy)."""
    with open_reader(cassette) as opened:
        header = dict(opened.header)
        outcome = opened.outcome  # reads it all if it has no sound index
        damage = opened.damage
    if damage is not None:
        raise UsageError(
            f"{cassette} is damaged or truncated {damage.located}; its replay would run "
            f"past the cut, so a test of it could only fail: record the run again"
        )
    to.mkdir(parents=True, exist_ok=True)
    target: str | None = None
    if header.get("entrypoint"):
        name, prelude, call, target = _entrypoint_test(header, to)
    elif header.get("script"):
        name, prelude, call = _script_test(header, to)
    else:
        raise UsageError(
            f"{cassette} was recorded around code with agentreplay.record(): write its test "
            f"with the agent_cassette fixture around the same code"
        )
    run_id = str(header.get("run_id") or "run")[:8]
    test_name = f"test_{_slug(name)}_{_slug(run_id)}"
    test_file = to / f"test_promoted_{_slug(name)}_{_slug(run_id)}.py"
    if test_file.exists():
        raise UsageError(f"{test_file} exists already: this run was promoted before")
    copy = cassette_path(test_file, test_name)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cassette, copy)
    if target is not None:
        prelude = [*prelude, "CASSETTE = Path(__file__).parent / " + repr(_relative(str(copy), to))]
    test_file.write_text(_render(header, outcome, test_name, prelude, call, copy, to, target))
    return test_file, copy


def _imports(code: str) -> list[str]:
    """The standard library imports the generated test uses, and no others."""
    wanted = {
        "import asyncio": "asyncio.run(",
        "import importlib.util": "importlib.util.",
        "import re": "re.sub(",
        "import runpy": "runpy.",
        "import sys": "ARGV = ",
        "from pathlib import Path": "Path(",
    }
    found = [line for line, used in wanted.items() if used in code]
    return [*found, ""] if found else []


def _env_lines(env: dict[str, Any]) -> list[str]:
    if not env:
        return ["RECORDED_ENV: dict[str, str] = {}"]
    return ["RECORDED_ENV = {", *(f"    {k!r}: {v!r}," for k, v in sorted(env.items())), "}"]


def _signature(name: str, parameters: str) -> list[str]:
    """The test's ``def`` line, split as formatters split it when it is too long."""
    line = f"def {name}({parameters}) -> None:"
    if len(line) <= 88:
        return [line]
    return [f"def {name}(", f"    {parameters}", ") -> None:"]


def _render(
    header: dict[str, Any],
    outcome: RunOutcome | None,
    test_name: str,
    prelude: list[str],
    call: str,
    copy: Path,
    to: Path,
    target: str | None,
) -> str:
    env = {k: v for k, v in dict(header.get("env") or {}).items() if k != "PYTHONHASHSEED"}
    check = _outcome_check(outcome, call, fixture=target is None)
    seed = header.get("pythonhashseed")
    note = (
        f"\nIt was recorded with PYTHONHASHSEED={seed}: if the agent's requests depend on the\n"
        f"order of a set, run pytest with --agentreplay-hash-seed {seed}.\n"
        if seed not in (None, "", "0")
        else ""
    )
    if target is None:
        how = ["The test replays it offline, through the agent_cassette fixture, from"]
        rerecord = [
            "should do once the bug is fixed, then re-record with",
            "--agentreplay-mode=rewrite",
        ]
        fixture = "agent_cassette: AgentCassette, "
    else:
        how = [
            "The test replays it offline, with its coroutine as the run's root as when",
            "it was recorded, from",
        ]
        rerecord = [
            "should do once the bug is fixed, then record the agent again",
            "(AGENTREPLAY_MODE=record)",
        ]
        fixture = ""
    lines = [
        '"""A regression test promoted from a recorded run (agentreplay promote).',
        "",
        f"Run {header.get('run_id', '?')}, recorded {header.get('created', '?')}.",
        *how,
        f"{_relative(str(copy), to)},",
        "and asserts what the run did then. Edit the assertion to what the agent",
        *rerecord[:-1],
        rerecord[-1] + " against live services." + note,
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_imports("\n".join([*prelude, call, *check])),
        *(["import agentreplay"] if target is not None else []),
        "import pytest",
        *(["from agentreplay.regression import AgentCassette"] if target is None else []),
        "",
        *prelude,
        "",
        *_env_lines(env),
        "",
        "",
        *_signature(test_name, f"{fixture}monkeypatch: pytest.MonkeyPatch"),
        "    for name, value in RECORDED_ENV.items():  # the addresses the run used",
        "        monkeypatch.setenv(name, value)",
        "    for key in ('OPENAI_API_KEY', 'ANTHROPIC_API_KEY'):  # replay sends none",
        "        monkeypatch.setenv(key, 'replay-needs-no-key')",
    ]
    if "ARGV = " in "\n".join(prelude):
        lines += [
            "    monkeypatch.setattr(sys, 'argv', ARGV)",
            "    monkeypatch.syspath_prepend(str(SCRIPT.parent))",
        ]
    if target is not None:
        lines.append(f"    {_REPLAYED} = agentreplay.replay(CASSETTE)({target}.__wrapped__)")
    lines += check
    return "\n".join(lines) + "\n"
