"""Beacon protocol v1: validate a decoded envelope against docs/beacon-protocol.md.

Hand-written rather than pydantic because this is the hottest path of the
collector; the rules are data (tables below) so they read like the doc.
"""

from __future__ import annotations

import math
import re
from typing import Any

PROTOCOL_VERSION = 1
MAX_EVENTS = 100
MAX_TIMING_MS = 120_000.0

_SITE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_ID_RE = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_CURRENCY_RE = re.compile(r"[A-Za-z]{3}")

NAV_TYPES = frozenset({"navigate", "reload", "back_forward", "prerender", "restore", "soft"})
NET_TYPES = frozenset({"slow-2g", "2g", "3g", "4g"})

# field -> (low, high) for numbers in each object of the envelope
NAV_NUMBERS = {
    "dns": (0.0, MAX_TIMING_MS),
    "connect": (0.0, MAX_TIMING_MS),
    "tls": (0.0, MAX_TIMING_MS),
    "request": (0.0, MAX_TIMING_MS),
    "response": (0.0, MAX_TIMING_MS),
    "dom_interactive": (0.0, MAX_TIMING_MS),
    "dom_complete": (0.0, MAX_TIMING_MS),
    "load": (0.0, MAX_TIMING_MS),
    "transfer_size": (0.0, 1e9),
}
VITAL_NUMBERS = {
    "lcp": (0.0, MAX_TIMING_MS),
    "inp": (0.0, MAX_TIMING_MS),
    "cls": (0.0, 100.0),
    "fcp": (0.0, MAX_TIMING_MS),
    "ttfb": (0.0, MAX_TIMING_MS),
}
NET_NUMBERS = {"rtt": (0.0, MAX_TIMING_MS), "downlink": (0.0, 10_000.0)}
PERF_NUMBERS = {
    "long_tasks": (0.0, 100_000.0),
    "tbt": (0.0, 3_600_000.0),
    "rage_clicks": (0.0, 100_000.0),
}
# field -> max length; longer strings are truncated, not rejected
ATTRIBUTION_STRINGS = {"lcp_element": 256, "lcp_resource": 256, "inp_target": 256, "cls_source": 256}
URL_MAX = 2048
EVENT_KINDS = frozenset({"error", "api", "login", "conversion", "custom"})
MAX_PROPS = 20
PROP_VALUE_MAX = 256


class InvalidEnvelope(ValueError):
    """The envelope breaks the protocol; `str()` names the field."""


def _fail(field: str, message: str, key: str = "") -> InvalidEnvelope:
    # the field's name is put together only here: on the hot path nothing fails
    return InvalidEnvelope(f"{field}.{key}: {message}" if key else f"{field}: {message}")


def _number(value: Any, field: str, low: float, high: float, key: str = "") -> float:
    # exact type checks: bool is an int subclass, and the protocol never means true as 1;
    # NaN and infinities fail the range comparison, so no isfinite() is needed
    kind = type(value)
    if kind is not float and kind is not int:
        raise _fail(field, "must be a number", key)
    if not low <= value <= high:
        raise _fail(field, f"must be between {low:g} and {high:g}", key)
    return float(value)


