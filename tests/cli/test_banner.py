"""The start-up banner on a terminal (#21): where the dashboard, snippet and data are."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from cli.banner import banner
from collector.settings import load_settings
from tests.conftest import free_port


def test_banner_names_dashboard_snippet_store_and_missing_geoip(tmp_path: Path) -> None:
    text = banner(load_settings(data_dir=tmp_path, port=8123), "serve")
    assert "rum serve: listening on http://127.0.0.1:8123" in text
    assert "dashboard  http://127.0.0.1:8123/   (read side: loopback only)" in text
    assert "curl 'http://127.0.0.1:8123/v1/snippet?site=YOUR-SITE'   (set RUM_INTAKE_URL)" in text
    assert f"embedded chDB in {tmp_path.resolve() / 'chdb'}" in text
    assert "GeoIP      none: visitors' countries stay empty (run `rum geoip download`)" in text
    paths = ("  store ", "  queue ")  # a long data dir makes these as long as it is
    assert all(len(line) <= 100 for line in text.splitlines() if not line.startswith(paths)), \
        "readable at 100 columns"


def test_banner_of_a_scaled_setup_hides_the_password(tmp_path: Path) -> None:
    city = tmp_path / "city.mmdb"
    city.write_bytes(b"")
    text = banner(load_settings(data_dir=tmp_path, clickhouse_url="http://rum:s3cret@ch:8123",
                                kafka_bootstrap="kafka:9092", admin_port=9090, api_tokens=["t" * 16],
                                geoip_db=city, intake_url="https://rum.example.com"), "serve")
    assert "s3cret" not in text and "ClickHouse http://rum:***@ch:8123" in text
    assert "queue      Kafka kafka:9092" in text
    assert "dashboard  http://127.0.0.1:9090/   (read side: admin listener, bearer tokens)" in text
    assert "curl 'https://rum.example.com/v1/snippet?site=YOUR-SITE'\n" in text
    assert f"GeoIP      {city}" in text
    # the refresh, when asked for and the data dir's database is the one served
    refreshed = banner(load_settings(data_dir=tmp_path, geoip_refresh_days=30), "serve")
    assert "GeoIP      none yet: downloading it now, and again when 30 days old" in refreshed


def test_serve_prints_the_banner_on_a_terminal_only(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    env.update(RUM_PORT=str(port), RUM_DATA_DIR=str(tmp_path / "data"))
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"GeoIP" not in seen and time.monotonic() < deadline:
            if select.select([controller], [], [], 1)[0]:
                seen += os.read(controller, 4096)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        os.close(controller)
    assert f"rum serve: listening on http://127.0.0.1:{port}".encode() in seen, seen[:500]
    assert seen.index(b"GeoIP") < seen.index(b"{") if b"{" in seen else True, "banner before the JSON logs"

    piped = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = piped.stderr.readline() if piped.stderr else b""
    finally:
        piped.terminate()
        _, rest = piped.communicate(timeout=30)
    assert first.startswith(b"{"), "not a terminal: JSON logs only"
    assert b"listening on" not in first + rest
