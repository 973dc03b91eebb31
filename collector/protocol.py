"""Beacon protocol v1 (docs/beacon-protocol.md) as msgspec Structs: decoded and validated in
one native step, straight from the body's bytes.

Types, ranges, patterns and the event kinds (a tagged union on `t`) are msgspec
constraints; what msgspec cannot express (strings truncated rather than refused, a
currency upper-cased, finite prop numbers, the sample-rate floor) is done by
`_finish` after decoding. A refusal is an InvalidEnvelope whose text names the field
(`vitals.lcp: must be <= 120000`).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import Meta, Struct

PROTOCOL_VERSION = 1
MAX_EVENTS = 100
MAX_TIMING_MS = 120_000.0
URL_MAX = 2048
MAX_PROPS = 20
PROP_KEY_MAX = 64
PROP_VALUE_MAX = 256
ATTRIBUTION_MAX = 256
# the smallest sample rate a client may claim: a row weighs at most 1 / MIN_SAMPLE_RATE = 100
# page views, so one beacon claiming 1e-45 cannot outweigh a site's real traffic (lower
# claims are raised). The store holds the same bound (MAX_SAMPLE_WEIGHT in migration 0110)
MIN_SAMPLE_RATE = 0.01
MAX_SAMPLE_WEIGHT = 1 / MIN_SAMPLE_RATE

# \Z, not $: `$` also matches before a trailing newline
Site = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}\Z")]
IDENT_PATTERN = r"^[A-Za-z0-9_\-]{1,64}\Z"  # session and page view ids (the receivers' too)
Ident = Annotated[str, Meta(pattern=IDENT_PATTERN)]
Currency = Annotated[str, Meta(pattern=r"^[A-Za-z]{3}\Z")]
Timing = Annotated[float, Meta(ge=0.0, le=MAX_TIMING_MS)]
Epoch = Annotated[float, Meta(ge=0.0, le=1e14)]
Count = Annotated[float, Meta(ge=0.0, le=100_000.0)]
MAX_LINE = 10_000_000
Line = Annotated[int, Meta(ge=0, le=MAX_LINE)]
NavType = Literal["navigate", "reload", "back_forward", "prerender", "restore", "soft"]
NetType = Literal["slow-2g", "2g", "3g", "4g"]
PropValue = str | bool | int | float


class Nav(Struct, forbid_unknown_fields=False):
    """Navigation Timing of the page view (ms from navigation start, sizes in bytes)."""

    type: NavType | None = None
    dns: Timing | None = None
    connect: Timing | None = None
    tls: Timing | None = None
    request: Timing | None = None
    response: Timing | None = None
    dom_interactive: Timing | None = None
    dom_complete: Timing | None = None
    load: Timing | None = None
    transfer_size: Annotated[float, Meta(ge=0.0, le=1e9)] | None = None


class Vitals(Struct):
    """Core Web Vitals, each sent once when final (ms; CLS unitless)."""

    lcp: Timing | None = None
    inp: Timing | None = None
    cls: Annotated[float, Meta(ge=0.0, le=100.0)] | None = None
    fcp: Timing | None = None
    ttfb: Timing | None = None
    # the parts of LCP and INP (attribution build): lcp = lcp_ttfb + lcp_load_delay +
    # lcp_load_time + lcp_render_delay; inp = inp_input_delay + inp_processing + inp_presentation
    lcp_ttfb: Timing | None = None
    lcp_load_delay: Timing | None = None
    lcp_load_time: Timing | None = None
    lcp_render_delay: Timing | None = None
    inp_input_delay: Timing | None = None
    inp_processing: Timing | None = None
    inp_presentation: Timing | None = None


class Attribution(Struct):
    """What caused the vitals (attribution build); each string truncated at 256."""

    lcp_element: str | None = None
    lcp_resource: str | None = None
    inp_target: str | None = None
    cls_source: str | None = None
    # the script URL the longest long animation frame of the INP interaction blames
    inp_script: str | None = None


ATTRIBUTION_KEYS = ("lcp_element", "lcp_resource", "inp_target", "cls_source", "inp_script")
PART_KEYS = ("lcp_ttfb", "lcp_load_delay", "lcp_load_time", "lcp_render_delay",
             "inp_input_delay", "inp_processing", "inp_presentation")


class Net(Struct):
    """Network Information API."""

    type: NetType | None = None
    rtt: Timing | None = None
    downlink: Annotated[float, Meta(ge=0.0, le=10_000.0)] | None = None
    save_data: bool | None = None


class Perf(Struct):
    """Frustration and main-thread signals."""

    long_tasks: Count | None = None
    tbt: Annotated[float, Meta(ge=0.0, le=3_600_000.0)] | None = None
    rage_clicks: Count | None = None


class ErrorEvent(Struct, tag_field="t", tag="error"):
    """A JS error."""

    message: str
    ts: Epoch | None = None
    source: str | None = None
    line: Line | None = None
    col: Line | None = None
    stack: str | None = None


class ApiEvent(Struct, tag_field="t", tag="api"):
    """A failed (or slow) API call."""

    ts: Epoch | None = None
    method: str | None = None
    url: str | None = None
    status: Annotated[int, Meta(ge=0, le=999)] | None = None
    duration: Timing | None = None


class LoginEvent(Struct, tag_field="t", tag="login"):
    """A login attempt and its outcome."""

    success: bool
    ts: Epoch | None = None
    reason: str | None = None


class ConversionEvent(Struct, tag_field="t", tag="conversion"):
    """A conversion (order, sign-up) and its value."""

    value: Annotated[float, Meta(ge=0.0, le=1e9)]
    ts: Epoch | None = None
    currency: Currency | None = None


class CustomEvent(Struct, tag_field="t", tag="custom"):
    """A named event with flat properties."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    ts: Epoch | None = None
    props: Annotated[dict[str, PropValue], Meta(max_length=MAX_PROPS)] | None = None


