"""``agentreplay check --twice``: a recording whose replays depend on a read it did not
capture (here the hash seed, through the order of a set) is reported as unstable, with
the step and the call site; one that pins its seed is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentreplay.check.stability import HASH_SEEDS
from agentreplay.demo.tool_server import ToolServer

AGENT = """\
import sys

import httpx

import agentreplay

FIELDS = {"status", "position", "eta", "carrier", "weight", "origin", "insurance", "notes"}


@agentreplay.entrypoint
def main(tools: str, order_id: str) -> str:
    with httpx.Client(base_url=tools) as client:
        wanted = ",".join(FIELDS)  # the bug: a set's order follows the hash seed
        reply = client.get("/lookup_order", params={"order_id": order_id, "fields": wanted})
    return str(reply.json()["status"])


if __name__ == "__main__":
    print(main(sys.argv[1], "A-1001"))
"""
CALL_LINE = AGENT.splitlines().index(
    '        reply = client.get("/lookup_order", params={"order_id": order_id, "fields": wanted})'
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREPLAY_")}
    env.pop("PYTHONHASHSEED", None)
    return {**env, **extra}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(a run recorded without PYTHONHASHSEED, the same run recorded with it set)."""
    folder = tmp_path_factory.mktemp("agent")
    (folder / "fields_agent.py").write_text(AGENT)
    tools = ToolServer().start()
    try:
        for name, seed in (("unpinned", None), ("pinned", "0")):
            env = _env(AGENTREPLAY_MODE="record", AGENTREPLAY_CASSETTE=f"runs/{name}.cassette")
            if seed is not None:
                env["PYTHONHASHSEED"] = seed
            subprocess.run(
                [sys.executable, "fields_agent.py", tools.url],
                cwd=folder,
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
    finally:
        tools.stop()
    yield folder / "runs" / "unpinned.cassette", folder / "runs" / "pinned.cassette"


def _set_order(seed: str) -> str:
    code = f"print(','.join({AGENT.split('FIELDS = ')[1].splitlines()[0]}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=_env(PYTHONHASHSEED=seed),
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_twice_reports_a_run_that_depends_on_the_hash_seed_and_where(
    recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    unpinned, pinned = recordings
    assert _set_order(HASH_SEEDS[0]) != _set_order(HASH_SEEDS[1])  # what makes it show

    corpus = [str(unpinned), str(pinned)]
    done = subprocess.run(
        [sys.executable, "-m", "agentreplay", "check", "--twice", "--json", "-j", "2", *corpus],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    results = {Path(r["path"]).stem: r for r in json.loads(done.stdout)["results"]}

    assert results["pinned"]["verdict"] == "reproduced"
    assert results["pinned"]["unstable"] is None and results["pinned"]["as_expected"]

    unstable = results["unpinned"]["unstable"]
    assert unstable is not None and not results["unpinned"]["as_expected"]
    assert unstable.startswith("a second replay differs from the first ")
    assert "replay diverged at step 1" in unstable
    assert f"call site: {unpinned.parent.parent / 'fields_agent.py'}:{CALL_LINE + 1}" in unstable
    assert "1 unstable" in json.loads(done.stdout)["totals"]
