"""Regression cassettes for tests: everything behind the pytest plugin.

A test that uses the ``agent_cassette`` fixture (or the ``agentreplay`` marker)
runs inside a recording or a replay of its own cassette. This module decides
which (`CassetteMode`, resolved command line > ini > marker), where the
cassette lives (`cassette_path`), runs the session around the test
(`AgentCassette`) and words the failures; replays stay off the network through
`agentreplay.intercept.network`. `agentreplay.pytest_plugin` only wires it into pytest.

Sessions are imported when a test first needs one, so a pytest run that never
uses a cassette does not load the cassette codecs.
"""

from __future__ import annotations

from agentreplay.regression.cassette import CASSETTE_KEY, AgentCassette, cassette_for, summary
from agentreplay.regression.hashseed import pin_hash_seed
from agentreplay.regression.paths import (
    cassette_file_name,
    cassette_path,
    note_shared_paths,
    uses_cassette,
)
from agentreplay.regression.settings import (
    MARKER,
    MAX_NAME,
    CassetteMode,
    Settings,
    check_ini,
)

__all__ = [
    "CASSETTE_KEY",
    "MARKER",
    "MAX_NAME",
    "AgentCassette",
    "CassetteMode",
    "Settings",
    "cassette_file_name",
    "cassette_for",
    "cassette_path",
    "check_ini",
    "note_shared_paths",
    "pin_hash_seed",
    "summary",
    "uses_cassette",
]
