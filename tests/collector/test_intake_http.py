"""Beacon intake over real HTTP against the real app and chDB."""

from __future__ import annotations

import gzip
import zlib

import httpx

from tests.beacons import all_event_kinds, envelope
from tests.conftest import ANDROID_UA, RunningServer
from tests.geo_fixtures import visitor_ip


def test_accepted_beacon_is_stored_enriched(rum_server: RunningServer) -> None:
    ip = visitor_ip("IN", "MH")
    body = envelope(sid="sess-enriched", events=all_event_kinds(),
                    ref="https://www.google.com/search?q=secret")
    reply = rum_server.post(body, headers={"x-forwarded-for": ip, "user-agent": ANDROID_UA})
    assert reply.status_code == 202
    assert reply.json() == {"accepted": 6}
    rum_server.wait_rows(6, "session_id = 'sess-enriched'")
    rows = {r["kind"]: r for r in rum_server.store.query(
        "SELECT * FROM rum.events WHERE session_id = 'sess-enriched'")}
    assert set(rows) == {"pageview", "error", "api", "login", "conversion", "custom"}
    pv = rows["pageview"]
    assert (pv["country"], pv["region"], pv["city"], pv["asn"]) == ("IN", "MH", "Mumbai", 55836)
    assert (pv["browser"], pv["os"], pv["device_class"], pv["is_bot"]) == (
        "Chrome Mobile", "Android", "mobile", 0)
    assert pv["page_path"] == "/product/1234"
    assert pv["page_group"] == "/product/:id"
    assert pv["referrer_host"] == "www.google.com"
    assert pv["lcp"] == 2000 and pv["cls"] == 0.05 and pv["ttfb"] == 300
    assert pv["nav_type"] == "navigate" and pv["connection_type"] == "4g"
    assert rows["api"]["api_path"] == "/api/cart/991" and rows["api"]["api_status"] == 503
    assert rows["api"]["api_method"] == "POST"
    assert rows["error"]["error_source"] == "/app.js"
    assert rows["login"]["login_success"] == 0
    assert rows["login"]["login_reason"] == "invalid_password"
    assert rows["conversion"]["conversion_value"] == 49.95
    assert rows["conversion"]["currency"] == "EUR"
    assert rows["custom"]["event_name"] == "checkout_step"


def test_no_ip_or_query_string_is_stored(rum_server: RunningServer) -> None:
    ip = visitor_ip("GB")
    body = envelope(sid="sess-private", events=all_event_kinds())
    assert rum_server.post(body, headers={"x-forwarded-for": ip}).status_code == 202
    rum_server.wait_rows(6, "session_id = 'sess-private'")
    dump = str(rum_server.store.query(
        "SELECT * FROM rum.events WHERE session_id = 'sess-private'"))
    for secret in (ip, "127.0.0.1", "a@b.c", "email=", "token=abc", "#reviews", "q=secret"):
        assert secret not in dump
    pages = rum_server.store.query(
        "SELECT DISTINCT page_query FROM rum.events WHERE session_id = 'sess-private'")
    assert pages == [{"page_query": "utm_source=mail"}], "only allow-listed params are kept"


def test_xff_ignored_from_untrusted_peer(server_settings, geoip_dbs) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import start_server, stop_server

    running = start_server(server_settings(trusted_proxies=[]))
    try:
        body = envelope(sid="sess-spoof")
        reply = running.post(body, headers={"x-forwarded-for": visitor_ip("BR")})
        assert reply.status_code == 202
        running.wait_rows(1, "session_id = 'sess-spoof'")
        assert running.store.query(
            "SELECT country FROM rum.events WHERE session_id = 'sess-spoof'") == [{"country": ""}]
    finally:
        stop_server(running)


def test_gzip_and_deflate_bodies_are_accepted(rum_server: RunningServer) -> None:
    # Two different page views: the same body sent twice would be a resend, stored once.
    for encoding, compress in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        raw = httpx.Request("POST", "http://x", json=envelope(sid="sess-gz", pid=f"p-{encoding}")).content
        reply = rum_server.post(compress(raw), headers={"content-encoding": encoding})
        assert reply.status_code == 202, reply.text
    rum_server.wait_rows(2, "session_id = 'sess-gz'")
    assert rum_server.count("session_id = 'sess-gz' AND pageview_id = 'p-gzip'") >= 1
    assert rum_server.count("session_id = 'sess-gz' AND pageview_id = 'p-deflate'") >= 1


def test_application_json_and_charset_are_accepted(rum_server: RunningServer) -> None:
    reply = rum_server.post(envelope(), headers={"content-type": "application/json; charset=UTF-8"})
    assert reply.status_code == 202


def test_cors_preflight_and_simple_request(rum_server: RunningServer) -> None:
    origin = "https://shop.example.com"
    pre = httpx.options(f"{rum_server.base_url}/v1/beacon", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == origin
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()
    reply = rum_server.post(envelope(), headers={"origin": origin})
    assert reply.status_code == 202
    assert reply.headers["access-control-allow-origin"] == origin
    assert "set-cookie" not in reply.headers


def test_disallowed_origin_is_refused(server_settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import start_server, stop_server

    running = start_server(server_settings(allowed_origins=["https://shop.example.com"]))
    try:
        bad = running.post(envelope(sid="sess-evil"), headers={"origin": "https://evil.example"})
        assert bad.status_code == 403
        assert bad.json()["error"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in bad.headers
        good = running.post(envelope(sid="sess-good"),
                            headers={"origin": "https://shop.example.com"})
        assert good.status_code == 202
        running.wait_rows(1, "session_id = 'sess-good'")
        assert running.count("session_id = 'sess-evil'") == 0
    finally:
        stop_server(running)


def test_metrics_count_accepted_rejected_and_written(rum_server: RunningServer) -> None:
    rum_server.post(envelope(sid="sess-metrics"))
    rum_server.post(b"{not json")
    rum_server.wait_rows(1, "session_id = 'sess-metrics'")
    text = httpx.get(f"{rum_server.base_url}/metrics").text
    assert "rum_beacons_accepted_total 1.0" in text
    assert 'rum_beacons_rejected_total{reason="malformed_json"} 1.0' in text
    assert "rum_events_written_total 1.0" in text
    assert 'rum_stage_seconds_count{stage="put_geolocation"} 1.0' in text


def test_healthz(rum_server: RunningServer) -> None:
    reply = httpx.get(f"{rum_server.base_url}/healthz")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


def test_bot_is_flagged_not_dropped(rum_server: RunningServer) -> None:
    ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert rum_server.post(envelope(sid="sess-bot"), headers={"user-agent": ua}).status_code == 202
    rum_server.wait_rows(1, "session_id = 'sess-bot'")
    rows = rum_server.store.query(
        "SELECT is_bot, device_class FROM rum.events WHERE session_id = 'sess-bot'")
    assert rows == [{"is_bot": 1, "device_class": "bot"}]
