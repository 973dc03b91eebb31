"""Fuzzing the Faro and Boomerang receivers from the recorded requests: any field set to
any value, any parameter to any text (JSURL-like or not). Zero 5xx; every refusal is a
4xx JSON error naming a documented drop reason."""

from __future__ import annotations

import copy
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.drops import DropReason
from collector.settings import Settings
from tests.collector.test_fuzz import fuzz, json_values
from tests.collector.test_receivers import samples
from tests.conftest import RunningServer, start_server, stop_server

_REASONS = {r.value for r in DropReason}
FARO = [json.loads(s["body"]) for s in samples("faro") if s["body"]]
BOOMERANG = [dict(urllib.parse.parse_qsl(s["body"] or s["query"], keep_blank_values=True))
             for s in samples("boomerang")]
# where a Faro batch keeps what the receiver reads
FARO_PATHS = [("meta",), ("meta", "app"), ("meta", "app", "name"), ("meta", "session"),
              ("meta", "session", "id"), ("meta", "page", "url"), ("meta", "user"), ("events",),
              ("measurements",), ("exceptions",), ("logs",), ("traces",)]
ITEM_KEYS = {"events": ["name", "attributes", "timestamp"],
             "measurements": ["type", "values", "context", "timestamp"],
             "exceptions": ["type", "value", "timestamp", "stacktrace"]}
BOOMERANG_KEYS = sorted({k for beacon in BOOMERANG for k in beacon} | {"http.initiator", "http.errno"})
jsurlish = st.text(alphabet="~()'*!abcdefxyz0123456789-._", max_size=60)


@pytest.fixture
def fuzz_server(server_settings: Callable[..., Settings]) -> Iterator[RunningServer]:
    """A collector without rate limits, so every generated request reaches the parser."""
    running = start_server(server_settings(rate_limit_ip=0, rate_limit_site=0))
    yield running
    stop_server(running)


def _check(reply: httpx.Response) -> None:
    assert reply.status_code < 500, reply.text
    if reply.status_code >= 400:
        assert reply.json()["error"] in _REASONS, reply.text


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target: Any = doc
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value


faro_change = st.one_of(
    st.tuples(st.sampled_from(FARO_PATHS), json_values),
    st.sampled_from(sorted(ITEM_KEYS)).flatmap(lambda section: st.tuples(
        st.just((section, "*")), st.tuples(st.sampled_from(ITEM_KEYS[section]), json_values))))


@given(base=st.sampled_from(range(len(FARO))), changes=st.lists(faro_change, min_size=1, max_size=3))
@fuzz(600)
def test_faro_mutations_never_5xx(fuzz_server: RunningServer, base: int, changes: list[Any]) -> None:
    doc = copy.deepcopy(FARO[base])
    for path, value in changes:
        if path[-1] == "*":  # one field of every item of a list
            items = doc.get(path[0]) if isinstance(doc.get(path[0]), list) else [{}]
            doc[path[0]] = [dict(item, **{value[0]: value[1]}) if isinstance(item, dict) else item
                            for item in items]
        else:
            _set(doc, path, value)
    _check(httpx.post(f"{fuzz_server.base_url}/collect", content=json.dumps(doc).encode(),
                      headers={"content-type": "application/json"}, timeout=10))


@given(base=st.sampled_from(range(len(BOOMERANG))),
       changes=st.dictionaries(st.sampled_from(BOOMERANG_KEYS), st.text(max_size=40) | jsurlish,
                               min_size=1, max_size=4),
       as_get=st.booleans())
@fuzz(600)
def test_boomerang_mutations_never_5xx(fuzz_server: RunningServer, base: int, changes: dict[str, str],
                                       as_get: bool) -> None:
    beacon = {**BOOMERANG[base], **changes}
    query = urllib.parse.urlencode(beacon)
    url = f"{fuzz_server.base_url}/v1/boomerang"
    if as_get:
        reply = httpx.get(f"{url}?{query}", timeout=10)
    else:
        reply = httpx.post(f"{url}?site=shop", content=query, timeout=10,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    _check(reply)
