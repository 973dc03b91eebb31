"""A store that records what a question asks of it: for the tests (and the analytics
bench's --planning) that read ClickHouse's EXPLAIN of a question's SQL, or check which SQL
it ran."""

from __future__ import annotations

from typing import Any

from pipeline.store import Store


class Recording:
    """The store, recording each SQL and its parameters a question runs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.asked.append((sql, dict(params or {})))
        return self.store.query(sql, params)
