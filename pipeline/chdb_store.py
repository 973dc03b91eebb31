"""Embedded store: chDB, the ClickHouse engine in-process, data under the data dir."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pipeline.store import StoreError

_TABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_.0123456789")


class ChdbStore:
    """Store on a chDB session; one per process (chDB allows one live session)."""

    def __init__(self, path: Path) -> None:
        from chdb import session

        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._session = session.Session(str(path))  # type: ignore[no-untyped-call]
        # chDB sessions are not safe for concurrent use from several threads
        self._lock = threading.Lock()

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows as JSONEachRow in one statement."""
        if not rows:
            return
        if not set(table) <= _TABLE_CHARS:
            raise StoreError(f"bad table name {table!r}")
        body = b"\n".join(orjson.dumps(r) for r in rows).decode()
        # unknown keys fail loudly instead of being skipped: a typo must not lose a column
        self._run(f"INSERT INTO {table} SETTINGS input_format_skip_unknown_fields = 0 "
                  f"FORMAT JSONEachRow\n{body}")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """SELECT with bound parameters; rows as dicts."""
        out = self._run(sql, "JSONEachRow", dict(params or {}))
        return [orjson.loads(line) for line in out.splitlines() if line]

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """DDL or another statement with no result, {name:Type} placeholders bound."""
        self._run(sql, params=dict(params or {}))

    def _run(self, sql: str, fmt: str = "CSV", params: dict[str, Any] | None = None) -> bytes:
        with self._lock:
            try:
                result = self._session.query(sql, fmt, params=params or None)  # type: ignore[no-untyped-call]
            except Exception as exc:  # chDB raises a bare RuntimeError-like error
                raise StoreError(str(exc).strip().splitlines()[0][:500]) from exc
        data: bytes = result.bytes() if result is not None else b""
        return data

    def close(self) -> None:
        """Close the chDB session so another can be opened."""
        with self._lock:
            self._session.close()  # type: ignore[no-untyped-call]
