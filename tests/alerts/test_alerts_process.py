"""`rum alerts` as its own process (the scaled deployment's evaluator): health and metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import free_port, scrape, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_rum_alerts_evaluates_and_serves_health_and_metrics(tmp_path: Path) -> None:
    rules = ROOT / "deploy" / "alerts.yaml"
    port = free_port()
    env = {**os.environ, "RUM_PORT": str(port), "RUM_DATA_DIR": str(tmp_path / "data"),
           "RUM_ALERT_RULES": str(rules), "RUM_ALERT_INTERVAL": "0.2", "RUM_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "alerts"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def evaluations() -> float:
        try:
            return scrape(base).get("rum_alert_evaluations_total", 0.0)
        except httpx.HTTPError:  # not listening yet
            return 0.0

    try:
        wait_until(lambda: evaluations() >= 3 or process.poll() is not None, timeout=60)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        assert httpx.get(f"{base}/v1/alerts").json()["active"] == []  # no data, nothing fires
        # an evaluator takes no beacons
        assert httpx.post(f"{base}/v1/beacon", content=b"{}").status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_rum_alerts_without_rules_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    done = subprocess.run([sys.executable, "-m", "cli.main", "alerts", "--data-dir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "rum: error: RUM_ALERT_RULES is not set: nothing to evaluate"
