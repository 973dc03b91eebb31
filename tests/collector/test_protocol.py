"""Protocol validation rules (pure): what is accepted, truncated, rejected, from the body's bytes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from collector.protocol import (
    MIN_SAMPLE_RATE,
    ConversionEvent,
    ErrorEvent,
    InvalidEnvelope,
    MalformedBody,
    decode_envelope,
    validate_envelope,
)
from tests.beacons import all_event_kinds, envelope


def _decode(**fields: Any) -> Any:
    return decode_envelope(orjson.dumps(envelope(**fields)))


def test_valid_envelope_round_trips_every_section() -> None:
    clean = _decode(events=all_event_kinds(), sample_rate=0.25,
                    attribution={"lcp_element": "img.hero"})
    assert clean.site == "shop-eu" and clean.sample_rate == 0.25
    assert clean.vitals is not None and clean.vitals.cls == 0.05
    assert clean.nav is not None and clean.nav.type == "navigate"
    assert [type(e).__name__ for e in clean.events or []] == [
        "ErrorEvent", "ApiEvent", "LoginEvent", "ConversionEvent", "CustomEvent"]
    conversion = (clean.events or [])[3]
    assert isinstance(conversion, ConversionEvent) and conversion.currency == "EUR"


def test_lcp_and_inp_parts_are_accepted_and_the_blamed_script_truncated() -> None:
    parts = {"lcp": 2500, "lcp_ttfb": 800, "lcp_load_delay": 300, "lcp_load_time": 900,
             "lcp_render_delay": 500, "inp": 320, "inp_input_delay": 10,
             "inp_processing": 300, "inp_presentation": 10}
    clean = _decode(vitals=parts, attribution={"inp_script": "https://x.example/" + "a" * 300})
    assert clean.vitals is not None
    assert {k: getattr(clean.vitals, k) for k in parts} == parts
    assert clean.attribution is not None and len(clean.attribution.inp_script) == 256


def test_decoded_bytes_and_converted_documents_agree() -> None:
    doc = envelope(events=all_event_kinds(), user="u1")
    assert validate_envelope(doc) == decode_envelope(orjson.dumps(doc))


def test_long_strings_are_truncated_not_rejected() -> None:
    clean = _decode(url="https://x/" + "a" * 5000, events=[
        {"t": "error", "message": "m" * 2000, "stack": "s" * 9000}])
    assert len(clean.url) == 2048
    error = (clean.events or [])[0]
    assert isinstance(error, ErrorEvent)
    assert len(error.message) == 1024 and len(error.stack or "") == 4096


def test_unknown_fields_are_ignored() -> None:
    clean = _decode(future_field={"x": [1, {"y": 2}]}, nav={"type": "reload", "new_timing": 5})
    assert clean.nav is not None and clean.nav.type == "reload"


def test_nulls_count_as_absent() -> None:
    clean = _decode(vitals={"lcp": None, "ttfb": 10}, ref=None, user=None, seq=None)
    assert clean.vitals is not None and (clean.vitals.lcp, clean.vitals.ttfb) == (None, 10.0)
    assert clean.ref == "" and clean.user == "" and clean.seq == 0


def test_a_tiny_claimed_sample_rate_is_raised_to_the_floor() -> None:
    assert _decode(sample_rate=1e-45).sample_rate == MIN_SAMPLE_RATE
    assert _decode(sample_rate=0.5).sample_rate == 0.5
    assert _decode().sample_rate == 1.0


@pytest.mark.parametrize(("fields", "message"), [
    ({"v": True}, "v: unsupported"),
    ({"v": 2}, "v: unsupported"),
    ({"sid": ""}, "sid: must match"),
    ({"site": "fz\n"}, "site: must match"),
    ({"seq": 1.5}, "seq: must be an integer"),
    ({"sent_at": "now"}, "sent_at: must be a number"),
    ({"sample_rate": 1.5}, "sample_rate: must be <= 1"),
    ({"sample_rate": 0}, "sample_rate: must be > 0"),
    ({"nav": {"type": "teleport"}}, "nav.type: must be one of"),
    ({"nav": {"type": {}}}, "nav.type: must be a string"),
    ({"nav": []}, "nav: must be an object"),
    ({"net": {"type": []}}, "net.type: must be a string"),
    ({"net": {"save_data": "yes"}}, "net.save_data: must be a boolean"),
    ({"events": {}}, "events: must be an array"),
    ({"events": [{"t": {}}]}, "events[0].t: must be a string"),
    ({"events": [{"t": "teleport"}]}, "events[0].t: must be one of"),
    ({"events": [{"t": "error"}]}, "events[0].message: is required"),
    ({"events": [{"t": "conversion", "value": -1}]}, "events[0].value: must be >= 0"),
    ({"events": [{"t": "conversion", "value": 1, "currency": "EURO"}]}, "events[0].currency"),
    ({"events": [{"t": "custom", "name": ""}]}, "events[0].name"),
    ({"events": [{"t": "custom", "name": "x", "props": {str(i): i for i in range(21)}}]},
     "events[0].props: must be of length <= 20"),
    ({"events": [{"t": "custom", "name": "x", "props": {"a": {"b": 1}}}]},
     "events[0].props[...]: must be a string, a finite number or a boolean"),
    ({"events": [{"t": "api", "status": 1000}]}, "events[0].status: must be <= 999"),
    ({"events": [{"t": "login", "success": True}] * 101}, "events: must be of length <= 100"),
    ({"vitals": {"lcp": "fast"}}, "vitals.lcp: must be a number"),
    ({"vitals": {"cls": 101}}, "vitals.cls: must be <= 100"),
    ({"nav": {"dns": True}}, "nav.dns: must be a number"),
    ({"vitals": {"lcp_render_delay": -1}}, "vitals.lcp_render_delay: must be >= 0"),
    ({"vitals": {"inp_processing": 120_001}}, "vitals.inp_processing: must be <= 120000"),
    ({"attribution": {"inp_script": []}}, "attribution.inp_script: must be a string"),
    ({"attribution": {"inp_target": 7}}, "attribution.inp_target: must be a string"),
    ({"events": [{"t": "login", "success": True}, {"t": "error", "message": "x", "line": 1.5}]},
     "events[1].line: must be an integer"),
    ({"events": [{"t": "api", "ts": "now"}]}, "events[0].ts: must be a number"),
])
def test_rejections_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEnvelope) as info:
        _decode(**fields)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe{}",
                                  b'{"v":1,"x":' + b"[" * 3000 + b"]" * 3000 + b"}"])
def test_bodies_that_are_not_json_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        decode_envelope(body)


@pytest.mark.parametrize("body", [b"[]", b"null", b"1", b'"x"'])
def test_json_that_is_not_an_object_is_an_invalid_envelope(body: bytes) -> None:
    with pytest.raises(InvalidEnvelope, match="envelope: must be an object"):
        decode_envelope(body)
