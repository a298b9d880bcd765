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
    "PLACEHOLDER_KEYS",
    "cassette_path",
    "kept_env",
    "set_placeholder_keys",
]

DEFAULT_CASSETTE = "runs/{timestamp}-{run_id}.cassette"
PLACEHOLDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
"""The SDKs refuse to start without a key; a replay sends nothing, so any will do."""
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
    return {name: os.environ[name] for name in (*ENV_ALLOW, *extra) if name in os.environ}


def set_placeholder_keys(env: dict[str, str] | os._Environ[str]) -> None:
    """Give the SDKs the key they insist on, where none is set."""
    for name in PLACEHOLDER_KEYS:
        env.setdefault(name, "replay-needs-no-key")


def cassette_path(template: str) -> Path:
    """Fill ``{timestamp}`` (UTC, sortable) and ``{run_id}`` (random) in a path template."""
    now = datetime.fromtimestamp(escape.time_ns() / 1e9, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run_id = uuid.UUID(bytes=escape.urandom(16)).hex[:12]
    try:
        return Path(template.format(timestamp=now, run_id=run_id))
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"bad cassette path template {template!r}: only {{timestamp}} and "
            f"{{run_id}} can be filled in"
        ) from exc
