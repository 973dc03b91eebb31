"""Who may use the read side (query API, /metrics, OpenAPI): the private half of the collector."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse

from collector.settings import Settings

# the read side's paths (query API, alerts, metrics, OpenAPI, dashboard)
READ_PATHS = frozenset({"/metrics", "/v1/openapi.json", "/v1/alerts"})
READ_PREFIXES = ("/v1/query/", "/dashboard/")


class ReadAccess:
    """Decides whether a request may read data.

    - RUM_ADMIN_PORT set: only requests that arrived on the admin listener (others: 404, so
      the public listener does not even reveal that the read side exists).
    - RUM_API_TOKENS set: an `Authorization: Bearer <token>` header matching one token,
      compared in constant time (others: 401).
    - neither: allowed; settings refuse to start on a non-loopback RUM_HOST in that case.
    """

    def __init__(self, settings: Settings) -> None:
        self.admin_port = settings.admin_port
        self.tokens = [t.encode() for t in settings.api_tokens]

    def hides(self, request: Request) -> bool:
        """True for a read path asked on the public listener when the read side is elsewhere.

        Such a request gets 404 whatever its method: a 405 to POST or OPTIONS would say
        the path exists.
        """
        if self.admin_port is None:
            return False
        server = request.scope.get("server")
        if server and server[1] == self.admin_port:
            return False
        path = request.url.path
        return path == "/" or path in READ_PATHS or path.startswith(READ_PREFIXES)

    def refuse(self, request: Request) -> JSONResponse | None:
        """None when the request may read; otherwise the JSON error to answer."""
        if self.admin_port is not None:
            server = request.scope.get("server")
            if not server or server[1] != self.admin_port:
                return JSONResponse({"error": "not_found", "detail": "Not Found"}, status_code=404)
        if self.tokens:
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            ok = False
            for known in self.tokens:
                # no early exit: every token is compared, each in constant time
                ok |= hmac.compare_digest(token.strip().encode(), known)
            if scheme.lower() != "bearer" or not ok:
                return JSONResponse(
                    {"error": "unauthorized", "detail": "a valid bearer token is required"},
                    status_code=401, headers={"WWW-Authenticate": 'Bearer realm="rum"'})
        return None
