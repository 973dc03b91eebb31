"""A 202 from `rum serve` means "on disk": SIGKILL under load, again and again, loses no
accepted beacon and doubles none (the embedded batcher holds records in the spool)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import orjson

from pipeline.chdb_store import ChdbStore
from tests.beacons import envelope
from tests.conftest import CHROME_UA, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _serve(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, RUM_PORT=str(port), RUM_DATA_DIR=str(data_dir),
               RUM_RATE_LIMIT_IP="0", RUM_LOG_LEVEL="warning",
               # a window longer than each life of the server: without the spool, every
               # accepted beacon would be lost by the kill
               RUM_BATCH_MAX_SECONDS="30")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return proc.poll() is not None

    wait_until(healthy, timeout=60)
    assert proc.poll() is None, "rum serve did not start"
    return proc


def _load(port: int, prefix: str, accepted: list[str], stop: threading.Event) -> None:
    """Post beacons until stopped (or refused by the kill); note each one answered 202."""
    with httpx.Client(headers={"content-type": "text/plain", "user-agent": CHROME_UA},
                      timeout=5) as client:
        i = 0
        while not stop.is_set() and i < 5000:
            sid = f"{prefix}-{i}"
            try:
                reply = client.post(f"http://127.0.0.1:{port}/v1/beacon",
                                    content=orjson.dumps(envelope(sid=sid)))
            except httpx.TransportError:
                return  # the server was killed mid-request: not accepted
            if reply.status_code == 202:
                accepted.append(sid)
            i += 1


def test_sigkill_in_a_loop_under_load_loses_nothing_accepted_and_doubles_nothing(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    accepted: list[str] = []
    for life in range(3):
        port = free_port()
        proc = _serve(port, data_dir)
        stop = threading.Event()
        before = len(accepted)
        loader = threading.Thread(target=_load, args=(port, f"k{life}", accepted, stop))
        loader.start()
        try:
            wait_until(lambda before=before: len(accepted) >= before + 150, timeout=60)
        finally:
            proc.send_signal(signal.SIGKILL)  # under load, with a flush window of 30 s
            proc.wait(timeout=10)
            stop.set()
            loader.join(timeout=30)
    port = free_port()
    proc = _serve(port, data_dir)  # the last life writes what the spool holds at start
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").json()["pending_rows"] == 0,
                   timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    store = ChdbStore(data_dir / "chdb")
    try:
        rows = store.query("SELECT session_id, count() AS n FROM rum.events FINAL "
                           "WHERE startsWith(session_id, 'k') GROUP BY session_id")
    finally:
        store.close()
    stored = {r["session_id"]: r["n"] for r in rows}
    assert len(accepted) >= 450
    assert set(accepted) <= set(stored), f"lost: {sorted(set(accepted) - set(stored))[:5]}"
    assert all(n == 1 for n in stored.values())  # each beacon's one row, once
