"""The Faro and Boomerang receivers over real HTTP, from requests the real agents sent
(/work/shared/agent-samples, copied into tests/collector/agent_samples/), and their
malformed and hostile variants."""

from __future__ import annotations

import json
import random
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from queries.catalog import get_query
from tests.conftest import RunningServer, scrape, start_server, stop_server, wait_until
from tests.geo_fixtures import visitor_ip

SAMPLES = Path(__file__).parent / "agent_samples"
# headers a replay keeps (the recorder's Host and Content-Length are the client's business)
KEEP = {"content-type", "idempotency-key", "x-faro-session-id", "origin", "user-agent"}


def samples(agent: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLES / f"{agent}.jsonl").read_text().splitlines()]


def replay(server: RunningServer, sample: dict[str, Any], **extra: str) -> httpx.Response:
    headers = {k: v for k, v in sample["headers"].items() if k.lower() in KEEP}
    if sample["method"] == "OPTIONS":
        headers.update({k: v for k, v in sample["headers"].items()
                        if k.lower().startswith("access-control-request")})
    headers.update(extra)
    query = f"?{sample['query']}" if sample["query"] else ""
    return httpx.request(sample["method"], f"{server.base_url}{sample['path']}{query}",
                         content=sample["body"].encode(), headers=headers, timeout=10)


def rows(server: RunningServer, where: str) -> list[dict[str, Any]]:
    return server.store.query(f"SELECT * FROM rum.events FINAL WHERE {where} ORDER BY ts, kind")


def test_faro_batches_as_recorded_become_rows(rum_server: RunningServer) -> None:
    brazil = visitor_ip("BR", "SP")
    replies = [replay(rum_server, s, **{"x-forwarded-for": brazil}) for s in samples("faro")]
    assert [r.status_code for r in replies] == [s["status"] for s in samples("faro")]
    preflight = replies[0].headers
    assert preflight["access-control-allow-origin"] == "http://127.0.0.1:36829"
    allowed = {h.strip().lower() for h in preflight["access-control-allow-headers"].split(",")}
    assert {"content-type", "idempotency-key", "x-faro-session-id", "traceparent",
            "x-api-key"} <= allowed
    rum_server.wait_rows(9, "site = 'shop'")
    got = rows(rum_server, "site = 'shop'")
    views = [r for r in got if r["kind"] == "pageview"]
    first = [r for r in views if r["session_id"] == "iNariPFJss"]
    assert {r["pageview_id"] for r in first} == {first[0]["pageview_id"]}  # one page view
    assert sorted(r["fcp"] for r in first if r["fcp"] is not None) == [288]
    nav = next(r for r in first if r["load"] is not None)
    assert (nav["load"], nav["dom_complete"], nav["request"], nav["nav_type"]) == (651, 650, 1, "navigate")
    assert nav["tls"] is None  # an http page: Faro's tlsNegotiationTime is not a handshake
    assert round(next(r["ttfb"] for r in first if r["ttfb"] is not None), 1) == 25.7
    slow = next(r for r in views if r["lcp"] is not None and r["lcp"] > 6000)
    assert (slow["lcp"], slow["lcp_element"], slow["page_path"]) == (6732, "html>body>img", "/faro-slow/")
    assert round(slow["lcp_load_time"]) == 6130 and round(slow["lcp_load_delay"]) == 568
    tab = next(r for r in views if r["inp"] is not None)
    assert (tab["inp"], tab["inp_target"], round(tab["inp_processing"])) == (72, "#buy", 63)
    assert all((r["country"], r["region"]) == ("BR", "SP") for r in got)
    assert all(r["browser"] == "Chrome" and r["device_class"] == "desktop" for r in got)
    errors = sorted(r["error_message"] for r in got if r["kind"] == "error")
    assert errors == ["Error: add to cart: price missing", "Error: checkout widget failed to render",
                      "Error: console.error: cart failed: HTTP 503"]
    thrown = next(r for r in got if r["error_message"].startswith("Error: checkout"))
    assert (thrown["error_source"], thrown["error_line"], thrown["error_col"]) == ("/faro/", 13, 32)
    assert [r["event_name"] for r in got if r["kind"] == "custom"] == ["session_start"]


