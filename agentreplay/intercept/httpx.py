"""httpx and httpx2 (which the openai and anthropic SDKs use), sync and async.

The hook sits at the transport boundary: ``Client._transport_for_url`` hands
back the client's own transport wrapped in ours. Everything above the
transport (auth, redirects, decoding, the SDKs) runs unchanged on record and
replay; below it, recording passes each body chunk to the caller the moment
it arrives and notes it on the way, and replay never calls the real
transport at all. This covers custom transports too, such as openai's
aiohttp-based client.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any

from agentreplay.cassette.events import HttpChunk
from agentreplay.intercept.common import (
    after_last_chunk,
    decode_headers,
    encode_headers,
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

__all__ = ["HttpxInterceptor"]


def _describe(request: Any, body: bytes, client: str) -> RequestInfo:
    return RequestInfo(
        request.method, str(request.url), decode_headers(request.headers.raw), body, client
    )


class HttpxInterceptor:
    """Wraps the transports of ``httpx.Client``/``AsyncClient`` (or httpx2's)."""

    def __init__(self, module_name: str) -> None:
        self.name = module_name
        self.mod: ModuleType = importlib.import_module(module_name)
        self._exceptions = [self.mod]
        self._originals: dict[str, Any] = {}
        self.streams = _make_streams(self.mod)

    def install(self) -> None:
        mod, interceptor = self.mod, self
        self._originals["sync"] = mod.Client._transport_for_url
        self._originals["async"] = mod.AsyncClient._transport_for_url

        def sync_transport_for_url(client: Any, url: Any) -> Any:
            return _SyncTransport(interceptor, interceptor._originals["sync"](client, url))

        def async_transport_for_url(client: Any, url: Any) -> Any:
            return _AsyncTransport(interceptor, interceptor._originals["async"](client, url))

        mod.Client._transport_for_url = sync_transport_for_url
        mod.AsyncClient._transport_for_url = async_transport_for_url

    def uninstall(self) -> None:
        self.mod.Client._transport_for_url = self._originals["sync"]
        self.mod.AsyncClient._transport_for_url = self._originals["async"]

    def recorded(self, response: Any, recorder: ExchangeRecorder, stream: str) -> Any:
        """Note the response head; its body is noted chunk by chunk as the caller reads."""
        recorder.response(
            response.status_code,
            decode_headers(response.headers.raw),
            response.http_version,
            response.reason_phrase,
        )
        content = getattr(response, "_content", None)
        if content is not None:
            # Already read by the transport (httpx.MockTransport, respx): nothing will
            # iterate the stream again, so the body is noted now, whole.
            recorder.chunk(content)
            recorder.end(True)
            return response
        response.stream = self.streams[stream](response.stream, recorder)
        return response

    # -- replay ------------------------------------------------------------
    def replayed_response(
        self,
        session: ActiveSession,
        task: TaskState,
        exchange: RecordedExchange,
        request: Any,
        stream: Any,
    ) -> Any:
        response = exchange.response
        if response is None:
            raise no_response(session, task, exchange, lambda: self.rebuild(exchange, request))
        return self.mod.Response(
            status_code=response.status,
            headers=encode_headers(response.headers),
            stream=stream,
            request=request,
            extensions={
                "http_version": response.http_version.encode("ascii", "replace"),
                "reason_phrase": response.reason.encode("latin-1", "replace"),
            },
        )

    def rebuild(self, exchange: RecordedExchange, request: Any) -> BaseException:
        assert exchange.error is not None

        def construct(cls: type[BaseException], message: str) -> BaseException:
            if issubclass(cls, self.mod.RequestError):
                request_error: Callable[..., BaseException] = cls  # takes request= too
                return request_error(message, request=request)
            return cls(message)

        return rebuild_error(exchange.error.error, self._exceptions, construct)


class _SyncTransport:
    def __init__(self, interceptor: HttpxInterceptor, inner: Any) -> None:
        self._interceptor = interceptor
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def handle_request(self, request: Any) -> Any:
        session = active_session()
        task = session.run_task() if session is not None else None
        if session is None or task is None or in_exchange.get() or unrecorded_sender():
            return self._inner.handle_request(request)
        info = _describe(request, request.read(), self._interceptor.name)
        exchange = session.http_replay(task, info)
        if exchange is not None:
            session.wait_answer(task, exchange)
            stream = self._interceptor.streams["ReplaySync"](
                self._interceptor, session, task, exchange, request
            )
            return self._interceptor.replayed_response(session, task, exchange, request, stream)
        recorder = session.http_record(task, info)
        if recorder is None:
            return self._inner.handle_request(request)
        token = in_exchange.set(True)
        try:
            response = self._inner.handle_request(request)
        except BaseException as exc:
            recorder.error(exc)
            raise
        finally:
            in_exchange.reset(token)
        return self._interceptor.recorded(response, recorder, "RecordingSync")

    def close(self) -> None:
        self._inner.close()


class _AsyncTransport:
    def __init__(self, interceptor: HttpxInterceptor, inner: Any) -> None:
        self._interceptor = interceptor
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def handle_async_request(self, request: Any) -> Any:
        session = active_session()
        task = session.run_task() if session is not None else None
        if session is None or task is None or in_exchange.get() or unrecorded_sender():
            return await self._inner.handle_async_request(request)
        info = _describe(request, await request.aread(), self._interceptor.name)
        exchange = session.http_replay(task, info)
        if exchange is not None:
            await session.await_answer(task, exchange)
            stream = self._interceptor.streams["ReplayAsync"](
                self._interceptor, session, task, exchange, request
            )
            return self._interceptor.replayed_response(session, task, exchange, request, stream)
        recorder = session.http_record(task, info)
        if recorder is None:
            return await self._inner.handle_async_request(request)
        token = in_exchange.set(True)
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException as exc:
            recorder.error(exc)
            raise
        finally:
            in_exchange.reset(token)
        return self._interceptor.recorded(response, recorder, "RecordingAsync")

    async def aclose(self) -> None:
        await self._inner.aclose()


def _make_streams(mod: ModuleType) -> dict[str, type]:
    """The four body streams, built on this module's own stream base classes
    (the client checks ``isinstance(response.stream, SyncByteStream)``)."""

    class RecordingSync(mod.SyncByteStream):  # type: ignore[name-defined,misc]
        """Passes each chunk through as it arrives, noting it on the way."""

        def __init__(self, inner: Any, recorder: ExchangeRecorder) -> None:
            self._inner = inner
            self._recorder = recorder

        def __iter__(self) -> Iterator[bytes]:
            recorder = self._recorder
            try:
                for chunk in self._inner:
                    recorder.chunk(chunk)
                    yield chunk
            except GeneratorExit:
                recorder.closed()
                raise
            except BaseException as exc:
                recorder.error(exc)
                raise
            recorder.end(True)

        def close(self) -> None:
            self._recorder.closed()
            self._inner.close()

    class RecordingAsync(mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, recorder: ExchangeRecorder) -> None:
            self._inner = inner
            self._recorder = recorder

        async def __aiter__(self) -> AsyncIterator[bytes]:
            recorder = self._recorder
            try:
                async for chunk in self._inner:
                    recorder.chunk(chunk)
                    yield chunk
            except GeneratorExit:
                recorder.closed()
                raise
            except BaseException as exc:
                recorder.error(exc)
                raise
            recorder.end(True)

        async def aclose(self) -> None:
            self._recorder.closed()
            await self._inner.aclose()

    class _Replay:
        def __init__(
            self,
            interceptor: HttpxInterceptor,
            session: ActiveSession,
            task: TaskState,
            exchange: RecordedExchange,
            request: Any,
        ) -> None:
            self._interceptor = interceptor
            self._session = session
            self._task = task
            self._exchange = exchange
            self._request = request
            self._next = 0  # chunks handed out: iterating again goes on from there

        def _chunks(self) -> Iterator[tuple[float, HttpChunk]]:
            """The chunks not handed out yet, each with its gap from the one before."""
            exchange = self._exchange
            gaps = exchange.gaps()
            while self._next < len(exchange.chunks):
                index = self._next
                self._next += 1
                yield gaps[index], exchange.chunks[index]

        def _after_last_chunk(self) -> BaseException | None:
            return after_last_chunk(
                self._session,
                self._task,
                self._exchange,
                lambda: self._interceptor.rebuild(self._exchange, self._request),
            )

    class ReplaySync(_Replay, mod.SyncByteStream):  # type: ignore[name-defined,misc]
        """Hands back the recorded chunks with their boundaries, instantly or paced."""

        def __iter__(self) -> Iterator[bytes]:
            session = self._session
            for gap, chunk in self._chunks():
                session.pace_sync(gap)
                yield chunk.data
            error = self._after_last_chunk()
            if error is not None:
                raise error

    class ReplayAsync(_Replay, mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        async def __aiter__(self) -> AsyncIterator[bytes]:
            exchange, session = self._exchange, self._session
            for _, chunk in self._chunks():
                await session.arrive(chunk.at)
                yield chunk.data
            await session.arrive(exchange.ended_at(), received=not exchange.cancelled)
            if exchange.cancelled:
                await session.hold_open(self._task, exchange)
            error = self._after_last_chunk()
            if error is not None:
                raise error

    return {
        "RecordingSync": RecordingSync,
        "RecordingAsync": RecordingAsync,
        "ReplaySync": ReplaySync,
        "ReplayAsync": ReplayAsync,
    }
