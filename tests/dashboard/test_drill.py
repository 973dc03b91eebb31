"""The dashboard's drill-down in a real browser: from the map to a country, its regions and
slowest pages, a page group's page views, and one page view; every step in the URL, so a
shared link opens the same view."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.beacons import envelope
from tests.conftest import RunningServer
from tests.dashboard.test_dashboard import browser, needs_build, needs_chromium  # noqa: F401
from tests.geo_fixtures import visitor_ip
from tests.queries.test_pages import plant


def level(page: Any) -> str:
    return str(page.get_attribute("#drill", "data-level"))


def wait_level(page: Any, want: str) -> None:
    page.wait_for_function("w => document.getElementById('drill').dataset.level === w", arg=want,
                           timeout=15_000)


@needs_build
@needs_chromium
def test_drill_down_from_the_map_to_one_page_view(rum_server: RunningServer, browser: Any,  # noqa: F811
                                                  tmp_path: Path) -> None:
    plant(rum_server)  # Brazil (SP): /checkout slow with a hero image, /product/:id fast; India fast
    shots = Path(os.environ.get("RUM_SCREENSHOTS", tmp_path))
    page = browser.new_page(viewport={"width": 1440, "height": 1300})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{rum_server.base_url}/?window=1h&refresh=0&min_samples=5")
    # every panel drawn (the map's colours too: a grey country does not take clicks)
    page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 1", timeout=30_000)
    # the top level is the Pages view: the slowest page groups site-wide
    assert level(page) == "top"
    pages = page.eval_on_selector_all("#drill-pages tbody tr", "els => els.map(e => e.dataset.page)")
    assert pages[0] == "/checkout", pages
    # each group's page views: those with an LCP, as the API counts them (counts=false: the
    # distinct page views are not asked for)
    api = httpx.get(f"{rum_server.base_url}/v1/query/slow-pages",
                    params={"window": "1h", "min_samples": "3", "counts": "false"}).json()["rows"]
    cells = page.locator("#drill-pages tbody tr[data-page='/checkout'] td.num")
    want = next(r for r in api if r["page_group"] == "/checkout")
    assert want["pageviews"] is None and cells.nth(3).inner_text() == f"{want['samples']:,}"
    # the errors panel: each fingerprint with where it is thrown, its pages and browsers
    error = page.locator("#top-errors tbody tr").first.inner_text()
    assert "TypeError: x is undefined" in error and "at buy (app.js" in error, error
    assert "/checkout" in error and "Chrome" in error, error

    page.click("#map path[data-country=BR]")
    wait_level(page, "country")
    assert "country=BR" in page.url
    regions = page.eval_on_selector_all("#drill-regions tbody tr", "els => els.map(e => e.dataset.region)")
    assert regions == ["SP"]
    why = page.inner_text("#drill-regions tbody tr[data-region=SP] td.why")
    assert "render delay" in why, why  # the planted part, in the explanation's words
    first = page.locator("#drill-pages tbody tr").first
    assert first.get_attribute("data-page") == "/checkout"
    assert "main>img.hero" in first.inner_text()  # the LCP element the attribution build sent
    assert "Brazil" in page.inner_text("#drill-trail")
    # no session converted: the chart says how to feed it instead of drawing 0% bars
    assert "no session converted" in page.inner_text("#speed-bars")
    page.screenshot(path=str(shots / "drill-country-1440.png"), full_page=True)

    page.click("#drill-pages tbody tr[data-page='/checkout'] a")
    wait_level(page, "page")
    views = page.locator("#drill-views tbody tr")
    assert views.count() == 12  # Brazil's 12 checkout views, not India's
    assert "page=%2Fcheckout" in page.url
    with_error = page.eval_on_selector_all(
        "#drill-views tbody tr", "els => els.filter(e => e.lastElementChild.textContent === '1')"
        ".map(e => e.dataset.pv)")
    assert len(with_error) == 4, with_error  # every third checkout view had an error
    page.click(f"#drill-views tbody tr[data-pv='{with_error[0]}'] a")
    wait_level(page, "pageview")
    assert f"pv={with_error[0]}" in page.url
    facts = page.inner_text("#drill-facts")
    assert "/checkout" in facts and "BR-SP" in facts and "main>img.hero" in facts
    assert page.locator("#drill-facts [data-timing=lcp]").inner_text().endswith("s")
    events = page.eval_on_selector_all("#drill-events tbody tr", "els => els.map(e => e.dataset.kind)")
    assert events == ["error"]
    assert "TypeError: x is undefined" in page.inner_text("#drill-events")
    page.screenshot(path=str(shots / "drill-pageview-1440.png"), full_page=True)

    shared = page.url  # a link opens the same view
    other = browser.new_page(viewport={"width": 390, "height": 844})
    other.goto(shared)
    wait_level(other, "pageview")
    other.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 1", timeout=30_000)
    assert "TypeError: x is undefined" in other.inner_text("#drill-events")
    other.screenshot(path=str(shots / "drill-pageview-390.png"), full_page=True)
    assert other.evaluate("() => document.documentElement.scrollWidth") <= 390
    # up the trail: the crumb of the country goes back to its regions
    page.click("#drill-trail a:has-text('Brazil')")
    wait_level(page, "country")
    assert "pv=" not in page.url and "page=" not in page.url
    assert problems == []


@needs_build
@needs_chromium
def test_charts_span_the_window_mark_alerts_and_overlay_the_place(
        rum_server: RunningServer, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    plant(rum_server)
    now = time.time()
    rum_server.store.insert("rum.alert_history", [
        {"alert_id": "a1", "rule": "slow-lcp", "group_key": "country=BR", "kind": "firing", "value": 4580.0,
         "threshold": 4000.0, "samples": 12, "at": round(now - 20 * 60, 3)},
        {"alert_id": "a1", "rule": "slow-lcp", "group_key": "country=BR", "kind": "resolved", "value": 2100.0,
         "threshold": 4000.0, "samples": 12, "at": round(now - 5 * 60, 3)},
        {"alert_id": "a0", "rule": "slow-lcp", "group_key": "country=IN", "kind": "firing", "value": 4100.0,
         "threshold": 4000.0, "samples": 12, "at": round(now - 3 * 3600, 3)}])
    shots = Path(os.environ.get("RUM_SCREENSHOTS", tmp_path))
    page = browser.new_page(viewport={"width": 1440, "height": 1300})
    for window, seconds, marks in (("15m", 900, ["resolved"]), ("1h", 3600, ["firing", "resolved"]),
                                   ("24h", 86400, ["firing", "firing", "resolved"])):
        page.goto(f"{rum_server.base_url}/?window={window}&refresh=0&country=BR")
        page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 1", timeout=30_000)
        start, end = json.loads(page.get_attribute("#chart-lcp", "data-range") or "[]")
        assert abs((end - start) - seconds) < 1 and abs(end - time.time()) < 120, (window, start, end)
        shown = json.loads(page.get_attribute("#chart-lcp", "data-marks") or "[]")
        assert sorted(kind for _, kind in shown) == marks, (window, shown)
        # Brazil's line beside the site's: its checkout views make its p75 the slower one
        place = [y for _, y in json.loads(page.get_attribute("#chart-lcp", "data-place") or "[]")]
        site = [y for _, y in json.loads(page.get_attribute("#chart-lcp", "data-series") or "[]")]
        assert place and site and max(place) >= max(site), (place, site)
        assert "pink: Brazil" in page.inner_text("#trend-note")
        page.locator("#trends").screenshot(path=str(shots / f"trends-{window}.png"))


@needs_build
@needs_chromium
def test_map_colours_a_country_by_its_worst_region(rum_server: RunningServer, browser: Any) -> None:  # noqa: F811
    """India: 60 fast views in Karnataka, 20 slow ones in Maharashtra. The country's p75 is
    good; the map shows it poor, as its worst region with 20+ page views is."""
    for i in range(80):
        region, lcp = ("MH", 5000 + i) if i < 20 else ("KA", 1200 + i)
        reply = rum_server.post(envelope(vitals={"lcp": lcp}),
                                headers={"x-forwarded-for": visitor_ip("IN", region)})
        assert reply.status_code == 202
    rum_server.wait_rows(80, "kind = 'pageview'")
    country = httpx.get(f"{rum_server.base_url}/v1/query/slow-segments",
                        params={"window": "1h", "by": "country", "min_samples": "5"}).json()["rows"]
    assert country[0]["p75"] < 2500  # the country alone would be green
    page = browser.new_page()
    page.goto(f"{rum_server.base_url}/?window=1h&refresh=0&min_samples=20")
    page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 1", timeout=30_000)
    india = page.locator("#map path[data-country=IN]")
    assert india.get_attribute("data-band") == "poor"
    assert "worst region MH" in (india.locator("title").text_content() or "")


@needs_build
@needs_chromium
def test_site_picker_lists_the_sites_seen_and_filters(rum_server: RunningServer, browser: Any) -> None:  # noqa: F811
    plant(rum_server)  # shop-eu: 36 page views
    for _ in range(5):
        assert rum_server.post(envelope(site="blog")).status_code == 202
    rum_server.wait_rows(5, "site = 'blog'")
    page = browser.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("?")[1]) if "/v1/query/sites?" in r.url else None)
    page.goto(f"{rum_server.base_url}/?window=1h&refresh=0")
    # the picker's list is asked after the panels (dashboard/src/main.ts sitesSeen)
    page.wait_for_function("() => Number(document.body.dataset.sites || 0) >= 1", timeout=30_000)
    options = page.eval_on_selector_all("#site-list option", "els => els.map(e => [e.value, e.label])")
    assert options == [["shop-eu", "36 page views"], ["blog", "5 page views"]]
    page.fill("#f-site", "blog")
    page.dispatch_event("#f-site", "change")
    page.wait_for_function("() => Number(document.body.dataset.refreshes || 0) >= 2", timeout=30_000)
    assert "site=blog" in page.url
    pages = page.eval_on_selector_all("#drill-pages tbody tr", "els => els.map(e => e.dataset.page)")
    assert pages == ["/product/:id"]  # blog's only page group: shop-eu's /checkout is gone
    # the list is asked once per window (and every 5 minutes), not on every refresh: not
    # after the site changed, again after the window changed
    page.select_option("#f-window", "24h")
    page.wait_for_function("() => Number(document.body.dataset.sites || 0) >= 2", timeout=30_000)
    assert "window=24h" in page.url
    assert asked == ["window=1h", "window=24h"], asked
