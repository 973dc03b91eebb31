"""The parts of LCP and INP, measured by the attribution build in real Chromium, stored by
the real collector: slowness planted in one part at a time is where the parts and the
explanation (queries/why.py) put it, and the stored parts add up to the stored LCP and INP.
INP is reported when the page is hidden: headless Chromium never hides a page (a tab
switch does not), so the test tells the page it is hidden, as the browser would."""

from __future__ import annotations

import os
import random
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from queries.why import PARTS, explain
from tests.conftest import RunningServer, free_port, wait_until
from tests.js_beacon.site import QuietHandler, serve
from tests.js_beacon.test_browser_e2e import CHROMIUM, browser, rows  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                reason="Debian chromium not installed (make test installs it)")

# busy-waits, not timers: the planted work holds the main thread as a real script would.
# The plain button works 60 ms too: web-vitals leaves interactions under 40 ms out of INP,
# so without it the fast pages' INP (the baseline) came and went with the machine's load
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Parts</title>
{snippet}
{head}
</head><body style="font-size:10px">
<p>shop</p>
<img id="hero" src="/img/hero.png{img_query}" width="300" height="200">
<button id="work" style="width:40px;height:20px"
  onclick="const t = performance.now(); while (performance.now() - t < 300) {{}}
           this.textContent = 'ok'">w</button>
<button id="plain" style="width:40px;height:20px"
  onclick="const t = performance.now(); while (performance.now() - t < 60) {{}}
           this.textContent = 'ok'">p</button>
</body></html>
"""
# a parser-blocking script that arrives 0.8 s late: the preload scanner fetches the image
# meanwhile, and the image waits for the script to be painted (render delay)
BLOCK = '<script src="/slow.js"></script>'


def _png(width: int, height: int) -> bytes:
    """Random pixels: Chromium leaves low-entropy images (a flat colour) out of LCP."""
    rng = random.Random(22)
    raw = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


@contextmanager
def run_parts_shop(port: int, snippet: str) -> Iterator[str]:
    """/fast, /slow-ttfb (0.6 s before the first byte), /slow-img (the hero image 0.8 s
    late), /blocking (a script in the head 0.8 s late); all serve PAGE (/slow-inp too: its
    visit clicks the button whose handler works 300 ms)."""
    image = _png(300, 200)

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/img/"):
                if "slow" in self.path:
                    time.sleep(0.8)
                self._reply(200, image, "image/png")
                return
            if self.path.startswith("/slow.js"):
                time.sleep(0.8)
                self._reply(200, b"/* render-blocking */", "text/javascript")
                return
            if self.path.startswith("/slow-ttfb"):
                time.sleep(0.6)
            page = PAGE.format(snippet=snippet,
                               img_query="?slow" if self.path.startswith("/slow-img") else "",
                               head=BLOCK if self.path.startswith("/blocking") else "")
            self._reply(200, page.encode(), "text/html; charset=utf-8")

        def end_headers(self) -> None:
            self.send_header("cache-control", "no-store")
            super().end_headers()

    with serve(Handler, port) as url:
        yield url


SEEN_SLOW_EVENT = """(least) => Promise.race([
    new Promise((done) => new PerformanceObserver((list) => {
        if (list.getEntries().some((e) => e.duration >= least)) done(true);
    }).observe({type: 'event', buffered: true, durationThreshold: 16})),
    new Promise((done) => setTimeout(() => done(false), 10000))])"""


def _visit(browser: Any, url: str, click: str) -> Any:  # noqa: F811
    """Open, click, leave; the context stays open until the beacons are in (closing it
    could drop the last sendBeacon)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.rum && window.rum.loaded === true", timeout=30_000)
    page.wait_for_function("document.getElementById('hero').complete", timeout=30_000)
    page.click(click)
    page.wait_for_function(f"document.querySelector('{click}').textContent === 'ok'",
                           timeout=30_000)
    if click == "#work":  # Event Timing entries come after the next paint: wait for it
        # (an observer made now sees only buffered entries, of 104 ms or more)
        assert page.evaluate(SEEN_SLOW_EVENT, 250), "no event timing entry within 10 s"
    # the attribution build files the interaction when the main thread is idle
    page.evaluate("() => new Promise((done) => requestIdleCallback(done, {timeout: 5000}))")
    # the page is hidden, as a tab switch hides it: web-vitals reports INP then (headless
    # Chromium keeps every page visible, so the page is told as the browser would tell it)
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.goto("about:blank")  # pagehide: LCP and INP final, flushed
    return context


def _measured(server: RunningServer, path: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for row in rows(server, f"kind = 'pageview' AND page_path = '{path}'"):
        merged.update({k: v for k, v in row.items() if v not in (None, "")})
    return merged


LCP_PARTS = [c for c, _, _ in PARTS["lcp"]]
INP_PARTS = [c for c, _, _ in PARTS["inp"]]


def test_planted_slowness_lands_in_its_part_and_the_explanation_names_it(
        rum_server: RunningServer, browser: Any) -> None:  # noqa: F811
    snip = httpx.get(f"{rum_server.base_url}/v1/snippet",
                     params={"site": "e2e", "attribution": "true"}).text
    assert "rum.attribution.js" in snip
    paths = {"/fast": "#plain", "/slow-ttfb": "#plain", "/slow-img": "#plain",
             "/blocking": "#plain", "/slow-inp": "#work"}
    with run_parts_shop(free_port(), snip) as shop:
        contexts = [_visit(browser, f"{shop}{path}", click) for path, click in paths.items()]

    def complete(path: str) -> bool:
        got = _measured(rum_server, path)
        # INP is asserted where a click was measured against: the slow handler and /fast
        inp = ["inp", *INP_PARTS] if path in ("/fast", "/slow-inp") else []
        return all(k in got for k in ["lcp", *LCP_PARTS, *inp])

    try:
        wait_until(lambda: all(complete(p) for p in paths), timeout=30)
    except AssertionError:
        raise AssertionError({p: _measured(rum_server, p) for p in paths}) from None
    finally:
        for context in contexts:
            context.close()
    views = {p: _measured(rum_server, p) for p in paths}
    for path, v in views.items():
        # each part is rounded to a ms on its own: the sums are within a few ms
        assert abs(sum(v[c] for c in LCP_PARTS) - v["lcp"]) <= 4, (path, v)
    fast = views["/fast"]
    planted = {"/slow-ttfb": "lcp_ttfb", "/slow-img": "lcp_load_time",
               "/blocking": "lcp_render_delay"}
    for path, part in planted.items():
        v = views[path]
        why = explain("lcp", v["lcp"], v, fast)
        assert why is not None and why.part == part, (path, why, v, fast)
        assert v[part] >= fast[part] + 400, (path, v, fast)
    # INP: the 300 ms click handler is the processing part, and the explanation says so
    slow = views["/slow-inp"]
    assert slow["inp"] >= 300 and slow["inp_target"] == "#work", slow
    assert abs(sum(slow[c] for c in INP_PARTS) - slow["inp"]) <= 4, slow
    assert slow["inp_processing"] >= 290, slow
    why = explain("inp", slow["inp"], slow, fast)
    assert why is not None and why.part == "inp_processing", (why, slow, fast)
