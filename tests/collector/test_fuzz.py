"""Property-based fuzzing of the intake: 12,000 generated bodies per run, zero 5xx; every
reply is a 202 (whose rows are then stored) or a 4xx naming a documented drop reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.drops import DropReason
from collector.settings import Settings
from tests.beacons import envelope
from tests.conftest import RunningServer, start_server, stop_server

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10),
                                                                      children, max_size=5),
    max_leaves=8,
)
FIELDS = ["v", "site", "sid", "pid", "seq", "sent_at", "url", "ref", "sample_rate", "user",
          "nav", "vitals", "attribution", "net", "perf", "events"]
mutations = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4)
event = st.fixed_dictionaries({"t": st.sampled_from(["error", "api", "login", "conversion",
                                                     "custom", "x"])},
                              optional={k: json_values for k in
                                        ["ts", "message", "url", "status", "success", "value",
                                         "currency", "name", "props", "line", "duration"]})

# any field of an object inside the envelope, set to any JSON value: an object or an
# array where a string belongs ("nav": {"type": {}}) answered 500 before msgspec decoding
SECTIONS = {"nav": ["type", "dns", "load", "transfer_size"], "vitals": ["lcp", "cls", "ttfb"],
            "net": ["type", "rtt", "save_data"], "perf": ["tbt", "long_tasks"],
            "attribution": ["lcp_element", "lcp_resource"]}
nested = st.sampled_from(sorted(SECTIONS)).flatmap(
    lambda section: st.tuples(st.just(section), st.sampled_from(SECTIONS[section]), json_values))
_REASONS = {r.value for r in DropReason}


def fuzz(examples: int) -> Any:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_server(server_settings: Callable[..., Settings]) -> Iterator[RunningServer]:
    """A collector without rate limits, so every generated body reaches the parser."""
    running = start_server(server_settings(rate_limit_ip=0, rate_limit_site=0))
    yield running
    stop_server(running)


def _post(client: httpx.Client, body: bytes) -> int:
    """Post a body; the rows it was accepted with (0 when refused, with a documented reason)."""
    reply = client.post("/v1/beacon", content=body, headers={"content-type": "text/plain"})
    assert reply.status_code < 500, reply.text
    if reply.status_code == 202:
        return int(reply.json()["accepted"])
    assert reply.json()["error"] in _REASONS, reply.text
    return 0


@pytest.mark.parametrize("changes", [
    {"nav": {"type": {}}}, {"net": {"type": []}}, {"events": [{"t": {}}]},
    {"events": [{"t": []}]}, {"vitals": {"lcp": {}}}, {"site": ["a"]}, {"sid": {"x": 1}},
    {"events": [{"t": "conversion", "value": 1, "currency": {}}]},
    {"events": [{"t": "custom", "name": {}}]}, {"attribution": {"lcp_element": []}},
])
def test_unhashable_values_where_strings_belong_are_refused_not_500(
        fuzz_server: RunningServer, changes: dict[str, Any]) -> None:
    reply = fuzz_server.post(envelope(**changes))
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_envelope", reply.text


def test_fuzz_nested_fields_every_reply_is_stored_or_refused(fuzz_server: RunningServer) -> None:
    accepted = [0]
    with httpx.Client(base_url=fuzz_server.base_url) as client:

        @fuzz(2000)
        @given(st.lists(nested, min_size=1, max_size=4), st.lists(event, max_size=3))
        def check(changes: list[tuple[str, str, Any]], events: list[dict[str, Any]]) -> None:
            body = envelope(events=events)
            for section, key, value in changes:
                body.setdefault(section, {})[key] = value
            accepted[0] += _post(client, orjson.dumps(body))

        check()
    assert accepted[0] > 0  # the generator reaches bodies that are stored
    fuzz_server.wait_rows(accepted[0], timeout=30)  # and each accepted row is in the store
    assert fuzz_server.count() == accepted[0]


def test_fuzz_mutated_envelopes(fuzz_server: RunningServer) -> None:
    with httpx.Client(base_url=fuzz_server.base_url) as client:

        @fuzz(3000)
        @given(mutations, st.lists(event, max_size=3))
        def check(changes: dict[str, Any], events: list[dict[str, Any]]) -> None:
            body = envelope(events=events)
            body.update(changes)
            _post(client, orjson.dumps(body))

        check()


def test_fuzz_arbitrary_bytes_and_json(fuzz_server: RunningServer) -> None:
    with httpx.Client(base_url=fuzz_server.base_url) as client:

        @fuzz(7000)
        @given(st.one_of(st.binary(max_size=300), json_values.map(orjson.dumps)))
        def check(body: bytes) -> None:
            _post(client, body)

        check()
