"""Analytics queries on seeded data with known ground truth: find exactly what was planted."""

from __future__ import annotations

import math
import random
import time
import uuid
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query
from queries.stats import quantile_interval, two_proportion_z
from tests.conftest import RunningServer

NOW = time.time()
SIGMA = 0.5


def lognormal_with_p75(rng: random.Random, p75: float) -> float:
    return rng.lognormvariate(math.log(p75) - 0.6745 * SIGMA, SIGMA)


def base(kind: str, country: str, **cols: Any) -> dict[str, Any]:
    at = round(NOW - 600, 3)
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": at,
            "received_at": at, "country": country, "pageview_id": uuid.uuid4().hex,
            "session_id": uuid.uuid4().hex, "device_class": "mobile", **cols}


def seed_vitals(store: Store) -> dict[str, list[float]]:
    rng = random.Random(11)
    planted = {"IN": [lognormal_with_p75(rng, 4200) for _ in range(2000)],
               "NL": [lognormal_with_p75(rng, 1600) for _ in range(2000)],
               "BR": [9000.0] * 10}
    rows = [base("pageview", c, lcp=v) for c, values in planted.items() for v in values]
    rows += [base("pageview", "NL", lcp=100_000.0) for _ in range(5)]  # outliers
    store.insert("rum.events", rows)
    return planted


def run(store: Store, name: str, **raw: str) -> list[dict[str, Any]]:
    spec = get_query(name)
    return spec.run(store, spec.parse({"site": "shop", **raw}))


def exact_p75(values: list[float]) -> float:
    ordered = sorted(values)
    rank = 0.75 * (len(ordered) - 1)
    low = int(rank)
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (rank - low)


def test_slow_segments_finds_the_planted_slow_country_only(chdb_store: Store) -> None:
    planted = seed_vitals(chdb_store)
    rows = {r["country"]: r for r in run(chdb_store, "slow-segments", by="country")}
    assert set(rows) == {"IN", "NL"}, "BR has too few samples"
    india, nl = rows["IN"], rows["NL"]
    assert india["flagged"] and india["worse_than_rest"]
    assert not nl["flagged"] and not nl["worse_than_rest"]
    assert india["p75"] == pytest.approx(exact_p75(planted["IN"]), rel=0.01)
    assert india["p75_ci_low"] <= exact_p75(planted["IN"]) <= india["p75_ci_high"]
    assert india["p75_ci_low"] > 2500
    assert nl["outliers"] == 5 and nl["samples"] == 2000
    assert india["good"] + india["needs_improvement"] + india["poor"] == pytest.approx(1)
    assert india["poor"] > 0.2 > nl["poor"] and nl["good"] > 0.8 > india["needs_improvement"]


def test_a_handful_of_slow_samples_does_not_flag(chdb_store: Store) -> None:
    seed_vitals(chdb_store)
    rows = {r["country"]: r for r in run(chdb_store, "slow-segments", by="country",
                                          min_samples="5")}
    brazil = rows["BR"]
    # read from the segments rollup's histogram: in the exact value's bucket (2% wide)
    assert brazil["p75"] == pytest.approx(9000, rel=0.02) and brazil["samples"] == 10
    assert not brazil["flagged"], "10 samples: the interval is open, no confident flag"


def test_two_dimensions_and_other_metrics(chdb_store: Store) -> None:
    chdb_store.insert("rum.events", [base("pageview", "IN", inp=400.0, device_class=d)
                                     for d in ("mobile", "desktop") for _ in range(40)])
    rows = run(chdb_store, "slow-segments", by="country,device_class", metric="inp")
    assert {(r["country"], r["device_class"]) for r in rows} == {("IN", "mobile"), ("IN", "desktop")}
    assert all(r["p75"] == pytest.approx(400, rel=0.02) and r["needs_improvement"] == 1 for r in rows)


