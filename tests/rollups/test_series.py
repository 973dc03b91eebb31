"""vitals-timeseries from the series rollup: with buckets of a multiple of its 10-minute
slice, the counts and LCP shares of every bucket are the ones vitals_timeseries.sql gives
over raw events, and each p75 lies in the exact one's grid bucket (within 2%), before the
roll (raw events: the bucket's middle) and after it (rolled hours and a raw rest), site-wide and
filtered by device, country and region; shorter buckets read raw events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from queries.spec import load_sql
from queries.timeseries import _bind, _plan
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SERIES, SERIES_BITS, SERIES_SETS, series_set
from tests.rollups.test_segments import close, plant

EXACT = ("t", "samples", "lcp_samples", "lcp_weight", "good", "needs_improvement", "poor")
FILTERS = [{}, {"device": "mobile"}, {"country": "IN"}, {"device": "mobile", "country": "IN"},
           {"country": "BR", "region": "SP"}, {"device": "desktop", "country": "BR", "region": "SP"}]


def ask(store: Store, now: float, window: str, bucket: str, **where: str) -> list[dict[str, Any]]:
    spec = get_query("vitals-timeseries")
    values = spec.parse({"window": window, "site": "shop", "bucket": bucket, **where})
    return spec.run(store, values, now=now)


def exact(store: Store, since_ms: int, until_ms: int, bucket_s: int, **where: str) -> list[dict[str, Any]]:
    """vitals_timeseries.sql over rum.events (no rollup involved)."""
    bound = _bind({"bucket": bucket_s, "device": "", "country": "", "region": "", **where})
    return store.query(load_sql("vitals_timeseries"), {**bound, "site": "shop", "since_ms": since_ms,
                                                        "until_ms": until_ms})


def same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want) > 3
    for mine, row in zip(got, want, strict=True):
        for key in EXACT:
            assert mine[key] == pytest.approx(row[key], abs=1e-12), (key, mine, row)
        for key in ("lcp_p75", "inp_p75", "cls_p75", "ttfb_p75"):
            assert (mine[key] is None) == (row[key] is None), (key, mine, row)
            if row[key] is not None:  # in the exact one's bucket (2% wide)
                assert close(mine[key], row[key], 0.021), (key, mine[key], row[key])


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: ",".join(w.values()) or "all")
def test_rolled_buckets_answer_as_raw_events(chdb_store: Store, where: dict[str, str]) -> None:
    now = time.time()
    plant(chdb_store, now, n=6000, hours=5)
    until = int(now * 1000)
    want = exact(chdb_store, until - 3 * HOUR_MS, until, 600, **where)
    assert ask(chdb_store, now, "3h", "10m", **where) == want, "nothing rolled: raw events"
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, until - 3 * HOUR_MS, until, SERIES)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    bound = _bind({"bucket": 600, "device": "", "country": "", "region": "", **where})
    planned = _plan(chdb_store, {**bound, "since_ms": until - 3 * HOUR_MS, "until_ms": until})
    assert planned.sql_name == "vitals_timeseries_rolled"
    same(ask(chdb_store, now, "3h", "10m", **where), want)


def test_a_day_by_the_hour_and_buckets_shorter_than_a_slice(chdb_store: Store) -> None:
    """A day in 1 h buckets (snapped to the hour: raw and rolled alike) from the rollup;
    5-minute buckets read raw events: vitals_timeseries.sql's answer."""
    now = time.time()
    plant(chdb_store, now, n=6000, hours=30)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    since = (until - 24 * HOUR_MS) // HOUR_MS * HOUR_MS
    same(ask(chdb_store, now, "24h", "1h"), exact(chdb_store, since, until, 3600))
    bound = _bind({"bucket": 300, "device": "", "country": "", "region": ""})
    assert _plan(chdb_store, {**bound, "since_ms": until - 3 * HOUR_MS, "until_ms": until}).sql_name is None
    assert ask(chdb_store, now, "3h", "5m") == exact(chdb_store, until - 3 * HOUR_MS, until, 300)


def test_each_filter_reads_its_own_set_of_rows(chdb_store: Store) -> None:
    """The roll writes the sets of rollups/tables.py SERIES_SETS (its GROUPING SETS), each
    with the dimensions of its filters and '' for the others, and every combination of
    filters a question can pass has its set."""
    now = time.time()
    plant(chdb_store, now, n=600, hours=1)
    Roller(chdb_store).cycle(now=now)
    rows = chdb_store.query("SELECT DISTINCT set, device_class, country, region FROM rum.series_hourly "
                            "WHERE metric = 'views'")
    assert sorted({r["set"] for r in rows}) == list(SERIES_SETS)
    for row in rows:
        for name, column in (("device", "device_class"), ("country", "country"), ("region", "region")):
            kept = row["set"] & SERIES_BITS[name] == SERIES_BITS[name]
            assert (row[column] != "" or name == "region") if kept else row[column] == "", row
    assert {series_set(d, c, r) for d in ("", "mobile") for c in ("", "IN") for r in ("", "MH")} \
        <= set(SERIES_SETS)
