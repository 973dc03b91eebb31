"""A corpus of beacons for the row-building equivalence test (tests/collector/test_rows.py).

Each case is (name, body, request context). The expected rows in golden/rows.jsonl were
stored by the Python row builder this project used before ClickHouse built the rows (at
commit c469502), from exactly these cases: every event kind, attribution, sampling,
truncated strings, clock skew, stale and future events, events without a page view.
"""

from __future__ import annotations

from typing import Any

# every case is received at this instant; client clocks are set relative to it
RECEIVED_MS = 1_764_000_000_123.0
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Mobile Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
BOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


def _base(n: int, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "v": 1, "site": "shop-eu", "sid": f"sess-{n}", "pid": f"pv-{n}", "seq": 0,
        "sent_at": RECEIVED_MS - 40,
        "url": f"https://shop.example.com/product/{1000 + n}?utm_source=mail&email=a@b.c#top",
    }
    body.update(fields)
    return body


_NAV = {"type": "navigate", "dns": 12, "connect": 40, "tls": 25, "request": 180,
        "response": 35, "dom_interactive": 650, "dom_complete": 1400, "load": 1450,
        "transfer_size": 18250}
_VITALS = {"lcp": 2456.7, "inp": 184, "cls": 0.071, "fcp": 1200.25, "ttfb": 310.5}
_NET = {"type": "4g", "rtt": 50, "downlink": 10, "save_data": False}
_T = RECEIVED_MS - 40  # the client's "now" when its clock is right


def _events(ts: float) -> list[dict[str, Any]]:
    return [
        {"t": "error", "ts": ts - 900, "message": "TypeError: x is undefined for jane@example.com",
         "source": "https://shop.example.com/static/app.js?v=3", "line": 10, "col": 5,
         "stack": "TypeError: x is undefined\n    at buy (https://shop.example.com/app.js:10:5)"},
        {"t": "api", "ts": ts - 800, "method": "post",
         "url": "https://shop.example.com/api/cart/991?token=abc", "status": 503, "duration": 812},
        {"t": "api", "ts": ts - 700, "url": "/api/stock", "status": 0},
        {"t": "login", "ts": ts - 600, "success": False, "reason": "invalid_password"},
        {"t": "login", "ts": ts - 590, "success": True},
        {"t": "conversion", "ts": ts - 500, "value": 49.95, "currency": "eur"},
        {"t": "conversion", "ts": ts - 400, "value": 0},
        {"t": "custom", "ts": ts - 300, "name": "checkout_step",
         "props": {"step": 2, "express": True, "coupon": "WINTER", "password": "hunter2"}},
        {"t": "custom", "name": "no_time"},
    ]


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("bench_like", _base(1, ref="https://www.google.com/search?q=x", nav=_NAV, vitals=_VITALS,
                         attribution={"lcp_element": "main>div.gallery>img.hero",
                                      "inp_target": "button#add"},
                         net=_NET, perf={"long_tasks": 3, "tbt": 140, "rage_clicks": 0},
                         events=_events(_T)[:2]),
     {"ip": "177.10.3.4", "ua": CHROME}),
    ("every_event_kind", _base(2, seq=3, user="user-42@example.com", nav=_NAV, vitals=_VITALS,
                               events=_events(_T)),
     {"ip": "81.2.69.7", "ua": ANDROID}),
    ("attribution_full", _base(3, vitals={"lcp": 4100.5, "cls": 0.3},
                               attribution={"lcp_element": "img#hero" + "x" * 300,
                                            "lcp_resource": "https://cdn.example.com/hero.jpg?w=800",
                                            "inp_target": "div.menu", "cls_source": "div.ad"}),
     {"ip": "103.21.244.9", "ua": IPHONE}),
    ("sampled", _base(4, sample_rate=0.25, vitals={"lcp": 1800}, net={"type": "3g", "rtt": 300}),
     {"ip": "145.100.1.1", "ua": CHROME}),
    ("truncated", _base(5, url="https://shop.example.com/" + "a" * 3000,
                        ref="https://ref.example.org/" + "r" * 3000, user="u" * 300,
                        vitals={"ttfb": 90},
                        events=[{"t": "error", "ts": _T, "message": "m" * 2000,
                                 "source": "https://x.example/" + "s" * 3000,
                                 "stack": "s" * 9000},
                                {"t": "api", "ts": _T, "method": "PROPFINDEXTENDEDLONG",
                                 "url": "/api/" + "p" * 3000, "status": 404},
                                {"t": "login", "ts": _T, "success": False, "reason": "r" * 300},
                                {"t": "custom", "ts": _T, "name": "n",
                                 "props": {"k" * 100: "v" * 400}}]),
     {"ip": "89.160.20.5", "ua": CHROME}),
    ("clock_behind", _base(6, sent_at=RECEIVED_MS - 3_600_000, vitals={"lcp": 900},
                           events=[{"t": "error", "ts": RECEIVED_MS - 3_600_500,
                                    "message": "late clock"}]),
     {"ip": "177.10.9.9", "ua": ANDROID}),
    ("clock_ahead", _base(7, sent_at=RECEIVED_MS + 7_200_000,
                          events=[{"t": "login", "ts": RECEIVED_MS + 7_199_000, "success": True}]),
     {"ip": "103.22.0.8", "ua": IPHONE}),
    ("stale_and_future", _base(8, vitals={"inp": 560},
                               events=[{"t": "error", "ts": _T - 2 * 86_400_000, "message": "old"},
                                       {"t": "error", "ts": _T + 3_600_000, "message": "future"},
                                       {"t": "api", "ts": _T - 10, "url": "/api/ok", "status": 500}]),
     {"ip": "81.2.69.8", "ua": CHROME}),
    ("events_only", _base(9, seq=2, events=[{"t": "conversion", "ts": _T - 5, "value": 120,
                                               "currency": "USD"}]),
     {"ip": "145.100.9.9", "ua": CHROME}),
    ("nulls_absent", _base(10, ref=None, user=None, nav={"type": None, "dns": None, "load": 900},
                           vitals={"lcp": None, "ttfb": 77}, net={"rtt": 20, "downlink": None},
                           perf={"tbt": 35.5}),
     {"ip": None, "ua": ""}),
    ("bot_and_unknown_ip", _base(11, vitals={"lcp": 300}), {"ip": "8.8.8.8", "ua": BOT}),
    ("spa_soft_nav", _base(12, url="https://shop.example.com/order/8812/items?x=1",
                           nav={"type": "soft"}, vitals={"inp": 40}, perf={"rage_clicks": 4},
                           net={"save_data": True}),
     {"ip": "177.10.3.4", "ua": IPHONE}),
    ("float_integers", _base(13, vitals={"lcp": 1000, "cls": 0}, nav={"transfer_size": 1234.0}),
     {"ip": "81.2.69.9", "ua": CHROME}),
]
