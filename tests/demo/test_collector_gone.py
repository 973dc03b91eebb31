"""When the demo's collector stops answering (or answers with an error), the demo stops
with one line saying which request failed, which `rum demo` prints as its error (exit 2),
not a traceback."""

from __future__ import annotations

import socket
from contextlib import AbstractContextManager

import pytest

from demo.run import _query, _wait_written
from tests.js_beacon.site import QuietHandler, serve


def _answering(status: int, body: bytes, content_type: str) -> AbstractContextManager[str]:
    """A real HTTP server answering every GET with this status and body."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._reply(status, body, content_type)

    return serve(Handler)


def _closed_port() -> str:
    """The URL of a loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_collector_gone_is_one_line_for_the_findings_and_the_wait() -> None:
    url = _closed_port()
    with pytest.raises(RuntimeError, match="did not answer slow-regions: "):
        _query(url, "slow-regions", {"site": "demo-shop"})
    with pytest.raises(RuntimeError, match="did not answer /healthz: "):
        _wait_written(url, timeout=5)


def test_an_error_reply_names_its_status_and_detail() -> None:
    body = b'{"error": "query_failed", "detail": "the store is not answering"}'
    with _answering(503, body, "application/json") as url:
        with pytest.raises(RuntimeError, match="slow-regions with HTTP 503: the store is not answering"):
            _query(url, "slow-regions", {})
    with _answering(502, b"<html>bad gateway</html>", "text/html") as url:
        with pytest.raises(RuntimeError, match="top-errors with HTTP 502: <html>bad gateway"):
            _query(url, "top-errors", {})
    with _answering(200, b"not json", "text/plain") as url:
        with pytest.raises(RuntimeError, match="did not answer /healthz"):
            _wait_written(url, timeout=5)


def test_an_unknown_site_is_no_findings_yet() -> None:
    body = b'{"error": "unknown_site", "detail": "no event stored for it"}'
    with _answering(404, body, "application/json") as url:
        assert _query(url, "slow-regions", {"site": "demo-shop"}) == []
