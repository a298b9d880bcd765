"""Keeping a replay off the network.

HTTP through the intercepted clients is answered from the cassette; this
catches everything else (``urllib``, database drivers, raw sockets): while a
replay runs and has not gone live, a TCP or UDP connection (or a datagram
sent with ``sendto``) made by the run's own code, to any address, loopback
included, is refused with a `DivergenceError`, which the replay remembers. A
database on localhost is as much an unrecorded input as a remote API. Unix
sockets stay open, and so do connections made by threads that are not part
of the run (a debugger's, a test runner's). A framework's telemetry (LangSmith
traces, OpenTelemetry exporters, CrewAI's) and the MCP transport (whose
requests are answered one level up) are refused with a plain
`ConnectionRefusedError` from any thread: exporters drop what they could not
send, the run goes on, and no trace of a replay leaves the machine.
"""

from __future__ import annotations

import socket
from typing import Any

from agentreplay.errors import DivergenceError
from agentreplay.runtime.callers import agent_call_site, unrecorded_sender
from agentreplay.runtime.scope import active_session

__all__ = ["NetworkGuard"]

_INTERNET: frozenset[int] = frozenset({socket.AF_INET, socket.AF_INET6})


def _refuse(address: Any, verb: str = "connect") -> BaseException | None:
    session = active_session()
    if session is None or not session.offline:
        return None
    if unrecorded_sender(2):
        return ConnectionRefusedError(f"agentreplay: not during a replay ({address!r})")
    task = session.run_task()
    if task is None:
        return None
    where = address if isinstance(address, tuple) and address else (address,)
    host = f"[{where[0]}]" if ":" in str(where[0]) else str(where[0])
    port = where[1] if len(where) > 1 else "?"
    return session.diverge(
        DivergenceError(
            "a live network connection was attempted during replay; record what it "
            "fetches (an @agentreplay.tool function, or an intercepted HTTP client), "
            "or let the run go live",
            task=task.id,
            expected="no network access (replay answers only from the cassette)",
            actual=f"socket {verb} to {host}:{port}",
            call_site=agent_call_site(3),
        )
    )


class NetworkGuard:
    """Wraps ``socket.socket.connect``, ``connect_ex`` and ``sendto`` (a datagram sent
    without connecting first)."""

    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        for name, wrap in (("connect", _guarded), ("connect_ex", _guarded), ("sendto", _sendto)):
            self._saved[name] = vars(socket.socket).get(name)
            setattr(socket.socket, name, wrap(getattr(socket.socket, name)))

    def uninstall(self) -> None:
        for name, original in self._saved.items():
            if original is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, original)
        self._saved.clear()


def _guarded(live: Any) -> Any:
    def guarded(sock: socket.socket, address: Any) -> Any:
        if sock.family in _INTERNET:
            error = _refuse(address)
            if error is not None:
                # DivergenceError is no OSError: socket.create_connection would not
                # close the socket it made, so it is closed here.
                sock.close()
                raise error
        return live(sock, address)

    return guarded


def _sendto(live: Any) -> Any:
    def sendto(sock: socket.socket, data: Any, *rest: Any) -> Any:
        # sendto(data, address) or sendto(data, flags, address)
        if sock.family in _INTERNET and rest:
            error = _refuse(rest[-1], "sendto")
            if error is not None:
                raise error
        return live(sock, data, *rest)

    return sendto
