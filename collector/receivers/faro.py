"""POST /collect: Grafana Faro's web SDK, received as Grafana Alloy's `faro.receiver` does.

A Faro batch (`{meta, events, measurements, exceptions, logs, traces}`) becomes one v1
Envelope (docs/agents.md has the field mapping):
- the site is `meta.app.name`, or the site an `X-Api-Key` stands for in the registry;
- the session is `meta.session.id`; the page view id is made from the session and
  `meta.page.url` (Faro sends one page's data in 3-6 batches with no page view id
  shared by all of them);
- `web-vitals` measurements -> vitals, their parts and attribution; the
  `faro.performance.navigation` event -> navigation timing;
- `exceptions` -> error events; events named `login` / `conversion` (or measurements
  of those types) -> login / conversion events; other events and measurements ->
  custom events; Faro's own `faro.*` events other than the navigation, `logs` and
  `traces` are not stored;
- the batch's `Idempotency-Key` (which Faro reuses when it retries) is the batch key
  of the event ids, so a retried batch makes the same rows (merged on read).
Faro sends no send time: the newest timestamp in the batch stands for it.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from collector.drops import Dropped, DropReason
from collector.intake import Parsed, Scope
from collector.protocol import MAX_EVENTS, MAX_TIMING_MS, PROP_KEY_MAX
from collector.receivers.common import (
    MAX_FRAMES,
    Notes,
    ReceiverIntake,
    as_number,
    digest,
    envelope,
    frame_line,
    ident,
    source_line,
)

# Faro's batches are small (a page's data over 3-6 of them); more than this is not Faro
MAX_ITEMS = 200
Scalar = str | int | float | bool | None


class _App(Struct):
    name: str = ""
    version: str = ""


class _Id(Struct):
    id: str = ""


class _Page(Struct):
    url: str = ""


class _Meta(Struct):
    app: _App | None = None
    session: _Id | None = None
    page: _Page | None = None
    user: _Id | None = None


class _Frame(Struct):
    filename: str = ""
    function: str = ""
    lineno: int | None = None
    colno: int | None = None


class _Stack(Struct):
    frames: Annotated[list[_Frame], Meta(max_length=MAX_ITEMS)] = []


class _Exception(Struct):
    type: str = ""
    value: str = ""
    timestamp: datetime | None = None
    stacktrace: _Stack | None = None


class _Measurement(Struct):
    type: str = ""
    values: Annotated[dict[str, Scalar], Meta(max_length=MAX_ITEMS)] = {}
    timestamp: datetime | None = None
    context: Annotated[dict[str, Scalar], Meta(max_length=MAX_ITEMS)] = {}


class _Event(Struct):
    name: str = ""
    domain: str = ""
    attributes: Annotated[dict[str, Scalar], Meta(max_length=MAX_ITEMS)] = {}
    timestamp: datetime | None = None


class FaroPayload(Struct):
    """What the SDK posts; `logs` and `traces` are skipped undecoded."""

    meta: _Meta = msgspec.field(default_factory=_Meta)
    events: Annotated[list[_Event], Meta(max_length=MAX_ITEMS)] = []
    measurements: Annotated[list[_Measurement], Meta(max_length=MAX_ITEMS)] = []
    exceptions: Annotated[list[_Exception], Meta(max_length=MAX_ITEMS)] = []
    logs: msgspec.Raw = msgspec.Raw(b"[]")
    traces: msgspec.Raw = msgspec.Raw(b"{}")


_decoder = msgspec.json.Decoder(FaroPayload)

# web-vitals value key -> protocol vitals field (the parts as web-vitals' attribution names them)
_VITALS = {"lcp": "lcp", "inp": "inp", "cls": "cls", "fcp": "fcp", "ttfb": "ttfb"}
_LCP_PARTS = {"time_to_first_byte": "lcp_ttfb", "resource_load_delay": "lcp_load_delay",
              "resource_load_duration": "lcp_load_time", "element_render_delay": "lcp_render_delay"}
_INP_PARTS = {"input_delay": "inp_input_delay", "processing_duration": "inp_processing",
              "presentation_delay": "inp_presentation"}
# web-vitals context key -> protocol attribution field
_ATTRIBUTION = {"element": "lcp_element", "interaction_target": "inp_target",
                "largest_shift_target": "cls_source"}
# faro.performance.navigation attribute -> protocol nav field (durations, ms)
_NAV = {"dnsLookupTime": "dns", "tcpHandshakeTime": "connect", "requestTime": "request",
        "responseTime": "response", "pageLoadTime": "dom_complete", "duration": "load"}
_NAV_TYPES = {"navigate", "reload", "back_forward", "prerender"}
_TRUE = {"true", "1", "yes", "ok", "success"}
_FALSE = {"false", "0", "no", "fail", "failed", "failure"}


def decode_faro(body: bytes) -> FaroPayload | Dropped:
    """The batch, typed; a Dropped when it is not JSON or not Faro's shape."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        return Dropped(DropReason.INVALID_ENVELOPE, f"not a Faro batch: {str(exc)[:200]}")
    except msgspec.DecodeError as exc:
        return Dropped(DropReason.MALFORMED_JSON, str(exc)[:200])
    except RecursionError:
        return Dropped(DropReason.MALFORMED_JSON, "JSON is nested too deeply")


