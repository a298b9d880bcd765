"""First imports: what a module does while it is first imported is not the run's.

A module reads the clock or draws random bytes at import time once per
process: in a recording made in a fresh process it happens inside the run,
and on replay in a process that already imported it, it does not. Such reads
are therefore left alone. CPython's import machinery calls
``importlib._bootstrap._find_and_load`` exactly when a module is not loaded
yet, through an attribute lookup, so wrapping that function marks the span.
Each module it loads is also handed to the clock hook, which gives machinery
its stand-in ``time`` module (see `agentreplay.intercept.clock`).
"""

from __future__ import annotations

import importlib._bootstrap as bootstrap
from typing import Any

from agentreplay.intercept.clock import adopt
from agentreplay.runtime.callers import importing

__all__ = ["ImportTracker"]


class ImportTracker:
    def __init__(self) -> None:
        self._original: Any = None

    def install(self) -> None:
        original = self._original = bootstrap._find_and_load  # type: ignore[attr-defined]

        def find_and_load(name: str, import_: Any) -> Any:
            importing.depth = getattr(importing, "depth", 0) + 1
            try:
                module = original(name, import_)
            finally:
                importing.depth -= 1
            adopt(module)
            return module

        bootstrap._find_and_load = find_and_load  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        bootstrap._find_and_load = self._original  # type: ignore[attr-defined]
