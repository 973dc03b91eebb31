"""slow-pages answers the same from the pages rollup's rolled hours (migration 0190) as from
raw events alone, under every filter it takes, for windows that start inside an hour or
snap to its top (7 days), with page views flushed in two hours, sessions over many hours,
late rows and duplicates; with counts=false the same figures but the distinct counts,
whose reads then select no part; the rolled rows' filters are rollups/tables.py PAGES_SETS,
and hours past the rollup's 8 days are read raw, not rolled."""

from __future__ import annotations

import random
import re
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from queries.pages import _rolled
from queries.spec import load_sql
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import DAY_MS, HOUR_MS, PAGES, PAGES_SETS
from tests.rollups.late import send_late

FILTERS = [{}, {"device": "mobile"}, {"country": "IN"}, {"country": "IN", "device": "desktop"},
           {"country": "BR", "region": "SP"}, {"country": "IN", "region": "MH", "device": "mobile"},
           {"region": "MH"}]
ELEMENTS = ["img.hero", "h1", "div.banner"]


def event(ts: float, rng: random.Random, **fixed: Any) -> dict[str, Any]:
    country = rng.choice(["IN", "BR", "NL"])
    lcp = 1800 * rng.lognormvariate(0, 0.6) if rng.random() < 0.98 else 75_000.0  # an outlier
    row: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "site": rng.choice(["shop", "shop", "blog"]), "kind": "pageview",
        "ts": round(ts, 3), "received_at": round(ts, 3), "country": country,
        "region": rng.choice({"IN": ["MH", "KA"], "BR": ["SP", ""], "NL": ["NH"]}[country]),
        "device_class": rng.choice(["mobile", "desktop", "tablet"]),
        "page_group": rng.choice(["/", "/cart", "/product/:id", "/search"]),
        "session_id": f"s{rng.randrange(300)}", "pageview_id": str(uuid.uuid4()),
        "lcp": lcp, "inp": None if rng.random() < 0.2 else 120 * rng.lognormvariate(0, 0.7),
        "cls": 0.0 if rng.random() < 0.05 else rng.uniform(0, 0.35),
        "ttfb": 400 * rng.lognormvariate(0, 0.6), "sample_weight": rng.choice([1.0, 1.0, 3.0]),
        "lcp_element": rng.choice(ELEMENTS + [""]), "lcp_resource": rng.choice(["", "/hero.jpg", "/a.png"]),
        "is_bot": int(rng.random() < 0.03)}
    return {**row, **fixed}


def plant(store: Store, now: float, n: int = 3000, hours: float = 5) -> None:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        row = event(now - 90 - hours * 3600 * i / n, rng)
        rows.append(row)
        if i % 6 == 0:  # flushed again, up to 40 minutes later (often in the next hour)
            rows.append({**row, "event_id": str(uuid.uuid4()), "ts": row["ts"] + rng.uniform(1, 2400)})
        if i % 8 == 0:
            kind = rng.choice(["error", "api", "conversion"])
            rows.append({**row, "event_id": str(uuid.uuid4()), "kind": kind, "lcp": None, "inp": None,
                         "cls": None, "ttfb": None, "lcp_element": "", "lcp_resource": ""})
    store.insert("rum.events", [r for r in rows if r["ts"] < now - 61])


def ask(store: Store, now: float, name: str, window: str = "3h", **filters: str) -> list[dict[str, Any]]:
    spec = get_query(name)
    extra = {"min_samples": "1", "limit": "100"} if name == "slow-pages" else {}
    return spec.run(store, spec.parse({"window": window, **extra, **filters}), now=now)


def raw(store: Store, now: float, name: str, monkeypatch: pytest.MonkeyPatch, window: str = "3h",
        **filters: str) -> list[dict[str, Any]]:
    """The same question over raw events alone (no rollup: the whole window is the raw rest)."""
    with monkeypatch.context() as patch:
        patch.setattr("queries.pages.PAGES", None)
        return ask(store, now, name, window, **filters)


