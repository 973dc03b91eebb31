"""apdex and journey on seeded data with known ground truth: find exactly what was planted."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query
from tests.conftest import RunningServer

NOW = time.time()


def event(kind: str, country: str, session: str, at: float = 0.0, **cols: Any) -> dict[str, Any]:
    ts = round(NOW - 600 + at, 3)
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": ts, "received_at": ts,
            "country": country, "session_id": session, "pageview_id": uuid.uuid4().hex, **cols}


def run(store: Store, name: str, **raw: str) -> list[dict[str, Any]]:
    spec = get_query(name)
    return spec.run(store, spec.parse({"site": "shop", **raw}))


def views(page: str, country: str, lcps: list[tuple[int, float]], **cols: Any) -> list[dict[str, Any]]:
    """Page views: (count, LCP) pairs, each with a good INP and CLS unless overridden."""
    base = {"inp": 100.0, "cls": 0.05, **cols}
    return [event("pageview", country, uuid.uuid4().hex, page_group=page, lcp=lcp, **base)
            for count, lcp in lcps for _ in range(count)]


def seed_apdex(store: Store) -> None:
    # planted: /checkout in IN: 50% satisfied, 30% tolerating, 20% frustrated -> Apdex 0.65
    rows = views("/checkout", "IN", [(100, 1000.0), (60, 5000.0), (40, 12_000.0)])
    # healthy: /home in NL: 95% satisfied, 5% tolerating -> 0.975
    rows += views("/home", "NL", [(190, 1000.0), (10, 5000.0)])
    # too few: /home in BR, 5 frustrated page views
    rows += views("/home", "BR", [(5, 12_000.0)])
    # sampled: /cart in DE, 50 satisfied at weight 1, 50 frustrated at weight 3 -> 50/200 = 0.25
    rows += views("/cart", "DE", [(50, 1000.0)], sample_weight=1.0)
    rows += views("/cart", "DE", [(50, 12_000.0)], sample_weight=3.0)
    rows += views("/home", "NL", [(3, 100_000.0)])  # outliers past the 60 s cap
    store.insert("rum.events", rows)


def test_apdex_finds_the_planted_segment(chdb_store: Store) -> None:
    seed_apdex(chdb_store)
    rows = {(r["page_group"], r["country"]): r for r in run(chdb_store, "apdex")}
    assert set(rows) == {("/checkout", "IN"), ("/home", "NL"), ("/cart", "DE")}, "BR: 5 samples"
    checkout, home = rows[("/checkout", "IN")], rows[("/home", "NL")]
    assert checkout["apdex"] == pytest.approx(0.65)
    assert (checkout["satisfied"], checkout["tolerating"], checkout["frustrated"]) == (0.5, 0.3, 0.2)
    assert checkout["rating"] == "poor" and checkout["flagged"]
    assert checkout["apdex_ci_low"] < 0.65 < checkout["apdex_ci_high"] < 0.85
    # LCP: good 0.5, NI 0 -> 0.5; INP and CLS all good -> 1: (0.5 + 1 + 1) / 3
    assert checkout["experience_score"] == pytest.approx(83.3)
    assert home["apdex"] == pytest.approx(0.975) and home["rating"] == "excellent"
    assert not home["flagged"] and home["outliers"] == 3 and home["samples"] == 200
    assert rows[("/cart", "DE")]["apdex"] == pytest.approx(0.25), "weighted by sample_weight"


def test_apdex_t_is_a_parameter_and_thin_segments_do_not_flag(chdb_store: Store) -> None:
    seed_apdex(chdb_store)
    rows = {r["country"]: r for r in run(chdb_store, "apdex", by="country", apdex_t="6000",
                                         min_samples="1")}
    # T = 6 s: 5000 ms is satisfied, 12000 ms tolerating (<= 24 s): 0.8 + 0.2 / 2
    assert rows["IN"]["apdex"] == pytest.approx(0.9)
    brazil = rows["BR"]
    assert brazil["samples"] == 5 and brazil["apdex"] == 0.5 and not brazil["flagged"]


def test_experience_score_uses_the_measured_vitals(chdb_store: Store) -> None:
    # LCP needs improvement (3000 ms -> 0.5), INP poor (900 ms -> 0), no CLS measured
    chdb_store.insert("rum.events", views("/p", "FR", [(40, 3000.0)], inp=900.0, cls=None))
    (row,) = run(chdb_store, "apdex", by="page_group")
    assert row["cls_good"] is None and row["experience_score"] == pytest.approx(25.0)


STEPS = "/product/:id,/cart,/checkout,conversion"


def funnel(country: str, sessions: int, to_cart: int, to_checkout: int, to_order: int,
           checkout_lcp: float) -> list[dict[str, Any]]:
    """`sessions` view a product; the first `to_cart` go on to the cart, and so on."""
    rows = []
    for i in range(sessions):
        sid = f"{country}-{i}"
        rows.append(event("pageview", country, sid, 0, page_group="/product/:id", lcp=2000.0))
        if i < to_cart:
            rows.append(event("pageview", country, sid, 10, page_group="/cart", lcp=1200.0))
        if i < to_checkout:
            rows.append(event("pageview", country, sid, 20, page_group="/checkout", lcp=checkout_lcp))
        if i < to_order:
            rows.append(event("conversion", country, sid, 30, conversion_value=50.0, currency="EUR"))
    return rows


def seed_journey(store: Store) -> None:
    rows = funnel("DE", 1000, 500, 400, 300, 1500.0)
    rows += funnel("FR", 1000, 500, 400, 300, 1500.0)
    # planted: BR's checkout is slow and loses sessions: 40% of the cart reach it (80% elsewhere)
    rows += funnel("BR", 1000, 500, 200, 150, 6000.0)
    rows += funnel("SE", 10, 5, 0, 0, 1500.0)  # too few to test
    # out of order (cart before product) does not reach step 2
    for i in range(50):
        rows.append(event("pageview", "DE", f"DE-x{i}", 0, page_group="/cart", lcp=1000.0))
        rows.append(event("pageview", "DE", f"DE-x{i}", 10, page_group="/product/:id", lcp=1000.0))
    store.insert("rum.events", rows)


def test_journey_finds_the_planted_drop(chdb_store: Store) -> None:
    seed_journey(chdb_store)
    rows = run(chdb_store, "journey", steps=STEPS)
    by = {(r["country"], r["step"]): r for r in rows}
    assert [by[("BR", k)]["sessions"] for k in (1, 2, 3, 4)] == [1000, 500, 200, 150]
    assert [by[("DE", k)]["sessions"] for k in (1, 2, 3, 4)] == [1050, 500, 400, 300]
    assert by[("BR", 3)]["conversion_from_previous"] == 0.4
    assert by[("BR", 3)]["rest_conversion_from_previous"] == pytest.approx(0.8, abs=0.01)
    assert by[("BR", 4)]["conversion_from_start"] == 0.15
    assert {k for k, r in by.items() if r["worse_than_rest"]} == {("BR", 3)}
    assert by[("BR", 3)]["lcp_p50"] == 6000 and by[("DE", 3)]["lcp_p50"] == 1500
    assert by[("BR", 4)]["lcp_p50"] is None, "an event step has no LCP"
    assert by[("BR", 3)]["step_name"] == "/checkout"


def test_journey_without_segments_and_with_custom_events(chdb_store: Store) -> None:
    rows = []
    for i in range(20):
        rows.append(event("pageview", "DE", f"s{i}", 0, page_group="/cart", lcp=900.0))
        if i % 2:
            rows.append(event("custom", "DE", f"s{i}", 5, event_name="add_coupon"))
    chdb_store.insert("rum.events", rows)
    steps = run(chdb_store, "journey", steps="/cart,add_coupon", by="none")
    assert [(r["step"], r["sessions"]) for r in steps] == [(1, 20), (2, 10)]
    assert "country" not in steps[0] and not any(r["worse_than_rest"] for r in steps)


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("apdex", {"apdex_t": "0"}, "apdex_t:"),
    ("apdex", {"apdex_t": "fast"}, "apdex_t:"),
    ("apdex", {"apdex_t": "nan"}, "apdex_t:"),
    ("apdex", {"by": "page_group,country,city"}, "by:"),
    ("journey", {"steps": "/cart"}, "steps:"),
    ("journey", {"steps": "/a,/b,/a"}, "steps:"),
    ("journey", {"steps": ",".join(f"/s{i}" for i in range(9))}, "steps:"),
    ("journey", {"steps": "/a,"}, "steps:"),
    ("journey", {"by": "page_group"}, "by:"),
    ("journey", {"by": "country,browser"}, "by:"),
    ("journey", {"within": "10s"}, "within:"),
])
def test_parameter_validation(name: str, raw: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        get_query(name).parse(raw)


def test_http_api_serves_journey_and_apdex(rum_server: RunningServer) -> None:
    seed_journey(rum_server.store)
    reply = httpx.get(f"{rum_server.base_url}/v1/query/journey",
                      params={"site": "shop", "steps": STEPS, "by": "country"})
    assert reply.status_code == 200
    flagged = [(r["country"], r["step_name"]) for r in reply.json()["rows"] if r["worse_than_rest"]]
    assert flagged == [("BR", "/checkout")]
    assert reply.json()["params"]["steps"] == STEPS.split(",")
    apdex = httpx.get(f"{rum_server.base_url}/v1/query/apdex", params={"by": "page_group"})
    assert apdex.status_code == 200 and {r["page_group"] for r in apdex.json()["rows"]} == {
        "/product/:id", "/cart", "/checkout"}
    bad = httpx.get(f"{rum_server.base_url}/v1/query/journey", params={"steps": "/only"})
    assert bad.status_code == 400 and "steps:" in bad.json()["detail"]
