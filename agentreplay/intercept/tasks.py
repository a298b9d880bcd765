"""Carrying logical task ids into the tasks, threads and jobs a run starts.

The ids themselves are explained in `agentreplay.runtime.tasks`. These hooks
give each asyncio task, thread and executor job started by a run's task the
next child id, set in the child's context before it runs:
``BaseEventLoop.create_task`` (which ``gather``, ``to_thread``... use),
``Thread.start``/``_bootstrap_inner``, and ``ThreadPoolExecutor.submit``.

Tasks started by machinery (an HTTP pool's background task, an executor's
worker thread) do not take a number: they would exist on record and not on
replay, and shift the numbers of the agent's own tasks.

The end of each numbered executor job is an ordering point (``job.end``):
recorded as the job's result is about to be set, and on replay the job waits
for its recorded turn there, so ``as_completed`` and ``wait(FIRST_COMPLETED)``
see the jobs finish in the recorded order.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentreplay.runtime.callers import Origin, classify
from agentreplay.runtime.tasks import (
    TaskState,
    current_task,
    job_done,
    job_started,
    reset_current_task,
    set_current_task,
    set_running_job,
)

__all__ = ["TaskInterceptor"]


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


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)  # finds it without running it
    origin = spec.origin if spec is not None else None
    return os.path.dirname(origin) + os.sep if origin else None


_SPAWNERS = (
    *(directory for directory in (_package_dir("asyncio"), _package_dir("anyio")) if directory),
    __file__,  # the hooks here (run_in_executor's) sit between too
)
"""Code that starts tasks on its caller's behalf (``gather``, ``to_thread``, ``wait_for``,
an anyio task group's ``start_soon``): who called it decides."""


def _created_by_machinery() -> bool:
    """Was the task being created started by machinery, and not by the agent through
    asyncio or anyio?"""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_SPAWNERS):
        frame = frame.f_back  # type: ignore[assignment]
    return frame is None or classify(frame.f_code.co_filename) is Origin.MACHINERY


# -- the hooks ------------------------------------------------------------------

_originals: dict[str, Any] = {}


def _patched_create_task(
    self: asyncio.AbstractEventLoop, coro: Any, *args: Any, **kwargs: Any
) -> Any:
    parent = current_task()
    if parent is None:
        return _originals["create_task"](self, coro, *args, **kwargs)
    child = parent.child(machinery=_is_machinery(coro) is not False and _created_by_machinery())
    context = kwargs.get("context")
    if context is None:
        context = contextvars.copy_context()
    context.run(set_current_task, child)
    kwargs["context"] = context
    task = _originals["create_task"](self, coro, *args, **kwargs)
    if not child.quiet:
        task.add_done_callback(functools.partial(_task_done, child))
    return task


def _task_done(state: TaskState, task: Any) -> None:
    """An asyncio task of the run has ended: what it did not ask for, it never will (a
    thread waiting for its turn behind such an input diverges at once)."""
    if state.owner.running:
        state.owner.order_finish(state)


def _patched_thread_start(self: threading.Thread) -> None:
    parent = current_task()
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
        set_current_task(state)
    try:
        _originals["bootstrap_inner"](self)
    finally:
        if state is not None and not state.quiet:
            state.owner.order_finish(state)


class _Job:
    """One executor job of the run.

    It counts as in flight (an event loop's virtual clock stands still for it) from its
    submission until its result has reached whoever waits for it: for a job an event
    loop awaits (``run_in_executor``, ``to_thread``), until the loop has it, since a
    loop with nothing ready would otherwise jump ahead in the instant between the job
    setting its result and the loop hearing of it. Waiting for its recorded turn, it
    does not count (`Schedule.wait`): the loop may have to hand out what comes first.

    The end of a job that is not machinery's is an ordering point."""

    __slots__ = ("halves", "position", "state")

    def __init__(self, state: TaskState) -> None:
        self.state = state
        self.position: int | None = None
        self.halves = 1  # 2 once a loop awaits it: the job's thread and the loop each end one

    def reach(self) -> None:
        """In the job's thread, just before its result is set."""
        if self.state.quiet:
            return
        state = self.state
        self.position = state.owner.order_wait(state, "job.end")
        if self.position is None:  # recording: noted now, before anyone can see the result
            state.owner.order_mark(state, "job.end", None)

    def passed(self, future: Any) -> None:
        """After the result is set (waiters already told): the next thread may go on.
        The job has ended (or was cancelled before it ran): what it did not ask for, it
        never will."""
        if self.position is not None:
            self.state.owner.order_mark(self.state, "job.end", self.position)
        if not self.state.quiet:
            self.state.owner.order_finish(self.state)
        self.half_done()

    def half_done(self, future: Any = None) -> None:
        with _halves_lock:
            self.halves -= 1
            if self.halves:
                return
        job_done(self.state.owner)


_halves_lock = threading.Lock()
_awaiting = threading.local()
"""Set while ``run_in_executor`` submits: the job it submits, which the loop awaits."""


