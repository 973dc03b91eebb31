"""revenue-impact, conversion-by-speed and login-revenue-at-risk on planted ground truth.

The planted site: a session converts with a probability set by its LCP bucket (8% up to
2 s, then 1.5 points less per second: 6.5%, 5%, 3.5%, 2%, 0.5%), every order is worth
50 EUR, conversions are placed exactly (round(n x rate) per bucket), so the truth is known.
NL and DE are fast, IN is slow (p75 LCP ~4.7 s), BR is slow but has only 40 sessions.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from pipeline.store import Store
from queries.catalog import ParamError, get_query
from queries.revenue import BUCKETS, DEFAULT_ELASTICITY
from queries.stats import what_if_gain
from tests.conftest import RunningServer

NOW = time.time()
RATE = (0.08, 0.08, 0.065, 0.05, 0.035, 0.02, 0.005)  # conversion by LCP bucket (0-1 s .. 6 s+)
ORDER = 50.0
MIX = {"NL": (6000, (0.3, 0.5, 0.15, 0.05, 0, 0, 0)),
       "DE": (6000, (0.3, 0.5, 0.15, 0.05, 0, 0, 0)),
       "IN": (3000, (0, 0.1, 0.2, 0.3, 0.2, 0.1, 0.1)),
       "BR": (40, (0, 0, 0, 0, 0, 0, 1))}


def event(kind: str, country: str, session: str, **cols: Any) -> dict[str, Any]:
    ts = round(NOW - 600, 3)
    return {"event_id": str(uuid.uuid4()), "site": "shop", "kind": kind, "ts": ts, "received_at": ts,
            "country": country, "session_id": session, "pageview_id": uuid.uuid4().hex, **cols}


def seed_sessions(store: Store, rate: tuple[float, ...] = RATE) -> dict[str, list[float]]:
    """One page view per session (LCP spread inside its bucket), a conversion where planted."""
    rows, lcps = [], {}
    for country, (sessions, mix) in MIX.items():
        lcps[country] = []
        for bucket, share in enumerate(mix):
            n = round(sessions * share)
            converting = round(n * rate[bucket])
            for i in range(n):
                sid = f"{country}-{bucket}-{i}"
                lcp = bucket * 1000 + 50 + 900 * i / max(1, n - 1)
                lcps[country].append(lcp)
                rows.append(event("pageview", country, sid, lcp=lcp))
                if i < converting:
                    rows.append(event("conversion", country, sid, conversion_value=ORDER, currency="EUR"))
    store.insert("rum.events", rows)
    return lcps


def run(store: Store, name: str, **raw: str) -> list[dict[str, Any]]:
    spec = get_query(name)
    return spec.run(store, spec.parse({"site": "shop", **raw}), now=NOW)


# The planted sessions are one window's. A 24 h window starts at the top of its first hour
# (docs/analytics.md), so it covers 24 h and some minutes, and per-day figures are the
# window's x 86,400 / the seconds covered.
COVERED_S = NOW - (NOW - 86_400) // 3600 * 3600
PER_DAY = 86_400 / COVERED_S


def p75(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[round(0.75 * (len(ordered) - 1))]


def planted_gain_per_day() -> float:
    """The truth: IN's sessions with the fast segments' bucket mix, at the planted rates."""
    fast = MIX["NL"][1]
    gain = sum((q - p) * ORDER * r for q, p, r in zip(fast, MIX["IN"][1], RATE, strict=True))
    return gain * MIX["IN"][0] * PER_DAY


def test_observed_what_if_finds_the_planted_loss(chdb_store: Store) -> None:
    seed_sessions(chdb_store)
    rows = run(chdb_store, "revenue-impact", by="country", min_sessions="100")
    observed = {r["country"]: r for r in rows if r["method"] == "observed"}
    assert set(observed) == {"NL", "DE", "IN", "BR"}
    brazil = observed["BR"]  # slow, but 40 sessions, below min_sessions: no figure, a reason
    assert brazil["status"] == "too_few_sessions" and brazil["revenue_at_risk_per_day"] is None
    assert brazil["reason"] == "too few sessions: 40, a figure needs 100 (--min-sessions)"
    india = observed["IN"]
    truth = planted_gain_per_day()  # 1.5375 EUR per session x 3000 = 4612.5 EUR a window
    assert truth == pytest.approx(4612.5 * PER_DAY)
    assert india["status"] == "ok" and india["flagged"] and india["slow"]
    assert india["revenue_at_risk_per_day"] == pytest.approx(truth, rel=0.03)
    assert india["revenue_at_risk_per_30d"] == pytest.approx(30 * truth, rel=0.03)
    assert india["low_per_30d"] < 30 * truth < india["high_per_30d"]
    assert india["low_per_30d"] > 0 and india["currency"] == "EUR"
    assert india["sessions"] == 3000 and india["reference_sessions"] == 12_000
    assert india["avg_order_value"] == ORDER
    for healthy in ("NL", "DE"):
        row = observed[healthy]
        assert row["status"] == "not_slow" and not row["flagged"]
        assert row["revenue_at_risk_per_day"] is None
        assert row["reason"].startswith("not slow: p75 LCP 1,"), row["reason"]
    assert india["reason"] == ""
    assert rows[0]["country"] == "IN", "largest revenue at risk first"


def test_modelled_prior_on_the_slow_segment(chdb_store: Store) -> None:
    lcps = seed_sessions(chdb_store)
    rows = run(chdb_store, "revenue-impact", by="country")
    modelled = {r["country"]: r for r in rows if r["method"] == "modelled"}
    india = modelled["IN"]
    excess_s = (p75(lcps["IN"]) - 2500) / 1000
    assert india["excess_ms"] == pytest.approx(excess_s * 1000, abs=10)
    sessions = sum(n for n, _ in MIX.values())
    orders = sum(round(round(n * s) * r) for n, mix in MIX.values() for s, r in zip(mix, RATE, strict=True))
    site_rps = orders * ORDER / sessions
    truth = DEFAULT_ELASTICITY / 100 * excess_s * MIX["IN"][0] * site_rps * PER_DAY
    assert india["status"] == "ok" and india["flagged"]
    assert india["revenue_at_risk_per_day"] == pytest.approx(truth, rel=0.02)
    assert india["low_per_30d"] <= india["revenue_at_risk_per_30d"] < india["high_per_30d"]
    assert "not measured here" in india["basis"]
    assert not modelled["NL"]["flagged"] and modelled["NL"]["status"] == "not_slow"
    # a given revenue per session and a stronger prior replace the observed ones
    given = run(chdb_store, "revenue-impact", by="country", elasticity="10", revenue_per_session="2")
    (row,) = [r for r in given if r["method"] == "modelled" and r["country"] == "IN"]
    assert row["revenue_at_risk_per_day"] == pytest.approx(0.10 * excess_s * 3000 * 2 * PER_DAY, rel=0.02)


def test_too_few_conversions_leaves_the_observed_method_out(chdb_store: Store) -> None:
    seed_sessions(chdb_store, rate=(0.001,) * BUCKETS)
    rows = run(chdb_store, "revenue-impact", by="country", min_conversions="30")
    india = {r["method"]: r for r in rows if r["country"] == "IN"}
    assert india["observed"]["status"] == "too_few_conversions"
    assert india["observed"]["revenue_at_risk_per_day"] is None and not india["observed"]["flagged"]
    assert india["observed"]["reason"].startswith("too few conversions: ")
    assert india["modelled"]["status"] == "ok" and india["modelled"]["revenue_at_risk_per_day"] > 0


def test_no_conversions_at_all(chdb_store: Store) -> None:
    seed_sessions(chdb_store, rate=(0.0,) * BUCKETS)
    rows = run(chdb_store, "revenue-impact", by="country")
    india = {r["method"]: r for r in rows if r["country"] == "IN"}
    assert india["modelled"]["status"] == "no_revenue" and not any(r["flagged"] for r in rows)
    assert india["modelled"]["reason"].startswith("no revenue: ")


def test_conversion_by_speed_finds_the_plateau_and_slope(chdb_store: Store) -> None:
    seed_sessions(chdb_store)
    rows = run(chdb_store, "conversion-by-speed")
    assert [r["bucket"] for r in rows] == ["0-1 s", "1-2 s", "2-3 s", "3-4 s", "4-5 s", "5-6 s", "6 s+"]
    for row, planted in zip(rows, RATE, strict=True):
        assert row["conversion_rate"] == pytest.approx(planted, abs=0.002)
        assert row["ci_low"] <= planted <= row["ci_high"]
    assert [r["on_plateau"] for r in rows] == [True, True] + [False] * 5
    assert sum(r["optimal"] for r in rows) == 1 and (rows[0]["optimal"] or rows[1]["optimal"])
    assert rows[0]["plateau_ends_ms"] == 2000
    assert rows[0]["slope_per_s"] == pytest.approx(-0.015, abs=0.001)
    assert rows[0]["avg_order_value"] == ORDER


def test_conversion_by_speed_per_segment_skips_thin_buckets(chdb_store: Store) -> None:
    seed_sessions(chdb_store)
    rows = run(chdb_store, "conversion-by-speed", by="country", min_sessions="500")
    brazil = [r for r in rows if r["country"] == "BR"]
    assert len(brazil) == 1 and not brazil[0]["optimal"] and not brazil[0]["on_plateau"]


def seed_logins(store: Store) -> None:
    """One login per session; blocked = failed. Logged-in sessions convert 10% at 80 EUR."""
    rows = []
    for country, sessions, blocked in (("BR", 1000, 120), ("DE", 2000, 20), ("FR", 2000, 20),
                                       ("SE", 8, 4)):
        logged_in = sessions - blocked
        for i in range(sessions):
            sid = f"{country}-{i}"
            failed = i < blocked
            rows.append(event("login", country, sid, login_success=0 if failed else 1,
                              login_reason="invalid_password" if failed else ""))
            if not failed and i - blocked < round(logged_in * 0.1):
                rows.append(event("conversion", country, sid, conversion_value=80.0, currency="EUR"))
    store.insert("rum.events", rows)


def test_login_revenue_at_risk(chdb_store: Store) -> None:
    seed_logins(chdb_store)
    rows = {r["country"]: r for r in run(chdb_store, "login-revenue-at-risk", by="country")}
    assert {c for c, r in rows.items() if r["flagged"]} == {"BR"}, "SE: 8 sessions"
    brazil = rows["BR"]
    assert brazil["blocked"] == 120 and brazil["blocked_share"] == 0.12
    assert brazil["logged_in_conversion_rate"] == pytest.approx(0.10, abs=0.001)
    assert brazil["avg_order_value"] == 80
    # planted: 120 blocked x 10% x 80 EUR = 960 a day; beyond the ~1% baseline: 110 x 8 = 880
    assert brazil["revenue_at_risk_per_day"] == pytest.approx(960, rel=0.01)
    assert brazil["revenue_at_risk_per_30d"] == pytest.approx(28_800, rel=0.01)
    assert brazil["excess_revenue_at_risk_per_day"] == pytest.approx(880, rel=0.02)
    assert rows["DE"]["excess_revenue_at_risk_per_day"] == 0 and not rows["DE"]["flagged"]


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("revenue-impact", {"by": "page_group"}, "by:"),
    ("revenue-impact", {"elasticity": "200"}, "elasticity:"),
    ("revenue-impact", {"elasticity": "nan"}, "elasticity:"),
    ("revenue-impact", {"threshold": "-1"}, "threshold:"),
    ("revenue-impact", {"min_conversions": "0"}, "min_conversions:"),
    ("revenue-impact", {"revenue_per_session": "lots"}, "revenue_per_session:"),
    ("conversion-by-speed", {"min_sessions": "0"}, "min_sessions:"),
    ("login-revenue-at-risk", {"by": "country,region,city"}, "by:"),
])
def test_parameter_validation(name: str, raw: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        get_query(name).parse(raw)


def test_what_if_gain_helper() -> None:
    gain, se = what_if_gain([0.0, 100.0], [100.0, 0.0], [2.0, 1.0], [0.0, 0.0])
    assert gain == 1.0 and se == 0.0
    assert what_if_gain([0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]) == (0.0, 0.0)


def test_http_api_serves_revenue(rum_server: RunningServer) -> None:
    seed_sessions(rum_server.store)
    base = f"{rum_server.base_url}/v1/query"
    reply = httpx.get(f"{base}/revenue-impact", params={"site": "shop", "by": "country"})
    assert reply.status_code == 200
    flagged = {(r["country"], r["method"]) for r in reply.json()["rows"] if r["flagged"]}
    # BR's 40 sessions, all past 6 s, get figures at the default min_sessions (10)
    assert flagged == {(c, m) for c in ("IN", "BR") for m in ("observed", "modelled")}
    speed = httpx.get(f"{base}/conversion-by-speed", params={"site": "shop"})
    assert speed.status_code == 200 and speed.json()["rows"][0]["plateau_ends_ms"] == 2000
    bad = httpx.get(f"{base}/revenue-impact", params={"elasticity": "-5"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_parameter"
    assert "elasticity:" in bad.json()["detail"]
