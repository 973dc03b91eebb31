"""The segments rollup: slow-segments answers the same from rolled hours as from raw events
(counts exact, percentiles in the exact one's bucket: within 2%, and the p75 of a
segment of 1,000 page views or more within 1%) for every grouping
the rollup keeps (both orders of a pair), with a window starting inside an hour, late rows
and duplicates; a roll made with another config is rolled again; and the dimension list
in rollups/segments.py is the one the view writes."""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.analytics import THRESHOLDS, finish_vitals
from queries.catalog import get_query
from queries.spec import load_sql
from rollups import grid, segments
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SEGMENTS
from tests.rollups.late import send_late

VALUES = {"country": ["BR", "NL", "IN"], "region": ["SP", "NH", "MH", ""],
          "device_class": ["mobile", "desktop", "tablet"], "browser": ["Chrome", "Safari"],
          "os": ["Android", "iOS", "Windows"], "page_group": ["/", "/cart", "/product/:id"],
          "connection_type": ["4g", "wifi", ""], "city": ["Recife", "Delft"]}
COUNTED = ("samples", "outliers", "above_good", "good", "needs_improvement", "poor",
           "above_good_rest", "z", "p_value", "worse_than_rest")


def page_view(ts: float, rng: random.Random, **fixed: Any) -> dict[str, Any]:
    row = {"event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview", "ts": round(ts, 3),
           "received_at": round(ts, 3), **{d: rng.choice(v) for d, v in VALUES.items()},
           "lcp": 1800 * rng.lognormvariate(0, 0.6), "inp": 120 * rng.lognormvariate(0, 0.7),
           "cls": rng.uniform(0, 0.35), "fcp": 1100 * rng.lognormvariate(0, 0.5),
           "ttfb": 400 * rng.lognormvariate(0, 0.6), "sample_weight": rng.choice([1.0, 1.0, 3.0])}
    if rng.random() < 0.01:
        row["lcp"] = 75_000.0  # an outlier, past the cap
    return {**row, **fixed}


def plant(store: Store, now: float, n: int = 6000, hours: float = 5, seed: int = 5) -> None:
    rng = random.Random(seed)
    store.insert("rum.events", [page_view(now - 90 - hours * 3600 * i / n, rng) for i in range(n)])


def ask(store: Store, now: float, by: str, metric: str, window: str = "3h") -> list[dict[str, Any]]:
    spec = get_query("slow-segments")
    values = spec.parse({"window": window, "site": "shop", "by": by, "metric": metric,
                         "min_samples": "1"})
    return spec.run(store, values, now=now)


def exact(store: Store, since_ms: int, until_ms: int, by: str, metric: str) -> list[dict[str, Any]]:
    """segment_vitals.sql over rum.events, finished: exact percentiles (no rollup involved)."""
    dims = by.split(",") + [""]
    good, poor, cap = THRESHOLDS[metric]
    rows = store.query(load_sql("segment_vitals"), {
        "site": "shop", "since_ms": since_ms, "until_ms": until_ms, "metric": metric,
        "d1": dims[0], "d2": dims[1], "good": good, "poor": poor, "cap": cap})
    return finish_vitals(rows, {"metric": metric, "min_samples": 1, "by": tuple(by.split(","))})


def close(a: float, b: float, share: float) -> bool:
    return abs(a - b) <= share * abs(b) + 1e-6


def same_as_exact(got: list[dict[str, Any]], want: list[dict[str, Any]], by: str) -> None:
    dims = by.split(",")
    keyed = {tuple(r[d] for d in dims): r for r in got}
    assert len(keyed) == len(want) > 1
    for row in want:
        mine = keyed[tuple(row[d] for d in dims)]
        for key in COUNTED:
            assert mine[key] == pytest.approx(row[key], abs=1e-12), (key, row)
        # each percentile is placed inside the bucket of the exact one (2% wide)
        for key in ("p50", "p75", "p95", "p75_ci_low", "p75_ci_high"):
            assert close(mine[key], row[key], 0.02), (key, mine[key], row[key])
        if row["samples"] >= 1000:  # placed by rank among a bucket's many: within 1%
            assert close(mine["p75"], row["p75"], 0.01), ("p75", mine["p75"], row["p75"])


@pytest.mark.parametrize("by", [",".join(g) for g in segments.GROUPINGS] + ["device_class,country"])
def test_every_dimension_answers_from_the_rollup_as_from_raw_events(chdb_store: Store, by: str) -> None:
    now = time.time()
    plant(chdb_store, now)
    until = int(now * 1000)
    before = {m: ask(chdb_store, now, by, m) for m in ("lcp", "cls")}
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, until - 3 * HOUR_MS, until, SEGMENTS)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    for metric, unrolled in before.items():
        rolled = ask(chdb_store, now, by, metric)
        assert rolled == unrolled
        same_as_exact(rolled, exact(chdb_store, until - 3 * HOUR_MS, until, by, metric), by)


def test_a_day_starts_at_the_hour_and_every_metric_answers(chdb_store: Store) -> None:
    now = time.time()
    plant(chdb_store, now, hours=30)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    since = (until - 24 * HOUR_MS) // HOUR_MS * HOUR_MS  # a window of 6 h or more is snapped
    for metric in THRESHOLDS:
        same_as_exact(ask(chdb_store, now, "device_class", metric, "24h"),
                      exact(chdb_store, since, until, "device_class", metric), "device_class")


