from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ToolServer

# huggingface_hub (under smolagents) fetches a registry of AI agent harnesses from the
# Hub, once a day, to label its requests: the tests talk to 127.0.0.1 only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def server() -> Iterator[ToolServer]:
    """A real HTTP server on 127.0.0.1; tests stop it before replaying."""
    srv = ToolServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "run.cassette"
