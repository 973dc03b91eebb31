"""Enrichment stages: a beacon body -> one enriched record, in named steps.

The order below is the order of enrichment. Each step takes the Beacon and returns
it (or a Dropped that stops the beacon); the runner (collector/intake.py) passes on
what a step returns. Steps annotate the one decoded envelope, never rows: the last
step encodes the record, and ClickHouse builds the event rows from it
(collector/record.py). Each step is timed under its own name in /metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import orjson

from collector.drops import Dropped, DropReason, EventDropReason
from collector.geo import UNKNOWN, GeoInfo, GeoLookup
from collector.pages import page_group, scrubbed_path, url_host
from collector.privacy import QueryAllowList, pseudonymize_user, scrub_props, scrub_text
from collector.protocol import (
    ATTRIBUTION_KEYS,
    PART_KEYS,
    ApiEvent,
    ConversionEvent,
    CustomEvent,
    Envelope,
    ErrorEvent,
    Event,
    InvalidEnvelope,
    LoginEvent,
    MalformedBody,
    decode_envelope,
)
from collector.ratelimit import TokenBuckets
from collector.record import BeaconRecord, EventRecord, encode_record
from collector.sites import SiteRegistry
from collector.useragent import AgentInfo, parse_user_agent

# client timestamps are trusted only within this distance of the receive time
MAX_EVENT_AGE_MS = 24 * 3600 * 1000
# an event may be stamped a little after sent_at (the agent stamps, then serializes)
FUTURE_TOLERANCE_MS = 60_000
_NO_AGENT = parse_user_agent("")
_EMPTY = Envelope(v=1, site="", sid="", pid="", sent_at=0.0, url="")


@dataclass(slots=True)
class Beacon:
    """One beacon on its way through the stages."""

    body: bytes
    client_ip: str | None
    user_agent: str
    received_ms: float
    cdn_country: str | None = None
    origin: str | None = None
    gpc: bool = False
    batch: str = ""  # a receiver's batch key, part of the event ids (collector/record.py)
    envelope: Envelope = _EMPTY
    skew_ms: float = 0.0
    geo: GeoInfo = UNKNOWN
    agent: AgentInfo = _NO_AGENT
    record: BeaconRecord | None = None
    line: bytes = b""  # the encoded record
    rows: int = 0  # event rows ClickHouse builds from it
    dropped_events: list[EventDropReason] = field(default_factory=list)


Stage = Callable[[Beacon], "Beacon | Dropped"]


def decode(beacon: Beacon) -> Beacon | Dropped:
    """Decode and validate the body against the protocol (docs/beacon-protocol.md); an
    envelope a receiver already made from another agent's format is taken as it is."""
    if beacon.envelope is not _EMPTY:
        return beacon
    try:
        beacon.envelope = decode_envelope(beacon.body)
    except MalformedBody as exc:
        return Dropped(DropReason.MALFORMED_JSON, str(exc))
    except InvalidEnvelope as exc:
        return Dropped(DropReason.INVALID_ENVELOPE, str(exc))
    beacon.body = b""
    return beacon


def make_check_site(registry: SiteRegistry | None) -> Stage:
    """Stage that refuses unknown site keys and origins the site does not list."""

    def check_site(beacon: Beacon) -> Beacon | Dropped:
        if registry is None:
            return beacon
        site = registry.get(beacon.envelope.site)
        if site is None:
            return Dropped(DropReason.UNKNOWN_SITE, "site key is not registered")
        if not site.allows_origin(beacon.origin):
            return Dropped(DropReason.ORIGIN_NOT_ALLOWED, "origin not allowed for this site")
        # the registered rate is what the snippet tells the agent: it wins over a claim
        beacon.envelope.sample_rate = site.sample_rate
        return beacon

    return check_site


def make_honor_gpc(registry: SiteRegistry | None) -> Stage:
    """Stage that stores nothing from a browser sending Sec-GPC: 1 to a site that honours it."""

    def honor_gpc(beacon: Beacon) -> Beacon | Dropped:
        if beacon.gpc and registry is not None:
            site = registry.get(beacon.envelope.site)
            if site is not None and site.honor_gpc:
                return Dropped(DropReason.GPC_OPT_OUT, "Global Privacy Control honoured")
        return beacon

    return honor_gpc


