"""What `why` reads (queries/segment_parts_rolled.sql) answers the same from the segments
rollup's rolled hours as from raw events, and within 1% of quantileExact over raw page
views (queries/segment_parts.sql, which answers while no hour is rolled): the p75 of each
part of LCP and INP and of the RTT per country and per country + region, the counts and
the slow-connection share exact, for a window starting inside an hour, with late rows and
duplicates."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from pipeline.store import Store
from queries.spec import load_sql
from queries.why import PART_COLUMNS, parts_of, segment_parts
from rollups import grid, segments
from rollups.coverage import coverage
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SEGMENTS
from tests.rollups.late import send_late


def exact(store: Store, since: int, until: int) -> list[dict[str, Any]]:
    """segment_parts.sql: exact quantiles over raw page views (no rollup involved)."""
    return store.query(load_sql("segment_parts"), {"site": "shop", "from_ms": since, "until_ms": until})


def unrolled(store: Store, since: int, until: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """segment_parts_rolled.sql with every hour in its raw rest."""
    rows = store.query(load_sql("segment_parts_rolled"), {
        "site": "shop", "from_ms": since, "until_ms": until, "first_ms": since,
        "hole_from_ms": 0, "rolled_until_ms": since, "rolls": [], "countries": 1, "regions_of": "*",
        **grid.PARAMS})
    return {(r["level"], r["country"], r["region"]): parts_of(r) for r in rows}


def page_view(ts: float, rng: random.Random, **fixed: Any) -> dict[str, Any]:
    country = rng.choice(["IN", "BR", "NL"])
    row: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview", "ts": round(ts, 3),
        "received_at": round(ts, 3), "country": country,
        "region": rng.choice({"IN": ["MH", "KA"], "BR": ["SP", ""], "NL": ["NH"]}[country]),
        "lcp": 2000 * rng.lognormvariate(0, 0.5),
        "connection_type": rng.choice(["4g", "3g", "2g", "wifi", "", "slow-2g"]),
        "is_bot": int(rng.random() < 0.03)}
    if rng.random() < 0.6:  # the attribution build's page views
        row |= {"lcp_ttfb": 600 * rng.lognormvariate(0, 0.6),
                "lcp_load_delay": rng.choice([0.0, 0.4, 300 * rng.lognormvariate(0, 0.8)]),
                "lcp_load_time": 500 * rng.lognormvariate(0, 0.7),
                "lcp_render_delay": 200 * rng.lognormvariate(0, 0.9)}
    if rng.random() < 0.4:
        row |= {"inp_input_delay": 20 * rng.lognormvariate(0, 1),
                "inp_processing": 80 * rng.lognormvariate(0, 0.7),
                "inp_presentation": 30 * rng.lognormvariate(0, 0.5)}
    if rng.random() < 0.7:
        row["rtt"] = float(rng.choice([25, 50, 100, 150, 300, 1200]))
    return {**row, **fixed}


def plant(store: Store, now: float, n: int = 4000, hours: float = 5) -> None:
    rng = random.Random(3)
    store.insert("rum.events", [page_view(now - 90 - hours * 3600 * i / n, rng) for i in range(n)])


def same_as_exact(got: dict[tuple[str, str, str], dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert set(got) == {(r["level"], r["country"], r["region"]) for r in want} and len(want) > 4
    for row in want:
        mine = got[(row["level"], row["country"], row["region"])]
        assert mine["slow_share"] == row["slow_share"]
        for column in PART_COLUMNS:
            sent = row["n_lcp_parts" if column.startswith("lcp") else "n_inp_parts"]
            if not sent:
                assert mine[column] is None
                continue
            exact = float(row[f"{column}_q"])
            # within 1%, or 0 for a part under 1 ms (the grid's bucket 0)
            assert abs(mine[column] - exact) <= max(0.01 * exact, 1.0 if exact < 1 else 0), \
                (row["level"], row["country"], row["region"], column, mine[column], exact)
        assert abs(mine["rtt_p75"] - row["rtt_p75"]) <= 0.01 * row["rtt_p75"]


def test_parts_answer_from_the_rollup_as_from_raw_events(chdb_store: Store) -> None:
    now = time.time()
    plant(chdb_store, now)
    until = int(now * 1000)
    since = until - 3 * HOUR_MS
    want = exact(chdb_store, since, until)
    # nothing rolled: the exact answer
    assert segment_parts(chdb_store, "shop", since, until) == \
        {(r["level"], r["country"], r["region"]): parts_of(r) for r in want}
    assert Roller(chdb_store).cycle(now=now) > 0
    cover = coverage(chdb_store, since, until, SEGMENTS)
    assert len(cover["rolls"]) >= 2 and cover["from_ms"] < cover["first_ms"], "starts inside an hour"
    rolled = segment_parts(chdb_store, "shop", since, until)
    assert rolled == unrolled(chdb_store, since, until)
    same_as_exact(rolled, want)


def test_regions_only_of_the_countries_asked_and_every_country(chdb_store: Store) -> None:
    """regions_of: the regions of the countries named, and every country when asked (from
    its own rolled rows, migration 0220), each the same as when every place is asked for."""
    now = time.time()
    plant(chdb_store, now)
    Roller(chdb_store).cycle(now=now)
    until = int(now * 1000)
    since = until - 3 * HOUR_MS
    every = segment_parts(chdb_store, "shop", since, until)
    for countries, asked in ((True, ["IN"]), (True, []), (False, ["BR", "NL"]), (False, None)):
        got = segment_parts(chdb_store, "shop", since, until, countries, asked)
        assert set(got) == {k for k in every if (k[0] == "country" and countries)
                            or (k[0] == "region" and (asked is None or k[1] in asked))}, asked
        assert {k: every[k] for k in got} == got


def test_late_rows_and_duplicates_count_once_rolled_again(chdb_store: Store) -> None:
    now = time.time()
    plant(chdb_store, now)
    roller = Roller(chdb_store)
    roller.cycle(now=now)
    send_late(chdb_store, now, lambda ts, rng: page_view(ts, rng, country="NL", region="NH",
                                                          lcp_ttfb=5000.0, connection_type="3g"))
    assert roller.cycle(now=now + 1) > 0, "the hour's raw count changed: rolled again"
    until = int(now * 1000)
    got = segment_parts(chdb_store, "shop", until - 3 * HOUR_MS, until)
    assert len(coverage(chdb_store, until - 3 * HOUR_MS, until, SEGMENTS)["rolls"]) >= 2
    same_as_exact(got, exact(chdb_store, until - 3 * HOUR_MS, until))


def test_the_part_list_is_the_views(chdb_store: Store) -> None:
    """rum.part_cells rolls exactly segments.PARTS, under segments.PART_SETS, each value
    bucketed as the grid says (slow_net: 1 for a slow connection type, 0 for another)."""
    now = time.time()
    values = {c: 10.0 * (i + 2) for i, c in enumerate(PART_COLUMNS)} | {"rtt": 150.0}
    chdb_store.insert("rum.events", [{
        "event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview", "ts": now - 60,
        "received_at": now, "country": "IN", "region": "MH", "connection_type": "2g", **values}])
    cells = chdb_store.query(
        "SELECT toString(metric) AS metric, set, vals, buckets FROM rum.part_cells(site = 'shop', "
        "from_ms = {f:Int64}, until_ms = {u:Int64}, grid_ratio = {grid_ratio:Float64}, "
        "grid_last = {grid_last:UInt16})",
        {**grid.PARAMS, "f": int(now * 1000) - HOUR_MS, "u": int(now * 1000)})
    assert {c["metric"] for c in cells} == set(segments.PARTS)
    assert sorted({tuple(c["set"]) for c in cells}) == sorted(tuple(s) for s in segments.PART_SETS)
    for cell in cells:
        assert cell["vals"] == ["IN", "MH"][:len(cell["set"])]
        assert cell["buckets"] == [grid.bucket({**values, "slow_net": 1.0}[cell["metric"]])]
