"""SSRF guard over IPv6 forms that embed or relay to an IPv4, and signed Slack deliveries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from alerts.delivery import Deliverer
from alerts.outbox import Outbox
from alerts.payloads import verify
from alerts.rules import Webhook
from alerts.safe_http import is_public
from pipeline.store import Store
from tests.alerts.receiver import run_receiver
from tests.conftest import free_port


@pytest.mark.parametrize("address", [
    "2002:c0a8:0101::1",          # 6to4 of 192.168.1.1
    "2002:0808:0808::1",          # 6to4 of a public IPv4: a relay, refused too
    "fec0::1", "feff::1",         # site-local fec0::/10
    "::ffff:10.0.0.1", "::ffff:127.0.0.1",      # IPv4-mapped private / loopback
    "64:ff9b::a9fe:a9fe",         # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",            # NAT64 of 127.0.0.1
    "64:ff9b:1::808:808",         # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",     # Teredo
    "::1", "fe80::1", "fc00::1", "10.1.2.3", "169.254.169.254", "100.64.0.1",
])
def test_non_public_and_relayed_addresses_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", [
    "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(address)


async def test_slack_deliveries_are_signed_when_a_secret_is_set(
        chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUM_TEST_SLACK_SECRET", "s3cret")
    port = free_port()
    with run_receiver(port) as receiver:
        outbox = Outbox(chdb_store)
        outbox.add([{"notification_id": "n1", "webhook": "chat", "alert_id": "a",
                     "payload": '{"text": "FIRING"}'}])
        hooks = {"chat": Webhook("chat", receiver.url, "slack", "RUM_TEST_SLACK_SECRET")}
        deliverer = Deliverer(outbox, hooks, allow_private=True, max_age=3600,
                              base_backoff=0.05, poll_seconds=0.05)
        await _deliver_until(deliverer, lambda: outbox.depth() == 0)
    [delivery] = receiver.accepted
    assert verify("s3cret", delivery.body, delivery.headers["X-Rum-Signature"])


async def _deliver_until(deliverer: Deliverer, check: Any, timeout: float = 20) -> None:
    deliverer.start()
    deadline = time.monotonic() + timeout
    try:
        while not check():
            assert time.monotonic() < deadline, "timed out waiting for deliveries"
            await asyncio.sleep(0.05)
    finally:
        await deliverer.close()
