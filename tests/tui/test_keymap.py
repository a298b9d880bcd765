"""The key config file: where it is, what it may say, and how a mistake is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentreplay.errors import UsageError
from agentreplay.tui.app import action_ids
from agentreplay.tui.keymap import config_path, load_settings


def test_the_config_lives_under_xdg_config_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AGENTREPLAY_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "agentreplay" / "tui.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config_path() == Path.home() / ".config" / "agentreplay" / "tui.toml"
    monkeypatch.setenv("AGENTREPLAY_TUI_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"


def test_keys_and_theme_are_read(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text('theme = "textual-light"\n[keys]\n"run.next" = "x,ctrl+n"\n')
    settings = load_settings(action_ids(), path)
    assert settings.keys == {"run.next": "x,ctrl+n"} and settings.theme == "textual-light"


def test_no_file_means_the_default_keys(tmp_path: Path) -> None:
    settings = load_settings(action_ids(), tmp_path / "absent.toml")
    assert settings.keys == {} and settings.theme is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[keys]\n"run.nxt" = "x"\n', "no action 'run.nxt'; the actions are"),
        ('[keys]\n"run.next" = 3\n', "[keys] maps action ids to keys"),
        ("colour = 1\n", "unknown setting colour"),
        ("theme = 1\n", "theme is the name of a theme"),
        ("[keys\n", "cannot read the key config"),
    ],
)
def test_a_mistake_in_the_file_is_one_line_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "tui.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=r"tui\.toml") as info:
        load_settings(action_ids(), path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_every_key_the_docs_list_can_be_remapped() -> None:
    ids = action_ids()
    assert {"app.quit", "app.help", "run.next", "run.go_to", "run.fork", "runs.mark"} <= set(ids)
    assert ids == sorted(ids)


def test_the_docs_name_every_action_id() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "tui.md").read_text()
    missing = [
        action_id
        for action_id in action_ids()
        if f"`{action_id}`" not in docs
        and not action_id.startswith(("help.", "prompt."))
        and action_id not in ("progress.cancel", "runs.down", "runs.up")
        and not action_id.startswith("run.tab_")
    ]
    assert missing == []
