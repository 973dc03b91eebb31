"""The hourly session rollup: revenue-impact and conversion-by-speed answer the same from it
as from raw events, with sessions that span hours, regions and the raw rest of the window."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.analytics import THRESHOLDS
from queries.catalog import get_query
from queries.revenue import SESSION_MAX_LAG_MS, _plan
from queries.spec import load_sql
from rollups.coverage import coverage, stale_hours
from rollups.scheduler import Roller
from rollups.tables import (
    GRACE_MS,
    HOUR_MS,
    SESSION_LCP_CAP,
    SESSION_REFRESH_MS,
    SESSION_SETS,
    SESSIONS,
    session_set,
)
from tests.pipeline.stores import RecordingStore

COUNTRIES = {"IN": ("MH", "KA"), "NL": ("NH",), "BR": ("SP", "RJ")}


def event(kind: str, ts: float, session: str, country: str, region: str, weight: float,
          **cols: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": round(ts, 3),
            "received_at": round(ts, 3), "session_id": session, "country": country,
            "region": region, "sample_weight": weight, **cols}


def sessions(now: float, n: int, seed: int = 5) -> list[dict[str, Any]]:
    """Sessions of 1-6 page views over up to 3 hours of the last 5 (some crossing hours, some
    changing region, some coming back hours later), conversions in any of their hours, a few
    sessions still going in the last seconds (past what a roll covers)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        country = rng.choice(list(COUNTRIES))
        region = rng.choice(COUNTRIES[country])
        sid, weight = f"s{i}", rng.choice((1.0, 1.0, 2.0))
        device = rng.choice(("mobile", "mobile", "desktop", "tablet"))
        agent = {"browser": rng.choice(("Chrome", "Chrome", "Safari", "Firefox")),
                 "os": rng.choice(("Android", "iOS", "Windows")),
                 "connection_type": rng.choice(("4g", "4g", "3g", ""))}
        start = now - 120 - rng.uniform(0, 5 * 3600)
        span = rng.choice((60, 600, 3600, 3 * 3600))
        times = sorted(start + rng.uniform(0, span) for _ in range(rng.randint(1, 6)))
        if i % 17 == 0:
            times.append(now - rng.uniform(1, 20))  # back in the last seconds
        median = 4200.0 if country == "IN" else 1600.0
        for ts in times:
            if ts >= now:
                continue
            if i % 23 == 0 and ts > start + span / 2:
                region = rng.choice(COUNTRIES[country])  # moved
            if i % 31 == 0 and ts > start + span / 2:
                device = "desktop" if device != "desktop" else "mobile"  # the same id, another device
            if i % 13 == 0 and ts > start + span / 2:  # another network, another browser
                agent = {**agent, "connection_type": "wifi", "browser": "Edge"}
            lcp = None if rng.random() < 0.05 else median * rng.lognormvariate(0, 0.5)
            rows.append(event("pageview", ts, sid, country, region, weight, lcp=lcp,
                              device_class=device, **agent))
            if rng.random() < 0.12:
                rows.append(event("conversion", min(ts + rng.uniform(0, 900), now - 1), sid,
                                  country, region, weight, conversion_value=float(rng.randint(10, 90)),
                                  currency="EUR", device_class=device, **agent))
        if i % 29 == 0:  # a conversion-only session
            rows.append(event("conversion", start, f"c{i}", country, region, 1.0,
                              conversion_value=30.0, currency="EUR", device_class=device, **agent))
    return rows


def raw_and_rolled(store: Store, now: float, d1: str = "country", d2: str = "",
                   window_ms: int = 86_400_000) -> tuple[list, list]:
    until = int(now * 1000)
    bound = {"site": "shop", "until_ms": until, "d1": d1, "d2": d2, "cap": 60_000.0,
             "threshold": 2500.0, "dset": session_set(d1, d2)}
    sql = load_sql("revenue_by_speed")
    rolled = store.query(sql, {**bound, **coverage(store, until - window_ms, until, SESSIONS)})
    raw = store.query(sql, {**bound, **coverage(store, until - window_ms, until, None)})
    return raw, rolled


