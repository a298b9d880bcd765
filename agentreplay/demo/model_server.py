"""A local fake model server that speaks the OpenAI and Anthropic wire formats.

``ModelServer`` listens on 127.0.0.1 over real HTTP/1.1 and answers

- ``POST /v1/chat/completions`` (OpenAI Chat Completions),
- ``POST /v1/responses`` (OpenAI Responses),
- ``POST /v1/messages`` (Anthropic Messages),

with or without ``/v1``, as JSON or, when the request asks for ``stream``, as
server-sent events sent one HTTP chunk per event. The answers are close
enough to the real ones that the official SDKs parse them, stream helpers
included. What to answer is decided by a *responder*, a function from the
``ModelRequest`` to a ``Reply``: tests script exact replies, and the demo
uses ``random_responder`` so that two runs really differ.

Only the standard library is used, so the server can run inside the process
being recorded without pulling anything in.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import itertools
import json
import random
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

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

_ROUTES = {"/chat/completions": "chat", "/responses": "responses", "/messages": "messages"}
_RESPONSE_ID_PREFIX = {"chat": "chatcmpl-", "responses": "resp_", "messages": "msg_"}
_DEFAULT_FAILURE_HEADERS = {"retry-after-ms": "10"}

_Event = tuple[str | None, dict[str, Any] | str]
"""One server-sent event: its ``event:`` name (if any) and its data."""


@dataclass
class ToolCallSpec:
    """A tool call the fake model makes; ``id`` is generated when left ``None``."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass
class Reply:
    """What the fake model answers, whatever the wire format.

    ``thinking`` becomes an Anthropic thinking block; the OpenAI formats drop
    it. ``finish_reason`` is sent as the chat ``finish_reason`` or the
    Anthropic ``stop_reason`` (Responses has no such field); left ``None`` it
    is ``tool_calls``/``tool_use`` when there are tool calls, else
    ``stop``/``end_turn``. Token counts left ``None`` are estimated from the
    sizes of the request and the reply.
    """

    text: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    thinking: str = ""
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0


@dataclass
class ModelRequest:
    """A model API request the server received; ``headers`` keys are lower case."""

    api: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    stream: bool


Responder = Callable[[ModelRequest], Reply]


# Shared helpers ---------------------------------------------------------------


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _word_pieces(text: str) -> list[str]:
    """Split ``text`` into deltas of two or three words that join back to it exactly."""
    words = re.findall(r"\s*\S+|\s+$", text)
    pieces: list[str] = []
    sizes = itertools.cycle((2, 3))
    while words:
        size = next(sizes)
        pieces.append("".join(words[:size]))
        words = words[size:]
    return pieces


def _pieces(text: str, count: int = 4) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments(call: ToolCallSpec) -> str:
    return json.dumps(call.arguments)


def _given_or(value: int | None, default: int) -> int:
    return default if value is None else value


class _Turn:
    """A reply about to be sent for a request, with the ids and counts it needs."""

    def __init__(self, request: ModelRequest, reply: Reply, new_id: Callable[[str], str]) -> None:
        self.request = request
        self.reply = reply
        self.new_id = new_id
        self.id = new_id(_RESPONSE_ID_PREFIX[request.api])
        prefix = "toolu_" if request.api == "messages" else "call_"
        self.tool_ids = [call.id or new_id(prefix) for call in reply.tool_calls]
        self.model = str(request.body.get("model", "fake-model"))
        self.created = int(time.time())
        produced = reply.text + reply.thinking + "".join(map(_arguments, reply.tool_calls))
        self.input_tokens = _given_or(reply.input_tokens, _tokens(json.dumps(request.body)))
        self.output_tokens = _given_or(reply.output_tokens, _tokens(produced))

    def calls(self) -> Iterator[tuple[int, str, ToolCallSpec]]:
        for index, id_ in enumerate(self.tool_ids):
            yield index, id_, self.reply.tool_calls[index]

    def finish_reason(self, with_tools: str, without: str) -> str:
        if self.reply.finish_reason is not None:
            return self.reply.finish_reason
        return with_tools if self.reply.tool_calls else without


# OpenAI Chat Completions ------------------------------------------------------


def _chat_usage(turn: _Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.reply.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _chat_completion(turn: _Turn) -> dict[str, Any]:
    reply = turn.reply
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if reply.text or not reply.tool_calls else None,
        "refusal": None,
    }
    if reply.tool_calls:
        message["tool_calls"] = [_chat_tool_call(id_, call) for _, id_, call in turn.calls()]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": turn.finish_reason("tool_calls", "stop"),
    }
    return {
        "id": turn.id,
        "object": "chat.completion",
        "created": turn.created,
        "model": turn.model,
        "choices": [choice],
        "usage": _chat_usage(turn),
        "system_fingerprint": "fp_fake",
    }


