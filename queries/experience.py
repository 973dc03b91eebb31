"""Apdex, experience score and journeys (funnels): parameters, SQL binding, statistics."""

from __future__ import annotations

import re
from typing import Any

from pipeline.store import Store
from queries.analytics import (
    ALPHA,
    DIMENSIONS,
    SESSION_DIMENSIONS,
    THRESHOLDS,
    named,
    parse_dimensions,
    parse_session_dimensions,
    plan_segments,
)
from queries.spec import (
    COMMON,
    Param,
    ParamError,
    Plan,
    QuerySpec,
    Rows,
    float_param,
    min_count,
    parse_window,
)
from queries.stats import two_proportion_z, wilson_interval
from rollups import segments

DEFAULT_APDEX_T = THRESHOLDS["lcp"][0]  # the LCP "good" threshold, 2500 ms
# Apdex's own rating bands (apdex.org): the lowest score of each rating
APDEX_RATINGS = ((0.94, "excellent"), (0.85, "good"), (0.70, "fair"), (0.50, "poor"),
                 (0.0, "unacceptable"))
APDEX_GOOD = 0.85
# below this many page views the interval's normal approximation is not trusted: no flag
MIN_FLAG_SAMPLES = 30
SCORE_METRICS = ("lcp", "inp", "cls")
MAX_STEPS = 8
_STEP = re.compile(r"^[^,\x00-\x1f]{1,64}$")


def apdex_rating(apdex: float) -> str:
    """Apdex's rating word for a score."""
    return next(word for low, word in APDEX_RATINGS if apdex >= low)


def experience_score(row: dict[str, Any]) -> float | None:
    """0-100: the mean over LCP, INP and CLS (those measured) of good + half of needs-improvement."""
    parts = [row[f"{m}_good"] + row[f"{m}_ni"] / 2 for m in SCORE_METRICS if row[f"{m}_good"] is not None]
    return round(100 * sum(parts) / len(parts), 1) if parts else None


def finish_apdex(rows: Rows, values: dict[str, Any]) -> Rows:
    """Rating, experience score, a Wilson interval on the Apdex, `flagged` below 'good'."""
    out = []
    for row in rows:
        if row["samples"] < values["min_samples"]:
            continue
        # effective sample size of weighted page views: (sum w)^2 / sum w^2
        n_eff = row["weight"] ** 2 / row["weight_sq"] if row["weight_sq"] else 0.0
        # each view scores 1, 1/2 or 0, so its variance is at most p(1-p): Wilson is conservative
        low, high = wilson_interval(row["apdex"] * n_eff, n_eff)
        finished = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                    if k not in ("weight", "weight_sq")}
        finished.update(
            apdex_ci_low=round(low, 4), apdex_ci_high=round(high, 4),
            rating=apdex_rating(row["apdex"]),
            experience_score=experience_score(row),
            flagged=high < APDEX_GOOD and row["samples"] >= MIN_FLAG_SAMPLES,
        )
        out.append(named(finished, values["by"]))
    return out


def parse_steps(text: str) -> tuple[str, ...]:
    """'/product/:id,/cart,/checkout,conversion' -> 2 to 8 distinct steps."""
    steps = tuple(s.strip() for s in text.split(","))
    if not 2 <= len(steps) <= MAX_STEPS or not all(_STEP.fullmatch(s) for s in steps):
        raise ParamError(f"steps: 2 to {MAX_STEPS} page groups or event names (1-64 characters "
                         "each), comma-separated")
    if len(set(steps)) < len(steps):
        raise ParamError("steps: each step may appear once")
    return steps


def parse_within(text: str) -> int:
    """The funnel's time limit, a duration like the window's."""
    try:
        return parse_window(text)
    except ParamError as exc:
        raise ParamError(str(exc).replace("window:", "within:")) from None


def parse_journey_by(text: str) -> tuple[str, ...]:
    """'none' or one session-level dimension."""
    dims = parse_session_dimensions(text)
    if len(dims) > 1:
        raise ParamError(f"by: 'none' or one of {', '.join(SESSION_DIMENSIONS)}")
    return dims


def _bind_apdex(values: dict[str, Any]) -> dict[str, Any]:
    dims = list(values.pop("by")) + [""]
    values.pop("min_samples")
    values.update(d1=dims[0], d2=dims[1], cap=THRESHOLDS["lcp"][2])
    return values


