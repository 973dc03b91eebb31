"""A weight a client claims cannot break or swing the answers: stored weights are bounded
(migration 0110 for rows stored before the bound; the landing table's views since)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from collector.geo import GeoLookup
from collector.stages import Beacon, build_stages
from pipeline.chdb_store import ChdbStore
from pipeline.schema import migrate
from queries.catalog import CATALOG
from tests.beacons import envelope


def _record(body: dict[str, Any]) -> bytes:
    result: Any = Beacon(body=orjson.dumps(body), client_ip=None, received_ms=time.time() * 1000,
                         user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/131.0.0.0 Safari/537.36")
    for _, stage in build_stages(GeoLookup(None)):
        result = stage(result)
    assert isinstance(result, Beacon)
    return result.line


def test_a_tiny_claimed_rate_weighs_at_most_100_page_views(chdb_store: ChdbStore) -> None:
    lines = [_record(envelope(site="w", vitals={"lcp": 1000})) for _ in range(300)]
    lines.append(_record(envelope(site="w", sample_rate=1e-45, vitals={"lcp": 60_000})))
    chdb_store.insert_records("rum.beacon_records", lines)
    weights = chdb_store.query("SELECT max(sample_weight) AS top, sum(sample_weight) AS total "
                               "FROM rum.events FINAL WHERE site = 'w'")[0]
    assert weights == {"top": 100, "total": 400}
    rows = chdb_store.query("SELECT quantileExactWeighted(0.75)(lcp, toUInt64(sample_weight)) AS p75 "
                            "FROM rum.events FINAL WHERE site = 'w'")
    assert rows[0]["p75"] == 1000  # 300 honest page views outweigh the one claim of 100


def test_infinite_weights_stored_before_are_bounded_and_every_query_answers(
        tmp_path: Any) -> None:
    store = ChdbStore(tmp_path / "db")
    try:
        migrate(store, 30)
        now = int(time.time() * 1000)
        store.command(
            "INSERT INTO rum.events (event_id, site, kind, ts, received_at, session_id, "
            "country, lcp, inp, ttfb, cls, sample_weight, is_bot) "
            "SELECT generateUUIDv4(), 'inf', 'pageview', fromUnixTimestamp64Milli({now:Int64} - "
            "number * 1000, 'UTC'), now64(3), concat('s', toString(number)), 'BR', 1000, 100, "
            "200, 0.01, if(number = 7, inf, 1), 0 FROM numbers(200)", {"now": now})
        store.command("ALTER TABLE rum.schema_migrations DELETE WHERE version = 110 "
                      "SETTINGS mutations_sync = 2")
        assert "0110_bounded_sample_weights.sql" in migrate(store, 30)
        top = store.query("SELECT max(sample_weight) AS w FROM rum.events WHERE site = 'inf'")
        assert top[0]["w"] == 100
        for name, spec in CATALOG.items():  # every question answers, none raises
            raw = {"site": "inf"}
            if "steps" in spec.params:
                raw["steps"] = "/,/checkout"
            if "pageview" in spec.params:
                raw["pageview"] = "p-1"
            rows = spec.run(store, spec.parse(raw))
            assert isinstance(rows, list), name
            figures = [{k: v for k, v in r.items() if k != "site"} for r in rows]  # the site is 'inf'
            assert "inf" not in orjson.dumps(figures, option=orjson.OPT_SERIALIZE_NUMPY).decode(), name
    finally:
        store.close()


@pytest.mark.parametrize("rate", [1e-45, 1e-6, 0.009])
def test_the_floor_applies_to_any_tiny_claim(rate: float) -> None:
    record = orjson.loads(_record(envelope(sample_rate=rate, vitals={"lcp": 1})))
    assert record["sample_weight"] == 100
