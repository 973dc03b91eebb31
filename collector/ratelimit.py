"""Token buckets per key (client IP, site), bounded in memory, with an injectable clock."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

# one IPv6 subscriber usually holds a whole /64 (often more) and can rotate through it
IPV6_PREFIX = 64


@lru_cache(maxsize=65536)
def ip_rate_key(ip: str) -> str:
    """The bucket key of a client address: IPv4 as is, IPv6 by its /64 (IPv4-mapped as IPv4)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, IPV6_PREFIX), strict=False))
    return str(addr)


class TokenBuckets:
    """`rate` tokens per second up to `burst`, one bucket per key; least recently used keys
    are forgotten past `max_keys` (a forgotten key starts again with a full bucket)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic,
                 key: Callable[[str], str] | None = None) -> None:
        self.key = key  # maps a caller's key to its bucket (ip_rate_key for client IPs)
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """False when the rate is 0 (no limit)."""
        return self.rate > 0

    def take(self, key: str, rate: float | None = None, burst: float | None = None) -> float:
        """Take one token for `key`; return 0.0 when allowed, else seconds until one is free."""
        rate = self.rate if rate is None else rate
        if rate <= 0:
            return 0.0
        burst = self.burst if burst is None else burst
        if self.key is not None:
            key = self.key(key)
        now = self.clock()
        tokens, last = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait
