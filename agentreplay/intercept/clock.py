"""The clock: wall-clock reads, and monotonic/perf_counter reads by agent code.

Wall clock. time-machine swaps the C function pointers of ``time.time``,
``time.time_ns``, ``datetime.now``/``utcnow``, ``date.today`` (and gmtime,
localtime, strftime, clock_gettime) for helpers that ask the top of
``time_machine.traveller_stack`` for ``time_ns()``. We start a travel with
time-machine's own API (so it patches, and later unpatches, as it always
does) and put our hook in the place of its traveller. Names bound before
recording started (``from time import time``) are therefore covered, no
module is scanned, and a read costs one Python method call. A
``time_machine.travel`` started inside a session goes on top of ours and
wins; one started before it is what we read through to, and stopping it
inside the session stops it, not us.

This leans on two things time-machine does not document: the
``traveller_stack`` list and the duck type of its entries (``time_ns()``,
``_stop()``). They are pinned by the supported versions (time-machine 3.x)
and checked when the hook is made, with a clear error if they change.

Monotonic clocks are read by asyncio and HTTP pools constantly and
differently on record and replay, so only reads made by agent code are
recorded; those hooks replace the ``time`` module's attributes. freezegun
keeps the functions it found at import (``real_monotonic``...) and puts them
back when a ``freeze_time`` block ends: for the session, those are our hooks,
so a freeze that ends inside a run leaves the run's clock hooked.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Final

import time_machine

from agentreplay.errors import UsageError
from agentreplay.runtime import escape
from agentreplay.runtime.callers import Origin, importing, origin_of_caller
from agentreplay.runtime.callers import _cache as _origins
from agentreplay.runtime.tasks import TaskState, current_task

__all__ = ["ClockInterceptor"]

_getframe = sys._getframe
_time_ns = escape.time_ns
# Enum members looked up once: ``Origin.AGENT`` costs a class-attribute lookup per read.
_MACHINERY: Final = Origin.MACHINERY
_LIBRARY: Final = Origin.LIBRARY
_AGENT: Final = Origin.AGENT


def _caller(agent_only: bool) -> tuple[TaskState | None, Origin]:
    """The run's task (or None) and the origin of whoever called the clock (frame 2),
    for a read recorded from library and agent code, or from agent code only.

    Written for speed: the common callers (asyncio, an HTTP pool, an SDK timing its
    request) are told apart by one dictionary lookup before the task is looked at.
    """
    filename = sys._getframe(2).f_code.co_filename
    origin = _origins.get(filename)
    if origin is _MACHINERY or (agent_only and origin is _LIBRARY):
        return None, origin
    state = current_task()
    if state is None or state.quiet:
        return None, _MACHINERY
    # "<string>": code made with exec() (a dataclass __init__ whose default_factory is
    # time.perf_counter_ns) acts for its caller, which origin_of_caller finds.
    if origin is not _AGENT or filename == "<string>" or getattr(importing, "depth", 0) > 0:
        origin = origin_of_caller(2)  # library code, or a first import: look closer
    return state, origin


class _WallClock:
    """Stands on time-machine's traveller stack; every wall-clock read comes here."""

    def __init__(self, stack: list[Any]) -> None:
        self._stack = stack
        self.leaving = False

    def _live(self) -> int:
        """The time below us: a travel started before the session, or the real clock."""
        stack = self._stack
        if stack and stack[0] is self:  # the common case: no travel started before the session
            return _time_ns()
        try:
            position = stack.index(self)
        except ValueError:
            position = len(stack)
        if position == 0:
            return _time_ns()
        return stack[position - 1].time_ns()  # type: ignore[no-any-return]

    def time_ns(self) -> int:
        # Machinery (an HTTP pool, cookiejar, logging) leaves at the first lookup.
        if _origins.get(_getframe(1).f_code.co_filename) is _MACHINERY:
            return self._live()
        task, origin = _caller(False)
        if task is None or origin < _LIBRARY:
            return self._live()
        return task.owner.clock(task, "wall", self._live)  # type: ignore[no-any-return]

    def _stop(self) -> None:
        """time-machine's ``travel.stop()`` pops the top of the stack and calls this.
        Unless we are leaving, the travel being stopped is one started before the
        session, which is now just below us: stop that one and stay on the stack."""
        if self.leaving:
            return
        stack = self._stack
        if stack:
            stack.pop()._stop()
        stack.append(self)


def _agent_clock(kind: str, original: Any) -> Any:
    def read() -> Any:
        # asyncio, HTTP pools and SDK timers leave at the first lookup.
        origin = _origins.get(_getframe(1).f_code.co_filename)
        if origin is _MACHINERY or origin is _LIBRARY:
            return original()
        task, origin = _caller(True)
        if task is None or origin is not _AGENT:
            return original()
        return task.owner.clock(task, kind, original)

    read.__name__ = original.__name__
    read.__doc__ = original.__doc__
    return read


_AGENT_CLOCKS: Final = ("monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")


class ClockInterceptor:
    def __init__(self) -> None:
        stack = getattr(time_machine, "traveller_stack", None)
        if not isinstance(stack, list) or not hasattr(time_machine, "travel"):
            raise UsageError(
                f"agentreplay's clock hook needs time-machine 3.x; this one "
                f"({getattr(time_machine, '__version__', 'unknown version')}) has no "
                f"traveller stack: pip install 'time-machine>=3.4,<4'"
            )
        self._stack: list[Any] = stack
        self._hook = _WallClock(stack)
        self._saved: dict[str, Any] = {}
        self._hooks: dict[str, Any] = {}

    def install(self) -> None:
        # time-machine patches the C functions when its first travel starts; start
        # one through its API and stand in the place of its traveller.
        traveller = time_machine.travel(0, tick=False).start()
        self._stack[self._stack.index(traveller)] = self._hook
        self._hook.leaving = False
        hooks = {}
        for name in _AGENT_CLOCKS:
            original = getattr(time, name)
            self._saved[name] = original
            hooks[name] = _agent_clock(name, original)
            setattr(time, name, hooks[name])
        self._hooks = hooks
        freezegun = sys.modules.get("freezegun.api")
        if freezegun is not None:
            for name, hook in hooks.items():
                if getattr(freezegun, f"real_{name}", None) is self._saved[name]:
                    setattr(freezegun, f"real_{name}", hook)

    def uninstall(self) -> None:
        for name, original in self._saved.items():
            setattr(time, name, original)
        # freezegun, imported before or during the session, keeps no hook of ours.
        freezegun = sys.modules.get("freezegun.api")
        if freezegun is not None:
            for name, hook in self._hooks.items():
                if getattr(freezegun, f"real_{name}", None) is hook:
                    setattr(freezegun, f"real_{name}", self._saved[name])
        self._saved.clear()
        self._hooks = {}
        stack, hook = self._stack, self._hook
        hook.leaving = True
        if stack and stack[-1] is hook:
            # Stopped the way time-machine stops a travel: it unpatches when none is left.
            time_machine.travel(0).stop()
        elif hook in stack:
            stack.remove(hook)  # a travel started inside the session is still going
