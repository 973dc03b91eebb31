"""Request line and headers are capped like nginx's: 431, not a server that grows (issue #17)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import orjson
import pytest

from collector.settings import Settings
from tests.beacons import envelope
from tests.conftest import RunningServer, start_server, stop_server

BODY = b'{"v":1}'


@pytest.fixture
def server(server_settings: Callable[..., Settings]) -> Iterator[RunningServer]:
    running = start_server(server_settings(rate_limit_ip=0, rate_limit_site=0))
    try:
        yield running
    finally:
        stop_server(running)


def _port(server: RunningServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def _send(port: int, head: bytes, chunks: Iterator[bytes] | None = None) -> bytes:
    """Send a request (stopping early if the server closes); the status line it got back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(head)
            for chunk in chunks or iter(()):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while b"\r\n" not in reply:
                more = sock.recv(4096)
                if not more:
                    break
                reply += more
        except ConnectionResetError:
            pass
    return reply.split(b"\r\n", 1)[0]


def test_huge_header_is_refused_with_431(server: RunningServer) -> None:
    head = b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nX-Big: "
    forty_mb = (b"a" * 65536 for _ in range(640))
    assert _send(_port(server), head, forty_mb) == b"HTTP/1.1 431 Request Header Fields Too Large"


def test_many_connections_with_big_headers_are_all_refused(server: RunningServer) -> None:
    for _ in range(20):
        head = b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n"
        assert b" 431 " in _send(_port(server), head)


def test_long_request_line_is_refused(server: RunningServer) -> None:
    head = b"GET /healthz?" + b"q" * 17000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert b" 431 " in _send(_port(server), head)


def test_too_many_header_fields_are_refused(server: RunningServer) -> None:
    fields = b"".join(b"X-H%d: 1\r\n" % i for i in range(101))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    assert b" 431 " in _send(_port(server), head)


def test_requests_within_the_limits_pass(server: RunningServer) -> None:
    fields = b"".join(b"X-H%d: 1\r\n" % i for i in range(90))
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 14000 + b"\r\n" + fields
    assert _send(_port(server), head + b"Connection: close\r\n\r\n") == b"HTTP/1.1 200 OK"
    def post(body: bytes) -> bytes:  # headers and body in one segment
        return (b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body

    assert b" 202 " in _send(_port(server), post(orjson.dumps(envelope())))
    # a body past the header budget, in the same segment (built whole: replacing the
    # length's digits in a beacon could also change its timestamps' digits, and leave a
    # request whose body is shorter than its Content-Length)
    status = _send(_port(server), post(b"[" + b" " * 40000 + b"]"))
    assert status.startswith(b"HTTP/1.1 4") and b" 431 " not in status, status


def test_keep_alive_requests_each_get_their_own_budget(server: RunningServer) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 10000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(one)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
                more = sock.recv(4096)
                assert more, "closed"
                reply += more
            assert reply.startswith(b"HTTP/1.1 200 OK")
