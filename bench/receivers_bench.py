"""What a beacon costs the collector's Python, per format: the v1 beacon against Grafana
Faro's and Boomerang's requests (the recorded ones in tests/collector/agent_samples/).

In-process, no HTTP: for each request, the receiver's parse (JSON or form decoding and the
translation into an Envelope) and every enrichment stage up to the encoded record, as the
intake runs them. Reported per request and per stored row, and as a ratio to v1 in the
same run (the machine is noisy; the ratio is the figure to compare).

    .venv/bin/python bench/receivers_bench.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake_bench import beacon  # noqa: E402
from collector.clientip import TrustedProxies  # noqa: E402
from collector.geo import GeoLookup  # noqa: E402
from collector.intake import BeaconIntake, Cors, Parsed  # noqa: E402
from collector.metrics import Metrics  # noqa: E402
from collector.receivers.boomerang import BoomerangIntake  # noqa: E402
from collector.receivers.faro import FaroIntake  # noqa: E402
from collector.stages import Beacon, build_stages  # noqa: E402
from tests.geo_fixtures import build_city_db, visitor_ip  # noqa: E402

SAMPLES = ROOT / "tests" / "collector" / "agent_samples"
UA = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"


def requests(agent: str) -> list[tuple[bytes, dict[str, Any], dict[bytes, bytes]]]:
    """(body, ASGI scope, headers) of each recorded request that carries data."""
    out = []
    for line in (SAMPLES / f"{agent}.jsonl").read_text().splitlines():
        sample = json.loads(line)
        if sample["method"] == "OPTIONS":
            continue
        scope = {"method": sample["method"], "query_string": sample["query"].encode()}
        headers = {k.lower().encode(): str(v).encode() for k, v in sample["headers"].items()}
        body = sample["body"].encode() if sample["method"] == "POST" else scope["query_string"]
        out.append((body, scope, headers))
    return out


def run(intake: BeaconIntake, reqs: list[tuple[bytes, dict[str, Any], dict[bytes, bytes]]],
        rounds: int) -> tuple[float, int]:
    """Seconds for `rounds` passes over the requests, and the rows one pass makes."""
    rows = 0
    started = time.perf_counter()
    for n in range(rounds):
        for body, scope, headers in reqs:
            parsed = intake.parse(body, scope, headers)
            assert isinstance(parsed, Parsed), parsed
            result = intake._enrich(None, visitor_ip("IN", "MH"), headers, parsed)
            assert isinstance(result, Beacon), result
            if n == 0:
                rows += result.rows
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    geo = GeoLookup(build_city_db(Path("/tmp/receivers-bench-city.mmdb")))
    stages = build_stages(geo)
    common = (65536, TrustedProxies([]), Cors(["*"]), Metrics())
    rng = random.Random(1)
    v1 = [(beacon(rng, i).encode(), {"method": "POST", "query_string": b""},
           {b"user-agent": UA, b"content-type": b"text/plain"}) for i in range(6)]
    formats = {"v1 /v1/beacon": (BeaconIntake(*common), v1),
               "Faro /collect": (FaroIntake(*common), requests("faro")),
               "Boomerang /v1/boomerang": (BoomerangIntake(*common), requests("boomerang"))}
    results = {}
    for name, (intake, reqs) in formats.items():
        intake.stages = stages  # as bind() does, without a sink: nothing is written
        intake._stage_timers = {n: intake.metrics.stage_seconds.labels(n) for n, _ in stages}
        run(intake, reqs, 50)  # warm the caches (UA, geo, scrubbing)
        seconds, rows = run(intake, reqs, args.rounds)
        per_request = seconds / (args.rounds * len(reqs)) * 1e6
        results[name] = (per_request, per_request * len(reqs) / max(rows, 1), rows / len(reqs))
    base = results["v1 /v1/beacon"][0]
    print(f"{'format':<26}{'µs/request':>12}{'rows/request':>14}{'µs/row':>10}{'vs v1':>8}")
    for name, (per_request, per_row, rows) in results.items():
        print(f"{name:<26}{per_request:>12.1f}{rows:>14.1f}{per_row:>10.1f}{per_request / base:>8.2f}")


if __name__ == "__main__":
    main()
