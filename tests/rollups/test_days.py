"""Day rows: the vitals, segments, pages and sessions rollups add up each whole UTC day's
hours, and readers take one day row per cell instead of 24 hourly rows. The answers are the
same as from raw events (identical rows; the session rollup's revenue within float
rounding), an hour rolled again makes readers take that day's hours until the day is added
up again, and the hours' own rows are left as they were."""

from __future__ import annotations

import dataclasses
import random
import time
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import DAY_MS, HOUR_MS, PAGES, SEGMENTS, SESSIONS, VITALS, Rollup
from tests.queries.test_session_rollup import raw_and_rolled, same, sessions
from tests.rollups.test_segments import page_view

# the questions the vitals, segments and pages rollups answer, each over the planted days
QUESTIONS = [("slow-regions", {"why": "true"}), ("slow-segments", {"by": "country,region", "why": "true"}),
             ("slow-segments", {"by": "device_class", "metric": "inp"}), ("apdex", {"by": "page_group"}),
             ("slow-pages", {}), ("slow-pages", {"country": "BR", "device": "mobile"})]


def plant(store: Store, now: float, days: int = 3, n: int = 6000) -> None:
    """n page views spread over the `days` days before now (sessions of 4); Brazil's LCP 2x,
    so that slow-regions flags a country and explains it."""
    rng = random.Random(11)
    rows = [page_view(now - 90 - days * 86400 * i / n, rng, pageview_id=f"p{i}", session_id=f"s{i // 4}")
            for i in range(n)]
    for row in rows:
        if row["country"] == "BR":
            row["lcp"] *= 2
    store.insert("rum.events", rows)


def answers(store: Store, now: float, window: str) -> list[list[dict[str, Any]]]:
    out = []
    for name, extra in QUESTIONS:
        spec = get_query(name)
        out.append(spec.run(store, spec.parse({"window": window, "site": "shop", "min_samples": "1",
                                               **extra}), now=now))
    return out


def roll_all(roller: Roller, now: float) -> None:
    """Cycle until nothing is left over (a backfill takes a few cycles) and no session hour
    is stale."""
    for _ in range(20):
        roller.rested_ms = 0
        roller.cycle(now=now)
        if roller.settled(now=now):
            return
    raise AssertionError("the roller left work over after 20 cycles")


def only_these(monkeypatch: pytest.MonkeyPatch, days: bool) -> None:
    """The roller keeps the three rollups these questions read (the session rollup's backfill
    of a few days is slow and beside the point), adding up days or not."""
    monkeypatch.setattr("rollups.scheduler.ROLLUPS",
                        tuple(dataclasses.replace(r, days=days) for r in (VITALS, SEGMENTS, PAGES)))


def days_read(store: Store, rollup: Rollup, now: float, hours: int) -> int:
    """How many whole days the readers of a window of `hours` take from day rows."""
    until = int(now * 1000)
    rolls = coverage(store, until - hours * HOUR_MS, until, rollup)["rolls"]
    assert len(rolls) >= hours - 1, "the window is rolled"
    return rolls.count(0) // 23


@pytest.fixture
def now() -> float:
    """Some time past 06:00 UTC: the planted days' whole UTC days are inside a 3-day window."""
    t = time.time()
    return t if t % 86400 >= 6 * 3600 else t - t % 86400 - 3600


