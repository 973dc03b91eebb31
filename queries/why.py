"""Why a segment is slow: the part of LCP or INP that grew most against the site's fast
segments, in one plain sentence (rules and thresholds: docs/analytics.md, "Why").

LCP = lcp_ttfb + lcp_load_delay + lcp_load_time + lcp_render_delay and
INP = inp_input_delay + inp_processing + inp_presentation (web-vitals' attribution build,
docs/beacon-protocol.md). The inputs are p75s of each part, per segment and for the
baseline (the fast segments); pure functions, so the rules are tested without a store.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson

from queries import load_sql
from rollups.coverage import coverage
from rollups.tables import SEGMENTS

# (column, what a person reads, what to act on), in the metric's order
PARTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "lcp": (
        ("lcp_ttfb", "waiting for the server", "origin or CDN distance"),
        ("lcp_load_delay", "the hero image starting late",
         "the image is found late (lazy-loaded, injected by script, not preloaded)"),
        ("lcp_load_time", "loading the hero image", "a heavy image or a slow network"),
        ("lcp_render_delay", "render delay", "the page's scripts block the hero image"),
    ),
    "inp": (
        ("inp_input_delay", "input delay", "other scripts keep the main thread busy"),
        ("inp_processing", "event handlers", "the page's own event handlers run long"),
        ("inp_presentation", "presentation delay",
         "rendering after the handlers (large DOM, layout)"),
    ),
}
# a part must exceed the baseline's by this much (ms) to be named: about one tenth of the
# metric's "good" threshold (LCP 2500 ms, INP 200 ms, web.dev/articles/vitals)
MIN_GROWTH_MS = {"lcp": 250.0, "inp": 20.0}
# the network note is added when at least this share of the segment's page views were on
# 2g/3g (Network Information API effectiveType), for the parts a network slows down
SLOW_SHARE = 0.25
_NETWORK_PARTS = ("lcp_ttfb", "lcp_load_time")


@dataclass(frozen=True)
class Why:
    """The explanation of one slow metric of a segment."""

    metric: str
    part: str
    growth_ms: float
    sentence: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"metric": self.metric, "part": self.part, "growth_ms": round(self.growth_ms),
                "sentence": self.sentence}


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def explain(metric: str, value: float | None, parts: dict[str, float | None],
            baseline: dict[str, float | None], slow_share: float | None = None,
            rtt_p75: float | None = None, baseline_name: str = "fast segments") -> Why | None:
    """The part of `metric` that grew most over `baseline` (p75s, ms), or None when no part
    grew by MIN_GROWTH_MS (or the segment has no parts)."""
    best: tuple[float, tuple[str, str, str], float] | None = None
    for spec in PARTS[metric]:
        mine = parts.get(spec[0])
        if mine is None:
            continue
        growth = mine - (baseline.get(spec[0]) or 0.0)
        if best is None or growth > best[0]:
            best = (growth, spec, mine)
    if best is None or best[0] < MIN_GROWTH_MS[metric]:
        return None
    growth, (column, what, cause), mine = best
    head = f"{metric.upper()} {_seconds(value)}: " if value is not None else ""
    text = (f"{head}{what} makes up {_seconds(mine)} of it, {_seconds(growth)} more than in "
            f"{baseline_name}: {cause}")
    if column in _NETWORK_PARTS and slow_share is not None and slow_share >= SLOW_SHARE:
        rtt = f", RTT p75 {rtt_p75:.0f} ms" if rtt_p75 is not None else ""
        text += f" ({slow_share:.0%} of page views on 2g/3g{rtt})"
    return Why(metric, column, growth, text)


def explain_row(row: dict[str, Any], baseline: dict[str, Any],
                metrics: list[str], baseline_name: str = "fast segments") -> dict[str, Any]:
    """`why` of one flagged segment row: the p75 of each part, network context, and one
    explanation per slow metric among LCP and INP (their sentences joined)."""
    columns = [c for spec in PARTS.values() for c, _, _ in spec]
    found = [explain(m, row.get(f"{m}_p75"), row, baseline, row.get("slow_share"),
                     row.get("rtt_p75"), baseline_name)
             for m in ("lcp", "inp") if m in metrics]
    reasons = [w.as_dict() for w in found if w is not None]
    return {
        "parts_p75": {c: row.get(c) for c in columns},
        "slow_connection_share": row.get("slow_share"),
        "rtt_p75": row.get("rtt_p75"),
        "reasons": reasons,
        "sentence": "; ".join(r["sentence"] for r in reasons),
    }


PART_COLUMNS = tuple(c for spec in PARTS.values() for c, _, _ in spec)


def parts_of(row: dict[str, Any]) -> dict[str, Any]:
    """A segment_parts.sql row as parts (None where the segment sent none) and context."""
    out: dict[str, Any] = {"slow_share": row.get("slow_share"), "rtt_p75": row.get("rtt_p75")}
    for column in PART_COLUMNS:
        sent = row.get("n_lcp_parts" if column.startswith("lcp") else "n_inp_parts") or 0
        out[column] = float(row[f"{column}_q"]) if sent else None
    return out


def segment_parts(store: Any, site: str, from_ms: int, until_ms: int, countries: bool = True,
                  regions_of: Collection[str] | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each place's parts over [from_ms, until_ms), by (level, country, region): every
    country's (unless `countries` is False), and the regions' of the countries in
    `regions_of` (None: of every country). From the segments rollup's rolled hours and the
    raw rest (segment_parts_rolled.sql), or with exact quantiles from raw events when no
    hour is rolled (segment_parts.sql: faster then, within 1% of the rolled answer; it
    answers every place)."""
    window = coverage(store, from_ms, until_ms, SEGMENTS)
    name = "segment_parts_rolled" if window["rolls"] else "segment_parts"
    wanted = "*" if regions_of is None else orjson.dumps(sorted(regions_of)).decode()
    found = store.query(load_sql(name), {**window, "site": site, "from_ms": from_ms,
                                         "until_ms": until_ms, "countries": int(countries),
                                         "regions_of": wanted})
    return {(r["level"], r["country"], r["region"]): parts_of(r) for r in found}


