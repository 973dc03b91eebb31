"""vitals-timeseries on seeded data with known per-bucket truth: find exactly what was planted.

p75s are checked against the weighted quantile computed here the way ClickHouse's
quantileExactWeighted defines it (the smallest value whose cumulative weight reaches 75%
of the bucket's), from the values as stored (Float32): each is the middle of that
value's grid bucket (rollups/grid.py), so within 1% of it. Shares are sums of integer
weights over a sum: exact.
"""

from __future__ import annotations

import math
import random
import re
import struct
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query
from queries.timeseries import AUTO_BUCKETS, AUTO_POINTS
from rollups import grid, segments
from rollups.tables import SERIES_SLICE_S
from tests.conftest import RunningServer

NOW = time.time()
BUCKET = 300
# three 5-minute buckets an hour ago: fast, empty (only a JS error), slow; then a bucket
# where the weights decide the p75
FAST = (int(NOW) // BUCKET) * BUCKET - 3600
EMPTY, SLOW, WEIGHTED = FAST + BUCKET, FAST + 2 * BUCKET, FAST + 3 * BUCKET
VITALS = ("lcp", "inp", "cls", "ttfb")


def f32(value: float) -> float:
    """The value as rum.events stores it (Float32)."""
    stored: float = struct.unpack("f", struct.pack("f", value))[0]
    return stored


def weighted_p75(pairs: list[tuple[float, int]]) -> float | None:
    """Smallest value whose cumulative weight reaches 75% of the total (None when empty)."""
    ordered = sorted(pairs)
    target = 0.75 * sum(w for _, w in ordered)
    seen = 0
    for value, weight in ordered:
        seen += weight
        if seen >= target:
            return value
    return None


def on_grid(got: float | None, want: float | None, metric: str = "lcp") -> bool:
    """`got` is the middle of `want`'s grid bucket (0 for bucket 0), within 1% of it."""
    if want is None or got is None:
        return got is want
    scale = segments.METRICS[metric].scale
    b = grid.bucket(want * scale)
    middle = 0.0 if b == 0 else grid.RATIO ** (b - 0.5) / scale
    return got == pytest.approx(middle, rel=1e-9) and abs(got - want) <= 0.01 * want


def view(bucket: int, weight: int = 1, device: str = "mobile", **cols: Any) -> dict[str, Any]:
    """A page view at a random moment inside `bucket`."""
    at = round(bucket + random.Random(uuid.uuid4().int).uniform(1, BUCKET - 1), 3)
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": "pageview", "ts": at,
            "received_at": at, "pageview_id": uuid.uuid4().hex, "session_id": uuid.uuid4().hex,
            "device_class": device, "sample_weight": float(weight), **cols}


def planted_views(rng: random.Random, bucket: int, n: int, lcp_p75: float) -> list[dict[str, Any]]:
    """n page views with lognormal vitals (LCP around `lcp_p75`) and weights 1, 2 or 4."""
    sigma = 0.5

    def draw(p75: float) -> float:
        return f32(rng.lognormvariate(math.log(p75) - 0.6745 * sigma, sigma))

    return [view(bucket, weight=rng.choice((1, 2, 4)), device=rng.choice(("mobile", "desktop")),
                 lcp=draw(lcp_p75), inp=draw(180), cls=draw(0.08), ttfb=draw(600))
            for _ in range(n)]


