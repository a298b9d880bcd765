"""Writing small cassettes for tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

from agentreplay.cassette import CassetteWriter, Event
from agentreplay.errors import CassetteError, CassetteWarning
from agentreplay.steps import Cassette


def write(
    path: Path,
    events: Iterable[Event],
    *,
    flush_events: int = 256,
    header: dict[str, object] | None = None,
) -> CassetteWriter:
    """Write ``events`` synchronously (no background thread) and close the cassette."""
    writer = CassetteWriter(
        path, header or {"test": True}, flush_events=flush_events, background=False
    )
    for event in events:
        writer.append(event)
        if len(writer._pending) >= flush_events:
            writer.flush()
    writer.close()
    return writer


def read_until_damage(path: Path) -> tuple[list[Event], CassetteError | None]:
    """All events readable from ``path``, and the error that stopped reading, if any."""
    got: list[Event] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CassetteWarning)
        try:
            with Cassette(path) as cassette:
                for event in cassette.events():
                    got.append(event)
        except CassetteError as exc:
            return got, exc
    return got, None
