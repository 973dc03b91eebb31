"""The demo's traffic model: protocol-correct envelopes, incidents that change the traffic."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import geoip2.database

from collector.protocol import validate_envelope
from demo.geodb import build_geoip_db, visitor_ip
from demo.incidents import Incidents, schedule
from demo.traffic import envelope, journey, pick_visitor
from demo.world import PLACES, place

Visit = tuple[str, float, list[dict[str, Any]]]  # place key, LCP, events of one page view


def _visits(incidents: Incidents, elapsed: float, n: int, seed: int = 1) -> list[Visit]:
    rng = random.Random(seed)
    out: list[Visit] = []
    for _ in range(n):
        visitor = pick_visitor(rng, now=0)
        for view in journey(rng, visitor, incidents, elapsed, time.time() * 1000):
            out.append((visitor.place.key, view.vitals["lcp"], view.events))
    return out


def test_every_envelope_passes_the_collectors_validation() -> None:
    rng = random.Random(3)
    incidents = Incidents(schedule(60))
    for _ in range(300):
        visitor = pick_visitor(rng)
        for view in journey(rng, visitor, incidents, 59, time.time() * 1000):
            validate_envelope(envelope(visitor, view, time.time() * 1000))


def test_incidents_slow_the_planted_region_and_break_logins_and_checkout() -> None:
    incidents = Incidents(schedule(60, slow_place="BR-SP", login_country="DE"))
    before, after = _visits(incidents, 0, 3000), _visits(incidents, 60, 3000)

    def p75(rows: list[Visit], key: str) -> float:
        values = sorted(lcp for where, lcp, _ in rows if where == key)
        return values[int(0.75 * len(values))]

    assert p75(before, "BR-SP") < 2500 < 4000 < p75(after, "BR-SP")
    assert p75(after, "GB-ENG") < 2500

    def messages(rows: list[Visit]) -> list[str]:
        return [e.get("message", "") for _, _, events in rows for e in events if e["t"] == "error"]

    assert not any("renderTotals" in m or "'total'" in m for m in messages(before))
    assert any("'total'" in m for m in messages(after))

    def failure_rate(rows: list[Visit], country: str) -> float:
        logins = [e["success"] for where, _, events in rows if where.startswith(country + "-")
                  for e in events if e["t"] == "login"]
        return 1 - sum(logins) / len(logins)

    assert failure_rate(before, "DE") < 0.15 < 0.3 < failure_rate(after, "DE")


def test_slower_pages_convert_less() -> None:
    rows = _visits(Incidents([]), 0, 4000)
    fast = [events for _, lcp, events in rows if lcp < 1500]
    slow = [events for _, lcp, events in rows if lcp > 3000]

    def conversion_rate(views: list[list[dict[str, Any]]]) -> float:
        return sum(any(e["t"] == "conversion" for e in ev) for ev in views) / len(views)

    assert conversion_rate(slow) < conversion_rate(fast)


def test_geoip_db_places_every_range(tmp_path: Path) -> None:
    db = build_geoip_db(tmp_path / "demo.mmdb")
    rng = random.Random(1)
    with geoip2.database.Reader(str(db)) as reader:
        for p in PLACES:
            city = reader.city(visitor_ip(p, rng))
            assert (city.country.iso_code, city.subdivisions.most_specific.iso_code) == (
                p.country, p.region)
    assert place("BR-SP").country == "BR"
