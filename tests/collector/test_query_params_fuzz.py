"""Query parameters on /v1/query/*: a bad value is a 400, never a 5xx (issue #17)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.rules import RulesError, load_rules
from collector.settings import Settings
from collector.sites import SiteRegistry, SiteRegistryError
from queries.catalog import CATALOG
from queries.spec import ParamError, parse_site
from tests.alerts.test_rules import GOOD
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


def test_anchored_checks_refuse_a_trailing_newline(tmp_path: Path) -> None:
    with pytest.raises(ParamError):
        parse_site("fz\n")
    assert parse_site("fz") == "fz"
    path = tmp_path / "sites.toml"
    path.write_text('[sites."shop\\n"]\norigins = ["https://a"]\n')
    with pytest.raises(SiteRegistryError):
        SiteRegistry.load(path)
    good = (tmp_path / "good.yaml")
    good.write_text(GOOD)
    assert load_rules(good).rules
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("name: logins", 'name: "logins\\n"'))
    with pytest.raises(RulesError, match="logins"):
        load_rules(bad)


def test_unknown_site_is_a_404_listing_the_sites_seen(rum_server) -> None:  # type: ignore[no-untyped-def]
    from tests.beacons import envelope

    assert rum_server.post(envelope(site="shop-eu")).status_code == 202
    rum_server.wait_rows(1, "site = 'shop-eu'")
    unknown = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions", params={"site": "no-such-site"})
    assert unknown.status_code == 404
    body = unknown.json()
    assert body["error"] == "unknown_site" and "shop-eu" in body["known_sites"]
    assert "unknown site 'no-such-site'" in body["detail"]
    known = httpx.get(f"{rum_server.base_url}/v1/query/slow-regions", params={"site": "shop-eu"})
    assert known.status_code == 200 and known.json()["rows"] == []
