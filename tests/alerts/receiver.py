"""A real HTTP webhook receiver on loopback that answers from a script and records deliveries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


@dataclass
class Delivery:
    """One request the receiver got."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:  # type: ignore[type-arg]
        return orjson.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """Answers each request with the next scripted reply (status, headers), then 200s."""

    port: int
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def accepted(self) -> list[Delivery]:
        """Requests answered with 2xx: what the receiver really took."""
        return [d for d in self.received if 200 <= d.status < 300]


@contextmanager
def run_receiver(port: int, script: list[tuple[int, dict[str, str]]] | None = None) -> Iterator[Receiver]:
    """Serve a Receiver on 127.0.0.1:port until the block ends."""
    receiver = Receiver(port, list(script or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                receiver.received.append(Delivery(status, dict(self.headers), body))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
