"""GeoIP enrichment: country, region, city and ASN from MaxMind-format databases."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geoip2.database
import geoip2.errors

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GeoInfo:
    """Where a client IP is, as far as the databases know."""

    country: str = ""
    region: str = ""
    city: str = ""
    asn: int = 0
    as_org: str = ""


UNKNOWN = GeoInfo()


class GeoLookup:
    """Looks up IPs in an optional City/Country database and an optional ASN database."""

    def __init__(self, city_db: Path | None, asn_db: Path | None = None) -> None:
        self._city = geoip2.database.Reader(str(city_db)) if city_db else None
        self._asn = geoip2.database.Reader(str(asn_db)) if asn_db else None
        self._city_type = self._city.metadata().database_type if self._city else ""
        self.lookup = lru_cache(maxsize=65536)(self._lookup)

    def _lookup(self, ip: str | None) -> GeoInfo:
        if ip is None or (self._city is None and self._asn is None):
            return UNKNOWN
        country = region = city = as_org = ""
        asn = 0
        try:
            if self._city is not None:
                if "City" in self._city_type:
                    rec: Any = self._city.city(ip)
                    region = rec.subdivisions.most_specific.iso_code or ""
                    city = rec.city.name or ""
                else:
                    rec = self._city.country(ip)
                country = rec.country.iso_code or ""
        except (geoip2.errors.AddressNotFoundError, ValueError):
            pass
        try:
            if self._asn is not None:
                asn_rec = self._asn.asn(ip)
                asn = asn_rec.autonomous_system_number or 0
                as_org = asn_rec.autonomous_system_organization or ""
        except (geoip2.errors.AddressNotFoundError, ValueError):
            pass
        return GeoInfo(country, region, city, asn, as_org)

    def reload_city(self, city_db: Path) -> None:
        """Switch to a new City/Country database (a refreshed download) without a restart:
        the new file opens first, so a bad one leaves the old one in use (and raises). Call it
        on the thread that runs the lookups (the event loop): the old reader closes here."""
        reader = geoip2.database.Reader(str(city_db))
        old, self._city = self._city, reader
        self._city_type = reader.metadata().database_type
        self.lookup.cache_clear()
        if old is not None:
            old.close()

    @property
    def city_kind(self) -> str:
        """The City/Country database's type (e.g. 'GeoLite2-City', 'DBIP-City-Lite'); '' without one."""
        return self._city_type

    def close(self) -> None:
        """Release the database files."""
        for reader in (self._city, self._asn):
            if reader is not None:
                reader.close()
