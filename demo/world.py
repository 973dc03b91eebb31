"""The demo's world: places with IP ranges and traffic shares, network profiles, devices.

The IP ranges are real allocations of each place's ISPs, so a real GeoIP database
(RUM_GEOIP_DB) places most visitors roughly where the demo's own database does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Network:
    """A connection profile: round trip, bandwidth and what the browser reports."""

    name: str
    rtt_ms: float
    downlink_mbps: float
    effective_type: str  # Network Information API: slow-2g, 2g, 3g, 4g


@dataclass(frozen=True)
class Device:
    """A device class with a user agent the collector's parser recognises."""

    device_class: str  # desktop, mobile, tablet (what the collector derives from the UA)
    user_agent: str
    cpu_factor: float  # rendering work relative to a desktop
    viewport: tuple[int, int]


@dataclass(frozen=True)
class Place:
    """A region visitors come from: where it is, its share of traffic and its connections."""

    country: str  # ISO 3166-1 alpha-2
    region: str  # ISO 3166-2 subdivision code, without the country
    city: str
    cidr: str
    share: float  # relative share of visitors
    utc_offset: int  # hours, for the diurnal rhythm
    networks: tuple[tuple[str, float], ...]  # (network name, weight)
    mobile_share: float

    @property
    def key(self) -> str:
        """'BR-SP': how the demo names a place."""
        return f"{self.country}-{self.region}"


NETWORKS = {n.name: n for n in (
    Network("fiber", 12, 150, "4g"),
    Network("cable", 28, 50, "4g"),
    Network("4g", 65, 14, "4g"),
    Network("congested-4g", 120, 5, "4g"),
    Network("rural-3g", 230, 1.8, "3g"),
)}

DESKTOP = Device("desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                 "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 1.0, (1366, 768))
MAC = Device("desktop", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.5 Safari/605.1.15", 0.9, (1440, 900))
ANDROID = Device("mobile", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                 "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", 1.9, (412, 915))
IPHONE = Device("mobile", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 "
                "Safari/604.1", 1.5, (390, 844))
IPAD = Device("tablet", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 1.4, (820, 1180))

_EU = (("fiber", 0.35), ("cable", 0.35), ("4g", 0.3))
_US = (("fiber", 0.25), ("cable", 0.45), ("4g", 0.3))
_ASIA_CITY = (("cable", 0.2), ("4g", 0.5), ("congested-4g", 0.3))
_RURAL = (("4g", 0.25), ("congested-4g", 0.35), ("rural-3g", 0.4))

PLACES = (
    Place("US", "CA", "Los Angeles", "73.0.0.0/12", 9, -8, _US, 0.55),
    Place("US", "NY", "New York", "73.16.0.0/12", 7, -5, _US, 0.5),
    Place("US", "TX", "Houston", "73.32.0.0/12", 6, -6, _US, 0.55),
    Place("GB", "ENG", "London", "81.2.69.0/24", 9, 0, _EU, 0.5),
    Place("DE", "BE", "Berlin", "84.128.0.0/12", 6, 1, _EU, 0.45),
    Place("DE", "BY", "Munich", "84.144.0.0/12", 4, 1, _EU, 0.45),
    Place("FR", "IDF", "Paris", "90.0.0.0/12", 6, 1, _EU, 0.5),
    Place("NL", "NH", "Amsterdam", "145.100.0.0/16", 4, 1, _EU, 0.45),
    Place("SE", "E", "Linkoping", "89.160.20.0/24", 2, 1, _EU, 0.5),
    Place("IN", "MH", "Mumbai", "103.21.244.0/24", 6, 5, _ASIA_CITY, 0.8),
    Place("IN", "KA", "Bengaluru", "103.22.0.0/24", 4, 5, _ASIA_CITY, 0.75),
    Place("IN", "UP", "Lucknow", "117.200.0.0/16", 4, 5, _RURAL, 0.9),
    Place("ID", "JK", "Jakarta", "36.64.0.0/12", 5, 7, _ASIA_CITY, 0.85),
    Place("PH", "00", "Manila", "112.198.0.0/16", 3, 8, _RURAL, 0.85),
    Place("BR", "SP", "Sao Paulo", "177.10.0.0/16", 5, -3, _ASIA_CITY, 0.7),
    Place("BR", "RJ", "Rio de Janeiro", "177.20.0.0/16", 2, -3, _ASIA_CITY, 0.7),
    Place("MX", "CMX", "Mexico City", "187.128.0.0/12", 3, -6, _ASIA_CITY, 0.7),
    Place("JP", "13", "Tokyo", "126.0.0.0/12", 5, 9, (("fiber", 0.5), ("4g", 0.5)), 0.6),
    Place("AU", "NSW", "Sydney", "1.120.0.0/14", 3, 10, _US, 0.55),
    Place("NG", "LA", "Lagos", "105.112.0.0/12", 3, 1, _RURAL, 0.9),
    Place("ZA", "GT", "Johannesburg", "41.0.0.0/12", 2, 2, _ASIA_CITY, 0.75),
)


def place(key: str) -> Place:
    """The place named 'CC-REGION'."""
    for p in PLACES:
        if p.key == key:
            return p
    raise KeyError(key)
