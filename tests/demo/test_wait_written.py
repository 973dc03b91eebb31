"""The demo reads its findings once the collector has written what it took, and says how
many rows were still unwritten when it stopped waiting (instead of reading fewer silently)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from demo.run import _wait_written


@contextmanager
def _healthz(pending: list[int]) -> Iterator[str]:
    """A real HTTP server whose /healthz reports the next of `pending` (the last repeats)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            rows = pending.pop(0) if len(pending) > 1 else pending[0]
            body = orjson.dumps({"status": "ok", "pending_rows": rows})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_waits_until_the_buffer_is_written() -> None:
    with _healthz([900, 400, 0]) as url:
        assert _wait_written(url, timeout=30) == 0


def test_says_what_was_left_when_the_writer_stays_behind() -> None:
    with _healthz([1200]) as url:
        assert _wait_written(url, timeout=0.3) == 1200
