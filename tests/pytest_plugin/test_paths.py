"""Where a test's cassette lives: <test dir>/cassettes/<module>/<test name>.cassette."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentreplay.regression import MAX_NAME, cassette_file_name, cassette_path
from tests.pytest_plugin.project import cassettes, make_project

pytest_plugins = ["pytester"]


def test_a_plain_test_name_is_the_file_name() -> None:
    assert cassette_file_name("test_weather") == "test_weather.cassette"
    assert cassette_file_name("TestAgent.test_plan[gpt-4o-0.5]") == (
        "TestAgent.test_plan[gpt-4o-0.5].cassette"
    )


def test_unsafe_characters_are_replaced_and_the_name_gets_a_hash() -> None:
    slash = cassette_file_name("test_x[a/b]")
    underscore = cassette_file_name("test_x[a_b]")
    assert slash.startswith("test_x[a_b]-") and slash.endswith(".cassette")
    assert underscore == "test_x[a_b].cassette"
    assert cassette_file_name("test_x[a b]") not in (slash, underscore)
    assert cassette_file_name("test_x[é:*?]").startswith("test_x[____]-")


def test_long_names_are_shortened_with_a_hash() -> None:
    long_a, long_b = "test_x[" + "a" * 300 + "]", "test_x[" + "a" * 299 + "b]"
    name_a, name_b = cassette_file_name(long_a), cassette_file_name(long_b)
    assert len(name_a) == len(name_b) == MAX_NAME
    assert name_a != name_b
    assert name_a.startswith("test_x[aaaa") and name_a.endswith(".cassette")


def test_cassette_dir_is_relative_to_the_test_file_or_absolute(tmp_path: Path) -> None:
    test_file = tmp_path / "tests" / "unit" / "test_agent.py"
    assert cassette_path(test_file, "test_a") == (
        tmp_path / "tests/unit/cassettes/test_agent/test_a.cassette"
    )
    assert cassette_path(test_file, "test_a", "../recordings") == (
        tmp_path / "tests/unit/../recordings/test_agent/test_a.cassette"
    )
    assert cassette_path(test_file, "test_a", "/srv/cassettes", rootdir=tmp_path) == (
        Path("/srv/cassettes/tests/unit/test_agent/test_a.cassette")
    )


PATH_TESTS = """
import pytest


@pytest.mark.parametrize("city", ["Paris", "New York/NY", pytest.param(0, id="x" * 200)])
def test_city(agent_cassette, city):
    pass


class TestAgent:
    def test_plan(self, agent_cassette):
        pass


@pytest.mark.agentreplay(path="fixtures/special.cassette")
def test_own_path():
    pass
"""


def test_parametrized_class_and_marker_paths(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(test_paths=PATH_TESTS)
    pytester.runpytest().assert_outcomes(passed=5)
    plan, new_york, paris, long_one, special = cassettes(pytester)
    assert special == "fixtures/special.cassette"
    assert plan == "cassettes/test_paths/TestAgent.test_plan.cassette"
    assert paris == "cassettes/test_paths/test_city[Paris].cassette"
    assert new_york.startswith("cassettes/test_paths/test_city[New_York_NY]-")
    assert long_one.startswith("cassettes/test_paths/test_city[xxxx")
    assert len(Path(long_one).name) == MAX_NAME


def test_cassette_dir_from_ini_and_command_line(pytester: pytest.Pytester, tmp_path: Path) -> None:
    make_project(pytester, "agentreplay_cassette_dir = recordings\n")
    pytester.mkpydir("sub")
    pytester.makepyfile(**{"sub/test_one": "def test_a(agent_cassette):\n    pass\n"})
    pytester.runpytest().assert_outcomes(passed=1)
    assert cassettes(pytester) == ["sub/recordings/test_one/test_a.cassette"]

    elsewhere = tmp_path / "shared"
    result = pytester.runpytest(f"--agentreplay-cassette-dir={elsewhere}")
    result.assert_outcomes(passed=1)
    assert [p.relative_to(elsewhere).as_posix() for p in elsewhere.rglob("*.cassette")] == [
        "sub/test_one/test_a.cassette"
    ]

    missing = pytester.runpytest("--agentreplay-mode=replay", "--agentreplay-cassette-dir=other")
    missing.stdout.fnmatch_lines(
        [
            "    pytest sub/test_one.py::test_a --agentreplay-mode=record "
            "--agentreplay-cassette-dir=other"
        ]
    )


def test_two_tests_cannot_record_into_one_cassette(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    pytester.makepyfile(
        test_shared="""
import pytest

pytestmark = pytest.mark.agentreplay(path="shared.cassette")

def test_a():
    pass

def test_b():
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "agentreplay: shared.cassette is also the cassette of "
            "test_shared.py::test_b; give each test its own *"
        ]
    )
    assert cassettes(pytester) == []