def _chat_tool_call(id_: str, call: ToolCallSpec) -> dict[str, Any]:
    function = {"name": call.name, "arguments": _arguments(call)}
    return {"id": id_, "type": "function", "function": function}


def _chat_events(turn: _Turn) -> Iterator[_Event]:
    reply = turn.reply
    include_usage = bool((turn.request.body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> _Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        data = _chat_chunk(turn, [choice])
        if include_usage:
            data["usage"] = None
        return None, data

    content = "" if reply.text or not reply.tool_calls else None
    yield chunk({"role": "assistant", "content": content, "refusal": None})
    for piece in _word_pieces(reply.text):
        yield chunk({"content": piece})
    for index, id_, call in turn.calls():
        start = {"index": index, "id": id_, "type": "function"}
        yield chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        for piece in _pieces(_arguments(call)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, turn.finish_reason("tool_calls", "stop"))
    if include_usage:
        yield None, {**_chat_chunk(turn, []), "usage": _chat_usage(turn)}
    yield None, "[DONE]"


def _chat_chunk(turn: _Turn, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": turn.id,
        "object": "chat.completion.chunk",
        "created": turn.created,
        "model": turn.model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }


# OpenAI Responses -------------------------------------------------------------


def _response_items(turn: _Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    items: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        text = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "id": turn.new_id("msg_"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [text],
            }
        )
    for _, id_, call in turn.calls():
        items.append(
            {
                "id": turn.new_id("fc_"),
                "type": "function_call",
                "status": "completed",
                "call_id": id_,
                "name": call.name,
                "arguments": _arguments(call),
            }
        )
    return items


def _response(turn: _Turn, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    body = turn.request.body
    cached = turn.reply.cached_tokens
    usage = {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    done = status == "completed"
    return {
        "id": turn.id,
        "object": "response",
        "created_at": turn.created,
        "completed_at": turn.created if done else None,
        "status": status,
        "model": turn.model,
        "output": output,
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "error": None,
        "incomplete_details": None,
        "usage": usage if done else None,
    }


def _responses_body(turn: _Turn) -> dict[str, Any]:
    return _response(turn, _response_items(turn), "completed")


def _responses_events(turn: _Turn) -> Iterator[_Event]:
    sequence = itertools.count()

    def event(kind: str, **fields: Any) -> _Event:
        return kind, {"type": kind, "sequence_number": next(sequence), **fields}

    items = _response_items(turn)
    yield event("response.created", response=_response(turn, [], "in_progress"))
    yield event("response.in_progress", response=_response(turn, [], "in_progress"))
    for index, item in enumerate(items):
        if item["type"] == "message":
            yield from _message_item_events(event, index, item)
        else:
            yield from _function_call_events(event, index, item)
    yield event("response.completed", response=_response(turn, items, "completed"))


def _message_item_events(
    event: Callable[..., _Event], index: int, item: dict[str, Any]
) -> Iterator[_Event]:
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    added = {**item, "status": "in_progress", "content": []}
    yield event("response.output_item.added", output_index=index, item=added)
    yield event("response.content_part.added", **where, part={**part, "text": ""})
    for piece in _word_pieces(part["text"]):
        yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
    yield event("response.output_text.done", **where, text=part["text"], logprobs=[])
    yield event("response.content_part.done", **where, part=part)
    yield event("response.output_item.done", output_index=index, item=item)


def _function_call_events(
    event: Callable[..., _Event], index: int, item: dict[str, Any]
) -> Iterator[_Event]:
    where = {"item_id": item["id"], "output_index": index}
    added = {**item, "status": "in_progress", "arguments": ""}
    yield event("response.output_item.added", output_index=index, item=added)
    for piece in _pieces(item["arguments"]):
        yield event("response.function_call_arguments.delta", **where, delta=piece)
    done = {"name": item["name"], "arguments": item["arguments"]}
    yield event("response.function_call_arguments.done", **where, **done)
    yield event("response.output_item.done", output_index=index, item=item)


# Anthropic Messages -----------------------------------------------------------


def _signature(thinking: str) -> str:
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


def _message_blocks(turn: _Turn) -> list[dict[str, Any]]:
    reply = turn.reply
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        thinking = {"type": "thinking", "thinking": reply.thinking}
        blocks.append({**thinking, "signature": _signature(reply.thinking)})
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    for _, id_, call in turn.calls():
        blocks.append({"type": "tool_use", "id": id_, "name": call.name, "input": call.arguments})
    return blocks


def _message(
    turn: _Turn, content: list[dict[str, Any]], stop_reason: str | None, output_tokens: int
) -> dict[str, Any]:
    usage = {
        "input_tokens": turn.input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": turn.reply.cached_tokens,
        "cache_creation_input_tokens": 0,
    }
    return {
        "id": turn.id,
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _messages_body(turn: _Turn) -> dict[str, Any]:
    stop_reason = turn.finish_reason("tool_use", "end_turn")
    return _message(turn, _message_blocks(turn), stop_reason, turn.output_tokens)


def _messages_events(turn: _Turn) -> Iterator[_Event]:
    yield "message_start", {"type": "message_start", "message": _message(turn, [], None, 1)}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(_message_blocks(turn)):
        start, deltas = _block_stream(block)
        yield "content_block_start", {"type": "content_block_start", "index": index, **start}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, **delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    delta = {"stop_reason": turn.finish_reason("tool_use", "end_turn"), "stop_sequence": None}
    usage = {"output_tokens": turn.output_tokens}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _block_stream(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``content_block_start`` fields of a block and its deltas."""
    if block["type"] == "thinking":
        pieces = _word_pieces(block["thinking"])
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        start = {**block, "thinking": "", "signature": ""}
    elif block["type"] == "text":
        deltas = [{"type": "text_delta", "text": p} for p in _word_pieces(block["text"])]
        start = {**block, "text": ""}
    else:
        pieces = _pieces(json.dumps(block["input"]))
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        start = {**block, "input": {}}
    return {"content_block": start}, [{"delta": delta} for delta in deltas]


_BODIES: dict[str, Callable[[_Turn], dict[str, Any]]] = {
    "chat": _chat_completion,
    "responses": _responses_body,
    "messages": _messages_body,
}
_EVENTS: dict[str, Callable[[_Turn], Iterator[_Event]]] = {
    "chat": _chat_events,
    "responses": _responses_events,
    "messages": _messages_events,
}


# HTTP -------------------------------------------------------------------------


def _error(status: int, message: str, kind: str) -> tuple[int, dict[str, Any]]:
    # Both SDKs find their message in this shape: OpenAI reads error.message,
    # Anthropic reads the whole object.
    return status, {"type": "error", "error": {"type": kind, "message": message, "code": None}}


def _route(method: str, path: str) -> str | None:
    path = path.split("?", 1)[0].rstrip("/")
    path = path.removeprefix("/v1")
    return _ROUTES.get(path) if method == "POST" else None


def _sse(name: str | None, data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


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
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        chunk_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.responder: Responder = responder or echo_responder
        self.chunk_delay = chunk_delay
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
        api = _route(handler.command, handler.path)
        if api is None:
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
        request = ModelRequest(api, handler.path, headers, body, bool(body.get("stream")))
        with self._lock:
            self.requests.append(request)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            self._send_json(handler, *failure)
            return
        self._answer(handler, request)

    def _answer(self, handler: _Handler, request: ModelRequest) -> None:
        try:
            turn = _Turn(request, self.responder(request), self._new_id)
        except Exception as err:
            self._send_json(handler, *_error(500, f"responder failed: {err!r}", "api_error"))
            return
        if request.stream:
            self._send_stream(handler, _EVENTS[request.api](turn))
        else:
            self._send_json(handler, 200, _BODIES[request.api](turn))

    def _send_json(
        self,
        handler: _Handler,
        status: int,
        body: dict[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.send_header("x-request-id", self._new_id("req_"))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _send_stream(self, handler: _Handler, events: Iterator[_Event]) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream; charset=utf-8")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("transfer-encoding", "chunked")
        handler.send_header("x-request-id", self._new_id("req_"))
        handler.end_headers()
        try:
            for number, (name, data) in enumerate(events):
                if number and self.chunk_delay > 0:
                    self._stopping.wait(self.chunk_delay)
                _write_chunk(handler.wfile, _sse(name, data))
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
    parts = [p for p in content if isinstance(p, dict) and p.get("type") in ("text", "input_text")]
    return "".join(str(part.get("text", "")) for part in parts)


def _last_user_text(request: ModelRequest) -> str:
    if request.api == "responses":
        messages = request.body.get("input", "")
        if isinstance(messages, str):
            return messages
    else:
        messages = request.body.get("messages", [])
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return _text_of(users[-1].get("content")) if users else ""


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
    tools = [t for t in request.body.get("tools") or [] if isinstance(t, dict)]
    if request.api == "messages":
        return [(t["name"], t["input_schema"]) for t in tools if "input_schema" in t]
    if request.api == "chat":
        tools = [t["function"] for t in tools if t.get("type") == "function"]
    else:
        tools = [t for t in tools if t.get("type") == "function"]
    return [(t["name"], t.get("parameters") or {}) for t in tools]


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
