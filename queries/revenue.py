"""What slowness and failing logins cost: revenue-impact, conversion-by-speed, login-revenue-at-risk.

The figures are finished here from the few rows the SQL returns (per segment and LCP
bucket). docs/analytics.md explains the model in plain words; the priors below are
published figures from other sites, not measurements of this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.store import Store
from queries.analytics import ALPHA, SESSION_DIMENSIONS, THRESHOLDS, named, parse_session_dimensions
from queries.spec import COMMON, Param, Plan, QuerySpec, Rows, float_param, min_count
from queries.stats import Z95, two_proportion_z, weighted_slope, what_if_gain, wilson_interval
from rollups.coverage import coverage
from rollups.tables import SESSION_LCP_CAP, SESSIONS, SNAP_WINDOW_MS, session_set

BUCKETS = 7  # LCP 0-1 s, 1-2 s, ..., 5-6 s, 6 s+ (a session's LCP: p75 of its page views)
BUCKET_LABELS = tuple(f"{b}-{b + 1} s" for b in range(BUCKETS - 1)) + (f"{BUCKETS - 1} s+",)
LCP_GOOD, LCP_CAP = THRESHOLDS["lcp"][0], THRESHOLDS["lcp"][2]
SLOW_SHARE = 0.25  # slow: surely more than this share of page views past the threshold (p75)
PLATEAU_ALPHA = 0.05  # a bucket is off the plateau when it converts worse than the best at 5%


@dataclass(frozen=True)
class Prior:
    """A published figure on speed and revenue, and its reading as % of revenue per second."""

    source: str
    published: str
    per_second: float | None


PRIORS = (
    Prior("Aberdeen Group, 'The Performance of Web Applications' (2008)",
          "~7% fewer conversions per 1 s of delay", 7.0),
    Prior("Amazon (Greg Linden, 'Make Data Useful', 2006; cited by Kohavi & Longbotham, 2007)",
          "~1% of sales per 100 ms", 10.0),
    Prior("Nordstrom, as quoted in a Dynatrace interview",
          "~11% revenue drop for 0.5 s of extra load time", 22.0),
    Prior("DoubleClick by Google, 'The Need for Mobile Speed' (2016)",
          "~53% of mobile visits abandoned when a page takes over 3 s", None),
)
# default prior: the most conservative per-second figure (Aberdeen's, on conversions)
DEFAULT_ELASTICITY = 7.0
BAND = (7.0, 22.0)  # the spread of the per-second figures: Aberdeen .. Nordstrom
MAX_LOSS_SHARE = 0.53  # DoubleClick's abandonment: the model never takes more than this


# where slowness is local (a region's CDN edge, its network): a region is a place of one
# country, so both name it
DEFAULT_REVENUE_BY = "country,region"

# how far behind a window's end the session rollup's last roll may be for the window to
# end there (the roller's steady state: a cycle every RUM_ROLLUP_INTERVAL, 60 s of grace,
# rests after costly cycles)
SESSION_MAX_LAG_MS = 5 * 60_000


def _per_day(window_s: int) -> float:
    return 86400 / window_s


def _span(rows: Rows, values: dict[str, Any]) -> int:
    """The seconds the answer covers: the window, or more when it was snapped to the hour."""
    return int(rows[0]["span_s"]) if rows and "span_s" in rows[0] else int(values["window"])


def _currency(rows: Rows) -> str:
    codes = sorted({c for r in rows for c in r["currencies"]})
    return ",".join(codes)  # more than one code: the site mixes currencies (summed as sent)


def _segments(rows: Rows) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows per segment, as a list of BUCKETS bucket rows (zeros where no session fell)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        buckets = out.setdefault((row["g1"], row["g2"]), [
            {"sessions": 0, "converted": 0, "orders": 0, "revenue": 0.0, "revenue_sq": 0.0,
             "weighted_sessions": 0.0, "weighted_revenue": 0.0, "mean_lcp": None,
             "p75_lcp": row["p75_lcp"], "pageviews": row["pageviews"],
             "above_threshold": row["above_threshold"]} for _ in range(BUCKETS)])
        buckets[int(row["bucket"])].update(row)
    return out


def _total(buckets: list[dict[str, Any]], key: str) -> float:
    return float(sum(b[key] for b in buckets))


def _site_value(segments: dict[tuple[str, str], list[dict[str, Any]]]) -> tuple[list[float], list[float]]:
    """Revenue per session of each bucket over the whole site, and its sampling variance."""
    value, var = [], []
    for b in range(BUCKETS):
        n = sum(s[b]["sessions"] for s in segments.values())
        total = sum(s[b]["revenue"] for s in segments.values())
        sq = sum(s[b]["revenue_sq"] for s in segments.values())
        mean = total / n if n else 0.0
        value.append(mean)
        var.append(max(0.0, sq / n - mean * mean) / n if n else 0.0)
    return value, var


def _money(per_day: float | None) -> dict[str, float | None]:
    return {"revenue_at_risk_per_day": None if per_day is None else round(per_day, 2),
            "revenue_at_risk_per_30d": None if per_day is None else round(per_day * 30, 2)}


def finish_revenue(rows: Rows, values: dict[str, Any]) -> Rows:
    """Per slow segment: observed what-if and modelled prior, each a row naming its method."""
    threshold, min_sessions = values["threshold"], values["min_sessions"]
    segments = _segments(rows)
    value, value_var = _site_value(segments)
    site_conversions = sum(_total(s, "converted") for s in segments.values())
    site_weighted = sum(_total(s, "weighted_sessions") for s in segments.values())
    site_rps = (values["revenue_per_session"] or
                (sum(_total(s, "weighted_revenue") for s in segments.values()) / site_weighted
                 if site_weighted else 0.0))
    shown = {k: s for k, s in segments.items() if _total(s, "sessions") >= min_sessions}
    fast = [s for s in shown.values() if s[0]["p75_lcp"] <= threshold]
    # a segment past the threshold is shown even when thin, with the reason it has no figure
    thin = {k: s for k, s in segments.items()
            if k not in shown and s[0]["p75_lcp"] > threshold}
    ref = [float(sum(s[b]["sessions"] for s in fast)) for b in range(BUCKETS)]
    per_day, currency = _per_day(_span(rows, values)), _currency(rows)
    out = []
    for key, seg in shown.items():
        sessions, orders = _total(seg, "sessions"), _total(seg, "orders")
        # slow with confidence: the share of page views past the threshold is above 25%
        low, high = wilson_interval(seg[0]["above_threshold"], seg[0]["pageviews"])
        daily_sessions = _total(seg, "weighted_sessions") * per_day
        base = {"g1": key[0], "g2": key[1], "sessions": int(sessions),
                "converted": int(_total(seg, "converted")),
                "conversion_rate": round(_total(seg, "converted") / sessions, 4),
                "avg_order_value": round(_total(seg, "revenue") / orders, 2) if orders else None,
                "p75_lcp": seg[0]["p75_lcp"], "slow": low > SLOW_SHARE,
                "excess_ms": round(max(0.0, seg[0]["p75_lcp"] - threshold), 1),
                "bucket_shares": [round(b["sessions"] / sessions, 4) for b in seg],
                "currency": currency}
        # the 95% interval of the share of page views past the threshold (slow: above 25%)
        unsure = "" if base["slow"] else (
            f"not surely slow: {low * 100:.0f}-{high:.0%} of {seg[0]['pageviews']:,} views "
            f"past {threshold:,.0f} ms")
        out.append(named(_observed(base, seg, ref, value, value_var, daily_sessions,
                                   site_conversions, values, unsure), values["by"]))
        out.append(named(_modelled(base, daily_sessions, site_rps, values, unsure), values["by"]))
    for key, seg in thin.items():
        sessions = _total(seg, "sessions")
        base = {"g1": key[0], "g2": key[1], "sessions": int(sessions),
                "converted": int(_total(seg, "converted")),
                "conversion_rate": round(_total(seg, "converted") / sessions, 4),
                "avg_order_value": None, "p75_lcp": seg[0]["p75_lcp"], "slow": False,
                "excess_ms": round(seg[0]["p75_lcp"] - threshold, 1),
                "bucket_shares": [round(b["sessions"] / sessions, 4) for b in seg],
                "currency": currency}
        for method in ("observed", "modelled"):
            out.append(named({
                **base, "method": method, "reference_sessions": None,
                "status": "too_few_sessions", **_money(None), "low_per_30d": None,
                "high_per_30d": None, "flagged": False,
                "reason": f"too few sessions: {int(sessions):,}, a figure needs "
                          f"{min_sessions:,} (--min-sessions)", "basis": ""}, values["by"]))
    out.sort(key=lambda r: -(r["revenue_at_risk_per_30d"] or 0))
    return out


def _not_past(base: dict[str, Any], values: dict[str, Any]) -> str:
    return (f"not slow: p75 LCP {base['p75_lcp']:,.0f} ms is within "
            f"{values['threshold']:,.0f} ms")


def _observed(base: dict[str, Any], seg: list[dict[str, Any]], ref: list[float], value: list[float],
              value_var: list[float], daily_sessions: float, site_conversions: float,
              values: dict[str, Any], unsure: str) -> dict[str, Any]:
    """The what-if figure; a segment past the threshold gets one even when not surely
    slow (`unsure` says so, and it is not flagged); otherwise `reason` says why not."""
    row = {**base, "method": "observed", "reference_sessions": int(sum(ref))}
    if base["excess_ms"] <= 0:
        status, reason = "not_slow", _not_past(base, values)
    elif site_conversions < values["min_conversions"]:
        status = "too_few_conversions"
        reason = (f"too few conversions: {site_conversions:,.0f} converting sessions on the "
                  f"site, the observed method needs {values['min_conversions']:,}")
    elif sum(ref) < values["min_sessions"]:
        status = "no_fast_reference"
        reason = (f"no fast reference: {sum(ref):,.0f} sessions in segments with p75 LCP "
                  f"within {values['threshold']:,.0f} ms and {values['min_sessions']:,}+ "
                  f"sessions each; {values['min_sessions']:,} needed")
    else:
        gain, se = what_if_gain([float(b["sessions"]) for b in seg], ref, value, value_var)
        row.update(status="ok", **_money(gain * daily_sessions),
                   low_per_30d=round((gain - Z95 * se) * daily_sessions * 30, 2),
                   high_per_30d=round((gain + Z95 * se) * daily_sessions * 30, 2),
                   flagged=base["slow"] and gain - Z95 * se > 0, reason=unsure,
                   basis="what-if: this segment's sessions with the LCP-bucket mix of the fast "
                         "segments, at the site's revenue per session of each bucket")
        return row
    row.update(status=status, **_money(None), low_per_30d=None, high_per_30d=None,
               flagged=False, reason=reason, basis="")
    return row


def _modelled(base: dict[str, Any], daily_sessions: float, site_rps: float,
              values: dict[str, Any], unsure: str) -> dict[str, Any]:
    """The prior's figure, for every segment past the threshold (flagged when surely slow)."""
    row = {**base, "method": "modelled", "reference_sessions": None}
    excess_s = base["excess_ms"] / 1000

    def at_risk(elasticity: float) -> float:
        return float(min(MAX_LOSS_SHARE, elasticity / 100 * excess_s) * daily_sessions * site_rps)

    if excess_s <= 0 or site_rps <= 0:
        status = "not_slow" if excess_s <= 0 else "no_revenue"
        reason = _not_past(base, values) if excess_s <= 0 else (
            "no revenue: no conversion value on the site in the window (send conversions "
            "with their value, or give a revenue per session: revenue_per_session, "
            "--revenue-per-session)")
        row.update(status=status, **_money(None), low_per_30d=None, high_per_30d=None,
                   flagged=False, reason=reason, basis="")
        return row
    elasticity = values["elasticity"]
    row.update(status="ok", **_money(at_risk(elasticity)),
               low_per_30d=round(at_risk(min(elasticity, BAND[0])) * 30, 2),
               high_per_30d=round(at_risk(max(elasticity, BAND[1])) * 30, 2),
               flagged=base["slow"], reason=unsure,
               basis=f"prior: {elasticity:g}% of revenue per second of p75 LCP past "
                     f"{values['threshold']:g} ms (published figures from other sites, "
                     "not measured here)")
    return row


