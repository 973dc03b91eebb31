"""The traffic model: who visits (place, network, device), how fast each page is for them,
how far they get through the shop (conversions fall with load time), and the envelopes
their browser would send (docs/beacon-protocol.md)."""

from __future__ import annotations

import math
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from demo.geodb import visitor_ip
from demo.incidents import Incidents
from demo.world import ANDROID, DESKTOP, IPAD, IPHONE, MAC, NETWORKS, PLACES, Device, Network, Place

SITE = "demo-shop"
ORIGIN = "https://shop.demo.example"
# page -> (critical bytes for the LCP element, server time ms): what makes it slow
PAGES = {"/": (180_000, 90), "/product/:id": (260_000, 140), "/cart": (90_000, 110),
         "/checkout": (120_000, 180)}
# probability of going on to the next step for a page that painted in 1 s; falls with LCP
NEXT_STEP = {"/": 0.85, "/product/:id": 0.55, "/cart": 0.75, "/checkout": 0.8}
LOGIN_FAILURE_BASE = 0.04
SLOW_REGION_EXTRA_MS = 3800.0  # what the degraded CDN edge adds to the LCP image


@dataclass(frozen=True)
class Visitor:
    """One visiting browser."""

    place: Place
    network: Network
    device: Device
    ip: str
    session: str


@dataclass
class PageView:
    """One page view's measurements and events, as the agent would report them."""

    path: str
    page_group: str
    vitals: dict[str, float]
    nav: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


def diurnal(hour: float) -> float:
    """Relative traffic at a local hour: quiet at 4 am, peak in the evening."""
    return 0.25 + 0.75 * math.sin(math.pi * ((hour - 4) % 24) / 24) ** 2


def pick_visitor(rng: random.Random, now: float | None = None) -> Visitor:
    """A visitor drawn by place share (weighted by local time of day), network and device."""
    utc_hour = ((time.time() if now is None else now) / 3600) % 24
    weights = [p.share * diurnal(utc_hour + p.utc_offset) for p in PLACES]
    place = rng.choices(PLACES, weights)[0]
    names, net_weights = zip(*place.networks, strict=True)
    network = NETWORKS[rng.choices(names, net_weights)[0]]
    if rng.random() < place.mobile_share:
        device = rng.choice((ANDROID, ANDROID, IPHONE)) if rng.random() > 0.1 else IPAD
    else:
        device = DESKTOP if rng.random() < 0.75 else MAC
    if device.device_class == "mobile" and network.name in ("fiber", "cable"):
        network = NETWORKS["4g"]  # phones on the move
    return Visitor(place, network, device, visitor_ip(place, rng), "d" + secrets.token_hex(8))


def _noise(rng: random.Random, sigma: float = 0.3) -> float:
    return math.exp(rng.gauss(0.0, sigma))


def measure(rng: random.Random, visitor: Visitor, group: str, slow_edge: bool) -> tuple[
        dict[str, float], dict[str, Any]]:
    """Vitals and navigation timing of one page for this visitor (ms, CLS unitless)."""
    rtt = visitor.network.rtt_ms * _noise(rng, 0.25)
    bytes_per_ms = visitor.network.downlink_mbps * 125.0 * _noise(rng, 0.3)
    critical, server = PAGES[group]
    server_ms = server * _noise(rng, 0.4)
    dns, connect, tls = rtt * 0.5, rtt, rtt
    ttfb = dns + connect + tls + rtt + server_ms
    cpu = visitor.device.cpu_factor
    fcp = ttfb + rtt + 0.25 * critical / bytes_per_ms + 180 * cpu * _noise(rng, 0.3)
    lcp = fcp + 0.75 * critical / bytes_per_ms + rtt + 120 * cpu * _noise(rng, 0.4)
    if slow_edge:
        lcp += SLOW_REGION_EXTRA_MS * _noise(rng, 0.25)
    inp = 60 * cpu * _noise(rng, 0.5) + (40 if group == "/checkout" else 0)
    cls = min(2.0, 0.03 * _noise(rng, 0.8) * (2.0 if visitor.device.device_class == "mobile" else 1))
    vitals = {"lcp": round(lcp, 1), "fcp": round(fcp, 1), "ttfb": round(ttfb, 1),
              "inp": round(inp, 1), "cls": round(cls, 4)}
    transfer = int(critical * 0.3)
    nav = {"type": "navigate", "dns": round(dns, 1), "connect": round(connect + tls, 1),
           "tls": round(tls, 1), "request": round(rtt + server_ms, 1),
           "response": round(transfer / bytes_per_ms, 1),
           "dom_interactive": round(fcp + 50, 1), "dom_complete": round(lcp + 200, 1),
           "load": round(lcp + 220, 1), "transfer_size": transfer}
    return vitals, nav


