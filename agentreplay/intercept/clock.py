"""The clock: wall-clock reads, and monotonic/perf_counter reads by agent code.

Wall clock. time-machine swaps the C function pointers of ``time.time``,
``time.time_ns``, ``datetime.now``/``utcnow``, ``date.today`` (and gmtime,
localtime, strftime, clock_gettime) for helpers that ask the top of
``time_machine.traveller_stack`` for ``time_ns()``. We put our own object on
that stack. Names bound before recording started (``from time import time``)
are therefore covered, no module is scanned, and a read costs one Python
method call. A ``time_machine.travel`` started inside a session goes on top
of ours and wins; one started before it is what we read through to.

Monotonic clocks are read by asyncio and HTTP pools constantly and
differently on record and replay, so only reads made by agent code are
recorded; those hooks replace the ``time`` module's attributes.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, cast

from agentreplay.session.callers import Origin, origin_of_caller
from agentreplay.session.callers import _cache as _origins
from agentreplay.session.core import active_session

if TYPE_CHECKING:
    from time_machine import Traveller

__all__ = ["ClockInterceptor"]

_orig_monotonic = time.monotonic
_orig_monotonic_ns = time.monotonic_ns
_orig_perf_counter = time.perf_counter
_orig_perf_counter_ns = time.perf_counter_ns


def _by_machinery() -> bool:
    """Fast answer for the most common caller, asyncio or an HTTP pool, before any
    lookup of the session or the task (frame 2: the caller of the hook)."""
    origin = _origins.get(sys._getframe(2).f_code.co_filename)
    return origin is Origin.MACHINERY


class _WallClock:
    """Sits on time-machine's traveller stack; every wall-clock read comes here."""

    def __init__(self, stack: list[Any], original_time_ns: Any) -> None:
        self._stack = stack
        self._original = original_time_ns

    def _live(self) -> int:
        stack = self._stack
        try:
            below = stack[stack.index(self) - 1] if stack[0] is not self else None
        except ValueError:
            below = None
        return below.time_ns() if below is not None else self._original()  # type: ignore[no-any-return]

    def time_ns(self) -> int:
        session = active_session()
        if session is None or _by_machinery():
            return self._live()
        task = session.run_task()
        if task is None or origin_of_caller(1) < Origin.LIBRARY:
            return self._live()
        return session.clock(task, "wall", self._live)  # type: ignore[no-any-return]


def _agent_clock(kind: str, original: Any) -> Any:
    def read() -> Any:
        session = active_session()
        if session is None or _by_machinery():
            return original()
        task = session.run_task()
        if task is None or origin_of_caller(1) is not Origin.AGENT:
            return original()
        return session.clock(task, kind, original)

    read.__name__ = original.__name__
    read.__doc__ = original.__doc__
    return read


class ClockInterceptor:
    def __init__(self) -> None:
        import _time_machine
        import time_machine

        self._tm = time_machine
        self._ctm = _time_machine
        self._hook = _WallClock(time_machine.traveller_stack, _time_machine.original_time_ns)
        self._saved: dict[str, Any] = {}

    def _stack(self) -> list[Traveller | _WallClock]:
        """time-machine's traveller stack, which our hook shares with its travellers."""
        return cast("list[Traveller | _WallClock]", self._tm.traveller_stack)

    def install(self) -> None:
        stack = self._stack()
        if not stack:
            self._ctm.patch()
            # original_time_ns only works while patched; rebind now that it is.
        stack.append(self._hook)
        for name, kind in (
            ("monotonic", "monotonic"),
            ("monotonic_ns", "monotonic_ns"),
            ("perf_counter", "perf_counter"),
            ("perf_counter_ns", "perf_counter_ns"),
        ):
            original = getattr(time, name)
            self._saved[name] = original
            setattr(time, name, _agent_clock(kind, original))

    def uninstall(self) -> None:
        for name, original in self._saved.items():
            setattr(time, name, original)
        self._saved.clear()
        stack = self._stack()
        if self._hook in stack:
            stack.remove(self._hook)
        if not stack:
            self._ctm.unpatch()
