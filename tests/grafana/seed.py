"""Seeded events for the dashboard tests: every panel has something to show."""

from __future__ import annotations

import random
import uuid
from typing import Any

from pipeline.store import Store

SITE = "shop"
COUNTRIES = {"IN": ("MH", 4200.0), "NL": ("NH", 1600.0), "US": ("CA", 2600.0)}
DEVICES = ("mobile", "desktop")
PAGES = ("/product/:id", "/checkout")


def seed_events(store: Store, now: float) -> None:
    """Page views, logins, errors, failed API calls and conversions over the last two hours."""
    rng = random.Random(5)
    rows: list[dict[str, Any]] = []
    for i in range(720):
        country = list(COUNTRIES)[i % 3]
        region, lcp_p75 = COUNTRIES[country]
        at = round(now - 7200 + i * 10, 3)
        session = f"s{i % 240}"
        common = {"site": SITE, "ts": at, "received_at": at, "country": country,
                  "region": region, "device_class": DEVICES[i % 2],
                  "page_group": PAGES[(i // 2) % 2], "session_id": session,
                  "pageview_id": f"p{i}", "browser": "Chrome", "os": "Windows"}
        lcp = lcp_p75 * rng.uniform(0.5, 1.25)
        rows.append(_row("pageview", common, lcp=lcp, inp=lcp / 20, cls=rng.uniform(0, 0.4),
                         ttfb=lcp / 5, fcp=lcp / 2))
        if i % 4 == 0:
            failed = country == "IN" or i % 12 == 0
            rows.append(_row("login", common, login_success=0 if failed else 1,
                             login_reason="bad_password" if failed else ""))
        if i % 9 == 0:
            rows.append(_row("error", common, error_message=f"TypeError: x is undefined ({i})",
                             error_stack="TypeError\n    at render (app.js:10:5)"))
        if i % 11 == 0:
            rows.append(_row("api", common, api_method="GET", api_path=f"/api/cart/{i}",
                             api_status=503, api_duration=250.0))
        if i % 5 == 0:
            rows.append(_row("conversion", common, conversion_value=19.5, currency="EUR"))
    store.insert("rum.events", rows)


def _row(kind: str, common: dict[str, Any], **cols: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "kind": kind, **common, **cols}
