"""The terminal debugger: a Textual app over the library's own layers.

Only `agentreplay tui` imports this package, so ``import agentreplay`` and the
other commands never load Textual.
"""

from __future__ import annotations

from agentreplay.tui.app import AgentReplayApp

__all__ = ["AgentReplayApp"]
