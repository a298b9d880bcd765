"""Virtual time on replay: sleeps, timeouts and backoff without the waiting.

A replayed run answers every HTTP call at once, so what is left of its
duration is waiting: ``time.sleep``, ``asyncio.sleep``, ``wait_for`` and the
SDKs' retry backoff. During replay (and only for the run's own tasks):

- ``time.sleep(d)`` waits ``d / pace`` (no time at all when instant);
- an asyncio loop the run uses gets a virtual clock: ``loop.time()`` is the
  real monotonic clock plus an offset, and when the loop has nothing to do
  but wait for its next timer, the offset jumps forward instead (or the
  loop waits ``1 / pace`` of the interval). Every asyncio and anyio timer,
  timeout and sleep goes through ``loop.time()``, so all of them follow.

The loop waits for real while executor jobs started by the run are still
working, so a timeout cannot fire ahead of work that is really happening.
"""

from __future__ import annotations

import asyncio
import operator
import time
from typing import Any, SupportsIndex

from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import jobs_in_flight

__all__ = ["VirtualTimeInterceptor"]


class _VirtualSelector:
    """Wraps a loop's selector: a wait with nothing ready becomes a jump in time."""

    def __init__(self, real: Any, state: _LoopClock) -> None:
        self._real = real
        self._state = state

    def select(self, timeout: float | None = None) -> Any:
        factor = self._state.factor()
        if timeout is None or timeout <= 0 or factor <= 1.0:
            return self._real.select(timeout)
        events = self._real.select(0)
        if events or _busy():
            return events or self._real.select(timeout)
        wait = timeout / factor
        if wait > 0.0005:
            events = self._real.select(wait)
            if events:
                return events
        self._state.offset += timeout - wait
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _LoopClock:
    __slots__ = ("loop", "offset", "selector")

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self.offset = 0.0
        self.selector = loop._selector
        loop._selector = _VirtualSelector(self.selector, self)

    def factor(self) -> float:
        session = active_session()
        if session is None or not session.virtual_time:
            return 1.0
        return session.pace

    def restore(self) -> None:
        if isinstance(self.loop._selector, _VirtualSelector):
            self.loop._selector = self.selector


_loops: dict[int, _LoopClock] = {}


def _busy() -> bool:
    return jobs_in_flight() > 0


class VirtualTimeInterceptor:
    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        original_sleep = time.sleep
        original_loop_time = asyncio.BaseEventLoop.time
        self._saved = {"sleep": original_sleep, "loop_time": original_loop_time}

        def sleep(seconds: float | SupportsIndex, /) -> None:
            session = active_session()
            if session is not None and session.virtual_time and session.run_task() is not None:
                factor = session.pace
                # Like time.sleep: a float, or anything with __index__.
                delay = seconds if isinstance(seconds, float) else operator.index(seconds)
                if delay > 0 and factor != float("inf"):
                    original_sleep(delay / factor)
                return
            original_sleep(seconds)

        def loop_time(loop: asyncio.BaseEventLoop) -> float:
            clock = _loops.get(id(loop))
            if clock is None or clock.loop is not loop:
                session = active_session()
                if (
                    session is None
                    or not session.virtual_time
                    or session.run_task() is None
                    or not hasattr(loop, "_selector")
                ):
                    return original_loop_time(loop)
                clock = _loops[id(loop)] = _LoopClock(loop)
            return original_loop_time(loop) + clock.offset

        time.sleep = sleep
        asyncio.BaseEventLoop.time = loop_time  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        time.sleep = self._saved["sleep"]
        asyncio.BaseEventLoop.time = self._saved["loop_time"]  # type: ignore[method-assign]
        for clock in _loops.values():
            clock.restore()
        _loops.clear()
