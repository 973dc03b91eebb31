"""POST /v1/beacon: a lean ASGI endpoint (the hot path) that reads, decodes and enriches beacons.

Raw ASGI rather than a FastAPI route: the body is read with a running size
cap, and per-request work is kept to what the beacon needs.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from collector.clientip import TrustedProxies
from collector.drops import Dropped, DropReason, EventDropReason
from collector.metrics import Metrics
from collector.protocol import Envelope
from collector.ratelimit import TokenBuckets
from collector.sites import SiteRegistry
from collector.stages import Beacon, Stage
from pipeline.sinks import Sink

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger(__name__)
_TEXT_TYPES = (b"text/plain", b"application/json")
_ENCODINGS = (b"", b"identity", b"gzip", b"deflate")
RETRY_AFTER_SECONDS = 5
# the stages of one beacon in this many are timed into rum_stage_seconds: timing every
# beacon cost ~25 µs of ~100 µs of enrichment (11 clock reads and Histogram.observe calls)
STAGE_TIMING_SAMPLE = 16


class BodyError(Exception):
    """Reading or decoding the body failed; carries the drop."""

    def __init__(self, drop: Dropped) -> None:
        super().__init__(drop.detail)
        self.drop = drop


class Cors:
    """Which origins may post and read replies: RUM_ALLOWED_ORIGINS, narrowed to the site
    registry's origins when there is one (then `*` is never echoed, only the origin)."""

    def __init__(self, allowed: list[str], registry: SiteRegistry | None = None) -> None:
        self.any = "*" in allowed
        self.allowed = {o.encode() for o in allowed}
        self.registered = (None if registry is None or "*" in registry.all_origins
                           else {o.encode() for o in registry.all_origins})

    def allows(self, origin: bytes | None) -> bool:
        """True when a request from `origin` (None: not a browser CORS request) is accepted."""
        if origin is None:
            return True
        if self.registered is not None and origin not in self.registered:
            return False
        return self.any or origin in self.allowed

    def headers(self, origin: bytes | None) -> list[tuple[bytes, bytes]]:
        """Response headers for `origin`: echo it when allowed, never with credentials."""
        if origin is None or not self.allows(origin):
            return []
        return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a request carries: a v1 body (decoded by the 'decode' stage), or an Envelope a
    receiver made from another agent's format, with its batch key (part of the event ids:
    a batch resent with the same key makes the same rows), and what its translation left out."""

    body: bytes = b""
    envelope: Envelope | None = None
    batch: str = ""
    dropped: tuple[EventDropReason, ...] = ()


class BeaconIntake:
    """The ASGI app behind /v1/beacon; `stages` and `sink` are bound at startup."""

    methods: tuple[str, ...] = ("POST",)
    # the body types taken (the first two are the v1 protocol's)
    content_types: tuple[bytes, ...] = _TEXT_TYPES
    # the request headers a CORS preflight may ask for
    allow_headers = b"Content-Type, Content-Encoding"

    def __init__(self, max_body_bytes: int, proxies: TrustedProxies, cors: Cors,
                 metrics: Metrics, geo_header: str | None = None,
                 ip_buckets: TokenBuckets | None = None) -> None:
        self.max_body = max_body_bytes
        self.ip_buckets = ip_buckets if ip_buckets is not None and ip_buckets.enabled else None
        self.proxies = proxies
        # a pure function of (peer, X-Forwarded-For), and visitors send many beacons: parsing
        # addresses was ~12 µs of a beacon
        self._client_ip = lru_cache(maxsize=65536)(proxies.client_ip)
        self.cors = cors
        self.metrics = metrics
        self.geo_header = geo_header.lower().encode() if geo_header else None
        self.stages: list[tuple[str, Stage]] = []
        self.sink: Sink | None = None
        self._stage_timers: dict[str, Any] = {}
        self._untimed = 0  # beacons enriched since the last timed one

    def bind(self, stages: list[tuple[str, Stage]], sink: Sink) -> None:
        """Attach the enrichment stages and the sink once the app has started."""
        self.stages = stages
        self.sink = sink
        self._stage_timers = {name: self.metrics.stage_seconds.labels(name) for name, _ in stages}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        admitted = self.admit(scope, headers)
        if isinstance(admitted, Reply):
            await admitted.send(send)
            return
        try:
            body = await self.read(scope, headers, receive)
        except BodyError as exc:
            await self.refuse(admitted.cors, exc.drop).send(send)
            return
        await self.take(admitted, body, scope, headers).send(send)

    def admit(self, scope: Scope, headers: dict[bytes, bytes]) -> Admitted | Reply:
        """What the request line and headers decide before the body: a preflight's or a
        refusal's Reply, or the request admitted (its CORS headers and client address)."""
        origin = headers.get(b"origin")
        cors = self.cors.headers(origin)
        method = scope["method"]
        if method == "OPTIONS":
            return reply(204, None, cors + self._preflight())
        if method not in self.methods:
            allowed = ", ".join((*self.methods, "OPTIONS"))
            return reply(405, {"error": "method_not_allowed", "detail": f"use {allowed}"},
                         cors + [(b"allow", allowed.encode())])
        if not self.cors.allows(origin):
            return self.refuse(cors, Dropped(DropReason.ORIGIN_NOT_ALLOWED, "origin not allowed"))
        if self.sink is not None and self.sink.refusing:
            # full: refused before the body is decoded and enriched, so an overload's
            # refusals cost little and the writer keeps the time to catch up
            return self.refuse(cors, _BACKPRESSURE)
        peer = scope.get("client")
        peer_ip = peer[0] if peer else None
        xff = headers.get(b"x-forwarded-for")
        client_ip = self._client_ip(peer_ip, xff.decode("latin-1") if xff else None)
        if self.ip_buckets is not None and client_ip is not None:
            wait = self.ip_buckets.take(client_ip)
            if wait:
                return self.refuse(cors, Dropped(DropReason.RATE_LIMITED_IP,
                                                 "too many beacons from this address", wait))
        return Admitted(cors, peer_ip, client_ip)

    def take(self, admitted: Admitted, body: bytes, scope: Scope, headers: dict[bytes, bytes]) -> Reply:
        """An admitted request's payload: parsed, enriched, handed to the sink; the reply."""
        cors = admitted.cors
        parsed = self.parse(body, scope, headers)
        if isinstance(parsed, Dropped):
            return self.refuse(cors, parsed)
        result = self._enrich(admitted.peer_ip, admitted.client_ip, headers, parsed)
        if isinstance(result, Dropped):
            return self.refuse(cors, result)
        for reason in result.dropped_events:
            self.metrics.events_dropped.labels(reason.value).inc()
        rows = result.rows
        assert self.sink is not None
        if rows and not self.sink.submit(result.envelope.sid.encode(), result.line, rows):
            return self.refuse(cors, _BACKPRESSURE)
        self.metrics.beacons_accepted.inc()
        self.metrics.events_accepted.inc(rows)
        self.metrics.buffer_rows.set(self.sink.pending)
        return self.accepted(cors, rows)

    # -- what a receiver of another agent's format overrides --------------------------

    def _preflight(self) -> list[tuple[bytes, bytes]]:
        methods = ", ".join((*self.methods, "OPTIONS")).encode()
        return [(b"access-control-allow-methods", methods),
                (b"access-control-allow-headers", self.allow_headers),
                (b"access-control-max-age", b"86400")]

    async def read(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        """The request's payload: the body, read with the size cap (BodyError when refused)."""
        return await self._read_body(headers, receive)

    def parse(self, body: bytes, scope: Scope, headers: dict[bytes, bytes]) -> Parsed | Dropped:
        """The payload as the stages take it: a v1 body is decoded by the 'decode' stage."""
        if not body:
            return Dropped(DropReason.MALFORMED_JSON, "empty body")
        return Parsed(body=body)

    def accepted(self, cors: list[tuple[bytes, bytes]], rows: int) -> Reply:
        """The reply to an accepted request: `{"accepted": rows}`, encoded once per count."""
        payload, length = _accepted_body(rows)
        return Reply(202, [*cors, _JSON, (b"content-length", length)], payload)

    # -- shared ----------------------------------------------------------------------------

    def _enrich(self, peer_ip: str | None, client_ip: str | None, headers: dict[bytes, bytes],
                parsed: Parsed) -> Beacon | Dropped:
        cdn_country = None
        if self.geo_header and peer_ip and self.proxies.is_trusted(peer_ip):
            raw = headers.get(self.geo_header, b"").decode("latin-1").upper()
            cdn_country = raw if len(raw) == 2 and raw.isalpha() else None
        origin = headers.get(b"origin")
        beacon = Beacon(body=parsed.body, client_ip=client_ip,
                        user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
                        received_ms=time.time() * 1000.0, cdn_country=cdn_country,
                        origin=origin.decode("latin-1") if origin else None,
                        gpc=headers.get(b"sec-gpc", b"").strip() == b"1", batch=parsed.batch)
        if parsed.envelope is not None:
            beacon.envelope = parsed.envelope
            beacon.dropped_events.extend(parsed.dropped)
        if self._untimed:
            self._untimed = (self._untimed + 1) % STAGE_TIMING_SAMPLE
            for _, stage in self.stages:
                step = stage(beacon)
                if isinstance(step, Dropped):
                    return step
                beacon = step  # each stage's result is what the next one gets
            return beacon
        self._untimed = 1 % STAGE_TIMING_SAMPLE
        return self._enrich_timed(beacon)

    def _enrich_timed(self, beacon: Beacon) -> Beacon | Dropped:
        """Run the stages, each timed into rum_stage_seconds{stage}."""
        clock = time.perf_counter
        for name, stage in self.stages:
            started = clock()
            step = stage(beacon)
            self._stage_timers[name].observe(clock() - started)
            if isinstance(step, Dropped):
                return step
            beacon = step
        return beacon

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        encoding = self.body_encoding(headers)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise BodyError(Dropped(DropReason.MALFORMED_JSON, "client disconnected"))
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyError(_too_large(self.max_body))
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self.inflated(body, encoding)

    def body_encoding(self, headers: dict[bytes, bytes]) -> bytes:
        """The body's Content-Encoding, once its headers are checked: type, charset, encoding
        and a declared length within the cap (BodyError when refused)."""
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype not in self.content_types:
            names = " or ".join(t.decode() for t in self.content_types)
            raise BodyError(Dropped(DropReason.UNSUPPORTED_MEDIA_TYPE, f"Content-Type must be {names}"))
        charset = headers.get(b"content-type", b"").lower().partition(b"charset=")[2].strip()
        if charset and charset.strip(b'"') not in (b"utf-8", b"utf8"):
            raise BodyError(Dropped(DropReason.UNSUPPORTED_MEDIA_TYPE, "charset must be UTF-8"))
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding not in _ENCODINGS:
            raise BodyError(Dropped(DropReason.UNSUPPORTED_MEDIA_TYPE,
                                    "Content-Encoding must be gzip, deflate or none"))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise BodyError(_too_large(self.max_body))
        return encoding

    def inflated(self, body: bytes, encoding: bytes) -> bytes:
        """The body as sent, decompressed when it is gzip or deflate (BodyError when refused)."""
        if encoding in (b"gzip", b"deflate"):
            return _inflate(body, encoding, self.max_body)
        return body

    def too_large(self) -> Dropped:
        """The refusal of a body past the cap."""
        return _too_large(self.max_body)

    def refuse(self, cors: list[tuple[bytes, bytes]], drop: Dropped) -> Reply:
        """The reply to a refused request (counted and logged): its status, the reason and
        detail, Retry-After when it has one."""
        self.metrics.beacons_rejected.labels(drop.reason.value).inc()
        log.debug("beacon refused", extra={"reason": drop.reason.value, "detail": drop.detail})
        extra = []
        if drop.retry_after is not None:
            extra.append((b"retry-after", str(max(1, math.ceil(drop.retry_after))).encode()))
        # a drop with a 2xx status is a consent decision, not an error: nothing was stored
        body = ({"accepted": 0, "reason": drop.reason.value} if drop.status < 300
                else {"error": drop.reason.value, "detail": drop.detail})
        return reply(drop.status, body, cors + extra)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request its line and headers admit: the CORS headers of its reply, the peer's
    address and the client's (X-Forwarded-For through trusted proxies)."""

    cors: list[tuple[bytes, bytes]]
    peer_ip: str | None
    client_ip: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply: status, headers (content-type and content-length included) and body; sent
    as ASGI messages, or written whole by the server's fast path (collector/server.py)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def _too_large(limit: int) -> Dropped:
    return Dropped(DropReason.BODY_TOO_LARGE, f"body exceeds {limit} bytes")


def _inflate(body: bytes, encoding: bytes, limit: int) -> bytes:
    """Decompress with the size cap applied to the output, so a bomb costs at most `limit`."""
    wbits = 16 + zlib.MAX_WBITS if encoding == b"gzip" else zlib.MAX_WBITS
    try:
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            if encoding != b"deflate":
                raise
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some clients send
            out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BodyError(Dropped(DropReason.BAD_ENCODING, f"cannot decompress body: {exc}")) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyError(_too_large(limit))
    if not inflater.eof:
        raise BodyError(Dropped(DropReason.BAD_ENCODING, "compressed body is truncated"))
    return out


_JSON = (b"content-type", b"application/json")
_BACKPRESSURE = Dropped(DropReason.BACKPRESSURE, "write buffer full; retry later", RETRY_AFTER_SECONDS)


@lru_cache(maxsize=256)
def _accepted_body(rows: int) -> tuple[bytes, bytes]:
    """The 202 reply's body and its length header value."""
    payload = orjson.dumps({"accepted": rows})
    return payload, str(len(payload)).encode()


def reply(status: int, body: Any, headers: list[tuple[bytes, bytes]]) -> Reply:
    """A reply with `body` as JSON (None: empty) after `headers`."""
    payload = orjson.dumps(body) if body is not None else b""
    out = list(headers)
    if body is not None:
        out.append(_JSON)
    out.append((b"content-length", str(len(payload)).encode()))
    return Reply(status, out, payload)
