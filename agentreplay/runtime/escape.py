"""The real functions behind the hooks, bound before any hook is installed.

Like time-machine's ``escape_hatch``: agentreplay's own machinery (event
timestamps, replay's pacing, run ids and cassette names) must read the real
clock and the real entropy source while the hooks stand in for them. The
hooks themselves keep what they replaced and put it back when removed.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Final

__all__ = ["monotonic", "perf_counter_ns", "sleep", "time_ns", "urandom"]

sleep: Final = time.sleep
monotonic: Final = time.monotonic
perf_counter_ns: Final = time.perf_counter_ns
urandom: Final = os.urandom


_time_ns: Final = time.time_ns
_modules: Final = sys.modules


def time_ns() -> int:
    """The real wall clock, whatever time-machine (ours or the user's) is doing. Not
    imported here: it imports pytest, and what only reads cassettes never travels."""
    time_machine = _modules.get("time_machine")
    if time_machine is not None and time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time_ns()  # type: ignore[no-any-return]
    return _time_ns()
