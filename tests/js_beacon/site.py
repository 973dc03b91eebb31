"""A tiny test shop on loopback that embeds the snippet exactly as the collector serves it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test shop</title>
{snippet}
</head><body>
<h1 id="hero" style="font-size:64px">Welcome to the test shop, a page large enough to paint</h1>
<p>Some text so that the page has contentful paint.</p>
<button id="buy" onclick="let x = 0; for (let i = 0; i < 3e6; i++) x += i;
  this.textContent = 'bought ' + x">Buy</button>
<button id="plain" onclick="this.textContent = 'clicked'">Plain</button>
</body></html>
"""


class QuietHandler(BaseHTTPRequestHandler):
    """A test server's handler: `_reply` sends a whole response; no access log."""

    def _reply(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1:port (0: a free one) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def run_shop(port: int, snippet: str) -> Iterator[str]:
    """Serve the shop on 127.0.0.1:port; every GET returns the page (any path: an SPA)."""
    logins = {"count": 0}

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/slow-server"):
                time.sleep(0.4)  # a slow origin: TTFB must show it
            if self.path.startswith("/api/fail"):
                self._reply(503, b'{"error":"down"}', "application/json")
            else:
                self._reply(200, PAGE.format(snippet=snippet).encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path.startswith("/api/login"):
                logins["count"] += 1
                status = 401 if logins["count"] == 1 else 200
                self._reply(status, b"{}", "application/json")
            else:
                self._reply(404, b"{}", "application/json")

    with serve(Handler, port) as url:
        yield url
