"""The alert evaluator: every interval, each rule's metric per group -> state machine ->
history and outbox (persisted in the store, so a restart neither re-fires nor forgets)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from alerts.evaluator import FIRING, GroupState, Transition, step
from alerts.outbox import Outbox
from alerts.payloads import dashboard_link, encode, generic_payload, notification_id, slack_payload
from alerts.revenue import revenue_at_risk
from alerts.rules import Rule, RuleSet
from pipeline.store import Store, StoreError
from queries import load_sql
from queries.why import why_for_group

log = logging.getLogger(__name__)
MAX_USERS = 20
DEFAULT_APDEX_T = 2500.0
_LEVEL = {"p50": 0.5, "p75": 0.75, "p95": 0.95}


class EvalHooks:
    """Observers of evaluations (metrics)."""

    def evaluated(self, firing: int, outbox_depth: int = 0) -> None:
        """One evaluation round finished: alerts firing, notifications not yet delivered."""


class AlertRunner:
    """Evaluates every rule on a tick and queues notifications in the outbox."""

    def __init__(self, store: Store, ruleset: RuleSet, outbox: Outbox, *, public_url: str,
                 interval: float = 30.0, clock: Callable[[], float] = time.time,
                 hooks: EvalHooks | None = None, on_notify: Callable[[], None] | None = None):
        self.store = store
        self.ruleset = ruleset
        self.outbox = outbox
        self.public_url = public_url.rstrip("/")
        self.interval = interval
        self.clock = clock
        self.hooks = hooks or EvalHooks()
        self.on_notify = on_notify
        self.states: dict[tuple[str, str], GroupState] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def load_state(self) -> None:
        """Read the persisted states (latest per rule and group)."""
        rows = self.store.query(
            "SELECT rule, group_key, state, since, started_at, value, samples, "
            "toFloat64(updated_at) AS updated_at FROM rum.alert_state FINAL")
        self.states = {(r["rule"], r["group_key"]): GroupState(
            r["rule"], r["group_key"], r["state"], r["since"], r["started_at"], r["value"],
            int(r["samples"]), r["updated_at"]) for r in rows}

    def evaluate_once(self, now: float | None = None) -> list[Transition]:
        """One round over every rule; returns the transitions it notified."""
        now = self.clock() if now is None else now
        transitions: list[Transition] = []
        changed: list[GroupState] = []
        for rule in self.ruleset.rules:
            results = self._measure(rule, now)
            keys = set(results) | {g for (r, g) in self.states if r == rule.name}
            for group in sorted(keys):
                prev = self.states.get((rule.name, group), GroupState(rule.name, group))
                value, samples, sessions = results.get(group, (None, 0, 0))
                new, transition = step(rule, prev, value, samples, now)
                if (new.state, new.since, new.started_at) != (prev.state, prev.since,
                                                              prev.started_at) or transition:
                    changed.append(new)
                self.states[(rule.name, group)] = new
                if transition is not None:
                    transitions.append(transition)
                    self._notify(rule, transition, sessions, now)
        if changed:
            self.store.insert("rum.alert_state", [_state_row(s) for s in changed])
        self.hooks.evaluated(sum(1 for s in self.states.values() if s.state == FIRING),
                             self.outbox.depth())
        if transitions and self.on_notify is not None:
            self.on_notify()
        return transitions

    def _measure(self, rule: Rule, now: float) -> dict[str, tuple[float | None, int, int]]:
        until_ms = int(now * 1000)
        dims = list(rule.group_by) + ["", ""]
        rows = self.store.query(load_sql("alert_metric"), {
            "site": rule.site, "since_ms": until_ms - rule.window * 1000, "until_ms": until_ms,
            "metric": rule.metric, "level": _LEVEL.get(rule.stat, 0.75),
            "apdex_t": DEFAULT_APDEX_T, "d1": dims[0], "d2": dims[1]})
        out: dict[str, tuple[float | None, int, int]] = {}
        for row in rows:
            key = ",".join(f"{dim}={row[g]}" for dim, g in zip(rule.group_by, ("g1", "g2"),
                                                                strict=False))
            out[key] = (row["value"], int(row["samples"]), int(row["sessions"]))
        return out

    def _notify(self, rule: Rule, transition: Transition, sessions: int, now: float) -> None:
        state = transition.state
        self.store.insert("rum.alert_history", [{
            "alert_id": state.alert_id, "rule": rule.name, "group_key": state.group,
            "kind": transition.kind, "value": state.value, "threshold": rule.threshold,
            "samples": state.samples, "at": round(now, 3)}])
        firing = transition.kind == "firing"
        users = self._affected_users(rule, state, now) if firing else []
        group = dict(part.split("=", 1) for part in state.group.split(",") if part)
        money = revenue_at_risk(self.store, rule, group) if firing else None
        why = self._why(rule, group, now) if firing else None
        body = generic_payload(rule, transition, dashboard_link(self.public_url, rule, group),
                               sessions, users, money, why)
        rows = []
        for name in rule.webhooks:
            hook = self.ruleset.webhooks[name]
            payload = slack_payload(body) if hook.format == "slack" else body
            rows.append({"notification_id": notification_id(transition), "webhook": name,
                         "alert_id": state.alert_id, "payload": encode(payload).decode()})
        if rows:
            self.outbox.add(rows)
        log.info("alert " + transition.kind, extra={"rule": rule.name, "group": state.group,
                                                    "value": state.value})

    def _why(self, rule: Rule, group: dict[str, str], now: float) -> dict[str, Any] | None:
        """The payload's `why` (LCP/INP rules by country or region), None when the store fails."""
        until_ms = int(now * 1000)
        try:
            return why_for_group(self.store, rule.metric, rule.site, group,
                                 until_ms - rule.window * 1000, until_ms)
        except StoreError as exc:
            log.warning("why not computed", extra={"rule": rule.name, "error": str(exc)})
            return None

    def _affected_users(self, rule: Rule, state: GroupState, now: float) -> list[str]:
        values = dict(part.split("=", 1) for part in state.group.split(",") if part)
        dims = list(rule.group_by) + ["", ""]
        until_ms = int(now * 1000)
        rows = self.store.query(load_sql("alert_affected_users"), {
            "site": rule.site, "since_ms": until_ms - rule.window * 1000, "until_ms": until_ms,
            "d1": dims[0], "d2": dims[1], "v1": values.get(dims[0], ""),
            "v2": values.get(dims[1], ""), "max_users": MAX_USERS})
        return sorted(rows[0]["users"]) if rows else []

    def start(self) -> None:
        """Evaluate on a tick in the background."""
        self._task = asyncio.create_task(self._run(), name="alert-evaluator")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.evaluate_once)
            except StoreError as exc:
                log.warning("alert evaluation failed", extra={"error": str(exc)})
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass

    async def close(self) -> None:
        """Stop evaluating."""
        self._stop.set()
        if self._task is not None:
            await self._task


