"""The demo shop: home, product, cart and checkout (login, purchase), embedding the real
snippet. It is also the site's edge proxy for the agent: /rum.js and /v1/beacon are
forwarded to the collector with the visitor's IP in X-Forwarded-For, as a CDN or load
balancer would (the browsers all run on this machine, so each browser context carries
its simulated IP in a `demo_ip` cookie, which the proxy turns into the header).
"""

from __future__ import annotations

import html
import ipaddress
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collector.snippet import render_snippet
from demo.incidents import Incidents
from demo.stats import Stats
from demo.traffic import SITE, SLOW_REGION_EXTRA_MS
from demo.world import PLACES, Place

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Demo shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{snippet}
<style>body{{font-family:system-ui,sans-serif;margin:0}} header,main{{padding:1rem 2rem}}
header{{background:#123;color:#fff}} header a{{color:#fff;margin-right:1rem}}
img.hero{{width:100%;max-width:900px;height:auto;display:block}}</style>
</head><body>
<header><a href="/">Demo shop</a><a href="/product/42">Product</a><a href="/cart">Cart</a>
<a href="/checkout">Checkout</a></header>
<main><h1>{title}</h1>
<img class="hero" id="hero" src="/img/hero.svg?page={page}" width="900" height="420" alt="">
{body}</main></body></html>
"""
CHECKOUT = """<p>Sign in to pay.</p>
<button id="login">Sign in</button> <button id="buy" disabled>Pay</button>
<p id="status"></p>
<script src="/static/checkout.js{broken}"></script>
<script>
document.getElementById('login').onclick = async () => {{
  const reply = await fetch('/api/login', {{method: 'POST', body: 'user=demo'}});
  document.getElementById('status').textContent = reply.ok ? 'signed in' : 'sign-in failed';
  document.getElementById('buy').disabled = !reply.ok;
}};
document.getElementById('buy').onclick = () => {{
  rum('conversion', {{value: 59.9, currency: 'EUR'}});
  document.getElementById('status').textContent = 'thank you';
}};
</script>"""
CHECKOUT_JS = """function renderTotals(order) { return order.cart.total.toFixed(2); }
if (document.currentScript.src.indexOf('broken=1') >= 0) { renderTotals({}); }
"""
HERO = ("<svg xmlns='http://www.w3.org/2000/svg' width='900' height='420'>"
        "<rect width='900' height='420' fill='#2a6f97'/>"
        "<text x='40' y='220' font-size='64' fill='#fff'>Summer sale</text></svg>")


def place_of(ip: str | None) -> Place | None:
    """The demo place whose range holds `ip`."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for p in PLACES:
        if addr in ipaddress.ip_network(p.cidr):
            return p
    return None


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that says nothing when a client goes away mid-reply.

    A browser closing a tab (or the demo stopping it) resets its connections; the
    standard server prints a traceback for each (BrokenPipe, ConnectionReset)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def run_shop(collector: str, incidents: Incidents, elapsed: Callable[[], float],
             stats: Stats) -> Iterator[str]:
    """Serve the shop on a free loopback port until the block ends; yields its URL."""
    collector = collector.rstrip("/")
    server = QuietServer(("127.0.0.1", 0), _handler(collector, incidents, elapsed, stats))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.snippet = render_snippet(base, SITE).replace(  # type: ignore[attr-defined]
        '"endpoint"', '"login": {"url": "/api/login"}, "endpoint"')
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="demo-shop")
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def _handler(collector: str, incidents: Incidents, elapsed: Callable[[], float],
             stats: Stats) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def visitor_ip(self) -> str | None:
            cookie = SimpleCookie(self.headers.get("cookie", ""))
            return cookie["demo_ip"].value if "demo_ip" in cookie else None

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            place = place_of(self.visitor_ip())
            if path == "/rum.js":
                self._forward("GET", None)
            elif path.startswith("/img/hero.svg"):
                if place is not None and incidents.lcp_slowdown(place.key, elapsed()):
                    time.sleep(SLOW_REGION_EXTRA_MS / 1000)
                self._reply(200, HERO.encode(), "image/svg+xml")
            elif path == "/static/checkout.js":
                self._reply(200, CHECKOUT_JS.encode(), "text/javascript")
            elif path in ("/", "/cart", "/checkout", "/warmup") or path.startswith("/product/"):
                self._page(path)
            else:
                self._reply(404, b"not found", "text/plain")

        def _page(self, path: str) -> None:
            snippet = "" if path == "/warmup" else self.server.snippet  # type: ignore[attr-defined]
            title = {"/": "Home", "/cart": "Your cart", "/checkout": "Checkout",
                     "/warmup": "Warm-up"}.get(path, "Product " + html.escape(path.rsplit("/")[-1]))
            body = "<p>Everything you need, shipped worldwide.</p>"
            if path == "/checkout":
                body = CHECKOUT.format(broken="?broken=1" if incidents.checkout_broken(elapsed())
                                       else "")
            page = LAYOUT.format(title=title, snippet=snippet, page=html.escape(path), body=body)
            self._reply(200, page.encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if path == "/v1/beacon":
                status = self._forward("POST", body)
                stats.add(browser_accepted=int(status == 202))
            elif path == "/api/login":
                place = place_of(self.visitor_ip())
                broken = place is not None and incidents.login_broken(place.country, elapsed())
                self._reply(504 if broken else 200, b"{}", "application/json")
            else:
                self._reply(404, b"{}", "application/json")

        def _forward(self, method: str, body: bytes | None) -> int:
            """Pass the request to the collector as a trusted proxy would."""
            headers = {"user-agent": self.headers.get("user-agent", "")}
            if body is not None:
                headers["content-type"] = self.headers.get("content-type", "text/plain")
            if (ip := self.visitor_ip()) is not None:
                headers["x-forwarded-for"] = ip
            request = urllib.request.Request(collector + self.path, data=body, headers=headers,
                                             method=method)
            status: int
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    status, content = reply.status, reply.read()
                    ctype = reply.headers.get("content-type", "application/json")
            except urllib.error.HTTPError as exc:
                status, content = exc.code, exc.read()
                ctype = exc.headers.get("content-type", "application/json")
            except OSError:
                status, content, ctype = 502, b'{"error":"bad_gateway"}', "application/json"
            self._reply(status, content, ctype)
            return status

        def _reply(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.send_header("cache-control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
