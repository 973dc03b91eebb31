"""Property-based fuzzing of the intake: 10,000 generated bodies per run, zero 5xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    reply = client.post("/v1/beacon", content=body, headers={"content-type": "text/plain"})
    assert reply.status_code < 500, reply.text
    assert "error" in reply.json() or reply.status_code == 202
    return reply.status_code


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
