"""Test GeoIP databases built with mmdb-writer: known ranges -> known places."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# (CIDR, country, region, city, asn, as_org); a visitor IP in each range
PLACES = [
    ("81.2.69.0/24", "GB", "ENG", "London", 20712, "Andrews & Arnold"),
    ("103.21.244.0/24", "IN", "MH", "Mumbai", 55836, "Reliance Jio"),
    ("103.22.0.0/24", "IN", "KA", "Bengaluru", 24560, "Bharti Airtel"),
    ("145.100.0.0/16", "NL", "NH", "Amsterdam", 1103, "SURF"),
    ("177.10.0.0/16", "BR", "SP", "Sao Paulo", 28573, "Claro"),
    ("89.160.20.0/24", "SE", "E", "Linkoping", 29518, "Bredband2"),
]


def visitor_ip(country: str, region: str | None = None) -> str:
    """An IP that the test databases place in `country` (and `region`)."""
    for cidr, c, r, *_ in PLACES:
        if c == country and (region is None or r == region):
            return cidr.split("/")[0][:-1] + "7"
    raise KeyError(country)


def build_city_db(path: Path, database_type: str = "GeoLite2-City") -> Path:
    """A GeoLite2-City-shaped database of PLACES (named `database_type`, e.g. DBIP-City-Lite)."""
    writer = MMDBWriter(ip_version=4, database_type=database_type, languages=["en"],
                        description="rum test city db")
    for cidr, country, region, city, _, _ in PLACES:
        writer.insert_network(IPSet([cidr]), {
            "country": {"iso_code": country, "names": {"en": country}},
            "subdivisions": [{"iso_code": region, "names": {"en": region}}],
            "city": {"names": {"en": city}},
        })
    writer.to_db_file(str(path))
    return path


def build_asn_db(path: Path) -> Path:
    """A GeoLite2-ASN-shaped database of PLACES."""
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-ASN", description="rum test asn db")
    for cidr, *_, asn, org in PLACES:
        writer.insert_network(IPSet([cidr]), {
            "autonomous_system_number": asn, "autonomous_system_organization": org,
        })
    writer.to_db_file(str(path))
    return path
