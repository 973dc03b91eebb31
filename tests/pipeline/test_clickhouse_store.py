"""ClickHouseStore: unit tests with a fake clickhouse-connect client (no ClickHouse server can
run here), plus an integration test against a real server when RUM_TEST_CLICKHOUSE_URL is set."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import orjson
import pytest

from pipeline.clickhouse_store import ClickHouseStore
from pipeline.store import StoreError


class FakeClickHouseClient:
    """Records calls the way clickhouse-connect's Client would receive them."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_with = fail_with

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def raw_insert(self, table: str, insert_block: bytes, fmt: str, settings: dict[str, Any]) -> None:
        self._maybe_fail()
        self.calls.append(("insert", (table, insert_block, fmt, settings)))

    def raw_query(self, sql: str, parameters: dict[str, Any], fmt: str) -> bytes:
        self._maybe_fail()
        self.calls.append(("query", (sql, parameters, fmt)))
        return b'{"n":1}\n{"n":2}\n'

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        self._maybe_fail()
        self.calls.append(("command", sql))

    def close(self) -> None:
        self.calls.append(("close", None))


def test_fake_client_insert_sends_one_jsoneachrow_body() -> None:
    client = FakeClickHouseClient()
    store = ClickHouseStore("http://unused", client=client)
    store.insert("rum.events", [{"a": 1}, {"a": 2, "b": "x"}])
    store.insert("rum.events", [])
    assert client.calls == [("insert", ("rum.events", b'{"a":1}\n{"a":2,"b":"x"}', "JSONEachRow",
                                        {"input_format_skip_unknown_fields": 0}))]


def test_fake_client_query_binds_parameters_server_side() -> None:
    client = FakeClickHouseClient()
    store = ClickHouseStore("http://unused", client=client)
    rows = store.query("SELECT {x:UInt8} AS n", {"x": 1})
    assert rows == [{"n": 1}, {"n": 2}]
    assert client.calls == [("query", ("SELECT {x:UInt8} AS n", {"x": 1}, "JSONEachRow"))]


def test_fake_client_errors_become_store_errors_with_data_classification() -> None:
    down = ClickHouseStore("http://unused", client=FakeClickHouseClient(
        ConnectionError("Connection refused")))
    with pytest.raises(StoreError) as info:
        down.insert("rum.events", [{"a": 1}])
    assert not info.value.bad_data
    bad = ClickHouseStore("http://unused", client=FakeClickHouseClient(
        RuntimeError("Code: 27. DB::Exception: Cannot parse input")))
    with pytest.raises(StoreError) as info:
        bad.insert("rum.events", [{"a": 1}])
    assert info.value.bad_data


@pytest.mark.skipif(not os.environ.get("RUM_TEST_CLICKHOUSE_URL"),
                    reason="set RUM_TEST_CLICKHOUSE_URL to run against a ClickHouse server")
def test_real_clickhouse_server_migrate_insert_query() -> None:
    from pipeline.schema import migrate
    from queries.catalog import get_query

    store = ClickHouseStore(os.environ["RUM_TEST_CLICKHOUSE_URL"])
    try:
        migrate(store, 30)
        site = f"it-{uuid.uuid4().hex[:8]}"
        now = round(time.time(), 3)
        store.insert("rum.events", [{"event_id": str(uuid.uuid4()), "site": site, "kind": "pageview",
                                     "ts": now, "received_at": now, "country": "IN", "lcp": 5000.0}
                                    for _ in range(40)])
        spec = get_query("slow-regions")
        rows = spec.run(store, spec.parse({"site": site, "min_samples": "30"}))
        assert orjson.loads(orjson.dumps(rows))[0]["country"] == "IN"
        assert rows[0]["flagged"] == 1
    finally:
        store.close()
