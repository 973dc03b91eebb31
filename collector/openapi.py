"""The OpenAPI document, including /v1/beacon and the agents' receivers (raw ASGI routes
FastAPI cannot describe)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_NUMBER = {"type": "number", "minimum": 0}
_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["v", "site", "sid", "pid", "sent_at", "url"],
    "properties": {
        "v": {"type": "integer", "enum": [1]},
        "site": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
        "sid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "pid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "seq": {"type": "integer", "minimum": 0, "maximum": 1000},
        "sent_at": _NUMBER,
        "url": {"type": "string"},
        "ref": {"type": "string"},
        "sample_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "user": {"type": "string"},
        "vitals": {"type": "object", "properties": {
            k: {"type": "number", "minimum": 0, "maximum": 120000}
            for k in ("lcp", "inp", "fcp", "ttfb")}},
        "events": {"type": "array", "maxItems": 100, "items": {
            "type": "object", "required": ["t"],
            "properties": {"t": {"enum": ["error", "api", "login", "conversion", "custom"]},
                           "ts": _NUMBER}}},
    },
}
_FARO: dict[str, Any] = {
    "type": "object",
    "properties": {
        "meta": {"type": "object", "properties": {
            "app": {"type": "object", "properties": {"name": {"type": "string"}}},
            "session": {"type": "object", "properties": {"id": {"type": "string"}}},
            "page": {"type": "object", "properties": {"url": {"type": "string"}}}}},
        **{k: {"type": "array", "maxItems": 200, "items": {"type": "object"}}
           for k in ("events", "measurements", "exceptions")},
    },
}
_BOOMERANG: dict[str, Any] = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("rt.si", "pid", "n", "u", "pt.lcp", "err")},
}
_ERROR = {"description": "refused; nothing written",
          "content": {"application/json": {"schema": {
              "type": "object", "properties": {"error": {"type": "string"},
                                               "detail": {"type": "string"}}}}}}


def openapi_with_beacon(app: FastAPI) -> dict[str, Any]:
    """FastAPI's generated schema plus the beacon intake (docs/beacon-protocol.md)."""
    if app.openapi_schema is None:
        schema = app.openapi()
        schema["paths"]["/v1/beacon"] = {"post": {
            "summary": "Beacon intake (docs/beacon-protocol.md)",
            "operationId": "post_beacon",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ENVELOPE},
                "text/plain": {"schema": {"type": "string"}}}},
            "responses": {"202": {"description": "accepted"},
                          **{code: _ERROR for code in ("400", "403", "413", "415", "422",
                                                       "429", "503")}},
        }}
        refusals = {code: _ERROR for code in ("400", "403", "413", "415", "422", "429", "503")}
        schema["paths"]["/collect"] = {"post": {
            "summary": "Grafana Faro batches, as Alloy's faro.receiver (docs/agents.md)",
            "operationId": "post_faro",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _FARO}}},
            "responses": {"202": {"description": "accepted"}, **refusals},
        }}
        boomerang: dict[str, Any] = {
            "parameters": [{"name": "site", "in": "query", "schema": {"type": "string"}}],
            "responses": {"204": {"description": "accepted"}, **refusals}}
        schema["paths"]["/v1/boomerang"] = {
            "get": {"summary": "Boomerang image beacon, parameters in the query (docs/agents.md)",
                    "operationId": "get_boomerang", **boomerang},
            "post": {"summary": "Boomerang sendBeacon, form-encoded parameters (docs/agents.md)",
                     "operationId": "post_boomerang", **boomerang,
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": _BOOMERANG}}}},
        }
        app.openapi_schema = schema
    return app.openapi_schema
