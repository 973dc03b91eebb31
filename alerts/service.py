"""Alerting wired together: the evaluator and the webhook workers over one store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from alerts.delivery import Deliverer, DeliveryHooks
from alerts.outbox import Outbox
from alerts.rules import RuleSet
from alerts.runner import AlertRunner, EvalHooks
from collector.settings import Settings
from pipeline.store import Store


class AlertHooks(EvalHooks, DeliveryHooks):
    """Both observer interfaces (the collector's Metrics implements them)."""


@dataclass
class Alerting:
    """A running evaluator and its delivery workers."""

    runner: AlertRunner
    deliverer: Deliverer

    async def close(self) -> None:
        """Stop evaluating, then stop delivering (the outbox keeps what is left)."""
        await self.runner.close()
        await self.deliverer.close()


def read_url(settings: Settings) -> str:
    """Where alert links point: RUM_PUBLIC_URL, else the listener serving the read side."""
    if settings.public_url:
        return settings.public_url
    if settings.admin_port is not None:
        return f"http://{settings.admin_host}:{settings.admin_port}"
    return f"http://{settings.host}:{settings.port}"


async def start_alerting(settings: Settings, store: Store, ruleset: RuleSet,
                         hooks: AlertHooks | EvalHooks | None = None) -> Alerting:
    """Load persisted state, start delivery workers and the evaluation tick."""
    outbox = Outbox(store)
    deliverer = Deliverer(outbox, ruleset.webhooks,
                          allow_private=settings.alert_allow_private_webhooks,
                          max_age=settings.alert_delivery_max_age,
                          hooks=hooks if isinstance(hooks, DeliveryHooks) else None)
    runner = AlertRunner(store, ruleset, outbox, public_url=read_url(settings),
                         interval=settings.alert_interval,
                         hooks=hooks if isinstance(hooks, EvalHooks) else None,
                         on_notify=deliverer.wake)
    await asyncio.to_thread(runner.load_state)
    deliverer.start()
    runner.start()
    return Alerting(runner, deliverer)
