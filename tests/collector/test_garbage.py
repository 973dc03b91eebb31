"""Garbage stays out of the percentiles: 1% hostile or broken beacons barely move the p75."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx

from collector.settings import Settings
from tests.beacons import envelope
from tests.conftest import CHROME_UA, start_server, stop_server
from tests.geo_fixtures import visitor_ip

BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def p75(values: list[float]) -> float:
    ordered = sorted(values)
    rank = 0.75 * (len(ordered) - 1)
    low = int(rank)
    return ordered[low] + (ordered[min(low + 1, len(ordered) - 1)] - ordered[low]) * (rank - low)


def test_one_percent_garbage_barely_moves_p75(server_settings: Callable[..., Settings]) -> None:
    rng = random.Random(3)
    server = start_server(server_settings(rate_limit_ip=0))
    try:
        clean = [rng.lognormvariate(7.6, 0.5) for _ in range(1500)]  # LCP ms, p75 ~ 2800
        garbage = [
            ({"vitals": {"lcp": -50}}, CHROME_UA),            # negative: refused
            ({"vitals": {"lcp": 5e6}}, CHROME_UA),            # past the cap: refused
            ({"vitals": {"lcp": "NaN"}}, CHROME_UA),          # not a number: refused
            ({"vitals": {"lcp": 119_000}}, BOT_UA),           # a crawler: stored, flagged, left out
        ]
        ip = visitor_ip("NL")
        codes: dict[int, int] = {}
        with httpx.Client(base_url=server.base_url) as client:
            for i, lcp in enumerate(clean):
                bodies = [(envelope(vitals={"lcp": lcp}), CHROME_UA)]
                if i % 100 == 0:  # 1% garbage, 15 of each kind
                    for fields, ua in garbage:
                        bodies.append((envelope(**fields), ua))
                for body, ua in bodies:
                    reply = client.post("/v1/beacon", content=httpx.Request(
                        "POST", "http://x", json=body).content, headers={
                        "content-type": "text/plain", "user-agent": ua, "x-forwarded-for": ip})
                    codes[reply.status_code] = codes.get(reply.status_code, 0) + 1
        assert codes == {202: 1515, 422: 45}
        server.wait_rows(1515, "kind = 'pageview'", timeout=30)
        reply = httpx.get(f"{server.base_url}/v1/query/slow-regions",
                          params={"min_samples": "100"}).json()
        netherlands = [r for r in reply["rows"] if r["level"] == "country"][0]
        assert netherlands["samples"] == 1500, "the bot rows are not counted"
        assert abs(netherlands["lcp_p75"] - p75(clean)) / p75(clean) < 0.01
    finally:
        stop_server(server)


def test_stale_and_future_event_timestamps_are_dropped_and_counted(rum_server) -> None:  # type: ignore[no-untyped-def]
    now = time.time() * 1000
    body = envelope(sid="stamps", events=[
        {"t": "login", "ts": now, "success": True},
        {"t": "login", "ts": now - 3 * 86400_000, "success": True},
        {"t": "login", "ts": now + 3600_000, "success": True},
    ])
    reply = rum_server.post(body)
    assert reply.status_code == 202 and reply.json() == {"accepted": 2}
    rum_server.wait_rows(2, "session_id = 'stamps'")
    metrics = httpx.get(f"{rum_server.base_url}/metrics").text
    assert 'rum_events_dropped_total{reason="stale_timestamp"} 1.0' in metrics
    assert 'rum_events_dropped_total{reason="future_timestamp"} 1.0' in metrics


def test_clock_skew_is_corrected(rum_server) -> None:  # type: ignore[no-untyped-def]
    skew = 2 * 3600_000  # the browser's clock is two hours fast
    now = time.time() * 1000
    body = envelope(sid="skew", sent_at=now + skew,
                    events=[{"t": "login", "ts": now + skew - 60_000, "success": True}])
    assert rum_server.post(body).status_code == 202
    rum_server.wait_rows(2, "session_id = 'skew'")
    row = rum_server.store.query(
        "SELECT toUnixTimestamp64Milli(ts) AS ts FROM rum.events "
        "WHERE session_id = 'skew' AND kind = 'login'")[0]
    assert abs(row["ts"] - (now - 60_000)) < 5_000
