"""The drill-down questions on planted traffic sent through the real intake: the slow page
group of a place is found with its LCP element, its page views are listed newest first
with their errors, and one page view gives every event it sent."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query
from tests.beacons import all_event_kinds, envelope
from tests.conftest import RunningServer
from tests.geo_fixtures import visitor_ip


def run(server: RunningServer, name: str, **raw: str) -> list[dict[str, Any]]:
    spec = get_query(name)
    return spec.run(server.store, spec.parse({"site": "shop-eu", "window": "1h", **raw}))


def plant(server: RunningServer) -> None:
    """Brazil (SP): /checkout slow (LCP ~4.5 s, hero img), /product/:id fast; India fast."""
    for i in range(12):
        for country, region, path, lcp in (("BR", "SP", "/checkout", 4500 + 10 * i),
                                           ("BR", "SP", f"/product/{i}", 1500 + 10 * i),
                                           ("IN", "MH", "/checkout", 1200 + 10 * i)):
            slug = path.strip("/").replace("/", "-")
            body = envelope(sid=f"s-{country}-{i}", pid=f"p-{country}-{i}-{slug}",
                            url=f"https://shop.example.com{path}?q=1",
                            # LCP's parts: the time past 600 ms is render delay (the scripts)
                            vitals={"lcp": lcp, "inp": 80, "cls": 0.02, "fcp": 800, "ttfb": 200,
                                    "lcp_ttfb": 200, "lcp_load_delay": 100, "lcp_load_time": 300,
                                    "lcp_render_delay": lcp - 600},
                            attribution={"lcp_element": "main>img.hero" if path == "/checkout"
                                         else "h1", "lcp_resource": "https://cdn.example.com/hero.jpg?w=1"},
                            events=all_event_kinds()[:1] if path == "/checkout" and i % 3 == 0 else [])
            reply = server.post(body, headers={"x-forwarded-for": visitor_ip(country, region)})
            assert reply.status_code == 202, reply.text
    server.wait_rows(36 + 4 + 4, "site = 'shop-eu'")


def test_drill_down_from_a_country_to_one_page_view(rum_server: RunningServer) -> None:
    plant(rum_server)
    pages = run(rum_server, "slow-pages", country="BR", min_samples="5")
    assert [p["page_group"] for p in pages] == ["/checkout", "/product/:id"]
    checkout = pages[0]
    assert (checkout["samples"], checkout["pageviews"], checkout["errors"]) == (12, 12, 4)
    assert 4500 <= checkout["lcp_p75"] <= 4620 and pages[1]["lcp_p75"] < 1700
    assert (checkout["lcp_element"], checkout["lcp_resource"]) == ("main>img.hero", "/hero.jpg")
    # site-wide, India's fast checkout pulls /checkout's p75 down, and the region filter works
    assert run(rum_server, "slow-pages", country="BR", region="SP") == pages
    assert run(rum_server, "slow-pages", country="BR", region="RJ") == []
    site_wide = {p["page_group"]: p for p in run(rum_server, "slow-pages")}
    assert site_wide["/checkout"]["samples"] == 24

    # the dashboard's overlay: the place's p75 line (Brazil's half-slow traffic vs India's fast)
    brazil = run(rum_server, "vitals-timeseries", country="BR", bucket="1h")
    india = run(rum_server, "vitals-timeseries", country="IN", region="MH", bucket="1h")
    assert sum(r["samples"] for r in brazil) == 24 and sum(r["samples"] for r in india) == 12
    assert min(r["lcp_p75"] for r in brazil) > 4000 > max(r["lcp_p75"] for r in india)

    views = run(rum_server, "page-views", country="BR", page_group="/checkout", limit="5")
    assert len(views) == 5 and all(v["page_path"] == "/checkout" for v in views)
    assert [v["started"] for v in views] == sorted((v["started"] for v in views), reverse=True)
    assert {(v["country"], v["region"]) for v in views} == {("BR", "SP")}
    with_error = next(v for v in run(rum_server, "page-views", country="BR", page_group="/checkout",
                                     limit="20") if v["errors"])
    assert with_error["errors"] == 1 and with_error["lcp_element"] == "main>img.hero"

    events = run(rum_server, "page-view", pageview=with_error["pageview_id"])
    assert len(events) == 2
    assert {e["kind"] for e in events} == {"pageview", "error"}
    view = next(e for e in events if e["kind"] == "pageview")
    assert (view["lcp"], view["fcp"], view["load"]) == (with_error["lcp"], 800, 1350)
    error = next(e for e in events if e["kind"] == "error")
    assert error["message"] == "TypeError: x is undefined" and error["top_frame"] == "at buy (app.js:10:5)"


@pytest.mark.parametrize(("name", "raw"), [
    ("page-view", {}), ("page-view", {"pageview": "a b"}), ("slow-pages", {"country": "B R"}),
    ("page-views", {"page_group": "x" * 300}), ("slow-pages", {"device": "toaster"}),
])
def test_bad_drill_down_parameters_are_named(name: str, raw: dict[str, str]) -> None:
    with pytest.raises(ParamError):
        get_query(name).parse(raw)


def test_drill_down_over_http_answers_400_for_a_missing_page_view(rum_server: RunningServer) -> None:
    reply = httpx.get(f"{rum_server.base_url}/v1/query/page-view", params={"window": "1h"}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_parameter"


def test_sites_seen_over_http(rum_server: RunningServer) -> None:
    url = f"{rum_server.base_url}/v1/query/sites"
    assert httpx.get(url, params={"window": "1h"}, timeout=10).json()["rows"] == []  # nothing yet
    bad = httpx.get(url, params={"window": "soon"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_parameter"
    plant(rum_server)
    rows = httpx.get(url, params={"window": "1h"}, timeout=10).json()["rows"]
    assert [(r["site"], r["pageviews"], r["sessions"]) for r in rows] == [("shop-eu", 36, 24)]


def test_sites_count_each_event_once_and_leave_bots_out(chdb_store: Store) -> None:
    """sites reads its distinct counts without FINAL and its event count with it: a page view
    flushed twice counts once, an event stored twice counts once in `events`, bots and
    other windows not at all."""
    now = time.time()
    rows: list[dict[str, Any]] = []

    def event(site: str, kind: str, pid: str, sid: str, ago: float, **extra: Any) -> dict[str, Any]:
        row = {"event_id": str(uuid.uuid4()), "site": site, "kind": kind, "ts": round(now - ago, 3),
               "received_at": round(now - ago, 3), "session_id": sid, "pageview_id": pid, **extra}
        rows.append(row)
        return row

    for i in range(30):
        event("shop", "pageview", f"p{i}", f"s{i % 7}", 60 + i)
        if i % 3 == 0:
            event("shop", "pageview", f"p{i}", f"s{i % 7}", 30 + i)  # a second flush
            event("shop", "error", f"p{i}", f"s{i % 7}", 40 + i)
    twice = event("shop", "conversion", "p1", "s1", 20)
    event("shop", "pageview", "bot", "bot-session", 10, is_bot=1)
    event("shop", "pageview", "old", "s-old", 7200)  # before the window
    event("blog", "pageview", "b1", "t1", 5)
    chdb_store.insert("rum.events", rows)
    chdb_store.insert("rum.events", [twice])  # delivered twice: the same event id
    spec = get_query("sites")
    got = spec.run(chdb_store, spec.parse({"window": "1h"}), now=now)
    assert [(r["site"], r["pageviews"], r["sessions"], r["events"]) for r in got] == [
        ("shop", 30, 7, 30 + 10 + 10 + 1), ("blog", 1, 1, 1)]
    assert got[0]["last_seen"].startswith(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 20))[:16])
