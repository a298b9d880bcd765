from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import requests

import agentreplay
from agentreplay import CassetteWarning, Redaction
from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.secrets import SECRET_WORDS, is_secret_name
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
    # The server echoed the key back: the cassette holds that body with the key hidden.
    assert first["path"] == f"/echo?key={SECRET}"
    assert again["path"] == "/echo?key=[REDACTED]"
    assert again["method"] == first["method"]
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


# -- the rules, one at a time -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "PROXY-AUTHORIZATION",
        "cookie",
        "Set-Cookie",
        "X-Api-Key",
        "x-auth-token",
        "Ocp-Apim-Subscription-Key",
        "X-Amz-Security-Token",
        "X-Hub-Signature-256",
        "x-client-secret",
        "apiKey",
        "ACCESS_TOKEN",
        "accessToken",
        "sig",
        "password",
        "KEY",
    ],
)
def test_secret_names_are_recognised_in_any_case_and_spelling(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["content-type", "x-ratelimit-remaining-tokens", "max_tokens", "Idempotency-Key", "author"],
)
def test_ordinary_names_are_kept(name: str) -> None:
    assert not is_secret_name(name)


def test_every_secret_word_is_documented() -> None:
    page = (Path(__file__).parents[2] / "docs" / "redaction.md").read_text()
    for word in SECRET_WORDS:
        assert f"`{word}`" in page, word


def _info(url: str, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> RequestInfo:
    return RequestInfo("POST", url, headers, body, "test")


def test_query_keeps_its_other_bytes_and_hides_secret_values() -> None:
    redactor = Redaction().redactor(environment=False)
    info = redactor.request(_info(f"http://h/p?q=a%20b&Api-Key={SECRET}&x=1#frag"))
    assert info.url == "http://h/p?q=a%20b&Api-Key=[REDACTED]&x=1#frag"


def test_url_credentials_are_hidden_and_searched_for_elsewhere() -> None:
    redactor = Redaction().redactor(environment=False)
    info = redactor.request(_info(f"https://ada:{SECRET}@h/p", body=f"pw={SECRET}".encode()))
    assert info.url == "https://[REDACTED]@h/p"
    assert info.body == b"pw=[REDACTED]"
    assert redactor.text(f"failed for https://ada:{SECRET}@h") == "failed for https://[REDACTED]@h"


def test_form_fields_named_like_secrets_are_hidden() -> None:
    redactor = Redaction().redactor(environment=False)
    headers = (("Content-Type", "application/x-www-form-urlencoded"),)
    info = redactor.request(_info("http://h/", headers, f"user=ada&password={SECRET}".encode()))
    assert info.body == b"user=ada&password=[REDACTED]"


def test_a_bearer_token_is_learnt_without_its_scheme() -> None:
    redactor = Redaction().redactor(environment=False)
    redactor.request(_info("http://h/", (("Authorization", f"Bearer {SECRET}"),)))
    assert redactor.text(f"token {SECRET} refused") == "token [REDACTED] refused"
    assert redactor.data(f"{SECRET}".encode()) == b"[REDACTED]"


def test_short_or_plain_word_values_are_not_searched_for() -> None:
    redactor = Redaction().redactor(environment=False)
    info = redactor.request(_info("http://h/?key=abc&token=password"))
    assert info.url == "http://h/?key=[REDACTED]&token=[REDACTED]"
    assert redactor.text("abc and password stay") == "abc and password stay"


def test_environment_secrets_are_known_from_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    monkeypatch.setenv("CACHE_URL", f"redis://:{SECRET}2@cache:6379/0")
    redactor = Redaction().redactor()
    assert redactor.text(f"a {SECRET} b {SECRET}2") == "a [REDACTED] b [REDACTED]"
    assert Redaction(defaults=False).redactor().text(SECRET) == SECRET


def test_argv_options_named_like_secrets_are_hidden() -> None:
    redactor = Redaction().redactor(environment=False)
    header = redactor.header(
        {"argv": ["run.py", "--api-key", SECRET, "--name", "x", "--db-password=hunter22"]}
    )
    assert header["argv"] == [
        "run.py",
        "--api-key",
        "[REDACTED]",
        "--name",
        "x",
        "--db-password=[REDACTED]",
    ]
    assert redactor.text(f"{SECRET} hunter22") == "[REDACTED] [REDACTED]"


def test_patterns_and_json_paths_apply_to_tool_arguments_and_results(
    cassette: Path,
) -> None:
    rules = Redaction(json_paths=["$.card"], patterns=[r"acct_[0-9a-f]{8}"])

    @agentreplay.tool
    def charge(customer: str, payment: dict[str, str]) -> dict[str, str]:
        return {"card": payment["card"], "receipt": f"paid by {customer}"}

    original = {"card": "4111-1111", "note": "ok"}
    with agentreplay.record(cassette, redact=rules):
        charge("acct_0123abcd", original)
    assert original == {"card": "4111-1111", "note": "ok"}  # the caller's are not changed
    data = cassette_bytes(cassette)
    for secret in (b"4111-1111", b"acct_0123abcd"):
        assert secret not in data
    with agentreplay.open(cassette) as opened:
        (step,) = list(opened.steps())
    assert step.args == ["[REDACTED]", {"card": "[REDACTED]", "note": "ok"}]
    assert step.value == {"card": "[REDACTED]", "receipt": "paid by [REDACTED]"}
    with agentreplay.replay(cassette) as run:  # the header's rules, on the live side too
        assert charge("acct_9999ffff", {"card": "5500-0000", "note": "ok"})["card"] == "[REDACTED]"
    assert run.result is not None and run.result.reproduced


def test_a_cassette_from_before_the_secret_names_matches_by_its_own_names() -> None:
    old = {"headers": ["authorization"], "query": ["key"], "json_paths": [], "hooks": []}
    rules, _ = Redaction.from_description(old)
    assert (
        rules.request(_info("http://h/?token=abc&key=x")).url
        == "http://h/?token=abc&key=[REDACTED]"
    )
    new, _ = Redaction.from_description(Redaction().describe())
    assert new.request(_info("http://h/?token=abc")).url == "http://h/?token=[REDACTED]"


def test_secret_named_variables_holding_paths_are_not_searched_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path))
    redactor = Redaction().redactor()
    assert redactor.text(f"{tmp_path}/examples/agent.py") == f"{tmp_path}/examples/agent.py"
