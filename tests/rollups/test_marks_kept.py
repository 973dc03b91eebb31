"""Readers keep a rollup's marks by the state of its table (rollups/coverage.py `_marks`):
a question asked again before the table changes reads only its parts' paths, and any roll
(here one for a late row) makes the marks be read again, so the hours readers take are the
ones the table holds. A store opened anew in another folder keeps nothing of another's,
and a store that refuses to list its parts reads the marks each time."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

import rollups.coverage as cov
from pipeline.store import Store
from rollups.scheduler import Roller
from rollups.tables import HOUR_MS, SEGMENTS
from tests.rollups.test_days import roll_all
from tests.rollups.test_segments import page_view, plant


def _spy(monkeypatch: pytest.MonkeyPatch, store: Store) -> list[str]:
    """The SQL of each query the store runs from here on."""
    seen: list[str] = []
    query = store.query

    def counted(sql: str, params: dict[str, Any] | None = None) -> Any:
        seen.append(sql)
        return query(sql, params)

    monkeypatch.setattr(store, "query", counted)
    return seen


def test_marks_are_kept_until_the_rollup_table_changes(chdb_store: Store,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    plant(chdb_store, now, n=900, hours=3)
    roller = Roller(chdb_store)
    roll_all(roller, now)
    until = int(now * 1000)
    since = until - 3 * HOUR_MS
    seen = _spy(monkeypatch, chdb_store)
    first = cov.coverage(chdb_store, since, until, SEGMENTS)
    assert first["rolls"] and seen.count(SEGMENTS.marks) == 1
    again = cov.coverage(chdb_store, since, until - 60_000, SEGMENTS)  # an earlier end: cut here
    assert seen.count(SEGMENTS.marks) == 1 and seen.count(cov._PARTS) == 2
    cov._kept.clear()
    assert cov.coverage(chdb_store, since, until - 60_000, SEGMENTS) == again

    # a late row two hours back: the roller rolls that hour again, under a new roll id
    late = page_view(now - 2 * 3600, random.Random(3))
    chdb_store.insert("rum.events", [late])
    roll_all(roller, now + 1)
    seen.clear()  # (the roller reads marks too)
    after = cov.coverage(chdb_store, since, until, SEGMENTS)
    assert seen.count(SEGMENTS.marks) == 1
    assert after["rolls"] != first["rolls"]
    cov._kept.clear()
    assert cov.coverage(chdb_store, since, until, SEGMENTS) == after


def test_another_store_keeps_nothing_of_the_last(tmp_path: Path) -> None:
    """Two stores with the same history (the same part names) in turn, rolled at different
    times (so under other roll ids): each reads its own marks."""
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    now = time.time()
    for name in ("a", "b"):
        store = ChdbStore(tmp_path / name)
        try:
            migrate(store, 30)
            plant(store, now, n=300, hours=2)
            roll_all(Roller(store), now)
            until = int(now * 1000)
            read = cov.coverage(store, until - 2 * HOUR_MS, until, SEGMENTS)
            cov._kept.clear()
            assert read["rolls"] and read == cov.coverage(store, until - 2 * HOUR_MS, until, SEGMENTS)
        finally:
            store.close()


def test_a_store_that_refuses_system_parts_reads_the_marks_each_time(
        chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ClickHouse server whose user may not read system.parts (faked here: chDB refusing
    that one query) answers as before, reading the marks every time."""
    from pipeline.store import StoreError

    now = time.time()
    plant(chdb_store, now, n=300, hours=2)
    roll_all(Roller(chdb_store), now)
    until = int(now * 1000)
    expected = cov.coverage(chdb_store, until - 2 * HOUR_MS, until, SEGMENTS)
    seen = _spy(monkeypatch, chdb_store)
    query = chdb_store.query

    def refusing(sql: str, params: dict[str, Any] | None = None) -> Any:
        if sql == cov._PARTS:
            raise StoreError("Not enough privileges to read system.parts")
        return query(sql, params)

    monkeypatch.setattr(chdb_store, "query", refusing)
    for _ in range(2):
        assert cov.coverage(chdb_store, until - 2 * HOUR_MS, until, SEGMENTS) == expected
    assert seen.count(SEGMENTS.marks) == 2
