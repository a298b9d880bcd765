"""Agents whose results depend on when answers arrive, against servers that answer late
at random: every live run differs, and every replay must equal its recording."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

import agentreplay
from agentreplay.demo.model_server import ModelServer, random_responder

T = TypeVar("T")

REPLAYS = 3


@pytest.fixture
def model() -> Iterator[ModelServer]:
    """A model server answering at random, each event up to 20 ms late at random."""
    server = ModelServer(random_responder(), jitter=0.02).start()
    try:
        yield server
    finally:
        server.stop()


def record_and_replay(
    path: Path, agent: Callable[[], T], stop: Callable[[], None], times: int = REPLAYS
) -> tuple[T, list[T]]:
    """Record ``agent`` once, ``stop`` its servers, replay it strictly ``times`` times."""
    with agentreplay.record(path):
        recorded = agent()
    stop()
    replayed = []
    for _ in range(times):
        with agentreplay.replay(path) as run:
            replayed.append(agent())
        assert run.result is not None and run.result.reproduced, run.result
    return recorded, replayed
