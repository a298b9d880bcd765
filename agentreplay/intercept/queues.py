"""Shared queues: which thread takes which item is part of what happened.

A pool of threads taking work from a ``queue.Queue`` hands each item to
whichever thread asks first, and the results come back in the order the
threads finish. Each ``put`` and ``get`` made by the agent's own code on a
``queue.Queue`` (or ``LifoQueue``, ``PriorityQueue``) is therefore an
ordering point: recorded where it takes effect, inside the queue's lock (or,
for an attempt that finds the queue empty or full, as it fails), and on
replay each thread waits for its recorded turn before it puts or gets, so
every thread takes the same items as when recorded.

Queues used by libraries and by the interpreter's own machinery (executor
work queues, connection pools) are left alone, and so is ``SimpleQueue``
(a C type that cannot be patched).
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

from agentreplay.runtime.callers import Origin, classify
from agentreplay.runtime.tasks import TaskState, current_task

__all__ = ["QueueInterceptor"]

_AGENT: Final = Origin.AGENT
_CLASSES: Final = (queue.Queue, queue.LifoQueue, queue.PriorityQueue)
_QUEUE_FILE: Final = queue.__file__

_pending = threading.local()
"""The ordering point this thread is passing: (task, what, position) until the queue's
``_get``/``_put`` takes effect."""


def _called_by_the_agent() -> bool:
    """Is the queue used by the agent's own code (``get_nowait`` calls ``get``: look past
    the queue module)?"""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == _QUEUE_FILE:
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and classify(frame.f_code.co_filename) is _AGENT


def _ordered(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def operation(self: queue.Queue[Any], *args: Any, **kwargs: Any) -> Any:
        state = current_task()
        if state is None or state.quiet or not _called_by_the_agent():
            return original(self, *args, **kwargs)
        position = state.owner.order_wait(state, what)
        _pending.point = (state, what, position)
        try:
            return original(self, *args, **kwargs)
        finally:
            if getattr(_pending, "point", None) is not None:
                # It took no effect (queue.Empty, queue.Full): the attempt is the point.
                _pending.point = None
                state.owner.order_mark(state, what, position)

    operation.__name__ = original.__name__
    operation.__doc__ = original.__doc__
    return operation


def _taking_effect(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def inner(self: queue.Queue[Any], *args: Any) -> Any:
        result = original(self, *args)
        point: tuple[TaskState, str, int | None] | None = getattr(_pending, "point", None)
        if point is not None and point[1] == what:
            _pending.point = None
            state, _, position = point
            state.owner.order_mark(state, what, position)
        return result

    return inner


class QueueInterceptor:
    def __init__(self) -> None:
        self._saved: list[tuple[type, str, Any]] = []

    def install(self) -> None:
        self._saved = [(queue.Queue, "get", queue.Queue.get), (queue.Queue, "put", queue.Queue.put)]
        self._saved += [
            (cls, name, vars(cls)[name]) for cls in _CLASSES for name in ("_get", "_put")
        ]
        queue.Queue.get = _ordered("queue.get", queue.Queue.get)  # type: ignore[method-assign]
        queue.Queue.put = _ordered("queue.put", queue.Queue.put)  # type: ignore[method-assign]
        for cls in _CLASSES:
            cls._get = _taking_effect("queue.get", vars(cls)["_get"])  # type: ignore[method-assign]
            cls._put = _taking_effect("queue.put", vars(cls)["_put"])  # type: ignore[method-assign]

    def uninstall(self) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved = []
