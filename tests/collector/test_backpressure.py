"""A full write buffer answers 503 with Retry-After before the body's work, and loses nothing
it accepted (the refusals are cheap under overload: no decoding, no enrichment)."""

from __future__ import annotations

from collections.abc import Callable

from collector.settings import Settings
from pipeline.chdb_store import ChdbStore
from tests.beacons import envelope
from tests.conftest import scrape, start_server, stop_server


def test_a_full_buffer_refuses_before_decoding_and_keeps_what_it_accepted(
        server_settings: Callable[..., Settings]) -> None:
    # a flush interval far longer than the test: only shutdown writes the rows
    settings = server_settings(buffer_max_rows=10, batch_max_seconds=60, rate_limit_ip=0)
    server = start_server(settings)
    try:
        accepted, refused = [], None
        for i in range(20):
            reply = server.post(envelope(sid=f"bp-{i}"))
            if reply.status_code != 202:
                refused = reply
                break
            accepted.append(f"bp-{i}")
        assert refused is not None and refused.status_code == 503, refused
        assert refused.json()["error"] == "backpressure" and refused.headers["retry-after"] == "5"
        assert 0 < len(accepted) < 20
        # refused on its headers, before the body is read as JSON: garbage gets the same 503,
        # not the 400 it gets when there is room
        garbage = server.post(b"{not json")
        assert garbage.status_code == 503 and garbage.json()["error"] == "backpressure"
        assert "malformed_json" not in str(scrape(server.base_url))
        assert scrape(server.base_url)['rum_beacons_rejected_total{reason="backpressure"}'] == 2
    finally:
        stop_server(server)  # the batcher's close writes what was accepted
    store = ChdbStore(settings.data_dir / "chdb")
    try:
        rows = store.query("SELECT DISTINCT session_id FROM rum.events FINAL WHERE kind = 'pageview'")
        assert sorted(r["session_id"] for r in rows) == sorted(accepted)
    finally:
        store.close()