def test_boomerang_beacons_as_recorded_become_rows(rum_server: RunningServer) -> None:
    india = visitor_ip("IN", "MH")
    replies = [replay(rum_server, s, **{"x-forwarded-for": india}) for s in samples("boomerang")]
    assert [r.status_code for r in replies] == [204] * len(replies)
    assert all(r.content == b"" for r in replies)
    rum_server.wait_rows(14, "site = 'shop'")
    got = rows(rum_server, "site = 'shop'")
    views = {(r["pageview_id"], r["seq"]): r for r in got if r["kind"] == "pageview"}
    load = views[("avzh7tcq", 1)]
    assert (load["lcp"], load["fcp"], load["ttfb"]) == (176, 176, 7)
    assert (load["dom_interactive"], load["dom_complete"], load["load"]) == (154, 552, 553)
    assert (load["lcp_element"], load["lcp_resource"]) == ("img", "/hero.svg")
    assert load["cls"] is None  # the page-load beacon's CLS is not final
    unload = views[("avzh7tcq", 2)]
    assert (unload["inp"], unload["inp_target"], unload["cls"], unload["lcp"]) == (72, "button#buy", 0, None)
    assert views[("p17qy930", 1)]["lcp"] == 7056
    assert views[("frl56hxa", 1)]["lcp"] == 312  # the GET image beacon
    assert views[("frl56hxa", 2)]["inp"] == 72
    assert {r["session_id"] for r in got} >= {"b911a509-bc51-4f7b-8314-cb09ad7d67a4-tpgmn9"}
    errors = [r for r in got if r["kind"] == "error"]
    # 2 + 1 (first visit) + 2 (throttled) + 2 + 1 (GET) + 1 (error beacon)
    assert len(errors) == 9
    thrown = next(r for r in errors if r["pageview_id"] == "avzh7tcq"
                  and r["error_message"] == "Error: checkout widget failed to render")
    assert (thrown["error_source"], thrown["error_line"], thrown["error_col"]) == ("/boomerang/", 22, 32)
    assert "at console.error (" in next(r["error_stack"] for r in errors if "503" in r["error_message"])
    assert all((r["country"], r["region"]) == ("IN", "MH") for r in got)


def test_faro_retry_with_the_same_idempotency_key_counts_once(rum_server: RunningServer) -> None:
    batch = next(s for s in samples("faro") if s["body"] and "exceptions" in s["body"])
    for _ in range(2):
        assert replay(rum_server, batch).status_code == 202
    other = dict(batch, headers={**batch["headers"], "Idempotency-Key": "another-batch"})
    assert replay(rum_server, other).status_code == 202
    # 4 rows a batch (session_start, 2 errors, FCP). The other key's batch was written
    # after the retry, so once its rows are in, the retry's are too: the two sends with
    # one key are one batch, 8 distinct rows read FINAL (a merge may already have
    # collapsed the raw rows, so the raw count is not waited for)
    wait_until(lambda: len(rows(rum_server, "site = 'shop'")) >= 8)
    assert len(rows(rum_server, "site = 'shop'")) == 8


def test_faro_conventions_for_logins_and_conversions_and_scrubbing(rum_server: RunningServer) -> None:
    ts = "2026-12-03T08:08:48.739Z"
    body = {"meta": {"app": {"name": "shop-eu"}, "session": {"id": "s-conv"},
                     "page": {"url": "https://shop.example.com/login?token=abc"}},
            "events": [{"name": "login", "attributes": {"success": "false", "reason": "bad_password"},
                        "timestamp": ts},
                       {"name": "conversion", "attributes": {"value": "49.95", "currency": "eur"},
                        "timestamp": ts},
                       {"name": "faro.performance.resource", "attributes": {"duration": "5"},
                        "timestamp": ts}],
            "measurements": [{"type": "login", "values": {"success": 1}, "timestamp": ts}],
            "exceptions": [{"type": "Error", "value": "no account for jane.doe@example.com",
                            "timestamp": ts}]}
    reply = httpx.post(f"{rum_server.base_url}/collect", json=body, timeout=10)
    assert reply.status_code == 202, reply.text
    rum_server.wait_rows(4, "site = 'shop-eu'")
    got = {(r["kind"], r["login_success"]): r for r in rows(rum_server, "site = 'shop-eu'")}
    assert got[("login", 0)]["login_reason"] == "bad_password"
    assert ("login", 1) in got
    assert (got[("conversion", None)]["conversion_value"], got[("conversion", None)]["currency"]) == (
        49.95, "EUR")
    message = got[("error", None)]["error_message"]
    assert "jane.doe" not in message and message.startswith("Error: no account for")
    assert got[("error", None)]["page_path"] == "/login"  # the query string is not kept
    assert len(got) == 4  # Faro's own resource event is not stored


