"""On the public listener the read side answers 404 to every method, not 405 (issue #17)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from collector.settings import Settings
from tests.conftest import free_port, start_server, stop_server, wait_until

PATHS = ["/v1/query/slow-regions", "/metrics", "/v1/openapi.json", "/v1/alerts", "/",
         "/dashboard/app.js"]
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"]


def test_every_method_on_a_read_path_is_404_on_the_public_listener(
        server_settings: Callable[..., Settings]) -> None:
    admin_port = free_port()
    server = start_server(server_settings(admin_port=admin_port))
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        wait_until(lambda: httpx.get(admin + "/metrics").status_code == 200)
        for path in PATHS:
            for method in METHODS:
                reply = httpx.request(method, server.base_url + path)
                assert reply.status_code == 404, (method, path, reply.status_code)
        # the admin listener still says 405 to a wrong method, and public paths are untouched
        assert httpx.post(admin + "/metrics").status_code == 405
        assert httpx.post(server.base_url + "/healthz").status_code == 405
    finally:
        stop_server(server)
