"""Where the active session is found: one function, `active_session`.

A session owns the logical tasks of its run (`TaskState.owner`), and the
current task travels in a context variable: through asyncio tasks, copied
contexts, and the threads and executor jobs the run starts. So the session
that code belongs to is the owner of its current task. A whole-process
recording (script mode, ``@entrypoint``, the pytest fixture) owns everything
its run starts; code outside any run (a thread started before it, a test
runner's) belongs to no session and is never recorded or replayed. Nested
sessions follow from the same rule: the inner one's tasks are its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentreplay.runtime.tasks import current_task

if TYPE_CHECKING:
    from agentreplay.runtime.contract import ActiveSession

__all__ = ["active_session"]


def active_session() -> ActiveSession | None:
    """The session the running code belongs to, if any."""
    state = current_task()
    return None if state is None else state.owner
