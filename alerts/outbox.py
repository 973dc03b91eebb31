"""The persistent webhook outbox: notifications are stored before delivery, outcomes after."""

from __future__ import annotations

import time
from typing import Any

from pipeline.store import Store

_PENDING = """
SELECT notification_id, webhook, alert_id, toFloat64(created_at) AS created_at, payload
FROM rum.webhook_outbox
WHERE webhook = {webhook:String}
  AND (notification_id, webhook) NOT IN
      (SELECT notification_id, webhook FROM rum.webhook_deliveries
       WHERE webhook = {webhook:String})
ORDER BY created_at, notification_id
LIMIT 1000
"""
_DEPTH = """
SELECT count() AS n FROM rum.webhook_outbox
WHERE (notification_id, webhook) NOT IN
      (SELECT notification_id, webhook FROM rum.webhook_deliveries)
"""


class Outbox:
    """Notifications waiting for delivery, per webhook, oldest first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Queue notifications: dicts with notification_id, webhook, alert_id, payload."""
        now = time.time()
        self.store.insert("rum.webhook_outbox", [
            {**row, "created_at": round(now + i * 1e-6, 6)} for i, row in enumerate(rows)])

    def pending(self, webhook: str) -> list[dict[str, Any]]:
        """Undelivered notifications for one webhook, in the order they were queued."""
        return self.store.query(_PENDING, {"webhook": webhook})

    def finish(self, notification_id: str, webhook: str, outcome: str, attempts: int,
               http_status: int) -> None:
        """Record the final outcome (delivered, rejected, expired)."""
        self.store.insert("rum.webhook_deliveries", [{
            "notification_id": notification_id, "webhook": webhook, "outcome": outcome,
            "attempts": attempts, "http_status": http_status, "at": round(time.time(), 3)}])

    def depth(self) -> int:
        """Notifications not yet delivered, all webhooks."""
        return int(self.store.query(_DEPTH)[0]["n"])
