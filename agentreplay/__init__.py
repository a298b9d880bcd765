"""agentreplay: deterministic record and replay for AI agents.

Importing this package patches nothing and loads neither the model SDKs nor
Textual nor numpy; each part is imported when first used.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from agentreplay._version import __version__
from agentreplay.errors import (
    AgentReplayError,
    CassetteError,
    CassetteWarning,
    DivergenceError,
    RecordingError,
    UsageError,
)

if TYPE_CHECKING:
    from agentreplay import capture
    from agentreplay.api import entrypoint, record, replay
    from agentreplay.intercept.tools import step, tool
    from agentreplay.rundiff import diff
    from agentreplay.session import Mode, Recording, Redaction, Replay, ReplayResult
    from agentreplay.steps import Cassette
    from agentreplay.steps import open_cassette as open

__all__ = [
    "AgentReplayError",
    "Cassette",
    "CassetteError",
    "CassetteWarning",
    "DivergenceError",
    "Mode",
    "Recording",
    "RecordingError",
    "Redaction",
    "Replay",
    "ReplayResult",
    "UsageError",
    "__version__",
    "capture",
    "diff",
    "entrypoint",
    "open",
    "record",
    "replay",
    "step",
    "tool",
]

_LAZY: dict[str, tuple[str, str]] = {
    "Cassette": ("agentreplay.steps", "Cassette"),
    "diff": ("agentreplay.rundiff", "diff"),
    "capture": ("agentreplay.capture", ""),  # the subpackage itself
    "entrypoint": ("agentreplay.api", "entrypoint"),
    "open": ("agentreplay.steps", "open_cassette"),
    "record": ("agentreplay.api", "record"),
    "replay": ("agentreplay.api", "replay"),
    "step": ("agentreplay.intercept.tools", "step"),
    "tool": ("agentreplay.intercept.tools", "tool"),
    **{
        name: ("agentreplay.session", name)
        for name in ("Mode", "Recording", "Redaction", "Replay", "ReplayResult")
    },
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'agentreplay' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if os.environ.get("AGENTREPLAY_MODE", "").strip().lower() == "replay":
    # A script replayed with @entrypoint: the environment its cassette kept is set now,
    # before the script's module-level code reads it (see api.prepare_script_replay).
    importlib.import_module("agentreplay.api").prepare_script_replay()
