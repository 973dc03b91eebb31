"""Intake benchmark: `rum serve` (full intake: validation, enrichment, batching into chDB)
against a bare uvicorn ASGI app answering 204, both pinned to CPU 0, with wrk pinned to CPU 1.

Usage: .venv/bin/python bench/intake_bench.py [--seconds 20] [--connections 32]
Prints a markdown table; record it in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.geo_fixtures import PLACES, build_city_db  # noqa: E402

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Safari/605.1.15",
]


def small_beacon(rng: random.Random, i: int) -> str:
    """A page view only (~600 B): timings, vitals, network, no events."""
    body = json.loads(beacon(rng, i))
    del body["events"], body["attribution"], body["perf"]
    return json.dumps(body)


def beacon(rng: random.Random, i: int) -> str:
    """A realistic final-flush envelope (~1.5 KB) with vitals, timings and two events."""
    now = time.time() * 1000
    body = {
        "v": 1, "site": "shop-eu", "sid": f"s{i:06d}", "pid": f"p{i:06d}", "seq": 1,
        "sent_at": now, "url": f"https://shop.example.com/product/{rng.randint(1, 99999)}?ref=ad",
        "ref": "https://www.google.com/",
        "nav": {"type": "navigate", "dns": 12, "connect": 40, "tls": 25, "request": 180,
                "response": 35, "dom_interactive": 650, "dom_complete": 1400, "load": 1450,
                "transfer_size": 18250},
        "vitals": {"lcp": rng.uniform(800, 6000), "inp": rng.uniform(40, 600),
                   "cls": rng.uniform(0, 0.4), "fcp": rng.uniform(400, 3000),
                   "ttfb": rng.uniform(80, 2000)},
        "attribution": {"lcp_element": "main>div.gallery>img.hero", "inp_target": "button#add"},
        "net": {"type": "4g", "rtt": 50, "downlink": 10, "save_data": False},
        "perf": {"long_tasks": 3, "tbt": 140, "rage_clicks": 0},
        "events": [
            {"t": "api", "ts": now - 900, "method": "GET", "url": "/api/cart?x=1",
             "status": 503, "duration": 812},
            {"t": "error", "ts": now - 500, "message": "TypeError: Cannot read properties of "
             "undefined (reading 'price')", "source": "https://shop.example.com/static/app.js",
             "line": 1, "col": 48213, "stack": "TypeError: Cannot read properties of undefined\n"
             "    at renderPrice (https://shop.example.com/static/app.js:1:48213)\n"
             "    at https://shop.example.com/static/app.js:1:50110\n" * 3},
        ],
    }
    return json.dumps(body)


def bench_requests(n: int = 64, small: bool = False) -> list[tuple[dict[str, str], str]]:
    """The bench's n requests, (headers, body): beacons (small: page views only) cycling
    through the user agents and an address in each test place."""
    rng = random.Random(1)
    out = []
    for i in range(n):
        cidr = PLACES[i % len(PLACES)][0]
        ip = cidr.split("/")[0][:-1] + str(1 + i % 200)
        headers = {"Content-Type": "text/plain", "User-Agent": AGENTS[i % len(AGENTS)],
                   "X-Forwarded-For": ip}
        out.append((headers, (small_beacon if small else beacon)(rng, i)))
    return out


def lua_script(path: Path, n: int = 64, delay_ms: float | None = None, small: bool = False) -> None:
    """A wrk script cycling through n beacons (small: page views only), user agents and IPs."""
    lines = ["local reqs = {}"]
    for i, (headers, body) in enumerate(bench_requests(n, small)):
        hdr = ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in headers.items())
        lines.append(f'reqs[{i + 1}] = wrk.format("POST", "/v1/beacon", {{{hdr}}}, '
                     f'{json.dumps(body)})')
    lines += ["local i = 0", "request = function()", "  i = i % #reqs + 1", "  return reqs[i]", "end"]
    if delay_ms is not None:
        lines += ["delay = function()", f"  return {round(delay_ms)}", "end"]  # whole ms
    path.write_text("\n".join(lines) + "\n")


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error reply means it is up
                return
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def need_wrk() -> None:
    """One line and exit 2, not a traceback, when wrk (the load generator) is missing."""
    packages = {"wrk": "wrk", "taskset": "util-linux"}
    missing = [tool for tool in packages if shutil.which(tool) is None]
    if missing:
        sys.exit(f"error: {' and '.join(missing)} not found: `make bench` installs them (as "
                 f"root), or apt-get install {' '.join(packages[t] for t in missing)}")


def need_free(port: int) -> None:
    """One line and a non-zero exit when the port is taken: wrk would measure what answers there
    (a server left by an interrupted run), not the server this run starts."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is fine
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            sys.exit(f"error: port {port} is in use (a server left from an interrupted run?)")


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else -1,
            "non_2xx": float(errors.group(1)) if errors else 0.0}