def _plateau(seg: list[dict[str, Any]], usable: list[int], best: int | None) -> list[int]:
    """The buckets next to the best one (either side) that do not convert significantly worse."""
    if best is None:
        return []

    def as_good(b: int) -> bool:
        return b in usable and two_proportion_z(
            seg[best]["converted"], seg[best]["sessions"],
            seg[b]["converted"], seg[b]["sessions"])[1] >= PLATEAU_ALPHA

    low = high = best
    while as_good(low - 1):
        low -= 1
    while as_good(high + 1):
        high += 1
    return list(range(low, high + 1))


def finish_conversion_by_speed(rows: Rows, values: dict[str, Any]) -> Rows:
    """Conversion per LCP bucket with a Wilson interval, the optimal bucket and the plateau."""
    currency = _currency(rows)
    out = []
    for key, seg in _segments(rows).items():
        usable = [b for b in range(BUCKETS) if seg[b]["sessions"] >= values["min_sessions"]]
        rate = [b["converted"] / b["sessions"] if b["sessions"] else 0.0 for b in seg]
        best = max(usable, key=lambda b: rate[b], default=None)
        plateau = _plateau(seg, usable, best)
        edge = max(plateau) if plateau else None
        slope = weighted_slope([((seg[b]["mean_lcp"] or 0.0) / 1000, rate[b], seg[b]["sessions"])
                                for b in usable if edge is not None and b >= edge])
        for b, bucket in enumerate(seg):
            if not bucket["sessions"]:
                continue
            low, high = wilson_interval(bucket["converted"], bucket["sessions"])
            out.append(named({
                "g1": key[0], "g2": key[1], "bucket": BUCKET_LABELS[b], "lcp_from_ms": b * 1000,
                "lcp_to_ms": (b + 1) * 1000 if b < BUCKETS - 1 else None,
                "sessions": bucket["sessions"], "converted": bucket["converted"],
                "conversion_rate": round(rate[b], 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
                "avg_order_value":
                    round(bucket["revenue"] / bucket["orders"], 2) if bucket["orders"] else None,
                "revenue_per_session": round(bucket["revenue"] / bucket["sessions"], 2),
                "optimal": b == best, "on_plateau": b in plateau,
                "plateau_ends_ms": (edge + 1) * 1000 if edge is not None else None,
                "slope_per_s": round(slope, 5) if slope is not None else None,
                "currency": currency,
            }, values["by"]))
    return out


def finish_login_revenue(rows: Rows, values: dict[str, Any]) -> Rows:
    """Blocked sessions x the site's logged-in conversion rate x value per conversion."""
    logged_in = sum(r["logged_in"] for r in rows)
    converted = sum(r["logged_in_converted"] for r in rows)
    revenue = sum(r["logged_in_revenue"] for r in rows)
    rate = converted / logged_in if logged_in else 0.0
    order_value = revenue / converted if converted else 0.0
    sessions_all, blocked_all = sum(r["login_sessions"] for r in rows), sum(r["blocked"] for r in rows)
    tested = sum(1 for r in rows if r["login_sessions"] >= values["min_sessions"])
    per_day, currency = _per_day(values["window"]), _currency(rows)
    out = []
    for row in rows:
        n, blocked = int(row["login_sessions"]), int(row["blocked"])
        rest_n, rest_blocked = sessions_all - n, blocked_all - blocked
        z, p = two_proportion_z(blocked, n, rest_blocked, rest_n)
        baseline = rest_blocked / rest_n if rest_n else None
        excess = max(0.0, blocked / n - (baseline or 0.0)) * row["weighted_login_sessions"]
        value_per_day = rate * order_value * per_day
        out.append(named({
            "g1": row["g1"], "g2": row["g2"], "method": "login_failure", "login_sessions": n,
            "blocked": blocked, "blocked_share": round(blocked / n, 4),
            "baseline_share": None if baseline is None else round(baseline, 4),
            "z": round(z, 2), "p_value": p,
            "flagged": n >= values["min_sessions"] and rest_n > 0 and p < ALPHA / max(1, tested),
            "logged_in_conversion_rate": round(rate, 4), "avg_order_value": round(order_value, 2),
            **_money(row["weighted_blocked"] * value_per_day),
            "excess_revenue_at_risk_per_day": round(excess * value_per_day, 2),
            "excess_revenue_at_risk_per_30d": round(excess * value_per_day * 30, 2),
            "currency": currency,
        }, values["by"]))
    return out


def _bind(values: dict[str, Any]) -> dict[str, Any]:
    dims = list(values.pop("by")) + ["", ""]
    keep = {"site", "window"}
    bound = {k: v for k, v in values.items() if k in keep}
    bound.update(d1=dims[0], d2=dims[1], cap=LCP_CAP, threshold=values.get("threshold", LCP_GOOD))
    return bound


def _plan(store: Store, bound: dict[str, Any]) -> Plan:
    """What the session rollup answers: questions by none, one or two dimensions of one of
    its SESSION_SETS (country, region and device class; browser; os; connection type), with
    LCPs up to its cap; `dset` names the set's rows.

    A window of `SNAP_WINDOW_MS` or more that the rollup covers up to at most
    `SESSION_MAX_LAG_MS` before its end ends at the last roll: the raw rest after it
    (every session active in the last minute or so, each merged with its rolled pieces)
    would cost more than the rest of the question (bench/RESULTS.md); the per-day
    figures scale by the seconds covered. A window the rolls then cover whole is read
    from the rollup's sums alone (revenue_by_speed_rolled.sql) and is settled (kept until
    a roll changes). Otherwise the rest is read from raw events."""
    dset = session_set(bound["d1"], bound["d2"])
    rolled = dset is not None and bound["cap"] == SESSION_LCP_CAP
    until_ms = bound["until_ms"]
    since_ms = bound.pop("since_ms")
    plan = {**coverage(store, since_ms, until_ms, SESSIONS if rolled else None), "dset": dset or 0}
    if (plan["rolls"] and until_ms - since_ms >= SNAP_WINDOW_MS
            and until_ms - plan["rolled_until_ms"] <= SESSION_MAX_LAG_MS):
        plan["until_ms"] = plan["rolled_until_ms"]
    rest = plan["from_ms"] < plan["first_ms"] or plan.get("until_ms", until_ms) > plan["rolled_until_ms"]
    if plan["rolls"] and not rest:
        # no raw rest: the sums alone answer, and only rows of the named rolls are read, so
        # the answer is the same until a roll changes them: it is kept (QuerySpec.run)
        return Plan(plan, sql_name="revenue_by_speed_rolled", settled=True)
    return Plan(plan)


def _bind_logins(values: dict[str, Any]) -> dict[str, Any]:
    bound = _bind(values)
    del bound["cap"], bound["threshold"]
    return bound


def revenue_specs() -> dict[str, QuerySpec]:
    """revenue-impact, conversion-by-speed and login-revenue-at-risk, by name."""
    dims = f"'none', or one or two of: {', '.join(SESSION_DIMENSIONS)}"
    by = Param(parse_session_dimensions, "country", dims)

    return {
        "revenue-impact": QuerySpec(
            name="revenue-impact", sql_name="revenue_by_speed",
            summary="revenue at risk per slow segment, per day and per 30 days: observed "
                    "what-if and modelled prior, each named",
            params={**COMMON,
                    "by": Param(parse_session_dimensions, DEFAULT_REVENUE_BY, dims),
                    "threshold": Param(float_param("threshold", 100, 60_000), f"{LCP_GOOD:g}",
                                       "p75 LCP (ms) past which a segment is slow"),
                    "min_sessions": min_count("min_sessions", "10",
                                              "minimum sessions for a segment's figures"),
                    "min_conversions": min_count("min_conversions", "30",
                                                 "site conversions needed for the observed method"),
                    "elasticity": Param(float_param("elasticity", 0, 100), f"{DEFAULT_ELASTICITY:g}",
                                        "modelled prior: % of revenue lost per second of excess"),
                    "revenue_per_session": Param(float_param("revenue_per_session", 0, 1e9), "0",
                                                 "modelled: revenue per session (0 = observed)")},
            bind=_bind, plan=_plan, post=finish_revenue),
        "conversion-by-speed": QuerySpec(
            name="conversion-by-speed", sql_name="revenue_by_speed",
            summary="conversion rate per LCP bucket, the optimal bucket and the plateau",
            params={**COMMON, "by": Param(parse_session_dimensions, "none", dims),
                    "min_sessions": min_count("min_sessions", "100",
                                              "minimum sessions for a bucket to count")},
            bind=_bind, plan=_plan, post=finish_conversion_by_speed),
        "login-revenue-at-risk": QuerySpec(
            name="login-revenue-at-risk", sql_name="login_revenue_at_risk",
            summary="sessions blocked by failing logins x logged-in conversion rate x order value",
            params={**COMMON, "by": by,
                    "min_sessions": min_count("min_sessions", "20",
                                              "minimum login sessions to flag a segment")},
            bind=_bind_logins, post=finish_login_revenue),
    }
