"""The rolled questions' reads of a rollup reach its primary key by metric.

The rollups are ordered by (site, metric, ...), and a rolled SQL reads its metrics with
`metric IN (...)`. Its SELECT also names `toString(metric) AS metric`, and ClickHouse lets a
WHERE see a SELECT's aliases: an unqualified `metric` there was the String, which the key
cannot use, so every metric's granules were read (apdex over the analytics bench's 7 days:
122 granules of rum.segments_hourly, 44 with the column). Each file now names the column
(`segments_hourly.metric`); ClickHouse's own EXPLAIN is read to check it."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from rollups.scheduler import Roller
from tests.recording import Recording
from tests.rollups.test_segments import plant


def key_conditions(store: Store, sql: str, params: dict[str, Any]) -> dict[str, str]:
    """The primary key's condition of each rollup table the SQL reads (EXPLAIN indexes = 1)."""
    plan = "\n".join(r["explain"] for r in store.query("EXPLAIN indexes = 1 " + sql, params))
    found = {}
    for table, block in re.findall(r"ReadFromMergeTree \((rum\.\w+_hourly)\)(.*?)(?=ReadFromMergeTree|\Z)",
                                   plan, re.S):
        key = re.search(r"PrimaryKey.*?Condition: ([^\n]*)", block, re.S)
        found[table] = key.group(1) if key else ""
    return found


@pytest.mark.parametrize(("question", "extra", "table"), [
    ("apdex", {"by": "device_class"}, "rum.segments_hourly"),
    ("vitals-ratings", {}, "rum.segments_hourly"),
    ("slow-regions", {}, "rum.vitals_hourly"),
    ("slow-regions", {"why": "true"}, "rum.segments_hourly"),  # the parts (segment_parts_rolled)
    ("vitals-timeseries", {"bucket": "10m"}, "rum.series_hourly"),
])
def test_a_rolled_read_selects_its_metrics_by_the_key(chdb_store: Store, question: str,
                                                      extra: dict[str, str], table: str) -> None:
    now = time.time()
    plant(chdb_store, now, n=1500)
    assert Roller(chdb_store).cycle(now=now) > 0
    spec = get_query(question)
    recording = Recording(chdb_store)
    spec.run(recording, spec.parse({"window": "3h", "site": "shop", **extra}), now=now)  # type: ignore[arg-type]
    conditions = [c for sql, params in recording.asked
                  for t, c in key_conditions(chdb_store, sql, params).items() if t == table]
    assert conditions, f"{question} read no rolled hour of {table}"
    for condition in conditions:
        assert re.search(r"\(metric (not )?in ", condition), condition
        assert "toString(metric)" not in condition
