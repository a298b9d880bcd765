"""requests, and anything else built on urllib3 (botocore, for one).

The hook is ``HTTPConnectionPool.urlopen``, the lowest call that still sees a
whole request. The caller gets back a urllib3 ``HTTPResponse`` whose body is
read from a source of chunks: the live response while recording (each chunk
is noted as it arrives and handed on at once), the recorded chunks on replay.
Both present chunks the same way, so a chunked (SSE) body comes back with the
same boundaries, and compressed bodies are decoded by urllib3 as usual.
"""

from __future__ import annotations

import http.client
import inspect
from collections.abc import Iterator
from typing import Any

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

__all__ = ["Urllib3Interceptor"]


class _ChunkFile:
    """A file over a source of chunks: read(n) blocks for n bytes like a socket file,
    read1 hands out what one chunk holds; closed once the source is exhausted."""

    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source
        self._buffer = b""
        self._done = False
        self.closed = False

    def _pull(self) -> bool:
        if self._done:
            return False
        try:
            self._buffer += next(self._source)
            return True
        except StopIteration:
            self._done = True
            return False

    def _settle(self) -> None:
        if self._done and not self._buffer:
            self.closed = True

    def read(self, amt: int | None = None) -> bytes:
        if amt is None or amt < 0:
            while self._pull():
                pass
            data, self._buffer = self._buffer, b""
        else:
            while len(self._buffer) < amt and self._pull():
                pass
            data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self._settle()
        return data

    def read1(self, amt: int = -1) -> bytes:
        if not self._buffer:
            self._pull()
        if amt is None or amt < 0:
            amt = len(self._buffer)
        data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self._settle()
        return data

    def pieces(self, amt: int | None) -> Iterator[bytes]:
        """The chunks as they came, each cut to at most ``amt`` bytes."""
        while self._buffer or self._pull():
            chunk, self._buffer = self._buffer, b""
            if amt:
                for start in range(0, len(chunk), amt):
                    yield chunk[start : start + amt]
            else:
                yield chunk
        self._settle()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def flush(self) -> None:
        pass


def _original_response(headers: list[tuple[str, str]]) -> Any:
    """Enough of http.client's response for requests to read cookies from."""
    message = http.client.HTTPMessage()
    for key, value in headers:
        message[key] = value

    class _Original:
        msg = message

        @staticmethod
        def isclosed() -> bool:
            return True

    return _Original()


def _make_response_class(urllib3: Any) -> type:
    class ChunkedResponse(urllib3.HTTPResponse):  # type: ignore[misc]
        """A urllib3 response reading from a `_ChunkFile`."""

        def supports_chunked_reads(self) -> bool:
            return bool(self.chunked)

        def read_chunked(
            self, amt: int | None = None, decode_content: bool | None = None
        ) -> Iterator[bytes]:
            self._init_decoder()
            if decode_content is None:
                decode_content = self.decode_content
            for piece in self._fp.pieces(amt):
                decoded = self._decode(piece, decode_content, False)
                if decoded:
                    yield decoded
            if decode_content:
                tail = self._flush_decoder()
                if tail:
                    yield tail

        def release_conn(self) -> None:
            self._fp.close()

        def drain_conn(self) -> None:
            self._fp.close()

    return ChunkedResponse


def _error_with_reason(exc: BaseException) -> ErrorInfo:
    """MaxRetryError's ``reason`` decides which requests exception is raised: keep it."""
    info = ErrorInfo.from_exception(exc)
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        inner = ErrorInfo.from_exception(reason)
        return ErrorInfo(
            info.type, info.message, info.traceback, ["reason", inner.type, inner.message]
        )
    return info


def _live_source(live: Any, recorder: ExchangeRecorder) -> Iterator[bytes]:
    try:
        if live.chunked and live.supports_chunked_reads():
            chunks: Iterator[bytes] = live.read_chunked(decode_content=False)
        else:
            chunks = iter(lambda: live.read1(decode_content=False), b"")
        for chunk in chunks:
            recorder.chunk(chunk)
            yield chunk
    except GeneratorExit:
        recorder.closed()
        live.release_conn()
        raise
    except BaseException as exc:
        recorder.error(exc)
        raise
    recorder.end(True)
    live.release_conn()


