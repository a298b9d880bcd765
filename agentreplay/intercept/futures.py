"""Waiting on executor jobs: when the agent starts to wait is part of the order.

``concurrent.futures.as_completed`` first takes the jobs that are already
done, in no particular order, then the others as they finish. Whether a job
is "already done" depends on when the agent started waiting, so that moment
(``as_completed`` or ``wait`` without a timeout, called by the agent or a
library it uses) is an ordering point, taken inside the futures' locks as the
snapshot is made. Waits with a timeout are left alone: how many of them a
polling loop makes depends on timing, not on the program.
"""

from __future__ import annotations

import concurrent.futures._base as base
import sys
from typing import Any, Final

from agentreplay.runtime.callers import Origin, classify
from agentreplay.runtime.tasks import TaskState, current_task

__all__ = ["FuturesInterceptor"]

_BASE_FILE: Final = base.__file__
_WAITERS: Final = (Origin.AGENT, Origin.LIBRARY)


def _waiting_point() -> tuple[TaskState, int | None] | None:
    """The run's task and its ordering point, if the agent (or a library) is starting
    an untimed wait; frame 2 is ``as_completed`` or ``wait``."""
    state = current_task()
    if state is None or state.quiet:
        return None
    frame = sys._getframe(2)
    if frame.f_locals.get("timeout") is not None:
        return None
    while frame is not None and frame.f_code.co_filename == _BASE_FILE:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or classify(frame.f_code.co_filename) not in _WAITERS:
        return None
    return state, state.owner.order_wait(state, "futures.wait")


def _ordered(original: type) -> type:
    class OrderedAcquire(original):  # type: ignore[misc]
        def __enter__(self) -> None:
            point = _waiting_point()
            super().__enter__()
            if point is not None:
                state, position = point
                state.owner.order_mark(state, "futures.wait", position)

    return OrderedAcquire


class FuturesInterceptor:
    def __init__(self) -> None:
        self._original: Any = None

    def install(self) -> None:
        self._original = base._AcquireFutures
        setattr(base, "_AcquireFutures", _ordered(self._original))  # noqa: B010

    def uninstall(self) -> None:
        setattr(base, "_AcquireFutures", self._original)  # noqa: B010
