"""The uvicorn configuration the collector runs under (shared by `rum serve` and the tests)."""

from __future__ import annotations

from typing import Any

import uvicorn

from collector.settings import Settings


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn settings: our own JSON logging, and XFF handled by us, not uvicorn.

    proxy_headers is off because uvicorn would otherwise trust X-Forwarded-For from
    127.0.0.1 and rewrite the peer; RUM_TRUSTED_PROXIES decides that instead.
    """
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None,
        access_log=settings.access_log, server_header=False, proxy_headers=False,
        timeout_keep_alive=5, timeout_graceful_shutdown=10, lifespan="on",
    )
