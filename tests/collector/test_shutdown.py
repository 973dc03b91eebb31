"""SIGTERM/SIGINT on `rum serve` flushes every accepted beacon before exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipeline.chdb_store import ChdbStore
from tests.beacons import envelope
from tests.conftest import CHROME_UA, free_port, wait_healthy


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_flushes_everything_accepted(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    env = dict(os.environ, RUM_PORT=str(port), RUM_DATA_DIR=str(tmp_path / "data"),
               # a flush interval far longer than the test: only shutdown can write the rows
               RUM_BATCH_MAX_SECONDS="60", RUM_RATE_LIMIT_IP="0")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        accepted = 0
        with httpx.Client(headers={"content-type": "text/plain", "user-agent": CHROME_UA}) as client:
            for i in range(200):
                body = httpx.Request("POST", "http://x", json=envelope(sid=f"shut{i}")).content
                if client.post(f"{base}/v1/beacon", content=body).status_code == 202:
                    accepted += 1
        assert accepted == 200
        assert httpx.get(f"{base}/healthz").json()["pending_rows"] == 200
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, output.decode()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    store = ChdbStore(tmp_path / "data" / "chdb")
    try:
        rows = store.query("SELECT count() AS n FROM rum.events WHERE startsWith(session_id, 'shut')")
        assert rows[0]["n"] == 200
    finally:
        store.close()
