"""A program run in a pseudo-terminal, its screen read through a terminal emulator (pyte),
so a test checks what a person would see, not the escape codes that drew it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import pexpect
import pyte


class Terminal:
    """``agentreplay ARGS`` in a ``columns`` x ``lines`` terminal."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        columns: int = 80,
        lines: int = 24,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        environment = {
            **(env or os.environ),
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
            "LINES": str(lines),
        }
        environment.pop("TEXTUAL", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "agentreplay", *args],
            env=environment,
            cwd=cwd,
            dimensions=(lines, columns),
            timeout=60,
        )
        self.transcript = b""

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def _read(self, wait: float) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            raise AssertionError(f"the program ended; its screen:\n{self.text}") from None
        self.transcript += data
        self.stream.feed(data)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Read output until ``text`` is on the screen; the screen."""
        deadline = time.monotonic() + timeout
        while text not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.text}")
            self._read(0.1)
        return self.text

    def type(self, *keys: str) -> None:
        """Send each key as a person would: one at a time."""
        for key in keys:
            self.child.send(key)
            time.sleep(0.05)

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the program to end; its exit status."""
        self.child.expect(pexpect.EOF, timeout=timeout)
        rest = self.child.before or b""
        self.transcript += rest
        self.stream.feed(rest)
        self.child.close()
        status = self.child.exitstatus
        assert status is not None, f"ended by signal {self.child.signalstatus}"
        return int(status)
