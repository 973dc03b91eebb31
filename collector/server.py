"""The uvicorn configuration the collector runs under (shared by `rum serve` and the tests)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HEADER_VALUE_RE, STATUS_LINE, HttpToolsProtocol

from collector.intake import Admitted, BeaconIntake, BodyError, Reply, reply
from collector.settings import Settings

# what uvicorn answers when an app raises: the fast path's answer to the intake raising
_INTERNAL_ERROR = reply(500, {"error": "internal_error", "detail": "the beacon could not be taken"}, [])


def beacon_fast_path(app: Any) -> Any:
    """Send POST/OPTIONS /v1/beacon straight to the intake, everything else through FastAPI.

    The beacon is the hot path: skipping Starlette's middleware stack and router
    for it is measured in bench/RESULTS.md. The intake is also the returned app's
    `beacon_intake`, which GuardedHttpProtocol serves a plain beacon POST from without
    an ASGI cycle at all.
    """
    intake = app.state.intake

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if intake is not None and scope["type"] == "http" and scope["path"] == "/v1/beacon":
            await intake(scope, receive, send)
        else:
            await app(scope, receive, send)

    # the protocol reads the body itself: only an intake that reads it as BeaconIntake does
    plain = intake is not None and type(intake).read is BeaconIntake.read
    asgi.beacon_intake = intake if plain else None  # type: ignore[attr-defined]
    return asgi


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body read deadlines.

    Stock uvicorn waits forever for a client that connects and sends its headers
    (or body) a byte at a time, so a few thousand such connections hold every
    slot of `limit_concurrency` (slowloris). Here a connection must finish its
    request headers within `header_timeout` of connecting (or of starting a
    request on a kept-alive connection), and its body within `body_timeout` of
    the headers; otherwise it is closed.
    """

    header_timeout = 10.0
    body_timeout = 10.0
    # like nginx's large_client_header_buffers: httptools buffers a header line whole in
    # memory, so without a cap 20 clients sending 40 MB headers grew the server by ~1 GB
    max_header_bytes = 16384
    max_headers = 100
    _deadline: float | None = None  # loop time by which the current phase must end
    _idle = False  # the deadline is the keep-alive timeout between requests
    _timer: asyncio.TimerHandle | None = None
    _header_bytes = 0  # bytes of the current request line + headers seen so far
    _in_headers = True
    _too_large = False
    # the fast path (a POST to /v1/beacon): the request admitted, or the reply decided
    # before its body, and the body read so far
    _fast: Admitted | Reply | None = None
    _fast_headers: dict[bytes, bytes]
    _fast_body: list[bytes]
    _fast_size = 0
    _fast_keep_alive = True
    _encoding = b""  # the body's Content-Encoding

    # A deadline is a float per connection; the one timer behind it is re-armed when it
    # fires early, or moved when a deadline comes before it (a body timeout shorter than
    # the header timeout), so a request mostly costs no timer calls (two call_later +
    # cancel pairs per request were ~5 µs of a beacon's CPU). uvicorn's keep-alive
    # timeout between requests (a call_later per response, cancelled by the next
    # request's data) is one more phase of the same deadline.
    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.time() + seconds
        if self._timer is not None and self._timer.when() > self._deadline:
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)

    def _disarm(self) -> None:
        self._deadline = None
        self._idle = False

    def _check_deadline(self) -> None:
        self._timer = None
        if self._deadline is None:
            return  # the next _arm starts a timer
        if self.loop.time() < self._deadline:  # moved on since: wait for the new one
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)
            return
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline as soon as the connection exists; the protocol writes
        through a `CoalescingTransport`."""
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        # the intake the fast path serves (None: no fast path on this listener)
        self._intake: BeaconIntake | None = getattr(self.app, "beacon_intake", None)
        self._arm(self.header_timeout)

    def on_message_begin(self) -> None:
        """A new request on a kept-alive connection gets its own header deadline (in place
        of the keep-alive timeout)."""
        super().on_message_begin()
        if self._deadline is None or self._idle:
            self._idle = False
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        """Headers are in: now the body has its deadline. A plain beacon POST takes the
        fast path; any other request gets uvicorn's ASGI cycle."""
        self._in_headers = False
        if not self._start_fast():
            super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_body(self, body: bytes) -> None:
        """A piece of the body: kept up to the intake's cap on the fast path."""
        if self._fast is None:
            super().on_body(body)
            return
        if isinstance(self._fast, Reply):
            return  # decided before the body (a refusal): the rest is read and let go
        intake = self._intake
        assert intake is not None  # the fast path is only taken with an intake
        self._fast_size += len(body)
        if self._fast_size > intake.max_body:  # a body with no length, past the cap
            self._fast = intake.refuse(self._fast.cors, intake.too_large())
            self._fast_keep_alive = False  # the rest of it is not worth reading
            self._write_fast(self._fast)
            return
        self._fast_body.append(body)

    def on_message_complete(self) -> None:
        """The whole request is in: no deadline until the next one starts; on the fast
        path, the beacon is taken and its reply written."""
        fast = self._fast
        if fast is None:
            super().on_message_complete()
        self._disarm()
        self._in_headers, self._header_bytes = True, 0
        if fast is not None:
            self._finish_fast(fast)

    # -- the fast path ---------------------------------------------------------------------
    # A POST to /v1/beacon with no Expect, no upgrade and no request of this connection
    # still under way skips uvicorn's RequestResponseCycle, the task it runs the app in and
    # the ASGI messages: the intake's admit() runs on the headers, take() on the body, and
    # the Reply is written here whole (one send with CoalescingTransport). What the ASGI
    # path does for it, the same code does here: same checks, same replies.

    def _start_fast(self) -> bool:
        intake = self._intake
        if (intake is None or self.expect_100_continue or self.parser.get_method() != b"POST"
                or self.url.partition(b"?")[0] != b"/v1/beacon" or self.parser.should_upgrade()
                or (self.cycle is not None and not self.cycle.response_complete)):
            return False
        headers = dict(self.headers)
        if HEADER_VALUE_RE.search(headers.get(b"origin", b"")):
            return False  # echoed in the reply: uvicorn's check of reply headers decides
        version = self.parser.get_http_version()
        self._fast_keep_alive = version != "1.0" and self.parser.should_keep_alive()
        scope: Any = self.scope  # uvicorn's typed scope, as the intake's mapping
        scope["method"], scope["path"] = "POST", "/v1/beacon"
        if version != "1.1":
            scope["http_version"] = version
        admitted = intake.admit(scope, headers)
        if isinstance(admitted, Admitted):
            try:
                self._encoding = intake.body_encoding(headers)
            except BodyError as exc:
                admitted = intake.refuse(admitted.cors, exc.drop)
        self._fast, self._fast_headers, self._fast_body, self._fast_size = admitted, headers, [], 0
        declared = headers.get(b"content-length", b"")
        if isinstance(admitted, Reply) and not (declared.isdigit() and int(declared) <= intake.max_body):
            # refused, and the body is past the cap or of no stated length: answer now and
            # close rather than read it to keep the connection
            self._fast_keep_alive = False
            self._write_fast(admitted)
        return True

    def _finish_fast(self, fast: Admitted | Reply) -> None:
        self._fast = None
        if isinstance(fast, Reply):
            if not self.transport.is_closing():
                self._write_fast(fast)
            return
        body, self._fast_body = b"".join(self._fast_body), []
        intake = self._intake
        assert intake is not None  # the fast path is only taken with an intake
        try:
            try:
                body = intake.inflated(body, self._encoding)
            except BodyError as exc:
                out = intake.refuse(fast.cors, exc.drop)
            else:
                scope: Any = self.scope
                out = intake.take(fast, body, scope, self._fast_headers)
        except Exception:  # as uvicorn answers an app that raised: logged, a 500
            self.logger.exception("Exception in the beacon fast path")
            out = _INTERNAL_ERROR
            self._fast_keep_alive = False
        self._write_fast(out)

    def _write_fast(self, out: Reply) -> None:
        """The reply whole, as uvicorn writes one: status line, its default headers (date),
        the reply's, connection: close when the connection ends here."""
        if self.transport.is_closing():  # the client went away: the beacon stays taken
            return
        content = [STATUS_LINE[out.status]]
        for name, value in (*self.server_state.default_headers, *out.headers):
            content.extend((name, b": ", value, b"\r\n"))
        if not self._fast_keep_alive:
            content.append(b"connection: close\r\n")
        content.extend((b"\r\n", out.body))
        self.transport.write(b"".join(content))
        if not self._fast_keep_alive:
            self.transport.close()
        self.on_response_complete()

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timeout kept as the connection's deadline."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:  # a pipelined request waits: start it
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._deadline is None:  # no request under way: idle until the keep-alive timeout
            self._arm(self.timeout_keep_alive)
            self._idle = True

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header more; past `max_headers` the request is refused with 431."""
        if len(self.headers) >= self.max_headers:
            self._too_large = True
            raise HeadersTooLarge
        super().on_header(name, value)

    def data_received(self, data: bytes) -> None:
        """Feed the parser, refusing a request line + headers longer than `max_header_bytes`."""
        if not self._in_headers:
            super().data_received(data)
            return
        budget = self.max_header_bytes - self._header_bytes
        self._header_bytes += len(data)
        if len(data) <= budget:
            super().data_received(data)
            return
        super().data_received(data[:budget])  # the headers may end inside the budget
        if self.transport.is_closing():
            return
        if self._in_headers:
            self._too_large = True
            self.send_400_response("request line and headers too large")
            return
        self.data_received(data[budget:])

    def send_400_response(self, msg: str) -> None:
        """uvicorn's refusal of a bad request; 431 when it is refused for its header size."""
        if not self._too_large:
            super().send_400_response(msg)
            return
        body = b'{"error":"headers_too_large","detail":"request line and headers too large"}'
        self.transport.write(b"".join([
            STATUS_LINE[431], b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n", body]))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)


class CoalescingTransport:
    """A transport whose writes within one turn of the event loop go out as one send.

    uvicorn writes a response's status line and headers when the app sends
    `http.response.start` and the body on `http.response.body`: two `send(2)` calls
    per beacon reply (a 204 without a body, as the bench's bare app sends, costs
    one). On loopback each send also runs the receiver's side of TCP, so the second
    cost ~20 µs of CPU a beacon (bench/RESULTS.md). Here the writes are joined and
    sent at the end of the loop's current turn; `close()` sends what is pending
    first. Everything else is the wrapped transport's.
    """

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        """Queue data for the send at the end of this turn."""
        if not data:
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self.flush)
        else:
            self._pending.append(data)

    def flush(self) -> None:
        """Send what is queued now (nothing once the connection is closing)."""
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        """Send what is queued, then close."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadersTooLarge(Exception):
    """Raised inside the parser's header callback: too many header fields."""


def guarded_protocol(header_timeout: float, body_timeout: float, max_header_bytes: int = 16384,
                     max_headers: int = 100) -> type[GuardedHttpProtocol]:
    """A GuardedHttpProtocol class with these deadlines and header limits."""
    return type("GuardedHttp", (GuardedHttpProtocol,),
                {"header_timeout": header_timeout, "body_timeout": body_timeout,
                 "max_header_bytes": max_header_bytes, "max_headers": max_headers})


def _protocol(settings: Settings) -> type[GuardedHttpProtocol]:
    return guarded_protocol(settings.header_timeout, settings.body_timeout,
                            settings.max_header_bytes, settings.max_headers)


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn settings: our own JSON logging, and XFF handled by us, not uvicorn.

    proxy_headers is off because uvicorn would otherwise trust X-Forwarded-For from
    127.0.0.1 and rewrite the peer; RUM_TRUSTED_PROXIES decides that instead.
    """
    return uvicorn.Config(
        beacon_fast_path(app), host=settings.host, port=settings.port, log_config=None,
        access_log=False, server_header=False, proxy_headers=False,
        timeout_keep_alive=5, timeout_graceful_shutdown=10, lifespan="on",
        http=_protocol(settings),
        limit_concurrency=settings.max_connections,
    )


def admin_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The admin listener (read side): same app, loopback by default, no lifespan of its own."""
    assert settings.admin_port is not None
    return uvicorn.Config(
        app, host=settings.admin_host, port=settings.admin_port, log_config=None,
        access_log=False, server_header=False, proxy_headers=False, lifespan="off",
        http=_protocol(settings),
    )


class CollectorServer(uvicorn.Server):
    """uvicorn.Server that exits 0 after a graceful SIGTERM/SIGINT shutdown.

    Stock uvicorn re-raises the stop signal once shut down, so a clean stop by
    a process manager would look like a crash (exit -15 / 130).
    """

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Route SIGINT/SIGTERM to a graceful exit, and do not re-raise them afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class AdminServer(uvicorn.Server):
    """The admin listener's server: signals are handled by the public server."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave signal handling to the public listener, which stops this one."""
        yield


def build_servers(app: Any, settings: Settings) -> list[uvicorn.Server]:
    """The public listener first, then the admin listener when RUM_ADMIN_PORT is set."""
    servers: list[uvicorn.Server] = [CollectorServer(uvicorn_config(app, settings))]
    if settings.admin_port is not None:
        servers.append(AdminServer(admin_config(app, settings)))
    return servers


async def run_servers(servers: list[uvicorn.Server]) -> bool:
    """Serve until the public listener stops (signal or should_exit), then stop the others."""
    public, *others = servers
    tasks = [asyncio.create_task(server.serve()) for server in others]
    try:
        await public.serve()
    finally:
        for server in others:
            server.should_exit = True
        await asyncio.gather(*tasks)
    return bool(public.started)
