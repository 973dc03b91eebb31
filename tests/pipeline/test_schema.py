"""Migrations apply once, in order, and set the retention TTL."""

from __future__ import annotations

import re
import time

from collector.record import BeaconRecord, EventRecord, encode_record
from pipeline.schema import available, migrate, set_retention
from pipeline.store import Store


def test_migrations_are_idempotent_and_recorded(chdb_store: Store) -> None:
    assert migrate(chdb_store, 30) == []
    versions = [r["version"] for r in chdb_store.query(
        "SELECT version FROM rum.schema_migrations ORDER BY version")]
    assert versions == [m.version for m in available()]


def test_retention_follows_the_setting(chdb_store: Store) -> None:
    set_retention(chdb_store, 395)
    engine = chdb_store.query(
        "SELECT engine_full FROM system.tables WHERE database = 'rum' AND name = 'events'")
    assert "toIntervalDay(395)" in engine[0]["engine_full"]


def test_the_pages_rollup_keeps_its_days_at_most(chdb_store: Store) -> None:
    """rum.pages_hourly keeps PAGES.keep_days (8) under a longer setting, fewer under a shorter."""
    def ttl() -> str:
        return str(chdb_store.query("SELECT engine_full FROM system.tables WHERE database = 'rum' "
                                    "AND name = 'pages_hourly'")[0]["engine_full"])
    set_retention(chdb_store, 395)
    assert "toIntervalDay(8)" in ttl()
    set_retention(chdb_store, 3)
    assert "toIntervalDay(3)" in ttl()


def test_events_table_is_partitioned_by_day_and_ordered_for_filters(chdb_store: Store) -> None:
    row = chdb_store.query(
        "SELECT engine, partition_key, sorting_key FROM system.tables "
        "WHERE database = 'rum' AND name = 'events'")[0]
    assert row["partition_key"] == "toDate(ts)"
    # event_id last: the common filters lead, and a row delivered twice is merged away
    assert row["sorting_key"] == "site, kind, toStartOfHour(ts), event_id"
    assert row["engine"] == "ReplacingMergeTree"


def test_a_row_delivered_twice_is_seen_once(chdb_store: Store) -> None:
    now = round(time.time(), 3)  # inside the retention TTL
    row = {"event_id": "6f1c2a4e-0000-4000-8000-000000000001", "site": "s", "kind": "pageview",
           "ts": now, "received_at": now, "lcp": 2400}
    chdb_store.insert("rum.events", [row])
    chdb_store.insert("rum.events", [row])  # a producer retry or a re-read batch
    raw = chdb_store.query("SELECT count() AS n FROM rum.events")[0]["n"]
    seen = chdb_store.query(
        "SELECT count() AS n FROM rum.segmented_events(site = 's', since_ms = 0, "
        "until_ms = 4000000000000, d1 = '', d2 = '')")[0]["n"]
    assert (raw, seen) == (2, 1)  # two parts until a merge; the queries' view reads FINAL


