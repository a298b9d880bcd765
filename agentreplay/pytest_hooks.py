"""Hooks the agentreplay pytest plugin adds; implement them in a ``conftest.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from agentreplay.regression import Settings


def pytest_agentreplay_configure(config: pytest.Config, settings: Settings) -> None:
    """Customise how one test's cassette is recorded and replayed.

    Called for every test that records or replays (not in mode ``off``), just
    before its session starts, with a fresh `agentreplay.regression.Settings`.
    Append to ``settings.redactions`` (each an `agentreplay.Redaction`) and
    ``settings.matchers`` (each an `agentreplay.session.Matcher`); both lists
    apply to recording and to replay. ``settings.nodeid`` says which test it is.
    A ``conftest.py`` implementation only sees the tests below its directory.
    """