def same(raw: list[dict[str, Any]], rolled: list[dict[str, Any]]) -> None:
    assert len(raw) == len(rolled) > 0
    for a, b in zip(raw, rolled, strict=True):
        for key, value in a.items():
            if isinstance(value, float):
                assert b[key] == pytest.approx(value, rel=1e-9, abs=1e-6), (key, a, b)
            elif isinstance(value, list):
                assert sorted(b[key]) == sorted(value), (key, a, b)
            else:
                assert b[key] == value, (key, a, b)


# every dimension the rollup keeps (rollups/tables.py SESSION_SETS), alone, and in pairs
ROLLED_ALONE = [(d, "") for dims in SESSION_SETS for d in dims]


@pytest.mark.parametrize("dims", [*ROLLED_ALONE, ("country", "region"), ("", ""),
                                  ("country", "device_class")])
def test_same_rows_with_and_without_the_session_rollup(chdb_store: Store, dims: tuple[str, str]) -> None:
    now = time.time()
    chdb_store.insert("rum.events", sessions(now, 1500))
    before, _ = raw_and_rolled(chdb_store, now, *dims)
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000), SESSIONS)
    assert len(cover["rolls"]) >= 24
    hours = chdb_store.query("SELECT countIf(n > 1) AS crossing, countIf(n = 1) AS within "
                             "FROM (SELECT count() AS n FROM rum.sessions_hourly "
                             "      WHERE part = 'session' GROUP BY site, sess)")[0]
    assert hours["crossing"] > 100 and hours["within"] > 300, "the data has sessions both ways"
    raw, rolled = raw_and_rolled(chdb_store, now, *dims)
    same(before, raw)
    same(raw, rolled)
    # a short window: it starts inside an hour (raw rows there), sessions are cut at its start
    same(*raw_and_rolled(chdb_store, now, *dims, window_ms=150 * 60_000))


def test_rolling_order_and_late_pieces_do_not_change_the_answer(chdb_store: Store) -> None:
    """A session rolled alone in one hour and found again later (a late row in an earlier
    hour, or a row of the hour being filled) is merged, not counted twice."""
    now = time.time()
    rows = sessions(now, 800, seed=11)
    chdb_store.insert("rum.events", rows)
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    hour = int(now * 1000) // HOUR_MS * HOUR_MS
    # late rows: page views of sessions that so far lived in one hour, three hours back
    alone = {r["session_id"]: r for r in rows if r["ts"] * 1000 >= hour - HOUR_MS}
    late = [{**r, "event_id": str(uuid.uuid4()), "ts": r["ts"] - 3 * 3600,
             "received_at": r["ts"] - 3 * 3600} for r in list(alone.values())[:60]]
    chdb_store.insert("rum.events", late)
    assert roller.cycle(now=now + 1) >= 1
    same(*raw_and_rolled(chdb_store, now + 1))
    # the roll of the late rows' hour left the later hours sharing their sessions stale:
    # readers stopped there (raw rows from it on), the next cycle rolls them again
    assert roller.cycle(now=now + 2) >= 1
    assert not stale_hours(chdb_store.query(SESSIONS.marks, {"from_ms": 0, "until_ms": hour + HOUR_MS}))
    assert len(coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000) + 2000,
                        SESSIONS)["rolls"]) >= 24
    same(*raw_and_rolled(chdb_store, now + 2))


@pytest.mark.parametrize("dims", [("country", ""), ("country", "region"), ("", "region"),
                                  ("device_class", "region"), ("connection_type", "")])
