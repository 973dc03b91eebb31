"""The per-IP limit cannot be stepped around with ports, junk hops or one IPv6 /64 (issue #17)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from collector.clientip import TrustedProxies
from collector.ratelimit import TokenBuckets, ip_rate_key
from collector.settings import Settings
from tests.beacons import envelope
from tests.conftest import start_server, stop_server


@pytest.mark.parametrize(("xff", "client"), [
    ("203.0.113.5:1234", "203.0.113.5"),
    ("[2001:db8::7]:443", "2001:db8::7"),
    ("[2001:db8::7]", "2001:db8::7"),
    ("2001:DB8:0::7", "2001:db8::7"),                  # normalized: one key per address
    ("198.51.100.1, 203.0.113.5:80", "203.0.113.5"),
    ("unknown", "10.1.2.3"),                           # nothing believable: the peer
    ("203.0.113.5, unknown", "10.1.2.3"),
    ("203.0.113.5:http", "10.1.2.3"),
    ("[2001:db8::7]:x", "10.1.2.3"),
    ("_hidden", "10.1.2.3"),
])
def test_forwarded_hops_with_ports_or_junk(xff: str, client: str) -> None:
    assert TrustedProxies(["10.0.0.0/8"]).client_ip("10.1.2.3", xff) == client


def test_ipv6_is_keyed_on_its_64() -> None:
    assert ip_rate_key("2001:db8:1:2:aaaa::1") == ip_rate_key("2001:db8:1:2:ffff::9")
    assert ip_rate_key("2001:db8:1:2::1") != ip_rate_key("2001:db8:1:3::1")
    assert ip_rate_key("203.0.113.5") == "203.0.113.5"
    assert ip_rate_key("::ffff:203.0.113.5") == "203.0.113.5"
    buckets = TokenBuckets(1, 2, clock=lambda: 0.0, key=ip_rate_key)
    takes = [buckets.take(f"2001:db8:1:2::{i:x}") for i in range(1, 6)]
    assert takes[:2] == [0.0, 0.0] and all(w > 0 for w in takes[2:])


@pytest.mark.parametrize("hops", [
    [f"203.0.113.5:{port}" for port in range(1000, 1040)],
    ["unknown"] * 40,
    [f"[2001:db8:5:6::{i:x}]" for i in range(1, 41)],
    [f"2001:db8:5:6:{i:x}::1" for i in range(1, 41)],
])
def test_rotating_ports_junk_or_one_64_is_limited(
        server_settings: Callable[..., Settings], hops: list[str]) -> None:
    server = start_server(server_settings(rate_limit_ip=1, rate_burst_ip=5, rate_limit_site=0))
    try:
        with httpx.Client(timeout=10) as client:
            body = httpx.Request("POST", "http://x", json=envelope()).content
            codes = [client.post(f"{server.base_url}/v1/beacon", content=body, headers={
                "content-type": "text/plain", "x-forwarded-for": hop}).status_code
                for hop in hops]
            other = client.post(f"{server.base_url}/v1/beacon", content=body, headers={
                "content-type": "text/plain", "x-forwarded-for": "2001:db8:5:7::1"})
        assert codes.count(429) >= 30, codes
        assert other.status_code == 202, "another /64 has its own budget"
    finally:
        stop_server(server)
