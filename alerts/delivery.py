"""Webhook delivery: one worker per webhook, in order, with backoff, never lost, never doubled.

A notification leaves the outbox only with a recorded outcome: `delivered`
(2xx), `rejected` (a 4xx other than 408/429: the receiver refuses it),
`expired` (still failing after RUM_ALERT_DELIVERY_MAX_AGE). Connection
errors, timeouts, 5xx, 408 and 429 are retried with exponential backoff and
jitter, honouring Retry-After. Each webhook has its own worker and timeout,
so a slow receiver delays only its own notifications.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from alerts import safe_http
from alerts.outbox import Outbox
from alerts.payloads import sign
from alerts.rules import Webhook

log = logging.getLogger(__name__)
RETRYABLE = {408, 429}
MAX_BACKOFF = 300.0


class DeliveryHooks:
    """Observers of delivery outcomes (metrics)."""

    def delivered(self, webhook: str, outcome: str) -> None:
        """A notification reached a final outcome, or an attempt failed (outcome 'retry')."""


class Deliverer:
    """Runs one delivery worker per webhook until closed."""

    def __init__(self, outbox: Outbox, webhooks: dict[str, Webhook], *, allow_private: bool,
                 max_age: float, hooks: DeliveryHooks | None = None,
                 clock: Callable[[], float] = time.time, base_backoff: float = 1.0,
                 poll_seconds: float = 1.0) -> None:
        self.outbox = outbox
        self.webhooks = webhooks
        self.allow_private = allow_private
        self.max_age = max_age
        self.hooks = hooks or DeliveryHooks()
        self.clock = clock
        self.base_backoff = base_backoff
        self.poll_seconds = poll_seconds
        self._wake = {name: asyncio.Event() for name in webhooks}
        self._closing = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client = httpx.AsyncClient(headers={"User-Agent": "rum-alerts/1"})

    def start(self) -> None:
        """Start a worker per webhook."""
        self._tasks = [asyncio.create_task(self._work(hook), name=f"webhook-{hook.name}")
                       for hook in self.webhooks.values()]

    def wake(self) -> None:
        """New notifications were queued: look now instead of at the next poll."""
        for event in self._wake.values():
            event.set()

    async def close(self) -> None:
        """Stop the workers (undelivered notifications stay in the outbox)."""
        self._closing.set()
        self.wake()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    async def _work(self, hook: Webhook) -> None:
        wake = self._wake[hook.name]
        while not self._closing.is_set():
            try:
                rows = await asyncio.to_thread(self.outbox.pending, hook.name)
            except Exception:  # the store is down: try again later, nothing is lost
                log.warning("outbox unavailable", extra={"webhook": hook.name})
                rows = []
            for row in rows:
                if not await self._deliver(hook, row):
                    return  # closing
            if not rows:
                wake.clear()
                await self._pause(self.poll_seconds, wake)

    async def _deliver(self, hook: Webhook, row: dict[str, Any]) -> bool:
        """Try until a final outcome; False when closing first."""
        attempts = 0
        body = row["payload"].encode()
        while not self._closing.is_set():
            attempts += 1
            status, retry_after = await self._attempt(hook, body, row["notification_id"])
            if 200 <= status < 300:
                return await self._finish(hook, row, "delivered", attempts, status)
            if 300 <= status < 400:  # redirects are not followed: it could lead inside
                log.error("webhook answered a redirect", extra={"webhook": hook.name,
                                                                 "status": status})
                return await self._finish(hook, row, "rejected", attempts, status)
            if 400 <= status < 500 and status not in RETRYABLE:
                log.error("webhook rejected notification", extra={"webhook": hook.name,
                                                                  "status": status})
                return await self._finish(hook, row, "rejected", attempts, status)
            if self.clock() - row["created_at"] > self.max_age:
                log.error("webhook notification expired", extra={"webhook": hook.name})
                return await self._finish(hook, row, "expired", attempts, status)
            self.hooks.delivered(hook.name, "retry")
            delay = min(MAX_BACKOFF, self.base_backoff * 2 ** min(attempts - 1, 16))
            delay *= random.uniform(0.5, 1.5)
            if retry_after is not None:
                delay = max(delay, retry_after)
            await self._pause(delay, None)
        return False

    async def _attempt(self, hook: Webhook, body: bytes, nid: str) -> tuple[int, float | None]:
        """One POST; (status, retry_after). Status 0 means it never got an HTTP answer."""
        headers = {"Content-Type": "application/json", "X-Rum-Notification-Id": nid}
        if hook.secret_env:  # every format: a Slack relay or proxy can verify it too
            secret = os.environ.get(hook.secret_env)
            if secret:
                headers["X-Rum-Signature"] = sign(secret, body)
            else:
                log.error("webhook secret not set", extra={"webhook": hook.name,
                                                            "env": hook.secret_env})
        try:
            reply = await safe_http.post(self._client, hook.url, body, headers, hook.timeout,
                                         self.allow_private)
        except safe_http.UnsafeTarget as exc:
            log.error("webhook target refused", extra={"webhook": hook.name, "error": str(exc)})
            return 403, None  # final: never sent
        except httpx.HTTPError as exc:
            log.warning("webhook unreachable", extra={"webhook": hook.name, "error": str(exc)})
            return 0, None
        return reply.status_code, _retry_after(reply.headers.get("retry-after"))

    async def _finish(self, hook: Webhook, row: dict[str, Any], outcome: str, attempts: int,
                      status: int) -> bool:
        while True:
            try:
                await asyncio.to_thread(self.outbox.finish, row["notification_id"], hook.name,
                                        outcome, attempts, status)
                break
            except Exception:  # keep the outcome until the store takes it
                if self._closing.is_set():
                    return False
                await self._pause(1.0, None)
        self.hooks.delivered(hook.name, outcome)
        return True

    async def _pause(self, seconds: float, wake: asyncio.Event | None) -> None:
        waiters = [asyncio.ensure_future(self._closing.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), MAX_BACKOFF))
    except ValueError:
        return None