Event = ErrorEvent | ApiEvent | LoginEvent | ConversionEvent | CustomEvent
EVENT_KINDS = ("api", "conversion", "custom", "error", "login")


class Envelope(Struct):
    """One page-view flush from the browser agent."""

    v: Literal[1]
    site: Site
    sid: Ident
    pid: Ident
    sent_at: Epoch
    url: str
    seq: Annotated[int, Meta(ge=0, le=1000)] | None = 0
    ref: str | None = None
    sample_rate: Annotated[float, Meta(gt=0.0, le=1.0)] | None = None
    user: str | None = None
    nav: Nav | None = None
    vitals: Vitals | None = None
    attribution: Attribution | None = None
    net: Net | None = None
    perf: Perf | None = None
    events: Annotated[list[Event], Meta(max_length=MAX_EVENTS)] | None = None


class InvalidEnvelope(ValueError):
    """The envelope breaks the protocol; `str()` names the field."""


class MalformedBody(ValueError):
    """The body is not JSON (or not UTF-8, or holds a number JSON cannot make finite)."""


_decoder = msgspec.json.Decoder(Envelope)


def decode_envelope(body: bytes) -> Envelope:
    """Decode and validate a body; MalformedBody or InvalidEnvelope when it is not one."""
    try:
        envelope = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidEnvelope(_readable(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise MalformedBody(str(exc)[:200]) from None
    except RecursionError:  # nesting past msgspec's depth, in a field it would skip
        raise MalformedBody("JSON is nested too deeply") from None
    return _finish(envelope)


def validate_envelope(doc: Any) -> Envelope:
    """The Envelope of an already decoded document (the agents' receivers, tests)."""
    try:
        envelope = msgspec.convert(doc, Envelope)
    except msgspec.ValidationError as exc:
        raise InvalidEnvelope(_readable(str(exc))) from None
    return _finish(envelope)


def _finish(env: Envelope) -> Envelope:
    """The rules msgspec does not express: truncation, defaults, upper case, the rate floor."""
    env.url = env.url[:URL_MAX]
    env.ref = (env.ref or "")[:URL_MAX]
    env.user = (env.user or "")[:128]
    env.seq = env.seq or 0
    rate = env.sample_rate
    env.sample_rate = 1.0 if rate is None else max(rate, MIN_SAMPLE_RATE)
    attribution = env.attribution
    if attribution is not None:
        for key in ATTRIBUTION_KEYS:
            value = getattr(attribution, key)
            if value is not None and len(value) > ATTRIBUTION_MAX:
                setattr(attribution, key, value[:ATTRIBUTION_MAX])
    if env.events:
        for index, event in enumerate(env.events):
            _finish_event(event, index)
    else:
        env.events = []
    return env


def _finish_event(event: Event, index: int) -> None:
    if type(event) is ErrorEvent:
        event.message = event.message[:1024]
        event.source = (event.source or "")[:URL_MAX]
        event.stack = (event.stack or "")[:4096]
    elif type(event) is ApiEvent:
        event.method = (event.method or "GET")[:16].upper()
        event.url = (event.url or "")[:URL_MAX]
    elif type(event) is LoginEvent:
        event.reason = (event.reason or "")[:128]
    elif type(event) is ConversionEvent:
        if event.currency is not None:
            event.currency = event.currency.upper()
    elif type(event) is CustomEvent and event.props:
        props: dict[str, PropValue] = {}
        for key, value in event.props.items():
            if type(value) is float and not math.isfinite(value):
                raise InvalidEnvelope(f"events[{index}].props.{key[:PROP_KEY_MAX]}: "
                                      "must be a string, a finite number or a boolean")
            props[key[:PROP_KEY_MAX]] = value[:PROP_VALUE_MAX] if type(value) is str else value
        event.props = props


# msgspec's words -> the protocol doc's: "Expected `int`, got `float` - at `$.seq`"
# becomes "seq: must be an integer"
_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)
_EXPECTED = re.compile(r"^Expected `([^`]*)`(?:, got `[^`]*`)?(.*)$", re.S)
_CHOICES = {"nav.type": get_args(NavType), "net.type": get_args(NetType)}
_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "bool": "a boolean",
               "object": "an object", "array": "an array", "int | float": "a number",
               "bool | int | float | str": "a string, a finite number or a boolean"}


def _readable(message: str) -> str:
    """A msgspec validation message in the protocol doc's words, naming the field first."""
    found = _AT.match(message)
    text, path = (found.group(1), found.group(2) or "") if found else (message, "")
    field = path.lstrip(".") or "envelope"
    missing = re.match(r"^Object missing required field `([^`]+)`$", text)
    if missing:
        return f"{field}.{missing.group(1)}: is required" if path else f"{missing.group(1)}: is required"
    if field.endswith(".t") and text.startswith("Invalid value"):
        return f"{field}: must be one of " + ", ".join(EVENT_KINDS)
    if field == "v":
        return f"v: unsupported protocol version (supported: {PROTOCOL_VERSION})"
    expected = _EXPECTED.match(text)
    if expected:
        kind = expected.group(1).replace(" | null", "")
        rest = expected.group(2).strip()
        if rest.startswith("matching regex"):
            return f"{field}: must match {rest.removeprefix('matching regex ')}"
        if rest:
            return f"{field}: must be {rest.replace('.0', '') if rest[0] in '<>' else rest}"
        return f"{field}: must be {_TYPE_WORDS.get(kind, kind)}"
    if text.startswith("Invalid enum value") and field in _CHOICES:
        return f"{field}: must be one of " + ", ".join(sorted(_CHOICES[field]))
    return f"{field}: {text}"
