"""Every kind of bad input gets its documented 4xx with a JSON error body, and nothing is written."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from tests.beacons import envelope
from tests.conftest import RunningServer


def _json(body: object) -> bytes:
    return httpx.Request("POST", "http://x", json=body).content


def _deep(depth: int) -> bytes:
    return b'{"v":1,"x":' + b"[" * depth + b"]" * depth + b"}"


RAW_LCP = b'{"v":1,"site":"a","sid":"b","pid":"c","sent_at":1,"url":"/","vitals":{"lcp":%s}}'
TOO_MANY_EVENTS = envelope(events=[{"t": "login", "success": True}] * 101)

CASES = [
    ("malformed json", b'{"v":1,', {}, 400, "malformed_json"),
    ("empty body", b"", {}, 400, "malformed_json"),
    ("invalid utf-8", b'{"v":1,"site":"\xff\xfe"}', {}, 400, "malformed_json"),
    ("deep nesting", _deep(5000), {}, 400, "malformed_json"),
    ("nesting where a number belongs", _json(envelope(vitals={"lcp": {"a": {"b": [1]}}})), {},
     422, "invalid_envelope"),
    ("wrong content type", _json(envelope()), {"content-type": "application/x-www-form-urlencoded"},
     415, "unsupported_media_type"),
    ("unsupported encoding", _json(envelope()), {"content-encoding": "br"},
     415, "unsupported_media_type"),
    ("non utf-8 charset", _json(envelope()), {"content-type": "text/plain; charset=latin-1"},
     415, "unsupported_media_type"),
    ("oversized body", b"{" + b" " * 70_000 + b"}", {}, 413, "body_too_large"),
    ("gzip bomb", gzip.compress(b" " * 10_000_000), {"content-encoding": "gzip"},
     413, "body_too_large"),
    ("corrupt gzip", b"\x1f\x8b\x08\x00garbage", {"content-encoding": "gzip"}, 400, "bad_encoding"),
    ("truncated deflate", zlib.compress(_json(envelope()))[:-10], {"content-encoding": "deflate"},
     400, "bad_encoding"),
    ("not an object", b"[1,2,3]", {}, 422, "invalid_envelope"),
    ("missing fields", _json({"v": 1}), {}, 422, "invalid_envelope"),
    ("missing url", _json({k: v for k, v in envelope().items() if k != "url"}), {},
     422, "invalid_envelope"),
    ("wrong version", _json(envelope(v=2)), {}, 422, "invalid_envelope"),
    ("bad site key", _json(envelope(site="shop eu<script>")), {}, 422, "invalid_envelope"),
    ("too many events", _json(TOO_MANY_EVENTS), {}, 422, "invalid_envelope"),
    ("huge number", RAW_LCP % b"1e308", {}, 422, "invalid_envelope"),
    ("number overflow", RAW_LCP % b"1e999", {}, 422, "invalid_envelope"),
    ("negative timing", _json(envelope(vitals={"lcp": -5})), {}, 422, "invalid_envelope"),
    ("timing past the cap", _json(envelope(nav={"load": 120_001})), {}, 422, "invalid_envelope"),
    ("string timing", _json(envelope(vitals={"ttfb": "300"})), {}, 422, "invalid_envelope"),
    ("boolean timing", _json(envelope(vitals={"cls": True})), {}, 422, "invalid_envelope"),
    ("unknown event type", _json(envelope(events=[{"t": "purchase"}])), {}, 422, "invalid_envelope"),
    ("login without outcome", _json(envelope(events=[{"t": "login"}])), {}, 422, "invalid_envelope"),
    ("nested custom props", _json(envelope(events=[{"t": "custom", "name": "x",
                                                     "props": {"a": {"b": 1}}}])), {},
     422, "invalid_envelope"),
    ("zero sample rate", _json(envelope(sample_rate=0)), {}, 422, "invalid_envelope"),
]


@pytest.mark.parametrize(("name", "body", "headers", "status", "error"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_json_error_and_nothing_written(
    rum_server: RunningServer, name: str, body: bytes, headers: dict[str, str], status: int,
    error: str,
) -> None:
    reply = rum_server.post(body, headers=headers)
    assert reply.status_code == status, reply.text
    payload = reply.json()
    assert payload["error"] == error
    assert isinstance(payload["detail"], str) and payload["detail"]
    # a good beacon after it proves the flush ran, and that nothing else was written
    marker = envelope(sid="after-bad")
    assert rum_server.post(marker).status_code == 202
    rum_server.wait_rows(1, "session_id = 'after-bad'")
    assert rum_server.count() == 1


def test_invalid_field_is_named_in_detail(rum_server: RunningServer) -> None:
    reply = rum_server.post(envelope(vitals={"lcp": -1}))
    assert reply.json()["detail"] == "vitals.lcp: must be >= 0"


def test_chunked_body_over_the_cap_is_refused(rum_server: RunningServer) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 4096

    reply = httpx.post(f"{rum_server.base_url}/v1/beacon", content=chunks(),
                       headers={"content-type": "text/plain"})
    assert reply.status_code == 413
    assert reply.json()["error"] == "body_too_large"


def test_wrong_method_and_unknown_path_get_json_errors(rum_server: RunningServer) -> None:
    reply = httpx.get(f"{rum_server.base_url}/v1/beacon")
    assert reply.status_code == 405 and reply.json()["error"] == "method_not_allowed"
    reply = httpx.get(f"{rum_server.base_url}/nope")
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"