def test_a_long_window_ends_at_a_recent_roll(chdb_store: Store, dims: tuple[str, str]) -> None:
    """revenue-impact over 6 h or more ends at the session rollup's last roll when that is
    at most SESSION_MAX_LAG_MS old (no raw rest to merge), and is then read from the
    rollup's sums alone (revenue_by_speed_rolled.sql), with the raw path's rows for that
    window; a roll older than that, or a shorter window, reads the rest raw."""
    now = time.time()
    chdb_store.insert("rum.events", sessions(now, 800, seed=7))
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000) + 30_000
    bound = {"d1": dims[0], "d2": dims[1], "cap": 60_000.0}
    planned = _plan(chdb_store, {**bound, "since_ms": until - 86_400_000, "until_ms": until})
    plan = dict(planned.params)
    assert plan["until_ms"] == plan["rolled_until_ms"] > until - SESSION_MAX_LAG_MS
    params = {**bound, "site": "shop", "threshold": 2500.0, "dset": session_set(*dims)}
    sql = load_sql("revenue_by_speed")
    raw = chdb_store.query(sql, {**params, **coverage(chdb_store, until - 86_400_000, plan["until_ms"],
                                                      None), "until_ms": plan["until_ms"]})
    assert planned.settled is True
    assert planned.sql_name == "revenue_by_speed_rolled"
    same(raw, chdb_store.query(load_sql("revenue_by_speed_rolled"), {**params, **plan}))
    same(raw, chdb_store.query(sql, {**params, **plan}))
    late = until + SESSION_MAX_LAG_MS
    for since, end in ((late - 86_400_000, late), (until - 2 * HOUR_MS, until)):
        other = _plan(chdb_store, {**bound, "since_ms": since, "until_ms": end})
        assert other.sql_name is None and not other.settled


def test_on_a_quiet_site_the_window_still_ends_at_a_recent_roll(chdb_store: Store) -> None:
    """With no row since its last roll, the hour being filled is rolled again once that roll
    is SESSION_REFRESH_MS old, so revenue-impact's long window still ends at a recent roll
    (the rolled sums alone) instead of reading minutes of nothing raw."""
    now = time.time() // 3600 * 3600 - 1800  # half past the last hour: the steps stay in it
    chdb_store.insert("rum.events", sessions(now, 300, seed=8))
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    quiet = now + (SESSION_REFRESH_MS + GRACE_MS) / 1000 + 1
    assert roller.cycle(now=quiet) >= 1  # the rows of the last seconds: every row counted now
    later = quiet + (SESSION_MAX_LAG_MS + 60_000) / 1000  # no row came since
    bound = {"d1": "country", "d2": "", "cap": 60_000.0}
    window = {"since_ms": int(later * 1000) - 86_400_000, "until_ms": int(later * 1000)}
    assert _plan(chdb_store, {**bound, **window}).sql_name is None, "the last roll is too old"
    assert roller.cycle(now=later) >= 1
    planned = _plan(chdb_store, {**bound, **window})
    assert planned.sql_name == "revenue_by_speed_rolled" and planned.settled
    assert planned.params["until_ms"] > window["until_ms"] - SESSION_MAX_LAG_MS
    assert roller.cycle(now=later + 1) == 0, "rolled lately: not again"
    assert dict(_plan(chdb_store, {**bound, **window}).params) == dict(planned.params)


def test_a_settled_answer_is_given_again_until_a_roll_changes(chdb_store: Store) -> None:
    """An answer read only from named rolls (the window ends at the last roll) cannot
    change until a roll does: asked again, it is given again without asking the store;
    after a roll it is asked anew. Answers that read raw events are always asked."""
    now = time.time()
    chdb_store.insert("rum.events", sessions(now, 400, seed=9))
    Roller(chdb_store).cycle(now=now)
    store = RecordingStore(chdb_store)

    def asked() -> int:
        return len(store.params_of("revenue_by_speed", "revenue_by_speed_rolled"))

    spec = get_query("revenue-impact")
    values = spec.parse({"site": "shop", "by": "country", "min_sessions": "1"})
    first = spec.run(store, values, now=now + 10)
    assert first and asked() == 1
    assert spec.run(store, values, now=now + 20) == first and asked() == 1
    chdb_store.insert("rum.events", sessions(now + 5, 50, seed=10))
    Roller(chdb_store).cycle(now=now + 5 + SESSION_REFRESH_MS / 1000)  # new rolls
    spec.run(store, values, now=now + 10 + SESSION_REFRESH_MS / 1000)
    assert asked() == 2
    short = spec.parse({"site": "shop", "by": "country", "window": "2h"})
    spec.run(store, short, now=now + 10)
    spec.run(store, short, now=now + 10)
    assert asked() == 4, "a short window reads raw events: asked each time"


