"""Replaying one captured HTTP request through its ASGI app, in process.

A request captured by `agentreplay.capture.ASGIMiddleware` keeps, in its
cassette header under ``asgi``, the app's import path (``module:attribute``,
as uvicorn names apps, with the folder to import it from) and the request
(method, path, query, headers after redaction, body). Replaying it here:

1. imports the app, and runs its lifespan startup (outside the replay, as
   the server ran it before the request was captured);
2. sends the recorded request through the whole app; the middleware, when
   it is reached, starts the replay exactly where capture started the run,
   so the same code is inside it on both sides;
3. the outcome is the response status (``HTTP 500``) or the exception: the
   replay reproduced the request when they match.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import os
import runpy
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from agentreplay.errors import UsageError
from agentreplay.session.core import Session

__all__ = [
    "ResponseStatus",
    "load_app",
    "scope_of",
    "serve_recorded",
    "take_pending",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class ResponseStatus(int):
    """How a captured HTTP request ended when it did not raise: its status."""

    def __repr__(self) -> str:
        return f"HTTP {int(self)}"


_pending: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "agentreplay_asgi_replay", default=None
)


def take_pending() -> Session | None:
    """The replay the middleware should start for this request, if one waits (once)."""
    session = _pending.get()
    if session is not None:
        _pending.set(None)
    return session


def load_app(target: dict[str, Any]) -> App:
    """Import the recorded app: ``module:attribute`` from its folder, or from the
    script it was defined in (run under another name, so it starts no server)."""
    module_name, _, attribute = str(target.get("app") or "").partition(":")
    if not module_name or not attribute:
        raise UsageError(f"the recorded app {target.get('app')!r} is not module:attribute")
    folder = target.get("app_dir")
    if isinstance(folder, str) and os.path.isdir(folder) and folder not in sys.path:
        sys.path.insert(0, folder)
    if module_name == "__main__":
        path = target.get("file")
        if not isinstance(path, str) or not os.path.isfile(path):
            raise UsageError(f"the app's script {path or '(unknown)'} no longer exists")
        namespace = runpy.run_path(path, run_name="__agentreplay_app__")
        app = namespace.get(attribute)
    else:
        try:
            app = importlib.import_module(module_name)
        except ImportError as exc:
            raise UsageError(
                f"cannot import the recorded app's module {module_name}: {exc}"
            ) from exc
        for part in attribute.split("."):
            app = getattr(app, part, None)
    if not callable(app):
        raise UsageError(f"{target.get('app')} is no longer an ASGI app")
    return app  # type: ignore[no-any-return]


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value or "").encode("latin-1")


def scope_of(request: dict[str, Any]) -> Scope:
    """The ASGI scope of a recorded request."""
    headers = [(_bytes(k).lower(), _bytes(v)) for k, v in request.get("headers") or []]
    server = request.get("server")
    client = request.get("client")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": str(request.get("http_version") or "1.1"),
        "method": str(request.get("method") or "GET"),
        "scheme": str(request.get("scheme") or "http"),
        "path": str(request.get("path") or "/"),
        "raw_path": _bytes(request.get("path") or "/"),
        "query_string": _bytes(request.get("query_string")),
        "root_path": str(request.get("root_path") or ""),
        "headers": headers,
        "server": tuple(server) if isinstance(server, list) else None,
        "client": tuple(client) if isinstance(client, list) else None,
        "state": {},
    }


async def _lifespan(app: App, state: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup; returns what runs its shutdown."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}

    async def run() -> None:
        try:
            await app(scope, to_app.get, from_app.put)
        except BaseException:  # an app without lifespan support may raise: not our run
            await from_app.put({"type": "lifespan.unsupported"})

    task = asyncio.get_running_loop().create_task(run())
    await to_app.put({"type": "lifespan.startup"})
    answer = await from_app.get()
    if answer["type"] == "lifespan.startup.failed":
        raise UsageError(f"the app's startup failed: {answer.get('message', '')}")

    async def shutdown() -> None:
        if answer["type"] == "lifespan.startup.complete":
            await to_app.put({"type": "lifespan.shutdown"})
            await from_app.get()
        if not task.done():
            task.cancel()

    return shutdown


async def serve_recorded(app: App, request: dict[str, Any], session: Session) -> bool:
    """Send the recorded ``request`` through ``app`` with ``session`` waiting for the
    middleware; True if the middleware took it. An exception of the app propagates."""
    state: dict[str, Any] = {}
    shutdown = await _lifespan(app, state)
    scope = scope_of(request)
    scope["state"] = dict(state)
    body = _bytes(request.get("body"))
    sent = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    token = _pending.set(session)
    try:
        await app(scope, receive, send)
    finally:
        _pending.reset(token)
        finished.set()
        await shutdown()
    return session.root is not None
