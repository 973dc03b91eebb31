"""Where a beacon's CPU goes inside `rum serve`: its HTTP protocol fed from memory, part by part.

`bench/intake_bench.py` measures the whole server under wrk; this takes the network
away and measures the collector's own Python in one process, on the event loop
`rum serve` runs (uvloop), with the bench's beacons as wrk sends them (the same 64
requests, 32 connections, a loop turn every 32 requests). Each row adds a part:

- bare: uvicorn's own protocol with bench/bare_app.py (the baseline's code, no network);
- protocol: `rum serve`'s protocol, admit() and the 202, the body not looked at;
- + each stage in turn (collector/stages.py, in their order; nothing reaches the sink
  before `encode` makes the record's line);
- + the sink: the spool and the batcher, as served (the writer not flushing during the run).

Usage: taskset -c 0 .venv/bin/python bench/intake_parts.py [--beacons 30000] [--small]
Prints a markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake_bench import bench_requests  # noqa: E402
from tests.geo_fixtures import build_city_db  # noqa: E402

CONNECTIONS = 32


class NullSink:
    """A sink that takes every record and keeps nothing (the stages measured alone)."""

    refusing = False
    pending = 0

    def submit(self, key: bytes, line: bytes, rows: int) -> bool:
        return True


class MemoryTransport:
    """What the protocol writes to: replies counted, nothing sent."""

    def __init__(self) -> None:
        self.replies = 0
        self.status = b""  # the last reply's status line
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 18092)}.get(name, default)

    def write(self, data: bytes) -> None:
        if data.startswith(b"HTTP/"):  # a reply starts (its body may be a write of its own)
            self.replies += 1
            self.status = data.split(b"\r\n", 1)[0]

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, *args: Any, **kwargs: Any) -> None:
        pass


def requests(small: bool) -> list[bytes]:
    """The bench's 64 requests, as wrk.format sends them."""
    out = []
    for headers, text in bench_requests(64, small):
        body = text.encode()
        lines = [b"POST /v1/beacon HTTP/1.1", b"Host: 127.0.0.1:18092",
                 *(f"{k}: {v}".encode() for k, v in headers.items()),
                 b"Content-Length: " + str(len(body)).encode()]
        out.append(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    return out


async def per_request(config: Any, reqs: list[bytes], n: int) -> float:
    """µs of CPU per request through `config`'s protocol, `n` requests."""
    from uvicorn.server import ServerState

    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(CONNECTIONS):
        protocol = config.http_protocol_class(config=config, server_state=ServerState(),
                                              app_state={}, _loop=loop)
        transport = MemoryTransport()
        protocol.connection_made(transport)
        conns.append((protocol, transport))

    async def run(count: int) -> float:
        started = time.process_time()
        for k in range(count):
            conns[k % CONNECTIONS][0].data_received(reqs[k % len(reqs)])
            if k % CONNECTIONS == CONNECTIONS - 1:
                for _ in range(3):  # the replies' sends, and the ASGI tasks of the bare app
                    await asyncio.sleep(0)
        for _ in range(3):
            await asyncio.sleep(0)
        return (time.process_time() - started) / count * 1e6

    warm = min(n, 3000)
    await run(warm)  # caches, the first flush of each connection
    us = await run(n)
    replies = sum(t.replies for _, t in conns)
    if replies != warm + n:
        raise SystemExit(f"error: {replies} replies to {warm + n} requests")
    statuses = {t.status.split()[1] for _, t in conns}
    for protocol, _ in conns:
        protocol.connection_lost(None)
    if not statuses <= {b"202", b"204"}:
        raise SystemExit(f"error: replies {sorted(statuses)}, not 202/204")
    return us


async def measure(n: int, small: bool, data_dir: Path) -> dict[str, float]:
    import uvicorn

    from bench.bare_app import app as bare_app
    from collector.app import create_app
    from collector.server import uvicorn_config
    from collector.settings import Settings

    reqs = requests(small)
    out: dict[str, float] = {}
    bare = uvicorn.Config(bare_app, http="httptools", lifespan="off", access_log=False,
                          log_config=None)
    bare.load()
    out["bare"] = await per_request(bare, reqs, n)

    settings = Settings()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        config = uvicorn_config(app, settings)
        config.load()
        intake = app.state.intake
        take, stages, sink = intake.take, intake.stages, intake.sink
        answer = intake.accepted([], 3)
        intake.take = lambda *args: answer  # the 202, the body not looked at
        try:
            out["protocol"] = await per_request(config, reqs, n)
        finally:
            intake.take = take
        # the stages one by one (a prefix of them: nothing reaches the sink before `encode`
        # makes the record's line), then the sink
        intake.sink = NullSink()
        try:
            for count in range(1, len(stages) + 1):
                intake.stages = stages[:count]
                name = stages[count - 1][0]
                label = f"+ {name}" if count > 1 else f"+ take() itself and {name}"
                out[label] = await per_request(config, reqs, n)
        finally:
            intake.stages, intake.sink = stages, sink
        out["+ the sink (spool, batcher)"] = await per_request(config, reqs, n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beacons", type=int, default=30_000, help="requests per part")
    parser.add_argument("--small", action="store_true", help="page views only (no events)")
    args = parser.parse_args()
    if args.beacons < 100:
        sys.exit("error: --beacons must be at least 100")
    tmp = Path(tempfile.mkdtemp(prefix="rum-parts-"))
    atexit.register(shutil.rmtree, tmp, True)
    # the writer must not flush during a run: its inserts are measured by intake_bench
    os.environ.update(RUM_DATA_DIR=str(tmp / "data"), RUM_GEOIP_DB=str(build_city_db(tmp / "c.mmdb")),
                      RUM_TRUSTED_PROXIES="127.0.0.1/32", RUM_LOG_LEVEL="warning",
                      RUM_RATE_LIMIT_IP="0", RUM_RATE_LIMIT_SITE="0", RUM_ROLLUP_INTERVAL="0",
                      RUM_BATCH_MAX_ROWS="1000000", RUM_BATCH_MAX_SECONDS="60",
                      RUM_BUFFER_MAX_ROWS=str(4 * args.beacons + 100_000))
    try:
        import uvloop
        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        us = runner.run(measure(args.beacons, args.small, tmp))
    bare = us["bare"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"date: {time.strftime('%Y-%m-%d')}; {args.beacons} {'small ' if args.small else ''}"
          f"beacons a part, {CONNECTIONS} connections, no network")
    print("| part | CPU µs a request | added by the part |")
    print("|---|---|---|")
    print(f"| bare (uvicorn's protocol, bench/bare_app.py) | {us.pop('bare'):.1f} | - |")
    before = us.pop("protocol")
    print(f"| `rum serve`'s protocol, admit() and the 202 (body not read) | {before:.1f} | - |")
    for name, value in us.items():
        print(f"| {name} | {value:.1f} | {value - before:+.1f} |")
        before = value
    full = us["+ the sink (spool, batcher)"]
    print(f"full / bare by CPU: {bare / full:.2f} (no network: the server's own code)")

if __name__ == "__main__":
    main()
