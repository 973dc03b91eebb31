"""Migrations apply once, in order, and set the retention TTL."""

from __future__ import annotations

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
        "SELECT partition_key, sorting_key FROM system.tables "
        "WHERE database = 'rum' AND name = 'events'")[0]
    assert row["partition_key"] == "toDate(ts)"
    assert row["sorting_key"] == "site, kind, ts"
