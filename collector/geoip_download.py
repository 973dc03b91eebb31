"""A free City database into the data dir, so countries work out of the box: what
`rum geoip download` (cli/geoip.py) and the refresh of `rum serve` (collector/geo_refresh.py)
share.

DB-IP's "IP to City Lite" (CC BY 4.0, monthly, `.mmdb.gz`) by default; MaxMind's
GeoLite2-City (`.tar.gz`) when RUM_MAXMIND_LICENSE_KEY is set. The download is
unpacked next to the installed database, opened and asked for one address before it
replaces it, so a failed, corrupt or truncated download leaves the previous one in use.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import io
import os
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import maxminddb

from collector.settings import Settings

DBIP_URL = "https://download.db-ip.com/free/dbip-city-lite-{month}.mmdb.gz"
GEOLITE_URL = ("https://download.maxmind.com/app/geoip_download?edition_id=GeoLite2-City"
               "&license_key={key}&suffix=tar.gz")
MAX_BYTES = 512 << 20  # a City database is ~130 MB unpacked; anything past this is not one
ATTRIBUTION = "IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0"


class GeoipError(Exception):
    """A download that could not be installed; the message is one line for the user."""


def installed_path(settings: Settings) -> Path:
    """Where `rum serve` looks for a downloaded database when RUM_GEOIP_DB is unset."""
    return settings.downloaded_city_db


def candidate_urls(settings: Settings, today: dt.date | None = None) -> list[str]:
    """The URLs to try, in order: RUM_GEOIP_URL alone when set; GeoLite2 with a licence key; else
    DB-IP this month, then last month (DB-IP publishes on the first days of a month)."""
    if settings.geoip_url:
        return [settings.geoip_url]
    if settings.maxmind_license_key:
        return [GEOLITE_URL.format(key=urllib.parse.quote(settings.maxmind_license_key))]
    today = today or dt.datetime.now(dt.UTC).date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1))
    return [DBIP_URL.format(month=f"{d.year:04d}-{d.month:02d}") for d in (today, last_month)]


def download(settings: Settings, urls: list[str],
             progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Fetch the first URL that answers, verify it, install it; returns the installed path."""
    target = installed_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for url in urls:
        try:
            raw = _fetch(url, progress)
        except GeoipError as exc:
            errors.append(str(exc))
            continue
        return _install(raw, url, target)
    raise GeoipError("; ".join(errors) or "no URL to download from")


def _fetch(url: str, progress: Callable[[int, int | None], None] | None) -> bytes:
    shown = url.split("license_key=")[0] + ("license_key=***" if "license_key=" in url else "")
    if not url.startswith(("http://", "https://")):
        raise GeoipError(f"{shown}: not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:  # noqa: S310 - http(s) checked above
            total = int(reply.headers.get("content-length") or 0) or None
            chunks = io.BytesIO()
            while chunk := reply.read1(1 << 20):  # what has arrived
                chunks.write(chunk)
                if chunks.tell() > MAX_BYTES:
                    raise GeoipError(f"{shown}: more than {MAX_BYTES >> 20} MB, not a City database")
                if progress is not None:
                    progress(chunks.tell(), total)
            # a connection closed before its content-length (else seen later, as a damaged gzip)
            if total is not None and chunks.tell() < total:
                raise GeoipError(f"{shown}: the connection closed after {chunks.tell():,} of {total:,} bytes")
            return chunks.getvalue()
    except urllib.error.HTTPError as exc:
        raise GeoipError(f"{shown} answered {exc.code}") from None
    except http.client.HTTPException as exc:  # e.g. IncompleteRead: the connection closed early
        raise GeoipError(f"cannot download {shown}: {type(exc).__name__}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise GeoipError(f"cannot download {shown}: {getattr(exc, 'reason', exc)}") from None


def _unpack(raw: bytes, url: str) -> bytes:
    """The .mmdb inside a .mmdb.gz, a .tar.gz (GeoLite2) or a plain .mmdb."""
    try:
        if raw[:2] == b"\x1f\x8b":
            data = gzip.decompress(raw)
            if len(data) > 262 and data[257:262] == b"ustar":  # a tar inside: GeoLite2's layout
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    member = next((m for m in tar.getmembers()
                                   if m.isfile() and m.name.endswith(".mmdb")), None)
                    extracted = tar.extractfile(member) if member is not None else None
                    if extracted is None:
                        raise GeoipError("the archive holds no .mmdb file")
                    return extracted.read()
            return data
        return raw
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise GeoipError(f"the download is damaged or truncated ({exc})") from None


def _install(raw: bytes, url: str, target: Path) -> Path:
    data = _unpack(raw, url)
    partial = target.with_name(target.name + ".new")
    partial.write_bytes(data)
    try:
        with maxminddb.open_database(str(partial)) as reader:
            kind = reader.metadata().database_type
            if "City" not in kind and "Country" not in kind:
                raise GeoipError(f"the download is a {kind!r} database, not a City or Country one")
            reader.get("8.8.8.8")  # walks the search tree: a damaged file fails here or at open
    except GeoipError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:  # maxminddb raises InvalidDatabaseError, ValueError, OSError...
        partial.unlink(missing_ok=True)
        raise GeoipError(f"the download is not a usable .mmdb database ({exc})") from None
    os.replace(partial, target)  # atomic: a running reader keeps the old file open
    return target
