"""What of the environment a cassette keeps, and where a new cassette goes.

A replay must ask for the same addresses as the recording, so a cassette
keeps a few environment variables: an allow-list, plus the names the user
asks for (``agentreplay record --env NAME``, ``AGENTREPLAY_ENV``). It never
keeps a secret: a replay needs no key. A name that reads as secret is refused
(the list is `agentreplay.session.secrets`), and the recording takes
credentials out of the values it keeps (``postgres://user:[REDACTED]@db``).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from agentreplay.errors import UsageError
from agentreplay.runtime import escape
from agentreplay.session.secrets import is_secret_name

__all__ = [
    "DEFAULT_CASSETTE",
    "ENV_ALLOW",
    "ENV_NAMES",
    "PLACEHOLDER",
    "PLACEHOLDER_KEYS",
    "applicable_env",
    "cassette_path",
    "kept_env",
    "set_placeholder_keys",
]

DEFAULT_CASSETTE = "runs/{timestamp}-{run_id}.cassette"
PLACEHOLDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
"""The SDKs refuse to start without a key; a replay sends nothing, so any will do."""
PLACEHOLDER = "replay-needs-no-key"
ENV_ALLOW = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "PYTHONUTF8")
"""Environment variables every entrypoint or script cassette keeps (secrets never are)."""
ENV_NAMES = "AGENTREPLAY_ENV"
"""Comma-separated names of more variables for a recording to keep (never secrets)."""


def kept_env(names: list[str]) -> dict[str, str]:
    """The variables a cassette keeps: `ENV_ALLOW` and ``names``, those that are set.
    A name that reads like a secret (``OPENAI_API_KEY``, ``GITHUB_TOKEN``) is refused:
    cassettes are shared, and a replay needs no key."""
    extra = [name.strip() for name in names if name.strip()]
    for name in extra:
        if is_secret_name(name):
            raise UsageError(
                f"{name} looks like a secret, and a cassette never keeps secrets (a replay "
                f"needs no key); keep only addresses and settings"
            )
    _, loads_code = applicable_env({name: "" for name in extra})
    if loads_code:
        raise UsageError(
            f"{loads_code[0]} can make a program load other code, so a replay never sets "
            f"it and a cassette does not keep it"
        )
    return {name: os.environ[name] for name in (*ENV_ALLOW, *extra) if name in os.environ}


_PYTHON_SAFE = frozenset({"PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING"})
_LOADS_CODE = frozenset(
    {
        "PATH",  # which programs a subprocess runs
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "PS4",
        "IFS",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYLIB",
        "RUBYOPT",
        "NODE_OPTIONS",
        "NODE_PATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "GCONV_PATH",
        "OPENSSL_CONF",
        "OPENSSL_ENGINES",
        "GIT_EXEC_PATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "BROWSER",
    }
)
_LOADS_CODE_PREFIXES = ("LD_", "DYLD_", "AGENTREPLAY_")


def applicable_env(recorded: object) -> tuple[dict[str, str], list[str]]:
    """The variables of a cassette's header that a replay sets, and the names it refuses.

    Only names kept at record time are in a header; of those, none that makes a
    program load or run other code (``PYTHONPATH``, ``PYTHONSTARTUP``, ``PYTHONHOME``,
    any other ``PYTHON*`` but the hash seed and encodings, ``LD_*``, ``DYLD_*``,
    ``PATH``, shell and other interpreters' start-up variables) nor agentreplay's own
    settings is ever applied: a header is data, and must not choose the code a
    replay runs."""
    applied: dict[str, str] = {}
    refused: list[str] = []
    for name, value in (recorded if isinstance(recorded, dict) else {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        upper = name.upper()
        if (
            upper in _LOADS_CODE
            or upper.startswith(_LOADS_CODE_PREFIXES)
            or (upper.startswith("PYTHON") and upper not in _PYTHON_SAFE)
            or not name.replace("_", "").isalnum()
        ):
            refused.append(name)
        else:
            applied[name] = value
    return applied, refused


def set_placeholder_keys(env: dict[str, str] | os._Environ[str]) -> None:
    """Give the SDKs the key they insist on, where none is set."""
    for name in PLACEHOLDER_KEYS:
        env.setdefault(name, PLACEHOLDER)


def new_run_id() -> str:
    """A run's id: 32 random hex digits (a version 4 UUID)."""
    return uuid.UUID(bytes=escape.urandom(16), version=4).hex


def cassette_path(template: str, run_id: str) -> Path:
    """Fill ``{timestamp}`` (UTC, sortable) and ``{run_id}`` in a path template; the
    name takes the first 12 digits of ``run_id``, the id the cassette's header holds."""
    now = datetime.fromtimestamp(escape.time_ns() / 1e9, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        return Path(template.format(timestamp=now, run_id=run_id[:12]))
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"bad cassette path template {template!r}: only {{timestamp}} and "
            f"{{run_id}} can be filled in"
        ) from exc
