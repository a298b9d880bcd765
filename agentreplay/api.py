"""The front doors: ``record()``, ``replay()`` and ``@entrypoint``.

``@agentreplay.entrypoint`` records or replays a program's main function, by
environment::

    AGENTREPLAY_MODE=off|record|replay     (default off: no patching, one env lookup)
    AGENTREPLAY_CASSETTE=runs/{timestamp}-{run_id}.cassette
    AGENTREPLAY_ENV=OPENAI_BASE_URL,TOOLS_URL  (variables to keep, never secrets)
    AGENTREPLAY_CAPTURE=runs/|s3://bucket/prefix  (production capture, when the mode is off)

The same code therefore records in staging, replays on a laptop and does
nothing by default. The cassette's header keeps the function's import path
and its arguments (when msgpack can hold them), so ``agentreplay replay FILE``
can call it again without any code being written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar, overload

import agentreplay.humanize as fmt
from agentreplay.capture import core as capture
from agentreplay.cassette.reader import open_reader
from agentreplay.cassette.values import to_plain_or_none
from agentreplay.debugger.messages import OPTIONS_ENV, RESULT_ENV, ReplayOptions, Verdict
from agentreplay.debugger.policy import debug_replay
from agentreplay.errors import AgentReplayError, CassetteError, UsageError
from agentreplay.session.core import Mode, Session
from agentreplay.session.environment import (
    DEFAULT_CASSETTE,
    ENV_NAMES,
    applicable_env,
    cassette_path,
    kept_env,
    new_run_id,
    set_placeholder_keys,
)
from agentreplay.session.matching import Matcher
from agentreplay.session.recording import Recording
from agentreplay.session.redaction import Redaction
from agentreplay.session.replaying import Replay
from agentreplay.session.schedule import DEFAULT_ORDER_TIMEOUT

__all__ = ["entrypoint", "record", "replay"]

F = TypeVar("F", bound=Callable[..., Any])


def record(
    path: str | os.PathLike[str],
    *,
    redact: Redaction | None = None,
    metadata: dict[str, object] | None = None,
) -> Recording:
    """Record a run into the cassette at ``path``.

    Works as ``with record(path):``, ``async with record(path):``, and as a
    decorator of sync and async functions (whose return value is recorded as
    the run's outcome).
    """
    return Recording(path, redact=redact, metadata=metadata)


def replay(
    path: str | os.PathLike[str],
    *,
    strict: bool = True,
    matcher: Matcher | None = None,
    redact: Redaction | None = None,
    pace: str | float = "instant",
    live_after: int | None = None,
    overrides: dict[int, Any] | None = None,
    break_at: int | None = None,
    break_on_divergence: bool = False,
    fork_path: str | os.PathLike[str] | None = None,
    order_timeout: float = DEFAULT_ORDER_TIMEOUT,
) -> Replay:
    """Replay the run recorded at ``path``, with no network.

    Every HTTP call, clock read, random draw and tool call gets its recorded
    answer. A call that does not match the recording raises `DivergenceError`.
    ``pace`` is ``"instant"`` (default), ``"recorded"``, or a speed factor for
    streamed responses and sleeps. After the run, ``.result`` says whether it
    reproduced the recorded outcome.

    ``live_after=N`` forks the run: steps 1..N replay, then it goes live and is
    recorded into ``fork_path`` (default ``<name>.forkN.cassette``).
    ``overrides={N: value}`` replaces step N's response (an LLM answer, an HTTP
    response, or a tool's return value); the what-if run is recorded into
    ``fork_path`` (default ``<name>.whatifN.cassette``, N the first step
    overridden), for ``agentreplay.diff`` to compare with the original.
    ``break_at=N`` stops in pdb at the agent's line that issues step N;
    ``break_on_divergence`` where it diverges. ``order_timeout`` is how long
    (seconds) a thread may wait for its recorded turn before the replay diverges
    (docs/recording.md, "Time and order").
    """
    options = ReplayOptions(
        pace=pace,
        live_after=live_after,
        fork_path=fork_path,
        overrides=dict(overrides or {}),
        break_at=break_at,
        break_on_divergence=break_on_divergence,
    )
    return debug_replay(
        path, options, strict=strict, matcher=matcher, redact=redact, order_timeout=order_timeout
    )


# -- @entrypoint -------------------------------------------------------------------


def _describe(func: Callable[..., Any]) -> dict[str, Any]:
    module = func.__module__
    header: dict[str, Any] = {"entrypoint": f"{module}:{func.__qualname__}"}
    main = sys.modules.get(module)
    filename = getattr(main, "__file__", None)
    if filename:
        header["entrypoint_file"] = os.path.abspath(filename)
    header["cwd"] = os.getcwd()
    return header


def _session(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cassette: str | None,
    options: dict[str, Any],
) -> Session | None:
    try:
        mode = Mode.parse(os.environ.get("AGENTREPLAY_MODE") or "off")
    except UsageError as exc:
        raise UsageError(f"AGENTREPLAY_MODE: {exc}") from None
    if mode is Mode.OFF:
        return _captured(func, args, kwargs, options)
    template = cassette or os.environ.get("AGENTREPLAY_CASSETTE") or DEFAULT_CASSETTE
    if mode is Mode.RECORD:
        header = _describe(func)
        header["args"] = to_plain_or_none([list(args), kwargs])
        header["env"] = kept_env(os.environ.get(ENV_NAMES, "").split(","))
        header["run_id"] = new_run_id()
        path = cassette_path(template, header["run_id"])
        if path.is_dir():
            raise UsageError(f"AGENTREPLAY_CASSETTE: {path} is a directory; name a file in it")
        return Recording(path, header=header, **options)
    if "{" in template:
        problem = (
            "it is not set"
            if template == DEFAULT_CASSETTE
            else f"{template} is a template for new recordings"
        )
        raise UsageError(
            "AGENTREPLAY_MODE=replay needs AGENTREPLAY_CASSETTE (or cassette=) "
            f"to name the cassette to replay; {problem}"
        )
    if not os.path.isfile(template):
        raise CassetteError(
            f"AGENTREPLAY_MODE=replay: no cassette at {template} (AGENTREPLAY_CASSETTE names "
            f"the cassette to replay)"
        )
    set_placeholder_keys(os.environ)
    _restore_env(template)
    given = ReplayOptions.from_env(os.environ.get(OPTIONS_ENV))  # from `agentreplay replay`
    chosen = {k: v for k, v in options.items() if k in _OPTION_FIELDS}
    others = {k: v for k, v in options.items() if k not in _OPTION_FIELDS}
    return debug_replay(template, dataclasses.replace(given, **chosen), **others)


_OPTION_FIELDS = frozenset(field.name for field in dataclasses.fields(ReplayOptions))


def _captured(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any]
) -> Session | None:
    """The call as a run of production capture, when capture is on (docs/capture.md)."""
    if capture.current() is None:
        return None
    header = _describe(func)
    header["args"] = to_plain_or_none([list(args), kwargs])
    try:
        header["env"] = kept_env(os.environ.get(ENV_NAMES, "").split(","))
    except UsageError:  # a secret-looking name: capture keeps none of them, and says nothing
        header["env"] = kept_env([])
    metadata = options.get("metadata")
    return capture.new_run("entrypoint", func.__qualname__, metadata, header)


_restored: set[str] = set()  # cassettes whose environment this process has set before


def prepare_script_replay() -> None:
    """``AGENTREPLAY_MODE=replay`` for a script (``python agent.py``): set the variables
    its cassette kept (and start again under its string hash seed) when agentreplay is
    first imported, before the script's own module-level code reads them, as `agentreplay
    replay` does before it starts a script. A mistake is left for the call to report."""
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None) is None or os.environ.get("PYTEST_CURRENT_TEST"):
        return  # an interactive session, a test run, an embedding program
    template = os.environ.get("AGENTREPLAY_CASSETTE") or ""
    if "{" in template or not os.path.isfile(template):
        return
    with contextlib.suppress(AgentReplayError):
        _restore_env(template)


def _restore_env(path: str) -> None:
    """Set the variables the recording kept, as `agentreplay replay` does: the function
    reads them when called, and must ask for the same addresses as when recorded. A
    script recorded under another string hash seed starts again under that one."""
    if not os.path.exists(path) or os.path.abspath(path) in _restored:
        return  # Replay reports the missing cassette
    with open_reader(path) as cassette:
        env, refused = applicable_env(cassette.header.get("env"))
        seed = cassette.header.get("pythonhashseed")
    _restart_with_seed(seed)  # before the kept PYTHONHASHSEED is put in the environment
    warned = os.path.abspath(path) in _restored  # on import, then at the call: warn once
    _restored.add(os.path.abspath(path))
    for name in [] if warned else refused:
        print(
            f"agentreplay: warning: the cassette sets {name}, which can make a program "
            f"load other code; not applied",
            file=sys.stderr,
        )
    os.environ.update(env)


def _restart_with_seed(seed: object) -> None:
    """Run this script again from the start with the recorded ``PYTHONHASHSEED``: the
    order of sets of strings depends on it, and it is fixed when the interpreter
    starts. Only a script run as ``python script.py`` can be started again."""
    if not isinstance(seed, str) or not seed.isdigit():
        return
    if os.environ.get("PYTHONHASHSEED") == seed:
        return
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None) is None or os.environ.get("PYTEST_CURRENT_TEST"):
        return  # an interactive session, a test run, an embedding program: leave it
    print(f"agentreplay: starting again with PYTHONHASHSEED={seed}, as recorded", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(
        sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, "PYTHONHASHSEED": seed}
    )


def _begin(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cassette: str | None,
    options: dict[str, Any],
) -> Session | None:
    """The session for this call. A mistake in the environment raises; when the function
    is the running script's own (``__main__``), it ends the program with one line
    instead, as the command line does (2: a setting; 3: the cassette)."""
    try:
        return _session(func, args, kwargs, cassette, options)
    except AgentReplayError as exc:
        if func.__module__ != "__main__":
            raise
        print(f"agentreplay: error: {exc}", file=sys.stderr)
        raise SystemExit(3 if isinstance(exc, CassetteError) else 2) from None


def _unstarted(func: Callable[..., Any], session: Session, exc: AgentReplayError) -> None:
    """A session that could not start (a cassette that cannot be written): for the
    running script's own function, one line and exit 2, as `_begin` does."""
    if session.started or func.__module__ != "__main__":
        return
    print(f"agentreplay: error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None


def _report(session: Session) -> None:
    if session.scoped or not session.started:
        return  # captured: production capture reports through its stats, never on stderr
    if not isinstance(session, Replay):
        replaced = (
            " (over the cassette that was there: {run_id} or {timestamp} in "
            "AGENTREPLAY_CASSETTE keeps each run)"
            if getattr(session, "replaced", False)
            else ""
        )
        print(f"agentreplay: recorded {session.path}{replaced}", file=sys.stderr)
        if session.unrecorded:
            print(f"agentreplay: warning: {fmt.unrecorded(session.unrecorded)}", file=sys.stderr)
        return
    verdict = Verdict.of(session)
    if verdict is None:
        return
    result_file = os.environ.get(RESULT_ENV)
    if result_file:  # started by `agentreplay replay`, which reports the verdict itself
        verdict.write(result_file)
    else:
        print(f"agentreplay: {verdict.summary}", file=sys.stderr)


@overload
def entrypoint(func: F, /) -> F: ...
@overload
def entrypoint(*, cassette: str | None = None, **options: Any) -> Callable[[F], F]: ...


def entrypoint(func: F | None = None, /, *, cassette: str | None = None, **options: Any) -> Any:
    """Mark the agent's main function (sync or async); the environment picks the mode.

    ``cassette`` overrides AGENTREPLAY_CASSETTE; other keyword arguments go to
    `record()` or `replay()` (``redact=...``, ``metadata=...``).
    """

    def decorate(target: F) -> F:
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            async def async_main(*args: Any, **kwargs: Any) -> Any:
                session = _begin(target, args, kwargs, cassette, options)
                if session is None:
                    return await target(*args, **kwargs)
                try:
                    return await session(target)(*args, **kwargs)
                except AgentReplayError as exc:
                    _unstarted(target, session, exc)
                    raise
                finally:
                    _report(session)

            return async_main  # type: ignore[return-value]

        @functools.wraps(target)
        def main(*args: Any, **kwargs: Any) -> Any:
            session = _begin(target, args, kwargs, cassette, options)
            if session is None:
                return target(*args, **kwargs)
            try:
                return session(target)(*args, **kwargs)
            except AgentReplayError as exc:
                _unstarted(target, session, exc)
                raise
            finally:
                _report(session)

        return main  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate
