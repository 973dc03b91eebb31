"""The real Grafana Faro and Boomerang agents (from the npm registry, pinned in
js-beacon/package.json) in Debian Chromium, pointed at our collector with the one-line
change a user makes: their vitals, errors and sessions land as rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer, wait_until
from tests.geo_fixtures import visitor_ip
from tests.js_beacon.site import QuietHandler, serve
from tests.js_beacon.test_browser_e2e import browser  # noqa: F401  (the module's browser fixture)

MODULES = Path(__file__).resolve().parents[2] / "js-beacon" / "node_modules"
FARO = MODULES / "@grafana" / "faro-web-sdk" / "dist" / "bundle" / "faro-web-sdk.iife.js"
BOOMERANG = MODULES / "boomerangjs"
BOOMERANG_PLUGINS = ["continuity", "rt", "painttiming", "navtiming", "eventtiming", "compression",
                     "errors", "zzz-last-plugin"]
pytestmark = pytest.mark.skipif(not FARO.exists() or not BOOMERANG.exists(),
                                reason="agents not installed: make beacon installs them")

# a big hero image (the LCP element), a pixel answered late (the load event, and with it
# Boomerang's page-load beacon, comes after the hero is painted), a click that works
# ~60 ms and then throws, an error thrown during load with an e-mail address in it
# (scrubbed), a fetch answered 503
BODY = """<img id="hero" src="/hero.svg" width="900" height="600" alt="hero">
<img src="/pixel.svg" width="1" height="1" alt="">
<button id="buy" onclick="const t = performance.now(); while (performance.now() - t < 60) {}
  throw new Error('add to cart: price missing')">Buy</button>
<script>
setTimeout(() => { throw new Error('checkout failed for jane.doe@example.com'); }, 0);
fetch('/api/cart').then(r => { if (!r.ok) console.error('cart failed: HTTP ' + r.status); });
</script>"""
FARO_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>faro</title>
<script src="/agents/faro.js"></script>
<script>GrafanaFaroWebSdk.initializeFaro({{url: '{collector}/collect',
  app: {{name: 'agents-faro', version: '1.0.0'}}}});</script>
</head><body>{body}</body></html>"""
BOOMERANG_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>boomerang</title>
<script src="/agents/boomerang/boomerang.js"></script>
{plugins}
<script>BOOMR.init({{beacon_url: '{collector}/v1/boomerang?site=agents-boomerang',
  Errors: {{enabled: true, sendAfterOnload: true}}}});</script>
</head><body>{body}</body></html>"""
HERO = ('<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600">'
        + "".join(f'<rect x="{i % 90 * 10}" y="{i // 90 * 10}" width="9" height="9" fill="#{i % 4096:03x}"/>'
                  for i in range(5400)) + "</svg>").encode()


@contextmanager
def agent_site(collector: str) -> Iterator[str]:
    """The test pages and the agents' files on a free loopback port."""
    plugins = "\n".join(f'<script src="/agents/boomerang/plugins/{p}.js"></script>'
                        for p in BOOMERANG_PLUGINS)
    pages = {"/faro/": FARO_PAGE.format(collector=collector, body=BODY),
             "/boomerang/": BOOMERANG_PAGE.format(collector=collector, body=BODY, plugins=plugins)}

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path in pages:
                self._reply(200, pages[path].encode(), "text/html; charset=utf-8")
            elif path == "/pixel.svg":
                time.sleep(0.4)
                self._reply(200, b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
                            "image/svg+xml")
            elif path == "/hero.svg":
                self._reply(200, HERO, "image/svg+xml")
            elif path == "/agents/faro.js":
                self._reply(200, FARO.read_bytes(), "text/javascript")
            elif path.startswith("/agents/boomerang/") and ".." not in path:
                file = BOOMERANG / path.removeprefix("/agents/boomerang/")
                self._reply(200, file.read_bytes(), "text/javascript")
            else:
                self._reply(503, b'{"error":"down"}', "application/json")

    with serve(Handler) as url:
        yield url


@contextmanager
def proxy(collector: str, client_ip: str) -> Iterator[str]:
    """A reverse proxy in front of the collector (trusted from loopback) that says the
    browser's address is `client_ip`, as a load balancer's X-Forwarded-For does."""

    class Handler(QuietHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "connection")}
            reply = httpx.request(self.command, collector + self.path, content=body, timeout=10,
                                  headers={**headers, "x-forwarded-for": client_ip})
            self.send_response(reply.status_code)
            for key, value in reply.headers.items():
                if key.lower() not in ("content-length", "connection", "date", "server"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_OPTIONS = _forward  # noqa: N815

    with serve(Handler) as url:
        yield url


def visit(browser: Any, url: str, ready: str) -> None:  # noqa: F811
    """Load the page, click, hide the page (agents send their final vitals), then leave."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(ready, timeout=30_000)
    page.wait_for_timeout(500)  # the late error and the fetch
    page.click("#buy")
    page.wait_for_timeout(300)
    # a tab switch: headless Chromium keeps every page visible (bring_to_front on another
    # page does not hide this one), so the page is told it is hidden as the browser would
    # tell it; web-vitals (in Faro) reports INP then, and Faro sends it
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(500)
    page.goto("about:blank")  # pagehide: the unload beacons
    context.close()


def stored(server: RunningServer, site: str) -> list[dict[str, Any]]:
    return server.store.query("SELECT * FROM rum.events FINAL WHERE site = {s:String} ORDER BY ts",
                              {"s": site})


@pytest.mark.parametrize("agent", ["faro", "boomerang"])
def test_real_agent_in_chromium_lands_vitals_errors_and_sessions(
        rum_server: RunningServer, browser: Any, agent: str) -> None:  # noqa: F811
    site = f"agents-{agent}"
    ready = ("document.readyState === 'complete'" if agent == "faro"
             else "window.BOOMR && BOOMR.hasSentPageLoadBeacon && BOOMR.hasSentPageLoadBeacon()")
    with proxy(rum_server.base_url, visitor_ip("BR", "SP")) as collector, agent_site(collector) as shop:
        visit(browser, f"{shop}/{agent}/", ready)

    def complete() -> list[dict[str, Any]] | None:
        got = stored(rum_server, site)
        views = [r for r in got if r["kind"] == "pageview"]
        errors = [r for r in got if r["kind"] == "error"]
        has = {k for r in views for k in ("lcp", "fcp", "ttfb", "inp") if r[k] is not None}
        return got if has == {"lcp", "fcp", "ttfb", "inp"} and len(errors) >= 2 else None

    try:
        got = wait_until(complete, timeout=30)
    except AssertionError:
        raise AssertionError([{k: v for k, v in r.items() if v not in (None, "", 0)}
                              for r in stored(rum_server, site)]) from None
    views = [r for r in got if r["kind"] == "pageview"]
    lcp = next(r for r in views if r["lcp"] is not None)
    fcp = next(r["fcp"] for r in views if r["fcp"] is not None)
    ttfb = next(r["ttfb"] for r in views if r["ttfb"] is not None)
    assert 0 < ttfb <= fcp <= lcp["lcp"] < 30_000
    assert lcp["lcp_element"]  # the hero image, named by each agent its own way
    assert {r["page_path"] for r in got} == {f"/{agent}/"}
    assert len({r["session_id"] for r in got}) == 1 and len({r["pageview_id"] for r in views}) == 1
    assert {(r["country"], r["region"]) for r in got} == {("BR", "SP")}
    assert {(r["browser"], r["is_bot"]) for r in got} == {("HeadlessChrome", 1)}  # flagged, not dropped
    messages = [r["error_message"] for r in got if r["kind"] == "error"]
    scrubbed = [m for m in messages if "checkout failed for" in m]
    assert scrubbed and not any("jane.doe" in m for m in messages), messages
    inp = next(r for r in views if r["inp"] is not None)
    assert 40 <= inp["inp"] < 5_000 and inp["inp_target"] in ("button#buy", "#buy")
