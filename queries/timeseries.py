"""The vitals time series: p75 of each Web Vital and LCP's shares per time bucket.

The bucket is checked against the window when parameters are parsed, so a request that
would return thousands of points is refused (400) before any SQL runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeline.store import Store
from queries.analytics import THRESHOLDS
from queries.spec import COMMON, Param, ParamError, Plan, QuerySpec, parse_place
from rollups import grid, segments
from rollups.coverage import coverage
from rollups.tables import SERIES, SERIES_SLICE_S, series_set

# a week of 5-minute buckets
MAX_POINTS = 7 * 24 * 12
# the default: the shortest of AUTO_BUCKETS (seconds) that keeps the window within
# AUTO_POINTS points, the dashboard's rule (dashboard/src/series.ts, a test checks they
# agree): 15m -> 10s, 1h -> 30s, 6h -> 2m, 24h -> 10m, 7d -> 1h; from 24 h on a multiple
# of the series rollup's 10-minute slice, so the default question reads the rollup
DEFAULT_BUCKET = "auto"
AUTO_BUCKETS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
AUTO_POINTS = 200
MIN_BUCKET_SECONDS, MAX_BUCKET_SECONDS = 10, 86400
# the device classes collector/useragent.py assigns to people (bots are left out)
DEVICES = ("desktop", "mobile", "tablet")
_BUCKET = re.compile(r"^(\d{1,5})([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_bucket(text: str) -> int:
    """'30s', '5m', '1h' -> seconds, between 10s and 1d; 'auto' -> 0 (chosen from the
    window once it is known: `auto_bucket`)."""
    if text.strip() == "auto":
        return 0
    match = _BUCKET.fullmatch(text.strip())
    if not match:
        raise ParamError(f"bucket: {text!r} is not a duration like 30s, 5m or 1h, or auto")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    # below 10 s a bucket holds too few page views for a p75 (the dashboard's 15m window
    # uses 10 s buckets: 90 points)
    if not MIN_BUCKET_SECONDS <= seconds <= MAX_BUCKET_SECONDS:
        raise ParamError("bucket: must be between 10s and 1d")
    return seconds


def parse_device(text: str) -> str:
    """One device class, or '' for all."""
    if text not in ("", *DEVICES):
        raise ParamError(f"device: one of {', '.join(DEVICES)}, or empty for all")
    return text


def auto_bucket(window: int) -> int:
    """The shortest of AUTO_BUCKETS that cuts `window` (seconds) into at most AUTO_POINTS."""
    return next((b for b in AUTO_BUCKETS if window / b <= AUTO_POINTS), AUTO_BUCKETS[-1])


class TimeseriesSpec(QuerySpec):
    """A QuerySpec that also refuses a bucket too short (or too long) for the window."""

    def parse(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Validate each parameter, then the number of points the window spans."""
        values = super().parse(raw)
        if not values["bucket"]:
            values["bucket"] = auto_bucket(values["window"])
        window, bucket = values["window"], values["bucket"]
        if bucket > window:
            raise ParamError("bucket: longer than the window")
        points = -(-window // bucket)
        if points > MAX_POINTS:
            shortest = -(-window // (MAX_POINTS * 60))
            raise ParamError(f"bucket: {points} points over the window, more than {MAX_POINTS}; "
                             f"use a bucket of {shortest}m or longer")
        return values


def _bind(values: dict[str, Any]) -> dict[str, Any]:
    good, poor, _ = THRESHOLDS["lcp"]
    values.update(bucket_s=values.pop("bucket"), good=good, poor=poor,
                  **{f"{m}_cap": THRESHOLDS[m][2] for m in ("lcp", "inp", "cls", "ttfb")},
                  scales=segments.METRIC_PARAMS["scales"], **grid.PARAMS)
    return values


def _plan(store: Store, bound: dict[str, Any]) -> Plan:
    """Buckets of a multiple of the series rollup's slice (10 minutes: the dashboard's 24 h
    and 7 d windows) read its rolled hours and the raw rest (vitals_timeseries_rolled.sql;
    a window of 6 h or more starts at the top of its first hour). Shorter buckets, and a
    window with no hour rolled (rollups off, or not rolled yet), read raw events
    (vitals_timeseries.sql, each p75 the middle of the exact one's grid bucket), over the
    same window."""
    if bound["bucket_s"] % SERIES_SLICE_S:
        return Plan({})
    plan = coverage(store, bound["since_ms"], bound["until_ms"], SERIES)
    if not plan["rolls"]:
        return Plan({"since_ms": plan["from_ms"]})
    del bound["since_ms"]
    chosen = series_set(bound["device"], bound["country"], bound["region"])
    return Plan({**plan, "set": chosen}, sql_name="vitals_timeseries_rolled")


def timeseries_specs() -> dict[str, QuerySpec]:
    """The time-bucketed questions, by name."""
    return {
        "vitals-timeseries": TimeseriesSpec(
            name="vitals-timeseries", sql_name="vitals_timeseries",
            summary="p75 LCP, INP, CLS, TTFB and LCP good/NI/poor shares per time bucket",
            params={**COMMON,
                    "bucket": Param(parse_bucket, DEFAULT_BUCKET,
                                    f"bucket length: 10s ... 1d, at most {MAX_POINTS} per window; "
                                    f"auto: the shortest of 10s, 15s, 30s, 1m, 2m, 5m, 10m, ... "
                                    f"within {AUTO_POINTS} points (24h: 10m)"),
                    "device": Param(parse_device, "",
                                    f"device class: {', '.join(DEVICES)} ('' = all)"),
                    "country": Param(parse_place("country"), "", "country code ('' = any)"),
                    "region": Param(parse_place("region"), "", "region code ('' = any)")},
            bind=_bind, plan=_plan),
    }
