"""`rum geoip download`: a free City database into the data dir, so countries work out of
the box (the download itself: collector/geoip_download.py)."""

from __future__ import annotations

import datetime as dt
import shutil
import sys

import maxminddb

from collector.geoip_download import ATTRIBUTION, GeoipError, candidate_urls, download, installed_path
from collector.settings import Settings

__all__ = ["GeoipError", "candidate_urls", "download", "download_cmd", "installed_path"]


def download_cmd(settings: Settings, url: str | None) -> int:
    """The command: one line per outcome, a progress bar on a terminal."""
    urls = [url] if url else candidate_urls(settings)
    bar = _Bar() if sys.stderr.isatty() else None
    try:
        path = download(settings, urls, bar)
    finally:
        if bar is not None:
            bar.close()
    with maxminddb.open_database(str(path)) as reader:
        meta = reader.metadata()
        built = dt.datetime.fromtimestamp(meta.build_epoch, dt.UTC).date()
    print(f"installed {meta.database_type} ({built}, {path.stat().st_size / 1e6:,.1f} MB) at {path}")
    if not settings.maxmind_license_key and not url and not settings.geoip_url:
        print(f"show this where the data is used: {ATTRIBUTION}")
    if settings.geoip_db:
        print(f"note: RUM_GEOIP_DB={settings.geoip_db} is set and wins over the downloaded database")
    else:
        print("`rum serve` uses it from its next start")
    return 0


class _Bar:
    """A one-line progress bar on stderr."""

    def __init__(self) -> None:
        self.width = min(40, shutil.get_terminal_size().columns - 40)

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = int(self.width * done / total)
            sys.stderr.write(f"\rdownloading [{'#' * filled}{'.' * (self.width - filled)}] "
                             f"{done / 1e6:6.1f} / {total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\rdownloading {done / 1e6:6.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
