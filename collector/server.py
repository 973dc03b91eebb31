"""The uvicorn configuration the collector runs under (shared by `rum serve` and the tests)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from collector.settings import Settings


def beacon_fast_path(app: Any) -> Any:
    """Send POST/OPTIONS /v1/beacon straight to the intake, everything else through FastAPI.

    The beacon is the hot path: skipping Starlette's middleware stack and router
    for it is measured in bench/RESULTS.md.
    """
    intake = app.state.intake

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if intake is not None and scope["type"] == "http" and scope["path"] == "/v1/beacon":
            await intake(scope, receive, send)
        else:
            await app(scope, receive, send)

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
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline as soon as the connection exists."""
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def on_message_begin(self) -> None:
        """A new request on a kept-alive connection gets its own header deadline."""
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        """Headers are in: now the body has its deadline."""
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        """The whole request is in: no deadline until the next one starts."""
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)


def guarded_protocol(header_timeout: float, body_timeout: float) -> type[GuardedHttpProtocol]:
    """A GuardedHttpProtocol class with these deadlines."""
    return type("GuardedHttp", (GuardedHttpProtocol,),
                {"header_timeout": header_timeout, "body_timeout": body_timeout})


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn settings: our own JSON logging, and XFF handled by us, not uvicorn.

    proxy_headers is off because uvicorn would otherwise trust X-Forwarded-For from
    127.0.0.1 and rewrite the peer; RUM_TRUSTED_PROXIES decides that instead.
    """
    return uvicorn.Config(
        beacon_fast_path(app), host=settings.host, port=settings.port, log_config=None,
        access_log=False, server_header=False, proxy_headers=False,
        timeout_keep_alive=5, timeout_graceful_shutdown=10, lifespan="on",
        http=guarded_protocol(settings.header_timeout, settings.body_timeout),
        limit_concurrency=settings.max_connections,
    )


def admin_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The admin listener (read side): same app, loopback by default, no lifespan of its own."""
    assert settings.admin_port is not None
    return uvicorn.Config(
        app, host=settings.admin_host, port=settings.admin_port, log_config=None,
        access_log=False, server_header=False, proxy_headers=False, lifespan="off",
        http=guarded_protocol(settings.header_timeout, settings.body_timeout),
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
