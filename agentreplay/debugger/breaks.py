"""Stopping in pdb at the agent's own line that issues a step.

The interceptor that notices step N is deep inside an SDK, so a plain
``breakpoint()`` would stop there. Instead pdb is shown the agent's frame
(the first frame outside library code), with its locals as the recording
made them; ``next`` and ``step`` carry on from there, skipping library code.

``PYTHONBREAKPOINT`` is respected: ``0`` disables breaking; another
debugger whose function takes the frame to stop in (``ipdb.set_trace`` and
the like take ``frame=``) is shown the agent's frame too; any other is
started through ``sys.breakpointhook()``.
"""

from __future__ import annotations

import bdb
import importlib
import inspect
import os
import pdb
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["break_into"]

_SKIP = [
    "agentreplay",
    "agentreplay.*",
    "httpx",
    "httpx.*",
    "httpx2",
    "httpx2.*",
    "httpcore*",
    "h11*",
    "h2*",
    "anyio*",
    "sniffio*",
    "openai",
    "openai.*",
    "anthropic",
    "anthropic.*",
    "pydantic*",
    "requests*",
    "urllib3*",
    "aiohttp*",
    "yarl*",
    "multidict*",
    "asyncio*",
    "concurrent*",
    "threading",
    "contextlib",
    "contextvars",
    "functools",
    "typing*",
    "json*",
    "selectors",
    "socket",
    "ssl",
    "http.*",
    "email.*",
    "importlib*",
    "_weakrefset",
]


def _hook(spec: str) -> Callable[..., Any] | None:
    """The ``PYTHONBREAKPOINT`` function, if it takes the frame to stop in (``frame=``)."""
    module, _, name = spec.rpartition(".")
    try:
        target = getattr(importlib.import_module(module or "builtins"), name)
        parameters = inspect.signature(target).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return None  # sys.breakpointhook() says what is wrong with it
    return target if "frame" in parameters else None


def break_into(frame: FrameType | None, banner: str) -> None:
    """Open pdb at ``frame`` (the agent's call site) after printing ``banner``."""
    hook = os.environ.get("PYTHONBREAKPOINT", "")
    if hook == "0":
        return
    print(banner, file=sys.stderr, flush=True)
    if hook not in ("", "pdb.set_trace") or frame is None:
        other = _hook(hook) if frame is not None else None
        if other is not None:
            other(frame=frame)  # ipdb's set_trace and the like: at the agent's frame
        else:
            sys.breakpointhook()
        return
    debugger = pdb.Pdb(skip=_SKIP)
    debugger.reset()
    outer: FrameType | None = frame
    while outer is not None:
        outer.f_trace = debugger.trace_dispatch
        debugger.botframe = outer
        outer = outer.f_back
    debugger.interaction(frame, None)
    if debugger.quitting:
        raise bdb.BdbQuit
    continuing = debugger.stopframe is debugger.botframe and debugger.stoplineno == -1
    if not continuing:
        sys.settrace(debugger.trace_dispatch)  # next/step go on from the agent's frame
