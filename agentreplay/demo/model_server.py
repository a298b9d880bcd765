"""A local fake model server that speaks the OpenAI, Anthropic, Gemini and Bedrock formats.

``ModelServer`` listens on 127.0.0.1 over real HTTP/1.1 and answers

- ``POST /v1/chat/completions`` (OpenAI Chat Completions),
- ``POST /v1/responses`` (OpenAI Responses),
- ``POST /v1/messages`` (Anthropic Messages),
- ``POST /v1beta/models/{model}:generateContent`` and
  ``:streamGenerateContent`` (Google Gemini),
- ``POST /model/{model}/converse`` and ``/converse-stream`` (Amazon Bedrock),

under any path prefix (``/v1``, ``/api/v1``...), as JSON or, when the
request asks for a stream, as events sent one HTTP chunk per event
(server-sent events; AWS event-stream messages for Bedrock). The answers are
close enough to the real ones that the official SDKs parse them, stream
helpers included. What to answer is decided by a *responder*, a function from the
``ModelRequest`` to a ``Reply``: tests script exact replies, and the demo
uses ``random_responder`` so that two runs really differ.

Only the standard library is used, so the server can run inside the process
being recorded without pulling anything in.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from agentreplay.llm.encode import (
    ModelRequest,
    Reply,
    ToolCallSpec,
    api_of,
    json_body,
    model_request,
    stream_chunks,
)
from agentreplay.llm.turn import Turn

__all__ = [
    "ModelRequest",
    "ModelServer",
    "Reply",
    "Responder",
    "ToolCallSpec",
    "echo_responder",
    "random_responder",
]

GATE_TIMEOUT = 5.0
"""Seconds a stream waits at ``first_chunk_gate`` before going on regardless."""

_DEFAULT_FAILURE_HEADERS = {"retry-after-ms": "10"}

Responder = Callable[[ModelRequest], Reply]


# HTTP -------------------------------------------------------------------------


def _error(status: int, message: str, kind: str) -> tuple[int, dict[str, Any]]:
    # Both SDKs find their message in this shape: OpenAI reads error.message,
    # Anthropic reads the whole object.
    return status, {"type": "error", "error": {"type": kind, "message": message, "code": None}}


def _write_chunk(wfile: io.BufferedIOBase, data: bytes) -> None:
    wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    wfile.flush()


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("transfer-encoding", "").lower() != "chunked":
        return handler.rfile.read(int(handler.headers.get("content-length") or 0))
    body = bytearray()
    while size := int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16):
        body += handler.rfile.read(size)
        handler.rfile.readline()
    while handler.rfile.readline().strip():
        pass
    return bytes(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def do_POST(self) -> None:
        self.server.owner._serve(self)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when dozens of clients
    # connect at once (a server under test with 50 requests in flight).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: ModelServer) -> None:
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    def drop_connections(self) -> None:
        """Wake the threads idling on kept-alive connections so that they end."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ModelServer:
    """A fake OpenAI/Anthropic endpoint on a local port, for tests and the demo.

    Every model API request is kept in ``requests``, in the order received.
    A test may set ``first_chunk_gate``: each streamed answer then sends its
    first event and waits (up to 5 s) for the gate before the rest;
    ``gate_opened_in_time`` says whether the last such wait ended by the gate.
    ``jitter`` adds a random wait of up to that many seconds before each answer and
    each streamed event, so that concurrent live runs finish in a different order.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        chunk_delay: float = 0.0,
        jitter: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.responder: Responder = responder or echo_responder
        self.chunk_delay = chunk_delay
        self.jitter = jitter
        self._jitter = random.Random()  # the server's own, never part of a recorded run
        self.host = host
        self.port = port
        self.requests: list[ModelRequest] = []
        self.first_chunk_gate: threading.Event | None = None
        self.gate_opened_in_time = False
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}
        self._failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, without ``/v1``."""
        if self._httpd is None:
            raise RuntimeError("the model server is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> ModelServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"agentreplay-model-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        thread.join()
        httpd.drop_connections()
        httpd.server_close()
        self._httpd = self._thread = None

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(
        self,
        status: int,
        body: dict[str, Any],
        times: int = 1,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` model requests with ``status`` and ``body``.

        By default the answer carries ``retry-after-ms: 10`` so that SDK retries
        happen at once instead of after their exponential backoff.
        """
        sent = dict(_DEFAULT_FAILURE_HEADERS if headers is None else headers)
        with self._lock:
            self._failures.extend([(status, body, sent)] * times)

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            counter = self._counters.setdefault(prefix, itertools.count(1))
            return f"{prefix}{next(counter)}"

    def _serve(self, handler: _Handler) -> None:
        raw = _read_body(handler)
        if api_of(handler.command, handler.path) is None:
            reason = f"no model API at {handler.command} {handler.path}"
            self._send_json(handler, *_error(404, reason, "not_found_error"))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError as err:
            self._send_json(handler, *_error(400, f"invalid JSON: {err}", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            self._send_json(handler, *_error(400, "body is not an object", "invalid_request_error"))
            return
        headers = {name.lower(): value for name, value in handler.headers.items()}
        request = model_request(handler.command, handler.path, headers, body)
        assert request is not None
        with self._lock:
            self.requests.append(request)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            self._send_json(handler, *failure)
            return
        self._answer(handler, request)

    def _answer(self, handler: _Handler, request: ModelRequest) -> None:
        try:
            turn = Turn(request, self.responder(request), self._new_id)
        except Exception as err:
            self._send_json(handler, *_error(500, f"responder failed: {err!r}", "api_error"))
            return
        if request.stream:
            self._send_stream(handler, *stream_chunks(turn))
        else:
            self._send_body(handler, 200, json_body(turn))

    def _send_json(
        self,
        handler: _Handler,
        status: int,
        body: dict[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._send_body(handler, status, json.dumps(body).encode(), headers)

    def _send_body(
        self,
        handler: _Handler,
        status: int,
        data: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if self.jitter:
            self._stopping.wait(self._jitter.uniform(0, self.jitter))
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.send_header("x-request-id", self._new_id("req_"))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _send_stream(self, handler: _Handler, content_type: str, chunks: Iterator[bytes]) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("cache-control", "no-cache")
        handler.send_header("transfer-encoding", "chunked")
        handler.send_header("x-request-id", self._new_id("req_"))
        handler.end_headers()
        try:
            for number, chunk in enumerate(chunks):
                delay = self.chunk_delay + self._jitter.uniform(0, self.jitter)
                if (number or self.jitter) and delay > 0:
                    self._stopping.wait(delay)
                _write_chunk(handler.wfile, chunk)
                if number == 0:
                    self._wait_at_gate()
            _write_chunk(handler.wfile, b"")
        except ConnectionError:
            handler.close_connection = True

    def _wait_at_gate(self) -> None:
        gate = self.first_chunk_gate
        if gate is None:
            return
        # Waiting in slices lets stop() end a stream held at the gate.
        for _ in range(int(GATE_TIMEOUT / 0.05)):
            if gate.wait(0.05):
                self.gate_opened_in_time = True
                return
            if self._stopping.is_set():
                break
        self.gate_opened_in_time = False


# Responders -------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    # Gemini parts and Bedrock blocks are typed by their keys, not by a "type".
    kinds = ("text", "input_text", None)
    parts = [p for p in content if isinstance(p, dict) and "text" in p and p.get("type") in kinds]
    return "".join(str(part.get("text", "")) for part in parts)


def _last_user_text(request: ModelRequest) -> str:
    content_key = "content"
    if request.api == "responses":
        messages = request.body.get("input", "")
        if isinstance(messages, str):
            return messages
    elif request.api == "generateContent":
        messages, content_key = request.body.get("contents", []), "parts"
    else:
        messages = request.body.get("messages", [])
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return _text_of(users[-1].get(content_key)) if users else ""


def echo_responder(request: ModelRequest) -> Reply:
    """Reply ``echo: <text of the last user message>``."""
    return Reply(text=f"echo: {_last_user_text(request)}")


_PHRASES = (
    "the agent reads a file",
    "then checks each result",
    "and plans one more careful step",
    "before it calls a tool",
    "to search the notes",
    "for an answer about the weather",
    "while the model weighs its options",
    "so the budget stays small",
    "after the schedule changes",
    "and the user waits patiently",
)


def _sentence(rng: random.Random, low: int, high: int) -> str:
    """A sentence of ``low`` to ``high`` random phrases."""
    phrases = rng.choices(_PHRASES, k=rng.randint(low, high))
    return " ".join(phrases).capitalize() + "."


def _offered_tools(request: ModelRequest) -> list[tuple[str, dict[str, Any]]]:
    if request.api == "generateContent":
        return _gemini_tools(request.body)
    if request.api == "converse":
        specs = [
            t.get("toolSpec") or {} for t in (request.body.get("toolConfig") or {}).get("tools", [])
        ]
        return [(t["name"], (t.get("inputSchema") or {}).get("json") or {}) for t in specs if t]
    tools = [t for t in request.body.get("tools") or [] if isinstance(t, dict)]
    if request.api == "messages":
        return [(t["name"], t["input_schema"]) for t in tools if "input_schema" in t]
    if request.api == "chat":
        tools = [t["function"] for t in tools if t.get("type") == "function"]
    else:
        tools = [t for t in tools if t.get("type") == "function"]
    return [(t["name"], t.get("parameters") or {}) for t in tools]


def _gemini_tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    keys = ("parametersJsonSchema", "parameters_json_schema", "parameters")
    for entry in body.get("tools") or []:
        for spec in entry.get("functionDeclarations") or entry.get("function_declarations") or []:
            schema: dict[str, Any] = next((spec[k] for k in keys if spec.get(k)), {})
            found.append((spec["name"], schema))
    return found


def _random_value(rng: random.Random, schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return _random_value(rng, rng.choice(options))
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = rng.choice([k for k in kind if k != "null"] or ["null"])
    if kind == "object":
        return _random_object(rng, schema)
    if kind == "array":
        return [_random_value(rng, schema.get("items") or {}) for _ in range(rng.randint(1, 3))]
    makers: dict[str, Callable[[], Any]] = {
        "integer": lambda: rng.randint(0, 100),
        "number": lambda: round(rng.uniform(0, 100), 2),
        "boolean": lambda: rng.random() < 0.5,
        "null": lambda: None,
    }
    maker = makers.get(kind)
    return maker() if maker else rng.choice(_PHRASES)


def _random_object(rng: random.Random, schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required", ()))
    return {
        name: _random_value(rng, sub)
        for name, sub in properties.items()
        if name in required or rng.random() < 0.5
    }


def _random_reply(rng: random.Random, request: ModelRequest) -> Reply:
    thinking_type = (request.body.get("thinking") or {}).get("type")
    thinking = _sentence(rng, 2, 5) if thinking_type in ("enabled", "adaptive") else ""
    tools = _offered_tools(request)
    if tools and rng.random() < 0.5:
        picked = rng.choices(tools, k=rng.choice((1, 1, 1, 2, 3)))
        calls = [ToolCallSpec(name, _random_object(rng, schema)) for name, schema in picked]
        text = _sentence(rng, 1, 2) if rng.random() < 0.3 else ""
        return Reply(text=text, tool_calls=calls, thinking=thinking)
    text = " ".join(_sentence(rng, 1, 4) for _ in range(rng.randint(1, 4)))
    return Reply(text=text, thinking=thinking)


def random_responder(seed: int | None = None) -> Responder:
    """A responder that answers random text, and random calls to offered tools half the time.

    Given a seed, the sequence of replies is reproducible; without one, every
    run differs.
    """
    rng = random.Random(seed)
    lock = threading.Lock()

    def respond(request: ModelRequest) -> Reply:
        with lock:
            return _random_reply(rng, request)

    return respond
