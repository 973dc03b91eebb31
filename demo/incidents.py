"""Incidents the demo plants on a schedule, and what each does to the traffic while active."""

from __future__ import annotations

from dataclasses import dataclass

# kinds
SLOW_REGION = "slow_region"
LOGIN_FAILURES = "login_failures"
CHECKOUT_ERROR = "checkout_error"


@dataclass(frozen=True)
class Incident:
    """One planted problem: what, where, and when it starts (seconds into the demo)."""

    kind: str
    target: str  # a place key ('BR-SP'), a country ('DE') or a page ('/checkout')
    start: float
    description: str


def schedule(timeline: float, slow_place: str = "BR-SP", login_country: str = "DE") -> list[Incident]:
    """The demo's incidents spread over `timeline` seconds, first one a fifth of the way in."""
    return [
        Incident(SLOW_REGION, slow_place, 0.2 * timeline,
                 f"LCP degrades in {slow_place}: its image CDN edge slows down"),
        Incident(LOGIN_FAILURES, login_country, 0.3 * timeline,
                 f"login failures spike in {login_country}: the identity provider times out"),
        Incident(CHECKOUT_ERROR, "/checkout", 0.4 * timeline,
                 "a JS error appears on /checkout: TypeError in renderTotals"),
    ]


class Incidents:
    """The schedule and the clock it is read against (seconds since the demo started)."""

    def __init__(self, planned: list[Incident]) -> None:
        self.planned = planned

    def active(self, elapsed: float) -> list[Incident]:
        """Incidents that have started by `elapsed`."""
        return [i for i in self.planned if i.start <= elapsed]

    def lcp_slowdown(self, place_key: str, elapsed: float) -> bool:
        """True when this place's pages are degraded now."""
        return any(i.kind == SLOW_REGION and i.target == place_key for i in self.active(elapsed))

    def login_broken(self, country: str, elapsed: float) -> bool:
        """True when logins from this country are failing now."""
        return any(i.kind == LOGIN_FAILURES and i.target == country for i in self.active(elapsed))

    def checkout_broken(self, elapsed: float) -> bool:
        """True when the checkout page throws now."""
        return any(i.kind == CHECKOUT_ERROR for i in self.active(elapsed))
