from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentreplay.demo.model_server import ModelServer, Reply, Responder
from tests.llm.helpers import Serve


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start a fake model server answering ``reply`` (or asking a responder); stopped after."""
    servers: list[ModelServer] = []

    def start(reply: Reply | Responder, *, chunk_delay: float = 0.0) -> ModelServer:
        responder = reply if callable(reply) else (lambda request: reply)
        server = ModelServer(responder, chunk_delay=chunk_delay).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "run.cassette"
