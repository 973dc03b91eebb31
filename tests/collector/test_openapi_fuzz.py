"""schemathesis against our own OpenAPI schema: generated requests to every documented
endpoint (beacon intake included) of the running collector, zero 5xx."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.settings import Settings
from tests.conftest import start_server, stop_server


def test_no_server_errors_on_any_documented_endpoint(
        server_settings: Callable[..., Settings]) -> None:
    server = start_server(server_settings(rate_limit_ip=0, rate_limit_site=0))
    try:
        doc = httpx.get(f"{server.base_url}/v1/openapi.json").json()
        assert {"/v1/beacon", "/collect", "/v1/boomerang"} <= set(doc["paths"])
        schema = schemathesis.openapi.from_dict(doc)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 5
        strategy = st.one_of(*[op.as_strategy() for op in operations])
        seen: set[str] = set()

        @settings(max_examples=400, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call(base_url=server.base_url)
            seen.add(case.operation.path)
            assert response.status_code < 500, (case.operation.path, response.text)

        check()
        assert {"/v1/beacon", "/v1/query/{name}", "/collect", "/v1/boomerang"} <= seen
    finally:
        stop_server(server)
