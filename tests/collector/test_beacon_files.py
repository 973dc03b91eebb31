"""The collector serves the built agent and the per-site snippet."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from collector.settings import Settings
from tests.conftest import RunningServer, start_server, stop_server


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


def test_snippet_fetched_on_loopback_warns_and_intake_url_fixes_it(
    server_settings: Callable[..., Settings],
) -> None:
    running = start_server(server_settings())
    try:
        warned = httpx.get(f"{running.base_url}/v1/snippet", params={"site": "shop-eu"})
        assert "RUM_INTAKE_URL" in warned.headers["x-rum-warning"]
        assert warned.text.startswith("<!-- rum: this snippet points at http://127.0.0.1:")
        named = httpx.get(f"{running.base_url}/v1/snippet", params={"site": "shop-eu"},
                          headers={"host": "rum.example.com"})
        assert "x-rum-warning" not in named.headers and '"http://rum.example.com/rum.js"' in named.text
    finally:
        stop_server(running)
    running = start_server(server_settings(intake_url="https://rum.example.com/"))
    try:
        reply = httpx.get(f"{running.base_url}/v1/snippet", params={"site": "shop-eu"})
        assert "x-rum-warning" not in reply.headers
        assert '"https://rum.example.com/rum.js"' in reply.text
        assert '"endpoint":"https://rum.example.com/v1/beacon"' in reply.text
    finally:
        stop_server(running)


def test_healthz_says_whether_geoip_is_configured(server_settings: Callable[..., Settings]) -> None:
    for overrides, state in (({}, "city_db"), ({"geoip_db": None, "geoip_asn_db": None}, "missing"),
                             ({"geoip_db": None, "geo_country_header": "cf-ipcountry"}, "country_header")):
        running = start_server(server_settings(**overrides))
        try:
            assert httpx.get(f"{running.base_url}/healthz").json()["geoip"] == state
        finally:
            stop_server(running)
