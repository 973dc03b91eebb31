"""The server's fast path for POST /v1/beacon (collector/server.py GuardedHttpProtocol: no
ASGI cycle), spoken to over raw sockets: kept-alive and pipelined requests get their
replies in order, a refusal decided on the headers leaves the connection usable, a
chunked body past the cap is refused and the connection closed, HTTP/1.0 and Expect:
100-continue are answered, and every accepted beacon is stored."""

from __future__ import annotations

import gzip
import socket
import time
from types import SimpleNamespace
from typing import Any

import orjson

from collector.intake import BeaconIntake
from collector.server import beacon_fast_path
from tests.beacons import envelope
from tests.conftest import CHROME_UA, RunningServer


def request(body: bytes, *, version: str = "1.1", extra: str = "", chunked: bool = False) -> bytes:
    head = (f"POST /v1/beacon HTTP/{version}\r\nHost: x\r\nContent-Type: text/plain\r\n"
            f"User-Agent: {CHROME_UA}\r\n{extra}")
    if chunked:
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"".join(
            b"%x\r\n" % len(body[i:i + 1000]) + body[i:i + 1000] + b"\r\n"
            for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def replies(sock: socket.socket, n: int, timeout: float = 10.0) -> list[tuple[int, dict[str, str], bytes]]:
    """Read n replies (content-length framed) off the socket, or until it closes."""
    sock.settimeout(timeout)
    data, out = b"", []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            lines = head.decode().split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            length = int(headers["content-length"])
            if len(rest) >= length:
                out.append((int(lines[0].split()[1]), headers, rest[:length]))
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return out


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def body() -> bytes:
    return orjson.dumps(envelope())


def connect(server: RunningServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.settings.port), timeout=10)


def test_kept_alive_and_pipelined_beacons_are_answered_in_order(rum_server: RunningServer) -> None:
    with connect(rum_server) as sock:
        sock.sendall(request(body()))
        [(status, headers, payload)] = replies(sock, 1)
        assert (status, orjson.loads(payload)) == (202, {"accepted": 1})
        assert "date" in headers and "connection" not in headers
        # three more in one write, the middle one refused for its type: three replies, in order
        sock.sendall(request(body()) + request(b"{}", extra="Content-Type: image/png\r\n")
                     + request(gzip.compress(body()), extra="Content-Encoding: gzip\r\n"))
        got = replies(sock, 3)
        assert [s for s, _, _ in got] == [202, 415, 202]
        assert orjson.loads(got[1][2])["error"] == "unsupported_media_type"
        sock.sendall(request(body(), chunked=True))  # the connection is still good
        assert [s for s, _, _ in replies(sock, 1)] == [202]
    rum_server.wait_rows(4, "kind = 'pageview'")


def test_a_chunked_body_past_the_cap_is_refused_and_the_connection_closed(
        rum_server: RunningServer) -> None:
    big = b"x" * (rum_server.settings.max_body_bytes + 5000)
    with connect(rum_server) as sock:
        sock.sendall(request(big, chunked=True))
        [(status, headers, payload)] = replies(sock, 1)
        assert (status, orjson.loads(payload)["error"]) == (413, "body_too_large")
        assert headers["connection"] == "close" and closed(sock)


def test_a_declared_length_past_the_cap_is_refused_before_the_body(rum_server: RunningServer) -> None:
    with connect(rum_server) as sock:
        sock.sendall(b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 10000000\r\n\r\n{")
        [(status, headers, payload)] = replies(sock, 1)
        assert (status, orjson.loads(payload)["error"]) == (413, "body_too_large")
        assert headers["connection"] == "close" and closed(sock)


def test_http_1_0_and_expect_100_continue(rum_server: RunningServer) -> None:
    with connect(rum_server) as sock:
        sock.sendall(request(body(), version="1.0"))
        [(status, headers, _)] = replies(sock, 1)
        assert (status, headers["connection"]) == (202, "close") and closed(sock)
    with connect(rum_server) as sock:  # uvicorn's cycle answers it (100 Continue first)
        sent = body()
        head, _, rest = request(sent, extra="Expect: 100-continue\r\n").partition(b"\r\n\r\n")
        sock.sendall(head + b"\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")
        sock.sendall(rest)
        assert [s for s, _, _ in replies(sock, 1)] == [202]
    rum_server.wait_rows(2, "kind = 'pageview'")


def test_only_an_intake_that_reads_its_body_as_beacon_intake_does_is_served_fast() -> None:
    class QueryReader(BeaconIntake):  # as the Boomerang receiver reads a GET's query string
        async def read(self, scope: Any, headers: Any, receive: Any) -> bytes:
            return b""

    plain, reader = object.__new__(BeaconIntake), object.__new__(QueryReader)
    assert beacon_fast_path(SimpleNamespace(state=SimpleNamespace(intake=plain))).beacon_intake is plain
    assert beacon_fast_path(SimpleNamespace(state=SimpleNamespace(intake=reader))).beacon_intake is None
    assert beacon_fast_path(SimpleNamespace(state=SimpleNamespace(intake=None))).beacon_intake is None


def test_an_intake_that_raises_gets_a_500_with_a_json_body_and_the_server_goes_on(
        rum_server: RunningServer, monkeypatch: Any) -> None:
    intake = rum_server.app.state.intake

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in a stage")

    monkeypatch.setattr(intake, "take", broken)
    with connect(rum_server) as sock:
        sock.sendall(request(body()))
        [(status, headers, payload)] = replies(sock, 1)
        assert (status, orjson.loads(payload)["error"]) == (500, "internal_error")
        assert headers["connection"] == "close" and closed(sock)
    monkeypatch.undo()
    with connect(rum_server) as sock:
        sock.sendall(request(body()))
        assert [s for s, _, _ in replies(sock, 1)] == [202]
