"""Schema migrations: numbered .sql files applied once each, in order, recorded in the store."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from importlib import resources

from pipeline.store import Store
from rollups.tables import ROLLUPS

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LEDGER = (
    "CREATE TABLE IF NOT EXISTS rum.schema_migrations "
    "(version UInt32, name String, applied_at DateTime) "
    "ENGINE = MergeTree ORDER BY version"
)


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements, split on ';' at line ends (comments removed)."""
        text = "\n".join(
            line for line in self.sql.splitlines() if not line.lstrip().startswith("--")
        )
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


def available() -> list[Migration]:
    """Every migration shipped in pipeline/migrations, by version."""
    found = []
    for entry in resources.files("pipeline.migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(store: Store, retention_days: int) -> list[str]:
    """Apply pending migrations and the retention TTL; return the names applied."""
    store.command("CREATE DATABASE IF NOT EXISTS rum")
    store.command(_LEDGER)
    done = {int(r["version"]) for r in store.query("SELECT version FROM rum.schema_migrations")}
    applied = []
    for migration in available():
        if migration.version in done:
            continue
        for statement in migration.statements():
            store.command(statement)
        store.insert(
            "rum.schema_migrations",
            [{"version": migration.version, "name": migration.name, "applied_at": int(time.time())}],
        )
        log.info("migration applied", extra={"migration": migration.name})
        applied.append(migration.name)
    set_retention(store, retention_days)
    return applied


# table -> its TTL expression's time column: raw events and the rollups made from them
RETAINED = {"events": "toDateTime(ts)", "vitals_hourly": "hour", "sessions_hourly": "hour",
            "segments_hourly": "hour", "series_hourly": "hour", "pages_hourly": "hour"}
# the rollups by table: one may keep fewer days than the setting (Rollup.days_kept)
_ROLLUP_OF = {r.table: r for r in ROLLUPS}


def set_retention(store: Store, days: int) -> None:
    """Make the TTL of raw events and rollups match the setting (only where it differs)."""
    days = int(days)  # a validated int from settings, never client input
    rows = store.query("SELECT name, engine_full FROM system.tables WHERE database = 'rum'")
    for row in rows:
        rollup = _ROLLUP_OF.get(row["name"])
        kept = rollup.days_kept(days) if rollup is not None else days
        if row["name"] in RETAINED and f"toIntervalDay({kept})" not in row["engine_full"]:
            store.command(
                f"ALTER TABLE rum.{row['name']} MODIFY TTL {RETAINED[row['name']]} + "
                f"INTERVAL {kept} DAY SETTINGS materialize_ttl_after_modify = 0"
            )
