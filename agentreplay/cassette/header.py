"""The fields of a cassette header that readers rely on, and their types.

A header is a free map (callers add keys), but the fields below are read by
`show`, `export`, replay and the debugger: each must have the type written
here, or the file is refused with `CassetteError` when it is opened, rather
than failing later in whatever reads the field.
"""

from __future__ import annotations

from typing import Any, Final

from agentreplay.errors import CassetteError

__all__ = ["check_header"]

_STR: Final = (str,)
_OPTIONAL_STR: Final = _STR
_INT: Final = (int,)

FIELDS: Final[dict[str, tuple[type, ...]]] = {
    "agentreplay": _STR,
    "mode": _STR,
    "run_id": _STR,
    "created": _STR,
    "created_ns": _INT,
    "python": _STR,
    "platform": _STR,
    "argv": (list,),
    "cwd": _STR,
    "pythonhashseed": _OPTIONAL_STR,
    "redaction": (dict,),
    "entrypoint": _OPTIONAL_STR,
    "entrypoint_file": _OPTIONAL_STR,
    "metadata": (dict,),
    "env": (dict,),
    "parent": (dict,),
    "imported": (dict,),
    "recorded": (list,),
    "script": (dict,),
}
"""Field -> the types it may have (a field may also be absent, or nil)."""


def _fail(name: str, problem: str) -> CassetteError:
    return CassetteError(f"header field {name!r} {problem}", offset=24)


def check_header(header: dict[str, Any]) -> dict[str, Any]:
    """``header`` itself if every field readers rely on has its type, else CassetteError."""
    for name, kinds in FIELDS.items():
        if name not in header:
            continue
        value = header[name]
        if value is not None and type(value) not in kinds:
            expected = " or ".join(k.__name__ for k in kinds)
            raise _fail(name, f"is a {type(value).__name__}, not {expected} (or nil)")
    argv = header.get("argv")
    if argv and not all(isinstance(a, str) for a in argv):
        raise _fail("argv", "holds something other than strings")
    env = header.get("env")
    if env and not all(isinstance(v, str) for v in (*env, *env.values())):
        raise _fail("env", "holds something other than names and values as strings")
    parent = header.get("parent")
    if parent:
        path, step = parent.get("path"), parent.get("step")
        if not isinstance(path, (str, type(None))) or type(step) not in (int, type(None)):
            raise _fail("parent", "does not name a path and a step number")
    return header