def test_whole_days_are_read_from_day_rows_with_the_same_answers(chdb_store: Store, now: float,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    plant(chdb_store, now)
    raw = answers(chdb_store, now, "3d")
    assert all(raw) and any(r["flagged"] for r in raw[0]) and any(r["why"] for r in raw[0])
    assert sum(r["pageviews"] for r in raw[4]) == 6000
    roller = Roller(chdb_store)
    only_these(monkeypatch, days=False)
    roll_all(roller, now)
    assert days_read(chdb_store, SEGMENTS, now, 72) == 0, "no day rolled: the hours are read"
    assert answers(chdb_store, now, "3d") == raw
    only_these(monkeypatch, days=True)
    roll_all(Roller(chdb_store), now)  # a process started anew: its first cycle checks every hour
    for rollup in (VITALS, SEGMENTS, PAGES):
        assert days_read(chdb_store, rollup, now, 72) == 2, rollup.name
    assert answers(chdb_store, now, "3d") == raw


def test_an_hour_rolled_again_is_read_from_its_hours_until_its_day_is_added_up_again(
        chdb_store: Store, now: float, monkeypatch: pytest.MonkeyPatch) -> None:
    plant(chdb_store, now)
    roller = Roller(chdb_store)
    only_these(monkeypatch, days=True)
    roll_all(roller, now)
    before = answers(chdb_store, now, "3d")
    assert days_read(chdb_store, SEGMENTS, now, 72) == 2
    # 30 late page views in Brazil, in the middle of yesterday (UTC): that hour's roll and
    # so its day's rows no longer count them
    noon = (int(now) // 86400 - 1) * 86400 + 12 * 3600
    rng = random.Random(3)
    chdb_store.insert("rum.events", [page_view(noon + 60 * i, rng, country="BR", region="SP",
                                               lcp=9000.0) for i in range(30)])
    only_these(monkeypatch, days=False)
    roller.cycle(now=now + 1)  # the hour is rolled again, its day not (yet)
    for rollup in (VITALS, SEGMENTS, PAGES):
        assert days_read(chdb_store, rollup, now, 72) == 1, "yesterday is read from its hours"
    hourly = answers(chdb_store, now, "3d")
    brazil = [r for r in hourly[0] if r["level"] == "country" and r["country"] == "BR"][0]
    was = [r for r in before[0] if r["level"] == "country" and r["country"] == "BR"][0]
    assert brazil["samples"] == was["samples"] + 30
    only_these(monkeypatch, days=True)
    roll_all(roller, now + 2)
    for rollup in (VITALS, SEGMENTS, PAGES):
        assert days_read(chdb_store, rollup, now, 72) == 2, "yesterday added up again"
    assert answers(chdb_store, now, "3d") == hourly


def test_a_day_row_is_the_sum_of_its_hours(chdb_store: Store, now: float,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cell's day row holds exactly its hours' counts, bucket by bucket, and the
    hours' own rows stay (a window starting inside the day reads them)."""
    plant(chdb_store, now)
    only_these(monkeypatch, days=True)
    roll_all(Roller(chdb_store), now)
    day = (int(now * 1000) // DAY_MS - 1) * DAY_MS
    cells = chdb_store.query(
        "SELECT toUnixTimestamp(hour) % 3600 = 0 AS hourly, metric, set, vals, sum(samples) AS n, "
        "sumMap(buckets, counts) AS h FROM rum.segments_hourly FINAL WHERE site = 'shop' "
        "AND hour >= fromUnixTimestamp64Milli({d:Int64}, 'UTC') "
        "AND hour < fromUnixTimestamp64Milli({d:Int64} + 86400000, 'UTC') "
        "GROUP BY hourly, metric, set, vals", {"d": day})
    hours = {(c["metric"], tuple(c["set"]), tuple(c["vals"])): (c["n"], c["h"]) for c in cells if c["hourly"]}
    days = {(c["metric"], tuple(c["set"]), tuple(c["vals"])): (c["n"], c["h"]) for c in cells
            if not c["hourly"]}
    assert len(days) > 100 and days == hours


def session_answers(store: Store, now: float) -> dict[str, list[dict[str, Any]]]:
    """revenue_by_speed.sql over 3 days by each set's dimension and by none, raw and as the
    rollup's coverage plans it, and revenue-impact as served (the sums alone when the rolls
    cover the window)."""
    out = {}
    for dims in (("country", ""), ("device_class", ""), ("browser", ""), ("", "")):
        raw, rolled = raw_and_rolled(store, now, *dims, window_ms=72 * HOUR_MS)
        out[f"raw {dims}"], out[f"rolled {dims}"] = raw, rolled
    spec = get_query("revenue-impact")
    out["revenue-impact"] = spec.run(store, spec.parse({"window": "3d", "site": "shop", "by": "country",
                                                        "min_sessions": "1", "min_conversions": "1"}),
                                     now=now)
    return out


def test_the_session_rollup_reads_whole_days_as_their_hours(chdb_store: Store, now: float,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions end at midnight, so a day's sessions are each in its 'agg' rows not carried:
    their sums are the day's row, and revenue-impact and conversion-by-speed answer the same
    from it (revenue within float rounding) as from the hours and from raw events."""
    rows = [r for k in range(9) for r in sessions(now - k * 8 * 3600, 250, seed=k)]
    for row in rows:  # each batch's session ids apart
        row["session_id"] = f"{row['session_id']}-{int(row['ts']) // 28800}"
    chdb_store.insert("rum.events", rows)
    # every cycle looks at every hour: a stale hour past the last 48 is otherwise rolled again
    # at the next full check only (FULL_CHECK_EVERY cycles)
    monkeypatch.setattr("rollups.scheduler.RECHECK_HOURS", 24 * 30)
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (dataclasses.replace(SESSIONS, days=False),))
    roll_all(Roller(chdb_store), now)
    assert days_read(chdb_store, SESSIONS, now, 72) == 0
    hours = session_answers(chdb_store, now)
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (SESSIONS,))
    roll_all(Roller(chdb_store), now)
    assert days_read(chdb_store, SESSIONS, now, 72) == 2
    days = session_answers(chdb_store, now)
    assert days.keys() == hours.keys()
    for key, got in days.items():
        if key.startswith("rolled"):
            same(days[key.replace("rolled", "raw")], got)
        same(hours[key], got)
    assert sum(r["sessions"] for r in days["rolled ('', '')"]) > 1000
