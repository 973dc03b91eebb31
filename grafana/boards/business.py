"""Business impact: what slowness costs in conversions and revenue.

Revenue at risk is not here: the revenue-impact and login-revenue-at-risk questions
finish their estimates in Python (queries/revenue.py), which a SQL panel cannot run;
they are served by the query API, `rum report` and the alert payloads.
"""

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
    table,
    timeseries,
)

UID = "rum-business"


def conversion_by_lcp() -> Panel:
    """Conversion rate of sessions bucketed by their p75 LCP."""
    return barchart(
        "Conversion rate by LCP",
        "Sessions bucketed by the p75 LCP of their page views; share that converted.",
        sql.for_grafana("conversion_rate_by_lcp"), x="lcp_bucket", unit="percentunit",
        expects=("lcp_bucket", "conversion_rate", "sessions", "converted", "bucket_start"),
        hide=("bucket_start", "sessions", "converted"), width=12)


def conversions_over_time() -> Panel:
    """Conversions and converting sessions per time bucket."""
    return timeseries(
        "Conversions", "Conversion events and sessions with a conversion, per time bucket.",
        [clickhouse_target(sql.for_grafana("conversions_over_time"), fmt="timeseries")],
        unit="short", expects=("time", "conversions", "converting_sessions"), width=12)


def by_country() -> Panel:
    """Conversions, conversion rate and revenue per country and currency."""
    return table(
        "Conversions and revenue by country",
        "Per country (and currency): sessions, converting sessions, conversion rate, "
        "conversions and revenue (sum of conversion values, in that currency).",
        sql.for_grafana("conversions_by_country", {"limit:UInt32": "50"}), unit="short",
        columns={"country": "string", "currency": "string", "sessions": "short",
                 "converted": "short", "conversion_rate": "percentunit",
                 "conversions": "short", "revenue": "none"})


def rows() -> list[Row]:
    """The rows of panels, top to bottom."""
    return [
        Row("Speed and conversion", [conversion_by_lcp(), conversions_over_time()]),
        Row("By country", [by_country()]),
    ]


def build() -> JSON:
    """The Business impact dashboard."""
    return dashboard(UID, "Business impact",
                     "Conversion rate by page speed; conversions and revenue by country.",
                     rows(), segment_variables())
