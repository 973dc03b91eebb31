"""Shared fixtures: test GeoIP databases and a real collector on a loopback port."""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from collector.app import create_app
from collector.server import build_servers, run_servers
from collector.settings import Settings, load_settings
from pipeline.store import Store
from tests.geo_fixtures import build_asn_db, build_city_db

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
ANDROID_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")


def pytest_configure(config: pytest.Config) -> None:
    """Let the suite hold more descriptors than a default 1024 soft limit: every chDB
    session opened and closed leaves ~12-18 descriptors open (chDB keeps its threads'
    /proc/<pid>/task/<tid>/{stat,io,schedstat} files), and the suite opens hundreds;
    a server process opens one session, so only the tests pile them up."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY
                                                    else max(soft, 65536), hard))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


def wait_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Wait until a server started in another process answers /healthz with 200."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{base_url}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, timeout)

def scrape(base_url: str) -> dict[str, float]:
    """Every sample of a server's /metrics, keyed by name and labels as exposed,
    e.g. 'rum_beacons_rejected_total{reason="backpressure"}'."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return out


@pytest.fixture(scope="session")
def geoip_dbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(city db, asn db) mapping the ranges in tests/geo_fixtures.py."""
    folder = tmp_path_factory.mktemp("geoip")
    return build_city_db(folder / "city.mmdb"), build_asn_db(folder / "asn.mmdb")


@dataclass
class RunningServer:
    """A collector running in this process: its URL, settings and store."""

    base_url: str
    settings: Settings
    app: Any
    server: uvicorn.Server

    @property
    def store(self) -> Store:
        """The live store (chDB session) the app writes to."""
        store: Store = self.app.state.store
        return store

    def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        """POST a beacon (JSON-encoded unless bytes)."""
        headers = {"content-type": "text/plain", "user-agent": CHROME_UA}
        headers.update(kwargs.pop("headers", {}))
        content = body if isinstance(body, bytes) else httpx.Request(
            "POST", "http://x", json=body).content
        return httpx.post(f"{self.base_url}/v1/beacon", content=content, headers=headers,
                          timeout=10, **kwargs)

    def count(self, where: str = "1", params: dict[str, Any] | None = None) -> int:
        """Rows in rum.events matching a fixed test predicate."""
        rows = self.store.query(f"SELECT count() AS n FROM rum.events WHERE {where}", params)
        return int(rows[0]["n"])

    def wait_rows(self, n: int, where: str = "1", timeout: float = 10.0) -> None:
        """Wait until at least n rows match (the batcher flushes every 0.1 s in tests)."""
        wait_until(lambda: self.count(where) >= n, timeout)


def start_server(settings: Settings) -> RunningServer:
    """Run create_app(settings) under uvicorn in a thread; return once it serves."""
    app = create_app(settings)
    servers = build_servers(app, settings)
    server = servers[0]
    thread = threading.Thread(target=lambda: asyncio.run(run_servers(servers)), daemon=True)
    thread.start()
    wait_until(lambda: all(s.started for s in servers), timeout=30)
    running = RunningServer(f"http://127.0.0.1:{settings.port}", settings, app, server)
    running.thread = thread  # type: ignore[attr-defined]
    return running


def stop_server(running: RunningServer) -> None:
    """Ask uvicorn to exit (runs the lifespan shutdown) and wait for it."""
    running.server.should_exit = True
    running.thread.join(timeout=30)  # type: ignore[attr-defined]


@pytest.fixture
def server_settings(tmp_path: Path, geoip_dbs: tuple[Path, Path]) -> Callable[..., Settings]:
    """Factory of settings for a test server: temp data dir, free port, test GeoIP."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "port": free_port(), "data_dir": tmp_path / "data",
            "geoip_db": geoip_dbs[0], "geoip_asn_db": geoip_dbs[1],
            "trusted_proxies": ["127.0.0.1/32"], "batch_max_seconds": 0.1,
            # tests seed rows stamped in the past straight into the store, which a running
            # roller would take for late rows until its next cycle; tests/queries/test_rollup.py
            # turns it on
            "rollup_interval": 0,
        }
        values.update(overrides)
        return load_settings(None, **values)

    return make


@pytest.fixture
def rum_server(server_settings: Callable[..., Settings]) -> Iterator[RunningServer]:
    """The real collector on a free loopback port, chDB in a temp dir, test GeoIP.

    Trusts 127.0.0.1 as a proxy, so tests place visitors with X-Forwarded-For.
    """
    running = start_server(server_settings())
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def chdb_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated chDB store in a temp dir (closed after the test)."""
    from pipeline.chdb_store import ChdbStore
    from pipeline.schema import migrate

    store = ChdbStore(tmp_path / "chdb")
    migrate(store, 30)
    try:
        yield store
    finally:
        store.close()
