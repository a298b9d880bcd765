"""``@agentreplay.entrypoint``: record or replay a program's main function, by environment.

    AGENTREPLAY_MODE=off|record|replay     (default off: no patching, one env lookup)
    AGENTREPLAY_CASSETTE=runs/{timestamp}-{run_id}.cassette
    AGENTREPLAY_ENV=OPENAI_BASE_URL,TOOLS_URL  (variables to keep, never secrets)

The same code therefore records in staging, replays on a laptop and does
nothing by default. The cassette's header keeps the function's import path
and its arguments (when msgpack can hold them), so ``agentreplay replay FILE``
can call it again without any code being written.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

from agentreplay.errors import UsageError
from agentreplay.intercept.values import to_plain_or_none
from agentreplay.session.core import Mode, Session
from agentreplay.session.outcome import RESULT_ENV, write_result

__all__ = ["DEFAULT_CASSETTE", "ENV_ALLOW", "ENV_NAMES", "cassette_path", "entrypoint", "kept_env"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CASSETTE = "runs/{timestamp}-{run_id}.cassette"
_urandom = os.urandom


def cassette_path(template: str) -> Path:
    """Fill ``{timestamp}`` (UTC, sortable) and ``{run_id}`` (random) in a path template."""
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run_id = uuid.UUID(bytes=_urandom(16)).hex[:12]
    try:
        return Path(template.format(timestamp=now, run_id=run_id))
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"bad cassette path template {template!r}: only {{timestamp}} and "
            f"{{run_id}} can be filled in"
        ) from exc


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
    mode = Mode.parse(os.environ.get("AGENTREPLAY_MODE") or "off")
    if mode is Mode.OFF:
        return None
    template = cassette or os.environ.get("AGENTREPLAY_CASSETTE") or DEFAULT_CASSETTE
    if mode is Mode.RECORD:
        from agentreplay.session.recording import Recording

        header = _describe(func)
        header["args"] = to_plain_or_none([list(args), kwargs])
        header["env"] = kept_env(os.environ.get(ENV_NAMES, "").split(","))
        return Recording(cassette_path(template), header=header, **options)
    from agentreplay.session.replaying import Replay

    if "{" in template:
        raise UsageError(
            "AGENTREPLAY_MODE=replay needs AGENTREPLAY_CASSETTE (or cassette=) "
            "to name one cassette, not a template"
        )
    for name in PLACEHOLDER_KEYS:  # the SDKs insist on a key; replay sends nothing
        os.environ.setdefault(name, "replay-needs-no-key")
    _restore_env(template)
    extra = json.loads(os.environ.get(OPTIONS_ENV) or "{}")  # from `agentreplay replay`
    extra["overrides"] = {int(k): v for k, v in (extra.get("overrides") or {}).items()}
    return Replay(template, **{**extra, **options})


PLACEHOLDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
ENV_ALLOW = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "PYTHONUTF8")
"""Environment variables every entrypoint or script cassette keeps (secrets never are)."""
ENV_NAMES = "AGENTREPLAY_ENV"
"""Comma-separated names of more variables for a recording to keep (never secrets)."""


_SECRET_WORDS = frozenset(
    {"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS"}
)


def kept_env(names: list[str]) -> dict[str, str]:
    """The variables a cassette keeps: `ENV_ALLOW` and ``names``, those that are set.
    A name that reads like a secret (``OPENAI_API_KEY``, ``GITHUB_TOKEN``) is refused:
    cassettes are shared, and a replay needs no key."""
    extra = [name.strip() for name in names if name.strip()]
    for name in extra:
        if _SECRET_WORDS & set(name.upper().replace("-", "_").split("_")):
            raise UsageError(
                f"{name} looks like a secret, and a cassette never keeps secrets (a replay "
                f"needs no key); keep only addresses and settings"
            )
    return {name: os.environ[name] for name in (*ENV_ALLOW, *extra) if name in os.environ}


def _restore_env(path: str) -> None:
    """Set the variables the recording kept, as `agentreplay replay` does: the function
    reads them when called, and must ask for the same addresses as when recorded."""
    from agentreplay.cassette.reader import open_cassette

    if not os.path.exists(path):
        return  # Replay reports the missing cassette
    with open_cassette(path) as cassette:
        env = cassette.header.get("env")
    for name, value in (env if isinstance(env, dict) else {}).items():
        if isinstance(name, str) and isinstance(value, str):
            os.environ[name] = value


OPTIONS_ENV = "AGENTREPLAY_REPLAY_OPTIONS"


def _report(session: Session) -> None:
    result = getattr(session, "result", None)
    if result is None:
        print(f"agentreplay: recorded {session.path}", file=sys.stderr)
        return
    result_file = os.environ.get(RESULT_ENV)
    if result_file:  # started by `agentreplay replay`, which reports the verdict itself
        write_result(result_file, session)
    else:
        print(f"agentreplay: {result}", file=sys.stderr)


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
                session = _session(target, args, kwargs, cassette, options)
                if session is None:
                    return await target(*args, **kwargs)
                try:
                    return await session(target)(*args, **kwargs)
                finally:
                    _report(session)

            return async_main  # type: ignore[return-value]

        @functools.wraps(target)
        def main(*args: Any, **kwargs: Any) -> Any:
            session = _session(target, args, kwargs, cassette, options)
            if session is None:
                return target(*args, **kwargs)
            try:
                return session(target)(*args, **kwargs)
            finally:
                _report(session)

        return main  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate
