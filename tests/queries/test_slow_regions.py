"""slow-regions finds the planted slow region, not the fast one, not the thin one."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query, parse_window
from tests.conftest import RunningServer


def seed(store: Store, country: str, region: str, lcp_p75: float, n: int, site: str = "shop-eu",
         age_s: float = 600, rng: random.Random | None = None) -> None:
    """n page views whose LCP is uniform on [0.5, 1.25] x lcp_p75 (so p75 ~ lcp_p75)."""
    rng = rng or random.Random(7)
    now = time.time() - age_s
    rows: list[dict[str, Any]] = []
    for _ in range(n):
        lcp = lcp_p75 * rng.uniform(0.5, 1.25) / 1.0625
        rows.append({"event_id": str(uuid.uuid4()), "site": site, "kind": "pageview",
                     "ts": round(now, 3), "received_at": round(now, 3), "country": country,
                     "region": region, "lcp": lcp, "inp": lcp / 20, "ttfb": lcp / 5})
    store.insert("rum.events", rows)


def run(store: Store, **raw: str) -> list[dict[str, Any]]:
    spec = get_query("slow-regions")
    return spec.run(store, spec.parse(raw))


def test_flags_slow_region_only(chdb_store: Store) -> None:
    seed(chdb_store, "IN", "MH", 4200, 2000)
    seed(chdb_store, "NL", "NH", 1600, 2000)
    seed(chdb_store, "BR", "SP", 9000, 10)  # slow but too few samples
    rows = run(chdb_store, min_samples="30")
    by_key = {(r["level"], r["country"], r["region"]): r for r in rows}
    assert set(by_key) == {("country", "IN", ""), ("region", "IN", "MH"),
                           ("country", "NL", ""), ("region", "NL", "NH")}
    india = by_key[("country", "IN", "")]
    assert india["flagged"] == 1 and india["samples"] == 2000
    assert india["lcp_p75"] == pytest.approx(4200, rel=0.03)
    assert india["lcp_p95"] > india["lcp_p75"]
    assert by_key[("country", "NL", "")]["flagged"] == 0
    assert rows[0]["country"] == "IN", "slowest first"


def test_window_and_site_filter(chdb_store: Store) -> None:
    seed(chdb_store, "IN", "MH", 4200, 100, age_s=3 * 3600)
    seed(chdb_store, "NL", "NH", 1600, 100, site="other")
    assert run(chdb_store, window="1h", min_samples="1") == [] or all(
        r["country"] == "NL" for r in run(chdb_store, window="1h", min_samples="1"))
    assert {r["country"] for r in run(chdb_store, window="6h", site="shop-eu",
                                      min_samples="1")} == {"IN"}


def test_bots_are_excluded(chdb_store: Store) -> None:
    now = round(time.time(), 3)
    chdb_store.insert("rum.events", [{"event_id": str(uuid.uuid4()), "site": "s", "kind": "pageview",
                                      "ts": now, "received_at": now, "country": "SE", "lcp": 9999,
                                      "is_bot": 1} for _ in range(50)])
    assert run(chdb_store, min_samples="1") == []


@pytest.mark.parametrize(("raw", "message"), [
    ({"window": "forever"}, "window:"),
    ({"window": "10s"}, "window: must be between"),
    ({"min_samples": "many"}, "min_samples:"),
    ({"min_samples": "0"}, "min_samples: must be between"),
    ({"site": "a b"}, "site:"),
    ({"bogus": "1"}, "unknown parameter(s): bogus"),
])
def test_bad_parameters(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError) as info:
        get_query("slow-regions").parse(raw)
    assert message in str(info.value)


def test_parse_window() -> None:
    assert parse_window("15m") == 900 and parse_window("24h") == 86400 and parse_window("7d") == 604800


def test_http_api(rum_server: RunningServer) -> None:
    seed(rum_server.store, "IN", "KA", 5000, 40)
    reply = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions",
                      params={"window": "24h", "min_samples": "30"})
    assert reply.status_code == 200
    payload = reply.json()
    assert payload["params"] == {"window": 86400, "site": "", "min_samples": 30, "why": False}
    assert [(r["level"], r["country"], r["region"], r["flagged"]) for r in payload["rows"]] == [
        ("country", "IN", "", 1), ("region", "IN", "KA", 1)]
    bad = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions", params={"window": "x"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_parameter"
    twice = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions?site=a&site=b")
    assert twice.status_code == 400
    unknown = httpx.get(f"{rum_server.base_url}/v1/query/nope")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_query"
    hostile = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions",
                        params={"site": "x' OR 1=1 --"})
    assert hostile.status_code == 400


def test_cli_report_json_via_running_server(
    rum_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    seed(rum_server.store, "IN", "MH", 4500, 50)
    code = main(["report", "slow-regions", "--server", rum_server.base_url, "--min-samples", "30",
                 "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["country"] == "IN" and rows[0]["flagged"] == 1
    code = main(["report", "slow-regions", "--server", rum_server.base_url, "--min-samples", "30"])
    out = capsys.readouterr().out
    assert code == 0 and "slow-regions" in out and "IN" in out


def seed_vitals(store: Store, region: str, n: int, lcp: float, inp: float, ttfb: float) -> None:
    """n page views in BR-<region>, metrics evenly spread on [0.5, 1.25] x the given p75."""
    now = time.time() - 600
    rows = []
    for i in range(n):
        u = (0.5 + 0.75 * (i + 0.5) / n) / 1.0625
        rows.append({"event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "pageview",
                     "ts": round(now, 3), "received_at": round(now, 3), "country": "BR",
                     "region": region, "lcp": lcp * u, "inp": inp * u, "ttfb": ttfb * u})
    store.insert("rum.events", rows)


def test_flags_only_with_confidence_and_names_the_metric(chdb_store: Store) -> None:
    # RJ: INP p75 ~204 ms on 27 page views, barely past 200: noise, not flagged
    seed_vitals(chdb_store, "RJ", 27, lcp=1500, inp=204, ttfb=300)
    # SP: good LCP, TTFB p75 ~1,600 ms on 400 page views: slow by TTFB only
    seed_vitals(chdb_store, "SP", 400, lcp=1500, inp=100, ttfb=1600)
    rows = {r["region"]: r for r in run(chdb_store, min_samples="20") if r["level"] == "region"}
    rio, sao_paulo = rows["RJ"], rows["SP"]
    assert rio["inp_p75"] > 200 and rio["flagged"] is False and rio["slow_metrics"] == []
    assert sao_paulo["flagged"] is True and sao_paulo["slow_metrics"] == ["ttfb"]
    assert sao_paulo["lcp_p75"] < 2500
