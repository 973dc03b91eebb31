"""Named queries with typed parameters: shared by the HTTP API and `rum report`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.store import Store
from queries.analytics import analytics_specs
from queries.experience import experience_specs
from queries.pages import page_specs
from queries.revenue import revenue_specs
from queries.spec import COMMON, WHY, ParamError, Plan, QuerySpec, min_count, parse_window
from queries.timeseries import timeseries_specs
from queries.why import attach_regions_why
from rollups.coverage import coverage

__all__ = ["CATALOG", "ParamError", "QuerySpec", "get_query", "parse_window", "unknown_site"]

CATALOG: dict[str, QuerySpec] = {
    "slow-regions": QuerySpec(
        name="slow-regions",
        sql_name="slow_regions",
        summary="p75/p95 LCP, INP, TTFB per country and region; flags the slow ones",
        params={
            **COMMON,
            "min_samples": min_count("min_samples", "30", "minimum page views with LCP per segment"),
            "why": WHY,
        },
        plan=lambda store, bound: Plan(coverage(store, bound.pop("since_ms"), bound["until_ms"])),
        attach=attach_regions_why,
    ),
    **analytics_specs(),
    **experience_specs(),
    **page_specs(),
    **revenue_specs(),
    **timeseries_specs(),
}


def get_query(name: str) -> QuerySpec:
    """The spec for a query name, or ParamError listing the known ones."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ParamError(f"unknown query {name!r}; known: {', '.join(CATALOG)}") from None


def unknown_site(store: Store, values: Mapping[str, Any]) -> list[str] | None:
    """If `values` name a site with no stored event at all: the sites that have some
    (sorted, at most 50), so an answer can say "unknown site" instead of "no data".
    None when no site is named or the site is known. Asked only for empty answers."""
    site = values.get("site")
    if not site:
        return None
    if store.query("SELECT 1 AS hit FROM rum.events WHERE site = {site:String} LIMIT 1", {"site": site}):
        return None
    rows = store.query("SELECT DISTINCT site FROM rum.events WHERE site != '' ORDER BY site LIMIT 50")
    return [str(row["site"]) for row in rows]


def unknown_site_text(site: str, known: list[str]) -> str:
    """The one line both the API and the CLI give for a site nothing was stored for."""
    seen = ", ".join(known) if known else "none yet"
    return f"unknown site {site!r}: no event stored for it; sites seen: {seen}"