def make_limit_site_rate(buckets: TokenBuckets, registry: SiteRegistry | None) -> Stage:
    """Stage that keeps one site from taking the whole collector (token bucket per site)."""

    def limit_site_rate(beacon: Beacon) -> Beacon | Dropped:
        key = beacon.envelope.site
        site = registry.get(key) if registry is not None else None
        rate = site.rate_limit if site is not None and site.rate_limit is not None else None
        burst = 2 * rate if rate is not None else None
        wait = buckets.take(key, rate, burst)
        if wait:
            return Dropped(DropReason.RATE_LIMITED_SITE, "too many beacons for this site",
                           retry_after=wait)
        return beacon

    return limit_site_rate


# errors repeat (one bug, many visitors, the same message and stack): scrubbing a stack is
# ~8 µs, a cached answer well under 1 µs. Like the GeoIP cache holds addresses, this holds
# raw texts in the process's memory only, never past it.
_scrub_repeated = lru_cache(maxsize=4096)(scrub_text)


def scrub_personal_data(beacon: Beacon) -> Beacon:
    """E-mails, card numbers and secrets out of messages, stacks, properties and user ids."""
    env = beacon.envelope
    if env.user:
        env.user = pseudonymize_user(env.user)
    for event in env.events or ():
        if isinstance(event, ErrorEvent):
            event.message = _scrub_repeated(event.message)
            event.stack = _scrub_repeated(event.stack or "")
        elif isinstance(event, CustomEvent):
            event.name = scrub_text(event.name)
            if event.props:
                event.props = scrub_props(event.props)  # type: ignore[arg-type,assignment]
        elif isinstance(event, LoginEvent) and event.reason:
            event.reason = scrub_text(event.reason)
    attribution = env.attribution
    if attribution is not None:
        for key in ATTRIBUTION_KEYS:
            value = getattr(attribution, key)
            if value:  # selectors and script URLs repeat as errors do
                setattr(attribution, key, _scrub_repeated(value))
    return beacon


def correct_clock_skew(beacon: Beacon) -> Beacon:
    """The browser clock is off by received - sent; shift client times by that."""
    beacon.skew_ms = beacon.received_ms - beacon.envelope.sent_at
    return beacon


def make_put_geolocation(geo: GeoLookup) -> Stage:
    """Stage that resolves the client IP to country/region/city/ASN (cached lookups)."""

    def put_geolocation(beacon: Beacon) -> Beacon:
        info = geo.lookup(beacon.client_ip)
        if not info.country and beacon.cdn_country:
            info = GeoInfo(country=beacon.cdn_country)
        beacon.geo = info
        return beacon

    return put_geolocation


def put_user_agent(beacon: Beacon) -> Beacon:
    """Browser, OS, device class, bot flag (cached parse)."""
    beacon.agent = parse_user_agent(beacon.user_agent)
    return beacon


def forget_ip(beacon: Beacon) -> Beacon:
    """The IP has served geo; it goes no further than this."""
    beacon.client_ip = None
    return beacon


def make_put_context(allow: QueryAllowList) -> Stage:
    """Stage that starts the record with the columns every row shares."""

    def put_context(beacon: Beacon) -> Beacon:
        env = beacon.envelope
        agent = beacon.agent
        geo = beacon.geo
        net = env.net
        path = scrubbed_path(env.url)
        beacon.record = BeaconRecord(
            site=env.site, session_id=env.sid, pageview_id=env.pid,
            received_ms=round(beacon.received_ms), seq=env.seq or 0, user_id=env.user or "",
            page_path=path, page_query=allow.kept_query(env.url), page_group=page_group(path),
            referrer_host=url_host(env.ref or ""), country=geo.country, region=geo.region,
            city=geo.city, asn=geo.asn, as_org=geo.as_org, browser=agent.browser,
            browser_version=agent.browser_version, os=agent.os,
            device_class=agent.device_class, is_bot=int(agent.is_bot),
            sample_weight=1.0 / (env.sample_rate or 1.0),
            connection_type=(net.type or "") if net is not None else "", batch=beacon.batch)
        return beacon

    return put_context