# a place that sent no part, RTT or connection type (segment_parts_rolled.sql has no row
# for it): every part and its context missing
_NO_PARTS = parts_of({})


def _median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def attach_regions_why(store: Any, rows: list[dict[str, Any]],
                       bound: dict[str, Any]) -> list[dict[str, Any]]:
    """slow-regions rows with `why`: the explanation on each flagged row (None on the
    others; with no row flagged, no part is read). The baseline of each part is the median
    of its p75 over the countries not flagged (the site's fast regions)."""
    if not any(r["flagged"] for r in rows):  # nothing to explain: no parts read
        return [{**row, "why": None} for row in rows]
    explained = {r["country"] for r in rows if r["flagged"] and r["level"] == "region"}
    parts = segment_parts(store, bound.get("site", ""), bound["from_ms"], bound["until_ms"],
                          regions_of=explained)
    fast = [parts.get(("country", r["country"], "")) for r in rows
            if r["level"] == "country" and not r["flagged"]]
    baseline = {c: _median([p[c] for p in fast if p and p[c] is not None])
                for c in PART_COLUMNS}
    for row in rows:
        mine = parts.get((row["level"], row["country"], row["region"]), _NO_PARTS)
        row["why"] = (explain_row({**row, **mine}, baseline, list(row["slow_metrics"]),
                                  "fast regions")
                      if row["flagged"] else None)
    return rows


def why_lines(rows: list[dict[str, Any]], width: int = 100) -> list[str]:
    """`rum report slow-regions --why`: one wrapped paragraph per flagged row with a reason,
    headed by its place ('IN', 'IN-MH'), each line within `width` columns."""
    import textwrap

    out = []
    for row in rows:
        why = row.get("why")
        if not why or not why["sentence"]:
            continue
        place = "-".join(p for p in (row.get("country") or "??", row.get("region")) if p)
        head = f"{place:<7}"
        out += textwrap.wrap(why["sentence"], width, initial_indent=head,
                             subsequent_indent=" " * len(head))
    return out or ["no flagged region has a reason (no part grew enough, or no parts sent)"]


def why_for_group(store: Any, metric: str, site: str, group: dict[str, str],
                  from_ms: int, until_ms: int) -> dict[str, Any] | None:
    """`why` of an LCP/INP alert's group (country, or country + region): the group's part
    p75s against the median of the other countries' over the alert's window. None for
    other metrics, other groupings, or a group none of whose page views in the window
    sent the parts."""
    if metric not in PARTS or not group or set(group) - {"country", "region"}:
        return None
    level = "region" if "region" in group else "country"
    key = (level, group.get("country", ""), group.get("region", "") if level == "region" else "")
    parts = segment_parts(store, site, from_ms, until_ms,
                          regions_of=[key[1]] if level == "region" else [])
    mine = parts.get(key)
    if mine is None or all(mine[c] is None for c in PART_COLUMNS):
        return None  # no page view of the group sent the parts (only the attribution build does)
    others = [p for (lv, country, _), p in parts.items()
              if lv == "country" and country != key[1]]
    baseline = {c: _median([p[c] for p in others if p[c] is not None]) for c in PART_COLUMNS}
    return explain_row(mine, baseline, [metric], "other countries")


def attach_segments_why(store: Any, rows: list[dict[str, Any]],
                        bound: dict[str, Any]) -> list[dict[str, Any]]:
    """slow-segments rows with `why` on the flagged ones, when the metric is LCP or INP and
    the segments are countries or country + region (the parts are kept per place); the
    baseline is the median of the unflagged segments' part p75s. Other rows: `why` None
    (with no row flagged, no part is read)."""
    dims = tuple(d for d in (bound.get("d1"), bound.get("d2")) if d)
    metric = bound.get("metric", "")
    level = {("country",): "country", ("country", "region"): "region"}.get(dims)
    if metric not in PARTS or level is None or not any(r["flagged"] for r in rows):
        return [{**row, "why": None} for row in rows]
    # the segments' own level only: every country, or every region
    parts = segment_parts(store, bound.get("site", ""),
                          bound.get("from_ms", bound.get("since_ms", 0)), bound["until_ms"],
                          countries=level == "country", regions_of=None if level == "region" else [])

    def mine(row: dict[str, Any]) -> dict[str, Any] | None:
        return parts.get((level, row.get("country", ""),
                          row.get("region", "") if level == "region" else ""))

    fast = [p for p in (mine(r) for r in rows if not r["flagged"]) if p]
    baseline = {c: _median([p[c] for p in fast if p[c] is not None]) for c in PART_COLUMNS}
    for row in rows:
        got = mine(row) or _NO_PARTS
        row["why"] = (explain_row({**got, f"{metric}_p75": row.get("p75")}, baseline, [metric],
                                  "fast segments") if row["flagged"] else None)
    return rows
