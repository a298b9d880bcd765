"""The switch and the keep decision: environment, precedence, slow, sample, truncation."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import agentreplay
from agentreplay import capture
from agentreplay.capture.core import sampled
from agentreplay.errors import UsageError
from tests.capture.helpers import manifest
from tests.servers import ToolServer


@agentreplay.entrypoint
def fetch(url: str, fail: bool = False) -> int:
    size = len(httpx.get(url).content)
    if fail:
        raise LookupError(url)
    return size


def test_the_environment_alone_captures_failing_entrypoint_calls(
    server: ToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTREPLAY_CAPTURE", str(tmp_path / "runs"))
    assert fetch(f"{server.url}/bytes?n=10") == 10
    with pytest.raises(LookupError):
        fetch(f"{server.url}/bytes?n=20", fail=True)
    assert capture.flush(10)
    [entry] = manifest(tmp_path / "runs")
    assert entry["kind"] == "entrypoint" and entry["entrypoint"] == f"{__name__}:fetch"
    assert entry["error"] == "LookupError" and entry["steps"] == 1
    with agentreplay.open(tmp_path / "runs" / entry["key"]) as opened:
        assert opened.header["args"] == [[f"{server.url}/bytes?n=20"], {"fail": True}]
    monkeypatch.setenv("AGENTREPLAY_CAPTURE", "off")
    assert capture.stats().runs == 0  # off: nothing in force


def test_capture_off_in_the_environment_wins_over_enable(
    server: ToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture.enable(str(tmp_path / "runs"), keep="all")
    monkeypatch.setenv("AGENTREPLAY_CAPTURE", "off")
    with capture.run(name="off") as block:
        httpx.get(f"{server.url}/echo")
    assert not block.captured
    monkeypatch.delenv("AGENTREPLAY_CAPTURE")
    with capture.run(name="on") as block:
        httpx.get(f"{server.url}/echo")
    assert block.captured and capture.flush(10)
    assert [e["name"] for e in manifest(tmp_path / "runs")] == ["on"]


def test_agentreplay_mode_record_wins_over_capture(
    server: ToolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture.enable(str(tmp_path / "runs"), keep="all")
    monkeypatch.setenv("AGENTREPLAY_MODE", "record")
    monkeypatch.setenv("AGENTREPLAY_CASSETTE", str(tmp_path / "whole.cassette"))
    fetch(f"{server.url}/echo")
    assert (tmp_path / "whole.cassette").exists()
    assert capture.flush(10) and capture.stats().runs == 0


def test_a_run_inside_a_recording_belongs_to_the_recording(
    server: ToolServer, tmp_path: Path
) -> None:
    capture.enable(str(tmp_path / "runs"), keep="all")
    with agentreplay.record(tmp_path / "outer.cassette"):
        with capture.run(name="inner") as block:
            httpx.get(f"{server.url}/echo")
    assert not block.captured and capture.stats().runs == 0


def test_an_unusable_environment_value_is_logged_and_capture_stays_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AGENTREPLAY_CAPTURE", "ftp://nowhere/")
    with caplog.at_level(logging.ERROR, "agentreplay.capture"):
        with capture.run(name="x") as block:
            pass
    assert not block.captured
    assert "capture stays off" in caplog.text


def test_bad_settings_in_code_fail_at_once() -> None:
    with pytest.raises(UsageError, match="keep must be one of"):
        capture.enable("runs/", keep="some")
    with pytest.raises(UsageError, match="sample"):
        capture.enable("runs/", sample=2)
    with pytest.raises(UsageError, match="max_run_bytes"):
        capture.enable("runs/", max_run_bytes="lots")


def test_slow_and_flagged_runs_are_kept_with_their_reason(
    server: ToolServer, tmp_path: Path
) -> None:
    capture.enable(str(tmp_path / "runs"), slow_after=1.0)
    with capture.run(name="quick"):
        httpx.get(f"{server.url}/echo")
    with capture.run(name="slow"):
        httpx.get(f"{server.url}/slow?delay=1.5")
    with capture.run(name="flagged") as block:
        block.flag("thumbs down")
    with capture.run(name="flagged-inside"):
        assert capture.flag("failed validation")
    assert not capture.flag("outside any run")
    assert capture.flush(10)
    kept = {e["name"]: (e["kept"], e["flags"]) for e in manifest(tmp_path / "runs")}
    assert kept == {
        "slow": ("slow", []),
        "flagged": ("flagged", ["thumbs down"]),
        "flagged-inside": ("flagged", ["failed validation"]),
    }


def test_the_sample_is_decided_by_the_run_id_the_same_way_every_time(tmp_path: Path) -> None:
    capture.enable(str(tmp_path / "runs"), sample=0.5)
    ids = []
    for n in range(40):
        with capture.run(name=f"r{n}") as block:
            pass
        ids.append(block.run_id)
    assert capture.flush(10)
    kept = {e["run_id"] for e in manifest(tmp_path / "runs")}
    assert kept == {run_id for run_id in ids if run_id and sampled(run_id, 0.5)}
    assert 5 < len(kept) < 35
    assert all(sampled(run_id, 1.0) for run_id in kept)


def test_a_run_past_max_run_bytes_is_truncated_and_keeps_its_outcome(
    server: ToolServer, tmp_path: Path
) -> None:
    capture.enable(str(tmp_path / "runs"), max_run_bytes=50_000)
    with pytest.raises(RuntimeError), capture.run(name="big"):
        for _ in range(5):
            httpx.get(f"{server.url}/bytes?n=20000")
        raise RuntimeError("after five downloads")
    assert capture.flush(10)
    [entry] = manifest(tmp_path / "runs")
    assert entry["truncated"] and entry["error"] == "RuntimeError"
    assert capture.stats().truncated == 1
    with agentreplay.open(tmp_path / "runs" / entry["key"]) as opened:
        assert opened.header["truncated"] is True
        assert opened.outcome is not None and opened.outcome.error is not None
        assert 1 <= len(list(opened.steps())) < 5


def test_retention_removes_the_oldest_cassettes_past_the_total(
    server: ToolServer, tmp_path: Path
) -> None:
    from agentreplay.capture.retention import Retention

    capture.enable(str(tmp_path / "runs"), keep="all")
    for n in range(6):
        with capture.run(name=f"r{n}"):
            httpx.get(f"{server.url}/bytes?n=5000")
        time.sleep(0.01)
    assert capture.flush(10)
    cassettes = sorted((tmp_path / "runs").glob("*/*.cassette"))
    size = sum(p.stat().st_size for p in cassettes)
    Retention(tmp_path / "runs", None, size // 2).apply()
    left = sorted((tmp_path / "runs").glob("*/*.cassette"))
    assert left == cassettes[len(cassettes) - len(left) :] and 0 < len(left) < 6
    Retention(tmp_path / "runs", 0.000001, None).apply()
    assert not list((tmp_path / "runs").glob("*/*.cassette"))


def test_at_exit_what_is_queued_is_written(tmp_path: Path) -> None:
    script = (
        "from agentreplay import capture\n"
        f"capture.enable({str(tmp_path / 'runs')!r}, keep='all')\n"
        "for n in range(5):\n"
        "    with capture.run(name=f'r{n}'):\n"
        "        pass\n"
        "print(capture.stats().runs)\n"  # exits at once: the writer may still be busy
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "5", done.stderr
    assert len(manifest(tmp_path / "runs")) == 5
    assert len(list((tmp_path / "runs").glob("*/*.cassette"))) == 5