def rolled(store: Store, now: float, window_ms: int) -> list[int]:
    until = int(now * 1000)
    return coverage(store, until - window_ms, until, PAGES)["rolls"]


@pytest.fixture(autouse=True)
def pages_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rollups.scheduler.ROLLUPS", (PAGES,))


def test_slow_pages_answers_from_the_rollup_as_from_raw_events(
        chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    plant(chdb_store, now)
    questions = [("slow-pages", {"site": "shop", **f}) for f in FILTERS]
    before = {repr(q): ask(chdb_store, now, q[0], **q[1]) for q in questions}
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, int(now * 1000) - 3 * HOUR_MS, int(now * 1000), PAGES)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    for name, filters in questions:
        got = ask(chdb_store, now, name, **filters)
        assert got == before[repr((name, filters))] and got, (name, filters)
        assert got == raw(chdb_store, now, name, monkeypatch, **filters)
    # a 7-day window starts at the top of its first hour, rolled or not
    assert len(rolled(chdb_store, now, 7 * 24 * HOUR_MS)) >= 5
    for name, filters in questions[:3]:
        assert ask(chdb_store, now, name, "7d", **filters) == raw(chdb_store, now, name, monkeypatch, "7d",
                                                                   **filters)


@pytest.mark.parametrize("window", ["3h", "7d"])
def test_without_counts_every_other_figure_is_the_same(chdb_store: Store, monkeypatch: pytest.MonkeyPatch,
                                                        window: str) -> None:
    """counts=false (the dashboard's Pages view) leaves the distinct page views and sessions
    out (null) and every other figure as it was, rolled or raw."""
    now = time.time()
    plant(chdb_store, now)
    Roller(chdb_store).cycle(now=now)
    for filters in ({"site": "shop"}, {"site": "shop", "country": "IN", "device": "mobile"}):
        full = ask(chdb_store, now, "slow-pages", window, **filters)
        assert full and all(r["pageviews"] > 0 and r["sessions"] > 0 for r in full)
        for answer in (ask(chdb_store, now, "slow-pages", window, counts="false", **filters),
                       raw(chdb_store, now, "slow-pages", monkeypatch, window, counts="false", **filters)):
            assert all(r["pageviews"] is None and r["sessions"] is None for r in answer)
            assert answer == [{**r, "pageviews": None, "sessions": None} for r in full]


def test_without_counts_the_hash_sets_are_not_read(chdb_store: Store) -> None:
    """The distinct counts' reads (the rollup's hash sets, the raw rest's ids) are
    constant-false with counts=0: ClickHouse selects no part for them (the figure the
    dashboard's Pages view no longer waits for: bench/RESULTS.md)."""
    now = time.time()
    plant(chdb_store, now)
    Roller(chdb_store).cycle(now=now)
    spec = get_query("slow-pages")

    def reads(counts: str) -> list[str]:
        values = spec.parse({"window": "3h", "site": "shop", "counts": counts})
        bound = {k: v for k, v in values.items() if k != "window"}
        bound.update(until_ms=int(now * 1000), since_ms=int(now * 1000) - values["window"] * 1000)
        bound.update(_rolled(chdb_store, bound).params)
        explained = chdb_store.query("EXPLAIN indexes = 1 " + load_sql("slow_pages"), bound)
        plan = "\n".join(r["explain"] for r in explained)
        # each read with the lines under it ("Read type: ...", "Parts: 15 | Granules: 26", the
        # index steps' "Parts: 15/16"): the tables of those that select a part
        blocks = re.findall(r"ReadFromMergeTree \((\S+)\)((?:\n[^\n]*(?:Read type|Parts|Granules)[^\n]*)*)",
                            plan)
        return [table for table, lines in blocks if re.search(r"Parts: [1-9]\d* \| Granules", lines)]

    # (the raw rest's reads of rum.events select a part only when the rest has rows)
    assert reads("true").count("rum.pages_hourly") == 2
    assert reads("false").count("rum.pages_hourly") == 1
    assert reads("false").count("rum.events") <= reads("true").count("rum.events") / 2


