"""The origin mark: made here only with this user's key, on this host, for these contents."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agentreplay.session.provenance import made_here, origin_of, stamp


def _header() -> dict[str, object]:
    header: dict[str, object] = {"run_id": "r1", "script": {"kind": "code", "code": "pass"}}
    header["origin"] = stamp(header)
    return header


def test_a_header_stamped_here_is_made_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "mine"))
    header = _header()
    assert made_here(header)
    key = tmp_path / "mine" / "agentreplay" / "origin.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert origin_of(header).endswith(f" on {header['origin']['host']}")  # type: ignore[index]


def test_another_key_changed_contents_or_no_mark_is_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "theirs"))
    header = _header()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "mine"))
    assert not made_here(header)  # no key here at all
    _header()  # now there is one, another
    assert not made_here(header)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "theirs"))
    assert made_here(header)
    assert not made_here({**header, "script": {"kind": "code", "code": "import os"}})
    assert not made_here({**header, "origin": None})
    assert origin_of({}) == "an unknown user on an unknown host"


def test_the_stamp_follows_the_user_and_home_as_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOGNAME", "ada")
    monkeypatch.setenv("HOME", str(tmp_path / "ada"))
    first = _header()
    assert first["origin"]["user"] == "ada"  # type: ignore[index]
    assert (tmp_path / "ada" / ".local" / "state" / "agentreplay" / "origin.key").exists()
    monkeypatch.setenv("LOGNAME", "grace")
    monkeypatch.setenv("HOME", str(tmp_path / "grace"))
    second = _header()
    assert second["origin"]["user"] == "grace"  # type: ignore[index]
    assert (tmp_path / "grace" / ".local" / "state" / "agentreplay" / "origin.key").exists()
    assert not made_here(first)  # another home, another key
    monkeypatch.setenv("LOGNAME", "ada")
    monkeypatch.setenv("HOME", str(tmp_path / "ada"))
    assert made_here(first)
