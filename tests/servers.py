"""A real HTTP server on 127.0.0.1 for the tests, in a background thread."""

from __future__ import annotations

import gzip
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_JITTER = random.Random()  # the server's own: never part of a recorded run


def _delay(value: str, owner: ToolServer, path: str) -> float:
    """``?delay=0.2`` waits 0.2 s; ``?delay=rand`` a random 5-80 ms; ``?delay=spread`` gives
    each path one of 10, 70, 130... ms, dealt at random when the server starts (so racing
    requests finish far apart, in another order each run)."""
    if value == "rand":
        return _JITTER.uniform(0.005, 0.08)
    if value == "spread":
        with owner._lock:
            if path not in owner.spread:
                owner.spread[path] = owner._spread_left.pop()
            return owner.spread[path]
    return float(value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ToolServer._Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _route(self, method: str) -> None:
        owner: ToolServer = self.server.owner
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        arrival = owner.record(method, self.path, dict(self.headers.items()), body)
        path = parts.path
        if path == "/echo":
            payload = {
                "method": method,
                "path": self.path,
                "body": body.decode("latin-1"),
                "headers": dict(self.headers.items()),
            }
            self._send(200, json.dumps(payload).encode(), extra={"set-cookie": "session=s3cret"})
        elif path.startswith("/tool/"):
            time.sleep(_delay(query.get("delay", "0"), owner, path))
            n = path.rsplit("/", 1)[-1]
            self._send(
                200, json.dumps({"tool": n, "answer": f"result-{n}", "served": arrival}).encode()
            )
        elif path == "/sse":
            self._start_chunked("text/event-stream")
            for i in range(int(query.get("n", 5))):
                if i == 1 and owner.gate is not None:
                    owner.gate_opened_in_time = owner.gate.wait(5)
                self._chunk(f"data: {json.dumps({'i': i, 'text': f'token{i}'})}\n\n".encode())
                time.sleep(_delay(query.get("delay", "0"), owner, path))
            self._chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/gzip":
            data = gzip.compress(json.dumps({"compressed": True, "pad": "x" * 500}).encode())
            self._send(200, data, extra={"content-encoding": "gzip"})
        elif path == "/bytes":
            size = int(query.get("n", 1000))
            self._send(200, bytes(i % 251 for i in range(size)), "application/octet-stream")
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[-1])
            self._send(status, json.dumps({"error": {"message": f"status {status}"}}).encode())
        elif path == "/slow":
            time.sleep(float(query.get("delay", 2)))
            self._send(200, b"{}")
        elif path == "/drop":
            self._start_chunked("text/plain")
            self._chunk(b"partial body")
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
        else:
            self._send(404, b'{"error": "not found"}')

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


class ToolServer:
    """Routes: /echo, /tool/N?delay=S, /sse?n=N&delay=S, /gzip, /bytes?n=N, /status/CODE,
    /slow?delay=S, /drop (breaks the connection mid-body). ``delay=rand`` is 5-80 ms."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # dozens of clients at once (the default, 5, resets them)
        owner: ToolServer

        def handle_error(self, request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up
                super().handle_error(request, client_address)

    def __init__(self) -> None:
        self._server = self._Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        self.gate: threading.Event | None = None
        self.spread: dict[str, float] = {}
        self._spread_left = _JITTER.sample([0.01 + 0.06 * n for n in range(8)], 8)
        self.gate_opened_in_time: bool | None = None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._stopped = False

    def record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append((method, path, headers, body))
            return len(self.requests)

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> ToolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