def faro_document(batch: FaroPayload, notes: Notes, site: str | None = None,
                  now_ms: float | None = None) -> dict[str, Any]:
    """The v1 envelope document of one Faro batch (validated by the caller)."""
    meta = batch.meta
    url = meta.page.url if meta.page else ""
    sid = ident(meta.session.id if meta.session else "")
    events: list[dict[str, Any]] = []
    newest = 0.0
    vitals: dict[str, float] = {}
    attribution: dict[str, str] = {}
    nav: dict[str, Any] = {}
    for measurement in batch.measurements:
        ts = _ms(measurement.timestamp)
        newest = max(newest, ts or 0.0)
        if measurement.type == "web-vitals":
            _put_vitals(measurement, vitals, attribution, notes)
        else:
            events.append(_measurement_event(measurement, ts))
    for event in batch.events:
        ts = _ms(event.timestamp)
        newest = max(newest, ts or 0.0)
        if event.name == "faro.performance.navigation":
            nav = _nav(event.attributes, url, notes)
        elif not event.name.startswith("faro."):
            events.append(_custom_event(event.name, event.attributes, ts))
    for exc in batch.exceptions:
        ts = _ms(exc.timestamp)
        newest = max(newest, ts or 0.0)
        events.append(_error_event(exc, ts))
    doc: dict[str, Any] = {
        "v": 1, "site": site or (meta.app.name if meta.app else ""), "sid": sid,
        "pid": digest(sid, url) if sid else "", "seq": 0,
        "sent_at": newest or now_ms or 0.0, "url": url,
        "events": events[:MAX_EVENTS],
    }
    if meta.user and meta.user.id:
        doc["user"] = meta.user.id
    if vitals:
        doc["vitals"] = vitals
    if attribution:
        doc["attribution"] = attribution
    if nav:
        doc["nav"] = nav
    return doc


def _ms(when: datetime | None) -> float | None:
    return when.timestamp() * 1000.0 if when is not None else None


def _put_vitals(measurement: _Measurement, vitals: dict[str, float], attribution: dict[str, str],
                notes: Notes) -> None:
    values = measurement.values
    for key, field in _VITALS.items():
        if key in values:
            value = notes.timing(values[key], 100.0 if key == "cls" else MAX_TIMING_MS)
            if value is not None:
                vitals[field] = value
    parts = _LCP_PARTS if "lcp" in values else _INP_PARTS if "inp" in values else {}
    for key, field in parts.items():
        value = notes.timing(values.get(key))
        if value is not None:
            vitals[field] = value
    for key, field in _ATTRIBUTION.items():
        text = measurement.context.get(key)
        if isinstance(text, str) and text:
            attribution[field] = text


