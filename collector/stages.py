"""Enrichment stages: a validated envelope -> normalized event rows, in named steps.

The order below is the order of enrichment; each step is pure apart from the
lookups it is given, and each is timed under its own name in /metrics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from collector.drops import Dropped, DropReason, EventDropReason
from collector.geo import UNKNOWN, GeoInfo, GeoLookup
from collector.pages import page_group, page_path, scrub_path, url_host
from collector.privacy import QueryAllowList, pseudonymize_user, scrub_props, scrub_text
from collector.protocol import InvalidEnvelope, validate_envelope
from collector.ratelimit import TokenBuckets
from collector.sites import SiteRegistry
from collector.useragent import AgentInfo, parse_user_agent

SCHEMA_VERSION = 1
# client timestamps are trusted only within this distance of the receive time
MAX_EVENT_AGE_MS = 24 * 3600 * 1000
# an event may be stamped a little after sent_at (the agent stamps, then serializes)
FUTURE_TOLERANCE_MS = 60_000


@dataclass(slots=True)
class Beacon:
    """One envelope on its way through the stages."""

    doc: Any
    client_ip: str | None
    user_agent: str
    received_ms: float
    cdn_country: str | None = None
    origin: str | None = None
    gpc: bool = False
    envelope: dict[str, Any] = field(default_factory=dict)
    skew_ms: float = 0.0
    geo: GeoInfo = UNKNOWN
    agent: AgentInfo | None = None
    context: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    dropped_events: list[EventDropReason] = field(default_factory=list)


Stage = Callable[[Beacon], "Beacon | Dropped"]


def check_envelope(beacon: Beacon) -> Beacon | Dropped:
    """Validate against the protocol (docs/beacon-protocol.md)."""
    try:
        beacon.envelope = validate_envelope(beacon.doc)
    except InvalidEnvelope as exc:
        return Dropped(DropReason.INVALID_ENVELOPE, str(exc))
    beacon.doc = None
    return beacon


def make_check_site(registry: SiteRegistry | None) -> Stage:
    """Stage that refuses unknown site keys and origins the site does not list."""

    def check_site(beacon: Beacon) -> Beacon | Dropped:
        if registry is None:
            return beacon
        site = registry.get(beacon.envelope["site"])
        if site is None:
            return Dropped(DropReason.UNKNOWN_SITE, "site key is not registered")
        if not site.allows_origin(beacon.origin):
            return Dropped(DropReason.ORIGIN_NOT_ALLOWED, "origin not allowed for this site")
        return beacon

    return check_site


def make_honor_gpc(registry: SiteRegistry | None) -> Stage:
    """Stage that stores nothing from a browser sending Sec-GPC: 1 to a site that honours it."""

    def honor_gpc(beacon: Beacon) -> Beacon | Dropped:
        if beacon.gpc and registry is not None:
            site = registry.get(beacon.envelope["site"])
            if site is not None and site.honor_gpc:
                return Dropped(DropReason.GPC_OPT_OUT, "Global Privacy Control honoured")
        return beacon

    return honor_gpc


def make_limit_site_rate(buckets: TokenBuckets, registry: SiteRegistry | None) -> Stage:
    """Stage that keeps one site from taking the whole collector (token bucket per site)."""

    def limit_site_rate(beacon: Beacon) -> Beacon | Dropped:
        key = beacon.envelope["site"]
        site = registry.get(key) if registry is not None else None
        rate = site.rate_limit if site is not None and site.rate_limit is not None else None
        burst = 2 * rate if rate is not None else None
        wait = buckets.take(key, rate, burst)
        if wait:
            return Dropped(DropReason.RATE_LIMITED_SITE, "too many beacons for this site",
                           retry_after=wait)
        return beacon

    return limit_site_rate


def scrub_personal_data(beacon: Beacon) -> Beacon:
    """E-mails, card numbers and secrets out of messages, stacks, properties and user ids."""
    env = beacon.envelope
    if env["user"]:
        env["user"] = pseudonymize_user(env["user"])
    for event in env["events"]:
        kind = event["t"]
        if kind == "error":
            event["message"] = scrub_text(event["message"])
            event["stack"] = scrub_text(event["stack"])
        elif kind == "custom" and event["props"]:
            event["props"] = scrub_props(event["props"])
        elif kind == "login" and event["reason"]:
            event["reason"] = scrub_text(event["reason"])
    attribution = env.get("attribution")
    if attribution:
        for key, value in attribution.items():
            attribution[key] = scrub_text(value)
    return beacon


def correct_clock_skew(beacon: Beacon) -> Beacon:
    """The browser clock is off by received - sent; shift client times by that."""
    beacon.skew_ms = beacon.received_ms - beacon.envelope["sent_at"]
    return beacon


def make_put_geolocation(geo: GeoLookup) -> Stage:
    """Stage that resolves the client IP to country/region/city/ASN."""

    def put_geolocation(beacon: Beacon) -> Beacon:
        info = geo.lookup(beacon.client_ip)
        if not info.country and beacon.cdn_country:
            info = GeoInfo(country=beacon.cdn_country)
        beacon.geo = info
        return beacon

    return put_geolocation


def put_user_agent(beacon: Beacon) -> Beacon:
    """Browser, OS, device class, bot flag."""
    beacon.agent = parse_user_agent(beacon.user_agent)
    return beacon


def forget_ip(beacon: Beacon) -> Beacon:
    """The IP has served geo; it goes no further than this."""
    beacon.client_ip = None
    return beacon


def make_put_context(allow: QueryAllowList) -> Stage:
    """Stage that sets the columns every row shares (page query params per the allow-list)."""

    def put_context(beacon: Beacon) -> Beacon:
        _put_context(beacon)
        beacon.context["page_query"] = allow.kept_query(beacon.envelope["url"])
        return beacon

    return put_context


def _put_context(beacon: Beacon) -> None:
    """Columns every row of the envelope shares: site, session, page, geo, agent."""
    env = beacon.envelope
    agent = beacon.agent or parse_user_agent("")
    geo = beacon.geo
    net = env.get("net") or {}
    path = scrub_path(page_path(env["url"]))
    beacon.context = {
        "site": env["site"],
        "session_id": env["sid"],
        "pageview_id": env["pid"],
        "seq": env["seq"],
        "user_id": env["user"],
        "page_path": path,
        "page_group": page_group(path),
        "referrer_host": url_host(env["ref"]),
        "country": geo.country,
        "region": geo.region,
        "city": geo.city,
        "asn": geo.asn,
        "as_org": geo.as_org,
        "browser": agent.browser,
        "browser_version": agent.browser_version,
        "os": agent.os,
        "device_class": agent.device_class,
        "is_bot": int(agent.is_bot),
        "sample_weight": 1.0 / env["sample_rate"],
        "connection_type": net.get("type", ""),
        "received_at": _seconds(beacon.received_ms),
        "schema_version": SCHEMA_VERSION,
    }


def build_rows(beacon: Beacon) -> Beacon:
    """One pageview row (when the envelope measured the page) plus one row per event."""
    env = beacon.envelope
    ctx = beacon.context
    key = f"{env['site']}/{env['sid']}/{env['pid']}/{env['seq']}/"
    rows = beacon.rows
    if any(k in env for k in ("nav", "vitals", "perf", "net")):
        row = dict(ctx)
        row["event_id"] = _event_id(key + "pv")
        row["kind"] = "pageview"
        row["ts"] = _seconds(beacon.received_ms)
        _put_pageview(row, env)
        rows.append(row)
    for index, event in enumerate(env["events"]):
        ts = _event_time(event.get("ts"), beacon)
        if isinstance(ts, EventDropReason):
            beacon.dropped_events.append(ts)
            continue
        row = dict(ctx)
        row["event_id"] = _event_id(key + str(index))
        row["kind"] = event["t"]
        row["ts"] = _seconds(ts)
        _EVENT_COLUMNS[event["t"]](row, event)
        rows.append(row)
    return beacon


def _put_pageview(row: dict[str, Any], env: dict[str, Any]) -> None:
    nav = env.get("nav") or {}
    row["nav_type"] = nav.get("type", "")
    for key in ("dns", "connect", "tls", "request", "response", "dom_interactive",
                "dom_complete", "load"):
        if key in nav:
            row[key] = nav[key]
    if "transfer_size" in nav:
        row["transfer_size"] = int(nav["transfer_size"])
    row.update(env.get("vitals") or {})
    perf = env.get("perf") or {}
    row["long_tasks"] = int(perf.get("long_tasks", 0))
    row["tbt"] = perf.get("tbt", 0.0)
    row["rage_clicks"] = int(perf.get("rage_clicks", 0))
    attribution = env.get("attribution") or {}
    for key, value in attribution.items():
        row[key] = page_path(value) if key == "lcp_resource" else value
    net = env.get("net") or {}
    if "rtt" in net:
        row["rtt"] = net["rtt"]
    if "downlink" in net:
        row["downlink"] = net["downlink"]
    row["save_data"] = int(bool(net.get("save_data", False)))


def _put_error(row: dict[str, Any], event: dict[str, Any]) -> None:
    row["error_message"] = event["message"]
    row["error_source"] = page_path(event["source"]) if event["source"] else ""
    row["error_line"] = event["line"]
    row["error_col"] = event["col"]
    row["error_stack"] = event["stack"]


def _put_api(row: dict[str, Any], event: dict[str, Any]) -> None:
    row["api_method"] = event["method"]
    row["api_path"] = scrub_path(page_path(event["url"])) if event["url"] else ""
    row["api_status"] = event["status"]
    if "duration" in event:
        row["api_duration"] = event["duration"]


def _put_login(row: dict[str, Any], event: dict[str, Any]) -> None:
    row["login_success"] = int(event["success"])
    row["login_reason"] = event["reason"]


def _put_conversion(row: dict[str, Any], event: dict[str, Any]) -> None:
    row["conversion_value"] = event["value"]
    row["currency"] = event.get("currency", "")


def _put_custom(row: dict[str, Any], event: dict[str, Any]) -> None:
    row["event_name"] = event["name"]
    row["event_props"] = orjson.dumps(event["props"]).decode()


_EVENT_COLUMNS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "error": _put_error,
    "api": _put_api,
    "login": _put_login,
    "conversion": _put_conversion,
    "custom": _put_custom,
}


def _event_time(client_ts: float | None, beacon: Beacon) -> float | EventDropReason:
    """Client time corrected for skew; an event from after the send, or more than a day
    before it, says the timestamp is garbage, and the event is left out (and counted)."""
    if client_ts is None:
        return beacon.received_ms
    corrected = client_ts + beacon.skew_ms
    if corrected > beacon.received_ms + FUTURE_TOLERANCE_MS:
        return EventDropReason.FUTURE_TIMESTAMP
    if corrected < beacon.received_ms - MAX_EVENT_AGE_MS:
        return EventDropReason.STALE_TIMESTAMP
    return min(corrected, beacon.received_ms)


def _seconds(ms: float) -> float:
    # DateTime64(3) reads a JSON number as seconds with a fraction
    return round(ms / 1000.0, 3)


def _event_id(key: str) -> str:
    """Deterministic id: a resent envelope yields the same ids, so duplicates can be dropped."""
    h = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def build_stages(geo: GeoLookup, registry: SiteRegistry | None = None,
                 site_buckets: TokenBuckets | None = None,
                 allow: QueryAllowList | None = None) -> list[tuple[str, Stage]]:
    """The intake pipeline, in order: check, limit, scrub, enrich, build rows."""
    stages: list[tuple[str, Stage]] = [
        ("check_envelope", check_envelope),
        ("check_site", make_check_site(registry)),
        ("honor_gpc", make_honor_gpc(registry)),
    ]
    if site_buckets is not None and site_buckets.enabled:
        stages.append(("limit_site_rate", make_limit_site_rate(site_buckets, registry)))
    stages += [
        ("scrub_personal_data", scrub_personal_data),
        ("correct_clock_skew", correct_clock_skew),
        ("put_geolocation", make_put_geolocation(geo)),
        ("put_user_agent", put_user_agent),
        ("forget_ip", forget_ip),
        ("put_context", make_put_context(allow or QueryAllowList(["utm_*"]))),
        ("build_rows", build_rows),
    ]
    return stages
