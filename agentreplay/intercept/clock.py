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
from typing import TYPE_CHECKING, Any, Final, cast

from agentreplay.session.callers import Origin, importing, origin_of_caller
from agentreplay.session.callers import _cache as _origins
from agentreplay.session.core import active_session
from agentreplay.session.tasks import current_task

if TYPE_CHECKING:
    from time_machine import Traveller

__all__ = ["ClockInterceptor"]

_orig_monotonic = time.monotonic
_orig_monotonic_ns = time.monotonic_ns
_orig_perf_counter = time.perf_counter
_orig_perf_counter_ns = time.perf_counter_ns


# Enum members looked up once: ``Origin.AGENT`` costs a class-attribute lookup per read.
_MACHINERY: Final = Origin.MACHINERY
_LIBRARY: Final = Origin.LIBRARY
_AGENT: Final = Origin.AGENT


def _caller(session: Any, agent_only: bool) -> tuple[Any, Origin]:
    """The run's task (or None) and the origin of whoever called the clock (frame 2),
    for a read recorded from library and agent code, or from agent code only.

    Written for speed: the common callers (asyncio, an HTTP pool, an SDK timing its
    request) are told apart by one dictionary lookup before the session or task is
    looked at.
    """
    origin = _origins.get(sys._getframe(2).f_code.co_filename)
    if origin is _MACHINERY or (agent_only and origin is _LIBRARY):
        return None, origin
    state = current_task()
    if state is None or state.owner is not session or state.quiet:
        return None, _MACHINERY
    if origin is not _AGENT or getattr(importing, "depth", 0) > 0:
        origin = origin_of_caller(2)  # library code, or a first import: look closer
    return state, origin


class _WallClock:
    """Sits on time-machine's traveller stack; every wall-clock read comes here."""

    def __init__(self, stack: list[Any], original_time_ns: Any) -> None:
        self._stack = stack
        self._original = original_time_ns

    def _live(self) -> int:
        stack = self._stack
        if stack and stack[0] is self:
            return self._original()  # type: ignore[no-any-return]
        try:
            below = stack[stack.index(self) - 1]
        except ValueError:
            return self._original()  # type: ignore[no-any-return]
        return below.time_ns()  # type: ignore[no-any-return]

    def time_ns(self) -> int:
        session = active_session()
        if session is None:
            return self._live()
        task, origin = _caller(session, False)
        if task is None or origin < _LIBRARY:
            return self._live()
        return session.clock(task, "wall", self._live)  # type: ignore[no-any-return]


def _agent_clock(kind: str, original: Any) -> Any:
    def read() -> Any:
        session = active_session()
        if session is None:
            return original()
        task, origin = _caller(session, True)
        if task is None or origin is not _AGENT:
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
