"""Keeping a replay off the network.

HTTP through the intercepted clients is answered from the cassette; this
catches everything else that Python code can do. While a replay runs and has
not gone live, for the run's own code:

- a TCP or UDP connection, or a datagram sent with ``sendto``/``sendmsg``, to
  any address, loopback included, is refused with a `DivergenceError` (a
  database on localhost is as much an unrecorded input as a remote API);
- starting a process from the agent's own code (``subprocess``,
  ``os.system``, ``os.posix_spawn``, ``os.exec*``) is refused the same way:
  what it prints is not in the recording, and it could reach the network
  itself. Processes that libraries start for themselves (the SDKs ask
  ``platform`` for the processor, which runs ``uname -p``) are left alone.

Both are seen through an audit hook (`sys.addaudithook`), which CPython calls
for every socket of every class (``socket.socket``, ``_socket.socket``, the
SDKs' and drivers' pure-Python sockets) and for every way Python starts a
process. An audit hook can never be removed, so it is added by the first
replay of the process (recordings never pay for it) and does nothing while
no replay is guarding.

What it cannot see: C code calling ``connect()`` itself (a C database
driver, a library loaded with ctypes). Script-mode replays close that too
with ``agentreplay replay --isolate``: the program runs in a network
namespace of its own, with no interface up, and processes may start there.
Unix sockets stay open, and so do connections made by threads that are not
part of the run (a debugger's, a test runner's). A framework's telemetry
(LangSmith traces, OpenTelemetry exporters, CrewAI's) and the MCP transport
(whose requests are answered one level up) are refused with a plain
`ConnectionRefusedError` from any thread: exporters drop what they could not
send, the run goes on, and no trace of a replay leaves the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from types import FrameType
from typing import Any, Final

from agentreplay.errors import DivergenceError
from agentreplay.runtime.callers import Origin, agent_call_site, classify, unrecorded_sender
from agentreplay.runtime.scope import active_session

__all__ = ["NetworkGuard", "add_audit_hook", "mark_isolated"]

_INTERNET: Final = frozenset({socket.AF_INET, socket.AF_INET6})
_SOCKETS: Final = {
    "socket.connect": "connect",
    "socket.sendto": "sendto",
    "socket.sendmsg": "sendmsg",
}
_PROCESSES: Final = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn", "os.startfile"}
)
_WATCHED: Final = frozenset({*_SOCKETS, *_PROCESSES})

_guarding = False  # a NetworkGuard is installed: a session is running
_hooked = False
_isolated = False  # this process has a network namespace of its own


def mark_isolated() -> None:
    """The process runs with no network (``--isolate``): processes may start."""
    global _isolated
    _isolated = True


def add_audit_hook() -> None:
    """Add the audit hook, once per process (it cannot be taken out again)."""
    global _hooked
    if not _hooked:
        _hooked = True
        sys.addaudithook(_audit)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _guarding or event not in _WATCHED:
        return
    verb = _SOCKETS.get(event)
    if verb is not None:
        sock, address = args
        if address is None or getattr(sock, "family", None) not in _INTERNET:
            return
        error = _refuse_socket(address, verb)
        if error is not None:
            if verb == "connect":
                # DivergenceError is no OSError: socket.create_connection would not
                # close the socket it made, so it is closed here.
                sock.close()
            raise error
    elif not _isolated:
        error = _refuse_process(event, args)
        if error is not None:
            raise error


def _offline_task() -> tuple[Any, Any] | None:
    session = active_session()
    if session is None or not session.offline:
        return None
    task = session.run_task()
    return None if task is None else (session, task)


def _refuse_socket(address: Any, verb: str) -> BaseException | None:
    session = active_session()
    if session is not None and session.offline and unrecorded_sender():
        # Telemetry or the MCP transport, from any thread: refused like a closed port.
        return ConnectionRefusedError(f"agentreplay: not during a replay ({address!r})")
    found = _offline_task()
    if found is None:
        return None
    session, task = found
    where = address if isinstance(address, tuple) and address else (address,)
    host = f"[{where[0]}]" if ":" in str(where[0]) else str(where[0])
    port = where[1] if len(where) > 1 else "?"
    return session.diverge(  # type: ignore[no-any-return]
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


def _command(event: str, args: tuple[Any, ...]) -> str:
    """What the process would run, from the audit event's arguments."""
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if isinstance(argv, (str, bytes)):
            return _text(argv)
        try:
            return " ".join(_text(part) for part in argv)
        except TypeError:
            return _text(executable)
    return " ".join(_text(part) for part in args[:2] if part is not None)


def _text(part: Any) -> str:
    return os.fsdecode(part) if isinstance(part, bytes) else str(part)


_PROCESS_MODULES: Final = frozenset({subprocess.__file__, os.__file__})


def _starter() -> Origin:
    """Who starts the process: the first caller, out from the audit hook, that is not
    the process modules themselves nor standard library code working for another."""
    frame: FrameType | None = sys._getframe(3)  # past _refuse_process and _audit
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename not in _PROCESS_MODULES:
            origin = classify(filename)
            if origin is not Origin.PASSTHROUGH:
                return origin
        frame = frame.f_back
    return Origin.MACHINERY


def _refuse_process(event: str, args: tuple[Any, ...]) -> DivergenceError | None:
    found = _offline_task()
    # Only the agent's own processes: a library's run as they did when recording (the
    # SDKs ask `platform` for the machine, which runs ``uname -p``).
    if found is None or _starter() is not Origin.AGENT:
        return None
    session, task = found
    command = _command(event, args)
    if len(command) > 200:
        command = command[:200] + "..."
    return session.diverge(  # type: ignore[no-any-return]
        DivergenceError(
            "a process was started during replay: what it prints is not in the recording, "
            "and it could reach the network; run it inside an @agentreplay.tool function, "
            "or replay in a network namespace of its own (agentreplay replay --isolate)",
            task=task.id,
            expected="no process started (replay answers only from the cassette)",
            actual=f"{event}: {command}",
            call_site=agent_call_site(3),
        )
    )


class NetworkGuard:
    """Turns the audit hook on while a session runs (it acts only for a replay that
    has not gone live: `ActiveSession.offline`)."""

    def install(self) -> None:
        global _guarding
        _guarding = True

    def uninstall(self) -> None:
        global _guarding
        _guarding = False
