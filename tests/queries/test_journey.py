"""journey against a brute-force count: sessions spanning pages, events stamped as browsers
stamp them (a page view's row at its flush, after the events that happened on the page)."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query

NOW = time.time()
PAGES = ("/", "/product/:id", "/cart", "/checkout")


def row(kind: str, session: str, page: str, at: float, **cols: Any) -> dict[str, Any]:
    ts = round(NOW - 1800 + at, 3)
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": ts,
            "received_at": ts, "country": "DE", "session_id": session, "pageview_id": page,
            **cols}


def visit(rng: random.Random, session: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One session's rows and what happened in it, in true order (page groups, event names)."""
    rows: list[dict[str, Any]] = []
    happened: list[str] = []
    at = rng.uniform(0, 600)
    for _ in range(rng.randint(1, 6)):
        group, page = rng.choice(PAGES), uuid.uuid4().hex
        happened.append(group)
        stay = rng.uniform(3, 30)
        events = []
        if group == "/product/:id" and rng.random() < 0.5:
            events.append("add_to_cart")
        if group == "/checkout" and rng.random() < 0.6:
            events += ["conversion"] * rng.choice((1, 1, 2))  # rum('conversion') twice, too
        for k, name in enumerate(events):
            happened.append(name)
            kind = "custom" if name == "add_to_cart" else name
            extra = {"event_name": name} if kind == "custom" else {
                "conversion_value": 30.0, "currency": "EUR"}
            rows.append(row(kind, session, page, at + stay * (k + 1) / (len(events) + 2), **extra))
        # the page view's row arrives when the page is hidden; sometimes a second flush
        rows.append(row("pageview", session, page, at + stay, page_group=group, lcp=1800.0))
        if rng.random() < 0.2:
            rows.append(row("pageview", session, page, at + stay + 0.5, page_group=group,
                            lcp=1800.0))
        at += stay + rng.uniform(0.2, 5)
    return rows, happened


def reached(happened: list[str], steps: list[str]) -> int:
    """How many steps of the funnel the session went through in order (brute force)."""
    best = 0
    for start, thing in enumerate(happened):
        if thing != steps[0]:
            continue
        level = 1
        for later in happened[start + 1:]:
            if level < len(steps) and later == steps[level]:
                level += 1
        best = max(best, level)
    return best


@pytest.mark.parametrize("steps", [
    "/product/:id,/cart,/checkout,conversion",
    "/product/:id,/cart,/checkout",
    "/product/:id,add_to_cart,/checkout,conversion",
    "/,/checkout",
])
def test_journey_equals_a_brute_force_count(chdb_store: Store, steps: str) -> None:
    rng = random.Random(19)
    rows, truth = [], []
    for i in range(400):
        visit_rows, happened = visit(rng, f"s{i}")
        rows += visit_rows
        truth.append(happened)
    chdb_store.insert("rum.events", rows)
    spec = get_query("journey")
    got = spec.run(chdb_store, spec.parse({"site": "shop", "steps": steps, "by": "none"}))
    wanted = steps.split(",")
    expected = [sum(1 for h in truth if reached(h, wanted) >= k)
                for k in range(1, len(wanted) + 1)]
    assert [r["sessions"] for r in got] == expected
    assert expected[-1] > 0


def test_conversion_step_agrees_with_conversion_by_speed(chdb_store: Store) -> None:
    # every session views a product, the cart and the checkout; 40% buy on the checkout page
    rows = []
    for i in range(300):
        session, at = f"c{i}", float(i)
        for group in ("/product/:id", "/cart", "/checkout"):
            page = uuid.uuid4().hex
            if group == "/checkout" and i % 5 < 2:
                rows.append(row("conversion", session, page, at + 2, conversion_value=50.0,
                                currency="EUR"))
            rows.append(row("pageview", session, page, at + 4, page_group=group, lcp=1500.0))
            at += 5
    chdb_store.insert("rum.events", rows)
    journey, speed = get_query("journey"), get_query("conversion-by-speed")
    steps = journey.run(chdb_store, journey.parse({"site": "shop", "by": "none"}))
    buckets = speed.run(chdb_store, speed.parse({"site": "shop", "min_sessions": "1"}))
    assert [r["sessions"] for r in steps] == [300, 300, 300, 120]
    assert sum(b["converted"] for b in buckets) == 120
