"""aiohttp's ``ClientSession``.

The hook is ``ClientSession._request``, behind ``get``/``post``/``request``
and their context managers. The response's body is read through a
`_PullReader`, an aiohttp ``StreamReader`` that fetches its next piece only
when the caller waits for one: from the live response while recording (each
piece is noted and handed on at once), from the recording on replay. Both
sides present pieces the same way, so ``iter_any()`` and ``readline()`` see
the same boundaries.

When aiohttp runs underneath httpx (openai's aiohttp client), the httpx hook
has already taken the exchange and this one stands aside.
"""

from __future__ import annotations

import inspect
import json as jsonlib
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from agentreplay.cassette.events import ErrorInfo
from agentreplay.intercept.common import (
    after_last_chunk,
    decode_headers,
    in_exchange,
    no_response,
    rebuild_error,
)
from agentreplay.runtime.callers import unrecorded_sender
from agentreplay.runtime.contract import (
    ActiveSession,
    ExchangeRecorder,
    RecordedExchange,
    RequestInfo,
)
from agentreplay.runtime.scope import active_session
from agentreplay.runtime.tasks import TaskState

__all__ = ["AiohttpInterceptor"]

Pull = Callable[[], Awaitable[bytes | None]]


class _NoProtocol:
    connected = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, *args: Any, **kwargs: Any) -> None:
        pass


def _make_reader_class(aiohttp: Any) -> type:
    class PullReader(aiohttp.StreamReader):  # type: ignore[misc]
        __slots__ = ("_on_close", "_pull")

        def __init__(
            self, pull: Pull, loop: Any, on_close: Callable[[], None] | None = None
        ) -> None:
            super().__init__(_NoProtocol(), 2**16, loop=loop)
            self._pull = pull
            self._on_close = on_close

        def set_exception(self, exc: BaseException, *args: Any) -> None:
            # What aiohttp does to the body of a response released or closed.
            if self._on_close is not None:
                self._on_close()
            super().set_exception(exc, *args)

        async def _wait(self, func_name: str) -> None:
            data = await self._pull()
            if data is None:
                self.feed_eof()
            else:
                self.feed_data(data)

    return PullReader


def _body_bytes(session: Any, kwargs: dict[str, Any]) -> bytes:
    if kwargs.get("json") is not None:
        dumps = getattr(session, "_json_serialize", jsonlib.dumps)
        return str(dumps(kwargs["json"])).encode()
    data = kwargs.get("data")
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (dict, list, tuple)):
        return urlencode(data, doseq=True).encode()
    return f"<{type(data).__name__} body>".encode()


def _describe(
    session: Any, method: str, url: Any, kwargs: dict[str, Any], yarl: Any
) -> RequestInfo:
    target = yarl.URL(url)
    if session._base_url is not None and not target.is_absolute():
        target = session._base_url.join(target)
    if kwargs.get("params"):
        target = target.extend_query(kwargs["params"])
    headers = dict(getattr(session, "_default_headers", {}) or {})
    headers.update(dict(kwargs.get("headers") or {}))
    return RequestInfo(
        method.upper(),
        str(target),
        decode_headers(headers.items()),
        _body_bytes(session, kwargs),
        "aiohttp",
    )


