"""The histogram grid is defined once (rollups/grid.py): every SQL file binds it, and a
rolled histogram puts each value where `grid.bucket` says."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from pathlib import Path

from pipeline.store import Store
from rollups import grid
from rollups.tables import HOUR_MS, VITALS

ROOT = Path(__file__).resolve().parents[2]
# SQL that reads or writes histograms (migrations are history: their comments may name it)
SQL_DIRS = ("queries", "rollups/sql", "grafana/sql")
GRID_LITERAL = re.compile(r"(?<![\w.])(?:599|600|1\.02)(?![\w.])")


def code_of(sql: str) -> str:
    return "\n".join(line.split("--")[0] for line in sql.splitlines())


def test_no_sql_file_writes_the_grid_inline() -> None:
    files = [p for d in SQL_DIRS for p in sorted((ROOT / d).glob("*.sql"))]
    assert len(files) > 20
    inline = {p.relative_to(ROOT).as_posix(): GRID_LITERAL.findall(code_of(p.read_text()))
              for p in files}
    assert {name: found for name, found in inline.items() if found} == {}
    binding = [p.name for p in files if "{grid_ratio:Float64}" in p.read_text()]
    assert {"slow_regions.sql", "revenue_by_speed.sql", "revenue_by_speed_rolled.sql",
            "vitals_roll.sql", "sessions_roll.sql"} <= set(binding)


def test_the_grid_in_python_matches_the_edges() -> None:
    assert [grid.bucket(v) for v in (0, 0.99, 1, 1.019, 1.0201, 2500, 1e12)] == \
        [0, 0, 1, 1, 2, 1 + 395, grid.LAST]
    for b in (1, 2, 100, 398, grid.LAST):
        assert grid.bucket(grid.lower_edge(b) * 1.0000001) == b
        assert grid.bucket(grid.lower_edge(b) * 0.9999) == b - 1


def roll_one_hour(store: Store, lcps: list[float], binds: dict[str, float | int]) -> list[int]:
    hour = (int(time.time() * 1000) // HOUR_MS - 2) * HOUR_MS
    store.insert("rum.events", [
        {"event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview",
         "ts": (hour + 1000 + i) / 1000, "received_at": (hour + 1000 + i) / 1000,
         "country": "NL", "region": "NH", "lcp": v} for i, v in enumerate(lcps)])
    rollup = dataclasses.replace(VITALS, binds=binds)
    store.command(rollup.roll, {**rollup.binds, "from_ms": hour, "until_ms": hour + HOUR_MS, "roll": 1})
    rows = store.query("SELECT counts FROM rum.vitals_hourly WHERE site = 'shop' AND metric = 'lcp'")
    assert len(rows) == 1
    return list(rows[0]["counts"])


def test_a_rolled_histogram_puts_each_value_where_the_grid_says(chdb_store: Store) -> None:
    lcps = [0.5, 1.0, 1.5, 999.0, 1000.0, 2499.9, 2500.0, 2501.0, 61_000.0, 1e9]
    counts = roll_one_hour(chdb_store, lcps, grid.PARAMS)
    assert len(counts) == grid.BUCKETS
    want = [0] * grid.BUCKETS
    for v in lcps:
        want[grid.bucket(v)] += 1
    assert counts == want


def test_the_roll_follows_the_bound_grid(chdb_store: Store) -> None:
    """Another grid bound (5% wide, 100 buckets) gives histograms of that grid: nothing in
    the SQL assumes the default one."""
    counts = roll_one_hour(chdb_store, [1.0, 1.04, 1.06, 2500.0, 1e9],
                           {"grid_ratio": 1.05, "grid_last": 99})
    assert len(counts) == 100
    assert counts[1] == 2 and counts[2] == 1 and counts[99] == 2 and sum(counts) == 5
