"""Named queries with typed parameters: shared by the HTTP API and `rum report`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.store import Store
from queries import load_sql

_WINDOW = re.compile(r"^(\d{1,6})([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW_SECONDS = 400 * 86400
_SITE = re.compile(r"^[A-Za-z0-9_.\-]{0,64}$")


class ParamError(ValueError):
    """A query parameter is unknown or has a bad value; the message says which."""


def parse_window(text: str) -> int:
    """'15m', '24h', '7d' -> seconds."""
    match = _WINDOW.match(text.strip())
    if not match:
        raise ParamError(f"window: {text!r} is not a duration like 15m, 24h or 7d")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 60 <= seconds <= MAX_WINDOW_SECONDS:
        raise ParamError("window: must be between 1m and 400d")
    return seconds


def _site(text: str) -> str:
    if not _SITE.match(text):
        raise ParamError("site: must be 0-64 characters of A-Z a-z 0-9 _ . -")
    return text


def _int_param(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ParamError(f"{name}: {text!r} is not an integer") from None
        if not low <= value <= high:
            raise ParamError(f"{name}: must be between {low} and {high}")
        return value

    return parse


@dataclass(frozen=True)
class Param:
    """One user-facing parameter: its parser, default and help."""

    parse: Callable[[str], Any]
    default: str
    help: str


@dataclass(frozen=True)
class QuerySpec:
    """A question: its .sql file and the parameters users may pass."""

    name: str
    sql_name: str
    summary: str
    params: Mapping[str, Param]

    def parse(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Validate user parameters (strings) into typed values, defaults filled in."""
        unknown = sorted(set(raw) - set(self.params))
        if unknown:
            raise ParamError(
                f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(self.params)}"
            )
        return {key: p.parse(raw.get(key, p.default)) for key, p in self.params.items()}

    def run(self, store: Store, values: Mapping[str, Any], now: float | None = None) -> list[dict[str, Any]]:
        """Bind the typed values (window -> since/until from `now`) and run the SQL."""
        bound = dict(values)
        if "window" in bound:
            until_ms = int((time.time() if now is None else now) * 1000)
            bound["until_ms"] = until_ms
            bound["since_ms"] = until_ms - bound.pop("window") * 1000
        return store.query(load_sql(self.sql_name), bound)


_COMMON = {
    "window": Param(parse_window, "24h", "time window ending now: 15m, 24h, 7d ..."),
    "site": Param(_site, "", "site key ('' = all sites)"),
}

CATALOG: dict[str, QuerySpec] = {
    "slow-regions": QuerySpec(
        name="slow-regions",
        sql_name="slow_regions",
        summary="p75/p95 LCP, INP, TTFB per country and region; flags the slow ones",
        params={
            **_COMMON,
            "min_samples": Param(_int_param("min_samples", 1, 10_000_000), "30",
                                 "minimum page views with LCP per segment"),
        },
    ),
}


def get_query(name: str) -> QuerySpec:
    """The spec for a query name, or ParamError listing the known ones."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ParamError(f"unknown query {name!r}; known: {', '.join(CATALOG)}") from None
