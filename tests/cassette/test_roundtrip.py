from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentreplay
from agentreplay.cassette import CassetteWriter, Event, HttpChunk, HttpRequest
from agentreplay.cassette.frames import FORMAT_MAJOR, FORMAT_MINOR

from .helpers import write
from .strategies import events

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.lists(events, max_size=40), st.integers(min_value=1, max_value=50))
def test_any_events_written_come_back_identical(
    tmp_path: Path, written: list[Event], flush_every: int
) -> None:
    path = tmp_path / "run.cassette"
    write(path, written, flush_events=flush_every)
    with agentreplay.open(path) as cassette:
        assert list(cassette.events()) == written
        assert cassette.closed_cleanly


@SETTINGS
@given(st.lists(events, max_size=40), st.integers(min_value=1, max_value=50))
def test_chunks_handed_over_as_fields_read_back_as_the_same_events_and_steps(
    tmp_path: Path, written: list[Event], flush_every: int
) -> None:
    """A recorder hands each chunk's fields to ``append_chunk`` (the event is never made):
    the cassette is the one the events would make, step index included."""
    path = tmp_path / "fields.cassette"
    writer = CassetteWriter(path, {"test": True}, flush_events=flush_every, background=False)
    for event in written:
        if isinstance(event, HttpChunk):
            writer.append_chunk(event.task, event.seq, event.at, event.request, event.data)
        else:
            writer.append(event)
        if len(writer._pending) >= flush_every:
            writer.flush()
    writer.close()
    write(tmp_path / "events.cassette", written, flush_events=flush_every)
    with agentreplay.open(path) as fields, agentreplay.open(tmp_path / "events.cassette") as ev:
        assert list(fields.events()) == written
        assert list(fields.events_with_steps()) == list(ev.events_with_steps())
        assert fields.step_infos() == ev.step_infos()


def test_header_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "run.cassette"
    write(path, [], header={"entrypoint": "agent:main", "args": [1, "two"]})
    with agentreplay.open(path) as cassette:
        assert cassette.header == {"entrypoint": "agent:main", "args": [1, "two"]}
        assert cassette.format_version == (FORMAT_MAJOR, FORMAT_MINOR)
        assert list(cassette.events()) == []


def test_repeated_history_is_stored_once(tmp_path: Path) -> None:
    messages: list[bytes] = []
    requests = []
    for turn in range(30):
        messages.append(b'{"role":"user","content":"%d %s"}' % (turn, b"question " * 40))
        body = b'{"messages":[' + b",".join(messages) + b'],"model":"m"}'
        requests.append(HttpRequest("0", turn, turn, "POST", "http://x/v1", (), body, "httpx"))
    path = tmp_path / "run.cassette"
    write(path, requests)
    total_body = sum(len(r.body) for r in requests)
    assert path.stat().st_size < total_body / 10
    with agentreplay.open(path) as cassette:
        assert list(cassette.events()) == requests
