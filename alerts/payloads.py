"""Webhook bodies (generic JSON and Slack) and the HMAC signature of generic deliveries."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

from alerts.evaluator import Transition
from alerts.rules import Rule

UNITS = {"lcp": "ms", "inp": "ms", "fcp": "ms", "ttfb": "ms", "cls": ""}


def generic_payload(rule: Rule, transition: Transition, link: str, sessions: int,
                    users: list[str], revenue_at_risk: dict[str, Any] | None) -> dict[str, Any]:
    """The documented generic payload (docs/alerts.md)."""
    state = transition.state
    group = dict(part.split("=", 1) for part in state.group.split(",") if part)
    return {
        "id": notification_id(transition),
        "alert_id": state.alert_id,
        "rule": rule.name,
        "state": transition.kind,
        "metric": rule.metric,
        "stat": rule.stat,
        "group": group,
        "value": state.value,
        "threshold": rule.threshold,
        "direction": rule.direction,
        "unit": UNITS.get(rule.metric, "ratio"),
        "window_seconds": rule.window,
        "for_seconds": rule.for_seconds,
        "samples": state.samples,
        "affected_sessions": sessions,
        "affected_users": users,
        "site": rule.site,
        "started_at": _iso(state.started_at),
        "resolved_at": _iso(transition.resolved_at) if transition.resolved_at else None,
        "link": link,
        "revenue_at_risk": revenue_at_risk,
    }


def slack_payload(body: dict[str, Any]) -> dict[str, Any]:
    """Slack-compatible: `text` plus blocks."""
    where = ", ".join(f"{k}={v}" for k, v in body["group"].items()) or "all traffic"
    icon = ":red_circle:" if body["state"] == "firing" else ":large_green_circle:"
    value = body["value"]
    shown = f"{value:.3g}" if isinstance(value, float) else str(value)
    text = (f"{icon} {body['state'].upper()}: {body['rule']} ({where}): {body['metric']} "
            f"{body['stat']} = {shown}{body['unit']} vs {body['direction']} "
            f"{body['threshold']:g}{body['unit']}, {body['samples']} samples")
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"<{body['link']}|query> · alert {body['alert_id']}"}]},
    ]}


def notification_id(transition: Transition) -> str:
    """Stable id of one notification (episode + kind): receivers can de-duplicate on it."""
    return f"{transition.state.alert_id}-{transition.kind}"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, max_age: float = 300,
           now: float | None = None) -> bool:
    """The receiver's check (also the recipe in docs/alerts.md)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        t = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > max_age:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def encode(body: dict[str, Any]) -> bytes:
    """Bytes of a payload (sorted keys: stable signatures in tests and logs)."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
