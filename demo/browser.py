"""The real-browser engine: Debian chromium through Playwright visits the demo shop with the
real agent, each visitor's network emulated over CDP (latency, bandwidth) from its profile."""

from __future__ import annotations

import logging
import os
import random
import threading
from typing import Any
from urllib.parse import urlsplit

from demo.stats import Stats
from demo.traffic import Visitor, pick_visitor

log = logging.getLogger(__name__)
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_available() -> bool:
    """True when Debian's chromium and the Playwright package are both installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK)


class BrowserEngine:
    """Runs visits one after another in a thread until stopped."""

    def __init__(self, shop: str, rng: random.Random, stats: Stats) -> None:
        self.shop = shop.rstrip("/")
        self.rng = rng
        self.stats = stats
        self.stop = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="demo-browser")

    def start(self) -> None:
        """Launch the browser thread."""
        self._thread.start()

    def close(self, timeout: float = 20.0) -> None:
        """Stop after the visit in progress (its final beacon is sent) and close chromium."""
        self.stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
                try:
                    while not self.stop.is_set():
                        self._visit(browser, pick_visitor(self.rng))
                finally:
                    browser.close()
        except Exception as exc:  # the demo goes on without the browser engine
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.warning("browser engine stopped", extra={"error": self.error})

    def _visit(self, browser: Any, visitor: Visitor) -> None:
        width, height = visitor.device.viewport
        context = browser.new_context(user_agent=visitor.device.user_agent,
                                      viewport={"width": width, "height": height})
        try:
            context.add_cookies([{"name": "demo_ip", "value": visitor.ip,
                                  "domain": urlsplit(self.shop).hostname, "path": "/"}])
            page = context.new_page()
            # the emulation sticks to the renderer: open the site first so the measured
            # navigations stay in this renderer (same origin)
            page.goto(f"{self.shop}/warmup")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            throughput = visitor.network.downlink_mbps * 125_000
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": visitor.network.rtt_ms,
                "downloadThroughput": throughput, "uploadThroughput": throughput / 4})
            self.stats.add(browser_visitors=1)
            for path in ("/", f"/product/{self.rng.randint(100, 999)}", "/cart", "/checkout"):
                if self.stop.is_set():
                    break
                page.goto(f"{self.shop}{path}", timeout=30_000)
                page.wait_for_function("window.rum && window.rum.loaded === true", timeout=30_000)
                if path == "/checkout":
                    page.click("#login")
                    page.wait_for_function(
                        "document.getElementById('status').textContent !== ''", timeout=15_000)
                    if page.is_enabled("#buy"):
                        page.click("#buy")
                else:
                    page.mouse.click(10, 200)  # an interaction, so INP has a value
            page.goto("about:blank")  # pagehide: the agent's final flush
        finally:
            context.close()
