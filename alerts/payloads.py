"""Webhook bodies (generic JSON and Slack) and the HMAC signature of generic deliveries."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import orjson

from alerts.evaluator import Transition
from alerts.rules import Rule

UNITS = {"lcp": "ms", "inp": "ms", "fcp": "ms", "ttfb": "ms", "cls": ""}
# how a metric is named in words (vitals in capitals, as web.dev writes them)
NAMES = {"error_rate": "JS error rate", "login_failure_rate": "login failure rate",
         "api_failure_rate": "API failure rate", "apdex": "Apdex"}
RATE_METRICS = ("error_rate", "login_failure_rate", "api_failure_rate")
# group_by dimension -> the dashboard's URL parameter (dashboard/src/main.ts reads these)
# a group's dimension -> the dashboard's URL parameter (country and region open the
# drill-down at that place, page_group at that page group's page views)
DASHBOARD_PARAMS = {"country": "country", "region": "region", "device_class": "device",
                    "page_group": "page"}


def shown_value(metric: str, value: float) -> str:
    """A metric's value with its unit: '4,270 ms', '26.5%', '0.31', 'Apdex 0.62'."""
    if metric in RATE_METRICS:
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    if metric in ("cls", "apdex"):
        return f"{value:.2f}"
    return f"{value:,.0f} ms"


def describe(rule: Rule, value: float | None) -> str:
    """'p75 LCP 4,270 ms > 4,000 ms': the value against the threshold, in words and units."""
    name = NAMES.get(rule.metric, f"{rule.stat} {rule.metric.upper()}")
    if value is None:
        return f"{name}: no value"
    sign = ">" if value > rule.threshold else "<" if value < rule.threshold else "="
    return f"{name} {shown_value(rule.metric, value)} {sign} {shown_value(rule.metric, rule.threshold)}"


def summary(rule: Rule, transition: Transition, revenue: dict[str, Any] | None) -> str:
    """One line for people: state, rule, group, value vs threshold, samples, money."""
    state = transition.state
    where = state.group.replace(",", ", ") or "all traffic"
    text = (f"{transition.kind.upper()}: {rule.name} ({where}): {describe(rule, state.value)}, "
            f"{state.samples:,} samples over {_duration(rule.window)}")
    if revenue and revenue.get("per_day") is not None:
        text += (f"; {revenue['per_day']:,.0f} {revenue['currency']} a day at risk "
                 f"({revenue['method']})")
    return text


def dashboard_link(public_url: str, rule: Rule, group: dict[str, str]) -> str:
    """The built-in dashboard at the alert's window, site and segment."""
    params = {"site": rule.site} if rule.site else {}
    params["window"] = _duration(rule.window)
    params.update({DASHBOARD_PARAMS[k]: v for k, v in group.items() if k in DASHBOARD_PARAMS})
    return f"{public_url.rstrip('/')}/?{urlencode(params)}"


def _duration(seconds: int) -> str:
    """900 -> '15m', 3600 -> '1h', 86400 -> '1d' (the largest whole unit)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def generic_payload(rule: Rule, transition: Transition, link: str, sessions: int,
                    users: list[str], revenue_at_risk: dict[str, Any] | None,
                    why: dict[str, Any] | None = None) -> dict[str, Any]:
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
        "why": why,
        "summary": summary(rule, transition, revenue_at_risk),
    }


def slack_payload(body: dict[str, Any]) -> dict[str, Any]:
    """Slack-compatible: `text` plus blocks."""
    icon = ":red_circle:" if body["state"] == "firing" else ":large_green_circle:"
    text = f"{icon} {body['summary']}"
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"<{body['link']}|dashboard> · alert {body['alert_id']}"}]},
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
