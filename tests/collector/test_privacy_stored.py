"""Every secret class the docs promise to scrub is absent from every stored column, planted
in every string field a beacon carries (through HTTP, the stages and the landing table)."""

from __future__ import annotations

import orjson

from tests.beacons import envelope
from tests.conftest import CHROME_UA, RunningServer

CARD = "4111111111111111"
SECRETS = [
    CARD, "4111-1111-1111-1111", "4111.1111.1111.1111", "dave@example.com",
    "dave%40example.com", "jsess-9f8e7d", "rst-77aa55", "eyJhbGciOiJIUzI1NiJ9.tok",
    "hunter2", "utm_leak", "frag-leak", "c2VjcmV0dXNlcjpwYXNzd29yZA",
]


def _body() -> dict[str, object]:
    return envelope(
        url=f"https://shop.example.com/pay/{CARD}/confirm;jsessionid=jsess-9f8e7d"
            "?email=dave@example.com#frag-leak",
        ref="https://ref.example.com/users/dave%40example.com?utm_leak=1",
        user="dave@example.com",
        attribution={"lcp_element": "img[alt='dave@example.com']",
                     "lcp_resource": f"https://cdn.example.com/reset/token=rst-77aa55/{CARD}.jpg?x=1",
                     "inp_target": "button#pay-4111.1111.1111.1111",
                     "cls_source": "div.cc_4111111111111111",
                     "inp_script": f"https://cdn.example.com/u/dave@example.com/{CARD}.js?utm_leak=1"},
        events=[
            {"t": "error", "message": "Failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.tok "
                                      "for dave@example.com",
             "source": "https://shop.example.com/users/dave%40example.com/app.js?frag-leak=1",
             "line": 1, "col": 2,
             "stack": "at pay (https://shop.example.com/app.js?utm_leak=1#frag-leak:1:2)\n"
                      "at go (https://x.example/p?password=hunter2:3:4)"},
            {"t": "api", "method": "POST", "url": f"/api/cards/{CARD}/charge?token=rst-77aa55",
             "status": 402},
            {"t": "login", "success": False,
             "reason": "Basic c2VjcmV0dXNlcjpwYXNzd29yZA== refused for dave@example.com"},
            {"t": "custom", "name": "signup dave@example.com",
             "props": {"dave@example.com": "x", "card": "4111-1111-1111-1111",
                       "note": "see https://x.example/a?utm_leak=2"}},
        ])


def test_no_planted_secret_reaches_any_stored_column(rum_server: RunningServer) -> None:
    reply = rum_server.post(_body(), headers={"user-agent": CHROME_UA})
    assert reply.status_code == 202, reply.text
    assert reply.json()["accepted"] == 5
    rum_server.wait_rows(5)
    rows = rum_server.store.query("SELECT * FROM rum.events")
    stored = orjson.dumps(rows).decode()
    leaked = [s for s in SECRETS if s in stored]
    assert leaked == [], leaked
    paths = {r["page_path"] for r in rows}
    assert paths == {"/pay/:card/confirm;jsessionid=:secret"}, paths
