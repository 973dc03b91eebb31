"""page-views finds the newest page views first and then reads only their rows, from the
earliest start among them on: the answer is the one the whole window gives (computed here
in Python from the planted rows), with a page view that started before the shown ones but
flushed after them, errors on both sides, a bot, duplicates, filters and limits. Over a window
longer than two hours it first looks in the last hour, then (over 12 hours) in the last six
(queries/pages.py `_newest`); page views that began before such a tail and flushed in it are
left out there, and the answer is the same."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import pytest

from pipeline.store import Store
from queries.catalog import get_query, parse_window
from queries.pages import TAILS_MS, _newest
from tests.pipeline.stores import RecordingStore


def plant(store: Store, now: float) -> list[dict[str, Any]]:
    rng = random.Random(4)
    rows: list[dict[str, Any]] = []

    def event(pid: str, kind: str, ts: float, **extra: Any) -> None:
        rows.append({"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": round(ts, 3),
                     "received_at": round(ts, 3), "session_id": f"s-{pid}", "pageview_id": pid,
                     "page_group": extra.pop("page_group", "/cart"), "page_path": "/cart",
                     "country": extra.pop("country", "IN"), **extra})

    for i in range(60):
        pid = f"p{i:02d}"
        start = now - 3000 + 40 * i + rng.random()
        country = "IN" if i % 3 else "BR"
        event(pid, "pageview", start, country=country, lcp=1000.0 + i, device_class="mobile")
        if i % 4 == 0:
            event(pid, "pageview", start + 5, country=country, inp=100.0 + i)  # a second flush
        if i % 5 == 0:
            event(pid, "error", start + 2, country=country)
    # started before every page view above, flushed and failed after all of them
    event("early", "pageview", now - 3500, lcp=9000.0)
    event("early", "pageview", now - 30, inp=700.0)
    event("early", "error", now - 20)
    # an error without a page view row in the window (its page view is older): not listed
    event("orphan", "error", now - 10)
    # began hours ago, flushed again a second ago: the newest row, not the newest page view
    event("long", "pageview", now - 9000, lcp=5000.0)
    event("long", "pageview", now - 1, inp=300.0)
    event("long", "error", now - 3)
    # began hours ago in Brazil, flushed from India a second ago: with country IN, only its
    # Indian row is in the place, and it is the newest page view there
    event("moved", "pageview", now - 8000, country="BR", lcp=4000.0)
    event("moved", "pageview", now - 2, country="IN", lcp=4100.0)
    event("bot", "pageview", now - 5, is_bot=1)
    event("other-site", "pageview", now - 5, site="blog")
    store.insert("rum.events", rows)
    store.insert("rum.events", [r for r in rows if r["pageview_id"] in ("p59", "early")])  # twice
    return rows


def expected(rows: list[dict[str, Any]], now: float, window: float, limit: int,
             **filters: str) -> list[tuple[Any, ...]]:
    """(pageview_id, first ts, errors, max LCP) of the newest `limit`, from the rows."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if (row["site"] == "shop" and not row.get("is_bot") and now - window <= row["ts"] < now
                and all(row.get(k) == v for k, v in filters.items())):
            groups.setdefault(row["pageview_id"], []).append(row)
    shown = [(pid, min(r["ts"] for r in got), sum(r["kind"] == "error" for r in got),
              max((r["lcp"] for r in got if r.get("lcp") is not None), default=None))
             for pid, got in groups.items() if any(r["kind"] == "pageview" for r in got)]
    shown.sort(key=lambda s: (-s[1], s[0]))
    return shown[:limit]


CASES = [(10, {}), (25, {"country": "IN"}), (500, {}), (5, {"country": "BR", "device_class": "mobile"}),
         (10, {"country": "NL"})]


@pytest.mark.parametrize("window", ["1h", "6h", "24h"])
@pytest.mark.parametrize(("limit", "filters"), CASES)
def test_the_newest_page_views_are_those_of_the_whole_window(chdb_store: Store, window: str, limit: int,
                                                             filters: dict[str, str]) -> None:
    now = time.time()
    rows = plant(chdb_store, now)
    spec = get_query("page-views")
    raw = {"window": window, "site": "shop", "limit": str(limit), "page_group": "/cart",
           **{("device" if k == "device_class" else k): v for k, v in filters.items()}}
    got = spec.run(chdb_store, spec.parse(raw), now=now)
    want = expected(rows, now, parse_window(window), limit, **filters)
    assert [r["pageview_id"] for r in got] == [w[0] for w in want]
    for row, (_, _, errors, lcp) in zip(got, want, strict=True):
        assert (row["errors"], row["lcp"]) == (errors, lcp), row
    if not filters and limit >= 61 and window == "1h":
        early = next(r for r in got if r["pageview_id"] == "early")
        assert (early["errors"], early["lcp"], early["inp"]) == (1, 9000.0, 700.0)
        assert early["started"].startswith(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 3500))[:16])


@pytest.mark.parametrize(("window_h", "limit", "filters", "tails"), [
    (6, 10, {}, 1), (6, 25, {"country": "IN"}, 1), (6, 500, {}, None), (6, 10, {"country": "NL"}, None),
    (24, 10, {}, 1), (24, 62, {}, 2), (24, 500, {}, None)])
def test_the_window_s_tail_answers_when_it_holds_enough_page_views(chdb_store: Store, window_h: int,
                                                                   limit: int, filters: dict[str, str],
                                                                   tails: int | None) -> None:
    """The last hour answers when it holds `limit` page views that began in it (so the cases
    above test it), then the last six hours of a window over 12 h (61 page views began in the
    last hour, 63 in the last six: "long" and "moved" began between), and the whole window
    is grouped when neither does; the page views that began before a tail ("long", and
    "moved" outside India) are never among its page views."""
    now = time.time()
    plant(chdb_store, now)
    since, until = int((now - window_h * 3600) * 1000), int(now * 1000)
    bound = {"site": "shop", "since_ms": since, "until_ms": until, "limit": limit,
             "page_group": "/cart", "country": "", "region": "", "device": "", **filters}
    store = RecordingStore(chdb_store)
    ids = json.loads(_newest(store, bound).params["ids"])
    looked_from = [p["recent_ms"] for p in store.params_of("page_views_newest")]
    tried = [until - tail for tail in TAILS_MS if window_h * 3_600_000 > 2 * tail]
    assert looked_from == (tried[:tails] if tails else [*tried, since])
    if tails == 1:
        assert len(ids) == limit and "long" not in ids
        assert ("moved" in ids) is (filters.get("country") == "IN")
    if tails == 2:
        # "moved" (began 8,000 s ago) is the 62nd newest page view, "long" (9,000 s) the 63rd
        assert len(ids) == limit and "moved" in ids and "long" not in ids
    short = RecordingStore(chdb_store)  # a window of two hours or less: grouped whole at once
    _newest(short, {**bound, "since_ms": until - 2 * TAILS_MS[0]})
    assert [p["recent_ms"] for p in short.params_of("page_views_newest")] == [until - 2 * TAILS_MS[0]]
