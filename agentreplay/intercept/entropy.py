"""Entropy: random bytes and seeds handed to the agent.

- ``os.urandom`` (which ``uuid.uuid4``, ``secrets.token_*`` and multipart
  boundaries use) and ``random._urandom`` (which ``SystemRandom``, and
  through ``secrets.randbits`` numpy's ``SeedSequence``, use);
- the seed of every ``random.Random()`` created without one, and a fresh
  recorded seed for the global ``random`` at the start of each session
  (its state before the session is restored when the session ends);
- the machine's node in ``uuid.uuid1()`` (its clock and clock sequence come from
  the clock and ``random``, and time-machine's patching makes it read them);
- the module-level functions of ``random`` (``random.random()``,
  ``randint``, ``choice``...) called from a task or thread the run started:
  threads take turns on the one global generator in an order no replay can
  repeat, so each such task gets a generator of its own, seeded from a draw
  recorded in that task. The run's root task keeps the global one, unless
  its session is one of several at once (production capture): then its root
  has its own generator too, seeded from the session's first draw. The bodies
  of ``@agentreplay.tool`` functions draw from one of their own, since they do
  not run on replay.

Draws made by machinery are left alone, in particular the authentication
keys of ``multiprocessing`` and the names of ``tempfile``: they protect the
process itself and play no part in what the agent computes.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any, Final

from agentreplay.runtime.callers import Origin, origin_of_caller
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import current_task

__all__ = ["EntropyInterceptor"]

_LIBRARY: Final = Origin.LIBRARY  # looked up once: the hooks run on every draw

SEED_BYTES = 32


def _urandom_hook(original: Any) -> Any:
    def urandom(size: int, /) -> bytes:
        session = active_session()
        if session is None:
            return original(size)  # type: ignore[no-any-return]
        task = session.run_task()
        if task is None or origin_of_caller(1) < _LIBRARY:
            return original(size)  # type: ignore[no-any-return]
        return session.entropy(task, "urandom", size, original)

    urandom.__doc__ = original.__doc__
    return urandom


_GLOBAL_FUNCTIONS = tuple(
    name
    for name in dir(random)
    if not name.startswith("_") and getattr(getattr(random, name), "__self__", None) is random._inst
)
"""The module-level functions of `random`: bound methods of its one hidden instance."""


_TOOL_BODIES = random.Random()
"""What the bodies of `agentreplay.tool` functions draw from: their draws are not the
run's (the body does not run on replay), so they must not move the run's generator."""


def _task_random(original_urandom: Any) -> random.Random:
    """The generator the current task uses for ``random.*``: its own, in a child task."""
    session = active_session()
    if session is None:
        return random._inst
    task = session.run_task()
    if task is None:
        state = current_task()
        quiet = state is not None and state.owner is session and state.quiet
        return _TOOL_BODIES if quiet else random._inst
    if task.random is not None:
        return task.random  # type: ignore[no-any-return]
    if "." not in task.id:
        return random._inst
    data = session.entropy(task, "seed", SEED_BYTES, original_urandom)
    task.random = random.Random(int.from_bytes(data, "big"))
    return task.random  # type: ignore[no-any-return]


def _global_function(name: str, original_urandom: Any) -> Any:
    original = getattr(random, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_task_random(original_urandom), name)(*args, **kwargs)

    def seed(a: Any = None, version: int = 2) -> None:
        # Reseeding from the OS: a recorded seed, drawn here where the run's task is known
        # (the Random.seed hook would only see this wrapper as its caller).
        session = active_session()
        task = session.run_task() if session is not None else None
        if a is None and session is not None and task is not None:
            a = int.from_bytes(session.entropy(task, "seed", SEED_BYTES, original_urandom), "big")
        _task_random(original_urandom).seed(a, version)

    if name == "seed":
        call = seed

    call.__name__ = name
    call.__doc__ = original.__doc__
    return call


class EntropyInterceptor:
    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}
        self._functions: dict[str, Any] = {}

    def install(self) -> None:
        self._saved = {
            "os.urandom": os.urandom,
            "random._urandom": random._urandom,  # type: ignore[attr-defined]
            "Random.seed": random.Random.seed,
        }
        self._functions = {name: getattr(random, name) for name in _GLOBAL_FUNCTIONS}
        original_urandom = os.urandom
        os.urandom = _urandom_hook(original_urandom)
        random._urandom = _urandom_hook(self._saved["random._urandom"])  # type: ignore[attr-defined]
        original_seed = random.Random.seed

        def seed(self: random.Random, a: Any = None, version: int = 2) -> None:
            if a is None:
                session = active_session()
                task = session.run_task() if session is not None else None
                if session is not None and task is not None and origin_of_caller(1) >= _LIBRARY:
                    data = session.entropy(task, "seed", SEED_BYTES, original_urandom)
                    a = int.from_bytes(data, "big")
            original_seed(self, a, version)

        random.Random.seed = seed  # type: ignore[method-assign]
        for name in _GLOBAL_FUNCTIONS:
            setattr(random, name, _global_function(name, original_urandom))
        self._install_uuid1()

    def _install_uuid1(self) -> None:
        """``uuid.uuid1()`` is built from the wall clock (recorded), a random clock sequence
        (recorded through ``random``), the previous id's time (reset for each run) and the
        machine's node: that is recorded too, so the ids come back on another machine."""
        self._saved["uuid.getnode"] = original_getnode = uuid.getnode
        self._saved["uuid._last_timestamp"] = uuid._last_timestamp  # type: ignore[attr-defined]
        uuid._last_timestamp = None  # type: ignore[attr-defined]

        def getnode() -> int:
            session = active_session()
            task = session.run_task() if session is not None else None
            if session is None or task is None:
                return original_getnode()
            data = session.entropy(task, "node", 6, lambda size: original_getnode().to_bytes(6))
            return int.from_bytes(data)

        uuid.getnode = getnode

    def uninstall(self) -> None:
        uuid.getnode = self._saved["uuid.getnode"]
        uuid._last_timestamp = self._saved["uuid._last_timestamp"]  # type: ignore[attr-defined]
        os.urandom = self._saved["os.urandom"]
        random._urandom = self._saved["random._urandom"]  # type: ignore[attr-defined]
        random.Random.seed = self._saved["Random.seed"]  # type: ignore[method-assign]
        for name, function in self._functions.items():
            setattr(random, name, function)
