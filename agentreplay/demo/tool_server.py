"""The demo's tool server: a tiny order database over HTTP, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ToolServer"]

ORDERS: dict[str, dict[str, Any]] = {
    "A-1001": {
        "item": "espresso machine",
        "status": "shipped",
        "carrier": "DHL",
        "position": "Lyon hub",
    },
    "A-1002": {"item": "coffee grinder", "status": "processing"},
    "A-1003": {
        "item": "milk frother",
        "status": "delivered",
        "carrier": "UPS",
        "position": "front door",
    },
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        order_id = query.get("order_id", "")
        order = ORDERS.get(order_id)
        if parts.path not in ("/lookup_order", "/shipping_status"):
            status, body = 404, {"error": f"no tool at {parts.path}"}
        elif order is None:
            status, body = 404, {"error": f"no order {order_id}"}
        elif parts.path == "/lookup_order":
            status, body = (
                200,
                {"order": order_id, "item": order["item"], "status": order["status"]},
            )
        else:
            status, body = (
                200,
                {
                    "order": order_id,
                    "status": order["status"],
                    "position": order.get("position", "not shipped yet"),
                },
            )
        with contextlib.suppress(ValueError):  # ?delay=S: S seconds late (up to 5)
            time.sleep(min(5.0, max(0.0, float(query.get("delay", 0)))))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ToolServer:
    def __init__(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