def retire_orphans(store: Store, rule_names: set[str], now: float | None = None) -> int:
    """Close the pending and firing alerts of rules that no longer exist.

    A rules file edited (or left out: `rum serve` reopening the demo's data) would
    otherwise leave their alerts active forever, since no evaluation reaches them. Each
    goes back to ok, and a firing one gets an 'orphaned' history entry (no webhook: the
    rule and its webhooks are gone). Returns how many were closed."""
    now = time.time() if now is None else now
    rows = store.query(
        "SELECT rule, group_key, state, since, started_at, value, samples FROM rum.alert_state "
        "FINAL WHERE state IN ('pending', 'firing')")
    orphans = [r for r in rows if r["rule"] not in rule_names]
    if not orphans:
        return 0
    history = [{
        "alert_id": GroupState(r["rule"], r["group_key"], started_at=r["started_at"]).alert_id,
        "rule": r["rule"], "group_key": r["group_key"], "kind": "orphaned", "value": r["value"],
        "threshold": 0.0, "samples": int(r["samples"]), "at": round(now, 3)}
        for r in orphans if r["state"] == FIRING]
    if history:
        store.insert("rum.alert_history", history)
    store.insert("rum.alert_state", [_state_row(GroupState(r["rule"], r["group_key"], updated_at=now))
                                     for r in orphans])
    log.warning("alerts of rules no longer defined closed",
                extra={"closed": len(orphans), "rules": sorted({r["rule"] for r in orphans})})
    return len(orphans)


def _state_row(state: GroupState) -> dict[str, Any]:
    row = asdict(state)
    row["group_key"] = row.pop("group")
    row["updated_at"] = round(state.updated_at, 3)
    return row


def alerts_overview(store: Store, limit: int = 50) -> dict[str, Any]:
    """Active (pending or firing) alerts and the most recent transitions."""
    active = store.query(
        "SELECT rule, group_key, state, since, started_at, value, samples FROM rum.alert_state "
        "FINAL WHERE state IN ('pending', 'firing') ORDER BY rule, group_key")
    recent = store.query(
        "SELECT alert_id, rule, group_key, kind, value, threshold, samples, "
        "toString(at) AS at FROM rum.alert_history ORDER BY at DESC LIMIT {limit:UInt32}",
        {"limit": limit})
    return {"active": active, "recent": recent}