def test_hours_rolled_out_of_order_are_stale_until_rolled_again(chdb_store: Store) -> None:
    """A roll adds up its sessions as of its hour, reading the hours before it: an hour
    rolled before an earlier one that shares its sessions is stale, readers take raw rows
    from it on, and the roller rolls it again."""
    now = time.time()
    chdb_store.insert("rum.events", sessions(now, 800, seed=3))
    hour = int(now * 1000) // HOUR_MS * HOUR_MS
    for roll, h in enumerate(range(hour - 6 * HOUR_MS, hour, HOUR_MS)[::-1], 1):  # newest first
        chdb_store.command(SESSIONS.roll, {**SESSIONS.binds, "from_ms": h, "until_ms": h + HOUR_MS,
                                            "roll": roll})
    marks = chdb_store.query(SESSIONS.marks, {"from_ms": 0, "until_ms": hour})
    stale = stale_hours(marks)
    assert stale and min(stale) > hour - 6 * HOUR_MS, "each hour but the first read too early"
    first = hour - 6 * HOUR_MS
    cover = coverage(chdb_store, first, hour, SESSIONS)
    assert cover["first_ms"] == first and first + len(cover["rolls"]) * HOUR_MS == min(stale)
    same(*raw_and_rolled(chdb_store, hour / 1000, window_ms=6 * HOUR_MS))
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    assert not stale_hours(chdb_store.query(SESSIONS.marks, {"from_ms": 0, "until_ms": hour}))
    assert len(coverage(chdb_store, first, hour, SESSIONS)["rolls"]) == 6
    same(*raw_and_rolled(chdb_store, hour / 1000, window_ms=6 * HOUR_MS))


