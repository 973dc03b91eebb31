"""The hourly vitals rollup: slow-regions answers the same with it as from raw events,
within 1% of exact percentiles, counts a duplicated event once, and catches up with late rows."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from collector.settings import Settings
from pipeline.store import Store, StoreError
from queries.catalog import get_query
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import GRACE_MS, HOUR_MS, ROLLUPS, SESSION_REFRESH_MS, SESSIONS, VITALS, Rollup
from tests.conftest import scrape, start_server, stop_server
from tests.pipeline.stores import FaultInjectedStore

# (country, region, LCP median ms): lognormal page views, continuous values
PLANTED = [("IN", "MH", 3900.0), ("IN", "KA", 3100.0), ("NL", "NH", 1400.0), ("BR", "SP", 1700.0)]


def page_views(now_s: float, hours: float, per_region: int, seed: int = 3) -> list[dict[str, Any]]:
    """Page views spread evenly over the last `hours` (ending 2 minutes ago, past the grace)."""
    rng = random.Random(seed)
    rows = []
    for country, region, median in PLANTED:
        for i in range(per_region):
            ts = now_s - 120 - hours * 3600 * i / per_region
            lcp = median * rng.lognormvariate(0, 0.45)
            rows.append({"event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview",
                         "ts": round(ts, 3), "received_at": round(ts, 3), "country": country,
                         "region": region, "lcp": lcp, "inp": lcp / 17 * rng.uniform(0.8, 1.2),
                         "ttfb": lcp / 6 * rng.uniform(0.7, 1.3), "cls": rng.uniform(0, 0.3)})
    return rows


def answer(store: Store, window: str = "24h", now: float | None = None) -> list[dict[str, Any]]:
    spec = get_query("slow-regions")
    return spec.run(store, spec.parse({"window": window, "site": "shop", "min_samples": "30"}),
                    now=now)


def test_same_answer_with_and_without_rollup_and_within_1pct_of_exact(chdb_store: Store) -> None:
    now = time.time()
    chdb_store.insert("rum.events", page_views(now, hours=5, per_region=1500))
    raw = answer(chdb_store, now=now)
    assert coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000))["rolls"] == []
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000))
    assert len(cover["rolls"]) >= 24 and cover["rolled_until_ms"] >= int(now * 1000) - GRACE_MS - 1
    fast = answer(chdb_store, now=now)
    assert fast == raw
    exact = {(r["country"], r["region"]): r for r in chdb_store.query(
        "SELECT country, region, quantileExact(0.75)(lcp) AS lcp75, quantileExact(0.95)(lcp) AS lcp95, "
        "quantileExact(0.75)(inp) AS inp75, quantileExact(0.75)(ttfb) AS ttfb75, count() AS n "
        "FROM rum.events FINAL GROUP BY country, region")}
    regions = [r for r in fast if r["level"] == "region"]
    assert len(regions) == len(PLANTED)
    for row in regions:
        truth = exact[(row["country"], row["region"])]
        assert row["samples"] == truth["n"] == 1500
        for mine, theirs in (("lcp_p75", "lcp75"), ("inp_p75", "inp75"), ("ttfb_p75", "ttfb75")):
            assert row[mine] == pytest.approx(truth[theirs], rel=0.01), (row, mine)
        # p95: the bucket's 1% plus a rank convention (quantileExact takes the element after
        # rank level x n), which in a thin tail is another ~1%
        assert row["lcp_p95"] == pytest.approx(truth["lcp95"], rel=0.02), row
    assert fast[0]["country"] == "IN" and fast[0]["flagged"] == 1
    assert {r["region"] for r in fast if r["flagged"] and r["level"] == "region"} == {"MH", "KA"}


def test_the_raw_rest_stops_before_the_rolled_hours_without_naming_the_first_hour(
        chdb_store: Store) -> None:
    """hole_from_ms: a window that starts where the rolled hours do has no raw head, and says
    so with 0 (`ts < first_ms` would make the hour key select first_ms's hour); a window
    starting inside an hour keeps its head [from_ms, first_ms)."""
    now = time.time()
    chdb_store.insert("rum.events", page_views(now, hours=3, per_region=20))
    raw = answer(chdb_store, now=now)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    snapped = coverage(chdb_store, until - 86_400_000, until)
    assert snapped["from_ms"] == snapped["first_ms"] and snapped["hole_from_ms"] == 0
    assert snapped["rolls"]
    # half past an hour, under 6 h before now: not snapped to the hour
    inside = coverage(chdb_store, (until // HOUR_MS - 4) * HOUR_MS + HOUR_MS // 2, until)
    assert inside["from_ms"] < inside["first_ms"] == inside["hole_from_ms"]
    assert answer(chdb_store, now=now) == raw


def test_rolled_hours_are_not_read_from_raw_events(chdb_store: Store) -> None:
    """After a roll, deleting the raw rows of the rolled hours leaves the answer unchanged:
    the bound the fast path keeps is that raw rows are read only past rolled_until."""
    now = time.time()
    chdb_store.insert("rum.events", page_views(now, hours=4, per_region=400))
    Roller(chdb_store).cycle(now=now)
    before = answer(chdb_store, now=now)
    until = coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000))["rolled_until_ms"]
    chdb_store.command("ALTER TABLE rum.events DELETE WHERE ts < fromUnixTimestamp64Milli("
                       "{until:Int64}, 'UTC') SETTINGS mutations_sync = 1", {"until": until})
    assert chdb_store.query("SELECT count() AS n FROM rum.events")[0]["n"] == 0
    assert answer(chdb_store, now=now) == before


def test_duplicate_event_counts_once_and_late_rows_count_after_next_cycle(chdb_store: Store) -> None:
    now = time.time()
    rows = page_views(now, hours=3, per_region=100)
    chdb_store.insert("rum.events", rows)
    chdb_store.insert("rum.events", rows[:50])  # a resend: same event ids
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    samples = {(r["country"], r["region"]): r["samples"] for r in answer(chdb_store, now=now)}
    assert samples[("IN", "MH")] == 100 and sum(samples.values()) == 2 * 100 * len(PLANTED)
    late = page_views(now, hours=2, per_region=40, seed=9)  # stored late: in rolled hours
    chdb_store.insert("rum.events", late)
    unchanged = {(r["country"], r["region"]): r["samples"] for r in answer(chdb_store, now=now)}
    assert unchanged == samples, "late rows in rolled hours wait for the next cycle"
    assert roller.cycle(now=now + 1) >= 1
    after = {(r["country"], r["region"]): r["samples"] for r in answer(chdb_store, now=now + 1)}
    assert after[("IN", "MH")] == 140
    assert roller.cycle(now=now + 2) == 0, "nothing changed: nothing to roll"


def test_a_full_check_of_a_rolled_store_marks_nothing(chdb_store: Store) -> None:
    """Every hour of the retention is marked once: none the TTL drops as soon as it is
    marked (the oldest hour was, on every full check, so a backfill never settled)."""
    now = time.time() // 3600 * 3600 + 1800  # half past: 48 hours from the oldest kept one
    chdb_store.insert("rum.events", page_views(now, hours=3, per_region=20))
    roller = Roller(chdb_store, retention_days=2)
    assert roller.cycle(now=now) == len(ROLLUPS) * 48, "each hour of two days, once per rollup"
    roller.cycles = 0  # the next cycle checks the whole retention again
    assert roller.cycle(now=now) == 0


def test_a_window_past_the_retention_reads_the_rolled_hours(chdb_store: Store) -> None:
    """The hours before the retention have no markers (the TTL drops them): a 40-day window
    reads the rollup from the oldest kept hour on, not every hour raw."""
    now = time.time() // 3600 * 3600 + 1800
    chdb_store.insert("rum.events", page_views(now, hours=5, per_region=50))
    raw = answer(chdb_store, window="40d", now=now)
    Roller(chdb_store).cycle(now=now)
    kept = int(now * 1000 - 30 * 24 * HOUR_MS) // HOUR_MS * HOUR_MS + HOUR_MS
    cover = coverage(chdb_store, int(now * 1000) - 40 * 24 * HOUR_MS, int(now * 1000))
    assert cover["first_ms"] == kept and len(cover["rolls"]) == 30 * 24
    assert answer(chdb_store, window="40d", now=now) == raw
    assert {r["samples"] for r in raw if r["level"] == "region"} == {50}


def test_cycles_wait_after_a_costly_one(chdb_store: Store) -> None:
    """After a costly cycle the roller rests (its cycles take at most max_share of the
    time); a roller without that memory (or once the rest is over) rolls the new rows,
    the session rollup's once SESSION_REFRESH_MS has passed since its last roll."""
    now = time.time() // 3600 * 3600 + 1800  # half past: the rows' hour is the one being filled
    Roller(chdb_store).cycle(now=now)  # marks the empty hours (a backfill: never a rest after it)
    chdb_store.insert("rum.events", page_views(now, hours=0.01, per_region=40))
    roller = Roller(chdb_store, max_share=1e-9, costly_ms=0)  # every roll is "costly"
    assert roller.cycle(now=now) > 0
    chdb_store.insert("rum.events", page_views(now + 1, hours=0.01, per_region=10, seed=4))
    assert roller.cycle(now=now + 1) == 0, "resting"
    assert {r["samples"] for r in answer(chdb_store, now=now + 1) if r["level"] == "region"} == {40}
    hour = int(now * 1000) // HOUR_MS * HOUR_MS

    def covered(rollup: Rollup) -> int:
        marks = chdb_store.query(rollup.marks, {"from_ms": hour, "until_ms": hour + HOUR_MS})
        return int(marks[0]["covered"])

    before = covered(SESSIONS)
    assert Roller(chdb_store).cycle(now=now + 1) >= 1
    assert covered(VITALS) > covered(SESSIONS) == before, "sessions: rolled too lately"
    assert Roller(chdb_store).cycle(now=now + SESSION_REFRESH_MS / 1000) >= 1
    assert covered(SESSIONS) > before
    assert {r["samples"] for r in answer(chdb_store, now=now + 1) if r["level"] == "region"} == {50}


def test_long_windows_start_at_the_top_of_the_hour(chdb_store: Store) -> None:
    hour = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    now = hour / 1000 + 1800  # half past
    early = now - 6.25 * 3600  # 15 minutes past the hour, 6 h 15 min before now
    chdb_store.insert("rum.events", [{
        "event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview", "ts": early + i,
        "received_at": early + i, "country": "SE", "region": "AB", "lcp": 1000.0}
        for i in range(40)])
    assert answer(chdb_store, window="6h", now=now)[0]["samples"] == 40  # from 6:30 ago: 7 h
    assert answer(chdb_store, window="5h", now=now) == []  # short windows are exact
    Roller(chdb_store).cycle(now=now)
    assert answer(chdb_store, window="6h", now=now)[0]["samples"] == 40


@pytest.mark.parametrize("error", [StoreError("Code: 210. Connection refused (injected)"),
                                   KeyError("a bug (injected)")])
async def test_cycles_survive_a_store_outage_or_a_crash(chdb_store: Store, error: Exception) -> None:
    import asyncio

    from rollups.scheduler import RollupHooks

    class Hooks(RollupHooks):
        def __init__(self) -> None:
            self.failed, self.hours = 0, 0

        def rolled(self, hours: int, seconds: float) -> None:
            self.hours += hours

        def roll_failed(self, error: str) -> None:
            self.failed += 1

    store = FaultInjectedStore(chdb_store)
    store.read_error = error
    hooks = Hooks()
    stop = asyncio.Event()
    task = asyncio.create_task(Roller(store, hooks=hooks).run(0.05, stop))
    while hooks.failed < 2:
        await asyncio.sleep(0.02)
    store.read_error = None
    while hooks.hours == 0:
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert hooks.failed >= 2 and hooks.hours > 0


def test_serve_keeps_rollups_in_the_background(server_settings: Callable[..., Settings]) -> None:
    running = start_server(server_settings(rollup_interval=0.2))
    try:
        now = time.time()
        running.store.insert("rum.events", page_views(now, hours=2, per_region=50))
        india: dict[str, Any] = {}
        deadline = time.monotonic() + 20
        while india.get("samples") != 100 and time.monotonic() < deadline:
            time.sleep(0.1)  # late rows (stamped before the first cycle): the next cycles roll them
            reply = httpx.get(f"{running.base_url}/v1/query/slow-regions",
                              params={"site": "shop", "min_samples": "30"})
            assert reply.status_code == 200
            rows = reply.json()["rows"]
            india = next((r for r in rows if r["country"] == "IN" and not r["region"]), {})
        assert india["samples"] == 100 and rows[0]["country"] == "IN"
        cover = coverage(running.store, int(now * 1000) - 86_400_000, int(time.time() * 1000))
        assert len(cover["rolls"]) >= 24, "the API's answer came from the rollup"
        assert scrape(running.base_url)["rum_rollup_hours_total"] > 0
    finally:
        stop_server(running)
