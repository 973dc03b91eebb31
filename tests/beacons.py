"""Protocol-correct beacon bodies for tests."""

from __future__ import annotations

import itertools
import time
from typing import Any

_ids = itertools.count()


def envelope(**fields: Any) -> dict[str, Any]:
    """A valid v1 envelope with a fresh session/page id; `fields` override or add."""
    n = next(_ids)
    body: dict[str, Any] = {
        "v": 1, "site": "shop-eu", "sid": f"s{n}", "pid": f"p{n}", "seq": 0,
        "sent_at": time.time() * 1000,
        "url": "https://shop.example.com/product/1234?utm_source=mail&email=a@b.c#reviews",
        "nav": {"type": "navigate", "dns": 10, "connect": 30, "tls": 20, "request": 150,
                "response": 30, "dom_interactive": 600, "dom_complete": 1300, "load": 1350,
                "transfer_size": 18000},
        "vitals": {"lcp": 2000, "inp": 120, "cls": 0.05, "fcp": 900, "ttfb": 300},
        "net": {"type": "4g", "rtt": 50, "downlink": 10, "save_data": False},
    }
    body.update(fields)
    return body


def all_event_kinds(ts: float | None = None) -> list[dict[str, Any]]:
    """One event of every kind the protocol knows."""
    ts = ts or time.time() * 1000
    return [
        {"t": "error", "ts": ts, "message": "TypeError: x is undefined",
         "source": "https://shop.example.com/app.js?v=3", "line": 10, "col": 5,
         "stack": "TypeError: x is undefined\n at buy (app.js:10:5)"},
        {"t": "api", "ts": ts, "method": "post", "url": "https://shop.example.com/api/cart/991?token=abc",
         "status": 503, "duration": 812},
        {"t": "login", "ts": ts, "success": False, "reason": "invalid_password"},
        {"t": "conversion", "ts": ts, "value": 49.95, "currency": "eur"},
        {"t": "custom", "ts": ts, "name": "checkout_step", "props": {"step": 2, "express": True}},
    ]