def _integer(value: Any, field: str, low: int, high: int, key: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(field, "must be an integer", key)
    if value < low or value > high:
        raise _fail(field, f"must be between {low} and {high}", key)
    return int(value)


def _string(value: Any, field: str, max_len: int, key: str = "") -> str:
    if not isinstance(value, str):
        raise _fail(field, "must be a string", key)
    return value[:max_len]


def _ident(value: Any, field: str, pattern: re.Pattern[str], key: str = "") -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise _fail(field, f"must match {pattern.pattern}", key)
    return value


def _obj(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(key, "must be an object")
    return value


def _numbers(section: dict[str, Any], name: str, spec: dict[str, tuple[float, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in section.items():
        bounds = spec.get(key)
        if bounds is None or value is None:
            continue
        kind = type(value)  # the checks of _number, inline: this loop runs ~20 times a beacon
        if (kind is float or kind is int) and bounds[0] <= value <= bounds[1]:
            out[key] = float(value)
        else:
            out[key] = _number(value, name, bounds[0], bounds[1], key)
    return out


def validate_envelope(doc: Any) -> dict[str, Any]:
    """Return a cleaned copy of a decoded envelope, or raise InvalidEnvelope."""
    if not isinstance(doc, dict):
        raise _fail("envelope", "must be a JSON object")
    if doc.get("v") != PROTOCOL_VERSION or isinstance(doc.get("v"), bool):
        raise _fail("v", f"unsupported protocol version (supported: {PROTOCOL_VERSION})")
    out: dict[str, Any] = {
        "site": _ident(doc.get("site"), "site", _SITE_RE),
        "sid": _ident(doc.get("sid"), "sid", _ID_RE),
        "pid": _ident(doc.get("pid"), "pid", _ID_RE),
        "seq": _integer(doc.get("seq", 0) or 0, "seq", 0, 1000),
        "sent_at": _number(doc.get("sent_at"), "sent_at", 0.0, 1e14),
        "url": _string(doc.get("url"), "url", URL_MAX),
        "ref": _string(doc.get("ref") or "", "ref", URL_MAX),
        "sample_rate": _sample_rate(doc.get("sample_rate")),
        "user": _string(doc.get("user") or "", "user", 128),
    }
    nav = _obj(doc, "nav")
    if nav is not None:
        clean_nav: dict[str, Any] = _numbers(nav, "nav", NAV_NUMBERS)
        nav_type = nav.get("type")
        if nav_type is not None:
            if nav_type not in NAV_TYPES:
                raise _fail("nav.type", "must be one of " + ", ".join(sorted(NAV_TYPES)))
            clean_nav["type"] = nav_type
        out["nav"] = clean_nav
    vitals = _obj(doc, "vitals")
    if vitals is not None:
        out["vitals"] = _numbers(vitals, "vitals", VITAL_NUMBERS)
    attribution = _obj(doc, "attribution")
    if attribution is not None:
        out["attribution"] = {
            key: _string(attribution[key], "attribution", limit, key)
            for key, limit in ATTRIBUTION_STRINGS.items()
            if attribution.get(key) is not None
        }
    net = _obj(doc, "net")
    if net is not None:
        clean_net: dict[str, Any] = _numbers(net, "net", NET_NUMBERS)
        if net.get("type") is not None:
            if net["type"] not in NET_TYPES:
                raise _fail("net.type", "must be one of " + ", ".join(sorted(NET_TYPES)))
            clean_net["type"] = net["type"]
        if net.get("save_data") is not None:
            if not isinstance(net["save_data"], bool):
                raise _fail("net.save_data", "must be a boolean")
            clean_net["save_data"] = net["save_data"]
        out["net"] = clean_net
    perf = _obj(doc, "perf")
    if perf is not None:
        out["perf"] = _numbers(perf, "perf", PERF_NUMBERS)
    out["events"] = _events(doc.get("events"))
    return out


def _sample_rate(value: Any) -> float:
    if value is None:
        return 1.0
    rate = _number(value, "sample_rate", 0.0, 1.0)
    if rate == 0.0:
        raise _fail("sample_rate", "must be above 0")
    return rate


def _events(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("events", "must be an array")
    if len(value) > MAX_EVENTS:
        raise _fail("events", f"at most {MAX_EVENTS} events per envelope")
    return [_event(item, i) for i, item in enumerate(value)]


def _event(item: Any, index: int) -> dict[str, Any]:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise _fail(where, "must be an object")
    kind = item.get("t")
    if kind not in EVENT_KINDS:
        raise _fail(f"{where}.t", "must be one of " + ", ".join(sorted(EVENT_KINDS)))
    out: dict[str, Any] = {"t": kind}
    if item.get("ts") is not None:
        out["ts"] = _number(item["ts"], where, 0.0, 1e14, "ts")
    get = item.get
    if kind == "error":
        if get("message") is None:
            raise _fail(f"{where}.message", "is required")
        out["message"] = _string(get("message"), where, 1024, "message")
        out["source"] = _string(get("source") or "", where, URL_MAX, "source")
        out["line"] = _integer(get("line") or 0, where, 0, 10_000_000, "line")
        out["col"] = _integer(get("col") or 0, where, 0, 10_000_000, "col")
        out["stack"] = _string(get("stack") or "", where, 4096, "stack")
    elif kind == "api":
        out["method"] = _string(get("method") or "GET", where, 16, "method").upper()
        out["url"] = _string(get("url") or "", where, URL_MAX, "url")
        out["status"] = _integer(get("status") or 0, where, 0, 999, "status")
        if get("duration") is not None:
            out["duration"] = _number(get("duration"), where, 0.0, MAX_TIMING_MS, "duration")
    elif kind == "login":
        if not isinstance(get("success"), bool):
            raise _fail(f"{where}.success", "must be a boolean")
        out["success"] = get("success")
        out["reason"] = _string(get("reason") or "", where, 128, "reason")
    elif kind == "conversion":
        out["value"] = _number(get("value"), where, 0.0, 1e9, "value")
        currency = get("currency")
        if currency is not None:
            out["currency"] = _ident(currency, where, _CURRENCY_RE, "currency").upper()
    else:  # custom
        name = get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise _fail(f"{where}.name", "must be a string of 1-64 characters")
        out["name"] = name
        out["props"] = _props(get("props"), f"{where}.props")
    return out


def _props(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(where, "must be an object")
    if len(value) > MAX_PROPS:
        raise _fail(where, f"at most {MAX_PROPS} keys")
    out: dict[str, Any] = {}
    for key, item in value.items():
        key = key[:64]
        if isinstance(item, str):
            out[key] = item[:PROP_VALUE_MAX]
        elif isinstance(item, bool) or (isinstance(item, (int, float)) and math.isfinite(item)):
            out[key] = item
        else:
            raise _fail(f"{where}.{key}", "must be a string, a finite number or a boolean")
    return out
