"""Entropy: random bytes and seeds handed to the agent.

- ``os.urandom`` (which ``uuid.uuid4``, ``secrets.token_*`` and multipart
  boundaries use) and ``random._urandom`` (which ``SystemRandom``, and
  through ``secrets.randbits`` numpy's ``SeedSequence``, use);
- the seed of every ``random.Random()`` created without one, and a fresh
  recorded seed for the global ``random`` at the start of each session
  (its state before the session is restored when the session ends).

Draws made by machinery are left alone, in particular the authentication
keys of ``multiprocessing`` and the names of ``tempfile``: they protect the
process itself and play no part in what the agent computes.
"""

from __future__ import annotations

import os
import random
from typing import Any

from agentreplay.session.callers import Origin, origin_of_caller
from agentreplay.session.core import active_session

__all__ = ["EntropyInterceptor"]

SEED_BYTES = 32


def _urandom_hook(original: Any) -> Any:
    def urandom(size: int, /) -> bytes:
        session = active_session()
        if session is None:
            return original(size)  # type: ignore[no-any-return]
        task = session.run_task()
        if task is None or origin_of_caller(1) < Origin.LIBRARY:
            return original(size)  # type: ignore[no-any-return]
        return session.entropy(task, "urandom", size, original)

    urandom.__doc__ = original.__doc__
    return urandom


class EntropyInterceptor:
    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        self._saved = {
            "os.urandom": os.urandom,
            "random._urandom": random._urandom,  # type: ignore[attr-defined]
            "Random.seed": random.Random.seed,
            "random.seed": random.seed,
        }
        original_urandom = os.urandom
        os.urandom = _urandom_hook(original_urandom)
        random._urandom = _urandom_hook(self._saved["random._urandom"])  # type: ignore[attr-defined]
        original_seed = random.Random.seed

        def seed(self: random.Random, a: Any = None, version: int = 2) -> None:
            if a is None:
                session = active_session()
                task = session.run_task() if session is not None else None
                if (
                    session is not None
                    and task is not None
                    and origin_of_caller(1) >= Origin.LIBRARY
                ):
                    data = session.entropy(task, "seed", SEED_BYTES, original_urandom)
                    a = int.from_bytes(data, "big")
            original_seed(self, a, version)

        random.Random.seed = seed  # type: ignore[method-assign]
        random.seed = random._inst.seed

    def uninstall(self) -> None:
        os.urandom = self._saved["os.urandom"]
        random._urandom = self._saved["random._urandom"]  # type: ignore[attr-defined]
        random.Random.seed = self._saved["Random.seed"]  # type: ignore[method-assign]
        random.seed = self._saved["random.seed"]
