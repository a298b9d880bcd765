"""Every action of the current screen in Textual's command palette (``ctrl+p``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import ActiveBinding
from textual.screen import Screen

from agentreplay.tui.screens.help import KeyHelp

__all__ = ["binding_commands", "key_help"]


def key_help(app: App[Any], screen: Screen[object]) -> list[KeyHelp]:
    """The actions that have a description, each with all the keys that run it now."""
    seen: dict[tuple[int, str], KeyHelp] = {}
    for active in _in_order(app, screen):
        binding = active.binding
        if not binding.description or not _enabled(active):
            continue
        key = (id(active.node), binding.action)
        shown = app.get_key_display(binding)
        if key in seen:
            keys, description, action_id = seen[key]
            seen[key] = (f"{keys}, {shown}", description, action_id)
        else:
            seen[key] = (shown, binding.tooltip or binding.description, binding.id or "")
    return list(seen.values())


def _enabled(active: ActiveBinding) -> bool:
    """Whether the key does something here (``check_action`` does not turn it off)."""
    return active.node.check_action(active.binding.action.partition("(")[0], ()) is not False


def _in_order(app: App[Any], screen: Screen[Any]) -> list[ActiveBinding]:
    """agentreplay's own keys (those with an id to remap them) first, the screen's, then the
    focused widget's, then the app's; then Textual's own."""
    found = list(screen.active_bindings.values())
    rank = {id(screen): 0, id(app): 2}
    return sorted(
        found,
        key=lambda active: (active.binding.id is None, rank.get(id(active.node), 1)),
    )


def binding_commands(app: App[Any], screen: Screen[object]) -> Iterator[SystemCommand]:
    """One palette command per action that a key runs on ``screen``."""
    done: set[tuple[int, str]] = set()
    for active in _in_order(app, screen):
        binding, node = active.binding, active.node
        if not binding.description or not _enabled(active) or (id(node), binding.action) in done:
            continue
        done.add((id(node), binding.action))

        async def run(action: str = binding.action, where: object = node) -> None:
            await app.run_action(action, where)  # type: ignore[arg-type]

        title = binding.tooltip or binding.description
        yield SystemCommand(title, f"key {app.get_key_display(binding)}", run, discover=True)
