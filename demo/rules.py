"""The demo's alert rules: one per planted incident, delivering to the demo's receiver."""

from __future__ import annotations

from pathlib import Path

RULES = """\
# Written by `rum demo`: one rule per kind of planted incident.
rules:
  - name: slow-lcp-by-region
    metric: lcp
    stat: p75
    above: 4000
    group_by: [country, region]
    window: {window}
    min_samples: 20
    webhooks: [demo]
  - name: failing-logins-by-country
    metric: login_failure_rate
    above: 0.25
    group_by: [country]
    window: {window}
    min_samples: 15
    webhooks: [demo]
  - name: js-errors-by-page
    metric: error_rate
    above: 0.2
    group_by: [page_group]
    window: {window}
    min_samples: 20
    webhooks: [demo]
webhooks:
  demo: {{url: "{url}", format: generic}}
"""


def write_rules(path: Path, webhook_url: str, window: str = "5m") -> Path:
    """Write the rules file pointing at `webhook_url`; returns its path."""
    path.write_text(RULES.format(url=webhook_url, window=window))
    return path
