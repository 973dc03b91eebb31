"""Rows stored late: after the hour they belong to was rolled."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pipeline.store import Store
from rollups.tables import HOUR_MS


def send_late(store: Store, now: float,
              make: Callable[[float, random.Random], dict[str, Any]]) -> list[dict[str, Any]]:
    """Store 40 rows made by `make(ts, rng)` a minute apart in the hour that started two
    hours before `now` (rolled, and inside a 3 h window ending at `now`), 10 of them twice
    (delivered twice)."""
    rng = random.Random(9)
    hour = (int(now * 1000) // HOUR_MS - 2) * HOUR_MS / 1000
    late = [make(hour + 60 * i, rng) for i in range(40)]
    store.insert("rum.events", late)
    store.insert("rum.events", late[:10])
    return late
