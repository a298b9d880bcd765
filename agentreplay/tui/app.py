"""The agentreplay terminal debugger: one Textual app, a screen per thing to look at.

`agentreplay tui FILE` opens the run screen, `agentreplay tui DIR` the list of
the cassettes under DIR, `agentreplay tui A B` the diff of two runs. Keys are
in each screen's ``BINDINGS`` (with ids, so a config file can remap them),
shown in the footer, on the ``?`` screen and in the command palette.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from agentreplay.errors import UsageError
from agentreplay.tui.commands import binding_commands, key_help
from agentreplay.tui.keymap import Settings, config_path
from agentreplay.tui.navigation import OpenDiff, OpenRun
from agentreplay.tui.screens.help import HelpScreen

__all__ = ["AgentReplayApp", "action_ids"]


class AgentReplayApp(App[int]):
    """Browse a run, a directory of runs, or the diff of two runs."""

    CSS_PATH = "app.tcss"
    TITLE = "agentreplay"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(self, paths: Sequence[Path], *, settings: Settings | None = None) -> None:
        super().__init__()
        if not 1 <= len(paths) <= 2:
            raise UsageError("give one cassette, one directory, or two cassettes to compare")
        self.paths = [Path(p) for p in paths]
        self.settings = settings or Settings()
        theme = self.settings.theme
        if theme is not None and theme not in self.available_themes:
            raise UsageError(
                f"no theme {theme!r}; the themes are {', '.join(sorted(self.available_themes))}"
            )

    def on_mount(self) -> None:
        if self.settings.theme:
            self.theme = self.settings.theme
        self.set_keymap(self.settings.keys)
        self.push_screen(self.first_screen())

    def first_screen(self) -> Screen[None]:
        if len(self.paths) == 2:
            from agentreplay.tui.screens.diff import DiffScreen

            return DiffScreen(self.paths[0], self.paths[1])
        path = self.paths[0]
        if path.is_dir():
            from agentreplay.tui.screens.directory import DirectoryScreen

            return DirectoryScreen(path)
        from agentreplay.tui.screens.run import RunScreen

        return RunScreen(path)

    def on_open_run(self, message: OpenRun) -> None:
        from agentreplay.tui.screens.run import RunScreen

        self.push_screen(RunScreen(message.path, step=message.step))

    def on_open_diff(self, message: OpenDiff) -> None:
        from agentreplay.tui.screens.diff import DiffScreen

        self.push_screen(DiffScreen(message.a, message.b, notice=message.notice))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(key_help(self, self.screen), str(config_path())))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from binding_commands(self, screen)


def action_ids() -> list[str]:
    """Every id a key config may remap."""
    from agentreplay.tui.screens.diff import DiffScreen
    from agentreplay.tui.screens.directory import DirectoryScreen
    from agentreplay.tui.screens.progress import ProgressScreen
    from agentreplay.tui.screens.run import RunScreen
    from agentreplay.tui.widgets.prompt_bar import PromptBar
    from agentreplay.tui.widgets.run_table import RunTable
    from agentreplay.tui.widgets.step_list import StepList

    owners = (
        AgentReplayApp,
        RunScreen,
        DiffScreen,
        DirectoryScreen,
        HelpScreen,
        ProgressScreen,
        StepList,
        PromptBar,
        RunTable,
    )
    ids = {
        binding.id
        for owner in owners
        for binding in owner.BINDINGS
        if isinstance(binding, Binding) and binding.id
    }
    return sorted(ids)