def test_a_backfill_of_sessions_spanning_every_hour_ends(chdb_store: Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Session ids kept for days (a tab left open) share every hour of their day (a session
    ends at midnight): rolling an older hour makes all newer ones of that day stale. The
    backfill rolls the hours not rolled yet first, so it ends in about two passes over the
    hours (newest first, re-rolling the stale hours each time, took 25 cycles here: a pass
    per batch of older hours)."""
    monkeypatch.setattr("rollups.scheduler.MAX_HOURS_PER_CYCLE", 4)
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (SESSIONS,))  # this rollup alone
    now = time.time()
    hours = 30
    chdb_store.insert("rum.events", [
        event("pageview", now - 120 - h * 3600 - j * 600, f"tab{s}", "NL", "NH", 1.0,
              lcp=1000.0 + 100 * s + j)
        for s in range(3) for h in range(hours) for j in range(3)])
    roller, cycles = Roller(chdb_store), 0
    while cycles < 40:
        roller.cycles = 0  # check the whole retention every cycle
        cycles += 1
        roller.cycle(now=now)
        if roller.settled(now=now):
            break
    assert cycles <= 2 * (hours // 4 + 1) + 2, cycles
    cover = coverage(chdb_store, int(now * 1000) - hours * HOUR_MS, int(now * 1000), SESSIONS)
    assert len(cover["rolls"]) >= hours - 1
    same(*raw_and_rolled(chdb_store, now, window_ms=hours * HOUR_MS))


def test_a_session_ends_at_midnight_utc(chdb_store: Store) -> None:
    """A session id's events on two UTC days are two sessions, on both paths (so a tab
    left open for days is one session a day, and a roll's work per session stays bounded)."""
    now = time.time()
    midnight = (now - 2 * 3600) // 86_400 * 86_400  # 2 to 26 hours ago
    chdb_store.insert("rum.events", [
        event("pageview", midnight + offset, f"night{i}", "NL", "NH", 1.0, lcp=1500.0 + 10 * i)
        for i in range(20) for offset in (-1200, -60, 60, 1200)])
    roller = Roller(chdb_store)
    for _ in range(3):
        roller.cycles = 0  # the whole retention each cycle: midnight may be 26 hours back
        roller.cycle(now=now)
    window_ms = 30 * HOUR_MS
    raw, rolled = raw_and_rolled(chdb_store, now, window_ms=window_ms)
    assert sum(r["sessions"] for r in raw) == 40
    same(raw, rolled)
    until = int(now * 1000)
    planned = _plan(chdb_store, {"d1": "country", "d2": "", "cap": 60_000.0,
                                 "since_ms": until - window_ms, "until_ms": until})
    assert planned.sql_name == "revenue_by_speed_rolled" and planned.settled
    plan = dict(planned.params)
    params = {"site": "shop", "d1": "country", "d2": "", "cap": 60_000.0, "threshold": 2500.0}
    lean = chdb_store.query(load_sql("revenue_by_speed_rolled"), {**params, **plan})
    assert sum(r["sessions"] for r in lean) == 40


def test_stale_hours() -> None:
    """An hour is stale when an earlier hour it read changed since, or when an earlier hour
    rolled after it shares a session its roll did not see."""
    def mark(hour: int, roll: int, content: int, deps: dict[int, int]) -> dict[str, Any]:
        return {"hour_ms": hour, "newest": roll, "content": content, "deps": list(deps),
                "dep_content": list(deps.values())}
    h = HOUR_MS
    fine = [mark(0, 1, 10, {h: 20}), mark(h, 2, 20, {0: 10}), mark(2 * h, 3, 30, {})]
    assert stale_hours(fine) == set()
    changed = [mark(0, 4, 11, {h: 20}), mark(h, 2, 20, {0: 10})]
    assert stale_hours(changed) == {h}
    unseen = [mark(0, 4, 10, {2 * h: 30}), mark(h, 2, 20, {}), mark(2 * h, 3, 30, {})]
    assert stale_hours(unseen) == {2 * h}
    # an earlier hour rolled before a later one that no longer shares: nothing to redo
    gone = [mark(0, 1, 10, {h: 20}), mark(h, 2, 21, {})]
    assert stale_hours(gone) == set()


def test_rolled_hours_are_not_read_from_raw_events(chdb_store: Store) -> None:
    now = time.time() - 300  # the rows end before the roll's grace
    chdb_store.insert("rum.events", [r for r in sessions(now, 600) if r["ts"] < now - 90])
    Roller(chdb_store).cycle(now=now)
    spec = get_query("revenue-impact")
    values = spec.parse({"site": "shop", "by": "country"})
    before = spec.run(chdb_store, values, now=now)
    until = coverage(chdb_store, int(now * 1000) - 86_400_000, int(now * 1000), SESSIONS)["rolled_until_ms"]
    chdb_store.command("ALTER TABLE rum.events DELETE WHERE ts < fromUnixTimestamp64Milli("
                       "{until:Int64}, 'UTC') SETTINGS mutations_sync = 1", {"until": until})
    assert chdb_store.query("SELECT count() AS n FROM rum.events")[0]["n"] == 0
    assert spec.run(chdb_store, values, now=now) == before
    for by in ("device_class", "browser", "os", "connection_type"):  # every set is rolled
        assert spec.run(chdb_store, spec.parse({"site": "shop", "by": by}), now=now) != [], by
    # dimensions the rollup does not hold, or not together, are answered from raw events (gone)
    for by in ("city", "country,browser"):
        assert spec.run(chdb_store, spec.parse({"site": "shop", "by": by}), now=now) == [], by


def test_the_rollup_leaves_out_the_lcps_revenue_impact_leaves_out() -> None:
    """The roll's LCP cap is the query's outlier cap: were they to differ, revenue-impact
    would quietly read raw events only (its plan checks), so keep them one number."""
    assert SESSION_LCP_CAP == THRESHOLDS["lcp"][2]
