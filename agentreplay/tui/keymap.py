"""Remapping the TUI's keys in a small TOML file.

The file is ``$AGENTREPLAY_TUI_CONFIG`` if set, else ``tui.toml`` in
``$XDG_CONFIG_HOME/agentreplay/`` (``~/.config/agentreplay/`` when that is
unset). Its ``[keys]`` table maps an action's id (the help screen lists
them) to the keys that run it, comma-separated; ``theme`` picks a Textual
theme::

    theme = "textual-light"

    [keys]
    "run.next" = "j,down,ctrl+n"
    "run.search" = "ctrl+f"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agentreplay.errors import UsageError

__all__ = ["Settings", "config_path", "load_settings"]

CONFIG_ENV = "AGENTREPLAY_TUI_CONFIG"


@dataclass
class Settings:
    keys: dict[str, str] = field(default_factory=dict)
    theme: str | None = None


def config_path() -> Path:
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "agentreplay" / "tui.toml"


def load_settings(known_ids: Iterable[str], path: Path | None = None) -> Settings:
    """The settings in the config file (none if it does not exist); `UsageError` names
    what is wrong in a file that is there."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read the key config {path}: {exc}") from None
    unknown = sorted(set(data) - {"keys", "theme"})
    if unknown:
        raise UsageError(f"{path}: unknown setting {', '.join(unknown)} (it has keys, theme)")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) and v for v in keys.values()):
        raise UsageError(f'{path}: [keys] maps action ids to keys, like "run.next" = "j,down"')
    known = set(known_ids)
    wrong = sorted(set(keys) - known)
    if wrong:
        raise UsageError(
            f"{path}: no action {', '.join(map(repr, wrong))}; the actions are "
            f"{', '.join(sorted(known))}"
        )
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise UsageError(f'{path}: theme is the name of a theme, like "textual-light"')
    return Settings(dict(keys), theme)
