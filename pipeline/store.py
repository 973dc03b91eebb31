"""The store interface: insert rows, run parameterized SQL. Two implementations share it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from collector.settings import Settings

# ClickHouse error codes that mean "this data is bad", not "the store is down":
# retrying the same rows cannot succeed, so the batcher isolates and dead-letters them.
DATA_ERROR_CODES = frozenset({6, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 131, 349, 376})
_CODE = re.compile(r"Code: (\d+)")


class StoreError(RuntimeError):
    """The store could not do what was asked (down, bad SQL, bad rows...)."""

    @property
    def bad_data(self) -> bool:
        """True when the rows themselves were refused (a retry would fail again)."""
        match = _CODE.search(str(self))
        return match is not None and int(match.group(1)) in DATA_ERROR_CODES


class Store(Protocol):
    """What the collector, pipeline and queries need from ClickHouse or chDB."""

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows (dicts keyed by column) into `table` (e.g. 'rum.events')."""

    def insert_records(self, table: str, lines: Sequence[bytes]) -> None:
        """Insert JSON lines (one object each, e.g. beacon records) in one statement; keys
        the table does not have are skipped (a newer writer, an older schema)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT with {name:Type} placeholders bound from params; rows as dicts."""

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT), params bound."""

    def close(self) -> None:
        """Release the connection or the embedded engine."""


def open_store(settings: Settings) -> Store:
    """The store the settings ask for: ClickHouse server if a URL is set, else chDB."""
    if settings.clickhouse_url:
        from pipeline.clickhouse_store import ClickHouseStore

        return ClickHouseStore(settings.clickhouse_url)
    from pipeline.chdb_store import ChdbStore

    return ChdbStore(settings.data_dir / "chdb")
