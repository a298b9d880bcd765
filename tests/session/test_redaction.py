from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import requests

import agentreplay
from agentreplay import CassetteWarning, Redaction
from tests.helpers import cassette_bytes
from tests.servers import ToolServer

SECRET = "sk-live-0123456789abcdef"


def test_default_secrets_never_reach_the_cassette(server: ToolServer, cassette: Path) -> None:
    with agentreplay.record(cassette):
        httpx.get(
            f"{server.url}/tool/1?key={SECRET}&q=1",
            headers={
                "Authorization": f"Bearer {SECRET}",
                "x-api-key": SECRET,
                "api-key": SECRET,
                "Cookie": f"session={SECRET}",
            },
        )
        requests.get(
            f"{server.url}/tool/2?api_key={SECRET}", headers={"Authorization": f"Bearer {SECRET}"}
        )
    data = cassette_bytes(cassette)
    assert SECRET.encode() not in data
    assert b"[REDACTED]" in data
    assert b"s3cret" not in data  # the server's Set-Cookie


def test_replay_matches_despite_redaction_and_another_key(
    server: ToolServer, cassette: Path
) -> None:
    with agentreplay.record(cassette):
        first = httpx.get(
            f"{server.url}/echo?key={SECRET}", headers={"Authorization": f"Bearer {SECRET}"}
        ).json()
    server.stop()
    with agentreplay.replay(cassette) as run:
        again = httpx.get(
            f"{server.url}/echo?key=other-key", headers={"Authorization": "Bearer other-key"}
        ).json()
    assert again == first
    assert run.result is not None and run.result.reproduced


def test_user_rules_redact_headers_query_json_paths_and_hooks(
    server: ToolServer, cassette: Path
) -> None:
    def drop_tenant(info):  # type: ignore[no-untyped-def]
        return info.__class__(
            info.method,
            info.url.replace("tenant-42", "tenant-X"),
            info.headers,
            info.body,
            info.client,
        )

    rules = Redaction(
        headers=["x-custom-token"],
        query=["sig"],
        json_paths=["$.user.email", "items.*.card"],
        hooks=[drop_tenant],
    )
    body = {
        "user": {"email": "ada@example.com", "name": "Ada"},
        "items": [{"card": "4111-1111"}, {"card": "5500-0000"}],
    }
    with agentreplay.record(cassette, redact=rules):
        httpx.post(
            f"{server.url}/tool/x?sig=abc123&t=tenant-42",
            json=body,
            headers={"x-custom-token": "tok-999"},
        )
    data = cassette_bytes(cassette)
    for secret in (
        b"tok-999",
        b"abc123",
        b"ada@example.com",
        b"4111-1111",
        b"5500-0000",
        b"tenant-42",
    ):
        assert secret not in data
    assert b"Ada" in data
    server.stop()
    with agentreplay.replay(cassette, redact=rules) as run:
        httpx.post(
            f"{server.url}/tool/x?sig=zzz&t=tenant-42",
            json=body,
            headers={"x-custom-token": "tok-000"},
        )
    assert run.result is not None and run.result.reproduced


def test_a_replay_without_redact_matches_as_the_recording_did(
    server: ToolServer, cassette: Path
) -> None:
    rules = Redaction(headers=["x-custom-token"], query=["sig"], json_paths=["$.user.email"])
    body = {"user": {"email": "ada@example.com", "name": "Ada"}}
    with agentreplay.record(cassette, redact=rules):
        httpx.post(f"{server.url}/tool/x?sig=abc", json=body, headers={"x-custom-token": "1"})
    server.stop()
    body["user"]["email"] = "grace@example.com"  # other values where the rules hid them
    with agentreplay.replay(cassette) as run:  # no redact=: the header's rules are used
        httpx.post(f"{server.url}/tool/x?sig=zzz", json=body, headers={"x-custom-token": "2"})
    assert run.result is not None and run.result.reproduced


def test_a_replay_without_redact_warns_that_hooks_cannot_come_back(
    server: ToolServer, cassette: Path
) -> None:
    def hide_tenant(info):  # type: ignore[no-untyped-def]
        return info

    with agentreplay.record(cassette, redact=Redaction(hooks=[hide_tenant])):
        pass
    with pytest.warns(CassetteWarning, match="hide_tenant"), agentreplay.replay(cassette):
        pass


EMAIL = rb"[\w.+-]+@[\w-]+\.[\w.]+"


def test_patterns_hide_matches_in_request_and_response_bodies_and_still_replay(
    server: ToolServer, cassette: Path
) -> None:
    rules = Redaction(patterns=[EMAIL.decode()])
    with agentreplay.record(cassette, redact=rules):
        echoed = httpx.post(f"{server.url}/echo", content=b"write to ann@example.com").json()
    assert echoed["body"] == "write to ann@example.com"  # the live run saw it
    data = cassette_bytes(cassette)
    assert b"ann@example.com" not in data and b"write to [REDACTED]" in data
    server.stop()
    with agentreplay.replay(cassette) as replayed:  # the rules come from the header
        again = httpx.post(f"{server.url}/echo", content=b"write to bob@example.org").json()
    assert again["body"] == "write to [REDACTED]"
    assert replayed.result is not None and replayed.result.reproduced


def test_a_pattern_that_is_not_a_regex_is_refused() -> None:
    with pytest.raises(agentreplay.UsageError, match="not a regular expression"):
        Redaction(patterns=["(unclosed"])
