"""Every ClickHouse panel and variable runs on chDB, as the plugin would send it, and has rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from grafana.boards import business, experience, logins, pipeline_health
from grafana.boards.variables import segment_variables
from grafana.common import CLICKHOUSE, Panel
from grafana.macros import ALL, TimeRange, Variable, interpolate
from pipeline.store import Store
from tests.grafana.seed import SITE, seed_events

NOW = time.time()
RANGE = TimeRange(datetime.fromtimestamp(NOW - 3 * 3600, UTC),
                  datetime.fromtimestamp(NOW + 60, UTC), interval_s=600)
EVERYTHING = {name: Variable([ALL], all_value="''")
              for name in ("site", "country", "device", "page_group")}
NARROWED = {"site": Variable([SITE], "''"), "country": Variable(["IN", "US"], "''"),
            "device": Variable(["mobile"], "''"), "page_group": Variable(["/product/:id"], "''")}


def clickhouse_panels() -> Iterator[Panel]:
    """Every panel of the ClickHouse dashboards."""
    for board in (experience, logins, business):
        for row in board.rows():
            yield from row.panels


PANELS = {p.title: p for p in clickhouse_panels()}


@pytest.fixture
def seeded(chdb_store: Store) -> Store:
    """The migrated chDB store with a couple of hours of events."""
    seed_events(chdb_store, NOW)
    return chdb_store


def run(store: Store, sql: str, variables: dict[str, Variable]) -> list[dict[str, Any]]:
    return store.query(interpolate(sql, variables, RANGE))


@pytest.mark.parametrize("title", sorted(PANELS))
def test_panel_sql_returns_its_columns(seeded: Store, title: str) -> None:
    panel = PANELS[title]
    assert panel.sql(), f"{title}: no ClickHouse SQL"
    for variables in (EVERYTHING, NARROWED):
        for sql in panel.sql():
            rows = run(seeded, sql, variables)
            assert rows, f"{title}: no rows with {sorted(variables)} = {variables}"
            missing = set(panel.expects) - set(rows[0])
            assert not missing, f"{title}: missing columns {sorted(missing)}"


def test_segment_variables_narrow_the_rows(seeded: Store) -> None:
    traffic = PANELS["Traffic by country"].sql()[0]
    every = {r["segment"] for r in run(seeded, traffic, EVERYTHING)}
    narrowed = {r["segment"] for r in run(seeded, traffic, NARROWED)}
    assert every == {"IN", "NL", "US"} and narrowed == {"IN", "US"}
    other_site = {**EVERYTHING, "site": Variable(["elsewhere"], "''")}
    assert run(seeded, traffic, other_site) == []


def test_quotes_in_a_variable_stay_a_value(seeded: Store) -> None:
    traffic = PANELS["Traffic by country"].sql()[0]
    hostile = {**EVERYTHING, "country": Variable(["IN') OR 1=1 --"], "''")}
    assert run(seeded, traffic, hostile) == []


def test_slow_map_colours_by_lcp(seeded: Store) -> None:
    rows = {r["country"]: r for r in run(seeded, PANELS["p75 LCP by country"].sql()[0], EVERYTHING)}
    assert rows["IN"]["lcp_p75"] > 4000 > rows["US"]["lcp_p75"] > 2500 > rows["NL"]["lcp_p75"]


def test_login_baseline_is_the_rest_of_the_site(seeded: Store) -> None:
    rows = {r["country"]: r for r in run(
        seeded, PANELS["Login failures vs baseline"].sql()[0], EVERYTHING)}
    india = rows["IN"]
    assert india["failure_rate"] == 1.0
    rest = [r for c, r in rows.items() if c != "IN"]
    expected = sum(r["failures"] for r in rest) / sum(r["attempts"] for r in rest)
    assert india["baseline_rate"] == pytest.approx(expected)
    assert india["vs_baseline"] > 0.5


@pytest.mark.parametrize("variable", segment_variables(), ids=lambda v: v["name"])
def test_variable_queries_list_values(seeded: Store, variable: dict[str, Any]) -> None:
    assert variable["datasource"] == CLICKHOUSE
    rows = run(seeded, variable["query"], EVERYTHING)
    assert rows and all(list(r.values())[0] != "" for r in rows)


def test_prometheus_board_has_no_clickhouse_sql() -> None:
    assert all(not p.sql() for row in pipeline_health.rows() for p in row.panels)
