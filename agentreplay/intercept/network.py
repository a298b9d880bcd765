"""Keeping a replay off the network.

HTTP through the intercepted clients is answered from the cassette; this
catches everything else (``urllib``, database drivers, raw sockets): while a
replay runs and has not gone live, a socket connection to anything but
loopback is refused with a `DivergenceError`, which the replay remembers.
Loopback stays open, because tests talk to servers of their own.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from agentreplay.errors import DivergenceError
from agentreplay.session.callers import agent_call_site
from agentreplay.session.core import Mode, active_session
from agentreplay.session.tasks import current_task

__all__ = ["NetworkGuard", "is_local"]


def is_local(family: int, address: object) -> bool:
    """Does a connection to ``address`` stay on this machine?"""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets and the like never leave the machine
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return True
    host = address[0].split("%", 1)[0].lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or ip.is_unspecified or bool(mapped and mapped.is_loopback)


def _refuse(address: tuple[Any, ...]) -> DivergenceError | None:
    session = active_session()
    if session is None or session.mode is not Mode.REPLAY or getattr(session, "live", False):
        return None
    task = current_task()
    host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
    port = address[1] if len(address) > 1 else "?"
    return session.diverge(
        DivergenceError(
            "a live network connection was attempted during replay",
            task=task.id if task is not None else "-",
            expected="no network access (replay answers only from the cassette)",
            actual=f"socket connect to {host}:{port}",
            call_site=agent_call_site(3),
        )
    )


class NetworkGuard:
    """Wraps ``socket.socket.connect`` and ``connect_ex``."""

    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        for name in ("connect", "connect_ex"):
            self._saved[name] = vars(socket.socket).get(name)
            setattr(socket.socket, name, _guarded(getattr(socket.socket, name)))

    def uninstall(self) -> None:
        for name, original in self._saved.items():
            if original is None:
                delattr(socket.socket, name)
            else:
                setattr(socket.socket, name, original)
        self._saved.clear()


def _guarded(live: Any) -> Any:
    def guarded(sock: socket.socket, address: Any) -> Any:
        if not is_local(sock.family, address):
            error = _refuse(address)
            if error is not None:
                raise error
        return live(sock, address)

    return guarded
