"""The dashboard's navigation questions: the sites seen, and the drill-down (slow pages of
a place, sample page views, one page view)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from pipeline.store import Store
from queries import load_sql
from queries.spec import (
    COMMON,
    Param,
    ParamError,
    Plan,
    QuerySpec,
    int_param,
    min_count,
    parse_flag,
    parse_place,
)
from queries.timeseries import parse_device
from rollups.coverage import coverage
from rollups.tables import PAGES, PAGES_PARAMS, series_set

_IDENT = re.compile(r"^[A-Za-z0-9_\-]{1,64}\Z")


def parse_page_group(text: str) -> str:
    """A page group as stored (/product/:id), '' = any."""
    if len(text) > 256 or any(ord(c) < 32 for c in text):
        raise ParamError("page_group: up to 256 characters, no control characters")
    return text


def parse_pageview(text: str) -> str:
    """A page view id."""
    if not _IDENT.fullmatch(text):
        raise ParamError("pageview: 1-64 characters of A-Z a-z 0-9 _ -")
    return text


def _rolled(store: Store, bound: dict[str, Any]) -> Plan:
    """slow-pages reads the pages rollup's rolled hours (the rows of its filters' set) and
    the raw rest (a window of 6 h or more starts at the top of its first hour; with no hour
    rolled, all of it is the raw rest), with the metrics' caps and scales and the grid
    rum.page_samples takes."""
    plan = coverage(store, bound.pop("since_ms"), bound["until_ms"], PAGES)
    chosen = series_set(bound["device"], bound["country"], bound["region"])
    return Plan({**plan, **PAGES_PARAMS, "set": chosen, "counts": int(bound["counts"])})


# page-views looks for its newest page views in the window's last hour first, then in its
# last six hours, before grouping the whole window
TAILS_MS = (3_600_000, 21_600_000)


def _newest(store: Store, bound: dict[str, Any]) -> Plan:
    """page-views' first step (queries/page_views_newest.sql): the page views to show and
    the earliest start among them, for page_views.sql to read their rows. It looks at the
    page views that began in the window's last hour, then (when fewer than `limit` did, and
    the window is longer than twice each tail) in its last six hours: when at least `limit`
    began there (with no row of theirs before it), they are the newest, found without
    grouping the whole window's page views; otherwise (a short window, a quiet place) the
    whole window is grouped."""
    limit, since_ms, until_ms = bound["limit"], bound["since_ms"], bound["until_ms"]
    newest: list[dict[str, Any]] = []
    for tail_ms in TAILS_MS:
        if len(newest) >= limit or until_ms - since_ms <= 2 * tail_ms:
            break
        # twice the page views asked for: a few may have begun before the tail
        newest = store.query(load_sql("page_views_newest"),
                             {**bound, "recent_ms": until_ms - tail_ms, "n": 2 * limit})
    if len(newest) < limit:
        newest = store.query(load_sql("page_views_newest"),
                             {**bound, "recent_ms": since_ms, "n": limit})
    newest = newest[:limit]
    return Plan({"ids": orjson.dumps([r["pageview_id"] for r in newest]).decode(),
                 "started_ms": min((int(r["started_ms"]) for r in newest), default=until_ms)})


def page_specs() -> dict[str, QuerySpec]:
    """slow-pages, page-views and page-view, by name."""
    place = {"country": Param(parse_place("country"), "", "country code ('' = any)"),
             "region": Param(parse_place("region"), "", "region code within the country ('' = any)")}
    device = Param(parse_device, "", "device class ('' = all)")
    return {
        "sites": QuerySpec(
            name="sites", sql_name="sites",
            summary="the sites that sent data in the window, busiest first",
            params=COMMON),
        "slow-pages": QuerySpec(
            name="slow-pages", sql_name="slow_pages", plan=_rolled,
            summary="p75 LCP/INP/CLS/TTFB per page group, with its LCP element; in a place or site-wide",
            params={**COMMON, **place, "device": device,
                    "min_samples": min_count("min_samples", "5", "minimum page views with LCP per group"),
                    "limit": Param(int_param("limit", 1, 1000), "20", "how many page groups"),
                    "counts": Param(parse_flag("counts"), "true",
                                    "count each group's distinct page views and sessions (most of "
                                    "the time over a long window); false: null, the rest faster; a "
                                    "`rum report` table without --wide does not show or ask them",
                                    table_default="false")}),
        "page-views": QuerySpec(
            name="page-views", sql_name="page_views", plan=_newest,
            summary="the newest page views of a place and page group, with their vitals and errors",
            params={**COMMON, **place, "device": device,
                    "page_group": Param(parse_page_group, "", "page group ('' = any)"),
                    "limit": Param(int_param("limit", 1, 500), "20", "how many page views")}),
        "page-view": QuerySpec(
            name="page-view", sql_name="page_view",
            summary="every event one page view sent: timings, vitals, errors, API calls",
            params={**COMMON, "pageview": Param(parse_pageview, "",
                                                "the page view id, from page-views (required)")}),
    }
