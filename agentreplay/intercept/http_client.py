"""Saying, while recording, that HTTP went through a client that is not recorded.

``urllib.request`` and code that uses ``http.client`` directly reach the network
through ``http.client.HTTPConnection.connect``. Their answers are not in the
cassette, and a replay refuses the connection (network.py): better to learn it
while recording, at the line that made the request, than from the replay. The
first connection to each address in a run gets a `RuntimeWarning` naming the
address and pointing at the agent's line, and the cassette's index names the
address (``agentreplay show`` and ``record`` say so after the run); nothing is
changed about the request.

urllib3 (under ``requests``) subclasses ``HTTPConnection`` but connects by
itself, and its requests are recorded one level up; a connection made inside an
intercepted exchange, by telemetry, or outside the run's tasks says nothing.
"""

from __future__ import annotations

import sys
import warnings
from types import ModuleType
from typing import Any

from agentreplay.intercept.common import in_exchange
from agentreplay.runtime.callers import agent_frame, unrecorded_sender
from agentreplay.runtime.scope import active_session

__all__ = ["HttpClientWatch"]


class HttpClientWatch:
    """Wraps ``HTTPConnection.connect`` to warn once per run and address."""

    def __init__(self, name: str = "http.client") -> None:
        self.name = name
        self._original: Any = None

    def install(self) -> None:
        # Not `import http.client`: this runs as the module is first imported, before
        # the `http` package has it as an attribute.
        module = self._module()
        original = self._original = module.HTTPConnection.connect
        watch = self

        def connect(connection: Any) -> Any:
            watch.saw(connection)
            return original(connection)

        connect.__wrapped__ = original  # type: ignore[attr-defined]
        module.HTTPConnection.connect = connect

    def uninstall(self) -> None:
        if self._original is not None:
            self._module().HTTPConnection.connect = self._original
            self._original = None

    @staticmethod
    def _module() -> ModuleType:
        return sys.modules["http.client"]

    def saw(self, connection: Any) -> None:
        session = active_session()
        if session is None or session.offline or in_exchange.get():
            return  # a replay refuses it itself (network.py)
        if session.run_task() is None or unrecorded_sender(2):
            return
        address = f"{connection.host}:{connection.port}"
        if not session.unrecorded_connection(address):
            return  # said already in this run
        message = (
            f"agentreplay: an http.client connection to {address} is not recorded "
            f"(urllib.request and http.client are not intercepted): a replay will refuse "
            f"it. Fetch it with httpx, requests or aiohttp, or inside an @agentreplay.tool "
            f"function, whose result is recorded"
        )
        frame = agent_frame(2)
        if frame is None:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
            return
        warnings.warn_explicit(
            message,
            RuntimeWarning,
            frame.f_code.co_filename,
            frame.f_lineno,
            module=frame.f_globals.get("__name__"),
            registry=frame.f_globals.setdefault("__warningregistry__", {}),
        )
