"""The clock: wall-clock reads, and monotonic/perf_counter reads by agent code.

Wall clock. time-machine swaps the C function pointers of ``time.time``,
``time.time_ns``, ``datetime.now``/``utcnow``, ``date.today`` (and gmtime,
localtime, strftime, clock_gettime) for helpers that ask the top of
``time_machine.traveller_stack`` for ``time_ns()``. We start a travel with
time-machine's own API (so it patches, and later unpatches, as it always
does) and put our hook in the place of its traveller. Names bound before
recording started (``from time import time``) are therefore covered, and a
read costs one Python method call. A
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

Reads by machinery. An HTTP pool, cookiejar or the event loop reads the
clock several times per request, never recorded: the hooks above would only
tell who called and read the real clock, at several times its cost. So while
a session runs, the global ``time`` of every machinery module (found in
``sys.modules`` at the start, and as each module is first imported) names a
stand-in module whose clock functions read the real clock directly as long as
our hooks are what the ``time`` module holds and no travel is stacked with
ours; else they take the usual way, so a freeze or travel the user starts
inside the run still shows. Every other name is the ``time`` module's. A
library module gets a stand-in for the monotonic clocks alone, since its
wall-clock reads are recorded. A module left out (``from time import``, a
compiled module) reads through the hooks as before, only slower.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import sys
import threading
import time
import weakref
from types import BuiltinFunctionType, ModuleType
from typing import Any, Final

import _time_machine

from agentreplay.errors import UsageError
from agentreplay.runtime import escape
from agentreplay.runtime.callers import Origin, classify, importing, origin_of_caller
from agentreplay.runtime.callers import _cache as _origins
from agentreplay.runtime.tasks import TaskState, current_task


def _import_time_machine() -> ModuleType:
    """time-machine, imported. Its import also imports pytest, when pytest is installed,
    to define its fixture: 12 MB of memory and a third of a second in every recording
    process of a project that has pytest among its development dependencies. A program
    that has not imported pytest by its first recording has no use for that fixture, so
    then time-machine is imported as if pytest were not installed."""
    if "time_machine" in sys.modules or "pytest" in sys.modules:
        return importlib.import_module("time_machine")
    sys.modules["pytest"] = None  # type: ignore[assignment]  # import pytest: ImportError
    try:
        return importlib.import_module("time_machine")
    finally:
        if "pytest" in sys.modules and sys.modules["pytest"] is None:
            del sys.modules["pytest"]


time_machine: Final = _import_time_machine()

__all__ = ["ClockInterceptor", "adopt"]

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
_WALL_CLOCKS: Final = ("time", "time_ns")
_OWN_CLOCKS: Final = frozenset({"agentreplay", "time_machine", "freezegun"})
"""Packages that set the ``time`` module's attributes themselves: never given a stand-in."""


def _stand_in(clocks: dict[str, Any]) -> ModuleType:
    """What a machinery (or library) module's global ``time`` names during a session:
    a module with the given clock functions, and every other name (``sleep``,
    ``gmtime``, ``strftime``...) looked up on the ``time`` module at each use.

    A plain module, not a subclass: an attribute lookup on a subclass's instance
    costs a tenth of the read it would speed up."""
    module = ModuleType("time", time.__doc__)
    namespace = module.__dict__
    namespace.update(clocks)
    namespace["__getattr__"] = functools.partial(getattr, time)
    return module


def _quiet_agent_clock(name: str, hook: Any, original: Any) -> Any:
    """``time.<name>`` for code whose monotonic reads are never recorded: the real
    clock while our hook is in place; whatever replaced it (a freezegun block) else."""
    functions = time.__dict__

    def read() -> Any:
        if functions[name] is hook:
            return original()
        return getattr(time, name)()

    read.__name__ = name
    return read


def _quiet_wall_clock(name: str, real: Any, stack: list[Any], hook: _WallClock) -> Any:
    """``time.<name>`` for machinery: the real clock while our hook is the only
    traveller and the function is time-machine's patched one; else the usual path
    (a travel or a freeze started by the user), which never records machinery."""
    functions = time.__dict__
    patched = functions[name]
    alone = [hook]

    def read() -> Any:
        if stack == alone and functions[name] is patched:
            return real()
        return getattr(time, name)()

    read.__name__ = name
    return read


_adopting = threading.RLock()
_installed: ClockInterceptor | None = None


_readers: dict[int, weakref.ref[ModuleType]] = {}
_looked_at = 0


def _time_readers() -> list[ModuleType]:
    """The loaded modules whose global ``time`` is the ``time`` module.

    Looking through all of ``sys.modules`` at each session start would cost a
    large part of the start; so only the entries added since the last look are
    looked at, beside the readers found before. A module removed from
    ``sys.modules`` can hide as many added since from that count: those read
    through the hooks, only slower."""
    global _looked_at
    modules = sys.modules
    added = list(itertools.islice(modules.values(), _looked_at, None))
    _looked_at = len(modules)
    for module in added:
        if type(module) is ModuleType and module.__dict__.get("time") is time:
            _readers[id(module)] = weakref.ref(module)
    found = []
    for key, ref in list(_readers.items()):
        reader = ref()
        if reader is None:
            del _readers[key]
        else:
            found.append(reader)
    return found


def adopt(module: object) -> None:
    """Give a module first imported during a session its stand-in ``time``, if it is
    machinery or a library (`agentreplay.intercept.imports` calls this)."""
    if _installed is not None:
        with _adopting:
            if _installed is not None:
                _installed.adopt(module)


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
        self._stand_ins: dict[Origin, ModuleType] = {}
        self._adopted: list[dict[str, Any]] = []

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
        self._install_stand_ins()

    def _install_stand_ins(self) -> None:
        global _installed
        monotonic = {
            name: _quiet_agent_clock(name, self._hooks[name], self._saved[name])
            for name in self._hooks
        }
        wall = {}
        # The wall clock's shortcut needs time-machine's patched functions in place (not a
        # freeze started before the session) and its way to the functions they replaced.
        if all(
            isinstance(getattr(time, name), BuiltinFunctionType)
            and hasattr(_time_machine, f"original_{name}")
            for name in _WALL_CLOCKS
        ):
            wall = {
                name: _quiet_wall_clock(
                    name, getattr(_time_machine, f"original_{name}"), self._stack, self._hook
                )
                for name in _WALL_CLOCKS
            }
        self._stand_ins = {
            _MACHINERY: _stand_in({**monotonic, **wall}),
            _LIBRARY: _stand_in(monotonic),  # a library's wall-clock reads are recorded
        }
        with _adopting:
            for module in _time_readers():
                self.adopt(module)
            _installed = self

    def adopt(self, module: object) -> None:
        """Point the module's ``time`` at the stand-in for its origin, if it has one."""
        if type(module) is not ModuleType:  # a lazy module would load on any lookup
            return
        namespace = module.__dict__
        if namespace.get("time") is not time:
            return
        filename = namespace.get("__file__")
        if not isinstance(filename, str) or not filename.endswith(".py"):
            return
        if str(namespace.get("__name__")).partition(".")[0] in _OWN_CLOCKS:
            return
        stand_in = self._stand_ins.get(classify(filename))
        if stand_in is not None:
            namespace["time"] = stand_in
            self._adopted.append(namespace)

    def _uninstall_stand_ins(self) -> None:
        global _installed
        with _adopting:
            _installed = None
            stand_ins = list(self._stand_ins.values())
            for namespace in self._adopted:
                if namespace.get("time") in stand_ins:
                    namespace["time"] = time
            self._adopted.clear()

    def uninstall(self) -> None:
        self._uninstall_stand_ins()
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
