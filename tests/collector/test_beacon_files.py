"""The collector serves the built agent and the per-site snippet."""

from __future__ import annotations

import httpx

from tests.conftest import RunningServer


def test_rum_js_is_served_with_etag_cache_and_cors(rum_server: RunningServer) -> None:
    for name in ("rum.js", "rum.attribution.js"):
        reply = httpx.get(f"{rum_server.base_url}/{name}")
        assert reply.status_code == 200, "built by `make beacon` before the tests"
        assert reply.headers["content-type"].startswith("text/javascript")
        assert "max-age=86400" in reply.headers["cache-control"]
        assert reply.headers["access-control-allow-origin"] == "*"
        again = httpx.get(f"{rum_server.base_url}/{name}",
                          headers={"if-none-match": reply.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


def test_snippet(rum_server: RunningServer) -> None:
    reply = httpx.get(f"{rum_server.base_url}/v1/snippet", params={"site": "shop-eu"})
    assert reply.status_code == 200
    text = reply.text
    assert f'"{rum_server.base_url}/rum.js"' in text
    assert f'"endpoint":"{rum_server.base_url}/v1/beacon"' in text
    assert "rum('init', {\"site\":\"shop-eu\"" in text
    attribution = httpx.get(f"{rum_server.base_url}/v1/snippet",
                            params={"site": "shop-eu", "attribution": "true"}).text
    assert "/rum.attribution.js" in attribution
    for bad in ({"site": ""}, {"site": "<script>"}, {}):
        answer = httpx.get(f"{rum_server.base_url}/v1/snippet", params=bad)
        assert answer.status_code == 400 and "error" in answer.json()
