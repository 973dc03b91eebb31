"""Experience overview: how fast the site is for real users, where, and on what devices."""

from __future__ import annotations

from grafana import sql
from grafana.boards.variables import segment_variables
from grafana.common import (
    JSON,
    VITAL_UNITS,
    Panel,
    Row,
    barchart,
    clickhouse_target,
    country_map,
    dashboard,
    piechart,
    steps,
    table,
    timeseries,
    vital_thresholds,
)
from queries.analytics import THRESHOLDS

UID = "rum-experience"
_VITALS = {"lcp": "LCP", "inp": "INP", "cls": "CLS", "ttfb": "TTFB"}
_SHARE_BANDS = steps(("red", None), ("orange", 0.5), ("green", 0.75))


def lcp_map() -> Panel:
    """p75 LCP per country on a world map, green/orange/red by the 2500/4000 ms bands."""
    return country_map(
        "p75 LCP by country",
        "Marker colour: p75 Largest Contentful Paint (good <= 2500 ms, poor > 4000 ms); "
        "size: page views with an LCP.",
        sql.for_grafana("lcp_by_country"), value="lcp_p75", metric="lcp", size="samples")


def slow_regions() -> Panel:
    """The `rum report slow-regions` table, for the dashboard's window and filters: read
    from raw events (grafana/sql/slow_regions.sql), as the rollup behind the API's answer
    holds no device or page group to filter by."""
    ms = {c: "ms" for c in ("lcp_p75", "lcp_p95", "inp_p75", "inp_p95", "ttfb_p75", "ttfb_p95")}
    bands = {f"{m}_p75": vital_thresholds(m) for m in ("lcp", "inp", "ttfb")}
    return table(
        "Slow regions",
        "p75/p95 per country and region with at least 30 page views, slowest LCP first "
        "(grafana/sql/slow_regions.sql); flagged = a p75 past its 'good' threshold with 95% "
        "confidence (slow_metrics names which).",
        sql.for_grafana("slow_regions", {"min_samples:UInt32": "30"}), unit="short",
        columns={"level": "string", "country": "string", "region": "string",
                 "samples": "short", **ms, "inp_samples": "short", "ttfb_samples": "short",
                 "slow_metrics": "string", "flagged": "bool"},
        thresholds=bands, vital="lcp", width=12, height=12)


def vital_over_time(metric: str) -> Panel:
    """p75 and p95 of one vital over time, with its good/poor threshold lines."""
    name = _VITALS[metric]
    good, poor, _cap = THRESHOLDS[metric]
    return timeseries(
        f"{name} p75 / p95",
        f"{name} over time; dashed lines at the Core Web Vitals bands ({good} good, {poor} poor).",
        [clickhouse_target(sql.for_grafana("vital_over_time", {"metric:String": f"'{metric}'"}),
                           fmt="timeseries")],
        unit=VITAL_UNITS[metric], thresholds=vital_thresholds(metric),
        expects=("time", "p75", "p95"), vital=metric, width=6)


def rating_share(metric: str) -> Panel:
    """Share of page views rated good / needs improvement / poor, per device class."""
    name = _VITALS[metric]
    consts = {"metric:String": f"'{metric}'", "d1:String": "'device_class'", "d2:String": "''"}
    good, poor, cap = THRESHOLDS[metric]
    consts.update({"good:Float64": str(good), "poor:Float64": str(poor), "cap:Float64": str(cap)})
    return barchart(
        f"{name}: good / needs improvement / poor by device",
        f"Share of page views in each Core Web Vitals band of {name} "
        "(queries/segment_vitals.sql, weighted by sample rate).",
        sql.for_grafana("segment_vitals", consts), x="g1", unit="percentunit",
        expects=("g1", "good", "needs_improvement", "poor"), stack=True,
        hide=("g2", "samples", "outliers", "q", "p50", "p75", "p95", "above_good", "grid",
              "total_samples", "total_above_good"),
        thresholds=_SHARE_BANDS, vital=metric, width=8, rename={"g1": "device"})


def traffic(dimension: str, title: str, width: int = 12) -> Panel:
    """Page views and sessions per segment of one dimension."""
    return barchart(
        title, f"Page views and sessions by {dimension.replace('_', ' ')} (top 20).",
        sql.for_grafana("traffic_by_segment",
                        {"d1:String": f"'{dimension}'", "limit:UInt32": "20"}),
        x="segment", unit="short", expects=("segment", "pageviews", "sessions"),
        horizontal=True, width=width)


def device_share() -> Panel:
    """Page views per device class as a donut."""
    return piechart(
        "Page views by device", "Share of page views per device class.",
        sql.for_grafana("traffic_by_segment", {"d1:String": "'device_class'", "limit:UInt32": "10"}),
        label="segment", value="pageviews")


def rows() -> list[Row]:
    """The rows of panels, top to bottom."""
    return [
        Row("Where is it slow?", [lcp_map(), slow_regions()]),
        Row("Core Web Vitals over time", [vital_over_time(m) for m in _VITALS]),
        Row("Good / needs improvement / poor", [rating_share(m) for m in ("lcp", "inp", "cls")]),
        Row("Traffic", [traffic("country", "Traffic by country"), device_share(),
                        traffic("page_group", "Traffic by page group", width=6)]),
    ]


def build() -> JSON:
    """The Experience overview dashboard."""
    return dashboard(UID, "Experience overview",
                     "Real-user Core Web Vitals by country, device and page group.",
                     rows(), segment_variables())
