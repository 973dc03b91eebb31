"""Scaled store: a ClickHouse server through clickhouse-connect (HTTP)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from pipeline.store import StoreError


class ClickHouseStore:
    """Store on a ClickHouse server; same SQL and JSONEachRow inserts as chDB."""

    def __init__(self, url: str, client: Any = None) -> None:
        if client is None:
            import clickhouse_connect

            parts = urlsplit(url)
            client = clickhouse_connect.get_client(
                host=parts.hostname or "localhost",
                port=parts.port or (8443 if parts.scheme == "https" else 8123),
                username=parts.username or "default",
                password=parts.password or "",
                secure=parts.scheme == "https",
            )
        self._client = client

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows as one JSONEachRow body."""
        if not rows:
            return
        body = b"\n".join(orjson.dumps(r) for r in rows)
        try:
            self._client.raw_insert(table, insert_block=body, fmt="JSONEachRow",
                                    settings={"input_format_skip_unknown_fields": 0})
        except Exception as exc:
            raise StoreError(str(exc).splitlines()[0][:500]) from exc

    def insert_records(self, table: str, lines: Sequence[bytes]) -> None:
        """Insert JSON lines (beacon records) as one JSONEachRow body; unknown keys skipped."""
        if not lines:
            return
        try:
            self._client.raw_insert(table, insert_block=b"\n".join(lines), fmt="JSONEachRow",
                                    settings={"input_format_skip_unknown_fields": 1})
        except Exception as exc:
            raise StoreError(str(exc).splitlines()[0][:500]) from exc

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """SELECT with server-side bound {name:Type} parameters."""
        try:
            raw = self._client.raw_query(sql, parameters=dict(params or {}), fmt="JSONEachRow")
        except Exception as exc:
            raise StoreError(str(exc).splitlines()[0][:500]) from exc
        return [orjson.loads(line) for line in bytes(raw).splitlines() if line]

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """DDL or another statement with no result, {name:Type} placeholders bound."""
        try:
            self._client.command(sql, parameters=dict(params) if params else None)
        except Exception as exc:
            raise StoreError(str(exc).splitlines()[0][:500]) from exc

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()
