"""Named queries with typed parameters: shared by the HTTP API and `rum report`."""

from __future__ import annotations

from pipeline.rollup import coverage
from queries.analytics import analytics_specs
from queries.experience import experience_specs
from queries.revenue import revenue_specs
from queries.spec import COMMON, ParamError, QuerySpec, min_count, parse_window
from queries.timeseries import timeseries_specs
from queries.why import attach_regions_why

__all__ = ["CATALOG", "ParamError", "QuerySpec", "get_query", "parse_window"]

CATALOG: dict[str, QuerySpec] = {
    "slow-regions": QuerySpec(
        name="slow-regions",
        sql_name="slow_regions",
        summary="p75/p95 LCP, INP, TTFB per country and region; flags the slow ones",
        params={
            **COMMON,
            "min_samples": min_count("min_samples", "30", "minimum page views with LCP per segment"),
        },
        plan=lambda store, bound: coverage(store, bound.pop("since_ms"), bound["until_ms"]),
        attach=attach_regions_why,
    ),
    **analytics_specs(),
    **experience_specs(),
    **revenue_specs(),
    **timeseries_specs(),
}


def get_query(name: str) -> QuerySpec:
    """The spec for a query name, or ParamError listing the known ones."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ParamError(f"unknown query {name!r}; known: {', '.join(CATALOG)}") from None
