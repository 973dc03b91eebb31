"""Revenue at risk for a firing alert's group, from the analytics queries (queries/revenue.py).

- `login_failure_rate`: `login-revenue-at-risk`, the group's sessions blocked beyond the
  rest of the site's rate x logged-in conversion rate x order value (method
  `login_failure`).
- `lcp`: `revenue-impact`, the observed what-if when the site has enough conversions,
  else the modelled prior (the method is named in the payload).
Both over the last 24 h (or the rule's window when those hold nothing of the group yet),
expressed per day and per 30 days in the site's currency.
When no figure can be computed (other metrics, groups by page, no data, too few
conversions and no revenue), `per_day` is None and `reason` says why in words.
"""

from __future__ import annotations

import logging
from typing import Any

from alerts.rules import Rule
from pipeline.store import Store, StoreError
from queries.catalog import ParamError, get_query

log = logging.getLogger(__name__)
QUERIES = {"login_failure_rate": "login-revenue-at-risk", "lcp": "revenue-impact"}


def revenue_at_risk(store: Store, rule: Rule, group: dict[str, str]) -> dict[str, Any]:
    """{"method", "per_day", "per_30d", "currency", "query", "reason"} for the group."""
    name = QUERIES.get(rule.metric)
    if name is None:
        return _none(None, f"no revenue model for {rule.metric} alerts (only lcp and "
                           "login_failure_rate)")
    if not group:
        return _none(name, "the rule has no group_by: revenue at risk is per segment")
    mine: list[dict[str, Any]] = []
    # the last 24 h; when they hold nothing of the group (a long window ends at the session
    # rollup's last roll, which may predate a new segment's sessions), the rule's window
    for window in ("24h", f"{max(60, rule.window)}s"):
        raw = {"window": window, "by": ",".join(group), "min_sessions": "1"}
        if rule.site:
            raw["site"] = rule.site
        try:
            spec = get_query(name)
            rows = spec.run(store, spec.parse(raw))
        except ParamError:
            return _none(name, f"revenue is per session, and {', '.join(group)} is not a "
                               "session dimension")
        except StoreError as exc:
            log.warning("revenue at risk not computed", extra={"rule": rule.name,
                                                                "error": str(exc)})
            return _none(name, "the store did not answer the revenue query")
        mine = [r for r in rows if all(str(r.get(k)) == v for k, v in group.items())]
        if mine:
            break
    if not mine:
        what = "login attempt" if name == "login-revenue-at-risk" else "session with an LCP"
        return _none(name, f"no {what} in this group over the last 24 h")
    if name == "login-revenue-at-risk":
        row = mine[0]
        return {"method": "login_failure", "per_day": row["excess_revenue_at_risk_per_day"],
                "per_30d": row["excess_revenue_at_risk_per_30d"], "currency": row["currency"],
                "query": name, "reason": ""}
    for method in ("observed", "modelled"):  # measured first, the prior when it cannot be
        for row in mine:
            if row["method"] == method and row["revenue_at_risk_per_day"] is not None:
                return {"method": method, "per_day": row["revenue_at_risk_per_day"],
                        "per_30d": row["revenue_at_risk_per_30d"], "currency": row["currency"],
                        "query": name, "reason": row["reason"]}
    reason = "; ".join(f"{row['method']}: {row['reason']}" for row in mine)
    return {**_none(name, reason), "currency": mine[0]["currency"]}


def _none(query: str | None, reason: str) -> dict[str, Any]:
    return {"method": None, "per_day": None, "per_30d": None, "currency": "", "query": query,
            "reason": reason}
