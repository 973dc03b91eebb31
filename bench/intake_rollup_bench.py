"""Intake while the roller works: `rum serve` on a store of 10 million events (a day) plus
400 thousand in the current hour, taking beacons at a paced rate, with rollups every 30 s
(the default) and off, alternating; the server pinned to CPU 0, wrk to CPU 1.

The roller's cycles re-roll the current hour (every rollup) while beacons arrive: this
measures whether intake keeps its rate and latency meanwhile (chDB runs one statement at
a time per process, so the batcher holds rows while a roll runs).

Usage: .venv/bin/python bench/intake_rollup_bench.py [--rate 1500] [--seconds 60] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.analytics_bench import load  # noqa: E402
from bench.intake_bench import lua_script, run_wrk, start, stop, wait_up  # noqa: E402
from pipeline.chdb_store import ChdbStore  # noqa: E402
from pipeline.schema import migrate  # noqa: E402
from rollups.scheduler import Roller  # noqa: E402
from tests.geo_fixtures import build_city_db  # noqa: E402

CONNECTIONS = 32


def seed_store(path: Path) -> None:
    """A day of 10M events and 400k in the current hour, rolled."""
    store = ChdbStore(path)
    migrate(store, 30)
    store.command(load(10_000_000, 1))
    store.command(load(400_000, 0))
    roller = Roller(store)
    roller.cycle()
    while not roller.settled():
        roller.cycle()
    store.close()


def serve_and_load(data: Path, city: Path, interval: str, script: Path, seconds: int) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RUM_PORT="18093", RUM_DATA_DIR=str(data),
               RUM_GEOIP_DB=str(city), RUM_TRUSTED_PROXIES="127.0.0.1/32",
               RUM_LOG_LEVEL="warning", RUM_BUFFER_MAX_ROWS="2000000", RUM_RATE_LIMIT_IP="0",
               RUM_ROLLUP_INTERVAL=interval)
    proc = start([sys.executable, "-m", "cli.main", "serve"], env)
    try:
        wait_up("http://127.0.0.1:18093/healthz", timeout=120)
        time.sleep(5)  # past the first (full) cycle
        res = run_wrk("http://127.0.0.1:18093/v1/beacon", script, seconds, CONNECTIONS)
        metrics = urllib.request.urlopen("http://127.0.0.1:18093/metrics").read().decode()
    finally:
        stop(proc)

    def metric(name: str) -> float:
        found = re.search(rf"^{name} ([\d.e+]+)$", metrics, re.M)
        return float(found.group(1)) if found else 0.0

    cycles, spent = metric("rum_rollup_seconds_count"), metric("rum_rollup_seconds_sum")
    return (f"| rollups {'every ' + interval + ' s' if interval != '0' else 'off'} | "
            f"{res['rps']:.0f} | {res['p99_ms']:.1f} | {res['non_2xx']:.0f} | {cycles:.0f} | "
            f"{spent / cycles if cycles else 0:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1500, help="offered beacons/s")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rum-intake-rollup-"))
    try:
        seed = tmp / "seed" / "chdb"
        seed_store(seed)
        city = build_city_db(tmp / "city.mmdb")
        script = tmp / "paced.lua"
        lua_script(script, delay_ms=CONNECTIONS * 1000.0 / args.rate)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}; offered "
              f"{args.rate:.0f} beacons/s, wrk -t1 -c{CONNECTIONS} -d{args.seconds}s")
        print("| run | req/s | p99 ms | non-2xx | roll cycles | s per cycle |")
        print("|---|---|---|---|---|---|")
        for _ in range(args.rounds):
            for interval in ("30", "0"):
                data = tmp / f"run-{interval}"
                shutil.copytree(seed.parent, data, symlinks=True)  # chDB keeps symlinks
                print(serve_and_load(data, city, interval, script, args.seconds), flush=True)
                shutil.rmtree(data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
