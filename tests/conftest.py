from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ToolServer


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