def test_an_envelope_resent_later_is_seen_once(chdb_store: Store) -> None:
    """A browser resend 1.6 s later: the same event ids, but receive times (and so every
    skew-corrected ts) 1.6 s apart. One row per event id, before and after merges."""
    hour = int(time.time() // 3600 * 3600 * 1000)  # inside the retention TTL

    def sent(received_ms: int) -> bytes:
        skew = received_ms - hour  # the record carries times the collector corrected
        return encode_record(BeaconRecord(
            site="s", session_id="sess", pageview_id="pv1", received_ms=received_ms, pv=1,
            lcp=2400.0, events=[EventRecord(i=0, kind="error", ts_ms=hour - 500 + skew,
                                            message="TypeError: x")]))

    chdb_store.insert_records("rum.beacon_records", [sent(hour + 10_000)])
    chdb_store.insert_records("rum.beacon_records", [sent(hour + 11_600)])
    query = ("SELECT kind, count() AS n, uniqExact(event_id) AS ids, max(ts) AS ts "
             "FROM rum.segmented_events(site = 's', since_ms = 0, until_ms = 4000000000000, "
             "d1 = '', d2 = '') GROUP BY kind ORDER BY kind")
    before = chdb_store.query(query)
    assert [(r["kind"], r["n"], r["ids"]) for r in before] == [("error", 1, 1), ("pageview", 1, 1)]
    chdb_store.command("OPTIMIZE TABLE rum.events FINAL")
    raw = chdb_store.query("SELECT kind, count() AS n FROM rum.events GROUP BY kind ORDER BY kind")
    assert [(r["kind"], r["n"]) for r in raw] == [("error", 1), ("pageview", 1)]


def test_a_page_view_is_found_by_id_in_the_granules_that_may_hold_it(chdb_store: Store) -> None:
    """Migration 0200's skip index: a lookup by pageview_id reads a few of the window's
    granules, not all of them (page-view, and page-views' check of its candidates)."""
    chdb_store.command(
        "INSERT INTO rum.events (event_id, site, kind, ts, received_at, session_id, pageview_id) "
        "SELECT generateUUIDv4(), 'shop', 'pageview', now64(3) - number / 10, now64(3), "
        "concat('s', toString(number % 997)), concat('p', toString(number)) FROM numbers(200000)")
    plan = "\n".join(r["explain"] for r in chdb_store.query(
        "EXPLAIN indexes = 1 SELECT count() FROM rum.events WHERE pageview_id IN ('p5', 'p150000')"))
    skip = plan[plan.index("pageview_bloom"):]
    read, total = (int(x) for x in re.search(r"Granules: (\d+)/(\d+)", skip).groups())  # type: ignore[union-attr]
    assert total >= 20 and read <= 4, skip
    found = chdb_store.query("SELECT count() AS n FROM rum.events WHERE pageview_id IN ('p5', 'p150000')")
    assert found[0]["n"] == 2


def test_the_event_order_sorts_as_time_then_event_id(chdb_store: Store) -> None:
    """rumEventOrder (migration 0230) orders events as the tuple (ts, event_id) does: 200,000
    events in groups of 50, seven to a millisecond (so ties are the rule), some before 1970;
    argMin and a sort by it pick what they pick by the tuple."""
    row = chdb_store.query("""
        SELECT countIf(a != b) AS first_differs, countIf(sa != sb) AS order_differs, count() AS groups
        FROM (
            SELECT argMin(number, (ts, event_id)) AS a, argMin(number, rumEventOrder(ts, event_id)) AS b,
                   arrayMap(x -> x.3, arraySort(x -> (x.1, x.2), groupArray((ts, event_id, number)))) AS sa,
                   arrayMap(x -> x.3, arraySort(x -> rumEventOrder(x.1, x.2),
                                                groupArray((ts, event_id, number)))) AS sb
            FROM (SELECT toDateTime64((intDiv(number, 7) % 9 - 4) * 0.001 + if(number % 2, 0, 1.8e9), 3,
                                      'UTC') AS ts,
                         generateUUIDv4(number) AS event_id, number, intDiv(number, 50) AS g
                  FROM numbers(200000))
            GROUP BY g)""")[0]
    assert row == {"first_differs": 0, "order_differs": 0, "groups": 4000}


def test_a_raw_rest_after_the_rolled_hours_reads_none_of_their_granules(chdb_store: Store) -> None:
    """Migration 0240: a reader whose rolled hours start at its window's start passes
    hole_from_ms 0, so its raw rest is [hole_until_ms, until_ms). Each raw-rest view then
    selects no granule of the parts holding only the rolled hours (the OR alone kept one of
    each part), and a hole after the window's start still leaves the rows before it."""
    from rollups import grid, segments
    from rollups.tables import HOUR_MS, SERIES_PARAMS

    now_hour = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    for back in range(6, 1, -1):  # five parts, rows of two kinds in the hours before the last
        chdb_store.command(
            "INSERT INTO rum.events (event_id, site, kind, ts, received_at, session_id, pageview_id, "
            "lcp, inp, cls, ttfb, rtt) SELECT generateUUIDv4(), 'shop', if(number % 3 = 0, 'error', "
            "'pageview'), fromUnixTimestamp64Milli({at:Int64} + number * 1000, 'UTC'), now64(3), "
            "concat('s', toString(number % 97)), concat('p', toString(number)), 1800 + number, 90, "
            "0.05, 300, 80 FROM numbers(3000)", {"at": now_hour - back * HOUR_MS})
    window = {"site": "shop", "from_ms": now_hour - 6 * HOUR_MS, "until_ms": now_hour + HOUR_MS}
    views = {
        "vital_samples": "metrics = ['lcp'], caps = {caps:Array(Float64)}, goods = {goods:Array(Float64)}, "
                         "poors = {poors:Array(Float64)}, scales = {scales:Array(Float64)}",
        "series_samples": "lcp_cap = {lcp_cap:Float64}, inp_cap = {inp_cap:Float64}, "
                          "cls_cap = {cls_cap:Float64}, ttfb_cap = {ttfb_cap:Float64}, "
                          "good = {good:Float64}, poor = {poor:Float64}",
        "part_samples": "",
        "page_samples": "caps = {caps:Array(Float64)}, scales = {scales:Array(Float64)}",
    }
    params = {**window, **segments.METRIC_PARAMS, **SERIES_PARAMS, **grid.PARAMS}

    def granules(sql: str, hole: dict[str, int]) -> tuple[int, int]:
        plan = "\n".join(r["explain"] for r in chdb_store.query("EXPLAIN indexes = 1 " + sql,
                                                               {**params, **hole}))
        key = plan[plan.index("PrimaryKey"):]
        read, _ = (int(x) for x in re.search(r"Granules: (\d+)/(\d+)", key).groups())  # type: ignore[union-attr]
        return read, int(chdb_store.query(sql, {**params, **hole})[0]["n"])

    rolled_to_the_end = {"hole_from_ms": 0, "hole_until_ms": now_hour}
    rolled_before = {"hole_from_ms": now_hour - 4 * HOUR_MS, "hole_until_ms": now_hour}
    for view, extra in views.items():
        sql = (f"SELECT count() AS n FROM rum.{view}(site = {{site:String}}, from_ms = {{from_ms:Int64}}, "
               f"until_ms = {{until_ms:Int64}}, hole_from_ms = {{hole_from_ms:Int64}}, "
               f"hole_until_ms = {{hole_until_ms:Int64}}, {extra + ', ' if extra else ''}"
               f"grid_ratio = {{grid_ratio:Float64}}, grid_last = {{grid_last:UInt16}})")
        read, n = granules(sql, rolled_to_the_end)
        # (page_samples takes every kind: in each part the granule where two kinds meet
        # may hold either kind's rows of any hour, so it stays)
        assert n == 0 and read <= (5 if view == "page_samples" else 0), (view, read)
        read, n = granules(sql, rolled_before)  # the rest before the hole is still read
        assert read > 0 and n > 0, view
        no_hole = granules(sql, {"hole_from_ms": 0, "hole_until_ms": 0})[1]
        assert n < no_hole, view
