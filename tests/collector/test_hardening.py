"""A public endpoint that cannot be abused: rate limits, site registry, slow clients, read side."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from collector.settings import Settings, SettingsError, load_settings
from tests.beacons import envelope
from tests.conftest import RunningServer, free_port, start_server, stop_server, wait_until
from tests.geo_fixtures import visitor_ip

TOKEN = "s3cret-token-0123456789"


@pytest.fixture
def server_with(server_settings: Callable[..., Settings]) -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def start(**overrides: object) -> RunningServer:
        running = start_server(server_settings(**overrides))
        started.append(running)
        return running

    yield start
    for running in started:
        stop_server(running)


def test_one_ip_over_budget_is_limited_while_another_is_not(server_with) -> None:  # type: ignore[no-untyped-def]
    server = server_with(rate_limit_ip=5, rate_burst_ip=10)
    noisy, quiet = visitor_ip("BR"), visitor_ip("NL")
    statuses = []
    with httpx.Client() as client:
        for i in range(120):
            body = httpx.Request("POST", "http://x", json=envelope()).content
            headers = {"content-type": "text/plain", "x-forwarded-for": noisy}
            statuses.append(client.post(f"{server.base_url}/v1/beacon", content=body,
                                        headers=headers))
            if i % 12 == 0:
                reply = server.post(envelope(sid=f"quiet{i}"), headers={"x-forwarded-for": quiet})
                assert reply.status_code == 202, "the quiet client must never be limited"
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 100
    assert limited[0].json()["error"] == "rate_limited_ip"
    assert int(limited[0].headers["retry-after"]) >= 1
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert 'rum_beacons_rejected_total{reason="rate_limited_ip"}' in metrics


def test_site_rate_limit(server_with) -> None:  # type: ignore[no-untyped-def]
    server = server_with(rate_limit_ip=0, rate_limit_site=2, rate_burst_site=3)
    codes = [server.post(envelope(site="busy")).status_code for _ in range(10)]
    assert codes[:3] == [202, 202, 202] and codes.count(429) >= 6
    assert server.post(envelope(site="calm")).status_code == 202


def _registry(tmp_path: Path) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(
        '[sites.shop-eu]\norigins = ["https://shop.example.com"]\nsample_rate = 0.25\n'
        'honor_gpc = true\n\n[sites.blog]\norigins = ["https://blog.example.com"]\n')
    return path


def test_site_registry(server_with, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = server_with(sites_file=_registry(tmp_path))
    shop = "https://shop.example.com"
    unknown = server.post(envelope(site="nobody"), headers={"origin": shop})
    assert unknown.status_code == 403 and unknown.json()["error"] == "unknown_site"
    wrong = server.post(envelope(site="blog", sid="wrong-origin"), headers={"origin": shop})
    assert wrong.status_code == 403 and wrong.json()["error"] == "origin_not_allowed"
    evil = server.post(envelope(site="shop-eu"), headers={"origin": "https://evil.example"})
    assert evil.status_code == 403
    assert "access-control-allow-origin" not in evil.headers
    pre = httpx.options(f"{server.base_url}/v1/beacon", headers={
        "origin": shop, "access-control-request-method": "POST"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == shop
    ok = server.post(envelope(site="shop-eu", sid="right-origin"), headers={"origin": shop})
    assert ok.status_code == 202 and ok.headers["access-control-allow-origin"] == shop
    server.wait_rows(1, "session_id = 'right-origin'")
    assert server.count("session_id = 'wrong-origin'") == 0
    snippet = httpx.get(f"{server.base_url}/v1/snippet", params={"site": "shop-eu"}).text
    assert '"sampleRate":0.25' in snippet
    assert httpx.get(f"{server.base_url}/v1/snippet", params={"site": "x"}).status_code == 404


def test_global_privacy_control_honoured_when_the_site_asks(server_with, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = server_with(sites_file=_registry(tmp_path))
    gpc = server.post(envelope(site="shop-eu", sid="gpc"), headers={"sec-gpc": "1"})
    assert gpc.status_code == 202 and gpc.json() == {"accepted": 0, "reason": "gpc_opt_out"}
    blog = server.post(envelope(site="blog", sid="gpc-blog"), headers={"sec-gpc": "1"})
    assert blog.status_code == 202 and blog.json()["accepted"] == 1
    server.wait_rows(1, "session_id = 'gpc-blog'")
    assert server.count("session_id = 'gpc'") == 0


def test_bad_registry_fails_fast(tmp_path: Path) -> None:
    from collector.sites import SiteRegistry, SiteRegistryError

    path = tmp_path / "sites.toml"
    path.write_text('[sites.shop]\norigins = []\n')
    with pytest.raises(SiteRegistryError, match="sites.shop.origins"):
        SiteRegistry.load(path)
    path.write_text('[sites.shop]\norigins = ["https://a"]\nsample_rate = 2\n')
    with pytest.raises(SiteRegistryError, match="sites.shop.sample_rate"):
        SiteRegistry.load(path)
    path.write_text('[sites.shop]\norigins = ["https://a"]\napi_keys = "k1"\n')
    with pytest.raises(SiteRegistryError, match="sites.shop.api_keys"):
        SiteRegistry.load(path)
    path.write_text('[sites.a]\norigins = ["*"]\napi_keys = ["k1"]\n'
                    '[sites.b]\norigins = ["*"]\napi_keys = ["k1"]\n')
    with pytest.raises(SiteRegistryError, match="sites.b.api_keys: 'k1' is also sites.a's"):
        SiteRegistry.load(path)


def test_slow_header_client_is_cut_off_while_others_succeed(server_with) -> None:  # type: ignore[no-untyped-def]
    server = server_with(header_timeout=1.0)
    port = int(server.base_url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    for sock in slow:
        sock.sendall(b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        sock.settimeout(10)
    assert server.post(envelope()).status_code == 202
    started = time.monotonic()
    for sock in slow:
        assert sock.recv(100) == b"", "the server must close a connection that stalls"
        sock.close()
    assert time.monotonic() - started < 9
    assert server.post(envelope()).status_code == 202


def test_slow_body_client_is_cut_off(server_with) -> None:  # type: ignore[no-untyped-def]
    server = server_with(body_timeout=1.0)
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 1000\r\n\r\n{")
    sock.settimeout(5)  # the body deadline (1 s) ends it well before the header one (10 s)
    data = sock.recv(1000)
    while data and not data.endswith(b"}"):
        more = sock.recv(1000)
        if not more:
            break
        data += more
    sock.close()
    assert data == b"" or b" 400 " in data.split(b"\r\n")[0]


READ_PATHS = ["/v1/query/slow-regions", "/metrics", "/v1/openapi.json"]


def test_read_side_needs_a_token_when_tokens_are_set(server_with) -> None:  # type: ignore[no-untyped-def]
    server = server_with(api_tokens=[TOKEN])
    for path in READ_PATHS:
        url = server.base_url + path
        none = httpx.get(url)
        assert none.status_code == 401 and none.json()["error"] == "unauthorized", path
        wrong = httpx.get(url, headers={"authorization": "Bearer " + TOKEN[:-1] + "x"})
        assert wrong.status_code == 401, path
        right = httpx.get(url, headers={"authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200, path
    assert server.post(envelope()).status_code == 202
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    assert httpx.get(f"{server.base_url}/v1/snippet?site=a").status_code == 200


def test_read_side_only_on_the_admin_listener(server_with) -> None:  # type: ignore[no-untyped-def]
    admin_port = free_port()
    server = server_with(admin_port=admin_port)
    admin = f"http://127.0.0.1:{admin_port}"
    wait_until(lambda: _up(admin))
    for path in READ_PATHS:
        assert httpx.get(server.base_url + path).status_code == 404, path
        assert httpx.get(admin + path).status_code == 200, path
    assert server.post(envelope()).status_code == 202


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_public_bind_without_read_protection_is_refused() -> None:
    with pytest.raises(SettingsError, match="RUM_ADMIN_PORT"):
        load_settings(None, host="0.0.0.0")
    assert load_settings(None, host="0.0.0.0", admin_port=9000).admin_port == 9000
    with pytest.raises(SettingsError, match="16 characters"):
        load_settings(None, api_tokens="short")


def test_a_kept_alive_connection_serves_the_next_request_then_closes_when_idle(server_with) -> None:  # type: ignore[no-untyped-def]
    """The keep-alive timeout between requests (5 s) is a phase of the connection's one
    deadline: a request right after a reply is served, an idle connection is closed."""
    import orjson

    server = server_with()
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(15)
    for _ in range(2):
        body = orjson.dumps(envelope())
        sock.sendall(b"POST /v1/beacon HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        reply = sock.recv(4096)
        assert reply.split(b"\r\n")[0].endswith(b"202 Accepted"), reply[:80]
    idle = time.monotonic()
    assert sock.recv(100) == b"", "an idle kept-alive connection is closed"
    assert 4 <= time.monotonic() - idle < 9
    sock.close()
