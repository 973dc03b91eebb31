"""ClickHouse builds the rows: the corpus through the stages and the landing table's views
gives exactly the rows the Python row builder stored (golden/rows.jsonl, every column)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from collector.drops import Dropped
from collector.geo import GeoLookup
from collector.privacy import QueryAllowList
from collector.stages import Beacon, build_stages
from pipeline.chdb_store import ChdbStore
from pipeline.schema import migrate
from tests.collector.corpus import CASES, RECEIVED_MS
from tests.pipeline.records import event_id

GOLDEN = Path(__file__).parent / "golden" / "rows.jsonl"
_COLUMNS = ("SELECT * EXCEPT event_id, session_id || '/' || pageview_id || '/' || toString(seq) "
            "AS id_key FROM rum.events WHERE site = 'shop-eu' ORDER BY session_id, kind, ts, event_id "
            "FORMAT JSONEachRow")


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory,
           geoip_dbs: tuple[Path, Path]) -> ChdbStore:
    store = ChdbStore(tmp_path_factory.mktemp("rows") / "db")
    migrate(store, 3650)
    stages = build_stages(GeoLookup(*geoip_dbs), allow=QueryAllowList(["utm_*"]))
    lines = []
    for name, body, ctx in CASES:
        beacon = Beacon(body=orjson.dumps(body), client_ip=ctx["ip"], user_agent=ctx["ua"],
                        received_ms=RECEIVED_MS)
        result: Beacon | Dropped = beacon
        for _, stage in stages:
            assert isinstance(result, Beacon), name
            result = stage(result)
        assert isinstance(result, Beacon), (name, result)
        lines.append(result.line)
    store.insert_records("rum.beacon_records", lines)
    return store


def test_every_column_of_every_row_is_what_the_python_builder_stored(stored: ChdbStore) -> None:
    got = [orjson.loads(line) for line in stored._run(_COLUMNS, "JSONEachRow").splitlines()]
    want = [orjson.loads(line) for line in GOLDEN.read_bytes().splitlines()]
    assert len(got) == len(want) == 30
    for row, expected in zip(got, want, strict=True):
        assert row == expected


def test_event_ids_are_the_documented_hash_of_the_event_key(stored: ChdbStore) -> None:
    ids = {r["event_id"] for r in stored.query(
        "SELECT toString(event_id) AS event_id FROM rum.events WHERE site = 'shop-eu'")}
    want = set()
    for _, body, _ in CASES:
        key = f"{body['site']}/{body['sid']}/{body['pid']}/{body.get('seq', 0)}/"
        if any(k in body for k in ("nav", "vitals", "perf", "net")):
            want.add(event_id(key + "pv"))
        for index, event in enumerate(body.get("events", [])):
            ts = event.get("ts")
            skew = RECEIVED_MS - body["sent_at"]
            if ts is None or RECEIVED_MS - 86_400_000 <= ts + skew <= RECEIVED_MS + 60_000:
                want.add(event_id(key + str(index)))
    assert ids == want


def test_a_receivers_batch_key_is_part_of_the_event_ids(stored: ChdbStore) -> None:
    stages = build_stages(GeoLookup(None))
    body = orjson.dumps({**CASES[0][1], "site": "batch-test"})
    lines = []
    for batch in ("k1", "k1", "k2", ""):  # a retried batch, another batch, no batch
        result: Beacon | Dropped = Beacon(body=body, client_ip=None, user_agent="",
                                          received_ms=RECEIVED_MS, batch=batch)
        for _, stage in stages:
            assert isinstance(result, Beacon)
            result = stage(result)
        assert isinstance(result, Beacon)
        lines.append(result.line)
    stored.insert_records("rum.beacon_records", lines)
    ids = {r["id"] for r in stored.query("SELECT DISTINCT toString(event_id) AS id FROM rum.events "
                                         "WHERE site = 'batch-test'")}
    key = "batch-test/sess-1/pv-1/0/"
    assert ids == {event_id(key + b + p) for b in ("k1/", "k2/", "") for p in ("pv", "0", "1")}
