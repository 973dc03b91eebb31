"""How a report's figures read in a table: units, rates as %, sensible rounding, local times.

A value is shown by what its column holds, known from the column's name (the .sql files'
and queries/*.py output columns); JSON and CSV print the values as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

DIMENSIONS = ("country", "region", "city", "asn", "device_class", "browser", "os",
              "page_group", "connection_type")
# milliseconds
MS = {"lcp_p75", "lcp_p95", "inp_p75", "inp_p95", "ttfb_p75", "ttfb_p95", "p50", "p75", "p95",
      "p75_ci_low", "p75_ci_high", "p75_lcp", "excess_ms", "mean_lcp", "lcp_p50",
      "p75_duration", "lcp_from_ms", "lcp_to_ms", "plateau_ends_ms",
      # one page view's timings (page-views, page-view)
      "lcp", "inp", "fcp", "ttfb", "load", "dns", "connect", "tls", "request", "response",
      "dom_interactive", "dom_complete"}
# shares and rates, 0-1
RATES = {"good", "needs_improvement", "poor", "above_good_rest", "failure_rate", "baseline_rate",
         "conversion_rate", "ci_low", "ci_high", "conversion_from_previous",
         "conversion_from_start", "rest_conversion_from_previous", "blocked_share",
         "baseline_share", "logged_in_conversion_rate", "satisfied", "tolerating", "frustrated",
         "lcp_good", "lcp_ni", "inp_good", "inp_ni", "cls_good", "cls_ni", "bucket_shares"}
# money, in the row's `currency`
MONEY = {"avg_order_value", "revenue_per_session", "revenue_at_risk_per_day",
         "revenue_at_risk_per_30d", "low_per_30d", "high_per_30d",
         "excess_revenue_at_risk_per_day", "excess_revenue_at_risk_per_30d"}
# scores and unitless values, two decimals
SCORES = {"apdex", "apdex_ci_low", "apdex_ci_high", "z", "cls_p75", "cls"}
TIMES = {"first_seen", "last_seen", "t", "started", "ts"}  # UTC text ('2026-12-03 10:19:47.706') or epoch s
PER_SECOND = {"slope_per_s"}  # conversion-rate points per second of LCP


def show(key: str, value: Any, row: Mapping[str, Any], unitless: bool = False) -> str:
    """One cell: `value` of column `key` in `row` (`unitless`: p50..p95 of CLS)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(show(key, v, row, unitless) for v in value)
    if key == "p_value":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if key in TIMES:
        return local_time(value)
    if key in MS:
        return f"{value:.3f}" if unitless else f"{value:,.0f} ms"
    if key in RATES:
        return percent(value)
    if key in MONEY:
        return money(value, row.get("currency", ""))
    if key in SCORES:
        return f"{value:.2f}"
    if key in PER_SECOND:
        return f"{value * 100:+.2f} pt/s"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def percent(value: float) -> str:
    """0.7636 -> '76.4%', 0.0407 -> '4.1%' (one decimal)."""
    return f"{value * 100:.1f}%"


def money(value: float, currency: str) -> str:
    """12.5 -> '12.50 EUR' under 100, else '1,235 EUR' (whole units)."""
    amount = f"{value:,.2f}" if 0 < abs(value) < 100 else f"{value:,.0f}"
    return f"{amount} {currency}".strip()


def local_time(value: Any) -> str:
    """An epoch (seconds) or a UTC timestamp text as local ISO time to the second."""
    if isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M:%S")


def utc_offset() -> str:
    """The local zone's offset from UTC, e.g. '+01:00'."""
    text = datetime.now().astimezone().strftime("%z")
    return f"{text[:3]}:{text[3:]}"
