"""vitals-ratings: the good / needs improvement / poor shares of every Core Web Vital per
segment, weighted, are the ones counted in Python from the stored rows; from the segments
rollup (every grouping it keeps, a window starting inside an hour, a day's window) they
are exactly vitals_ratings.sql's over raw events; a grouping the rollup does not keep,
or nothing rolled, reads raw events."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import pytest

from pipeline.store import Store
from queries.analytics import _plan_ratings
from queries.catalog import get_query
from queries.spec import Plan
from rollups import segments
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SEGMENTS
from tests.rollups.test_segments import plant


def ask(store: Store, now: float, by: str, window: str = "3h", **extra: str) -> list[dict[str, Any]]:
    spec = get_query("vitals-ratings")
    return spec.run(store, spec.parse({"window": window, "site": "shop", "by": by, **extra}), now=now)


def plan(store: Store, until: int, by: str) -> Plan:
    dims = by.split(",") + [""]
    return _plan_ratings(store, {"since_ms": until - 3 * HOUR_MS, "until_ms": until,
                                 "d1": dims[0], "d2": dims[1]})


def counted(store: Store, since_ms: int, until_ms: int, dim: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The shares by `dim` and metric, counted in Python from the rows rum.events holds."""
    rows = store.query(
        f"SELECT {dim} AS g, lcp, inp, cls, fcp, ttfb, sample_weight FROM rum.events FINAL "
        "WHERE kind = 'pageview' AND is_bot = 0 AND ts >= fromUnixTimestamp64Milli({a:Int64}, 'UTC') "
        "AND ts < fromUnixTimestamp64Milli({b:Int64}, 'UTC')", {"a": since_ms, "b": until_ms})
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0, 0.0, 0.0])
    for row in rows:
        w = max(1, round(row["sample_weight"]))
        for name, m in segments.METRICS.items():
            v = row[name]
            if v is None:
                continue
            s = sums[(row["g"], name)]
            if v > m.cap:
                s[1] += 1
                continue
            s[0] += 1
            s[2] += w
            s[3 if v <= m.good else 4 if v <= m.poor else 5] += w
    return {key: {"samples": s[0], "outliers": s[1], "weight": s[2], "good": s[3] / s[2],
                  "needs_improvement": s[4] / s[2], "poor": s[5] / s[2]} for key, s in sums.items()}


def test_the_shares_are_the_rows_counted(chdb_store: Store) -> None:
    now = time.time()
    plant(chdb_store, now, n=3000)
    until = int(now * 1000)
    got = ask(chdb_store, now, "device_class")
    assert [r["metric"] for r in got] == sorted((r["metric"] for r in got),
                                                key=list(segments.METRICS).index)
    keyed = {(r["device_class"], r["metric"]): r for r in got}
    want = counted(chdb_store, until - 3 * HOUR_MS, until, "device_class")
    assert set(keyed) == set(want) and len(want) == 3 * len(segments.METRICS)
    assert any(w["outliers"] for w in want.values()), "the plant has outliers past the cap"
    for key, row in want.items():
        for name, value in row.items():
            assert keyed[key][name] == pytest.approx(value, rel=1e-12), (key, name)
        shares = keyed[key]["good"] + keyed[key]["needs_improvement"] + keyed[key]["poor"]
        assert shares == pytest.approx(1.0)


@pytest.mark.parametrize("by", [",".join(g) for g in segments.GROUPINGS] + ["device_class,page_group"])
def test_every_grouping_answers_from_the_rollup_as_from_raw_events(chdb_store: Store, by: str) -> None:
    now = time.time()
    plant(chdb_store, now, n=3000)
    until = int(now * 1000)
    assert plan(chdb_store, until, by).sql_name is None, "nothing rolled: vitals_ratings.sql"
    want = ask(chdb_store, now, by)
    assert len(want) > len(segments.METRICS)
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, until - 3 * HOUR_MS, until, SEGMENTS)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    assert plan(chdb_store, until, by).sql_name == "vitals_ratings_rolled"
    assert ask(chdb_store, now, by) == want


def test_a_day_min_samples_and_a_grouping_not_kept(chdb_store: Store) -> None:
    now = time.time()
    plant(chdb_store, now, hours=30)
    until = int(now * 1000)
    raw = ask(chdb_store, now, "country", "24h")
    Roller(chdb_store).cycle(now=now)
    rolled = ask(chdb_store, now, "country", "24h")
    assert rolled == raw
    since = (until - 24 * HOUR_MS) // HOUR_MS * HOUR_MS  # a window of 6 h or more is snapped
    want = counted(chdb_store, since, until, "country")
    assert {(r["country"], r["metric"]): r["samples"] for r in rolled} == \
        {k: v["samples"] for k, v in want.items()}
    floor = sorted(r["samples"] for r in rolled)[len(rolled) // 2]
    fewer = ask(chdb_store, now, "country", "24h", min_samples=str(floor))
    assert fewer == [r for r in rolled if r["samples"] >= floor] and len(fewer) < len(rolled)
    assert segments.grouping("city") is None
    day = until - 24 * HOUR_MS
    assert {(r["city"], r["metric"]): r["samples"] for r in ask(chdb_store, now, "city", "24h")} == \
        {k: v["samples"] for k, v in counted(chdb_store, day, until, "city").items()}
