"""Capture never hurts the application: a sink that cannot be written, a full disk, a
store that does not answer. The runs go on as they would have; stats() counts the rest."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import capture
from agentreplay.cassette.memory import MemoryRun
from tests.servers import ToolServer


class Refused(Exception):
    pass


def work(server: ToolServer, n: int, size: int = 100) -> int:
    """One run: a tool call over HTTP; every third one fails."""
    with capture.run(name=f"w{n}"):
        body = httpx.get(f"{server.url}/bytes?n={size}").content
        if n % 3 == 0:
            raise Refused(n)
        return len(body)


def outcomes(server: ToolServer, numbers: range, size: int = 100) -> list[object]:
    results: list[object] = []
    for n in numbers:
        try:
            results.append(work(server, n, size))
        except Refused as exc:
            results.append(exc.args[0])
    return results


def expected(numbers: range, size: int = 100) -> list[object]:
    return [n if n % 3 == 0 else size for n in numbers]


@contextlib.contextmanager
def _mounted(target: Path, options: str) -> Iterator[Path]:
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write in: a read-only filesystem (as root, whom permissions do
    not stop), or one without write permission."""
    if os.geteuid() == 0:
        with _mounted(tmp_path / "ro", "ro,size=64k") as folder:
            yield folder
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)


def test_a_read_only_sink_changes_nothing_for_the_runs_and_is_counted(
    server: ToolServer, read_only_dir: Path
) -> None:
    capture.enable(str(read_only_dir / "runs"))
    numbers = range(1, 10)
    assert outcomes(server, numbers) == expected(numbers)
    assert capture.flush(10)
    stats = capture.stats()
    assert stats.kept == {"error": 3} and stats.written == 0
    assert stats.write_errors == 3 and stats.dropped == {"not_kept": 6, "write_error": 3}
    capture.disable()


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on a 96 KiB filesystem (as root); elsewhere, the file layer fails the
    way a full disk does, after part of the cassette is written."""
    if os.geteuid() == 0:
        with _mounted(tmp_path / "small", "size=96k") as folder:
            yield folder
        return

    def full(self: MemoryRun, path: str | os.PathLike[str], header: dict[str, object]) -> int:
        Path(path).write_bytes(b"x" * 1000)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(MemoryRun, "write", full)
    yield tmp_path / "small"


def test_a_full_disk_fails_writes_half_way_without_leaving_a_partial_cassette(
    server: ToolServer, small_disk: Path
) -> None:
    sink = small_disk
    capture.enable(str(sink), keep="all")
    numbers = range(1, 31)
    size = 20_000  # thirty runs of 20 kB do not fit in 96 KiB
    assert outcomes(server, numbers, size) == expected(numbers, size)
    assert capture.flush(10)
    stats = capture.stats()
    assert stats.kept.get("all", 0) + stats.kept.get("error", 0) == 30
    assert stats.write_errors > 0 and stats.dropped["write_error"] == stats.write_errors
    assert stats.written + stats.write_errors == 30
    cassettes = sorted(sink.glob("*/*.cassette"))
    assert len(cassettes) == stats.written
    for cassette in cassettes:  # every one that is there is whole
        with agentreplay.open(cassette) as opened:
            assert opened.outcome is not None
    assert not list(sink.glob("*/*.partial"))
    assert not list((sink / ".spool").glob("*.partial"))
    capture.disable()


def test_a_store_that_never_answers_fills_the_queue_and_drops_are_counted(
    server: ToolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An S3 endpoint that accepts connections and never answers: the writer waits in
    # its first upload, the queue fills, the runs go on.
    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(64)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{blackhole.getsockname()[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        capture.enable("s3://nowhere/runs", keep="all", max_queue_bytes=8192)
        numbers = range(1, 21)
        size = 3000
        assert outcomes(server, numbers, size) == expected(numbers, size)
        stats = capture.stats()
        assert stats.runs == 20 and stats.written == 0
        assert stats.dropped["queue_full"] >= 15
        assert sum(stats.kept.values()) + stats.dropped["queue_full"] == 20
        assert not capture.disable(timeout=0.2)  # what is still queued is given up
        final = capture.stats()
        assert final.runs == 0  # disabled: nothing in force
