"""Store wrappers for tests: the real store with an injected fault or delay, or keeping the
questions it answers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.store import Store, StoreError
from queries import load_sql


class FaultInjectedStore:
    """A real store with switches: `down` makes inserts fail as if the store were down,
    `read_error` (when set) is raised by every query (an outage, or a bug, on the read side)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.down = False
        self.read_error: Exception | None = None
        self.insert_calls = 0

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.insert_calls += 1
        if self.down:
            raise StoreError("Code: 210. Connection refused (injected)")
        self.inner.insert(table, rows)

    def insert_records(self, table: str, lines: Sequence[bytes]) -> None:
        self.insert_calls += 1
        if self.down:
            raise StoreError("Code: 210. Connection refused (injected)")
        self.inner.insert_records(table, lines)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        if self.read_error is not None:
            raise self.read_error
        return self.inner.query(sql, params)

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.inner.command(sql, params)

    def close(self) -> None:
        self.inner.close()


class SlowStore(FaultInjectedStore):
    """The real store, taking `delay` seconds more per insert (a busy ClickHouse)."""

    def __init__(self, inner: Store, delay: float) -> None:
        super().__init__(inner)
        self.delay = delay

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        time.sleep(self.delay)
        super().insert(table, rows)

    def insert_records(self, table: str, lines: Sequence[bytes]) -> None:
        time.sleep(self.delay)
        super().insert_records(table, lines)


class RecordingStore(FaultInjectedStore):
    """The real store, keeping the SQL and parameters of each query it answers."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.asked.append((sql, dict(params or {})))
        return super().query(sql, params)

    def params_of(self, *names: str) -> list[dict[str, Any]]:
        """The parameters of each query answered whose SQL is one of `names` (queries/*.sql)."""
        texts = {load_sql(name) for name in names}
        return [params for sql, params in self.asked if sql in texts]
