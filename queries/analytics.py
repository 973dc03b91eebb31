"""The analytics questions beyond slow-regions: parameters, SQL binding, statistics.

Segment dimensions are chosen from a fixed list and passed to the SQL as bound
strings that a multiIf maps to columns, so no SQL text ever comes from a request.
"""

from __future__ import annotations

from typing import Any

from pipeline.store import Store
from queries.spec import COMMON, WHY, Param, ParamError, Plan, QuerySpec, Rows, int_param, min_count
from queries.stats import quantile_interval, two_proportion_z
from queries.why import attach_segments_why
from rollups import segments
from rollups.coverage import coverage
from rollups.tables import SEGMENTS

DIMENSIONS = ("country", "region", "city", "asn", "device_class", "browser", "os",
              "page_group", "connection_type")
# dimensions that hold for a whole session (a session spans page groups): for the
# questions that follow sessions (journey, revenue)
SESSION_DIMENSIONS = tuple(d for d in DIMENSIONS if d != "page_group")
# metric -> (good, poor, outlier cap): Core Web Vitals thresholds; values past the cap
# are measurement garbage (tabs left open, suspended devices) and are excluded and counted
# (defined with the segments rollup, which counts by them: rollups/segments.py)
THRESHOLDS = {name: (m.good, m.poor, m.cap) for name, m in segments.METRICS.items()}
# family-wise error rate of the per-segment tests (Bonferroni over the segments shown)
ALPHA = 0.01


def parse_dimensions(text: str) -> tuple[str, ...]:
    """'country' or 'country,device_class' -> a tuple of one or two known dimensions."""
    dims = tuple(d.strip() for d in text.split(",") if d.strip())
    if not 1 <= len(dims) <= 2 or any(d not in DIMENSIONS for d in dims) or len(set(dims)) < len(dims):
        raise ParamError(f"by: one or two of {', '.join(DIMENSIONS)}, comma-separated")
    return dims


def parse_session_dimensions(text: str) -> tuple[str, ...]:
    """'none', 'country' or 'country,device_class' -> up to two session-level dimensions."""
    if text.strip() == "none":
        return ()
    dims = tuple(d.strip() for d in text.split(",") if d.strip())
    if (not 1 <= len(dims) <= 2 or any(d not in SESSION_DIMENSIONS for d in dims)
            or len(set(dims)) < len(dims)):
        raise ParamError(f"by: 'none', or one or two of {', '.join(SESSION_DIMENSIONS)}, "
                         "comma-separated")
    return dims


def parse_metric(text: str) -> str:
    """One of the Core Web Vitals."""
    if text not in THRESHOLDS:
        raise ParamError(f"metric: one of {', '.join(THRESHOLDS)}")
    return text


def _bind_dims(values: dict[str, Any]) -> dict[str, Any]:
    dims = list(values.pop("by")) + [""]
    values["d1"], values["d2"] = dims[0], dims[1]
    values.pop("min_samples", None)
    values.pop("min_attempts", None)
    return values


def _bind_vitals(values: dict[str, Any]) -> dict[str, Any]:
    good, poor, cap = THRESHOLDS[values["metric"]]
    values.update(good=good, poor=poor, cap=cap)
    return _bind_dims(values)


def plan_segments(store: Store, bound: dict[str, Any], sql_name: str) -> Plan:
    """By a grouping the segments rollup keeps (d1, d2): `sql_name` over its rolled hours
    and the raw rest (a window of 6 h or more starts at the top of its first hour). By
    others (city, asn, other pairs): the spec's own SQL over raw events."""
    grouping = segments.grouping(bound["d1"], bound["d2"])
    if grouping is None:
        return Plan({})
    plan = coverage(store, bound.pop("since_ms"), bound["until_ms"], SEGMENTS)
    return Plan({**plan, **segments.METRIC_PARAMS, **grouping}, sql_name=sql_name)


def _plan_vitals(store: Store, bound: dict[str, Any]) -> Plan:
    """segment_vitals_rolled.sql by a grouping the rollup keeps; by others, raw events and
    exact percentiles (segment_vitals.sql)."""
    return plan_segments(store, bound, "segment_vitals_rolled")


def _bind_ratings(values: dict[str, Any]) -> dict[str, Any]:
    values = _bind_dims(values)
    values.update(caps=segments.METRIC_PARAMS["caps"], goods=segments.METRIC_PARAMS["goods"],
                  poors=segments.METRIC_PARAMS["poors"])
    return values


def _plan_ratings(store: Store, bound: dict[str, Any]) -> Plan:
    """vitals_ratings_rolled.sql by a grouping the rollup keeps, with an hour of the window
    rolled; otherwise raw events (vitals_ratings.sql) over the same window."""
    plan = plan_segments(store, bound, "vitals_ratings_rolled")
    if plan.sql_name and not plan.params["rolls"]:
        return Plan({"since_ms": plan.params["from_ms"]})
    return plan