def test_late_rows_and_duplicates(chdb_store: Store) -> None:
    """A row stored after its hour was rolled counts once the scheduler rolled the hour
    again; an event delivered twice counts once, rolled or not."""
    now = time.time()
    plant(chdb_store, now)
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    send_late(chdb_store, now, lambda ts, rng: page_view(ts, rng, country="BR", lcp=9000.0))
    until = int(now * 1000)
    stale = ask(chdb_store, now, "country", "lcp")  # the old roll of the late rows' hour
    assert roller.cycle(now=now + 1) > 0, "the hour's raw count changed: rolled again"
    got = ask(chdb_store, now, "country", "lcp")
    assert {r["country"]: r["samples"] for r in got}["BR"] == \
        {r["country"]: r["samples"] for r in stale}["BR"] + 40
    want = chdb_store.query(
        "SELECT country, count() AS n FROM rum.events FINAL WHERE kind = 'pageview' AND lcp <= 60000 "
        "AND ts >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') GROUP BY country",
        {"since": until - 3 * HOUR_MS})
    assert {r["country"]: r["samples"] for r in got} == {r["country"]: r["n"] for r in want}


@pytest.mark.parametrize("by", ["city", "browser,os"])
def test_groupings_not_kept_read_raw_events_with_exact_percentiles(chdb_store: Store, by: str) -> None:
    assert segments.grouping(*by.split(",")) is None
    now = time.time()
    plant(chdb_store, now)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    got = ask(chdb_store, now, by, "lcp")
    want = exact(chdb_store, until - 3 * HOUR_MS, until, by, "lcp")
    dims = by.split(",")
    assert [tuple(r[k] for k in [*dims, "samples", "p75"]) for r in got] == \
        [tuple(r[k] for k in [*dims, "samples", "p75"]) for r in want]


def test_a_roll_made_with_another_config_is_rolled_again_and_not_read(
        chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a grouping changes CONFIG: the hours rolled before hold no segment of it, so
    readers take raw events for them until the scheduler has rolled them again."""
    now = time.time()
    plant(chdb_store, now)
    until = int(now * 1000)
    Roller(chdb_store).cycle(now=now)
    assert len(coverage(chdb_store, until - 3 * HOUR_MS, until, SEGMENTS)["rolls"]) >= 2
    other = dataclasses.replace(SEGMENTS, binds={**SEGMENTS.binds, "config": 12345})
    assert coverage(chdb_store, until - 3 * HOUR_MS, until, other)["rolls"] == []
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (other,))
    assert Roller(chdb_store).cycle(now=now) >= 3
    assert len(coverage(chdb_store, until - 3 * HOUR_MS, until, other)["rolls"]) >= 2


def test_the_dimension_list_is_the_views(chdb_store: Store) -> None:
    """rum.vital_cells groups by the dimensions of segments.DIMENSIONS, numbered in its
    order, under exactly the groupings of segments.GROUPINGS (each segment's values are
    the page view's), and its metrics are segments.METRICS, each bucketed as the grid says."""
    now = time.time()
    row = {d: f"{d}-value" for d in segments.DIMENSIONS}
    values = {"lcp": 2400.0, "inp": 180.0, "cls": 0.12, "fcp": 1500.0, "ttfb": 700.0}
    chdb_store.insert("rum.events", [{"event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview",
                                      "ts": now - 60, "received_at": now, **row, **values}])
    cells = chdb_store.query(
        "SELECT metric, set, vals, buckets FROM rum.vital_cells(site = 'shop', from_ms = {f:Int64}, "
        "until_ms = {u:Int64}, "
        "caps = {caps:Array(Float64)}, "
        "goods = {goods:Array(Float64)}, poors = {poors:Array(Float64)}, "
        "scales = {scales:Array(Float64)}, grid_ratio = {grid_ratio:Float64}, "
        "grid_last = {grid_last:UInt16})",
        {**segments.ROLL_PARAMS, "f": int(now * 1000) - HOUR_MS, "u": int(now * 1000)})
    assert len(cells) == len(segments.METRICS) * len(segments.GROUPINGS)
    assert {tuple(c["set"]) for c in cells} == {tuple(s) for s in segments.SETS}
    for cell in cells:
        dims = tuple(segments.DIMENSIONS[p - 1] for p in cell["set"])
        assert cell["vals"] == [row[d] for d in dims]
        scale = segments.METRICS[cell["metric"]].scale
        assert cell["buckets"] == [grid.bucket(values[cell["metric"]] * scale)]


def test_a_backfill_past_the_recheck_hours_goes_on_every_cycle(chdb_store: Store,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Hours older than RECHECK_HOURS that the first (full) cycle could not roll are rolled
    by the next cycles, not an hour of cycles later at the next periodic full check: a
    7-day window is answered from the rollup once the backfill is done."""
    monkeypatch.setattr("rollups.scheduler.MAX_HOURS_PER_CYCLE", 24)
    monkeypatch.setattr("rollups.scheduler.RECHECK_HOURS", 6)
    # this rollup alone: the session rollup's backfill of these page views (one session id
    # per day: '') takes a number of cycles that depends on the time of day
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (SEGMENTS,))
    now = time.time()
    plant(chdb_store, now, n=3000, hours=100)
    roller, cycles = Roller(chdb_store), 0
    while cycles < 12:
        cycles += 1
        roller.cycle(now=now)
        if roller.settled(now=now):
            break
    assert cycles <= 6, cycles  # 101 hours, 24 a cycle
    until = int(now * 1000)
    assert len(coverage(chdb_store, until - 100 * HOUR_MS, until, SEGMENTS)["rolls"]) >= 100
