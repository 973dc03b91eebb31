"""The scaled path against a real Kafka-protocol broker (tansu): collector -> Kafka -> pipeline -> chDB."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from collector.settings import Settings
from tests.beacons import all_event_kinds, envelope
from tests.conftest import RunningServer, scrape, start_server, stop_server, wait_until
from tests.kafka_fixtures import Broker, unique_topic


@pytest.fixture
def kafka_server(server_settings: Callable[..., Settings],
                 kafka_broker: Broker) -> Iterator[RunningServer]:
    """`rum serve` with RUM_KAFKA_BOOTSTRAP: intake, spool, producer and consumer in one process."""
    settings = server_settings(kafka_bootstrap=kafka_broker.bootstrap, kafka_idempotent=False,
                               kafka_partitions=3, rate_limit_ip=0, rate_limit_site=0,
                               spool_segment_bytes=64 << 10, **unique_topic("e2e"))
    running = start_server(settings)
    try:
        yield running
    finally:
        stop_server(running)


def stored(server: RunningServer, where: str = "1") -> dict[str, int]:
    """What the queries see: rows per kind (FINAL: one per event id) and distinct ids."""
    rows = server.store.query(
        f"SELECT kind, count() AS n, uniqExact(event_id) AS ids FROM rum.events FINAL "
        f"WHERE {where} GROUP BY kind")
    assert all(r["n"] == r["ids"] for r in rows), rows
    return {r["kind"]: int(r["n"]) for r in rows}


def test_beacons_arrive_once_per_site_and_kind(kafka_server: RunningServer) -> None:
    sent: dict[tuple[str, str], int] = {}
    for i in range(60):
        site = ("shop-eu", "shop-us", "blog")[i % 3]
        events = all_event_kinds() if i % 4 == 0 else []
        reply = kafka_server.post(envelope(site=site, events=events))
        assert reply.status_code == 202, reply.text
        for kind in ["pageview"] + [e["t"] for e in events]:
            sent[(site, kind)] = sent.get((site, kind), 0) + 1

    def per_site_kind() -> dict[tuple[str, str], int]:
        rows = kafka_server.store.query(
            "SELECT site, kind, count() AS n FROM rum.events FINAL GROUP BY site, kind")
        return {(r["site"], r["kind"]): int(r["n"]) for r in rows}

    wait_until(lambda: sum(per_site_kind().values()) >= sum(sent.values()), timeout=60)
    assert per_site_kind() == sent
    sink = kafka_server.app.state.sink
    wait_until(lambda: sink.pending == 0, timeout=10)
    assert scrape(kafka_server.base_url)["rum_produced_messages_total"] == 60  # each envelope once
    # the spool gauges are refreshed every second
    wait_until(lambda: scrape(kafka_server.base_url)["rum_spool_bytes"] == 0, timeout=10)


def test_broker_outage_loses_nothing_and_spool_drains(kafka_server: RunningServer,
                                                      kafka_broker: Broker) -> None:
    """A steady stream; the broker cut off for a while, then back: every 202 arrives once."""
    accepted: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        n = 0
        while not stop.is_set():
            sid = f"outage-{n}"
            if kafka_server.post(envelope(sid=sid)).status_code == 202:
                accepted.append(sid)
            n += 1
            stop.wait(0.02)

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_until(lambda: stored(kafka_server).get("pageview", 0) >= 10, timeout=60)
        kafka_broker.proxy.cut()
        during = len(accepted)
        sink = kafka_server.app.state.sink
        # the intake keeps answering 202 from the spool while the broker is away
        wait_until(lambda: len(accepted) >= during + 50 and sink.pending >= 20, timeout=60)
        assert sink.spool.pending_bytes > 0
    finally:
        kafka_broker.proxy.restore()
        stop.set()
        writer.join()
    sink = kafka_server.app.state.sink
    wait_until(lambda: sink.pending == 0, timeout=90)
    assert sink.spool.pending_bytes == 0
    wait_until(lambda: stored(kafka_server).get("pageview", 0) >= len(accepted), timeout=60)
    got = kafka_server.store.query(
        "SELECT session_id, count() AS n FROM rum.events FINAL WHERE kind = 'pageview' "
        "GROUP BY session_id")
    assert sorted(r["session_id"] for r in got) == sorted(accepted)
    assert all(r["n"] == 1 for r in got)


def test_a_full_spool_answers_503_with_retry_after_and_loses_nothing_accepted(
        server_settings: Callable[..., Settings], kafka_broker: Broker) -> None:
    settings = server_settings(kafka_bootstrap=kafka_broker.bootstrap, kafka_idempotent=False,
                               rate_limit_ip=0, rate_limit_site=0, spool_max_bytes=1 << 16,
                               **unique_topic("full"))
    kafka_broker.proxy.cut()  # nothing leaves the spool
    server = start_server(settings)
    try:
        accepted, refused = [], None
        for i in range(200):
            reply = server.post(envelope(sid=f"full-{i}", events=all_event_kinds()))
            if reply.status_code == 202:
                accepted.append(f"full-{i}")
                continue
            refused = reply
            break
        assert refused is not None and refused.status_code == 503
        assert refused.json()["error"] == "backpressure" and refused.headers["retry-after"]
        assert 5 < len(accepted) < 200
        assert scrape(server.base_url)['rum_beacons_rejected_total{reason="backpressure"}'] >= 1
        kafka_broker.proxy.restore()
        wait_until(lambda: stored(server).get("pageview", 0) >= len(accepted), timeout=60)
        got = server.store.query("SELECT DISTINCT session_id FROM rum.events FINAL "
                                 "WHERE kind = 'pageview'")
        assert sorted(r["session_id"] for r in got) == sorted(accepted)
    finally:
        kafka_broker.proxy.restore()
        stop_server(server)


def test_faro_and_boomerang_beacons_take_the_kafka_path(kafka_server: RunningServer) -> None:
    """The receivers feed the same records: through the spool, Kafka and the pipeline, a
    recorded Faro batch (retried once with its Idempotency-Key) and Boomerang beacon land once."""
    from tests.collector.test_receivers import replay, samples

    faro = [s for s in samples("faro") if s["method"] == "POST"]
    boomerang = [s for s in samples("boomerang") if s["method"] == "POST"]
    for sample in faro + faro[:1] + boomerang:  # the first Faro batch twice: a retry
        assert replay(kafka_server, sample).status_code == sample["status"]
    # page views: Faro 5 batches with vitals or timing, Boomerang 3 beacons; errors 3 + 6
    expected = {"pageview": 5 + 3, "error": 3 + 6, "custom": 1}
    try:
        wait_until(lambda: stored(kafka_server, "site = 'shop'") == expected, timeout=20)
    except AssertionError:
        raise AssertionError(stored(kafka_server, "site = 'shop'")) from None
