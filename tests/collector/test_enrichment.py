"""Enrichment helpers: client IP, page grouping, user agents, GeoIP."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.clientip import TrustedProxies
from collector.geo import GeoLookup
from collector.pages import page_group, page_path, scrub_path, url_host
from collector.useragent import parse_user_agent
from tests.conftest import ANDROID_UA, CHROME_UA


def test_xff_believed_only_from_trusted_peers() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_ip("10.1.2.3", "81.2.69.7") == "81.2.69.7"
    assert proxies.client_ip("203.0.113.9", "81.2.69.7") == "203.0.113.9"
    # a client-supplied hop in front of the real one is ignored: rightmost untrusted wins
    assert proxies.client_ip("10.1.2.3", "1.1.1.1, 81.2.69.7, 10.9.9.9") == "81.2.69.7"
    assert proxies.client_ip("10.1.2.3", "not-an-ip") == "10.1.2.3"  # the peer: see test_client_ip
    assert TrustedProxies([]).client_ip("10.1.2.3", "81.2.69.7") == "10.1.2.3"


@pytest.mark.parametrize(("path", "group"), [
    ("/order/8812", "/order/:id"),
    ("/order/9901/items", "/order/:id/items"),
    ("/u/6ba7b810-9dad-11d1-80b4-00c04fd430c8", "/u/:id"),
    ("/asset/9f86d081884c7d659a2feaa0c55ad015", "/asset/:id"),
    ("/p/AbCdEf0123456789xyzQRS", "/p/:id"),
    ("/products/shoes", "/products/shoes"),
    ("/", "/"),
])
def test_page_group(path: str, group: str) -> None:
    assert page_group(path) == group


def test_urls_lose_query_fragment_and_emails() -> None:
    assert page_path("https://a.example/x/y?q=1#z") == "/x/y"
    assert page_path("https://a.example") == "/"
    assert page_path("http://[::1") == "/"
    assert scrub_path("/users/jane@example.com/orders") == "/users/:email/orders"
    assert url_host("https://www.google.com/search?q=x") == "www.google.com"
    assert url_host("") == ""


def test_user_agents() -> None:
    desktop = parse_user_agent(CHROME_UA)
    assert (desktop.browser, desktop.os, desktop.device_class, desktop.is_bot) == (
        "Chrome", "Windows", "desktop", False)
    assert parse_user_agent(ANDROID_UA).device_class == "mobile"
    ipad = ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1")
    assert parse_user_agent(ipad).device_class == "tablet"
    bot = parse_user_agent("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")
    assert bot.is_bot and bot.device_class == "bot"
    assert parse_user_agent("").device_class == "desktop"


def test_geo_lookup(geoip_dbs: tuple[Path, Path]) -> None:
    geo = GeoLookup(*geoip_dbs)
    info = geo.lookup("177.10.3.4")
    assert (info.country, info.region, info.city, info.asn) == ("BR", "SP", "Sao Paulo", 28573)
    assert geo.lookup("8.8.8.8").country == ""
    assert geo.lookup("::1").country == ""
    assert geo.lookup(None).country == ""
    geo.close()
