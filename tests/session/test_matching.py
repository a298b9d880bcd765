"""The default matcher: what an SDK upgrade changes does not matter, a real change does."""

from __future__ import annotations

import json
from typing import Any

from agentreplay.session.matching import DefaultMatcher, RequestInfo

CHAT = "https://api.openai.com/v1/chat/completions"
ASKED: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
    "temperature": 0.2,
}


def _request(body: dict[str, Any], *headers: tuple[str, str], url: str = CHAT) -> RequestInfo:
    return RequestInfo("POST", url, headers, json.dumps(body).encode(), "httpx")


def test_headers_their_order_and_json_key_order_do_not_matter() -> None:
    old = _request(ASKED, ("User-Agent", "OpenAI/Python 2.54.0"), ("X-Stainless-Retry-Count", "0"))
    reordered = dict(reversed(list(ASKED.items())))
    new = _request(
        reordered,
        ("x-stainless-package-version", "3.57.0"),
        ("User-Agent", "OpenAI/Python 3.57.0"),
        ("X-Stainless-Runtime-Version", "3.12.1"),
    )
    assert DefaultMatcher().diff(old, new) == []


def test_a_field_added_at_its_default_or_as_null_matches() -> None:
    newer = {**ASKED, "stream": False, "n": 1, "parallel_tool_calls": True, "user": None}
    assert DefaultMatcher().diff(_request(ASKED), _request(newer)) == []
    assert DefaultMatcher().diff(_request(newer), _request(ASKED)) == []  # and dropped


def test_a_field_added_with_another_value_diverges_naming_it() -> None:
    changed = {**ASKED, "stream": True, "n": 2}
    assert DefaultMatcher().diff(_request(ASKED), _request(changed)) == [
        "body $.stream: added true",
        "body $.n: added 2",
    ]


def test_a_changed_field_diverges_naming_it_even_if_the_new_value_is_a_default() -> None:
    changed = {**ASKED, "temperature": 1, "messages": [{"role": "user", "content": "Rome?"}]}
    assert DefaultMatcher().diff(_request(ASKED), _request(changed)) == [
        "body $.messages[0].content: 'Weather in Paris?' != 'Rome?'",
        "body $.temperature: 0.2 != 1",
    ]


def test_defaults_are_forgiven_only_for_model_apis_and_only_at_the_top() -> None:
    other = "https://example.com/api/orders"
    newer = {**ASKED, "stream": False}
    assert DefaultMatcher().diff(_request(ASKED, url=other), _request(newer, url=other)) == [
        "body $.stream: added false"
    ]
    nested = {**ASKED, "messages": [{**ASKED["messages"][0], "name": None}]}
    assert DefaultMatcher().diff(_request(ASKED), _request(nested)) == [
        "body $.messages[0].name: added null"
    ]


def test_a_default_of_another_type_is_not_the_default() -> None:
    newer = {**ASKED, "n": True, "stream": 0}
    assert DefaultMatcher().diff(_request(ASKED), _request(newer)) == [
        "body $.n: added true",
        "body $.stream: added 0",
    ]
