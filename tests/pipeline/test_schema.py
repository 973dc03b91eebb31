"""Migrations apply once, in order, and set the retention TTL."""

from __future__ import annotations

import time

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


def test_events_table_is_partitioned_by_day_and_ordered_for_filters(chdb_store: Store) -> None:
    row = chdb_store.query(
        "SELECT engine, partition_key, sorting_key FROM system.tables "
        "WHERE database = 'rum' AND name = 'events'")[0]
    assert row["partition_key"] == "toDate(ts)"
    # event_id last: the common filters lead, and a row delivered twice is merged away
    assert row["sorting_key"] == "site, kind, ts, event_id"
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
