"""The uvicorn configuration the collector runs under (shared by `rum serve` and the tests)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import uvicorn

from collector.settings import Settings


def beacon_fast_path(app: Any) -> Any:
    """Send POST/OPTIONS /v1/beacon straight to the intake, everything else through FastAPI.

    The beacon is the hot path: skipping Starlette's middleware stack and router
    for it is measured in bench/RESULTS.md.
    """
    intake = app.state.intake

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/beacon":
            await intake(scope, receive, send)
        else:
            await app(scope, receive, send)

    asgi.state = app.state  # type: ignore[attr-defined]
    return asgi


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn settings: our own JSON logging, and XFF handled by us, not uvicorn.

    proxy_headers is off because uvicorn would otherwise trust X-Forwarded-For from
    127.0.0.1 and rewrite the peer; RUM_TRUSTED_PROXIES decides that instead.
    """
    return uvicorn.Config(
        beacon_fast_path(app), host=settings.host, port=settings.port, log_config=None,
        access_log=settings.access_log, server_header=False, proxy_headers=False,
        timeout_keep_alive=5, timeout_graceful_shutdown=10, lifespan="on",
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
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