def journey(rng: random.Random, visitor: Visitor, incidents: Incidents, elapsed: float,
            now_ms: float) -> list[PageView]:
    """The page views of one visit: home, products, cart, checkout (login, purchase)."""
    views: list[PageView] = []
    slow_edge = incidents.lcp_slowdown(visitor.place.key, elapsed)
    steps = ["/", "/product/:id", "/cart", "/checkout"]
    for group in steps:
        vitals, nav = measure(rng, visitor, group, slow_edge)
        path = f"/product/{rng.randint(100, 999)}" if group == "/product/:id" else group
        view = PageView(path, group, vitals, nav)
        views.append(view)
        if rng.random() < 0.02:
            view.events.append({"t": "error", "ts": now_ms, "message":
                                "ResizeObserver loop completed with undelivered notifications"})
        if group == "/cart" and rng.random() < 0.03:
            view.events.append({"t": "api", "ts": now_ms, "method": "POST",
                                "url": f"{ORIGIN}/api/cart/{rng.randint(1, 99999)}",
                                "status": 503, "duration": round(800 * _noise(rng), 1)})
        if group == "/checkout":
            _checkout(rng, visitor, view, incidents, elapsed, now_ms)
            break
        keep_going = NEXT_STEP[group] * math.exp(-max(0.0, vitals["lcp"] - 1000) / 5000)
        if rng.random() >= keep_going:
            break
        if group == "/product/:id" and rng.random() < 0.3:  # a second product first
            vitals, nav = measure(rng, visitor, group, slow_edge)
            views.append(PageView(f"/product/{rng.randint(100, 999)}", group, vitals, nav))
    return views


def _checkout(rng: random.Random, visitor: Visitor, view: PageView, incidents: Incidents,
              elapsed: float, now_ms: float) -> None:
    broken_login = incidents.login_broken(visitor.place.country, elapsed)
    failure_rate = 0.55 if broken_login else LOGIN_FAILURE_BASE
    logged_in = False
    for _attempt in range(2):
        if rng.random() >= failure_rate:
            view.events.append({"t": "login", "ts": now_ms, "success": True})
            logged_in = True
            break
        reason = "http_504" if broken_login else "http_401"
        view.events.append({"t": "login", "ts": now_ms, "success": False, "reason": reason})
    if incidents.checkout_broken(elapsed) and rng.random() < 0.6:
        view.events.append({
            "t": "error", "ts": now_ms,
            "message": "TypeError: Cannot read properties of undefined (reading 'total')",
            "source": f"{ORIGIN}/static/checkout.js", "line": 88, "col": 17,
            "stack": "TypeError: Cannot read properties of undefined (reading 'total')\n"
                     f"    at renderTotals ({ORIGIN}/static/checkout.js:88:17)"})
        return  # the broken page cannot take the order
    buys = NEXT_STEP["/checkout"] * math.exp(-max(0.0, view.vitals["lcp"] - 1000) / 5000)
    if logged_in and rng.random() < buys:
        view.events.append({"t": "conversion", "ts": now_ms,
                            "value": round(rng.uniform(19, 240), 2), "currency": "EUR"})


def envelope(visitor: Visitor, view: PageView, now_ms: float) -> dict[str, Any]:
    """The v1 envelope the agent would send for this page view (one flush).

    Its events happened on the page, before the flush: they are stamped 20 ms apart just
    before `now_ms` (a visit's views are drawn at once and sent as it is walked, the
    previous one at least 250 ms earlier: demo/synthetic.py's think time)."""
    events = [{**event, "ts": now_ms - 20.0 * (len(view.events) - i)}
              for i, event in enumerate(view.events)]
    return {
        "v": 1, "site": SITE, "sid": visitor.session, "pid": "p" + secrets.token_hex(8),
        "seq": 0, "sent_at": now_ms, "url": ORIGIN + view.path,
        "ref": "https://www.google.com/" if view.path == "/" else ORIGIN + "/",
        "nav": view.nav, "vitals": view.vitals,
        "net": {"type": visitor.network.effective_type, "rtt": round(visitor.network.rtt_ms),
                "downlink": visitor.network.downlink_mbps, "save_data": False},
        "events": events,
    }
