"""pytest plugin: regression cassettes for agents (hooks, options, markers, fixtures).

The logic lives in `agentreplay.regression`; this module only wires it into
pytest. Settings resolve **command line > ini > marker > default**.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from agentreplay import pytest_hooks, regression
from agentreplay.regression import CASSETTE_KEY, AgentCassette, CassetteMode

_PRECEDENCE = "Precedence: command line > ini > marker."


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(pytest_hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentreplay", "record and replay agent runs")
    modes = [m.value for m in CassetteMode]
    group.addoption(
        "--agentreplay-mode",
        dest="agentreplay_mode",
        choices=modes,
        default=None,
        help="What tests using agent_cassette do: auto (replay the cassette if it exists, "
        "else record it; default), record (record new cassettes), replay (replay; "
        "no network; a missing cassette is an error), rewrite (record again, "
        f"replacing cassettes), off (nothing). Overrides ini agentreplay_mode and "
        f"@pytest.mark.agentreplay(mode=...). {_PRECEDENCE}",
    )
    group.addoption(
        "--agentreplay-cassette-dir",
        dest="agentreplay_cassette_dir",
        default=None,
        metavar="DIR",
        help="Directory of cassettes, relative to each test file's directory or absolute "
        "(default: cassettes). Overrides ini agentreplay_cassette_dir.",
    )
    group.addoption(
        "--agentreplay-hash-seed",
        dest="agentreplay_hash_seed",
        default=None,
        metavar="N|off",
        help="PYTHONHASHSEED for the session when it is not set (default 0, so set "
        "order replays; the run restarts once to set it), or off to leave it random. "
        "Overrides AGENTREPLAY_HASH_SEED and ini agentreplay_hash_seed.",
    )
    parser.addini(
        "agentreplay_hash_seed",
        default=None,
        help="Default --agentreplay-hash-seed (a number, or off).",
    )
    parser.addini(
        "agentreplay_mode",
        default=None,
        help=f"Default --agentreplay-mode (auto|record|replay|rewrite|off). {_PRECEDENCE}",
    )
    parser.addini(
        "agentreplay_cassette_dir", default=None, help="Default --agentreplay-cassette-dir."
    )
    parser.addini(
        "agentreplay_strict",
        type="bool",
        default=None,
        help=f"Replay strictly: each call must be the next recorded one (default "
        f"true). {_PRECEDENCE}",
    )
    parser.addini(
        "agentreplay_pace",
        default=None,
        help=f"Replay pace of streams and sleeps: instant (default), recorded, or a "
        f"speed factor. {_PRECEDENCE}",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, Any, Any]:
    # Before output capture starts: the run may restart with PYTHONHASHSEED set.
    regression.pin_hash_seed(early_config)
    return (yield)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "agentreplay(path=None, mode=None, strict=None, pace=None): record or replay this "
        "test's agent run in a cassette (see docs/pytest.md). Command line and ini "
        "settings take precedence over the marker's.",
    )
    regression.check_ini(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    regression.note_shared_paths(config, items)


@pytest.fixture
def agent_cassette(request: pytest.FixtureRequest) -> Iterator[AgentCassette]:
    """Record or replay this test's agent run in its cassette; see docs/pytest.md."""
    cassette = regression.cassette_for(request.node).start()
    yield cassette
    cassette.finish()


@pytest.fixture(autouse=True)
def _agentreplay_marker(request: pytest.FixtureRequest) -> None:
    """Give tests marked ``@pytest.mark.agentreplay`` their cassette."""
    if request.node.get_closest_marker(regression.MARKER) is not None:
        request.getfixturevalue("agent_cassette")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    cassette = item.stash.get(CASSETTE_KEY, None)
    if cassette is None:
        return (yield)
    try:
        result = yield
    except BaseException as exc:
        failure = cassette.after_call(exc)
        if failure is not None:
            raise failure from None
        raise
    failure = cassette.after_call(None)
    if failure is not None:
        raise failure
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    cassette = item.stash.get(CASSETTE_KEY, None)
    if cassette is not None and cassette.session is not None:
        if call.when == "setup" and call.excinfo is not None:
            cassette.test_failed_early(call.excinfo.value)
        if report.failed:
            report.sections.append(("agentreplay", cassette.report_section()))
    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    reports = [r for group in terminalreporter.stats.values() for r in group]
    lines = regression.summary(reports)
    if lines and config.get_verbosity() >= -1:
        terminalreporter.write_sep("=", "agentreplay")
        for line in lines:
            terminalreporter.write_line(line)
