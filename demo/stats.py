"""What the demo has done so far: counted by the engines, the receiver and the runner."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Counters shown by the progress display (updated from several threads)."""

    visitors: int = 0
    pageviews: int = 0
    accepted: int = 0  # beacons the collector answered 202
    rejected: int = 0  # beacons answered otherwise (or not at all)
    browser_visitors: int = 0
    browser_accepted: int = 0
    alerts_delivered: int = 0
    unwritten_rows: int = 0  # rows the collector still had to write when the findings were read
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Add to several counters at once."""
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
