"""MCP tool servers, through the ``mcp`` client SDK.

Every request a ``ClientSession`` sends (``initialize``, ``tools/list``,
``tools/call``, ``resources/read``...) is a tool step of the run, named
``mcp <server>: <tool or method>``, with its parameters as arguments and the
server's result (or the ``MCPError`` it answered) as its value: it is
recorded whatever the transport, and on replay answered from the cassette
without reaching the server.

The notifications the server sends while a request is in flight (log
messages, progress) are recorded with its answer, in the order they came,
and on replay handed to the session's handlers (``logging_callback``, the
call's ``progress_callback``, ``message_handler``) before the answer is
returned. With several requests in flight on one session, a notification
goes to the one sent first.

A stdio server is a subprocess: on replay it is not started at all. The
SDK's stdio transport gets a stand-in process that takes what the client
writes and never answers (every answer comes from the cassette), and exits
when the client closes it. The transports' own tasks are machinery
(`agentreplay.runtime.callers`): they take no task number and record
nothing, so the run's numbering is the same whether the server runs or not.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import weakref
from collections.abc import Iterator
from typing import Any

from agentreplay.intercept.tools import _Call, _quiet
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import TaskState, reset_current_task

__all__ = ["McpInterceptor"]


def _step_name(client: Any, method: str, params: dict[str, Any]) -> str:
    try:
        server = getattr(client.server_info, "name", None)  # known once initialized
    except Exception:  # an SDK without it, or one that refuses before the handshake
        server = None
    where = f"mcp {server}" if server else "mcp"
    if method == "tools/call" and isinstance(params.get("name"), str):
        return f"{where}: {params['name']}"
    return f"{where}: {method}"


def _arguments(method: str, params: dict[str, Any]) -> tuple[Any, ...]:
    if method == "tools/call":
        return (params.get("arguments") or {},)
    return (params,) if params else ()


def _typed(result_type: Any, value: Any) -> Any:
    validate = getattr(result_type, "validate_python", None)
    if validate is not None:  # a TypeAdapter
        return validate(value, by_name=False)
    return result_type.model_validate(value, by_name=False)


_in_flight: weakref.WeakKeyDictionary[Any, list[list[dict[str, Any]]]] = weakref.WeakKeyDictionary()
"""Per client session, the notifications heard by each recorded request in flight."""

_NOT_RECORDED = frozenset({"notifications/cancelled"})  # applied by the SDK, never surfaced
_log = logging.getLogger(__name__)


@contextlib.contextmanager
def _listening(client: Any) -> Iterator[list[dict[str, Any]]]:
    heard: list[dict[str, Any]] = []
    calls = _in_flight.setdefault(client, [])
    calls.append(heard)
    try:
        yield heard
    finally:
        del calls[next(i for i, each in enumerate(calls) if each is heard)]


def _heard(client: Any, method: str, params: Any) -> None:
    calls = _in_flight.get(client)
    if calls and method not in _NOT_RECORDED:
        note: dict[str, Any] = {"method": method}
        if params is not None:
            note["params"] = dict(params)
        calls[0].append(note)


def _recorded(result: dict[str, Any], heard: list[dict[str, Any]]) -> Any:
    return {"result": result, "notifications": heard} if heard else result


def _unpack(value: Any) -> tuple[Any, list[dict[str, Any]]]:
    if isinstance(value, dict) and value.keys() == {"result", "notifications"}:
        return value["result"], list(value["notifications"])
    return value, []


async def _deliver(
    client: Any, notes: list[dict[str, Any]], on_progress: Any, task: TaskState
) -> None:
    """Hand recorded notifications to the session's handlers, as its dispatcher would:
    in a quiet task (the dispatcher's are machinery), a raising handler costing only
    its own delivery."""
    token = _quiet(task)
    try:
        for note in notes:
            method, params = note["method"], note.get("params")
            if method == "notifications/progress" and on_progress is not None and params:
                total, message = params.get("total"), params.get("message")
                try:
                    await on_progress(float(params["progress"]), total, message)
                except Exception:
                    _log.exception("progress callback raised")
            await client._on_notify(None, method, params)
    finally:
        reset_current_task(token)


def _progress_callback(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if "progress_callback" in kwargs:
        return kwargs["progress_callback"]
    return args[2] if len(args) > 2 else None  # after the timeout and the metadata


class _Pipe:
    """One end of the stand-in process's pipes."""

    def __init__(self, process: _ReplayedServer) -> None:
        self._process = process

    async def send(self, data: bytes) -> None:
        pass  # what the client tells the server: the recording already has the answers

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await self._process.closed.wait()
        import anyio

        raise anyio.EndOfStream

    async def aclose(self) -> None:
        self._process.close()


class _ReplayedServer:
    """Stands in for an MCP stdio server's process on replay: it is never started."""

    pid = 0

    def __init__(self) -> None:
        import anyio

        self.closed = anyio.Event()
        self.returncode: int | None = None
        self.stdin = _Pipe(self)
        self.stdout = _Pipe(self)
        self.stderr = None

    def close(self) -> None:
        self.returncode = 0
        self.closed.set()

    async def wait(self) -> int:
        await self.closed.wait()
        return 0

    def terminate(self) -> None:
        self.close()

    def kill(self) -> None:
        self.close()


class McpInterceptor:
    """Patches ``ClientSession.send_request`` and, on replay, the stdio server's start."""

    def __init__(self, name: str = "mcp") -> None:
        self.name = name
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        session_module = importlib.import_module("mcp.client.session")
        stdio = importlib.import_module("mcp.client.stdio")
        client_class = session_module.ClientSession
        original_send = client_class.send_request
        original_intercept = client_class._intercept_notification
        original_spawn = stdio._create_platform_compatible_process
        self._saved = {
            "send_request": (client_class, original_send),
            "_intercept_notification": (client_class, original_intercept),
            "_create_platform_compatible_process": (stdio, original_spawn),
        }

        async def send_request(
            client: Any, request: Any, result_type: Any, *args: Any, **kwargs: Any
        ) -> Any:
            data = request.model_dump(by_alias=True, mode="json", exclude_none=True)
            method: str = data.get("method", "?")
            params: dict[str, Any] = dict(data.get("params") or {})
            params.pop("_meta", None)  # progress tokens and trace context: not the request
            call = _Call(_step_name(client, method, params), _arguments(method, params), {})
            if call.handle is None:
                return await original_send(client, request, result_type, *args, **kwargs)
            if call.answered:
                value, notes = _unpack(call.answer())
                if notes:
                    assert call.task is not None
                    await _deliver(client, notes, _progress_callback(args, kwargs), call.task)
                return _typed(result_type, value)
            with call, _listening(client) as heard:
                result = await original_send(client, request, result_type, *args, **kwargs)
            call.returned(
                _recorded(result.model_dump(by_alias=True, mode="json", exclude_none=True), heard)
            )
            return result

        def intercept_notification(client: Any, method: str, params: Any) -> bool:
            consumed: bool = original_intercept(client, method, params)
            if not consumed:  # a subscription's acknowledgement is the SDK's own state
                _heard(client, method, params)
            return consumed

        async def spawn(*args: Any, **kwargs: Any) -> Any:
            session = active_session()
            if session is not None and session.offline and session.run_task() is not None:
                return _ReplayedServer()
            return await original_spawn(*args, **kwargs)

        client_class.send_request = send_request
        client_class._intercept_notification = intercept_notification
        stdio._create_platform_compatible_process = spawn  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        for name, (owner, original) in self._saved.items():
            setattr(owner, name, original)
        self._saved.clear()