def test_counts_and_the_most_common_element_are_exact(chdb_store: Store) -> None:
    """Page views flushed in two hours and sessions over three count once; the LCP element
    seen most often wins, a tie going to the first by name; errors count, other kinds not."""
    now = time.time()
    top = (int(now * 1000) // HOUR_MS - 1) * HOUR_MS / 1000  # the last whole hour's start
    rng = random.Random(1)
    views = [event(top - 1800 + 1200 * i / 40, rng, site="shop", page_group="/p", pageview_id=f"p{i % 20}",
                   session_id=f"s{i % 7}", is_bot=0, lcp_element=["b", "a", "c", "a", "b"][i % 5])
             for i in range(40)]  # 20 page views, each flushed in the hour before the last and in it
    others = [{**views[0], "event_id": str(uuid.uuid4()), "kind": k, "ts": top + 600}
              for k in ("error", "error", "api")]
    chdb_store.insert("rum.events", views + others)
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    assert roller.cycle(now=now + 1) == 0, "nothing new: no hour is rolled again"
    assert len(rolled(chdb_store, now, 3 * HOUR_MS)) >= 2
    [page] = ask(chdb_store, now, "slow-pages", site="shop")
    assert (page["pageviews"], page["sessions"], page["errors"], page["samples"]) == (20, 7, 2, 40)
    assert page["lcp_element"] == "a"  # a and b: 16 each, c: 8


def test_late_rows_and_duplicates_count_once_rolled_again(chdb_store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    plant(chdb_store, now)
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    send_late(chdb_store, now, lambda ts, rng: event(ts, rng, site="shop", country="NL", region="NH",
                                                     is_bot=0, lcp=9000.0))
    assert roller.cycle(now=now + 1) > 0, "the hour's raw count changed: rolled again"
    assert len(rolled(chdb_store, now, 3 * HOUR_MS)) >= 2
    for filters in ({}, {"country": "NL"}):
        got = ask(chdb_store, now, "slow-pages", site="shop", **filters)
        assert got == raw(chdb_store, now, "slow-pages", monkeypatch, site="shop", **filters)


def test_the_rolled_filters_are_pages_sets(chdb_store: Store) -> None:
    """rum.page_cells keeps rows under exactly PAGES_SETS, each keeping the columns its bits
    name ('' elsewhere)."""
    now = time.time()
    chdb_store.insert("rum.events", [event(now - 60, random.Random(2), site="shop", country="IN", region="MH",
                                           device_class="mobile", page_group="/p", is_bot=0)])
    Roller(chdb_store).cycle(now=now + 120)
    cells = chdb_store.query("SELECT set, device_class, country, region, page_group FROM rum.pages_hourly "
                             "WHERE site = 'shop' ORDER BY set")
    assert [c["set"] for c in cells] == list(PAGES_SETS)
    for cell in cells:
        kept = [cell["set"] & bit == bit for bit in (1, 2, 4)]
        assert [cell["device_class"], cell["country"], cell["region"]] == \
            [v if k else "" for v, k in zip(["mobile", "IN", "MH"], kept, strict=True)]
        assert cell["page_group"] == "/p"


def test_hours_past_the_rollups_days_are_read_raw(chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollup keeps PAGES.keep_days (its TTL): older hours are not rolled (they would be
    dropped again at once), and a window reaching them reads them raw."""
    now = time.time()
    rng = random.Random(4)
    old = now - (PAGES.keep_days + 1) * DAY_MS / 1000
    times = (old, old + 60, now - 600)
    chdb_store.insert("rum.events", [event(t, rng, site="shop", is_bot=0) for t in times])
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    marks = chdb_store.query("SELECT toInt64(toUnixTimestamp(min(hour))) * 1000 AS first "
                             "FROM rum.pages_hourly")
    assert marks[0]["first"] > int(now * 1000) - PAGES.keep_days * DAY_MS
    window = f"{PAGES.keep_days + 2}d"
    got = ask(chdb_store, now, "slow-pages", window, site="shop")
    assert got == raw(chdb_store, now, "slow-pages", monkeypatch, window, site="shop")
    assert sum(r["samples"] for r in got) == 3