class Urllib3Interceptor:
    def __init__(self, module_name: str) -> None:
        import urllib3
        import urllib3.exceptions

        self.urllib3 = urllib3
        self.response_class = _make_response_class(urllib3)
        self._original: Any = None

    def install(self) -> None:
        pool_class = self.urllib3.connectionpool.HTTPConnectionPool
        original = self._original = pool_class.urlopen
        interceptor = self
        signature = inspect.signature(original)

        def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            session = active_session()
            task = session.run_task() if session is not None else None
            if session is None or task is None or in_exchange.get() or unrecorded_sender():
                return original(pool, method, url, *args, **kwargs)
            bound = signature.bind(pool, method, url, *args, **kwargs)
            return interceptor.handle(session, task, pool, bound.arguments)

        pool_class.urlopen = urlopen  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        pool_class = self.urllib3.connectionpool.HTTPConnectionPool
        pool_class.urlopen = self._original  # type: ignore[method-assign]

    def _full_url(self, pool: Any, url: str) -> str:
        if not url.startswith("/"):
            return url
        default = {"http": 80, "https": 443}.get(pool.scheme)
        port = "" if pool.port in (None, default) else f":{pool.port}"
        return f"{pool.scheme}://{pool.host}{port}{url}"

    def handle(
        self, session: ActiveSession, task: TaskState, pool: Any, arguments: dict[str, Any]
    ) -> Any:
        body = arguments.get("body")
        if body is not None and not isinstance(body, (bytes, str)):
            body = b"".join(body) if not hasattr(body, "read") else body.read()
            arguments["body"] = body
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        headers = decode_headers((arguments.get("headers") or {}).items())
        method, url = arguments["method"], self._full_url(pool, arguments["url"])
        info = RequestInfo(method, url, headers, raw_body, "urllib3")
        preload = arguments.get("preload_content", True)
        decode = arguments.get("decode_content", True)
        exchange = session.http_replay(task, info)
        if exchange is not None:
            session.wait_answer(task, exchange)
            return self._replayed(session, task, exchange, method, url, preload, decode)
        recorder = session.http_record(task, info)
        arguments = dict(arguments)
        call_args = {k: v for k, v in arguments.items() if k not in ("self", "response_kw")}
        call_args.update(arguments.get("response_kw", {}))
        pool_self = arguments.get("self", pool)
        call_args.pop("self", None)
        if recorder is None:
            return self._original(pool_self, **call_args)
        call_args["preload_content"] = False
        token = in_exchange.set(True)
        try:
            live = self._original(pool_self, **call_args)
        except BaseException as exc:
            recorder.error(exc, _error_with_reason(exc))
            raise
        finally:
            in_exchange.reset(token)
        response_headers = list(live.headers.items())
        recorder.response(
            live.status,
            decode_headers(response_headers),
            getattr(live, "version_string", "HTTP/1.1"),
            live.reason or "",
        )
        return self._build(
            _live_source(live, recorder),
            response_headers,
            live.status,
            live.version,
            getattr(live, "version_string", "HTTP/1.1"),
            live.reason,
            preload,
            decode,
            method,
            url,
        )

    def _build(
        self,
        source: Iterator[bytes],
        headers: list[tuple[str, str]],
        status: int,
        version: int,
        version_string: str,
        reason: str | None,
        preload: bool,
        decode: bool,
        method: str,
        url: str,
    ) -> Any:
        return self.response_class(
            body=_ChunkFile(source),
            headers=self.urllib3.HTTPHeaderDict(headers),
            status=status,
            version=version,
            version_string=version_string,
            reason=reason,
            preload_content=preload,
            decode_content=decode,
            original_response=_original_response(headers),
            enforce_content_length=False,
            request_method=method,
            request_url=url,
        )

    def _replayed(
        self,
        session: ActiveSession,
        task: TaskState,
        exchange: RecordedExchange,
        method: str,
        url: str,
        preload: bool,
        decode: bool,
    ) -> Any:
        response = exchange.response
        if response is None:
            raise no_response(session, task, exchange, lambda: self._rebuild(exchange, url))

        def source() -> Iterator[bytes]:
            for gap, chunk in zip(exchange.gaps(), exchange.chunks, strict=True):
                session.pace_sync(gap)
                yield chunk.data
            error = after_last_chunk(session, task, exchange, lambda: self._rebuild(exchange, url))
            if error is not None:
                raise error

        version = 11 if response.http_version.endswith("1.1") else 10
        return self._build(
            source(),
            list(response.headers),
            response.status,
            version,
            response.http_version,
            response.reason,
            preload,
            decode,
            method,
            url,
        )

    def _rebuild(self, exchange: RecordedExchange, url: str) -> BaseException:
        assert exchange.error is not None
        exceptions = self.urllib3.exceptions

        def construct(
            cls: type[BaseException], message: str, cause: BaseException | None
        ) -> BaseException:
            params = inspect.signature(cls.__init__).parameters
            values = {
                "pool": None,
                "conn": None,
                "url": url,
                "message": message,
                "reason": cause,
                "error": None,
            }
            kwargs = {name: values[name] for name in params if name in values}
            return cls(**kwargs) if kwargs else cls(message)

        namespaces = [exceptions, self.urllib3]
        recorded = exchange.error.error
        reason: BaseException | None = None
        if recorded.args and len(recorded.args) == 3 and recorded.args[0] == "reason":
            reason = rebuild_error(
                ErrorInfo(recorded.args[1], recorded.args[2]),
                namespaces,
                lambda cls, message: construct(cls, message, None),
            )

        return rebuild_error(
            recorded, namespaces, lambda cls, message: construct(cls, message, reason)
        )