def _run_as(
    job: _Job, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    set_running_job(job.state.owner)
    try:
        return _run_inside(job.state, fn, args, kwargs)
    finally:
        job.reach()
        set_running_job(None)


def _context_run(fn: Any) -> contextvars.Context | None:
    """The context ``fn`` runs its target in, if it is ``context.run`` or a partial of it."""
    if isinstance(fn, functools.partial):
        fn = fn.func
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, contextvars.Context) else None


def _target(fn: Any) -> Any:
    """What a job really runs, under any ``partial(context.run, ...)`` wrappers
    (``asyncio.to_thread``, langchain's executor, LangGraph's, nested)."""
    while _context_run(fn) is not None:
        if not isinstance(fn, functools.partial):
            return None  # a bare context.run: its target comes as the job's first argument
        fn = fn.args[0]
    return fn


def _run_inside(
    state: TaskState, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    # A job submitted as context.run(func) (asyncio.to_thread, langchain's and LangGraph's
    # executors, sometimes one inside the other) runs in copied contexts that would put the
    # parent's id back: set the child's id in each of them before it runs.
    callable_, rest = fn, args
    while (context := _context_run(callable_)) is not None:
        context.run(set_current_task, state)
        if isinstance(callable_, functools.partial):
            callable_, rest = callable_.args[0], (*callable_.args[1:], *rest)
        elif rest:
            callable_, rest = rest[0], rest[1:]
        else:
            break
    token = set_current_task(state)
    try:
        return fn(*args, **kwargs)
    finally:
        reset_current_task(token)


def _patched_submit(
    self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Any:
    parent = current_task()
    if parent is None:
        return _originals["submit"](self, fn, *args, **kwargs)
    target = _target(fn)
    if target is None and args:
        target = _target(args[0])
    machinery = None if target is None else _is_machinery(target)
    job = _Job(parent.child(machinery=_created_by_machinery() if machinery is None else machinery))
    if getattr(_awaiting, "job", False) is None:
        job.halves = 2
        _awaiting.job = job
    job_started(job.state.owner)
    try:
        future = _originals["submit"](self, _run_as, job, fn, args, kwargs)
    except BaseException:
        job_done(job.state.owner)
        raise
    future.add_done_callback(job.passed)
    return future


def _patched_run_in_executor(
    self: asyncio.AbstractEventLoop, executor: Any, func: Callable[..., Any], *args: Any
) -> Any:
    if current_task() is None:
        return _originals["run_in_executor"](self, executor, func, *args)
    _awaiting.job = None
    future = None
    try:
        future = _originals["run_in_executor"](self, executor, func, *args)
    finally:
        job: _Job | None = _awaiting.job
        del _awaiting.job
        if job is not None:
            if future is None:
                job.half_done()
            else:  # run by the loop once the result has reached it (or the wait ended)
                future.add_done_callback(job.half_done)
    return future


def _patched_as_completed(fs: Any, **kwargs: Any) -> Any:
    """``asyncio.as_completed`` makes tasks of the coroutines it is given in the order of
    a set of them (their addresses): differently in each process, so their task ids would
    be too. The run's coroutines are made tasks here first, in the order given."""
    if (
        current_task() is not None
        and asyncio._get_running_loop() is not None
        and not (asyncio.isfuture(fs) or asyncio.iscoroutine(fs))
    ):
        fs = [f if asyncio.isfuture(f) else asyncio.ensure_future(f) for f in dict.fromkeys(fs)]
    return _originals["as_completed"](fs, **kwargs)


class TaskInterceptor:
    """Patches task creation, thread start, executor submission and ``as_completed``."""

    def install(self) -> None:
        _originals["create_task"] = asyncio.BaseEventLoop.create_task
        _originals["thread_start"] = threading.Thread.start
        _originals["bootstrap_inner"] = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
        _originals["submit"] = ThreadPoolExecutor.submit
        _originals["run_in_executor"] = asyncio.BaseEventLoop.run_in_executor
        _originals["as_completed"] = asyncio.tasks.as_completed
        asyncio.BaseEventLoop.create_task = _patched_create_task  # type: ignore[method-assign]
        threading.Thread.start = _patched_thread_start  # type: ignore[method-assign]
        threading.Thread._bootstrap_inner = _patched_bootstrap_inner  # type: ignore[attr-defined]
        ThreadPoolExecutor.submit = _patched_submit  # type: ignore[method-assign,assignment]
        asyncio.BaseEventLoop.run_in_executor = _patched_run_in_executor  # type: ignore[method-assign,assignment]
        asyncio.as_completed = asyncio.tasks.as_completed = _patched_as_completed

    def uninstall(self) -> None:
        asyncio.BaseEventLoop.create_task = _originals["create_task"]  # type: ignore[method-assign]
        threading.Thread.start = _originals["thread_start"]  # type: ignore[method-assign]
        threading.Thread._bootstrap_inner = _originals["bootstrap_inner"]  # type: ignore[attr-defined]
        ThreadPoolExecutor.submit = _originals["submit"]  # type: ignore[method-assign]
        asyncio.BaseEventLoop.run_in_executor = _originals["run_in_executor"]  # type: ignore[method-assign]
        asyncio.as_completed = asyncio.tasks.as_completed = _originals["as_completed"]
