from __future__ import annotations

from agentreplay.jsondiff import MAX_LINES, Change, diff, path_text, render


def test_equal_values_have_no_changes() -> None:
    value = {"a": [1, {"b": None}], "c": "x"}
    assert diff(value, {"a": [1, {"b": None}], "c": "x"}) == []


def test_changes_carry_their_path_kind_and_both_values() -> None:
    a = {"messages": [{"role": "user", "content": "Paris"}], "temperature": 0.7, "old": 1}
    b = {"messages": [{"role": "user", "content": "Rome"}], "temperature": 0.2, "new": [2]}
    assert diff(a, b) == [
        Change(("messages", 0, "content"), "changed", "Paris", "Rome"),
        Change(("temperature",), "changed", 0.7, 0.2),
        Change(("old",), "removed", old=1),
        Change(("new",), "added", new=[2]),
    ]


def test_numbers_of_another_type_differ() -> None:
    assert diff(1, 1.0) == [Change((), "changed", 1, 1.0)]
    assert diff([1], [True]) == [Change((0,), "changed", 1, True)]


def test_array_items_past_the_shorter_end_are_added_or_removed_one_by_one() -> None:
    assert diff([1, 2, 3], [1]) == [
        Change((1,), "removed", old=2),
        Change((2,), "removed", old=3),
    ]
    assert diff({"x": []}, {"x": ["a"]}) == [Change(("x", 0), "added", new="a")]


def test_path_text_writes_keys_indexes_and_odd_keys() -> None:
    assert path_text(("messages", 3, "content")) == "$.messages[3].content"
    assert path_text(("tool_calls", 0, "arguments", "city"), root="") == (
        "tool_calls[0].arguments.city"
    )
    assert path_text((0, "a.b", "x[1]", "")) == '$[0]["a.b"]["x[1]"][""]'


def test_render_words_changes_as_divergence_messages_do() -> None:
    a = {"messages": [{"content": "weather in Paris?"}], "n": 1, "gone": {"k": 1}, "l": [1]}
    b = {"messages": [{"content": "weather in Rome?"}], "n": 2, "l": [1, 2, 3], "new": True}
    assert render(diff(a, b)) == [
        "$.messages[0].content: 'weather in Paris?' != 'weather in Rome?'",
        "$.n: 1 != 2",
        '$.gone: removed (was {"k": 1})',
        "$.l: 2 more items (was 1, now 3); first new: 2",
        "$.new: added true",
    ]
    assert render(diff([1, 2, 3], [1])) == ["$: 2 fewer items (was 3, now 1); first missing: 2"]


def test_render_points_at_the_first_difference_of_long_strings() -> None:
    a, b = "x" * 200 + "Paris", "x" * 200 + "Rome"
    (line,) = render(diff({"s": a}, {"s": b}))
    assert line.startswith("$.s: differs at character 200: ...'")
    assert "Paris" in line and "Rome" in line


def test_render_stops_at_the_line_limit() -> None:
    a = {str(i): i for i in range(30)}
    b = {str(i): -i for i in range(30)}
    assert len(diff(a, b)) == 29  # 0 == -0
    assert len(render(diff(a, b))) == MAX_LINES
    assert render(diff(a, b), limit=2) == ["$.1: 1 != -1", "$.2: 2 != -2"]
