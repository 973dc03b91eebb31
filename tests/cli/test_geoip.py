"""`rum geoip download` against a local HTTP server: good, corrupt, truncated, missing (#21)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from cli.geoip import candidate_urls
from collector.settings import load_settings
from tests.conftest import free_port, wait_until
from tests.geo_fixtures import build_asn_db, build_city_db, visitor_ip

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def files(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, and its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def rum(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    env["RUM_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_download_installs_a_verified_database_and_keeps_it_on_later_failures(
    tmp_path: Path, files: tuple[Path, str]
) -> None:
    root, base = files
    city = build_city_db(tmp_path / "city.mmdb").read_bytes()
    (root / "city.mmdb.gz").write_bytes(gzip.compress(city))
    (root / "corrupt.mmdb.gz").write_bytes(gzip.compress(os.urandom(4096)))
    (root / "truncated.mmdb.gz").write_bytes(gzip.compress(city)[: len(city) // 3])
    (root / "asn.mmdb.gz").write_bytes(gzip.compress(build_asn_db(tmp_path / "asn.mmdb").read_bytes()))
    data = tmp_path / "data"
    installed = data / "geoip" / "city.mmdb"

    done = rum("geoip", "download", "--url", f"{base}/city.mmdb.gz", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "installed GeoLite2-City" in done.stdout and str(installed) in done.stdout
    assert installed.read_bytes() == city

    for name, why in (("corrupt", "not a usable .mmdb"), ("truncated", "damaged or truncated"),
                      ("asn", "not a City or Country"), ("missing", "answered 404")):
        failed = rum("geoip", "download", "--url", f"{base}/{name}.mmdb.gz", data_dir=data)
        assert failed.returncode == 2, (name, failed.stdout)
        assert failed.stderr.startswith("rum: error: geoip download failed (the previous database"), name
        assert why in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        assert installed.read_bytes() == city, f"{name}: the previous database stays"
        assert not installed.with_name("city.mmdb.new").exists()


def test_geolite_tar_gz_is_unpacked(tmp_path: Path, files: tuple[Path, str]) -> None:
    root, base = files
    city = build_city_db(tmp_path / "city.mmdb").read_bytes()
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("GeoLite2-City_20261201/GeoLite2-City.mmdb")
        info.size = len(city)
        tar.addfile(info, io.BytesIO(city))
    (root / "geolite.tar.gz").write_bytes(packed.getvalue())
    done = rum("geoip", "download", "--url", f"{base}/geolite.tar.gz", data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "geoip" / "city.mmdb").read_bytes() == city


def test_default_urls_are_db_ip_this_month_then_last_or_geolite_with_a_key(tmp_path: Path) -> None:
    urls = candidate_urls(load_settings(data_dir=tmp_path), dt.date(2027, 1, 2))
    assert urls == ["https://download.db-ip.com/free/dbip-city-lite-2027-01.mmdb.gz",
                    "https://download.db-ip.com/free/dbip-city-lite-2026-12.mmdb.gz"]
    keyed = candidate_urls(load_settings(data_dir=tmp_path, maxmind_license_key="k&y"))
    assert keyed == ["https://download.maxmind.com/app/geoip_download?edition_id=GeoLite2-City"
                     "&license_key=k%26y&suffix=tar.gz"]


def test_serve_uses_the_downloaded_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "geoip").mkdir(parents=True)
    build_city_db(data / "geoip" / "city.mmdb")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUM_")}
    env.update(RUM_DATA_DIR=str(data), RUM_PORT=str(port), RUM_TRUSTED_PROXIES="127.0.0.1/32",
               RUM_BATCH_MAX_SECONDS="0.1")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base), timeout=60)
        assert httpx.get(f"{base}/healthz").json()["geoip"] == "city_db"
        from tests.beacons import envelope

        reply = httpx.post(f"{base}/v1/beacon", json=envelope(sid="geo-dl"),
                           headers={"x-forwarded-for": visitor_ip("BR"), "user-agent": BROWSER})
        assert reply.status_code == 202, reply.text
        wait_until(lambda: _countries(base), timeout=30)
        assert _countries(base) == ["BR"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _countries(base: str) -> list[str]:
    rows = httpx.get(f"{base}/v1/query/slow-regions", params={"min_samples": "1"}).json()["rows"]
    return sorted({r["country"] for r in rows})
