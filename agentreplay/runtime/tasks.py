"""Logical task ids: which strand of the run produced an event.

The root of a run is task ``"0"``; the n-th asyncio task, thread or executor
job that task ``p`` starts is ``"p.n"`` (n from 1). Ids depend only on the
order in which each task starts its children, which is the same on record
and on replay, so replay can hand each task its own next event however the
scheduler interleaves them.

The current task lives in a context variable, so it follows asyncio tasks
and copied contexts; the hooks that carry it into threads and executor jobs
are in `agentreplay.intercept.tasks`.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
from typing import Any

__all__ = [
    "TaskState",
    "current_task",
    "forget_jobs",
    "job_done",
    "job_started",
    "jobs_in_flight",
    "reset_current_task",
    "running_job",
    "set_current_task",
    "set_running_job",
]


class TaskState:
    """One logical task: its id, the session it belongs to, and its counters."""

    __slots__ = ("_children", "_seq", "id", "owner", "quiet", "random")

    def __init__(self, task_id: str, owner: Any, *, quiet: bool = False) -> None:
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

current_task = _current.get
"""The logical task of the running code, or None outside any session."""


def set_current_task(state: TaskState | None) -> contextvars.Token[TaskState | None]:
    return _current.set(state)


def reset_current_task(token: contextvars.Token[TaskState | None]) -> None:
    _current.reset(token)


_jobs: dict[int, int] = {}  # id of the owning session -> its jobs in flight
_jobs_lock = threading.Lock()


def jobs_in_flight(owner: object) -> int:
    """Executor jobs started by the run of ``owner`` (a session) that are working: not
    finished (their result not yet handed to whoever waits for it) and not waiting for
    their recorded turn. Counted per session: concurrent runs in one process do not wait
    for each other's jobs."""
    return _jobs.get(id(owner), 0)


_thread = threading.local()


def forget_jobs(owner: object) -> None:
    """``owner`` has ended: its count goes, so that no later session taking its id (a
    job of it may never be heard of again: a loop closed before it had the result)
    inherits it."""
    with _jobs_lock:
        _jobs.pop(id(owner), None)


def running_job() -> object | None:
    """The session whose executor job this thread is running now, if any."""
    return getattr(_thread, "job", None)


def set_running_job(owner: object | None) -> None:
    _thread.job = owner


def job_started(owner: object) -> None:
    key = id(owner)
    with _jobs_lock:
        _jobs[key] = _jobs.get(key, 0) + 1


def job_done(owner: object) -> None:
    key = id(owner)
    with _jobs_lock:
        left = _jobs.get(key, 0) - 1
        if left > 0:
            _jobs[key] = left
        else:
            _jobs.pop(key, None)
