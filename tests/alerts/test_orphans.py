"""Alerts of rules that no longer exist are closed at start, not left firing forever (#21)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from alerts.runner import alerts_overview, retire_orphans
from collector.settings import Settings
from pipeline.chdb_store import ChdbStore
from pipeline.schema import migrate
from pipeline.store import Store
from tests.conftest import start_server, stop_server


def _plant(store: Store) -> None:
    now = time.time()
    store.insert("rum.alert_state", [
        {"rule": rule, "group_key": "country=BR", "state": state, "since": now - 600,
         "started_at": now - 300 if state == "firing" else 0.0, "value": 4200.0, "samples": 80,
         "updated_at": round(now - 1, 3)}
        for rule, state in (("gone", "firing"), ("gone-too", "pending"), ("kept", "firing"))])


def test_retire_orphans_closes_only_rules_not_defined(tmp_path: Path) -> None:
    store = ChdbStore(tmp_path / "chdb")
    try:
        migrate(store, 30)
        _plant(store)
        assert retire_orphans(store, {"kept"}) == 2
        active = alerts_overview(store)["active"]
        assert [(a["rule"], a["state"]) for a in active] == [("kept", "firing")]
        history = store.query("SELECT rule, kind FROM rum.alert_history")
        assert history == [{"rule": "gone", "kind": "orphaned"}], "a firing one says why it ended"
        assert retire_orphans(store, {"kept"}) == 0, "once"
    finally:
        store.close()


def test_serve_without_rules_closes_the_demo_alerts(server_settings: Callable[..., Settings]) -> None:
    settings = server_settings()
    store = ChdbStore(settings.data_dir / "chdb")
    try:
        migrate(store, settings.retention_days)
        _plant(store)
    finally:
        store.close()
    running = start_server(settings)
    try:
        assert httpx.get(f"{running.base_url}/v1/alerts").json()["active"] == []
    finally:
        stop_server(running)
