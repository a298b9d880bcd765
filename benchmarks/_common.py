"""What every benchmark prints about the conditions it ran in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def code_version() -> str:
    """The commit of the checkout this script runs from, and whether agentreplay/ differs."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "agentreplay"],
            cwd=root,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {head}" + (" with local changes in agentreplay/" if dirty else "")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


_CAPTURE_SERVERS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from agentreplay.demo.model_server import ModelServer
from tests.capture.agent import responder
from tests.servers import ToolServer
model, tool = ModelServer(responder).start(), ToolServer().start()
print(model.url, tool.url, flush=True)
time.sleep(10**6)
"""


def start_capture_servers() -> tuple[subprocess.Popen[str], str, str]:
    """The capture tests' model and tool servers, in a process of their own (so they
    do not share the measured process's CPU and GIL): the process and their URLs."""
    root = Path(__file__).resolve().parent.parent
    servers = subprocess.Popen(
        [sys.executable, "-c", _CAPTURE_SERVERS, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert servers.stdout is not None
    model_url, tool_url = servers.stdout.readline().split()
    return servers, model_url, tool_url
