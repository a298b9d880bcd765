"""Entropy: uuid4, random, Random(), secrets, SystemRandom and numpy replay identically."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

import agentreplay
from agentreplay.cassette import EntropyDraw


def _draws() -> dict[str, object]:
    rng = random.Random()
    return {
        "uuid4": str(uuid.uuid4()),
        "jitter": random.random(),
        "choice": random.choice("abcdefgh"),
        "instance": [rng.random(), rng.randint(0, 10**9)],
        "token": secrets.token_hex(16),
        "below": secrets.randbelow(10**12),
        "system": random.SystemRandom().random(),
        "urandom": os.urandom(8),
        "numpy": np.random.default_rng().random(3).tolist(),
    }


def _entropy(path: Path) -> list[EntropyDraw]:
    with agentreplay.open(path) as cassette:
        return [e for e in cassette.events() if isinstance(e, EntropyDraw)]


def test_every_source_replays_identically(cassette: Path) -> None:
    with agentreplay.record(cassette):
        recorded = _draws()
    with agentreplay.replay(cassette) as run:
        replayed = _draws()
    assert replayed == recorded
    assert run.result is not None and run.result.reproduced
    assert _draws() != recorded


def test_in_tasks_and_threads_each_gets_its_own_draws(cassette: Path) -> None:
    def main() -> dict[str, object]:
        out: dict[str, object] = {}

        async def task(i: int) -> None:
            await asyncio.sleep(0)
            out[f"task{i}"] = [str(uuid.uuid4()), secrets.token_hex(4)]

        async def gather() -> None:
            await asyncio.gather(*(task(i) for i in range(5)))

        asyncio.run(gather())
        threads = [
            threading.Thread(target=lambda i=i: out.__setitem__(f"thread{i}", str(uuid.uuid4())))
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    with agentreplay.record(cassette):
        recorded = main()
    with agentreplay.replay(cassette):
        assert main() == recorded


def test_the_global_random_is_restored_after_the_session(cassette: Path) -> None:
    random.seed(42)
    expected = [random.random() for _ in range(3)]
    random.seed(42)
    with agentreplay.record(cassette):
        random.random()
    assert [random.random() for _ in range(3)] == expected


def test_machinery_entropy_is_left_alone(cassette: Path) -> None:
    from multiprocessing.connection import Client, Listener

    with agentreplay.record(cassette):
        with tempfile.NamedTemporaryFile():
            pass
        # multiprocessing's authentication handshake draws challenges from os.urandom on
        # both sides: they protect the process, and are not the run's.
        with Listener(("127.0.0.1", 0), authkey=b"secret") as listener:
            accepted: list[object] = []
            thread = threading.Thread(target=lambda: accepted.append(listener.accept().recv()))
            thread.start()
            with Client(listener.address, authkey=b"secret") as client:
                client.send("hello")
            thread.join(5)
        assert accepted == ["hello"]
        os.urandom(8)  # the agent's own draw
    sources = [draw.source for draw in _entropy(cassette)]
    # The session's seed for the global random, and the agent's os.urandom; tempfile's
    # name generator and the handshake's challenges were not recorded.
    assert sources == ["seed", "urandom"]


def test_a_different_number_of_draws_is_a_divergence(cassette: Path) -> None:
    with agentreplay.record(cassette):
        uuid.uuid4()
    try:
        with agentreplay.replay(cassette):
            uuid.uuid4()
            uuid.uuid4()
    except agentreplay.DivergenceError as exc:
        assert "random bytes" in str(exc) and "no more" in str(exc)
    else:
        raise AssertionError("no divergence")


def test_reads_made_while_a_module_is_first_imported_are_not_recorded(
    cassette: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "noisy_module.py").write_text(
        "import os, time\nTOKEN = os.urandom(32)\nLOADED_AT = time.time()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with agentreplay.record(cassette):
        import noisy_module

        uuid.uuid4()
    assert [d.source for d in _entropy(cassette)] == ["seed", "urandom"]
    assert [len(d.data) for d in _entropy(cassette)] == [32, 16]
    with agentreplay.replay(cassette) as run:  # noisy_module is already imported now
        import noisy_module  # noqa: F401

        uuid.uuid4()
    assert run.result is not None and run.result.reproduced


def test_global_random_in_threads_replays_per_task(cassette: Path) -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    jitter = random.Random(99)  # made before the session: changes the order on replay
    real_sleep = time.sleep

    def work(i: int) -> tuple[int, int, float]:
        real_sleep(jitter.random() / 200)  # finish in a different order each time
        return i, random.randint(0, 10**6), random.random()

    def main() -> list[tuple[int, int, float]]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(work, range(8)))

    with agentreplay.record(cassette):
        recorded = main()
        root = random.random()
    for _ in range(2):
        with agentreplay.replay(cassette) as run:
            assert main() == recorded
            assert random.random() == root  # the root task keeps the global generator
        assert run.result is not None and run.result.reproduced


def test_random_seed_from_the_os_is_recorded_in_any_task(cassette: Path) -> None:
    import asyncio

    async def child() -> float:
        random.seed()
        return random.random()

    async def main() -> list[float]:
        random.seed()
        first = random.random()
        return [first, *await asyncio.gather(child(), child())]

    with agentreplay.record(cassette):
        recorded = asyncio.run(main())
    with agentreplay.replay(cassette):
        assert asyncio.run(main()) == recorded
