"""`ASGIMiddleware`: each HTTP request to an ASGI app (Starlette, FastAPI...) is one run.

Wrap the app (``app = capture.ASGIMiddleware(app)``) or add it
(``app.add_middleware(capture.ASGIMiddleware)``). Each request is recorded
from the moment it reaches the middleware until its response ends; its
route, status and duration go in the run's metadata, and a 5xx answer or an
exception keeps it. The cassette keeps what ``agentreplay replay FILE``
needs to send the same request through the same app, in process and
offline: the app's import path (found by looking for the app among the
loaded modules, or given as ``app_path="pkg.main:app"``) and the request,
its headers redacted like any recorded request's, its body as read by the
app. The lifespan's shutdown writes what capture still has queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from agentreplay.capture import core
from agentreplay.capture.runs import CaptureRun
from agentreplay.debugger.asgi import (
    App,
    Message,
    Receive,
    ResponseStatus,
    Scope,
    Send,
    take_pending,
)
from agentreplay.errors import UsageError
from agentreplay.runtime.contract import RequestInfo
from agentreplay.session.core import Session
from agentreplay.session.environment import ENV_NAMES, kept_env

__all__ = ["ASGIMiddleware"]


def _find(candidates: list[Any]) -> tuple[str, str | None, str | None] | None:
    """The import path of the first of ``candidates`` bound at a module's top level, its
    folder to import from, and, for a script's, the script's file."""
    found: tuple[str, str | None, str | None] | None = None
    for target in candidates:
        if target is None:
            continue
        for name, module in list(sys.modules.items()):
            try:
                namespace = vars(module)
            except TypeError:
                continue
            for attribute, value in list(namespace.items()):
                if value is not target:
                    continue
                file = namespace.get("__file__")
                if name == "__main__":
                    if found is None:
                        found = (f"__main__:{attribute}", None, file)
                    continue
                return f"{name}:{attribute}", _app_dir(name, file), None
        if found is not None:
            return found
    return found


def _app_dir(module: str, file: str | None) -> str | None:
    if not file:
        return None
    path = Path(file).resolve()
    up = len(module.split(".")) - (0 if path.name == "__init__.py" else 1)
    folder = path.parent
    for _ in range(up):
        folder = folder.parent
    return str(folder)


class ASGIMiddleware:
    """Capture each HTTP request to ``app`` as one run (when capture is enabled).

    ``app_path`` names the app to replay requests through (``"pkg.main:app"``); by
    default it is looked up among the loaded modules at the first request.
    ``max_body``: the most request body bytes kept for replay.
    """

    def __init__(
        self, app: App, *, app_path: str | None = None, max_body: int = 1024 * 1024
    ) -> None:
        self.app = app
        self.app_path = app_path
        self.max_body = max_body
        self._target: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await self.app(scope, receive, self._on_lifespan(send))
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        replay = take_pending()
        if replay is not None:
            await self._serve(replay, scope, receive, send)
            return
        run = None
        with contextlib.suppress(Exception):
            path = str(scope.get("path", ""))
            run = core.new_run(
                "asgi",
                f"{scope.get('method', '')} {path}",
                {"method": scope.get("method"), "path": path},
                {"asgi": self._describe_target(scope), "env": _kept_env()},
            )
        if run is None:
            await self.app(scope, receive, send)
            return
        await self._serve(run, scope, receive, send)

    async def _serve(self, session: Session, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        status: list[int] = []

        async def receive_recorded() -> Message:
            message = await receive()
            if message.get("type") == "http.request" and len(body) <= self.max_body:
                body.extend(message.get("body") or b"")
            return message

        async def send_noted(message: Message) -> None:
            if message.get("type") == "http.response.start":
                status.append(int(message.get("status", 0)))
            await send(message)

        session.start()
        try:
            await self.app(scope, receive_recorded, send_noted)
        except BaseException as exc:
            self._describe_request(session, scope, body, status)
            session.stop(exc)
            raise
        code = status[0] if status else 0
        self._describe_request(session, scope, body, status)
        session.stop(None, ResponseStatus(code), returned=True)

    def _describe_request(
        self, session: Session, scope: Scope, body: bytearray, status: list[int]
    ) -> None:
        if not isinstance(session, CaptureRun):
            return
        try:
            route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
            session.status = status[0] if status else None
            session.name = f"{scope.get('method', '')} {route}"
            metadata = session.metadata if session.metadata is not None else {}
            metadata.update(route=route, status=session.status)
            session.metadata = metadata
            headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or []
            ]
            # The run's own redactor: secret headers, query parameters and body patterns
            # hidden, and the secrets met there kept out of the rest of the run.
            query = bytes(scope.get("query_string") or b"").decode("latin-1")
            redactor = session.redactor or session.redaction.redactor()
            seen = redactor.request(
                RequestInfo(
                    str(scope.get("method", "")),
                    f"http://app/?{query}",
                    tuple(headers),
                    bytes(body[: self.max_body]),
                    "asgi",
                )
            )
            request = {
                "method": scope.get("method"),
                "path": scope.get("path"),
                "query_string": seen.url.partition("?")[2],
                "root_path": scope.get("root_path", ""),
                "scheme": scope.get("scheme", "http"),
                "http_version": scope.get("http_version", "1.1"),
                "headers": [list(pair) for pair in seen.headers],
                "server": list(scope["server"]) if scope.get("server") else None,
                "client": list(scope["client"]) if scope.get("client") else None,
                "body": seen.body,
                "body_truncated": len(body) > self.max_body,
            }
            session.header["asgi"]["request"] = request
        except Exception as exc:
            session.capture.trouble(
                "record_errors", "asgi", f"describing a request failed: {exc!r}"
            )

    def _describe_target(self, scope: Scope) -> dict[str, Any]:
        if self._target is None:
            target: dict[str, Any] = {"app": self.app_path, "app_dir": os.getcwd(), "file": None}
            if self.app_path is None:
                found = _find([scope.get("app"), self, self.app])
                if found is not None:
                    target["app"], folder, target["file"] = found
                    target["app_dir"] = folder or os.getcwd()
            self._target = target
        return dict(self._target)

    def _on_lifespan(self, send: Send) -> Send:
        async def send_and_flush(message: Message) -> None:
            if message.get("type") == "lifespan.shutdown.complete":
                capture = core.current()
                if capture is not None:
                    with contextlib.suppress(Exception):
                        timeout = capture.settings.flush_timeout
                        await asyncio.to_thread(capture.writer.flush, timeout)
            await send(message)

        return send_and_flush


def _kept_env() -> dict[str, str]:
    """The environment a replay sets again: the allow-list and ``AGENTREPLAY_ENV``."""
    try:
        return kept_env(os.environ.get(ENV_NAMES, "").split(","))
    except UsageError:  # a secret-looking name: keep none of those
        return kept_env([])