def _plan_apdex(store: Store, bound: dict[str, Any]) -> Plan:
    """With T the LCP good threshold (the default) and a grouping the segments rollup
    keeps: apdex_rolled.sql (the same figures, from rolled hours); otherwise raw events.
    When no hour of the window is rolled (rollups off, or not rolled yet), apdex.sql over
    the same window: the same figures, and twice as fast as apdex_rolled.sql's raw rest
    (bench/RESULTS.md)."""
    if bound["apdex_t"] != segments.METRICS["lcp"].good:
        return Plan({})
    plan = plan_segments(store, bound, "apdex_rolled")
    if plan.sql_name and not plan.params["rolls"]:
        return Plan({"since_ms": plan.params["from_ms"]})
    return plan


def _bind_journey(values: dict[str, Any]) -> dict[str, Any]:
    steps = list(values.pop("steps"))
    values.update({f"step{i + 1}": (steps[i] if i < len(steps) else "") for i in range(MAX_STEPS)})
    values.update(n_steps=len(steps), within_ms=values.pop("within") * 1000,
                  d1=(values.pop("by") or ("",))[0], cap=THRESHOLDS["lcp"][2])
    values.pop("min_sessions")
    return values


def finish_journey(rows: Rows, values: dict[str, Any]) -> Rows:
    """Conversion per step (from the previous step and from the start), tested vs the rest."""
    by_segment: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_segment.setdefault(row["g1"], {})[int(row["step"])] = row
    by_segment = {g: steps for g, steps in by_segment.items() if steps[1]["sessions"] > 0}
    totals = {k: sum(s[k]["sessions"] for s in by_segment.values())
              for k in range(1, len(values["steps"]) + 1)}
    tested = sum(1 for steps in by_segment.values() for k in steps
                 if k > 1 and steps[k - 1]["sessions"] >= values["min_sessions"])
    out = []
    for segment, steps in by_segment.items():
        start = steps[1]["sessions"]
        for k, row in sorted(steps.items()):
            reached = int(row["sessions"])
            before = int(steps[k - 1]["sessions"]) if k > 1 else reached
            rest_before = (totals[k - 1] if k > 1 else totals[k]) - before
            rest_reached = totals[k] - reached
            # one-sided: does the rest of the site go on from the previous step more often?
            z, p = two_proportion_z(rest_reached, rest_before, reached, before)
            finished = {
                "step": k, "step_name": row["step_name"], "sessions": reached,
                "conversion_from_previous": round(reached / before, 4) if before else None,
                "conversion_from_start": round(reached / start, 4),
                "drop_off": before - reached,
                "rest_conversion_from_previous":
                    round(rest_reached / rest_before, 4) if k > 1 and rest_before else None,
                "z": round(z, 2), "p_value": p,
                "worse_than_rest": (k > 1 and before >= values["min_sessions"] and rest_before > 0
                                    and p < ALPHA / max(1, tested)),
                "lcp_p50": row["lcp_p50"], "lcp_samples": row["lcp_samples"],
            }
            out.append(named({"g1": segment, **finished}, values["by"]))
    return out


def experience_specs() -> dict[str, QuerySpec]:
    """apdex and journey, by name."""
    return {
        "apdex": QuerySpec(
            name="apdex", sql_name="apdex",
            summary="Apdex of LCP (T configurable) and an experience score (0-100) "
                    "per page group and region",
            params={**COMMON,
                    "by": Param(parse_dimensions, "page_group,country",
                                f"one or two of: {', '.join(DIMENSIONS)}"),
                    "apdex_t": Param(float_param("apdex_t", 1, 60_000), f"{DEFAULT_APDEX_T:g}",
                                     "Apdex T in ms: satisfied <= T, tolerating <= 4T"),
                    "min_samples": min_count("min_samples", "30", "minimum page views with LCP per segment")},
            bind=_bind_apdex, plan=_plan_apdex, post=finish_apdex),
        "journey": QuerySpec(
            name="journey", sql_name="journey",
            summary="funnel over page groups / events: sessions and conversion per step "
                    "per segment, and each step's median LCP",
            params={**COMMON,
                    "steps": Param(parse_steps, "/product/:id,/cart,/checkout,conversion",
                                   "2-8 page groups or event names in order ('conversion' = a "
                                   "conversion event, 'login' = a successful login)"),
                    "by": Param(parse_journey_by, "country",
                                f"'none' or one of: {', '.join(SESSION_DIMENSIONS)}"),
                    "within": Param(parse_within, "1h", "longest time from step 1 to the last"),
                    "min_sessions": min_count("min_sessions", "30",
                                              "minimum sessions at the previous step to test a step")},
            bind=_bind_journey, post=finish_journey),
    }
