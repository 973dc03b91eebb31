"""revenue-impact with its defaults on traffic the size of the demo's: a planted slow region
gets figures; where a figure cannot be computed, the row says why in words."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pipeline.store import Store
from queries.catalog import get_query

NOW = time.time()
# region -> (sessions, session LCP ms, converting share): fast regions convert at 20%,
# the planted slow region (30 sessions, as the demo's BR-SP) at 5%
PLACES = {("DE", "BE"): (200, 1200.0, 0.20), ("FR", "IDF"): (150, 1400.0, 0.20),
          ("BR", "SP"): (30, 5200.0, 0.05)}


def seed(store: Store, places: dict[tuple[str, str], tuple[int, float, float]]) -> None:
    rows: list[dict[str, Any]] = []
    ts = round(NOW - 600, 3)
    for (country, region), (sessions, lcp, share) in places.items():
        for i in range(sessions):
            base = {"site": "shop", "ts": ts, "received_at": ts, "country": country,
                    "region": region, "session_id": f"{country}-{region}-{i}",
                    "pageview_id": uuid.uuid4().hex}
            rows.append({**base, "event_id": str(uuid.uuid4()), "kind": "pageview",
                         "lcp": lcp * (0.9 + 0.2 * i / sessions)})
            if i < round(sessions * share):
                rows.append({**base, "event_id": str(uuid.uuid4()), "kind": "conversion",
                             "conversion_value": 50.0, "currency": "EUR"})
    store.insert("rum.events", rows)


def run(store: Store, **raw: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    spec = get_query("revenue-impact")
    rows = spec.run(store, spec.parse({"site": "shop", **raw}), now=NOW)
    return {(r["country"], r["region"], r["method"]): r for r in rows}


def test_defaults_give_figures_for_a_planted_slow_region(chdb_store: Store) -> None:
    seed(chdb_store, PLACES)
    rows = run(chdb_store)
    observed, modelled = rows[("BR", "SP", "observed")], rows[("BR", "SP", "modelled")]
    assert observed["status"] == "ok" and observed["slow"] and observed["reason"] == ""
    # the truth per window: 30 sessions x (20% - 5%) x 50 EUR = 225 EUR; the what-if
    # reads each bucket's value pooled over the site, so it lands near, not on, it
    assert observed["revenue_at_risk_per_day"] > 0 and modelled["revenue_at_risk_per_day"] > 0
    assert observed["flagged"] and modelled["flagged"]
    fast = rows[("DE", "BE", "observed")]
    assert fast["revenue_at_risk_per_day"] is None and fast["reason"].startswith("not slow: ")


def test_reasons_in_words_when_no_figure(chdb_store: Store) -> None:
    seed(chdb_store, PLACES)
    rows = run(chdb_store, min_conversions="500")
    observed = rows[("BR", "SP", "observed")]
    assert observed["revenue_at_risk_per_day"] is None
    assert observed["reason"] == ("too few conversions: 72 converting sessions on the site, "
                                  "the observed method needs 500")
    thin = run(chdb_store, min_sessions="250")  # no segment has 250 sessions
    assert set(thin) == {("BR", "SP", "observed"), ("BR", "SP", "modelled")}, "only the slow one"
    assert thin[("BR", "SP", "modelled")]["reason"] == (
        "too few sessions: 30, a figure needs 250 (--min-sessions)")


def test_no_fast_reference_in_words(chdb_store: Store) -> None:
    # the only fast region has 8 sessions, fewer than min_sessions: nothing to compare with
    seed(chdb_store, {("BR", "SP"): (30, 5200.0, 0.1), ("DE", "BE"): (8, 1200.0, 0.5)})
    rows = run(chdb_store, min_conversions="1")
    observed = rows[("BR", "SP", "observed")]
    assert observed["status"] == "no_fast_reference"
    assert observed["reason"].startswith("no fast reference: 0 sessions in segments with p75 "
                                         "LCP within 2,500 ms")
    assert rows[("BR", "SP", "modelled")]["revenue_at_risk_per_day"] > 0

def test_not_surely_slow_gets_a_figure_but_no_flag(chdb_store: Store) -> None:
    # 8 sessions, 5 of them past 2,500 ms: p75 past it, but 8 page views prove little
    places = {("DE", "BE"): (200, 1200.0, 0.20), ("BR", "RJ"): (8, 2400.0, 0.0)}
    seed(chdb_store, places)
    rows = run(chdb_store, min_sessions="5")
    rio = rows[("BR", "RJ", "modelled")]
    assert rio["p75_lcp"] > 2500 and not rio["slow"] and not rio["flagged"]
    assert rio["revenue_at_risk_per_day"] > 0
    assert rio["reason"].startswith("not surely slow: ") and "% of 8 views past 2,500 ms" in rio["reason"]
