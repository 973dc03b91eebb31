"""Who may use the read side (query API, /metrics, OpenAPI): the private half of the collector."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse

from collector.settings import Settings


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
