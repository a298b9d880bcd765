"""A writer thread that falls behind does not make the recording hold the run in memory."""

from __future__ import annotations

import threading
from pathlib import Path

import agentreplay
from agentreplay.cassette import CassetteWriter, ClockRead
from agentreplay.cassette.writer import FLUSH_EVENTS, MAX_PENDING


class _StarvedWriter(CassetteWriter):
    """A writer whose thread gets no CPU until ``fed`` is set, as under a loaded machine."""

    def __init__(self, path: Path, fed: threading.Event) -> None:
        self.fed = fed
        super().__init__(path, {"starved": True}, flush_interval=0.01)

    def _run(self) -> None:
        self.fed.wait()
        super()._run()


def test_a_starved_writer_thread_makes_the_recording_thread_write(tmp_path: Path) -> None:
    fed = threading.Event()
    writer = _StarvedWriter(tmp_path / "starved.cassette", fed)
    count = MAX_PENDING * 5 + 17
    waiting = []
    for seq in range(count):
        writer.append(ClockRead("0", seq, seq, "wall", seq * 1000))
        waiting.append(seq + 1 - writer.events_written)
    fed.set()
    writer.close()
    # What waits for the writer stays under the bound; it was written by the appender.
    assert max(waiting) <= MAX_PENDING
    assert writer.events_written == count
    with agentreplay.open(writer.path) as cassette:
        events = list(cassette.events())
        assert cassette.closed_cleanly
    assert [e.seq for e in events] == list(range(count))
    assert all(isinstance(e, ClockRead) and e.value == e.seq * 1000 for e in events)


def test_a_writer_that_keeps_up_leaves_the_writing_to_its_thread(tmp_path: Path) -> None:
    writer = CassetteWriter(tmp_path / "idle.cassette", {"idle": True}, flush_interval=0.01)
    writers: set[str] = set()
    emit = writer._emit

    def spy(content: bytes, *, key: bool = False) -> int:
        writers.add(threading.current_thread().name)
        return emit(content, key=key)

    writer._emit = spy  # type: ignore[method-assign]
    for seq in range(FLUSH_EVENTS * 3):
        writer.append(ClockRead("0", seq, seq, "wall", seq))
        if seq % FLUSH_EVENTS == 0:
            threading.Event().wait(0.05)  # the writer thread's turn
    writer._emit = emit  # type: ignore[method-assign]
    writer.close()
    assert writers == {"agentreplay-writer"}


class _AppendsWhileWriting(CassetteWriter):
    """A writer whose writing makes more events, as a hooked call inside it would."""

    made = False

    def _emit(self, content: bytes, *, key: bool = False) -> int:
        if not self.made:
            self.made = True
            for seq in range(MAX_PENDING + 1):
                self.append(ClockRead("1", seq, seq, "wall", seq))
        return super()._emit(content, key=key)


def test_events_made_while_writing_are_queued_not_written_inside_the_write(
    tmp_path: Path,
) -> None:
    writer = _AppendsWhileWriting(tmp_path / "inside.cassette", {"inside": True}, background=False)
    writer.append(ClockRead("0", 0, 0, "wall", 0))

    def write() -> None:
        writer.flush()
        writer.close()

    done = threading.Thread(target=write, daemon=True)
    done.start()
    done.join(30)
    assert not done.is_alive(), "the writer locked itself"
    with agentreplay.open(writer.path) as cassette:
        events = list(cassette.events())
    assert len(events) == MAX_PENDING + 2
    assert [e.seq for e in events if e.task == "1"] == list(range(MAX_PENDING + 1))
