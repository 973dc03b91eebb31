"""`rum serve` with RUM_ALERT_RULES evaluates in-process and delivers to a real receiver."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from collector.settings import Settings
from tests.alerts.receiver import run_receiver
from tests.beacons import envelope
from tests.conftest import free_port, start_server, stop_server, wait_until
from tests.geo_fixtures import visitor_ip


def test_beacons_to_webhook_end_to_end(server_settings: Callable[..., Settings],
                                       tmp_path: Path) -> None:
    port = free_port()
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"""\
rules:
  - name: slow-lcp
    metric: lcp
    above: 4000
    group_by: [country]
    window: 15m
    min_samples: 20
    webhooks: [ops]
webhooks:
  ops: {{url: "http://127.0.0.1:{port}/hook", format: slack}}
""")
    with run_receiver(port) as receiver:
        server = start_server(server_settings(alert_rules=rules, alert_interval=0.2,
                                              alert_allow_private_webhooks=True,
                                              rate_limit_ip=0))
        try:
            for i in range(30):
                server.post(envelope(vitals={"lcp": 5200 + i}),
                            headers={"x-forwarded-for": visitor_ip("IN")})
                server.post(envelope(vitals={"lcp": 1400 + i}),
                            headers={"x-forwarded-for": visitor_ip("NL")})
            wait_until(lambda: receiver.accepted, timeout=30)
            message = receiver.accepted[0].json
            assert message["text"].startswith(":red_circle: FIRING: slow-lcp (country=IN)")
            assert message["blocks"][0]["type"] == "section"
            overview = httpx.get(f"{server.base_url}/v1/alerts").json()
            assert [a["group_key"] for a in overview["active"]] == ["country=IN"]
            # the value in words and units, as the dashboard shows it
            assert overview["active"][0]["text"].startswith("p75 LCP 5,2"), overview["active"]
            assert overview["active"][0]["text"].endswith(" ms > 4,000 ms")
            metrics = httpx.get(f"{server.base_url}/metrics").text
            assert 'rum_webhook_deliveries_total{outcome="delivered",webhook="ops"} 1.0' in metrics
            assert "rum_alert_evaluations_total" in metrics and "rum_webhook_outbox_depth" in metrics
        finally:
            stop_server(server)
    assert len(receiver.accepted) == 1, "fired once, for India only"