def _nav(attributes: dict[str, Scalar], url: str, notes: Notes) -> dict[str, Any]:
    nav: dict[str, Any] = {}
    for key, field in _NAV.items():
        value = notes.timing(attributes.get(key))
        if value is not None:
            nav[field] = value
    # Faro reports connectEnd - secureConnectionStart even without TLS (then 0): only
    # an https page had a TLS handshake
    tls = notes.timing(attributes.get("tlsNegotiationTime"))
    if tls is not None and url.startswith("https:"):
        nav["tls"] = tls
    # documentParsingTime starts at domLoading; domInteractive from the start is the
    # page load time less the DOM processing after it
    processing = as_number(attributes.get("domProcessingTime"))
    if "dom_complete" in nav and processing is not None and 0 <= processing <= nav["dom_complete"]:
        nav["dom_interactive"] = nav["dom_complete"] - processing
    size = as_number(attributes.get("transferSize"))
    if size is not None and 0 <= size <= 1e9:
        nav["transfer_size"] = size
    kind = attributes.get("type")
    nav["type"] = kind if kind in _NAV_TYPES else "navigate"
    return nav


def _error_event(exc: _Exception, ts: float | None) -> dict[str, Any]:
    frames = exc.stacktrace.frames[:MAX_FRAMES] if exc.stacktrace else []
    message = f"{exc.type}: {exc.value}" if exc.type and exc.value else exc.type or exc.value
    lines = [frame_line(f.function, f.filename, f.lineno, f.colno) for f in frames]
    event: dict[str, Any] = {"t": "error", "message": message or "(no message)", "ts": ts,
                             "stack": "\n".join([message, *lines])}
    if frames:
        top = frames[0]  # Faro lists the innermost frame first, as the browser's stack does
        event["source"] = top.filename
        event["line"] = source_line(top.lineno)
        event["col"] = source_line(top.colno)
    return event


def _custom_event(name: str, attributes: dict[str, Scalar], ts: float | None) -> dict[str, Any]:
    """A Faro event: `login` and `conversion` by the documented convention, else custom."""
    kind = name.strip().lower()
    if kind == "login":
        success = _flag(attributes.get("success"))
        if success is not None:
            reason = attributes.get("reason")
            return {"t": "login", "success": success, "ts": ts,
                    "reason": str(reason) if reason is not None else ""}
    if kind == "conversion":
        value = as_number(attributes.get("value"))
        if value is not None and 0 <= value <= 1e9:
            event: dict[str, Any] = {"t": "conversion", "value": value, "ts": ts}
            currency = attributes.get("currency")
            if isinstance(currency, str) and len(currency) == 3 and currency.isalpha():
                event["currency"] = currency
            return event
    props = {k[:PROP_KEY_MAX]: v for k, v in list(attributes.items())[:20]
             if v is not None and (not isinstance(v, float) or as_number(v) is not None)}
    return {"t": "custom", "name": (name or "faro_event")[:64], "ts": ts, "props": props}


def _measurement_event(measurement: _Measurement, ts: float | None) -> dict[str, Any]:
    """A measurement other than web vitals: its values and context as one event."""
    return _custom_event(measurement.type or "measurement",
                         {**measurement.context, **measurement.values}, ts)


def _flag(value: Scalar) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    return True if text in _TRUE else False if text in _FALSE else None


class FaroIntake(ReceiverIntake):
    """The ASGI app behind /collect."""

    allow_headers = (b"Content-Type, Content-Encoding, X-Faro-Session-Id, Idempotency-Key, "
                     b"Traceparent, X-Api-Key")

    def parse(self, body: bytes, scope: Scope, headers: dict[bytes, bytes]) -> Parsed | Dropped:
        if not body:
            return Dropped(DropReason.MALFORMED_JSON, "empty body")
        batch = decode_faro(body)
        if isinstance(batch, Dropped):
            return batch
        site = self.site_for_key(headers.get(b"x-api-key", b"").decode("latin-1"))
        if isinstance(site, Dropped):
            return site
        notes = Notes()
        doc = faro_document(batch, notes, site, time.time() * 1000.0)
        env = envelope(doc)
        if isinstance(env, Dropped):
            return env
        return Parsed(envelope=env, batch=_batch_key(headers, body), dropped=tuple(notes.dropped))


def _batch_key(headers: dict[bytes, bytes], body: bytes) -> str:
    """Faro's Idempotency-Key (reused on retry); without one, the body's digest, so an
    identical resend still makes the same rows."""
    key = headers.get(b"idempotency-key", b"").decode("latin-1").strip()
    return ident(key[:256]) if key else hashlib.md5(body).hexdigest()[:20]
