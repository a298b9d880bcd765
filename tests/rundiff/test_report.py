from __future__ import annotations

import json

from agentreplay.errors import RequestSnapshot
from agentreplay.rundiff.model import FieldChange
from agentreplay.rundiff.report import change_lines, is_model_call, request_changes

URL = "https://api.openai.com/v1/chat/completions"


def _chat(*messages: dict[str, str], **extra: object) -> RequestSnapshot:
    body = {"model": "gpt-4o", "messages": list(messages), **extra}
    return RequestSnapshot("POST", URL, json.dumps(body).encode())


def test_a_model_call_is_compared_on_its_decoded_fields() -> None:
    system = {"role": "system", "content": "You are a helpful assistant."}
    user = {"role": "user", "content": "Hi?"}
    before = _chat(system, user, temperature=0.2)
    after = _chat(
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Hello!"},
        user,
        temperature=0.7,
    )
    assert is_model_call(before)
    changes = request_changes(before, after)
    assert [(c.path, c.kind, c.label, c.b_path) for c in changes] == [
        ("messages[0].content", "changed", "system", None),
        ("messages[1]", "added", "user", None),
        ("params.temperature", "changed", None, None),
    ]
    assert change_lines(changes) == [
        "~ messages[0] (system).content: You are a [-helpful-]{+terse+} assistant.",
        '+ messages[1] (user): {"role": "user", "content": "Hello!"}',
        "~ params.temperature: 0.2 → 0.7",
    ]


def test_an_edited_message_that_moved_names_its_place_in_both() -> None:
    first = {"role": "user", "content": "one"}
    changes = request_changes(
        _chat(first, {"role": "user", "content": "two"}),
        _chat({"role": "system", "content": "new"}, first, {"role": "user", "content": "2"}),
    )
    assert [(c.path, c.kind, c.b_path) for c in changes] == [
        ("messages[0]", "added", None),
        ("messages[1].content", "changed", "messages[2].content"),
    ]
    assert (
        change_lines(changes)[1]
        == "~ messages[1] (user).content (B: messages[2].content): [-two-]{+2+}"
    )


def test_another_request_is_compared_on_method_url_and_body() -> None:
    before = RequestSnapshot("POST", "http://tools/ask", b'{"q": "Paris", "n": 1}')
    after = RequestSnapshot("POST", "http://tools/ask", b'{"q": "Rome", "n": 1}')
    assert not is_model_call(before)
    (change,) = request_changes(before, after)
    assert (change.path, change.old, change.new) == ("body.q", "Paris", "Rome")


def test_change_lines_stop_at_their_limit() -> None:
    changes = [FieldChange(f"params.p{i}", "changed", i, i + 1) for i in range(5)]
    assert change_lines(changes, limit=2) == [
        "~ params.p0: 0 → 1",
        "~ params.p1: 1 → 2",
        "… and 3 more",
    ]
