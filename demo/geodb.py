"""A GeoLite2-City-shaped database of the demo's places, built on the fly with mmdb-writer."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

from demo.world import PLACES, Place


def build_geoip_db(path: Path) -> Path:
    """Write a City database mapping each place's range to its country, region and city."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-City", languages=["en"],
                        description="rum demo city db")
    for p in PLACES:
        writer.insert_network(IPSet([p.cidr]), {
            "country": {"iso_code": p.country, "names": {"en": p.country}},
            "subdivisions": [{"iso_code": p.region, "names": {"en": p.region}}],
            "city": {"names": {"en": p.city}},
        })
    writer.to_db_file(str(path))
    return path


def visitor_ip(p: Place, rng: random.Random) -> str:
    """A random host address inside the place's range."""
    net = ipaddress.ip_network(p.cidr)
    offset = rng.randrange(1, net.num_addresses - 1)
    return str(net.network_address + offset)