def test_failing_logins_flags_brazil_against_the_rest(chdb_store: Store) -> None:
    rng = random.Random(5)
    rows = []
    for country, attempts, rate in (("BR", 1000, 0.12), ("DE", 1500, 0.01), ("FR", 1500, 0.01),
                                    ("SE", 6, 0.5)):
        for i in range(attempts):
            failed = rng.random() < rate
            rows.append(base("login", country, login_success=0 if failed else 1,
                             login_reason=("invalid_password" if i % 3 else "locked")
                             if failed else "", session_id=f"{country}-{i // 2}"))
    chdb_store.insert("rum.events", rows)
    result = {r["country"]: r for r in run(chdb_store, "failing-logins", by="country")}
    assert {c for c, r in result.items() if r["flagged"]} == {"BR"}
    brazil = result["BR"]
    assert brazil["failure_rate"] == pytest.approx(0.12, abs=0.03)
    assert brazil["baseline_rate"] == pytest.approx(0.01, abs=0.01)
    assert brazil["top_reasons"][0] == "invalid_password"
    outcomes: dict[str, list[int]] = {}
    for row in rows:
        if row["country"] == "BR":
            outcomes.setdefault(row["session_id"], []).append(row["login_success"])
    assert brazil["sessions"] == len(outcomes) == 500
    assert brazil["sessions_blocked"] == sum(1 for s in outcomes.values() if not any(s)) > 0
    assert not result["SE"]["flagged"], "too few attempts to flag"


def test_top_errors_fingerprint_groups_variants(chdb_store: Store) -> None:
    # one bug: its message varies, its column varies, and so does the script's cache buster
    stack = "TypeError: x\n    at renderPrice (https://shop/app.js?v={v}:1:{col})\n    at main"
    rows = [base("error", "IN", error_message=f"Cannot read '{k}' of undefined (item {i})",
                 error_stack=stack.format(col=100 + i, v=i % 3), page_group="/product/:id")
            for i, k in enumerate(["price", "name", "price", "sku"] * 5)]
    rows += [base("error", "NL", error_message="NetworkError when fetching",
                  error_stack="at load (https://shop/app.js:9:9)")]
    chdb_store.insert("rum.events", rows)
    errors = run(chdb_store, "top-errors")
    assert [e["occurrences"] for e in errors] == [20, 1]
    assert errors[0]["pageviews"] == 20 and errors[0]["pages"] == 1
    assert errors[0]["page_groups"] == ["/product/:id"]
    assert errors[0]["top_frame"] == "at renderPrice (https://shop/app.js"


def test_failed_api_calls_group_ids(chdb_store: Store) -> None:
    chdb_store.insert("rum.events", [
        base("api", "IN", api_method="GET", api_path=f"/api/cart/{i}", api_status=503,
             api_duration=100.0) for i in range(7)] + [
        base("api", "IN", api_method="POST", api_path="/api/pay", api_status=0)])
    calls = run(chdb_store, "failed-api-calls")
    assert [(c["method"], c["endpoint"], c["status"], c["calls"]) for c in calls] == [
        ("GET", "/api/cart/:id", 503, 7), ("POST", "/api/pay", 0, 1)]


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("slow-segments", {"by": "planet"}, "by:"),
    ("slow-segments", {"by": "country,country"}, "by:"),
    ("slow-segments", {"by": "country,city,os"}, "by:"),
    ("slow-segments", {"metric": "speed"}, "metric:"),
    ("failing-logins", {"min_attempts": "-1"}, "min_attempts:"),
    ("top-errors", {"limit": "100000"}, "limit:"),
])
def test_parameter_validation(name: str, raw: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        get_query(name).parse(raw)


def test_http_api_serves_analytics(rum_server: RunningServer) -> None:
    seed_vitals(rum_server.store)
    reply = httpx.get(f"{rum_server.base_url}/v1/query/slow-segments",
                      params={"site": "shop", "by": "country", "metric": "lcp"})
    assert reply.status_code == 200
    assert [r["country"] for r in reply.json()["rows"]] == ["IN", "NL"]
    bad = httpx.get(f"{rum_server.base_url}/v1/query/slow-segments", params={"by": "x"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_parameter"


def test_stats_helpers() -> None:
    z, p = two_proportion_z(120, 1000, 30, 3000)
    assert z > 10 and p < 1e-20
    assert two_proportion_z(0, 0, 1, 10) == (0.0, 1.0)
    grid = [float(i) for i in range(46)]  # levels 0.50..0.95 -> values 0..45
    low, high = quantile_interval(grid, 10_000)
    assert (low, high) == (24.0, 26.0)
    assert quantile_interval(grid, 10) == (None, None)