def paced_script(script: Path, target: float, min_connections: int = 32) -> int:
    """Write a wrk script offering about `target` req/s and return the connections to run it
    with: each connection waits `delay()` before each request, and wrk takes the delay in
    whole milliseconds, so there are enough connections for a delay of ~25 ms (steps of
    ~4%; 32 connections at ~3 ms between requests reached ~60% of an 80% target)."""
    connections = max(min_connections, math.ceil(target * 0.025))
    lua_script(script, delay_ms=connections * 1000.0 / target)
    return connections


def paced_run(url: str, target: float, seconds: int, script: Path) -> dict[str, float]:
    """wrk offering about `target` req/s (paced_script); one 3 s run first measures the reply
    time to take off the delay."""
    connections = paced_script(script, target)
    delay = connections * 1000.0 / target
    trial = run_wrk(url, script, 3, connections)
    reply_ms = max(0.0, connections * 1000.0 / trial["rps"] - delay)
    lua_script(script, delay_ms=max(1.0, round(delay - reply_ms)))
    result = run_wrk(url, script, seconds, connections)
    result["connections"] = connections
    return result


def waiting_rows(metrics_url: str) -> float:
    """rum_buffer_rows: event rows accepted and not yet written."""
    text = urllib.request.urlopen(metrics_url).read().decode()
    found = re.search(r"^rum_buffer_rows ([\d.e+]+)$", text, re.M)
    return float(found.group(1)) if found else -1.0


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """CPU time the process has used so far, all its threads (user + system)."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc: subprocess.Popen[bytes], url: str, script: Path, seconds: int,
             connections: int, metrics_url: str | None = None) -> dict[str, float]:
    """A wrk run, plus the server's CPU time per request over it (µs): unlike req/s, this
    hardly moves when other processes share the machine. With `metrics_url` (rum serve),
    the CPU counted runs until the writer has caught up (`rum_buffer_rows` back to 0):
    with ClickHouse's threads at a lower priority, a run at the maximum leaves part of the
    inserts for after it, and the CPU they take belongs to the beacons of the run."""
    before = cpu_seconds(proc)
    result = run_wrk(url, script, seconds, connections)
    if metrics_url is not None:
        result["backlog_rows"] = waiting_rows(metrics_url)
        deadline = time.monotonic() + 300
        while waiting_rows(metrics_url) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    result["cpu_us"] = (cpu_seconds(proc) - before) / max(1.0, result["rps"] * seconds) * 1e6
    return result


def start(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    # cwd is where `python -m` imports the collector from
    return subprocess.Popen(["taskset", "-c", "0", *cmd], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="serve this checkout's collector (e.g. a worktree of an older "
                             "commit, for before/after in one run); default: this one")
    args = parser.parse_args()
    need_wrk()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="rum-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    script = tmp / "post.lua"
    lua_script(script)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    need_free(18091)
    need_free(18092)
    bare = start([py, "-m", "uvicorn", "bench.bare_app:app", "--port", "18091", "--no-access-log",
                  "--log-level", "warning"], dict(env, PYTHONPATH=str(ROOT)))
    try:
        wait_up("http://127.0.0.1:18091/")
        base = measured(bare, "http://127.0.0.1:18091/v1/beacon", script, args.seconds,
                        args.connections)
    finally:
        stop(bare)

    city = build_city_db(tmp / "city.mmdb")
    rum_env = dict(env, RUM_PORT="18092", RUM_DATA_DIR=str(tmp / "data"), RUM_GEOIP_DB=str(city),
                   RUM_TRUSTED_PROXIES="127.0.0.1/32", RUM_LOG_LEVEL="warning",
                   RUM_BUFFER_MAX_ROWS="2000000",
                   # the script's 64 client addresses x the default 50 beacons/s per address
                   # would cap the run at ~3,200/s and answer the rest 429 (cheaply); the one
                   # site's default limit did the same past ~10,000/s (2026-12-04)
                   RUM_RATE_LIMIT_IP="0", RUM_RATE_LIMIT_SITE="0")
    rum = start([py, "-m", "cli.main", "serve"], dict(rum_env, PYTHONPATH=str(args.code)),
                cwd=args.code)
    try:
        wait_up("http://127.0.0.1:18092/healthz")
        # a warm-up: start-up work (the roller's first cycle, caches) out of the measured run
        run_wrk("http://127.0.0.1:18092/v1/beacon", script, 3, args.connections)
        metrics_url = "http://127.0.0.1:18092/metrics"
        full = measured(rum, "http://127.0.0.1:18092/v1/beacon", script, args.seconds,
                        args.connections, metrics_url)
        # the rate one core keeps up with, inserts included: wrk's maximum can be higher for
        # a while when the inserts fall behind (the backlog), never for long
        sustained = min(full["rps"], 1e6 / full["cpu_us"])
        at80 = paced_run("http://127.0.0.1:18092/v1/beacon", 0.8 * sustained, args.seconds,
                         tmp / "paced.lua")
        small_script = tmp / "small.lua"
        lua_script(small_script, small=True)
        small = measured(rum, "http://127.0.0.1:18092/v1/beacon", small_script, args.seconds,
                         args.connections, metrics_url)
        metrics = urllib.request.urlopen("http://127.0.0.1:18092/metrics").read().decode()
    finally:
        stop(rum)
    accepted = re.search(r"^rum_beacons_accepted_total ([\d.e+]+)$", metrics, re.M)
    rejected = re.findall(r"^rum_beacons_rejected_total\{reason=\"(\w+)\"\} ([\d.e+]+)$", metrics, re.M)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"collector from {args.code}")
    print(f"date: {time.strftime('%Y-%m-%d')}, wrk -t1 -c{args.connections} -d{args.seconds}s, "
          f"servers pinned to CPU 0, wrk to CPU 1")
    print("| run | req/s | p99 ms | non-2xx | server CPU µs/request (rum serve: until written) |")
    print("|---|---|---|---|---|")
    print(f"| bare ASGI app (204) | {base['rps']:.0f} | {base['p99_ms']:.2f} | "
          f"{base['non_2xx']:.0f} | {base['cpu_us']:.1f} |")
    print(f"| rum serve, full intake, max | {full['rps']:.0f} | {full['p99_ms']:.2f} | "
          f"{full['non_2xx']:.0f} | {full['cpu_us']:.1f} |")
    print(f"| rum serve paced at 80% of the sustained max ({at80['rps'] / sustained:.0%} reached, "
          f"{at80['connections']:.0f} connections) | {at80['rps']:.0f} | {at80['p99_ms']:.2f} | "
          f"{at80['non_2xx']:.0f} | - |")
    print(f"| rum serve, small beacon (page view only), max | {small['rps']:.0f} | "
          f"{small['p99_ms']:.2f} | {small['non_2xx']:.0f} | {small['cpu_us']:.1f} |")
    print(f"ratio full/bare: {full['rps'] / base['rps']:.2f} by req/s, "
          f"{base['cpu_us'] / full['cpu_us']:.2f} by CPU per request; small beacon/bare: "
          f"{small['rps'] / base['rps']:.2f} by req/s, {base['cpu_us'] / small['cpu_us']:.2f} by CPU")
    print(f"accepted beacons: {accepted.group(1) if accepted else '?'}, rejected: {rejected}")
    print(f"sustained max (one core / CPU a beacon, inserts included): {sustained:.0f} req/s; rows "
          f"not yet written right after the max run: {full['backlog_rows']:.0f} of "
          f"~{3 * full['rps'] * args.seconds:.0f}")


if __name__ == "__main__":
    main()
