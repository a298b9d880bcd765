"""The support example agent, recording every call of its ``@entrypoint``: how the tests
of the CI gate and of ``promote`` make a corpus of real runs."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentreplay.cli.demo_run import support_responder
from agentreplay.demo.model_server import ModelServer
from agentreplay.demo.tool_server import ToolServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@contextlib.contextmanager
def recording_support_agent(agent_dir: Path, cassettes: Path, seed: int) -> Iterator[Any]:
    """examples/support_agent.py copied into ``agent_dir`` and imported from there, each
    call of its entrypoint recorded into ``cassettes`` (a path pattern), against a model
    answering as ``seed`` deals and the order service, both stopped on the way out."""
    shutil.copy(EXAMPLES / "support_agent.py", agent_dir)
    model = ModelServer(support_responder(seed=seed)).start()
    tools = ToolServer().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(agent_dir)
            patch.syspath_prepend(str(agent_dir))
            patch.setenv("OPENAI_BASE_URL", f"{model.url}/v1")
            patch.setenv("SUPPORT_TOOLS_URL", tools.url)
            patch.setenv("OPENAI_API_KEY", "sk-test")
            patch.setenv("AGENTREPLAY_MODE", "record")
            patch.setenv("AGENTREPLAY_CASSETTE", str(cassettes))
            patch.setenv("AGENTREPLAY_ENV", "OPENAI_BASE_URL,SUPPORT_TOOLS_URL")
            try:
                yield __import__("support_agent")
            finally:
                sys.modules.pop("support_agent", None)
    finally:
        model.stop()
        tools.stop()
