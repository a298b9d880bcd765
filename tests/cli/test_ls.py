"""``agentreplay ls SINK``: captured runs from the manifests, newest first, filtered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentreplay import capture
from agentreplay.cli import main
from tests.servers import ToolServer


@pytest.fixture
def sink(server: ToolServer, tmp_path: Path) -> Iterator[Path]:
    """Three kept runs: a failed 'support' one, a flagged 'billing' one, a slow one."""
    folder = tmp_path / "runs"
    capture.enable(str(folder), slow_after=1.0)
    try:
        with pytest.raises(KeyError), capture.run(name="support"):
            httpx.get(f"{server.url}/echo")
            raise KeyError("city")
        with capture.run(name="billing") as block:
            block.flag("thumbs down")
        with capture.run(name="support-slow"):
            httpx.get(f"{server.url}/slow?delay=1.5")
        assert capture.flush(10)
        yield folder
    finally:
        capture.disable()


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["ls", *args, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_ls_lists_newest_first_with_the_way_to_replay_each(
    sink: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(capsys, str(sink))
    assert [row["name"] for row in rows] == ["support-slow", "billing", "support"]
    assert rows[2]["replay"] == f"agentreplay.replay({rows[2]['location']!r}) around the same call"
    assert main(["ls", str(sink)]) == 0
    table = capsys.readouterr().out
    assert "KeyError" in table and "thumbs" not in table and "support-slow" in table


def test_ls_filters_by_outcome_name_slowness_and_age(
    sink: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [r["name"] for r in _json(capsys, str(sink), "--failed")] == ["support"]
    assert [r["name"] for r in _json(capsys, str(sink), "--slow")] == ["support-slow"]
    assert len(_json(capsys, str(sink), "--name", "support")) == 2
    assert len(_json(capsys, str(sink), "--since", "1h")) == 3


def test_ls_of_an_empty_sink_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", str(tmp_path)]) == 0
    assert capsys.readouterr().err == f"no captured runs in {tmp_path}\n"


def test_ls_of_a_folder_of_recorded_cassettes_points_at_the_tui(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a.cassette", "b.cassette"):
        (tmp_path / name).write_bytes(b"")  # recorded with AGENTREPLAY_CASSETTE, not captured
    assert main(["ls", str(tmp_path)]) == 0
    assert capsys.readouterr().err == (
        f"no captured runs in {tmp_path}: the 2 cassettes there were recorded, not captured "
        f"(no capture manifest); agentreplay tui {tmp_path} lists and opens them\n"
    )


def test_ls_of_a_sink_that_is_not_a_folder_or_s3_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ls", "ftp://host/runs"]) == 2
    assert "s3://bucket/prefix" in capsys.readouterr().err
