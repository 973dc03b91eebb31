"""The alert state machine per rule and group: ok -> pending -> firing -> (resolved) ok.

Pure: given the previous state, the current value and the time, it returns the
next state and the notification to send, if any. `for` delays firing; the
rule's hysteresis keeps a value hovering at the threshold from flapping.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from alerts.rules import Rule

OK, PENDING, FIRING = "ok", "pending", "firing"


@dataclass(frozen=True)
class GroupState:
    """Where one (rule, group) stands."""

    rule: str
    group: str  # e.g. "country=IN" or "" for an ungrouped rule
    state: str = OK
    since: float = 0.0  # when the current breach (pending/firing) began, epoch seconds
    started_at: float = 0.0  # when it started firing
    value: float | None = None
    samples: int = 0
    updated_at: float = 0.0

    @property
    def alert_id(self) -> str:
        """Stable id of one firing episode: same across restarts, new for the next episode."""
        key = f"{self.rule}|{self.group}|{self.started_at:.3f}"
        return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Transition:
    """A change worth telling someone about: 'firing' or 'resolved'."""

    kind: str
    state: GroupState
    resolved_at: float | None = None


def step(rule: Rule, prev: GroupState, value: float | None, samples: int,
         now: float) -> tuple[GroupState, Transition | None]:
    """Advance one group by one evaluation."""
    enough = value is not None and samples >= rule.min_samples
    if not enough:
        # no or thin data is not a recovery: a firing alert stays firing, a pending one lapses
        if prev.state == PENDING:
            return replace(prev, state=OK, since=0.0, updated_at=now), None
        return replace(prev, updated_at=now), None
    assert value is not None
    current = replace(prev, value=value, samples=samples, updated_at=now)
    if prev.state == FIRING:
        if rule.recovered(value):
            resolved = replace(current, state=OK, since=0.0)
            return resolved, Transition("resolved", current, resolved_at=now)
        return current, None
    if not rule.breached(value):
        return replace(current, state=OK, since=0.0), None
    since = prev.since if prev.state == PENDING else now
    if now - since >= rule.for_seconds:
        firing = replace(current, state=FIRING, since=since, started_at=now)
        return firing, Transition("firing", firing)
    return replace(current, state=PENDING, since=since), None
