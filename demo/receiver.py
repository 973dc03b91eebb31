"""The demo's webhook receiver: a local HTTP endpoint the alert rules deliver to."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson

from demo.shop import QuietServer

Delivery = dict[str, Any]


@contextmanager
def run_receiver(on_delivery: Callable[[Delivery], None]) -> Iterator[str]:
    """Serve on a free loopback port until the block ends; yields the webhook URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                return
            if isinstance(payload, dict):
                on_delivery(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="demo-receiver")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
