"""Nothing personal is stored: IPs, e-mails, card numbers and secrets stay out of store and logs."""

from __future__ import annotations

import io
import logging
import time

import httpx
import orjson

from collector.logs import JsonFormatter
from collector.privacy import QueryAllowList, pseudonymize_user, scrub_props, scrub_text
from tests.beacons import envelope
from tests.conftest import RunningServer
from tests.geo_fixtures import visitor_ip

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
TOKEN = "tok_9f8e7d6c5b4a"


def test_scrub_text() -> None:
    assert scrub_text(f"failed for {EMAIL}") == "failed for [scrubbed]"
    assert scrub_text(f"card {CARD} declined") == "card [scrubbed] declined"
    assert scrub_text("order 1234567890123 shipped") == "order 1234567890123 shipped", "not Luhn"
    assert scrub_text(f"GET /api?token={TOKEN}&x=1") == "GET /api", "query strings never kept"
    assert scrub_text(f"token={TOKEN}&x=1") == "token=[scrubbed]&x=1"
    assert scrub_text('{"password": "hunter2"}') == '{"password": "[scrubbed]"}'


def test_scrub_props_and_users() -> None:
    assert scrub_props({"auth_token": "abc", "note": EMAIL, "n": 3}) == {
        "auth_token": "[scrubbed]", "note": "[scrubbed]", "n": 3}
    assert pseudonymize_user(EMAIL).startswith("h:") and EMAIL not in pseudonymize_user(EMAIL)
    assert pseudonymize_user("cust-42") == "cust-42"


def test_query_allow_list() -> None:
    allow = QueryAllowList(["utm_*"])
    url = f"https://a/b?utm_source=mail&utm_token=x&email={EMAIL}&utm_medium={EMAIL}"
    assert allow.kept_query(url) == "utm_source=mail&utm_medium=%5Bscrubbed%5D"
    assert QueryAllowList([]).kept_query(url) == ""


def test_pii_laden_beacon_leaves_nothing_personal_in_store_or_logs(rum_server: RunningServer) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    ip = visitor_ip("SE")
    try:
        now = time.time() * 1000
        body = envelope(
            sid="pii", user=EMAIL,
            url=f"https://shop.example.com/account/{EMAIL}/orders?email={EMAIL}&card={CARD}"
                f"&token={TOKEN}#pw=hunter2",
            ref=f"https://mail.example.com/inbox?to={EMAIL}",
            events=[
                {"t": "error", "ts": now, "message": f"Payment for {EMAIL} with {CARD} failed",
                 "stack": f"Error: token={TOKEN}\n at pay (https://shop.example.com/app.js?session={TOKEN})"},
                {"t": "api", "ts": now, "method": "POST",
                 "url": f"https://shop.example.com/api/users/{EMAIL}?api_key={TOKEN}", "status": 500},
                {"t": "custom", "ts": now, "name": "signup",
                 "props": {"password": "hunter2", "contact": EMAIL, "plan": "pro"}},
                {"t": "login", "ts": now, "success": False, "reason": f"unknown user {EMAIL}"},
            ])
        assert rum_server.post(body, headers={"x-forwarded-for": ip}).status_code == 202
        # a refused beacon is logged (debug): its client-supplied bits must not carry PII either
        rum_server.post(envelope(site=EMAIL), headers={"x-forwarded-for": ip})
        rum_server.wait_rows(5, "session_id = 'pii'")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    stored = orjson.dumps(rum_server.store.query("SELECT * FROM rum.events")).decode()
    logs = stream.getvalue()
    assert "beacon refused" in logs, "the refusal was logged"
    for secret in (EMAIL, "jane.doe", CARD, CARD.replace(" ", ""), TOKEN, "hunter2", ip):
        assert secret not in stored, secret
        assert secret not in logs, secret
    row = rum_server.store.query(
        "SELECT page_path, page_group, user_id FROM rum.events "
        "WHERE session_id = 'pii' AND kind = 'pageview'")[0]
    assert row["page_path"] == "/account/:email/orders"
    assert row["user_id"].startswith("h:")


def test_no_cookies_on_any_response(rum_server: RunningServer) -> None:
    replies = [rum_server.post(envelope()), rum_server.post(b"{"),
               httpx.get(f"{rum_server.base_url}/healthz"),
               httpx.get(f"{rum_server.base_url}/v1/snippet?site=a"),
               httpx.get(f"{rum_server.base_url}/v1/query/slow-regions")]
    for reply in replies:
        assert "set-cookie" not in reply.headers


def test_log_lines_cannot_be_forged() -> None:
    record = logging.LogRecord("rum", logging.WARNING, __file__, 1, "refused", None, None)
    record.detail = "x\r\n{\"level\":\"error\",\"msg\":\"forged\"}\x1b[31m" + "A" * 5000
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    parsed = orjson.loads(line)
    assert parsed["msg"] == "refused" and len(parsed["detail"]) == 512
