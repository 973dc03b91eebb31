"""Query parameters on /v1/query/*: a bad value is a 400, never a 5xx (issue #17)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.settings import Settings
from queries.catalog import CATALOG
from tests.conftest import RunningServer, start_server, stop_server

PARAM_NAMES = sorted({name for spec in CATALOG.values() for name in spec.params} | {"x"})
# characters that break anchored regexes, numbers and durations: newlines, NUL, signs, units
VALUE = st.one_of(
    st.text(alphabet="fz0159mhds-_.+ %\n\r\t\x00\u0661é,:;", max_size=12),
    st.sampled_from(["fz\n", "15m\n", "24h\n", "7d\r\n", "\n", "1e9", "-1", "NaN", "00000000030"]),
)


@pytest.fixture
def server(server_settings: Callable[..., Settings]) -> Iterator[RunningServer]:
    running = start_server(server_settings(rate_limit_ip=0, rate_limit_site=0))
    try:
        yield running
    finally:
        stop_server(running)


def test_a_site_key_with_a_trailing_newline_is_refused(server: RunningServer) -> None:
    for name in ("slow-regions", "vitals-timeseries"):
        reply = httpx.get(f"{server.base_url}/v1/query/{name}", params={"site": "fz\n"})
        assert reply.status_code == 400, (name, reply.text)
        assert reply.json()["error"] == "invalid_parameter"


def test_no_query_parameter_makes_a_server_error(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:

        @settings(max_examples=1000, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(sorted(CATALOG)),
               st.dictionaries(st.sampled_from(PARAM_NAMES), VALUE, max_size=4))
        def check(name: str, params: dict[str, str]) -> None:
            reply = client.get(f"/v1/query/{name}", params=params)
            assert reply.status_code < 500, (name, params, reply.text)

        check()