@pytest.mark.parametrize(("body", "status", "error"), [
    (b"{not json", 400, "malformed_json"),
    (b"", 400, "malformed_json"),
    (b'{"meta": 5}', 422, "invalid_envelope"),
    (json.dumps({"meta": {"app": {"name": "shop"}, "session": {"id": "s"}, "page": {"url": "/"}},
                 "exceptions": [{"value": "x"}] * 201}).encode(), 422, "invalid_envelope"),
    (json.dumps({"meta": {"app": {"name": "my shop"}, "session": {"id": "s"},
                          "page": {"url": "/"}}}).encode(), 422, "invalid_envelope"),
    (json.dumps({"meta": {"app": {"name": "shop"}, "page": {"url": "/"}}}).encode(), 422,
     "invalid_envelope"),
    (b'{"meta": {"app": {"name": "shop"}}, "events": [{"timestamp": "yesterday"}]}', 422,
     "invalid_envelope"),
    (b"[" * 100_000 + b"]" * 100_000, 413, "body_too_large"),
])
def test_faro_bad_batches_get_a_4xx_with_a_reason(rum_server: RunningServer, body: bytes, status: int,
                                                  error: str) -> None:
    reply = httpx.post(f"{rum_server.base_url}/collect", content=body,
                       headers={"content-type": "application/json"}, timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (status, error), reply.text
    assert reply.json()["detail"]


def test_faro_absurd_timings_are_left_out_and_counted(rum_server: RunningServer) -> None:
    body = {"meta": {"app": {"name": "shop"}, "session": {"id": "s-absurd"}, "page": {"url": "/"}},
            "measurements": [{"type": "web-vitals", "values": {"lcp": 1e12, "cls": -1}},
                             {"type": "web-vitals", "values": {"fcp": 900}}]}
    assert httpx.post(f"{rum_server.base_url}/collect", json=body, timeout=10).status_code == 202
    rum_server.wait_rows(1, "session_id = 's-absurd'")
    (row,) = rows(rum_server, "session_id = 's-absurd'")
    assert (row["fcp"], row["lcp"], row["cls"]) == (900, None, None)
    assert scrape(rum_server.base_url)['rum_events_dropped_total{reason="out_of_range"}'] == 2


def boomerang_beacon(**fields: str) -> dict[str, str]:
    beacon = {"rt.si": "s-boom", "pid": "p1", "n": "1", "u": "https://shop.example.com/",
              "rt.start": "navigation", "nt_nav_st": "1796285349079", "nt_res_st": "1796285349379",
              "pt.fcp": "900", "pt.lcp": "2100"}
    beacon.update(fields)
    return beacon


def post_boomerang(server: RunningServer, beacon: dict[str, str], site: str = "shop",
                   **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v1/boomerang?site={site}",
                      content=urllib.parse.urlencode(beacon),
                      headers={"content-type": "application/x-www-form-urlencoded",
                               **kwargs.pop("headers", {})}, timeout=10, **kwargs)


def test_boomerang_broken_err_and_absurd_timings_keep_the_rest(rum_server: RunningServer) -> None:
    reply = post_boomerang(rum_server, boomerang_beacon(err="~(~(m~'broken", **{"pt.lcp": "1e12"}))
    assert reply.status_code == 204
    rum_server.wait_rows(1, "session_id = 's-boom'")
    (row,) = rows(rum_server, "session_id = 's-boom'")
    assert (row["kind"], row["fcp"], row["lcp"], row["ttfb"]) == ("pageview", 900, None, 300)
    metrics = scrape(rum_server.base_url)
    assert metrics['rum_events_dropped_total{reason="malformed_errors"}'] == 1
    assert metrics['rum_events_dropped_total{reason="out_of_range"}'] == 1


def test_boomerang_error_counts_and_failed_xhr(rum_server: RunningServer) -> None:
    err = "~(~(n~3~m~'boom~t~'TypeError~d~'mx79x20f))"
    xhr = {"rt.si": "s-xhr", "pid": "p2", "n": "3", "u": "https://shop.example.com/api/cart/12",
           "http.initiator": "xhr", "http.errno": "503", "http.method": "POST", "t_done": "180",
           "err": err}
    assert post_boomerang(rum_server, xhr).status_code == 204
    rum_server.wait_rows(4, "session_id = 's-xhr'")
    got = rows(rum_server, "session_id = 's-xhr'")
    assert [r["error_message"] for r in got if r["kind"] == "error"] == ["TypeError: boom"] * 3
    (api,) = [r for r in got if r["kind"] == "api"]
    assert (api["api_status"], api["api_method"], api["api_path"], api["api_duration"]) == (
        503, "POST", "/api/cart/12", 180)
    assert not [r for r in got if r["kind"] == "pageview"]


@pytest.mark.parametrize(("method", "target", "body", "ctype", "status", "error"), [
    ("POST", "?site=shop", "n=1&u=%2F", "application/x-www-form-urlencoded", 422, "invalid_envelope"),
    ("POST", "?site=shop", "rt.si=s&pid=p", "application/json", 415, "unsupported_media_type"),
    ("POST", "?site=shop", "rt.si=s&pid=p&u=%2F&x=%ff", "application/x-www-form-urlencoded", 400,
     "malformed_json"),
    ("POST", "?site=shop", "&".join(f"k{i}=v" for i in range(600)), "application/x-www-form-urlencoded",
     400, "malformed_json"),
    ("POST", "?site=bad%20site", "rt.si=s&pid=p&u=%2F", "application/x-www-form-urlencoded", 422,
     "invalid_envelope"),
    ("GET", "?site=shop&rt.si=s&pid=p&u=" + "x" * 20_000, "", "", 431, "headers_too_large"),
    ("PUT", "?site=shop", "", "", 405, "method_not_allowed"),
])
def test_boomerang_bad_beacons_get_a_4xx_with_a_reason(rum_server: RunningServer, method: str,
                                                       target: str, body: str, ctype: str, status: int,
                                                       error: str) -> None:
    headers = {"content-type": ctype} if ctype else {}
    reply = httpx.request(method, f"{rum_server.base_url}/v1/boomerang{target}", content=body,
                          headers=headers, timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (status, error), reply.text


def test_registry_maps_api_keys_to_sites(server_settings: Any, tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.shop-eu]\norigins = ["*"]\napi_keys = ["faro-key-1", "mpulse-key-1"]\n')
    running = start_server(server_settings(sites_file=sites))
    try:
        body = {"meta": {"app": {"name": "whatever"}, "session": {"id": "s-key"}, "page": {"url": "/"}},
                "measurements": [{"type": "web-vitals", "values": {"lcp": 1800}}]}
        url = f"{running.base_url}/collect"
        assert httpx.post(url, json=body, headers={"x-api-key": "faro-key-1"}, timeout=10).status_code == 202
        refused = httpx.post(url, json=body, headers={"x-api-key": "nope"}, timeout=10)
        assert (refused.status_code, refused.json()["error"]) == (403, "unknown_site")
        by_name = httpx.post(url, json=body, timeout=10)  # app.name is not registered
        assert (by_name.status_code, by_name.json()["error"]) == (403, "unknown_site")
        reply = post_boomerang(running, boomerang_beacon(**{"rt.si": "s-key2", "h.key": "mpulse-key-1"}),
                               site="")
        assert reply.status_code == 204
        running.wait_rows(2, "site = 'shop-eu'")
        assert {r["session_id"] for r in rows(running, "site = 'shop-eu'")} == {"s-key", "s-key2"}
    finally:
        stop_server(running)


@pytest.mark.parametrize("agent", ["faro", "boomerang"])
def test_slow_regions_flags_the_throttled_country_from_one_agent_alone(rum_server: RunningServer,
                                                                      agent: str) -> None:
    """40 visits from Brazil with LCP ~5 s and 40 from the Netherlands with ~1.2 s, through one
    receiver: Brazil is flagged, the Netherlands is not."""
    rng = random.Random(3)
    for country, region, lcp in (("BR", "SP", 5000.0), ("NL", "NH", 1200.0)):
        for i in range(40):
            value = round(lcp * rng.uniform(0.8, 1.1))
            headers = {"x-forwarded-for": visitor_ip(country, region)}
            if agent == "faro":
                body = {"meta": {"app": {"name": "shop"}, "session": {"id": f"{country}-{i}"},
                                 "page": {"url": "https://shop.example.com/"}},
                        "measurements": [{"type": "web-vitals", "values": {"lcp": value, "ttfb": 200}}]}
                reply = httpx.post(f"{rum_server.base_url}/collect", json=body, headers=headers,
                                   timeout=10)
            else:
                reply = post_boomerang(rum_server, boomerang_beacon(
                    **{"rt.si": f"{country}-{i}", "pt.lcp": str(value)}), headers=headers)
            assert reply.status_code in (202, 204)
    rum_server.wait_rows(80, "site = 'shop' AND lcp IS NOT NULL")
    spec = get_query("slow-regions")
    found = spec.run(rum_server.store, spec.parse({"site": "shop", "window": "1h", "min_samples": "20"}))
    flagged = {(r["country"], r["region"]) for r in found if r["flagged"]}
    assert ("BR", "") in flagged and ("BR", "SP") in flagged
    assert not any(country == "NL" for country, _ in flagged)
