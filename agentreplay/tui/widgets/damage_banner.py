"""A banner over a run read from a damaged or unfinished cassette."""

from __future__ import annotations

from textual.widgets import Static

import agentreplay.humanize as fmt
from agentreplay.errors import CassetteError

__all__ = ["DamageBanner"]


class DamageBanner(Static):
    """Says where the file stops being readable and what is shown; hidden otherwise."""

    def on_mount(self) -> None:
        self.display = False

    def show_damage(self, damage: CassetteError | None, closed: bool, steps: int) -> None:
        if damage is not None:
            where = f"at byte {damage.offset:,}" if damage.offset is not None else ""
            self.update(
                f"damaged cassette: unreadable {where} ({damage.detail}); showing the "
                f"{fmt.plural(steps, 'step')} before it"
            )
        elif not closed:
            self.update(
                f"unfinished cassette: the recording stopped without closing it; showing "
                f"the {fmt.plural(steps, 'step')} it holds"
            )
        self.display = damage is not None or not closed
