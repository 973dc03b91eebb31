"""`rum demo`, shortened: the planted incidents are found and alerts reach the receiver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from demo.browser import chromium_available
from pipeline.chdb_store import ChdbStore
from tests.conftest import free_port, wait_until

DURATION = 60


def test_demo_finds_the_planted_incidents(tmp_path: Path) -> None:
    port = free_port()
    summary = tmp_path / "summary.json"
    browser = "--browser" if chromium_available() else "--no-browser"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    env["RUM_DATA_DIR"] = str(tmp_path / "data")  # the demo keeps its data where RUM_DATA_DIR says
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--duration", str(DURATION), "--seed", "1",
         "--rate", "80", "--alert-interval", "1", browser, "--port", str(port),
         "--summary", str(summary)],
        capture_output=True, text=True, timeout=DURATION + 180, env=env)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert f"Dashboard: http://127.0.0.1:{port}/" in out
    assert f"rum serve --data-dir {tmp_path / 'data'}" in out.replace("\n", ""), out[-600:]
    for started in ("LCP degrades in BR-SP", "login failures spike in DE", "JS error appears on /checkout"):
        assert started in out

    findings = orjson.loads(summary.read_bytes())
    # the findings are read once the collector has written what it took (demo/run.py
    # WRITE_WAIT_S); otherwise the last beacons, the incidents' included, are left out
    assert findings["stats"]["unwritten_rows"] == 0, findings["stats"]
    flagged = [r for r in findings["slow_regions"] if r["flagged"] and r["level"] == "region"]
    assert (flagged[0]["country"], flagged[0]["region"]) == ("BR", "SP"), flagged[:3]
    logins = {r["country"]: r for r in findings["failing_logins"]}
    assert logins["DE"]["flagged"] and not any(r["flagged"] for c, r in logins.items() if c != "DE"), \
        ({c: (r["flagged"], r["attempts"], r["failure_rate"]) for c, r in logins.items()}, findings["stats"])
    assert "reading 'total'" in findings["top_errors"][0]["message"]
    firing = {(d["rule"], tuple(sorted(d["group"].items()))) for d in findings["deliveries"]
              if d["state"] == "firing"}
    assert firing, "at least one alert delivered to the demo receiver"
    assert firing <= {("slow-lcp-by-region", (("country", "BR"), ("region", "SP"))),
                      ("failing-logins-by-country", (("country", "DE"),)),
                      ("js-errors-by-page", (("page_group", "/checkout"),))}, firing
    assert "alert firing" in out
    if browser == "--browser":
        assert findings["stats"]["browser_accepted"] > 0, "real chromium visits reached the collector"

    # what the collector stored, read back from its data folder once the demo has exited
    store = ChdbStore(tmp_path / "data" / "chdb")
    try:
        outcomes = store.query("SELECT outcome, count() AS n FROM rum.webhook_deliveries GROUP BY outcome")
        assert {r["outcome"]: r["n"] for r in outcomes}.get("delivered", 0) >= 1
        places = store.query("SELECT DISTINCT country FROM rum.events WHERE kind = 'pageview'")
        assert {"BR", "DE", "IN", "US", "GB"} <= {r["country"] for r in places}
    finally:
        store.close()


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--no-browser", "--rate", "20", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # the dashboard URL is printed once everything serves
            if line.startswith("Dashboard:"):
                break
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200)
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, err[-3000:]
    assert "Findings" in out and "Traceback" not in err
    assert "temporary folder and is gone" in out
    assert not (tmp_path / ".rum-data").exists(), "without --data-dir: a temporary folder"
