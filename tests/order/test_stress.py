"""Under CPU load, recorded thread-pool runs replay identically, every one of them."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

import agentreplay
from agentreplay.demo.model_server import ModelServer

RUNS = 20
ITEMS = 24


@pytest.fixture
def cpu_load() -> Iterator[None]:
    """Two processes spinning for the whole test: every core is contended."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _pool(url: str) -> dict[int, tuple[str, str]]:
    work: queue.Queue[int] = queue.Queue()
    for item in range(ITEMS):
        work.put(item)
    answers: dict[int, tuple[str, str]] = {}
    client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)

    def worker() -> None:
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            messages: Any = [{"role": "user", "content": f"ticket {item}"}]
            stream = client.chat.completions.create(
                model="gpt-test", messages=messages, stream=True
            )
            text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
            answers[item] = (threading.current_thread().name, text)

    threads = [threading.Thread(target=worker, name=f"w{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    return answers


def test_twenty_recorded_runs_of_a_thread_pool_replay_identically_under_load(
    model: ModelServer, tmp_path: Path, cpu_load: None
) -> None:
    url = f"{model.url}/v1"
    recorded = []
    for run in range(RUNS):
        with agentreplay.record(tmp_path / f"run{run}.cassette"):
            recorded.append(_pool(url))
    model.stop()
    same = 0
    for run in range(RUNS):
        # A thread that waits longer than the order timeout ends the replay as a
        # divergence: no replay can hang.
        with agentreplay.replay(tmp_path / f"run{run}.cassette") as replay:
            same += _pool(url) == recorded[run]
        assert replay.result is not None and replay.result.reproduced, replay.result
    assert same == RUNS
    assert len({tuple(sorted(r.items())) for r in recorded}) > 1  # live runs differed
