"""Protocol validation rules (pure): what is accepted, truncated, rejected."""

from __future__ import annotations

import pytest

from collector.protocol import InvalidEnvelope, validate_envelope
from tests.beacons import all_event_kinds, envelope


def test_valid_envelope_round_trips_every_section() -> None:
    clean = validate_envelope(envelope(events=all_event_kinds(), sample_rate=0.25,
                                       attribution={"lcp_element": "img.hero"}))
    assert clean["site"] == "shop-eu" and clean["sample_rate"] == 0.25
    assert clean["vitals"]["cls"] == 0.05
    assert clean["nav"]["type"] == "navigate"
    assert [e["t"] for e in clean["events"]] == ["error", "api", "login", "conversion", "custom"]
    assert clean["events"][3]["currency"] == "EUR"


def test_long_strings_are_truncated_not_rejected() -> None:
    clean = validate_envelope(envelope(url="https://x/" + "a" * 5000, events=[
        {"t": "error", "message": "m" * 2000, "stack": "s" * 9000}]))
    assert len(clean["url"]) == 2048
    assert len(clean["events"][0]["message"]) == 1024
    assert len(clean["events"][0]["stack"]) == 4096


def test_unknown_fields_are_ignored() -> None:
    clean = validate_envelope(envelope(future_field={"x": 1}))
    assert "future_field" not in clean


def test_nulls_count_as_absent() -> None:
    clean = validate_envelope(envelope(vitals={"lcp": None, "ttfb": 10}, ref=None, user=None))
    assert clean["vitals"] == {"ttfb": 10.0}
    assert clean["ref"] == "" and clean["user"] == ""


@pytest.mark.parametrize(("fields", "message"), [
    ({"v": True}, "v: unsupported"),
    ({"sid": ""}, "sid: must match"),
    ({"seq": 1.5}, "seq: must be an integer"),
    ({"sent_at": "now"}, "sent_at: must be a number"),
    ({"sample_rate": 1.5}, "sample_rate: must be between"),
    ({"nav": {"type": "teleport"}}, "nav.type: must be one of"),
    ({"nav": []}, "nav: must be an object"),
    ({"net": {"save_data": "yes"}}, "net.save_data: must be a boolean"),
    ({"events": {}}, "events: must be an array"),
    ({"events": [{"t": "conversion", "value": -1}]}, "events[0].value: must be between"),
    ({"events": [{"t": "conversion", "value": 1, "currency": "EURO"}]}, "events[0].currency"),
    ({"events": [{"t": "custom", "name": ""}]}, "events[0].name"),
    ({"events": [{"t": "custom", "name": "x", "props": {str(i): i for i in range(21)}}]},
     "events[0].props: at most 20 keys"),
    ({"events": [{"t": "api", "status": 1000}]}, "events[0].status: must be between 0 and 999"),
    ({"vitals": {"lcp": "fast"}}, "vitals.lcp: must be a number"),
    ({"vitals": {"cls": 101}}, "vitals.cls: must be between 0 and 100"),
    ({"nav": {"dns": True}}, "nav.dns: must be a number"),
    ({"attribution": {"inp_target": 7}}, "attribution.inp_target: must be a string"),
    ({"events": [{"t": "login", "success": True}, {"t": "error", "message": "x", "line": 1.5}]},
     "events[1].line: must be an integer"),
    ({"events": [{"t": "api", "ts": "now"}]}, "events[0].ts: must be a number"),
])
def test_rejections_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEnvelope) as info:
        validate_envelope(envelope(**fields))
    assert str(info.value).startswith(message)