def put_page_view(beacon: Beacon) -> Beacon:
    """The page view's measurements, when the envelope measured the page."""
    env = beacon.envelope
    record = beacon.record
    assert record is not None
    nav, vitals, perf, net = env.nav, env.vitals, env.perf, env.net
    if nav is None and vitals is None and perf is None and net is None:
        return beacon
    record.pv = 1
    if nav is not None:
        record.nav_type = nav.type or ""
        record.dns, record.connect, record.tls = nav.dns, nav.connect, nav.tls
        record.request, record.response = nav.request, nav.response
        record.dom_interactive, record.dom_complete = nav.dom_interactive, nav.dom_complete
        record.load = nav.load
        if nav.transfer_size is not None:
            record.transfer_size = int(nav.transfer_size)
    if vitals is not None:
        record.lcp, record.inp, record.cls = vitals.lcp, vitals.inp, vitals.cls
        record.fcp, record.ttfb = vitals.fcp, vitals.ttfb
        for key in PART_KEYS:
            setattr(record, key, getattr(vitals, key))
    if perf is not None:
        record.long_tasks = int(perf.long_tasks or 0)
        record.tbt = perf.tbt or 0.0
        record.rage_clicks = int(perf.rage_clicks or 0)
    attribution = env.attribution
    if attribution is not None:
        record.lcp_element = attribution.lcp_element or ""
        record.lcp_resource = (scrubbed_path(attribution.lcp_resource)
                               if attribution.lcp_resource else "")
        record.inp_target = attribution.inp_target or ""
        record.cls_source = attribution.cls_source or ""
        record.inp_script = (scrubbed_path(attribution.inp_script)
                             if attribution.inp_script else "")
    if net is not None:
        record.rtt, record.downlink = net.rtt, net.downlink
        record.save_data = int(bool(net.save_data))
    return beacon


def put_events(beacon: Beacon) -> Beacon:
    """One entry per event, at its skew-corrected time; garbage times are left out (counted)."""
    record = beacon.record
    assert record is not None
    out = record.events = []
    for index, event in enumerate(beacon.envelope.events or ()):
        ts = _event_time(event.ts, beacon)
        if isinstance(ts, EventDropReason):
            beacon.dropped_events.append(ts)
            continue
        out.append(_event_record(event, index, round(ts)))
    return beacon


def encode(beacon: Beacon) -> Beacon:
    """The record as the one line the writer takes."""
    record = beacon.record
    assert record is not None
    beacon.line = encode_record(record)
    beacon.rows = record.pv + len(record.events)
    return beacon


def _event_record(event: Event, index: int, ts_ms: int) -> EventRecord:
    if isinstance(event, ErrorEvent):
        return EventRecord(index, "error", ts_ms, message=event.message,
                           source=scrubbed_path(event.source) if event.source else "",
                           line=event.line or 0, col=event.col or 0, stack=event.stack or "")
    if isinstance(event, ApiEvent):
        return EventRecord(index, "api", ts_ms, method=event.method or "GET",
                           api_path=scrubbed_path(event.url) if event.url else "",
                           status=event.status or 0, duration=event.duration)
    if isinstance(event, LoginEvent):
        return EventRecord(index, "login", ts_ms, success=int(event.success),
                           reason=event.reason or "")
    if isinstance(event, ConversionEvent):
        return EventRecord(index, "conversion", ts_ms, value=event.value,
                           currency=event.currency or "")
    assert isinstance(event, CustomEvent)
    return EventRecord(index, "custom", ts_ms, name=event.name,
                       props=orjson.dumps(event.props or {}).decode())


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


def build_stages(geo: GeoLookup, registry: SiteRegistry | None = None,
                 site_buckets: TokenBuckets | None = None,
                 allow: QueryAllowList | None = None) -> list[tuple[str, Stage]]:
    """The intake pipeline, in order: decode, check, limit, scrub, enrich, encode."""
    stages: list[tuple[str, Stage]] = [
        ("decode", decode),
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
        ("put_page_view", put_page_view),
        ("put_events", put_events),
        ("encode", encode),
    ]
    return stages
