"""Logical task ids: which strand of the run produced an event.

The root of a run is task ``"0"``; the n-th asyncio task, thread or executor
job that task ``p`` starts is ``"p.n"`` (n from 1). Ids depend only on the
order in which each task starts its children, which is the same on record
and on replay, so replay can hand each task its own next event however the
scheduler interleaves them.

Tasks started by machinery (an HTTP pool's background task, an executor's
worker thread) do not take a number: they would exist on record and not on
replay, and shift the numbers of the agent's own tasks.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentreplay.session.callers import Origin, classify

__all__ = [
    "TaskState",
    "current_task",
    "install_task_hooks",
    "jobs_in_flight",
    "uninstall_task_hooks",
]


class TaskState:
    """One logical task: its id and its counters for events and children."""

    __slots__ = ("_children", "_seq", "id", "owner", "quiet", "random")

    def __init__(self, task_id: str, owner: object, *, quiet: bool = False) -> None:
        self.id = task_id
        self.owner = owner  # the session this id belongs to
        self.quiet = quiet  # inside a recorded tool body: nothing is recorded or replayed
        self.random: Any = None  # this task's stand-in for the global random, once used
        self._seq = itertools.count()
        self._children = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)

    def child(self, *, machinery: bool = False) -> TaskState:
        if machinery or self.quiet:
            # Shares nothing with the agent's numbering.
            return TaskState(f"{self.id}.~", self.owner, quiet=True)
        return TaskState(f"{self.id}.{next(self._children)}", self.owner)

    def __repr__(self) -> str:
        return f"<TaskState {self.id}>"


_current: contextvars.ContextVar[TaskState | None] = contextvars.ContextVar(
    "agentreplay_task", default=None
)


def current_task() -> TaskState | None:
    return _current.get()


def set_current_task(state: TaskState | None) -> contextvars.Token[TaskState | None]:
    return _current.set(state)


def reset_current_task(token: contextvars.Token[TaskState | None]) -> None:
    _current.reset(token)


def _is_machinery(func: Any) -> bool | None:
    """Is ``func`` (a function or coroutine) machinery's? None if it has no Python code
    (a builtin such as socket.getaddrinfo): then who starts it decides."""
    while isinstance(func, functools.partial):
        func = func.func
    code = getattr(func, "__code__", None) or getattr(func, "cr_code", None)
    if code is None:
        code = getattr(getattr(func, "__func__", None), "__code__", None)
    if code is None:
        return None
    return classify(code.co_filename) is Origin.MACHINERY


_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


def _created_by_machinery() -> bool:
    """Was the task being created started by machinery (not through asyncio on the
    agent's behalf, as gather, to_thread and wait_for do)?"""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_ASYNCIO_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    return frame is None or classify(frame.f_code.co_filename) is Origin.MACHINERY


# -- the hooks ------------------------------------------------------------------

_originals: dict[str, Any] = {}
_lock = threading.Lock()


def _patched_create_task(
    self: asyncio.AbstractEventLoop, coro: Any, *args: Any, **kwargs: Any
) -> Any:
    parent = _current.get()
    if parent is None:
        return _originals["create_task"](self, coro, *args, **kwargs)
    child = parent.child(machinery=_is_machinery(coro) is not False and _created_by_machinery())
    context = kwargs.get("context")
    if context is None:
        context = contextvars.copy_context()
    context.run(_current.set, child)
    kwargs["context"] = context
    return _originals["create_task"](self, coro, *args, **kwargs)


def _patched_thread_start(self: threading.Thread) -> None:
    parent = _current.get()
    if parent is not None:
        target = getattr(self, "_target", None)
        if target is None and type(self).run is not threading.Thread.run:
            target = type(self).run
        machinery = True if target is None else _is_machinery(target)
        self._agentreplay_task = parent.child(  # type: ignore[attr-defined]
            machinery=_created_by_machinery() if machinery is None else machinery
        )
    _originals["thread_start"](self)


def _patched_bootstrap_inner(self: threading.Thread) -> None:
    state = getattr(self, "_agentreplay_task", None)
    if state is not None:
        _current.set(state)
    _originals["bootstrap_inner"](self)


_jobs = 0
_jobs_lock = threading.Lock()


def jobs_in_flight() -> int:
    """Executor jobs started by a run that have not finished yet."""
    return _jobs


def _job_done() -> None:
    global _jobs
    with _jobs_lock:
        _jobs -= 1


def _run_as(
    state: TaskState, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return _run_inside(state, fn, args, kwargs)
    finally:
        _job_done()


def _run_inside(
    state: TaskState, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    # asyncio.to_thread submits functools.partial(context.run, func): the copied
    # context would put the parent's id back, so set the child's id inside it.
    if isinstance(fn, functools.partial) and isinstance(
        getattr(fn.func, "__self__", None), contextvars.Context
    ):
        context: contextvars.Context = fn.func.__self__  # type: ignore[attr-defined]
        inner, inner_args = fn.args[0], fn.args[1:]

        def run_inside() -> Any:
            _current.set(state)
            return inner(*inner_args, *args, **fn.keywords, **kwargs)

        return context.run(run_inside)
    token = _current.set(state)
    try:
        return fn(*args, **kwargs)
    finally:
        _current.reset(token)


def _patched_submit(
    self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Any:
    parent = _current.get()
    if parent is None:
        return _originals["submit"](self, fn, *args, **kwargs)
    target = fn
    if isinstance(fn, functools.partial) and isinstance(
        getattr(fn.func, "__self__", None), contextvars.Context
    ):
        target = fn.args[0]
    machinery = _is_machinery(target)
    child = parent.child(machinery=_created_by_machinery() if machinery is None else machinery)
    global _jobs
    with _jobs_lock:
        _jobs += 1
    try:
        return _originals["submit"](self, _run_as, child, fn, args, kwargs)
    except BaseException:
        _job_done()
        raise


_installs = 0


def install_task_hooks() -> None:
    """Start propagating task ids; nestable, undone by `uninstall_task_hooks`."""
    global _installs
    with _lock:
        _installs += 1
        if _installs > 1:
            return
        _originals["create_task"] = asyncio.BaseEventLoop.create_task
        _originals["thread_start"] = threading.Thread.start
        _originals["bootstrap_inner"] = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
        _originals["submit"] = ThreadPoolExecutor.submit
        asyncio.BaseEventLoop.create_task = _patched_create_task  # type: ignore[method-assign]
        threading.Thread.start = _patched_thread_start  # type: ignore[method-assign]
        threading.Thread._bootstrap_inner = _patched_bootstrap_inner  # type: ignore[attr-defined]
        ThreadPoolExecutor.submit = _patched_submit  # type: ignore[method-assign,assignment]


def uninstall_task_hooks() -> None:
    global _installs
    with _lock:
        _installs -= 1
        if _installs > 0:
            return
        asyncio.BaseEventLoop.create_task = _originals["create_task"]  # type: ignore[method-assign]
        threading.Thread.start = _originals["thread_start"]  # type: ignore[method-assign]
        threading.Thread._bootstrap_inner = _originals["bootstrap_inner"]  # type: ignore[attr-defined]
        ThreadPoolExecutor.submit = _originals["submit"]  # type: ignore[method-assign]
