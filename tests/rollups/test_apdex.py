"""apdex from the segments rollup: with T at its default and a grouping the rollup keeps,
every figure (samples, weights, Apdex, the experience score's shares, the interval) is the
one apdex.sql gives over raw events, for every grouping, with a window starting inside an
hour (rolled hours and a raw rest) and one of a day; with nothing rolled, and with
another T, apdex.sql reads raw events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from queries.experience import _plan_apdex, finish_apdex
from queries.spec import Plan, load_sql
from rollups import segments
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SEGMENTS
from tests.rollups.test_segments import plant


def ask(store: Store, now: float, by: str, window: str = "3h", apdex_t: str = "2500") -> list[dict[str, Any]]:
    spec = get_query("apdex")
    values = spec.parse({"window": window, "site": "shop", "by": by, "apdex_t": apdex_t,
                         "min_samples": "1"})
    return spec.run(store, values, now=now)


def exact(store: Store, since_ms: int, until_ms: int, by: str,
          apdex_t: float = 2500.0) -> list[dict[str, Any]]:
    """apdex.sql over rum.events, finished (no rollup involved)."""
    dims = by.split(",") + [""]
    rows = store.query(load_sql("apdex"), {
        "site": "shop", "since_ms": since_ms, "until_ms": until_ms, "d1": dims[0], "d2": dims[1],
        "apdex_t": apdex_t, "cap": segments.METRICS["lcp"].cap})
    return finish_apdex(rows, {"min_samples": 1, "by": tuple(by.split(","))})


def plan(store: Store, until: int, by: str) -> Plan:
    dims = by.split(",") + [""]
    return _plan_apdex(store, {"since_ms": until - 3 * HOUR_MS, "until_ms": until, "d1": dims[0],
                               "d2": dims[1], "apdex_t": 2500.0})


@pytest.mark.parametrize("by", [",".join(g) for g in segments.GROUPINGS] + ["device_class,page_group"])
def test_every_grouping_answers_from_the_rollup_as_from_raw_events(chdb_store: Store, by: str) -> None:
    now = time.time()
    plant(chdb_store, now, n=3000)
    until = int(now * 1000)
    want = exact(chdb_store, until - 3 * HOUR_MS, until, by)
    assert len(want) > 1 and any(r["inp_good"] is not None for r in want)
    assert plan(chdb_store, until, by).sql_name is None, "nothing rolled: apdex.sql"
    assert ask(chdb_store, now, by) == want
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, until - 3 * HOUR_MS, until, SEGMENTS)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    assert plan(chdb_store, until, by).sql_name == "apdex_rolled"
    assert ask(chdb_store, now, by) == want


def test_a_day_and_another_t(chdb_store: Store) -> None:
    """A day's window (snapped to the hour) from the rollup; T = 1200 ms reads raw events
    (the window not snapped), as does a grouping the rollup does not keep (city)."""
    now = time.time()
    plant(chdb_store, now, hours=30)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    since = (until - 24 * HOUR_MS) // HOUR_MS * HOUR_MS
    assert ask(chdb_store, now, "page_group,country", "24h") == \
        exact(chdb_store, since, until, "page_group,country")
    day = until - 24 * HOUR_MS
    other = ask(chdb_store, now, "country", "24h", apdex_t="1200")
    assert other == exact(chdb_store, day, until, "country", 1200.0)
    assert other != exact(chdb_store, day, until, "country"), "T matters"
    assert ask(chdb_store, now, "city", "24h") == exact(chdb_store, day, until, "city")
