"""slow-pages reads its p75s on the rollups' histogram grid and counts distinct ids by their
64-bit hashes: on weighted page views with outliers, missing metrics, pages flushed twice
and errors, every p75 is within 1% of quantileExactWeighted over the values (asked of
the same rows here), and the counts are the ones Python counts; site-wide and in a place."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query
from tests.rollups.test_segments import close, page_view

METRICS = {"lcp_p75": ("lcp", 60_000), "inp_p75": ("inp", 60_000), "cls_p75": ("cls", 10),
           "ttfb_p75": ("ttfb", 60_000)}


def plant(store: Store, now: float, n: int = 4000) -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = []
    for i in range(n):
        row = page_view(now - 60 - 3000 * i / n, rng, session_id=f"s{i % 700}", pageview_id=f"p{i}")
        if i % 7 == 0:
            row["inp"] = None  # no interaction on this page
        if i % 50 == 0:
            row["cls"] = 0.0  # nothing moved: bucket 0
        rows.append(row)
        if i % 5 == 0:  # a second flush of the same page view: one page view, two rows
            rows.append({**row, "event_id": str(uuid.uuid4()), "ts": row["ts"] + 1})
        if i % 9 == 0:
            rows.append({**row, "event_id": str(uuid.uuid4()), "kind": "error", "lcp": None,
                         "inp": None, "cls": None, "fcp": None, "ttfb": None})
    store.insert("rum.events", rows)
    return rows


def exact_p75(store: Store, since: float, metric: str, cap: float, where: str) -> dict[str, float]:
    rows = store.query(
        f"SELECT page_group, quantileExactWeighted(0.75)(assumeNotNull({metric}), "
        f"toUInt64(greatest(1, round(sample_weight)))) AS q FROM rum.events FINAL "
        f"WHERE kind = 'pageview' AND {metric} IS NOT NULL AND {metric} <= {cap} "
        f"AND ts >= fromUnixTimestamp64Milli({int(since * 1000)}, 'UTC') AND {where} "
        f"GROUP BY page_group")
    return {r["page_group"]: r["q"] for r in rows}


@pytest.mark.parametrize("place", [{}, {"country": "BR"}, {"device": "mobile"}],
                         ids=lambda p: ",".join(p.values()) or "site-wide")
def test_slow_pages_on_the_grid_answers_as_exact_quantiles(chdb_store: Store, place: dict[str, str]) -> None:
    now = time.time()
    rows = plant(chdb_store, now)
    spec = get_query("slow-pages")
    got = spec.run(chdb_store, spec.parse({"site": "shop", "window": "1h", "min_samples": "1", **place}),
                   now=now)
    column = {"country": "country", "device": "device_class"}
    mine = [r for r in rows if all(r[column[k]] == v for k, v in place.items())]
    where = " AND ".join(f"{column[k]} = '{v}'" for k, v in place.items()) or "1"
    assert {r["page_group"] for r in got} == {r["page_group"] for r in mine}
    for key, (metric, cap) in METRICS.items():
        want = exact_p75(chdb_store, now - 3600, metric, cap, where)
        for row in got:
            assert close(row[key], want[row["page_group"]], 0.01), (key, row, want)
    for row in got:
        group = [r for r in mine if r["page_group"] == row["page_group"]]
        views = [r for r in group if r["kind"] == "pageview"]
        assert row["pageviews"] == len({r["pageview_id"] for r in views}) < len(views)
        assert row["sessions"] == len({r["session_id"] for r in group})
        assert row["errors"] == sum(r["kind"] == "error" for r in group) > 0
        assert row["samples"] == sum(r["lcp"] <= 60_000 for r in views)


def test_a_page_without_layout_shifts_or_interactions_reads_0_and_none(chdb_store: Store) -> None:
    now = time.time()
    rng = random.Random(3)
    chdb_store.insert("rum.events", [page_view(now - 60 - i, rng, page_group="/still", cls=0.0, inp=None,
                                               pageview_id=f"p{i}", session_id="s")
                                     for i in range(10)])
    spec = get_query("slow-pages")
    [row] = spec.run(chdb_store, spec.parse({"site": "shop", "window": "1h", "min_samples": "1"}), now=now)
    assert (row["page_group"], row["cls_p75"], row["inp_p75"], row["pageviews"]) == ("/still", 0, None, 10)
