"""Ids built from the clock and the machine replay as recorded."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import agentreplay


def test_uuid1_replays_the_recorded_ids(cassette: Path) -> None:
    with agentreplay.record(cassette):
        recorded = [uuid.uuid1() for _ in range(3)]
    assert len(set(recorded)) == 3
    for _ in range(3):
        with agentreplay.replay(cassette) as run:
            assert [uuid.uuid1() for _ in range(3)] == recorded
        assert run.result is not None and run.result.reproduced


def test_uuid1_replays_on_a_machine_with_another_node(
    cassette: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with agentreplay.record(cassette):
        recorded = uuid.uuid1()
    monkeypatch.setattr(uuid, "_node", recorded.node ^ 0xFFFF)  # another machine's address
    assert uuid.getnode() != recorded.node
    with agentreplay.replay(cassette):
        assert uuid.uuid1() == recorded
