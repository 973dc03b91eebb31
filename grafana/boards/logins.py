"""Logins & errors: where customers fail to log in, and what breaks in their browsers."""

from __future__ import annotations

from grafana import sql
from grafana.boards.variables import segment_variables
from grafana.common import (
    JSON,
    Panel,
    Row,
    barchart,
    clickhouse_target,
    dashboard,
    steps,
    table,
    timeseries,
)

UID = "rum-logins-errors"
# failure-rate bands for colouring (a site's normal rate is usually well under 10%)
_FAILURE_BANDS = steps(("green", None), ("orange", 0.1), ("red", 0.25))
_WINDOW = {"d1:String": "'country'", "d2:String": "''"}


def failure_rate_over_time() -> Panel:
    """Login failure rate per country over time (countries with enough attempts)."""
    return timeseries(
        "Login failure rate by country",
        "Failed logins / login attempts per country and time bucket; countries with fewer "
        "than 20 attempts in the window are left out.",
        [clickhouse_target(sql.for_grafana("login_failure_rate_over_time",
                                           {"min_attempts:UInt32": "20"}), fmt="timeseries")],
        unit="percentunit", thresholds=_FAILURE_BANDS,
        expects=("time", "country", "failure_rate"), width=14)


def failure_reasons() -> Panel:
    """Why logins fail, most common first."""
    return barchart(
        "Login failure reasons", "Failed logins by the reason the site reported.",
        sql.for_grafana("login_failure_reasons", {"limit:UInt32": "10"}), x="reason",
        unit="short", expects=("reason", "failures"), horizontal=True, width=10)


def vs_baseline() -> Panel:
    """Each country's failure rate next to the rest of the site's (queries/failing_logins.sql)."""
    inner = sql.for_grafana("failing_logins", _WINDOW)
    return table(
        "Login failures vs baseline",
        "Per country: attempts, failures and failure rate, against the failure rate of every "
        "other country together (the baseline). `rum report failing-logins` adds the z-test.",
        sql.for_grafana("login_failures_vs_baseline", {"failing_logins:Query": inner}),
        unit="short",
        columns={"country": "string", "attempts": "short", "failures": "short",
                 "failure_rate": "percentunit", "baseline_rate": "percentunit",
                 "vs_baseline": "percentunit", "sessions_blocked": "short",
                 "top_reasons": "string"},
        thresholds={"failure_rate": _FAILURE_BANDS,
                    "vs_baseline": steps(("green", None), ("orange", 0.05), ("red", 0.15))})


def top_errors() -> Panel:
    """JS errors by fingerprint (queries/top_errors.sql)."""
    return table(
        "Top JavaScript errors",
        "Errors grouped by fingerprint (normalized message + top frame), most page views first.",
        sql.for_grafana("top_errors", {"limit:UInt32": "20"}), unit="short",
        columns={"message": "string", "top_frame": "string", "occurrences": "short",
                 "pageviews": "short", "sessions": "short", "pages": "short",
                 "browsers": "string", "first_seen": "string", "last_seen": "string"},
        hide=("fingerprint",), width=24)


def failing_endpoints() -> Panel:
    """Failed API calls by endpoint and status (queries/failed_api_calls.sql)."""
    return table(
        "Failing API endpoints",
        "Failed fetch/XHR calls by method, endpoint (ids as :id) and status (0 = network error).",
        sql.for_grafana("failed_api_calls", {"limit:UInt32": "20"}), unit="short",
        columns={"method": "string", "endpoint": "string", "status": "none", "calls": "short",
                 "pageviews": "short", "sessions": "short", "p75_duration": "ms",
                 "last_seen": "string"})


def rows() -> list[Row]:
    """The rows of panels, top to bottom."""
    return [
        Row("Logins", [failure_rate_over_time(), failure_reasons(), vs_baseline()]),
        Row("Errors", [top_errors(), failing_endpoints()]),
    ]


def build() -> JSON:
    """The Logins & errors dashboard."""
    return dashboard(UID, "Logins & errors",
                     "Login failures by country against the baseline, JS errors, failing APIs.",
                     rows(), segment_variables())