def seed(store: Store) -> dict[int, list[dict[str, Any]]]:
    """The planted page views per bucket (what the query must find); plus noise it must not."""
    rng = random.Random(7)
    planted = {
        FAST: planted_views(rng, FAST, 400, 1500.0),
        SLOW: planted_views(rng, SLOW, 300, 4800.0),
        # unweighted, 70 of 90 views are at 1200 ms (p75 1200); weighted, 70 of 110: p75 5000
        WEIGHTED: [view(WEIGHTED, lcp=1200.0) for _ in range(70)]
                  + [view(WEIGHTED, weight=2, lcp=5000.0) for _ in range(20)],
    }
    # counted as page views, left out of the LCP figures: outliers and views with no LCP
    planted[FAST] += [view(FAST, lcp=100_000.0, inp=150.0) for _ in range(3)]
    planted[FAST] += [view(FAST, inp=150.0) for _ in range(2)]
    # tablets, only in the slow bucket, for the device filter
    planted[SLOW] += [view(SLOW, device="tablet", lcp=9000.0, ttfb=2000.0) for _ in range(11)]
    noise = [{**view(EMPTY), "kind": "error", "error_message": "boom"},  # not a page view
             {**view(FAST, lcp=60_000.0), "is_bot": 1, "device_class": "bot"},
             {**view(SLOW, lcp=30_000.0), "site": "other"}]
    store.insert("rum.events", [r for rows in planted.values() for r in rows] + noise)
    return planted


def run(store: Store, **raw: str) -> list[dict[str, Any]]:
    spec = get_query("vitals-timeseries")
    return spec.run(store, spec.parse({"site": "shop", "window": "2h", "bucket": "5m", **raw}), now=NOW)


def truth(views: list[dict[str, Any]], metric: str) -> float | None:
    cap = 10.0 if metric == "cls" else 60_000.0
    return weighted_p75([(v[metric], int(v["sample_weight"])) for v in views
                         if v.get(metric) is not None and v[metric] <= cap])


def test_each_bucket_has_the_planted_p75s_and_shares(chdb_store: Store) -> None:
    planted = seed(chdb_store)
    rows = {r["t"]: r for r in run(chdb_store)}
    assert sorted(rows) == [FAST, SLOW, WEIGHTED], "the bucket with no page view is absent"
    for t, views in planted.items():
        row = rows[t]
        assert row["samples"] == len(views)
        for metric in VITALS:
            expected = truth(views, metric)
            assert on_grid(row[f"{metric}_p75"], expected, metric), (t, metric, row, expected)
        with_lcp = [v for v in views if v.get("lcp") is not None and v["lcp"] <= 60_000]
        assert row["lcp_samples"] == len(with_lcp)
        total = sum(int(v["sample_weight"]) for v in with_lcp)
        for share, (low, high) in (("good", (0, 2500)), ("needs_improvement", (2500, 4000)),
                                   ("poor", (4000, math.inf))):
            weight = sum(int(v["sample_weight"]) for v in with_lcp if low < v["lcp"] <= high)
            assert row[share] == pytest.approx(weight / total, rel=1e-12), (t, share)
    assert rows[FAST]["lcp_p75"] < 2500 < 4000 < rows[SLOW]["lcp_p75"]
    assert rows[FAST]["samples"] == 405 and rows[FAST]["lcp_samples"] == 400


def test_weights_decide_the_p75(chdb_store: Store) -> None:
    seed(chdb_store)
    row = next(r for r in run(chdb_store) if r["t"] == WEIGHTED)
    assert on_grid(row["lcp_p75"], 5000) and row["samples"] == 90
    assert (row["good"], row["needs_improvement"], row["poor"]) == (70 / 110, 0, 40 / 110)
    assert row["inp_p75"] is None and row["cls_p75"] is None, "nothing measured: null, not 0"


def test_device_filter(chdb_store: Store) -> None:
    planted = seed(chdb_store)
    tablets = run(chdb_store, device="tablet")
    assert [(r["t"], r["samples"], r["poor"]) for r in tablets] == [(SLOW, 11, 1)]
    assert on_grid(tablets[0]["lcp_p75"], 9000) and on_grid(tablets[0]["ttfb_p75"], 2000, "ttfb")
    desktop = {r["t"]: r for r in run(chdb_store, device="desktop")}
    assert sorted(desktop) == [FAST, SLOW]
    for t in (FAST, SLOW):
        views = [v for v in planted[t] if v["device_class"] == "desktop"]
        assert desktop[t]["samples"] == len(views)
        assert on_grid(desktop[t]["lcp_p75"], truth(views, "lcp"))