class AiohttpInterceptor:
    def __init__(self, module_name: str) -> None:
        import aiohttp
        import yarl

        self.aiohttp = aiohttp
        self.yarl = yarl
        self.reader_class = _make_reader_class(aiohttp)
        self._original: Any = None

    def install(self) -> None:
        original = self._original = self.aiohttp.ClientSession._request
        interceptor = self

        async def _request(client: Any, method: str, str_or_url: Any, **kwargs: Any) -> Any:
            session = active_session()
            task = session.run_task() if session is not None else None
            if session is None or task is None or in_exchange.get() or unrecorded_sender():
                return await original(client, method, str_or_url, **kwargs)
            info = _describe(client, method, str_or_url, kwargs, interceptor.yarl)
            exchange = session.http_replay(task, info)
            if exchange is not None:
                await session.await_answer(task, exchange)
                return await interceptor.replayed(client, session, task, exchange, info, kwargs)
            recorder = session.http_record(task, info)
            if recorder is None:
                return await original(client, method, str_or_url, **kwargs)
            try:
                response = await original(client, method, str_or_url, **kwargs)
            except BaseException as exc:
                recorder.error(exc, _error_info(exc))
                raise
            version = response.version  # None until the response has started
            recorder.response(
                response.status,
                decode_headers(response.raw_headers),
                f"HTTP/{version.major}.{version.minor}" if version is not None else "HTTP/1.1",
                response.reason or "",
            )
            response.content = interceptor.reader_class(
                _live_pull(response.content, recorder), response._loop, recorder.closed
            )
            return response

        self.aiohttp.ClientSession._request = _request  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        self.aiohttp.ClientSession._request = self._original  # type: ignore[method-assign]

    def _rebuild(self, exchange: RecordedExchange, info: RequestInfo) -> BaseException:
        assert exchange.error is not None
        aiohttp = self.aiohttp

        recorded = exchange.error.error

        def construct(cls: type[BaseException], message: str) -> BaseException:
            args = recorded.args or []
            if issubclass(cls, aiohttp.ClientConnectorError) and args[:1] == ["connector"]:
                _, host, port, ssl, errno, strerror = args
                key = SimpleNamespace(host=host, port=port, ssl=ssl)
                return cls(key, OSError(errno, strerror))
            return cls(message)

        import asyncio

        return rebuild_error(
            exchange.error.error, [aiohttp, aiohttp.client_exceptions, asyncio], construct
        )

    async def replayed(
        self,
        client: Any,
        session: ActiveSession,
        task: TaskState,
        exchange: RecordedExchange,
        info: RequestInfo,
        kwargs: dict[str, Any],
    ) -> Any:
        aiohttp, yarl = self.aiohttp, self.yarl
        recorded = exchange.response
        if recorded is None:
            raise no_response(session, task, exchange, lambda: self._rebuild(exchange, info))
        import asyncio

        from multidict import CIMultiDict, CIMultiDictProxy

        loop = asyncio.get_running_loop()
        url = yarl.URL(info.url)
        request_info = aiohttp.RequestInfo(
            url, info.method, CIMultiDictProxy(CIMultiDict(info.headers)), url
        )
        values = {
            "writer": None,
            "continue100": None,
            "timer": None,
            "request_info": request_info,
            "traces": [],
            "loop": loop,
            "session": client,
            "stream_writer": SimpleNamespace(output_size=0),
        }
        params = inspect.signature(aiohttp.ClientResponse.__init__).parameters
        response = aiohttp.ClientResponse(
            info.method, url, **{k: v for k, v in values.items() if k in params}
        )
        major, _, minor = recorded.http_version.removeprefix("HTTP/").partition(".")
        response.version = aiohttp.HttpVersion(int(major or 1), int(minor or 1))
        response.status = recorded.status
        response.reason = recorded.reason
        response._headers = CIMultiDictProxy(CIMultiDict(recorded.headers))
        response._raw_headers = tuple(
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in recorded.headers
        )
        response.content = self.reader_class(
            _replay_pull(self, session, task, exchange, info), loop
        )
        raise_for_status = kwargs.get("raise_for_status")
        if raise_for_status is None:
            raise_for_status = client._raise_for_status
        if callable(raise_for_status):
            await raise_for_status(response)
        elif raise_for_status:
            response.raise_for_status()
        return response


def _error_info(exc: BaseException) -> ErrorInfo:
    """A connector error prints its host, port and OS error: keep them to rebuild it."""
    info = ErrorInfo.from_exception(exc)
    key = getattr(exc, "_conn_key", None)
    os_error = getattr(exc, "os_error", None)
    if key is not None and isinstance(os_error, OSError):
        ssl = key.ssl if isinstance(key.ssl, bool) else True
        args = [
            "connector",
            key.host,
            key.port,
            ssl,
            os_error.errno or 0,
            os_error.strerror or str(os_error),
        ]
        return ErrorInfo(info.type, info.message, info.traceback, args)
    return info


def _live_pull(source: Any, recorder: ExchangeRecorder) -> Pull:
    async def pull() -> bytes | None:
        try:
            data: bytes = await source.readany()
        except BaseException as exc:
            recorder.error(exc)
            raise
        if not data:
            recorder.end(True)
            return None
        recorder.chunk(data)
        return data

    return pull


def _replay_pull(
    interceptor: AiohttpInterceptor,
    session: ActiveSession,
    task: TaskState,
    exchange: RecordedExchange,
    info: RequestInfo,
) -> Pull:
    pieces = iter(exchange.chunks)

    async def pull() -> bytes | None:
        for chunk in pieces:
            await session.arrive(chunk.at)
            return chunk.data
        await session.arrive(exchange.ended_at(), received=not exchange.cancelled)
        if exchange.cancelled:
            await session.hold_open(task, exchange)
        error = after_last_chunk(
            session, task, exchange, lambda: interceptor._rebuild(exchange, info)
        )
        if error is not None:
            raise error
        return None

    return pull
