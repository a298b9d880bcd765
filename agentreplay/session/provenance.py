"""Where a cassette was made: the mark that tells a replay "this came from here".

Replaying a cassette runs the program its header names. A cassette the user
made themselves runs what they ran; one made elsewhere (a colleague's, a CI
artefact, a file from a bug report) may name anything, so `agentreplay
replay` shows it and asks before running code from outside the working tree.

To tell the two apart, every recording stamps its header with ``origin``:
the host and user that made it, and a mark, an HMAC of what the header says
to run, keyed by a secret kept in the user's state directory
(``$XDG_STATE_HOME/agentreplay/origin.key``, mode 0600, made on first use).
Host and user alone could be copied into a crafted header; the mark can only
be made with the key, and only for these contents. A cassette with no mark,
a mark made with another key, or contents changed since, counts as made
elsewhere.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import socket
from pathlib import Path
from typing import Any, Final

from agentreplay.runtime import escape

__all__ = ["ORIGIN", "made_here", "origin_of", "stamp"]

ORIGIN: Final = "origin"
"""The header field: ``{"host", "user", "mark"}``."""

_MARKED: Final = (
    "run_id",
    "script",
    "entrypoint",
    "entrypoint_file",
    "args",
    "argv",
    "cwd",
    "env",
    "pythonhashseed",
)
"""The header fields that say what a replay runs, and how: the mark covers them."""


def _key_file() -> Path:
    # Production capture stamps every run: the path is worked out once per value of
    # the variables it depends on.
    given = (os.environ.get("XDG_STATE_HOME"), os.environ.get("HOME"))
    path = _key_files.get(given)
    if path is None:
        state = given[0] or os.path.join(os.path.expanduser("~"), ".local", "state")
        path = Path(state) / "agentreplay" / "origin.key"
        if len(_key_files) < 64:
            _key_files[given] = path
    return path


_key_files: dict[tuple[str | None, str | None], Path] = {}


_known: dict[Path, bytes] = {}
"""Keys read by this process, by file: production capture stamps every run it keeps."""


def _key(create: bool) -> bytes | None:
    path = _key_file()
    if path in _known:
        return _known[path]
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        if not create:
            return None
    else:
        _known[path] = key
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by another recording meanwhile
        return _key(create=False)
    except OSError:
        return None  # no writable home: the cassette will count as made elsewhere
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(escape.urandom(32).hex())
    return _key(create=False)


_USER_VARIABLES: Final = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""Where `getpass.getuser` looks first (then the password database, for the uid)."""

_users: dict[tuple[str | None, ...], str] = {}


def _user() -> str:
    given = tuple(os.environ.get(name) for name in _USER_VARIABLES)
    user = _users.get(given)
    if user is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a container)
            user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        if len(_users) < 64:
            _users[given] = user
    return user


def _identity() -> tuple[str, str]:
    return socket.gethostname(), _user()


def _digest(key: bytes, host: str, user: str, header: dict[str, Any]) -> str:
    covered = {name: header.get(name) for name in _MARKED}
    text = json.dumps([host, user, covered], sort_keys=True, default=_plain)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return repr(value)


def stamp(header: dict[str, Any]) -> dict[str, str]:
    """The ``origin`` of a header being written here (without a mark if no key can be
    kept)."""
    host, user = _identity()
    origin = {"host": host, "user": user}
    key = _key(create=True)
    if key is not None:
        origin["mark"] = _digest(key, host, user, header)
    return origin


def origin_of(header: dict[str, Any]) -> str:
    """Who made the cassette, as the header says (unchecked): ``"alice on ci-7"``."""
    origin = header.get(ORIGIN)
    if not isinstance(origin, dict):
        return "an unknown user on an unknown host"
    user, host = origin.get("user"), origin.get("host")
    user = user if isinstance(user, str) and user else "an unknown user"
    host = host if isinstance(host, str) and host else "an unknown host"
    return f"{user} on {host}"


def made_here(header: dict[str, Any]) -> bool:
    """The cassette was recorded by this user on this host, and says to run what it
    said when it was recorded."""
    origin = header.get(ORIGIN)
    mark = origin.get("mark") if isinstance(origin, dict) else None
    key = _key(create=False)
    if not isinstance(mark, str) or key is None:
        return False
    host, user = _identity()
    return hmac.compare_digest(mark, _digest(key, host, user, header))
