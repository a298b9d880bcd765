"""MCP tool servers, through the ``mcp`` client SDK.

Every request a ``ClientSession`` sends (``initialize``, ``tools/list``,
``tools/call``, ``resources/read``...) is a tool step of the run, named
``mcp <server>: <tool or method>``, with its parameters as arguments and the
server's result (or the ``MCPError`` it answered) as its value: it is
recorded whatever the transport, and on replay answered from the cassette
without reaching the server.

A stdio server is a subprocess: on replay it is not started at all. The
SDK's stdio transport gets a stand-in process that takes what the client
writes and never answers (every answer comes from the cassette), and exits
when the client closes it. The transports' own tasks are machinery
(`agentreplay.runtime.callers`): they take no task number and record
nothing, so the run's numbering is the same whether the server runs or not.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentreplay.intercept.tools import _Call
from agentreplay.runtime.scope import active_session

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
        original_spawn = stdio._create_platform_compatible_process
        self._saved = {
            "send": (client_class, original_send),
            "spawn": (stdio, original_spawn),
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
                return _typed(result_type, call.answer())
            with call:
                result = await original_send(client, request, result_type, *args, **kwargs)
            call.returned(result.model_dump(by_alias=True, mode="json", exclude_none=True))
            return result

        async def spawn(*args: Any, **kwargs: Any) -> Any:
            session = active_session()
            if session is not None and session.offline and session.run_task() is not None:
                return _ReplayedServer()
            return await original_spawn(*args, **kwargs)

        client_class.send_request = send_request
        stdio._create_platform_compatible_process = spawn  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        for owner, original in self._saved.values():
            name = (
                "send_request" if isinstance(owner, type) else "_create_platform_compatible_process"
            )
            setattr(owner, name, original)
        self._saved.clear()