def test_longer_buckets_sum_the_shorter_ones(chdb_store: Store) -> None:
    seed(chdb_store)
    short, long = run(chdb_store), run(chdb_store, bucket="1h")
    assert all(r["t"] % 3600 == 0 for r in long) and 1 <= len(long) <= 2
    assert sum(r["samples"] for r in long) == sum(r["samples"] for r in short) == 405 + 311 + 90


@pytest.mark.parametrize(("raw", "message"), [
    ({"bucket": "5 minutes"}, "bucket: '5 minutes' is not a duration"),
    ({"bucket": "5s"}, "bucket: must be between 10s and 1d"),
    ({"bucket": "2d", "window": "30d"}, "bucket: must be between 10s and 1d"),
    ({"bucket": "2h", "window": "1h"}, "bucket: longer than the window"),
    ({"bucket": "1m", "window": "7d"}, r"bucket: 10080 points .* use a bucket of 5m or longer"),
    ({"window": "8d", "bucket": "5m"}, "bucket: 2304 points"),  # 5m serves windows up to 7d
    ({"device": "bot"}, "device: one of desktop, mobile, tablet"),
    ({"device": "Mobile"}, "device:"),
    ({"metric": "lcp"}, "unknown parameter"),
])
def test_parameter_validation(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        get_query("vitals-timeseries").parse(raw)


def test_defaults_and_the_largest_allowed_bucket_count() -> None:
    spec = get_query("vitals-timeseries")
    assert spec.parse({}) == {"window": 86400, "site": "", "bucket": 600, "device": "",
                              "country": "", "region": ""}
    assert spec.parse({"window": "7d", "bucket": "5m"})["bucket"] == 300  # 2016 points: the limit
    assert spec.parse({"window": "15m", "bucket": "10s"})["bucket"] == 10  # the dashboard's


def test_the_default_bucket_is_the_dashboards_and_reads_the_rollup_from_24h() -> None:
    spec = get_query("vitals-timeseries")
    chosen = {w: spec.parse({"window": w})["bucket"] for w in ("15m", "1h", "6h", "24h", "7d", "30d")}
    assert chosen == {"15m": 10, "1h": 30, "6h": 120, "24h": 600, "7d": 3600, "30d": 21600}
    assert all(b % SERIES_SLICE_S == 0 for w, b in chosen.items() if w in ("24h", "7d", "30d"))
    # dashboard/src/series.ts picks the bucket by the same list and point count
    source = (Path(__file__).parents[2] / "dashboard/src/series.ts").read_text()
    listed = source[source.index("const BUCKETS"):source.index("];", source.index("const BUCKETS"))]
    assert tuple(int(n) for n in re.findall(r"b\((\d+), '", listed)) == AUTO_BUCKETS
    points = re.search(r"const MAX_POINTS = (\d+);", source)
    assert points is not None and int(points.group(1)) == AUTO_POINTS


def test_http_api_serves_the_series_and_refuses_bad_buckets(rum_server: RunningServer) -> None:
    seed(rum_server.store)
    url = f"{rum_server.base_url}/v1/query/vitals-timeseries"
    reply = httpx.get(url, params={"site": "shop", "window": "2h", "bucket": "5m"})
    assert reply.status_code == 200, reply.text
    assert [r["t"] for r in reply.json()["rows"]] == [FAST, SLOW, WEIGHTED]
    assert reply.json()["params"]["bucket"] == 300
    for params in ({"bucket": "5s"}, {"bucket": "1m", "window": "7d"}, {"device": "phone"}):
        bad = httpx.get(url, params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"] == "invalid_parameter"
        assert next(iter(params)) + ":" in bad.json()["detail"]