def finish_ratings(rows: Rows, values: dict[str, Any]) -> Rows:
    """Segments with at least `min_samples` page views of the metric, dimensions named."""
    return [named(r, values["by"]) for r in rows if r["samples"] >= values["min_samples"]]


def named(row: dict[str, Any], dims: tuple[str, ...]) -> dict[str, Any]:
    """Replace g1/g2 with the dimensions' names."""
    out = {dim: row[g] for dim, g in zip(dims, ("g1", "g2"), strict=False)}
    out.update({k: v for k, v in row.items() if k not in ("g1", "g2")})
    return out


def finish_vitals(rows: Rows, values: dict[str, Any]) -> Rows:
    """p75 interval, `flagged` (interval above 'good'), `worse_than_rest` (z-test)."""
    good = THRESHOLDS[values["metric"]][0]
    shown = [r for r in rows if r["samples"] >= values["min_samples"]]
    out = []
    for row in shown:
        low, high = quantile_interval(row["grid"], int(row["samples"]))
        rest_n = int(row["total_samples"]) - int(row["samples"])
        rest_hits = int(row["total_above_good"]) - int(row["above_good"])
        z, p = two_proportion_z(int(row["above_good"]), int(row["samples"]), rest_hits, rest_n)
        finished = {k: v for k, v in row.items()
                    if k not in ("grid", "q", "total_samples", "total_above_good")}
        finished.update(
            p75_ci_low=low, p75_ci_high=high,
            flagged=low is not None and low > good,
            above_good_rest=round(rest_hits / rest_n, 4) if rest_n else None,
            z=round(z, 2), p_value=p,
            worse_than_rest=rest_n > 0 and p < ALPHA / max(1, len(shown)),
        )
        out.append(named(finished, values["by"]))
    return out


def finish_logins(rows: Rows, values: dict[str, Any]) -> Rows:
    """Baseline = the rest of the site; flagged when significantly above it."""
    tested = sum(1 for r in rows if r["attempts"] >= values["min_attempts"])
    out = []
    for row in rows:
        attempts, failures = int(row["attempts"]), int(row["failures"])
        rest_n = int(row["total_attempts"]) - attempts
        rest_fail = int(row["total_failures"]) - failures
        z, p = two_proportion_z(failures, attempts, rest_fail, rest_n)
        finished = {k: v for k, v in row.items() if k not in ("total_attempts", "total_failures")}
        finished.update(
            baseline_rate=round(rest_fail / rest_n, 4) if rest_n else None,
            z=round(z, 2), p_value=p,
            flagged=(attempts >= values["min_attempts"] and rest_n > 0
                     and p < ALPHA / max(1, tested)),
        )
        out.append(named(finished, values["by"]))
    return out


def analytics_specs() -> dict[str, QuerySpec]:
    """The questions of docs/analytics.md, by name."""
    by = Param(parse_dimensions, "country", f"one or two of: {', '.join(DIMENSIONS)}")
    limit = Param(int_param("limit", 1, 1000), "20", "how many rows")
    return {
        "slow-segments": QuerySpec(
            name="slow-segments", sql_name="segment_vitals",
            summary="p50/p75/p95 of a Web Vital per segment, with a p75 interval, "
                    "good/NI/poor shares and significance",
            params={**COMMON, "by": by,
                    "metric": Param(parse_metric, "lcp", "lcp, inp, cls, fcp or ttfb"),
                    "min_samples": min_count("min_samples", "30", "minimum page views per segment"),
                    "why": WHY},
            bind=_bind_vitals, plan=_plan_vitals, post=finish_vitals, attach=attach_segments_why),
        "vitals-ratings": QuerySpec(
            name="vitals-ratings", sql_name="vitals_ratings",
            summary="good/NI/poor shares of every Core Web Vital per segment (weighted)",
            params={**COMMON,
                    "by": Param(parse_dimensions, "device_class",
                                f"one or two of: {', '.join(DIMENSIONS)}"),
                    "min_samples": min_count("min_samples", "1",
                                             "minimum page views per segment and metric")},
            bind=_bind_ratings, plan=_plan_ratings, post=finish_ratings),
        "failing-logins": QuerySpec(
            name="failing-logins", sql_name="failing_logins",
            summary="login failure rate per segment vs the rest of the site (z-test)",
            params={**COMMON, "by": by,
                    "min_attempts": min_count("min_attempts", "20",
                                              "minimum login attempts to flag a segment")},
            bind=_bind_dims, post=finish_logins),
        "top-errors": QuerySpec(
            name="top-errors", sql_name="top_errors",
            summary="JS errors by fingerprint: page views, sessions, pages, browsers",
            params={**COMMON, "limit": limit}),
        "failed-api-calls": QuerySpec(
            name="failed-api-calls", sql_name="failed_api_calls",
            summary="failed fetch/XHR calls by endpoint and status",
            params={**COMMON, "limit": limit}),
    }
