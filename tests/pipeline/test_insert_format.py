"""ChdbStore inserts rows as an Arrow batch when every value has its column's exact type,
else as JSONEachRow; either way the stored rows are the ones JSONEachRow stores."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.chdb_store import ChdbStore, arrow_batch
from pipeline.schema import migrate
from pipeline.store import StoreError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ChdbStore]:
    """A migrated store with rum.json_events: rum.events' columns, filled only by JSONEachRow."""
    chdb = ChdbStore(tmp_path / "chdb")
    migrate(chdb, 30)
    chdb.command("CREATE TABLE rum.json_events AS rum.events ENGINE = MergeTree ORDER BY event_id")
    try:
        yield chdb
    finally:
        chdb.close()


def _json_insert(store: ChdbStore, rows: list[dict[str, Any]]) -> None:
    body = b"\n".join(orjson.dumps(r) for r in rows).decode()
    store.command("INSERT INTO rum.json_events SETTINGS input_format_skip_unknown_fields = 0 "
                  f"FORMAT JSONEachRow\n{body}")


def _stored(store: ChdbStore, table: str) -> bytes:
    # as ClickHouse prints every column: Float32s and DateTime64s compared as stored
    return store._run(f"SELECT * FROM {table} ORDER BY event_id, kind", "TabSeparated")


def _same_as_json(store: ChdbStore, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    store.insert("rum.events", rows)
    _json_insert(store, rows)
    assert _stored(store, "rum.events") == _stored(store, "rum.json_events")
    stored = store.query("SELECT * FROM rum.events ORDER BY event_id, kind")
    assert len(stored) == len(rows)
    return stored


def _row(**fields: Any) -> dict[str, Any]:
    now = round(time.time(), 3)
    row: dict[str, Any] = {"event_id": str(uuid.uuid4()), "site": "s", "kind": "pageview",
                           "ts": now, "received_at": now}
    row.update(fields)
    return row


def test_every_column_type_round_trips(store: ChdbStore) -> None:
    rows = [
        # Nullable(Float32) set, Float32 with a default, LowCardinality, UInt8 flags, UInt32
        _row(lcp=2512.123456789, inp=0.0, cls=0.25, tbt=33.3, sample_weight=2.0, country="DE",
             is_bot=1, save_data=1, transfer_size=4_000_000_000, long_tasks=7, seq=65535,
             ts=1795698600.181, received_at=1795698600.5),
        # Nullable columns absent and explicitly null; non-Nullable null takes the default
        _row(lcp=None, tbt=None, sample_weight=None, country=None, login_success=None),
        # Nullable(UInt8), Nullable(Float64), UInt16, strings with quotes and newlines
        _row(kind="login", login_success=0, login_reason="bad \"pw\"\n"),
        _row(kind="conversion", conversion_value=49.95, currency="EUR"),
        _row(kind="api", api_status=503, api_duration=812, api_method="GET"),
        _row(kind="custom", event_name="step", event_props=orjson.dumps({"a": [1, "é"]}).decode()),
        _row(ts=1795698600, received_at=0.001),  # whole seconds as an int, the epoch's first ms
    ]
    columns = store._table_columns("rum.events")
    assert columns is not None and arrow_batch(columns, rows) is not None
    stored = {r["event_id"]: r for r in _same_as_json(store, rows)}
    first, nulls = stored[rows[0]["event_id"]], stored[rows[1]["event_id"]]
    assert first["ts"] == "2026-11-26 13:10:00.181" and first["received_at"].endswith(".500")
    assert first["transfer_size"] == 4_000_000_000 and first["sample_weight"] == 2
    assert nulls["lcp"] is None and nulls["tbt"] == 0 and nulls["sample_weight"] == 1
    assert nulls["country"] == "" and nulls["login_success"] is None


@pytest.mark.parametrize(("fields", "as_json"), [
    ({"ts": 1795698600.1809}, True),          # sub-millisecond: JSON truncates the digits
    ({"ts": "2026-11-26 10:00:00"}, True),    # text date
    ({"received_at": -1.5}, True),
    ({"lcp": "1200"}, True),                  # a number as text
    ({"lcp": float("nan")}, True),            # orjson writes null
    ({"error_line": 3.0}, True),              # a float in an integer column (JSON refuses it)
    ({"is_bot": True}, True),                 # a bool in an integer column
    ({"country": 49}, True),                  # a number in a string column
    ({"transfer_size": 2**40}, True),         # out of the column's range
    ({"lcp": True}, False),                   # next to a float: 1.0 either way
    ({"lcp": 16_777_217}, False),             # next to a float: the same nearest Float32
])
def test_values_arrow_would_read_differently_go_as_json(store: ChdbStore, fields: dict[str, Any],
                                                         as_json: bool) -> None:
    rows = [_row(lcp=1.0), _row(**fields)]
    columns = store._table_columns("rum.events")
    assert columns is not None and (arrow_batch(columns, rows) is None) == as_json
    try:
        _json_insert(store, rows)
    except StoreError as refused:
        with pytest.raises(StoreError) as info:
            store.insert("rum.events", rows)
        assert str(info.value) == str(refused)
        return
    store.insert("rum.events", rows)
    assert _stored(store, "rum.events") == _stored(store, "rum.json_events")


def test_unknown_column_is_refused_loudly(store: ChdbStore) -> None:
    with pytest.raises(StoreError) as info:
        store.insert("rum.events", [_row(), _row(lcp_typo=1.0)])
    assert info.value.bad_data
    assert "lcp_typo" in str(info.value)
    assert store.query("SELECT count() AS n FROM rum.events")[0]["n"] == 0


def test_bad_value_is_refused_with_the_json_error(store: ChdbStore) -> None:
    with pytest.raises(StoreError) as info:
        store.insert("rum.events", [_row(), _row(event_id="not-a-uuid")])
    assert info.value.bad_data
    assert "JSONEachRow" in str(info.value) or "while reading the value" in str(info.value)
    assert store.query("SELECT count() AS n FROM rum.events")[0]["n"] == 0


def test_rows_of_different_shapes_keep_their_order(store: ChdbStore) -> None:
    rows = [_row(lcp=1.0) if i % 3 else _row(kind="error", error_message=str(i))
            for i in range(30)]
    columns = store._table_columns("rum.events")
    assert columns is not None
    batch = arrow_batch(columns, rows)
    assert batch.column("event_id").to_pylist() == [r["event_id"] for r in rows]
    assert batch.column("error_message").to_pylist() == [r.get("error_message") for r in rows]


def test_a_new_column_is_seen_after_a_schema_change(store: ChdbStore) -> None:
    store.command("CREATE TABLE rum.small (id UUID, n UInt32, a Array(String)) "
                  "ENGINE = MergeTree ORDER BY id")
    # a column type the Arrow path does not handle: the table always goes as JSON
    store.insert("rum.small", [{"id": str(uuid.uuid4()), "n": 1, "a": ["x"]}])
    store.command("ALTER TABLE rum.small DROP COLUMN a")
    store.command("ALTER TABLE rum.small ADD COLUMN label String")
    assert store._table_columns("rum.small") is not None
    store.insert("rum.small", [{"id": str(uuid.uuid4()), "n": 2, "label": "new"}])
    assert store.query("SELECT n, label FROM rum.small ORDER BY n") == [
        {"n": 1, "label": ""}, {"n": 2, "label": "new"}]
