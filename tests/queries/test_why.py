"""Every flagged region says why: planted traffic through HTTP, two countries slow for
different reasons (a far origin; scripts that block the hero image) and a fast one."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import get_query
from queries.why import explain
from tests.beacons import envelope
from tests.conftest import RunningServer
from tests.geo_fixtures import visitor_ip
from tests.recording import Recording
from tests.rollups.test_segments import page_view

# (ttfb, load delay, load time, render delay) p75-ish per country, ms
PLANTED = {"NL": (300, 100, 400, 200), "IN": (2400, 100, 450, 250), "BR": (350, 120, 400, 2200)}


def _post_views(server: RunningServer, country: str, n: int, rng: random.Random) -> None:
    base = PLANTED[country]
    for _ in range(n):
        parts = [p * rng.uniform(0.8, 1.1) for p in base]
        vitals = {"lcp": sum(parts), "ttfb": parts[0], "inp": 80, "lcp_ttfb": parts[0],
                  "lcp_load_delay": parts[1], "lcp_load_time": parts[2],
                  "lcp_render_delay": parts[3]}
        reply = server.post(envelope(vitals=vitals,
                                     net={"type": "3g" if country == "IN" else "4g", "rtt": 90}),
                            headers={"x-forwarded-for": visitor_ip(country)})
        assert reply.status_code == 202, reply.text


def test_each_slow_country_gets_its_own_reason_and_the_fast_one_none(
        rum_server: RunningServer) -> None:
    rng = random.Random(22)
    for country in PLANTED:
        _post_views(rum_server, country, 40, rng)
    rum_server.wait_rows(120, "kind = 'pageview'")
    reply = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions",
                      params={"min_samples": "30", "window": "1h", "why": "true"})
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()["rows"]
    by_country = {r["country"]: r for r in rows if r["level"] == "country"}
    assert set(by_country) == {"NL", "IN", "BR"}
    assert by_country["NL"]["flagged"] is False and by_country["NL"]["why"] is None
    india, brazil = by_country["IN"]["why"], by_country["BR"]["why"]
    assert [r["part"] for r in india["reasons"]] == ["lcp_ttfb"]
    assert [r["part"] for r in brazil["reasons"]] == ["lcp_render_delay"]
    assert "waiting for the server" in india["sentence"]
    assert "origin or CDN distance" in india["sentence"]
    assert "100% of page views on 2g/3g" in india["sentence"]  # network context
    assert "scripts block the hero image" in brazil["sentence"]
    assert india["slow_connection_share"] == 1.0 and brazil["slow_connection_share"] == 0.0
    assert india["parts_p75"]["lcp_ttfb"] > 2000 > brazil["parts_p75"]["lcp_ttfb"]
    # the existing fields are still there
    assert {"lcp_p75", "slow_metrics", "samples"} <= set(by_country["IN"])
    segments = httpx.get(f"{rum_server.base_url}/v1/query/slow-segments",
                         params={"min_samples": "30", "window": "1h", "metric": "lcp", "why": "true"})
    assert segments.status_code == 200, segments.text
    seg = {r["country"]: r for r in segments.json()["rows"]}
    assert seg["NL"]["why"] is None and seg["IN"]["flagged"] and seg["BR"]["flagged"]
    assert [r["part"] for r in seg["IN"]["why"]["reasons"]] == ["lcp_ttfb"]
    assert [r["part"] for r in seg["BR"]["why"]["reasons"]] == ["lcp_render_delay"]
    assert seg["BR"]["why"]["sentence"].startswith("LCP 3.")
    by_device = httpx.get(f"{rum_server.base_url}/v1/query/slow-segments",
                          params={"min_samples": "30", "window": "1h", "by": "device_class",
                                  "why": "true"})
    assert all(r["why"] is None for r in by_device.json()["rows"])  # parts are per place
    plain = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions",
                      params={"min_samples": "30", "window": "1h"}).json()["rows"]
    assert plain and all("why" not in r for r in plain), "only when asked: it reads raw events"


def test_no_part_grew_enough_means_no_reason() -> None:
    fast = {"lcp_ttfb": 300.0, "lcp_load_delay": 100.0, "lcp_load_time": 400.0,
            "lcp_render_delay": 200.0}
    assert explain("lcp", 1000, {**fast, "lcp_ttfb": 500.0}, fast) is None  # +200 < 250
    why = explain("inp", 400, {"inp_input_delay": 20.0, "inp_processing": 330.0,
                               "inp_presentation": 50.0}, {"inp_processing": 40.0})
    assert why is not None and why.part == "inp_processing"
    assert why.sentence.startswith("INP 400 ms: event handlers makes up 330 ms of it")


def test_cli_why_fits_100_columns(rum_server: RunningServer, capsys: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import main

    rng = random.Random(5)
    for country in PLANTED:
        _post_views(rum_server, country, 40, rng)
    rum_server.wait_rows(120, "kind = 'pageview'")
    code = main(["report", "slow-regions", "--server", rum_server.base_url,
                 "--min-samples", "30", "--why"])
    out = capsys.readouterr().out
    assert code == 0
    why = out.split("\nwhy:\n", 1)[1].splitlines()
    assert why[0].startswith("IN ") or why[0].startswith("BR "), out
    assert any("waiting for the server" in line for line in why), out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    monkeypatch.setenv("COLUMNS", "80")  # a narrower terminal: the sentences wrap to it
    assert main(["report", "slow-regions", "--server", rum_server.base_url,
                 "--min-samples", "30", "--why"]) == 0
    narrow = capsys.readouterr().out.split("\nwhy:\n", 1)[1].splitlines()
    assert len(narrow) > len(why) and max(len(line) for line in narrow) <= 80, narrow
    for flag in ("--wide", "--csv"):  # the nested `why` does not break the other outputs
        assert main(["report", "slow-regions", "--server", rum_server.base_url,
                     "--min-samples", "30", flag]) == 0


@pytest.mark.parametrize(("question", "extra"), [("slow-regions", {}), ("slow-segments", {"by": "country"})])
def test_nothing_flagged_reads_no_part(chdb_store: Store, question: str, extra: dict[str, str]) -> None:
    """With no row flagged, `why` is None on every row and the parts are not read (the
    question's own SQL only); with one slow country, they are."""
    now = time.time()
    rng = random.Random(3)
    fast = [page_view(now - 60 - i, rng, country=rng.choice(["NL", "DE"]), region="", lcp=900.0)
            for i in range(200)]
    chdb_store.insert("rum.events", fast)
    spec = get_query(question)
    values = spec.parse({"window": "1h", "site": "shop", "why": "true", "min_samples": "5", **extra})
    recording = Recording(chdb_store)
    rows = spec.run(recording, values, now=now)  # type: ignore[arg-type]
    assert rows and not any(r["flagged"] for r in rows) and all(r["why"] is None for r in rows)
    assert not any("segment_parts" in sql for sql, _ in recording.asked)
    slow = [page_view(now - 60 - i, rng, country="IN", region="", lcp=9000.0) for i in range(100)]
    chdb_store.insert("rum.events", slow)
    recording = Recording(chdb_store)
    rows = spec.run(recording, values, now=now)  # type: ignore[arg-type]
    assert any(r["flagged"] for r in rows)
    assert any("segment_parts" in sql for sql, _ in recording.asked)
