"""Virtual time on replay: sleeps, timeouts and backoff without the waiting.

A replayed run answers every call from memory, so what is left of its
duration is waiting: ``time.sleep``, ``asyncio.sleep``, ``wait_for``, the
SDKs' retry backoff, and the recorded latency of each answer. During replay
(and only for the run's own tasks):

- ``time.sleep(d)`` waits ``d / pace`` (no time at all when instant);
- an asyncio loop the run uses gets a virtual clock: ``loop.time()`` moves
  only when the loop waits. When it has nothing to do but wait for its next
  timer, the clock jumps to it instead (or the loop waits ``1 / pace`` of the
  interval). Every asyncio and anyio timer, timeout and sleep goes through
  ``loop.time()``, so all of them follow, and the loop's own code takes no
  virtual time: a replay is never later than its recording, whatever the
  machine is doing.

The loop waits for real while executor jobs started by the run are still
working, with its clock stopped (up to `FREEZE` real seconds), so a timeout
cannot fire ahead of work that is really happening, and a loaded machine does
not make the replay late. A job is working from its submission until the loop
has its result, except while it waits for its recorded turn
(`agentreplay.runtime.tasks.jobs_in_flight`). When a replay goes live (a fork), the clock moves in
real time again from the instant it had reached.
"""

from __future__ import annotations

import asyncio
import operator
import time
from typing import Any, SupportsIndex

from agentreplay.runtime import escape
from agentreplay.runtime.contract import ActiveSession
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import jobs_in_flight

__all__ = ["VirtualTimeInterceptor"]

_INF = float("inf")
FREEZE = 0.5
"""Real seconds the loop's clock stays stopped while the run's executor jobs work."""
_FREEZE_STEP = 0.02
_TICK = 1e-9
"""Virtual seconds each reading of a loop's clock moves it on: the loop's code takes no
time, but timers set one after another with the same delay still fall due in the order
they were set, as on a real clock (a heap does not keep equal deadlines in order)."""


class _VirtualSelector:
    """Wraps a loop's selector: a wait with nothing ready becomes a jump in time."""

    def __init__(self, real: Any, clock: _LoopClock) -> None:
        self._real = real
        self._clock = clock

    def select(self, timeout: float | None = None) -> Any:
        clock = self._clock
        if not clock.virtual():
            return self._real.select(timeout)
        if timeout is not None and timeout <= 0:
            return self._real.select(0)
        events = self._real.select(0)
        if events:
            return events
        if timeout is None:  # no timer: wait for a thread's wake-up; time stands still
            return self._real.select(None)
        if jobs_in_flight(clock.session) > 0:
            return self._busy(timeout)
        clock.busy = 0.0
        pace = clock.session.pace
        if pace == _INF:
            clock.now += timeout  # nothing to do before the next timer: go there
            return []
        start = escape.monotonic()
        events = self._real.select(timeout / pace)  # at the pace asked for
        clock.now += (escape.monotonic() - start) * pace if events else timeout
        return events

    def _busy(self, timeout: float) -> Any:
        """Executor jobs of the run are working (they run for real, at the machine's
        speed): the loop waits for them with its clock stopped, so a slow machine
        does not make the replay late. A job still running after `FREEZE` real
        seconds may be waiting for the loop itself: then time moves as waited."""
        clock = self._clock
        start = escape.monotonic()
        events = self._real.select(min(timeout, _FREEZE_STEP))
        waited = escape.monotonic() - start
        clock.busy += waited
        if clock.busy > FREEZE:
            clock.now += waited
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _LoopClock:
    """The virtual clock of one event loop during one replay."""

    __slots__ = ("busy", "loop", "now", "offset", "selector", "session")

    def __init__(self, loop: Any, session: ActiveSession, real_now: float) -> None:
        self.loop = loop
        self.session = session
        self.now = real_now
        self.busy = 0.0  # real seconds waited for executor jobs, the clock stopped
        self.offset: float | None = None  # real -> loop time, once the replay went live
        self.selector = loop._selector
        loop._selector = _VirtualSelector(self.selector, self)

    def virtual(self) -> bool:
        return self.offset is None and self.session.virtual_time and self.session.running

    def time(self, real_now: float) -> float:
        if self.offset is None:
            # Virtual while its replay runs; once it went live or ended (the loop may
            # outlive it, as may the hooks, held by another session), real time again.
            if self.session.virtual_time and self.session.running:
                now = self.now
                self.now = now + _TICK
                return now
            self.offset = self.now - real_now  # went live: real time from this instant on
        return real_now + self.offset

    def restore(self) -> None:
        if isinstance(self.loop._selector, _VirtualSelector):
            self.loop._selector = self.selector


_loops: dict[int, _LoopClock] = {}


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
                if delay > 0 and factor != _INF:
                    original_sleep(delay / factor)
                return
            original_sleep(seconds)

        def loop_time(loop: asyncio.BaseEventLoop) -> float:
            real_now = original_loop_time(loop)
            clock = _loops.get(id(loop))
            if clock is None or clock.loop is not loop:
                session = active_session()
                if (
                    session is None
                    or not session.virtual_time
                    or session.run_task() is None
                    or not hasattr(loop, "_selector")
                ):
                    return real_now
                clock = _loops[id(loop)] = _LoopClock(loop, session, real_now)
            return clock.time(real_now)

        time.sleep = sleep
        asyncio.BaseEventLoop.time = loop_time  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        time.sleep = self._saved["sleep"]
        asyncio.BaseEventLoop.time = self._saved["loop_time"]  # type: ignore[method-assign]
        for clock in _loops.values():
            clock.restore()
        _loops.clear()
