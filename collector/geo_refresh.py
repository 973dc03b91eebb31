"""The opt-in GeoIP refresh of `rum serve` (RUM_GEOIP_REFRESH_DAYS): the data dir's City
database is downloaded again (`rum geoip download`'s code: verified, then swapped in
atomically) when it is that many days old, and the running lookup switches to it.

A failed download logs one warning and keeps the database in use; the next check is an
hour later. Runs only when RUM_GEOIP_DB is unset (the data dir's database is served).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from collector.geo import GeoLookup
from collector.geoip_download import GeoipError, candidate_urls, download, installed_path
from collector.settings import Settings

log = logging.getLogger(__name__)
CHECK_SECONDS = 3600.0  # how often the database's age is looked at


def is_due(settings: Settings, now: float | None = None) -> bool:
    """True when the data dir's database is missing or older than the refresh period."""
    path = installed_path(settings)
    if not path.exists():
        return True
    age_days = ((time.time() if now is None else now) - path.stat().st_mtime) / 86400
    return age_days >= settings.geoip_refresh_days


def fetch(settings: Settings) -> bool:
    """Download, verify and install the database (blocking: run it in a thread); False,
    logged, when that fails (the installed file is then untouched)."""
    try:
        download(settings, candidate_urls(settings))
    except (GeoipError, OSError) as exc:  # a download, or the data dir's file
        log.warning("geoip refresh failed; the database in use is kept",
                    extra={"error": str(exc)[:300]})
        return False
    return True


def switch(settings: Settings, geo: GeoLookup) -> bool:
    """Point the lookup at the installed database (on the thread that runs the lookups)."""
    try:
        geo.reload_city(installed_path(settings))
    except (OSError, ValueError, RuntimeError) as exc:  # maxminddb's InvalidDatabaseError: RuntimeError
        log.warning("geoip refresh failed; the database in use is kept",
                    extra={"error": str(exc)[:300]})
        return False
    log.info("geoip database refreshed", extra={"database": geo.city_kind})
    return True


class GeoRefresher:
    """The background task; `close` stops it (with the server)."""

    def __init__(self, settings: Settings, geo: GeoLookup, check_seconds: float = CHECK_SECONDS) -> None:
        self.settings = settings
        self.geo = geo
        self.check_seconds = check_seconds
        self.attempts = 0  # downloads tried
        self.refreshes = 0  # of them, switched to
        self._task = asyncio.get_running_loop().create_task(self._run(), name="geoip-refresh")

    async def _run(self) -> None:
        while True:
            # the download (60 s timeout per URL) runs in a thread; the switch here, on the
            # loop that runs the lookups
            if is_due(self.settings):
                fetched = await asyncio.to_thread(fetch, self.settings)
                if fetched and switch(self.settings, self.geo):
                    self.refreshes += 1
                self.attempts += 1
            await asyncio.sleep(self.check_seconds)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def start_geo_refresh(settings: Settings, geo: GeoLookup) -> GeoRefresher | None:
    """The refresher when RUM_GEOIP_REFRESH_DAYS > 0 and the data dir's database is served."""
    if settings.geoip_refresh_days <= 0 or settings.geoip_db is not None:
        return None
    return GeoRefresher(settings, geo)
