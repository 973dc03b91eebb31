"""The built-in dashboard: served at / on the read side, and working in a real browser
(Debian chromium via Playwright) against seeded data."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from collector.app import DASHBOARD_DIR
from collector.settings import Settings
from tests.beacons import envelope
from tests.conftest import ANDROID_UA, CHROME_UA, RunningServer, start_server, stop_server
from tests.geo_fixtures import visitor_ip

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "dashboard-test-token-0123456789"
needs_build = pytest.mark.skipif(not (DASHBOARD_DIR / "dashboard.js").is_file() and not os.environ.get("CI"),
                                 reason="dashboard not built (make dashboard)")
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                    reason="Debian chromium not installed (make test installs it)")


@needs_build
def test_page_and_assets_are_served(rum_server: RunningServer) -> None:
    page = httpx.get(f"{rum_server.base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="dashboard/dashboard.js"' in page.text
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard-style.css", "text/css")):
        asset = httpx.get(f"{rum_server.base_url}/dashboard/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    assert "cdn" not in httpx.get(f"{rum_server.base_url}/dashboard/dashboard.js").text.lower()
    assert httpx.get(f"{rum_server.base_url}/dashboard/../pyproject.toml").status_code == 404
    assert httpx.get(f"{rum_server.base_url}/dashboard/secret.txt").status_code == 404


def test_dashboard_is_read_side(server_settings: Callable[..., Settings]) -> None:
    server = start_server(server_settings(api_tokens=[TOKEN]))
    try:
        for path in ("/", "/dashboard/dashboard.js"):
            assert httpx.get(f"{server.base_url}{path}").status_code == 401
        authorized = httpx.get(f"{server.base_url}/", headers={"authorization": f"Bearer {TOKEN}"})
        assert authorized.status_code in (200, 404)  # 404 only when the dashboard is not built
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        stop_server(server)


def _seed(server: RunningServer) -> None:
    """Mumbai slow (the planted slow region), the rest fast; failing logins in Brazil."""
    visitors = [("IN", "MH", 6200.0), ("IN", "KA", 2100.0), ("GB", None, 1300.0),
                ("NL", None, 1100.0), ("BR", None, 2900.0), ("SE", None, 1500.0)]
    posted = 0
    client = httpx.Client(base_url=server.base_url, timeout=10)
    for country, region, lcp in visitors:
        for i in range(40):
            events: list[dict[str, Any]] = []
            if i % 4 == 0:
                events.append({"t": "login", "ts": 0, "success": country != "BR" or i % 8 != 0})
            if i % 2 == 0:  # every other visit buys: revenue the slow places put at risk
                events.append({"t": "conversion", "ts": 0, "value": 40.0, "currency": "EUR"})
            if country == "GB" and i % 10 == 0:
                events.append({"t": "error", "ts": 0, "message": "TypeError: totals is undefined"})
            body = envelope(vitals={"lcp": lcp + 10 * i, "inp": 90 + i, "cls": 0.02, "ttfb": 300 + i},
                            events=[{**e, "ts": time.time() * 1000} for e in events])
            reply = client.post("/v1/beacon", content=orjson.dumps(body), headers={
                "content-type": "text/plain", "user-agent": ANDROID_UA if i % 2 else CHROME_UA,
                "x-forwarded-for": visitor_ip(country, region)})
            assert reply.status_code == 202, reply.text
            posted += 1
    client.close()
    server.wait_rows(posted, "kind = 'pageview'")


# the dashboard's bucket for a 1h window (series.ts bucketFor: 1h -> 30 s, 120 points)
BUCKET_1H = 30


def _seed_history(server: RunningServer) -> tuple[int, int]:
    """Two earlier buckets of the last hour, written as the pipeline writes them: a fast one
    (desktop views in Amsterdam, LCP 900 ms) and a slow one (mobile views in Mumbai, LCP
    7000 ms). Returns their bucket starts (epoch seconds)."""
    now = int(time.time()) // BUCKET_1H * BUCKET_1H
    fast, slow = now - 30 * 60, now - 15 * 60
    rows = []
    for t, country, region, device, lcp in ((fast, "NL", "NH", "desktop", 900.0),
                                            (slow, "IN", "MH", "mobile", 7000.0)):
        for i in range(20):
            ts = t + 1 + i / 2
            rows.append({"event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "pageview",
                         "ts": ts, "received_at": ts, "pageview_id": uuid.uuid4().hex,
                         "session_id": uuid.uuid4().hex, "country": country, "region": region,
                         "device_class": device, "lcp": lcp, "inp": lcp / 20, "cls": 0.01,
                         "ttfb": lcp / 5})
    server.store.insert("rum.events", rows)
    return fast, slow


def _series(page: Any, metric: str) -> dict[int, float]:
    """The points a chart draws: bucket start -> p75, from the figure's data-series."""
    text = page.get_attribute(f"#chart-{metric}", "data-series")
    return {int(t): y for t, y in orjson.loads(text or "[]")}


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@needs_build
@needs_chromium
def test_dashboard_in_a_real_browser(rum_server: RunningServer, browser: Any, tmp_path: Path) -> None:
    _seed(rum_server)
    fast, slow = _seed_history(rum_server)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(rum_server.base_url) or r.url.startswith("data:")
            else external.append(r.url))
    page.goto(f"{rum_server.base_url}/?window=1h&refresh=1&min_samples=20")
    # functions, not expressions: the page's CSP forbids eval, which string predicates use
    page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 2", timeout=30_000)

    bands = dict(page.eval_on_selector_all("#map path[data-band]:not([data-band=none])",
                                           "els => els.map(e => [e.dataset.country, e.dataset.band])"))
    assert bands["IN"] in ("ni", "poor") and bands["NL"] == "good" and bands["GB"] == "good"
    assert len(bands) == 5, bands  # GB IN NL BR SE; every other country grey
    places = page.eval_on_selector_all("#slow-regions tbody tr", "els => els.map(e => e.dataset.place)")
    assert places[0] == "IN-MH", places
    points = page.eval_on_selector_all("figure[data-points]", "els => els.map(e => Number(e.dataset.points))")
    assert len(points) == 4 and min(points) >= 3, points  # fast, slow, and the beacons' bucket(s)
    lcp = _series(page, "lcp")
    # every view of a bucket alike: the p75 is the middle of that value's grid bucket (within 1%)
    assert abs(lcp[fast] - 900) <= 9 and abs(lcp[slow] - 7000) <= 70, lcp
    assert _series(page, "ttfb")[slow] > _series(page, "ttfb")[fast]
    assert "30s" in page.inner_text("#trend-note")
    assert page.locator("#share-bars .share-row[data-metric=lcp] .bar span.poor").count() == 1
    # the Web Vitals bars: one vitals-ratings question, each bar's page views the API's
    ratings = httpx.get(f"{rum_server.base_url}/v1/query/vitals-ratings",
                        params={"window": "1h"}).json()["rows"]
    for metric in ("lcp", "ttfb"):
        views = sum(r["samples"] for r in ratings if r["metric"] == metric)
        assert views and f"{views:,} page views" in page.inner_text(f"#share-bars [data-metric={metric}]")
    assert page.locator("#failing-logins tbody tr").first.get_attribute("data-country") == "BR"
    assert "TypeError: totals is undefined" in page.inner_text("#top-errors")
    assert "no active alerts" in page.inner_text("#active-alerts")
    # money where the decision is made: each slow place's revenue at risk as the API gives it
    api = httpx.get(f"{rum_server.base_url}/v1/query/revenue-impact", params={"window": "1h"}).json()["rows"]
    figures = {(f"{r['country']}-{r['region']}" if r["region"] else r["country"], r["method"]):
               r["revenue_at_risk_per_30d"] for r in api if r["status"] != "not_slow"}
    shown = page.eval_on_selector_all("#revenue-impact tbody tr", "els => els.map(e => "
                                      "[e.dataset.place, e.dataset.method, e.getAttribute('data-per-30d')])")
    assert ("IN-MH", "modelled") in {(p, m) for p, m, _ in shown}, shown
    for place, method, per_30d in shown:
        want = figures[(place, method)]
        assert (per_30d == "" and want is None) or float(per_30d) == want, (place, method, per_30d, want)
    mumbai = page.locator("#revenue-impact tbody tr[data-place='IN-MH'][data-method='modelled']").inner_text()
    assert "€" in mumbai, mumbai  # a figure in the site's currency, not 0 or not_slow
    # conversion by speed: one bar per LCP bucket, each the API's rate
    speed = httpx.get(f"{rum_server.base_url}/v1/query/conversion-by-speed",
                      params={"window": "1h"}).json()["rows"]
    want = {r["bucket"]: r["conversion_rate"] for r in speed if r["sessions"]}
    bars = dict(page.eval_on_selector_all("#speed-bars .speed-col",
                                          "els => els.map(e => [e.dataset.bucket, Number(e.dataset.rate)])"))
    assert bars == want and len(bars) >= 3, (bars, want)
    assert "€" in page.inner_text("#speed-bars")  # revenue per session in the site's currency
    assert "failed" not in page.inner_text("#status")
    shots = Path(os.environ.get("RUM_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: panels stack
    page.screenshot(path=str(shots / "dashboard-390.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1300})

    page.select_option("#f-device", "mobile")  # a filter refreshes the panels with it
    page.wait_for_function("() => document.getElementById('regions-title').textContent.includes('mobile')")
    assert "device=mobile" in page.url
    # the series follows the filter: the fast bucket was desktop only
    page.wait_for_function("t => !JSON.parse(document.getElementById('chart-lcp').dataset.series)"
                           ".some(p => p[0] === t)", arg=fast)
    assert _series(page, "lcp")[slow] == lcp[slow]  # the slow bucket's views are all mobile
    assert problems == [] and external == []


@needs_build
@needs_chromium
def test_geoip_banner_without_a_database_and_db_ip_credit_with_one(
    server_settings: Callable[..., Settings], browser: Any, tmp_path: Path
) -> None:
    from tests.geo_fixtures import build_city_db

    dbip = build_city_db(tmp_path / "dbip.mmdb", "DBIP-City-Lite")
    for overrides, banner, credit in (({"geoip_db": None, "geoip_asn_db": None}, True, False),
                                      ({"geoip_db": dbip}, False, True), ({}, False, False)):
        server = start_server(server_settings(**overrides))
        try:
            page = browser.new_page()
            page.goto(f"{server.base_url}/?refresh=0")
            page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 1")
            shown = page.locator("#geo-banner")
            assert shown.is_visible() == banner, overrides
            if banner:
                assert "rum geoip download" in shown.inner_text()
                page.screenshot(path=str(tmp_path / "no-geoip.png"))
            assert ("IP geolocation by DB-IP" in page.inner_text("#credits")) == credit, overrides
            page.close()
        finally:
            stop_server(server)
