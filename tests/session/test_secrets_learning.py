"""What a run learns as secrets, when what it learns from changes between runs: the
environment is learnt again when it changes, and a value met twice is learnt once."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.redaction import Redaction
from agentreplay.session.secrets import Secrets

SECRET = "sk-live-0123456789abcdef"


def _learnt() -> Secrets:
    secrets = Secrets()
    secrets.learn_environment()
    return secrets


def test_each_run_learns_the_environment_as_it_is_when_the_run_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MY_SERVICE_TOKEN", raising=False)
    assert _learnt().text(SECRET) == SECRET
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    assert _learnt().text(f"a {SECRET}") == "a [REDACTED]"
    assert _learnt().text(f"a {SECRET}") == "a [REDACTED]"  # the same environment again
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET + "2")
    assert _learnt().text(SECRET + "2") == "[REDACTED]"
    monkeypatch.delenv("MY_SERVICE_TOKEN")
    assert _learnt().text(SECRET + "2") == SECRET + "2"


def test_a_secret_variable_naming_a_file_is_not_learnt_once_the_file_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    name = "credentials-file-1234"
    monkeypatch.setenv("MY_CREDENTIALS", name)
    assert _learnt().text(name) == "[REDACTED]"
    (tmp_path / name).write_text("{}")
    assert _learnt().text(name) == name  # a path: searching for it would erase paths
    (tmp_path / name).unlink()
    assert _learnt().text(name) == "[REDACTED]"


def test_a_run_started_with_secrets_met_still_learns_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    secrets = Secrets()
    secrets.learn("another-secret-value-42")
    secrets.learn_environment()
    assert secrets.text(f"{SECRET} another-secret-value-42") == "[REDACTED] [REDACTED]"
    assert secrets.data(SECRET.encode()) == b"[REDACTED]"


def test_a_secret_header_met_on_every_request_is_hidden_on_every_request() -> None:
    redactor = Redaction().redactor(environment=False)
    for _ in range(3):
        info = RequestInfo(
            "POST",
            "http://h/v1",
            (("Authorization", f"Bearer {SECRET}"), ("X-Echo", f"token {SECRET}")),
            f'{{"k": "{SECRET}"}}'.encode(),
            "httpx",
        )
        redacted = redactor.request(info)
        assert redacted.headers == (("Authorization", "[REDACTED]"), ("X-Echo", "token [REDACTED]"))
        assert redacted.body == b'{"k": "[REDACTED]"}'
    # Another run with the same rules learns it for itself.
    other = Redaction().redactor(environment=False)
    assert other.text(SECRET) == SECRET
    other.request(RequestInfo("GET", "http://h/", (("Authorization", SECRET),), b"", "httpx"))
    assert other.text(SECRET) == "[REDACTED]"
