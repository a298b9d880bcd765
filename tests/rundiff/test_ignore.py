from __future__ import annotations

import pytest

from agentreplay.errors import UsageError
from agentreplay.rundiff import DEFAULT_IGNORE
from agentreplay.rundiff.ignore import Ignore


def test_default_patterns_drop_ids_and_volatile_headers_only() -> None:
    tree = {
        "tool_calls": [{"id": "call_1", "name": "f", "arguments": {"id": 7}}],
        "messages": [{"role": "tool", "tool_call_id": "call_1", "content": "x"}],
        "response": {"headers": {"date": "Mon", "x-request-id": "r1", "content-type": "json"}},
    }
    assert Ignore.of().strip(tree) == {
        "tool_calls": [{"name": "f", "arguments": {"id": 7}}],
        "messages": [{"role": "tool", "content": "x"}],
        "response": {"headers": {"content-type": "json"}},
    }


def test_a_tree_with_nothing_to_drop_is_returned_as_is() -> None:
    tree = {"messages": [{"role": "user", "content": "hi"}], "model": "m"}
    assert Ignore.of().strip(tree) is tree


def test_patterns_name_keys_indexes_wildcards_and_any_depth() -> None:
    tree = {"a": {"b": [{"c": 1, "d": 2}, {"c": 3}]}, "x-1": 1, "x-2": 2, "keep": {"c": 4}}
    assert Ignore(("a.b[0].c",)).strip(tree)["a"]["b"] == [{"d": 2}, {"c": 3}]
    assert Ignore(("a.b[*].c",)).strip(tree)["a"]["b"] == [{"d": 2}, {}]
    assert set(Ignore(("x-*",)).strip(tree)) == {"a", "keep"}
    assert Ignore(("**.c",)).strip(tree) == {
        "a": {"b": [{"d": 2}, {}]},
        "x-1": 1,
        "x-2": 2,
        "keep": {},
    }
    assert Ignore(('["x-1"]',)).strip(tree).keys() == {"a", "x-2", "keep"}
    assert Ignore(("a.**",)).strip(tree).keys() == {"x-1", "x-2", "keep"}


def test_of_adds_patterns_and_takes_defaults_back() -> None:
    rules = Ignore.of(["params.seed", "!*.headers.date"])
    assert "params.seed" in rules.patterns
    assert "*.headers.date" not in rules.patterns
    assert len(rules.patterns) == len(DEFAULT_IGNORE)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["!params.seed"], "takes nothing back"),
        (["a..b"], "cannot read"),
        (["a[x]"], "cannot read"),
        ("params.seed", "a list of path patterns"),
    ],
)
def test_bad_patterns_are_usage_errors(given: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Ignore.of(given)
