"""The opt-in GeoIP refresh of `rum serve` (RUM_GEOIP_REFRESH_DAYS, #21): an old data-dir
database is downloaded again from a local HTTP server and the running collector places
visitors with the new one, without a restart; a corrupt download keeps the old one."""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from collector.settings import Settings
from tests.beacons import envelope
from tests.cli.test_geoip import files, rum  # noqa: F401  (the local HTTP server fixture)
from tests.conftest import RunningServer, start_server, stop_server, wait_until
from tests.geo_fixtures import build_city_db, visitor_ip
from tests.js_beacon.site import QuietHandler, serve

MUMBAI = visitor_ip("IN", "MH")


def moved_db(path: Path) -> Path:
    """A newer database in which Mumbai's range has moved to Bangladesh (Dhaka)."""
    writer = MMDBWriter(ip_version=4, database_type="DBIP-City-Lite", languages=["en"])
    writer.insert_network(IPSet([MUMBAI.rsplit(".", 1)[0] + ".0/24"]), {
        "country": {"iso_code": "BD", "names": {"en": "Bangladesh"}},
        "subdivisions": [{"iso_code": "13", "names": {"en": "Dhaka"}}],
        "city": {"names": {"en": "Dhaka"}}})
    writer.to_db_file(str(path))
    return path


def old_install(data_dir: Path, tmp_path: Path) -> Path:
    """The data dir's database as `rum geoip download` left it, 3 days ago."""
    installed = data_dir / "geoip" / "city.mmdb"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(build_city_db(tmp_path / "old.mmdb").read_bytes())
    three_days_ago = time.time() - 3 * 86400
    os.utime(installed, (three_days_ago, three_days_ago))
    return installed


def country_of_next_visit(server: RunningServer, sid: str) -> str:
    assert server.post(envelope(sid=sid), headers={"x-forwarded-for": MUMBAI}).status_code == 202
    server.wait_rows(1, f"session_id = '{sid}'")
    return str(server.store.query(f"SELECT country FROM rum.events WHERE session_id = '{sid}'")[0]["country"])


def serve_with_refresh(server_settings: Callable[..., Settings], tmp_path: Path, url: str) -> RunningServer:
    data_dir = tmp_path / "data"
    old_install(data_dir, tmp_path)
    return start_server(server_settings(data_dir=data_dir, geoip_db=None, geoip_asn_db=None,
                                        geoip_refresh_days=2, geoip_url=url))


def after_one_refresh(server_settings: Callable[..., Settings], tmp_path: Path, url: str,
                      sid: str) -> tuple[int, str, str]:
    """Serve an old data-dir database with the refresh on, wait for its first attempt:
    (refreshes made, the country of a visit from Mumbai after it, the database's type)."""
    server = serve_with_refresh(server_settings, tmp_path, url)
    try:
        refresher = server.app.state.geo_refresh
        wait_until(lambda: refresher.attempts >= 1, timeout=30)
        return refresher.refreshes, country_of_next_visit(server, sid), server.app.state.geo.city_kind
    finally:
        stop_server(server)


def test_an_old_database_is_refreshed_and_used_without_a_restart(
        server_settings: Callable[..., Settings], tmp_path: Path, files: tuple[Path, str]) -> None:  # noqa: F811
    root, base = files
    (root / "city.mmdb.gz").write_bytes(gzip.compress(moved_db(tmp_path / "new.mmdb").read_bytes()))
    # one refresh, Mumbai's address now in Bangladesh, the new database's type in /healthz
    assert after_one_refresh(server_settings, tmp_path, f"{base}/city.mmdb.gz", "after-refresh") == (
        1, "BD", "DBIP-City-Lite")


def test_a_corrupt_download_keeps_the_database_in_use(
        server_settings: Callable[..., Settings], tmp_path: Path, files: tuple[Path, str]) -> None:  # noqa: F811
    root, base = files
    good = gzip.compress(moved_db(tmp_path / "new.mmdb").read_bytes())
    (root / "truncated.mmdb.gz").write_bytes(good[: len(good) // 2])
    # no refresh: the old database still serves
    assert after_one_refresh(server_settings, tmp_path, f"{base}/truncated.mmdb.gz", "after-failure") == (
        0, "IN", "GeoLite2-City")


def test_no_refresh_unless_asked_or_with_rum_geoip_db(server_settings: Callable[..., Settings],
                                                      tmp_path: Path) -> None:
    for overrides in ({"geoip_refresh_days": 0, "geoip_db": None},
                      {"geoip_refresh_days": 2}):  # RUM_GEOIP_DB (the test database) is set
        server = start_server(server_settings(**overrides))
        try:
            assert server.app.state.geo_refresh is None
        finally:
            stop_server(server)


class _Cut(QuietHandler):
    """Promises 10 MB, sends 1 kB and closes the connection."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("content-length", str(10 << 20))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + bytes(1022))


def test_a_connection_cut_short_is_one_line_and_keeps_the_database(
        server_settings: Callable[..., Settings], tmp_path: Path) -> None:
    with serve(_Cut) as base:
        failed = rum("geoip", "download", "--url", f"{base}/city.mmdb.gz", data_dir=tmp_path / "cli")
        assert failed.returncode != 0 and "closed after 1,024 of 10,485,760 bytes" in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        assert after_one_refresh(server_settings, tmp_path, f"{base}/city.mmdb.gz", "after-cut") == (
            0, "IN", "GeoLite2-City")
