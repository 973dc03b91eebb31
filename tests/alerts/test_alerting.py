"""Alert evaluation on real chDB data and delivery to a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from alerts.delivery import Deliverer
from alerts.evaluator import FIRING, OK, PENDING, GroupState, step
from alerts.outbox import Outbox
from alerts.payloads import dashboard_link, sign, verify
from alerts.rules import Rule, RuleSet, Webhook
from alerts.runner import AlertRunner, alerts_overview
from pipeline.store import Store
from queries.catalog import get_query
from tests.alerts.receiver import run_receiver
from tests.conftest import free_port

T0 = time.time()


def pageviews(store: Store, country: str, lcp: float, n: int, at: float, user: str = "") -> None:
    rows: list[dict[str, Any]] = [{
        "event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "pageview",
        "ts": round(at, 3), "received_at": round(at, 3), "country": country, "lcp": lcp,
        "pageview_id": uuid.uuid4().hex, "session_id": f"s{i % 7}", "user_id": user,
    } for i in range(n)]
    store.insert("rum.events", rows)


def rule(**changes: Any) -> Rule:
    base: dict[str, Any] = dict(name="slow-lcp", metric="lcp", threshold=4000.0,
                                direction="above", group_by=("country",), window=900,
                                for_seconds=600, min_samples=50, site="shop-eu",
                                webhooks=("ops",))
    base.update(changes)
    return Rule(**base)


def runner_for(store: Store, r: Rule, url: str = "http://127.0.0.1:9/hook") -> AlertRunner:
    ruleset = RuleSet([r], {"ops": Webhook("ops", url)})
    return AlertRunner(store, ruleset, Outbox(store), public_url="http://rum.test")


def test_state_machine_for_and_hysteresis() -> None:
    r = rule(for_seconds=60, hysteresis=0.1)
    s = GroupState("slow-lcp", "country=IN")
    s, t = step(r, s, 4500, 100, 0)
    assert s.state == PENDING and t is None
    s, t = step(r, s, 4500, 100, 59)
    assert s.state == PENDING and t is None
    s, t = step(r, s, 4500, 100, 60)
    assert s.state == FIRING and t is not None and t.kind == "firing"
    s, t = step(r, s, 3900, 100, 90)  # below the threshold, inside the 10% band: still firing
    assert s.state == FIRING and t is None
    s, t = step(r, s, None, 0, 100)  # no data is not a recovery
    assert s.state == FIRING and t is None
    s, t = step(r, s, 3500, 100, 120)
    assert s.state == OK and t is not None and t.kind == "resolved"
    s, t = step(r, s, 4500, 10, 130)  # too few samples
    assert s.state == OK and t is None


def test_fires_once_after_for_quiet_while_firing_resolves_once(chdb_store: Store) -> None:
    pageviews(chdb_store, "IN", 5000, 200, T0)      # slow
    pageviews(chdb_store, "NL", 1500, 200, T0)      # fast: never fires
    pageviews(chdb_store, "BR", 9000, 20, T0)       # slow but too few samples: never fires
    runner = runner_for(chdb_store, rule())
    assert runner.evaluate_once(T0 + 1) == []                     # pending
    assert runner.evaluate_once(T0 + 300) == []                   # still pending (for: 10m)
    fired = runner.evaluate_once(T0 + 602)
    assert [(t.kind, t.state.group) for t in fired] == [("firing", "country=IN")]
    assert runner.evaluate_once(T0 + 700) == []                   # quiet while firing
    pageviews(chdb_store, "IN", 1200, 300, T0 + 1000)             # recovered
    resolved = runner.evaluate_once(T0 + 1600)
    assert [(t.kind, t.state.group) for t in resolved] == [("resolved", "country=IN")]
    assert runner.evaluate_once(T0 + 1700) == []
    kinds = [r["kind"] for r in chdb_store.query(
        "SELECT kind FROM rum.alert_history ORDER BY at")]
    assert kinds == ["firing", "resolved"]
    assert Outbox(chdb_store).depth() == 2


def test_restart_while_firing_does_not_refire_and_still_resolves(chdb_store: Store) -> None:
    pageviews(chdb_store, "IN", 5000, 200, T0)
    first = runner_for(chdb_store, rule(for_seconds=0))
    assert [t.kind for t in first.evaluate_once(T0 + 1)] == ["firing"]
    restarted = runner_for(chdb_store, rule(for_seconds=0))
    restarted.load_state()
    assert restarted.evaluate_once(T0 + 60) == []
    overview = alerts_overview(chdb_store)
    assert [(a["rule"], a["group_key"], a["state"]) for a in overview["active"]] == [
        ("slow-lcp", "country=IN", "firing")]
    pageviews(chdb_store, "IN", 1000, 300, T0 + 1000)
    assert [t.kind for t in restarted.evaluate_once(T0 + 1600)] == ["resolved"]
    assert alerts_overview(chdb_store)["active"] == []


def test_login_failure_rate_rule(chdb_store: Store) -> None:
    rows = [{"event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "login",
             "ts": round(T0, 3), "received_at": round(T0, 3), "country": c,
             "login_success": 0 if i % 100 < fail_pct else 1,
             "pageview_id": f"p{c}{i}", "session_id": f"s{c}{i}"}
            for c, fail_pct in (("BR", 12), ("DE", 1)) for i in range(500)]
    chdb_store.insert("rum.events", rows)
    r = rule(name="logins", metric="login_failure_rate", stat="rate", threshold=0.05,
             for_seconds=0)
    fired = runner_for(chdb_store, r).evaluate_once(T0 + 1)
    assert [(t.state.group, round(t.state.value or 0, 2)) for t in fired] == [("country=BR", 0.12)]


def test_login_alert_payload_carries_the_revenue_the_failures_cost(chdb_store: Store) -> None:
    rows: list[dict[str, Any]] = []
    for c, fail_pct in (("BR", 12), ("DE", 1)):
        for i in range(500):
            sid, ok = f"s{c}{i}", i % 100 >= fail_pct
            at = round(T0 - 60, 3)
            rows.append({"event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "login",
                         "ts": at, "received_at": at, "country": c, "login_success": int(ok),
                         "pageview_id": f"p{sid}", "session_id": sid})
            if ok and i % 5 == 0:  # a fifth of logged-in sessions buy, for 50 EUR
                rows.append({"event_id": str(uuid.uuid4()), "site": "shop-eu",
                             "kind": "conversion", "ts": at, "received_at": at, "country": c,
                             "conversion_value": 50.0, "currency": "EUR",
                             "pageview_id": f"p{sid}", "session_id": sid})
    chdb_store.insert("rum.events", rows)
    r = rule(name="logins", metric="login_failure_rate", stat="rate", threshold=0.05,
             for_seconds=0)
    runner_for(chdb_store, r).evaluate_once(T0 + 1)
    import orjson
    payload = orjson.loads(Outbox(chdb_store).pending("ops")[0]["payload"])
    money = payload["revenue_at_risk"]
    # the same figure the analytics query gives for Brazil over the day
    spec = get_query("login-revenue-at-risk")
    br = [row for row in spec.run(chdb_store, spec.parse({"window": "24h", "by": "country",
                                                         "site": "shop-eu", "min_sessions": "1"}))
          if row["country"] == "BR"][0]
    assert money == {"method": "login_failure", "per_day": br["excess_revenue_at_risk_per_day"],
                     "per_30d": br["excess_revenue_at_risk_per_30d"], "currency": "EUR",
                     "query": "login-revenue-at-risk", "reason": ""}
    # ~11 points of excess failure x 500 sessions x 20% conversion x 50 EUR: about 550 a day
    assert 400 < money["per_day"] < 700


def test_payload_carries_group_users_and_link(chdb_store: Store) -> None:
    pageviews(chdb_store, "IN", 5000, 100, T0, user="cust-1")
    pageviews(chdb_store, "IN", 5000, 100, T0, user="cust-2")
    runner = runner_for(chdb_store, rule(for_seconds=0))
    runner.evaluate_once(T0 + 1)
    body = Outbox(chdb_store).pending("ops")[0]
    import orjson
    payload = orjson.loads(body["payload"])
    assert payload["state"] == "firing" and payload["group"] == {"country": "IN"}
    assert payload["value"] == 5000 and payload["threshold"] == 4000
    assert payload["samples"] == 200 and payload["affected_sessions"] == 7
    assert payload["affected_users"] == ["cust-1", "cust-2"]
    assert payload["link"] == "http://rum.test/?site=shop-eu&window=15m&country=IN"
    # the link opens the dashboard's drill-down at the group: its URL parameters
    link = dashboard_link("http://rum.test", rule(), {"country": "BR", "region": "SP",
                                                      "page_group": "/checkout", "device_class": "mobile"})
    assert link.endswith("&country=BR&region=SP&page=%2Fcheckout&device=mobile"), link
    assert payload["summary"] == ("FIRING: slow-lcp (country=IN): p75 LCP 5,000 ms > 4,000 ms, "
                                  "200 samples over 15m")
    # 7 sessions, none converting, no revenue: the reason in words instead of a figure
    money = payload["revenue_at_risk"]
    assert money["per_day"] is None and money["reason"].startswith("observed: too few conversions")
    assert payload["id"] == f"{payload['alert_id']}-firing"


def test_signature_recipe() -> None:
    body = b'{"rule":"x"}'
    header = sign("s3cret", body, timestamp=int(time.time()))
    assert verify("s3cret", body, header)
    assert not verify("s3cret", body + b" ", header)
    assert not verify("other", body, header)
    assert not verify("s3cret", body, sign("s3cret", body, timestamp=int(time.time()) - 3600))


async def _deliver_until(deliverer: Deliverer, check: Any, timeout: float = 20) -> None:
    deliverer.start()
    deadline = time.monotonic() + timeout
    try:
        while not check():
            assert time.monotonic() < deadline, "timed out waiting for deliveries"
            await asyncio.sleep(0.05)
    finally:
        await deliverer.close()


async def test_receiver_down_then_500_then_429_then_up_gets_each_exactly_once(
        chdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUM_TEST_HOOK_SECRET", "s3cret")
    port = free_port()
    pageviews(chdb_store, "IN", 5000, 200, T0)
    pageviews(chdb_store, "BR", 6000, 200, T0)
    runner = runner_for(chdb_store, rule(for_seconds=0), f"http://127.0.0.1:{port}/hook")
    runner.ruleset.webhooks["ops"] = Webhook("ops", f"http://127.0.0.1:{port}/hook",
                                             secret_env="RUM_TEST_HOOK_SECRET")
    runner.evaluate_once(T0 + 1)                       # firing for BR and IN
    pageviews(chdb_store, "IN", 1000, 400, T0 + 1000)
    runner.evaluate_once(T0 + 1600)                    # IN resolved (BR has no data: stays)
    outbox = Outbox(chdb_store)
    assert outbox.depth() == 3
    deliverer = Deliverer(outbox, runner.ruleset.webhooks, allow_private=True, max_age=3600,
                          base_backoff=0.05, poll_seconds=0.05)
    # receiver down: connection refused for a while
    deliverer.start()
    await asyncio.sleep(0.5)
    await deliverer.close()
    script = [(500, {}), (500, {}), (429, {"Retry-After": "1"})]
    with run_receiver(port, script) as receiver:
        deliverer = Deliverer(outbox, runner.ruleset.webhooks, allow_private=True,
                              max_age=3600, base_backoff=0.05, poll_seconds=0.05)
        await _deliver_until(deliverer, lambda: outbox.depth() == 0)
    ids = [d.json["id"] for d in receiver.accepted]
    assert len(ids) == 3 and len(set(ids)) == 3, "each notification exactly once"
    india = [d.json["state"] for d in receiver.accepted if d.json["group"] == {"country": "IN"}]
    assert india == ["firing", "resolved"], "in order per alert"
    for delivery in receiver.accepted:
        assert verify("s3cret", delivery.body, delivery.headers["X-Rum-Signature"])
        assert delivery.headers["X-Rum-Notification-Id"] == delivery.json["id"]
    assert [d.status for d in receiver.received[:3]] == [500, 500, 429]
    outcomes = chdb_store.query("SELECT outcome, count() AS n FROM rum.webhook_deliveries "
                                "GROUP BY outcome")
    assert outcomes == [{"outcome": "delivered", "n": 3}]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest",
    "http://[::1]:{port}/hook", "http://localhost:{port}/hook",
])
async def test_ssrf_targets_are_refused_by_default(chdb_store: Store, url: str) -> None:
    port = free_port()
    with run_receiver(port) as receiver:
        outbox = Outbox(chdb_store)
        outbox.add([{"notification_id": "n1", "webhook": "ops", "alert_id": "a", "payload": "{}"}])
        hooks = {"ops": Webhook("ops", url.format(port=port), timeout=1)}
        deliverer = Deliverer(outbox, hooks, allow_private=False, max_age=3600,
                              base_backoff=0.05, poll_seconds=0.05)
        await _deliver_until(deliverer, lambda: outbox.depth() == 0)
    assert receiver.received == []
    assert chdb_store.query("SELECT outcome FROM rum.webhook_deliveries") == [
        {"outcome": "rejected"}]


async def test_redirect_to_an_internal_address_is_not_followed(chdb_store: Store) -> None:
    port = free_port()
    with run_receiver(port, [(302, {"Location": "http://169.254.169.254/latest/meta-data"})]) as rx:
        outbox = Outbox(chdb_store)
        outbox.add([{"notification_id": "n1", "webhook": "ops", "alert_id": "a", "payload": "{}"}])
        hooks = {"ops": Webhook("ops", rx.url)}
        deliverer = Deliverer(outbox, hooks, allow_private=True, max_age=3600,
                              base_backoff=0.05, poll_seconds=0.05)
        await _deliver_until(deliverer, lambda: outbox.depth() == 0)
    assert [d.status for d in rx.received] == [302]
    assert chdb_store.query("SELECT outcome, http_status FROM rum.webhook_deliveries") == [
        {"outcome": "rejected", "http_status": 302}]


async def test_one_slow_receiver_does_not_block_another(chdb_store: Store, tmp_path: Path) -> None:
    fast_port = free_port()
    with run_receiver(fast_port) as fast:
        outbox = Outbox(chdb_store)
        outbox.add([{"notification_id": "n1", "webhook": "down", "alert_id": "a", "payload": "{}"},
                    {"notification_id": "n1", "webhook": "up", "alert_id": "a", "payload": "{}"}])
        hooks = {"down": Webhook("down", f"http://127.0.0.1:{free_port()}/x", timeout=1),
                 "up": Webhook("up", fast.url)}
        deliverer = Deliverer(outbox, hooks, allow_private=True, max_age=3600,
                              base_backoff=0.2, poll_seconds=0.05)
        await _deliver_until(deliverer, lambda: len(fast.accepted) == 1)
    assert outbox.depth() == 1, "the dead receiver's notification is still waiting, not lost"


def test_alert_text_names_unit_and_threshold() -> None:
    from alerts.evaluator import GroupState, Transition
    from alerts.payloads import describe, slack_payload, summary

    assert describe(rule(), 4270.4) == "p75 LCP 4,270 ms > 4,000 ms"
    assert describe(rule(metric="cls", threshold=0.25), 0.31) == "p75 CLS 0.31 > 0.25"
    assert describe(rule(metric="login_failure_rate", stat="rate", threshold=0.25),
                    0.2647) == "login failure rate 26.5% > 25%"
    assert describe(rule(metric="apdex", direction="below", threshold=0.85),
                    0.62) == "Apdex 0.62 < 0.85"
    firing = Transition("firing", GroupState("slow-lcp", "country=BR,region=SP", value=5062.8,
                                             samples=20))
    money = {"method": "modelled", "per_day": 2158.62, "currency": "EUR"}
    text = summary(rule(window=300), firing, money)
    assert text == ("FIRING: slow-lcp (country=BR, region=SP): p75 LCP 5,063 ms > 4,000 ms, "
                    "20 samples over 5m; 2,159 EUR a day at risk (modelled)")
    slack = slack_payload({"state": "firing", "summary": text, "link": "http://x/", "alert_id": "a"})
    assert slack["text"] == ":red_circle: " + text


def test_revenue_reason_for_metrics_without_a_model(chdb_store: Store) -> None:
    from alerts.revenue import revenue_at_risk

    money = revenue_at_risk(chdb_store, rule(metric="error_rate", group_by=("page_group",)),
                            {"page_group": "/checkout"})
    assert money["per_day"] is None and money["reason"].startswith("no revenue model for error_rate")
    by_page = revenue_at_risk(chdb_store, rule(group_by=("page_group",)), {"page_group": "/x"})
    assert by_page["reason"] == "revenue is per session, and page_group is not a session dimension"


def test_lcp_alert_payload_says_why(chdb_store: Store) -> None:
    import orjson

    def parted(country: str, ttfb: float, n: int) -> None:
        chdb_store.insert("rum.events", [{
            "event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "pageview",
            "ts": round(T0, 3), "received_at": round(T0, 3), "country": country,
            "lcp": ttfb + 1500, "lcp_ttfb": ttfb, "lcp_load_delay": 100.0,
            "lcp_load_time": 1000.0, "lcp_render_delay": 400.0, "connection_type": "4g",
            "pageview_id": uuid.uuid4().hex, "session_id": f"s{i % 7}"} for i in range(n)])

    parted("IN", 3000, 100)  # LCP 4,500: the server is far
    parted("NL", 300, 100)
    runner_for(chdb_store, rule(for_seconds=0)).evaluate_once(T0 + 1)
    [body] = Outbox(chdb_store).pending("ops")
    payload = orjson.loads(body["payload"])
    assert payload["group"] == {"country": "IN"}
    why = payload["why"]
    assert [r["part"] for r in why["reasons"]] == ["lcp_ttfb"]
    assert why["reasons"][0]["growth_ms"] == 2700  # no hour rolled: exact quantiles
    assert "waiting for the server" in why["sentence"] and "other countries" in why["sentence"]
    assert why["slow_connection_share"] == 0.0


def test_lcp_alert_of_a_group_without_parts_has_no_why(chdb_store: Store) -> None:
    """The default agent sends no parts: the payload's `why` is null (docs/alerts.md), even
    though the group's page views sent a connection type."""
    import orjson

    chdb_store.insert("rum.events", [{
        "event_id": str(uuid.uuid4()), "site": "shop-eu", "kind": "pageview",
        "ts": round(T0, 3), "received_at": round(T0, 3), "country": country, "lcp": lcp,
        "connection_type": "4g", "pageview_id": uuid.uuid4().hex, "session_id": f"s{i % 7}"}
        for country, lcp in (("IN", 4500.0), ("NL", 1800.0)) for i in range(100)])
    runner_for(chdb_store, rule(for_seconds=0)).evaluate_once(T0 + 1)
    [body] = Outbox(chdb_store).pending("ops")
    payload = orjson.loads(body["payload"])
    assert payload["group"] == {"country": "IN"} and payload["why"] is None
