"""The demo's HTTP servers print no traceback when a browser goes away mid-reply (#21)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from demo.shop import QuietServer


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.end_headers()
        for _ in range(200):  # the client resets while this is still being written
            self.wfile.write(b"x" * 65536)
            time.sleep(0.005)

    def log_message(self, *args: object) -> None:
        pass


def test_a_reset_connection_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    server = QuietServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = socket.create_connection(server.server_address)
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        client.recv(1024)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # RST: the handler's next write fails with a ConnectionError
        time.sleep(1.5)
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err


def test_other_errors_are_still_reported(capfd: pytest.CaptureFixture[str]) -> None:
    server = QuietServer(("127.0.0.1", 0), _Slow)
    try:
        try:
            raise ValueError("a real bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.server_close()
    assert "ValueError: a real bug" in capfd.readouterr().err
