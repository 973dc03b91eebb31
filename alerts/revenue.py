"""Revenue at risk for a firing alert's group, from the analytics queries (queries/revenue.py).

- `login_failure_rate`: `login-revenue-at-risk`, the group's sessions blocked beyond the
  rest of the site's rate x logged-in conversion rate x order value (method
  `login_failure`).
- `lcp`: `revenue-impact`, the observed what-if when the site has enough conversions,
  else the modelled prior (the method is named in the payload).
Both over the last 24 h, expressed per day and per 30 days in the site's currency.
Other metrics, groups by page (not a session dimension), or no data: None.
"""

from __future__ import annotations

import logging
from typing import Any

from alerts.rules import Rule
from pipeline.store import Store, StoreError
from queries.catalog import ParamError, get_query

log = logging.getLogger(__name__)
QUERIES = {"login_failure_rate": "login-revenue-at-risk", "lcp": "revenue-impact"}


def revenue_at_risk(store: Store, rule: Rule, group: dict[str, str]) -> dict[str, Any] | None:
    """{"method", "per_day", "per_30d", "currency", "query"} for the group, or None."""
    name = QUERIES.get(rule.metric)
    if name is None or not group:
        return None
    raw = {"window": "24h", "by": ",".join(group), "min_sessions": "1"}
    if rule.site:
        raw["site"] = rule.site
    try:
        spec = get_query(name)
        rows = spec.run(store, spec.parse(raw))
    except ParamError:
        return None  # e.g. grouped by page_group: revenue is per session, not per page
    except StoreError as exc:
        log.warning("revenue at risk not computed", extra={"rule": rule.name, "error": str(exc)})
        return None
    mine = [r for r in rows if all(str(r.get(k)) == v for k, v in group.items())]
    if name == "login-revenue-at-risk":
        if not mine:
            return None
        row = mine[0]
        return {"method": "login_failure", "per_day": row["excess_revenue_at_risk_per_day"],
                "per_30d": row["excess_revenue_at_risk_per_30d"], "currency": row["currency"],
                "query": name}
    for method in ("observed", "modelled"):  # measured first, the prior when it cannot be
        for row in mine:
            if row["method"] == method and row["revenue_at_risk_per_day"] is not None:
                return {"method": method, "per_day": row["revenue_at_risk_per_day"],
                        "per_30d": row["revenue_at_risk_per_30d"], "currency": row["currency"],
                        "query": name}
    return None
