"""Token buckets per key (client IP, site), bounded in memory, with an injectable clock."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    """`rate` tokens per second up to `burst`, one bucket per key; least recently used keys
    are forgotten past `max_keys` (a forgotten key starts again with a full bucket)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
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
