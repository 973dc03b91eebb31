"""The scheduler: keeps every rollup (rollups.tables.ROLLUPS) in step with rum.events.

Why a background roll and not a materialized view: a view counts every insert, so an
event the transport delivered twice (docs/architecture.md, "Delivery guarantees")
would be counted twice forever, and it adds its cost to every insert. The roller reads
`rum.events FINAL` (one row per event id), off the intake path, every
RUM_ROLLUP_INTERVAL seconds:

- the hour being filled is rolled again up to `GRACE_MS` before the cycle (rows still on
  their way, in the batcher or in Kafka, land after that), so a query reads raw rows
  only for the last cycle and the grace;
- a closed hour is rolled once it is closed, and again whenever its raw row count
  differs from the count its last roll saw (late rows, merged-away duplicates); the last
  `RECHECK_HOURS` are compared every cycle, the whole retention every `FULL_CHECK_EVERY`
  cycles (and on the first); hours without raw rows are marked in one statement;
- at most `MAX_HOURS_PER_CYCLE` hours are rolled per cycle, the newest that need it, so
  a backfill of a long history never holds up the current hour for long; they are
  rolled oldest first, since a session roll reads the hours before it; a cycle that left
  hours over makes the next one check the whole retention too, until none is left;
- a linked rollup's hour is also rolled again when it is stale (`stale_hours`): an
  earlier hour it shares sessions with changed after it was rolled; a rollup's hour being
  filled with a `refresh_ms` (sessions, pages) is rolled again at most that often, and
  that often even when no row came (so that on a quiet site its roll stays recent, and
  revenue-impact's window still ends at it); when more hours are stale than half a
  cycle's budget (sessions spanning many hours, met by a backfill), the hours not rolled
  yet go first;
- a cycle that only rolled the hour being filled again and took `COSTLY_MS` or more
  makes the next ones wait, so that such cycles take at most `MAX_SHARE` of the time (one
  that took 2 s: nothing for 40 s): they share the process, and chDB runs one statement
  at a time, with the intake. A cycle that rolled closed hours or marked them empty (a
  backfill, late rows) is not followed by a rest;
- a rollup with `days`: each whole UTC day before today whose 24 hours are rolled in full
  (none stale, not all empty) is added up into day rows (`<name>_day_roll`) once, and
  again when one of its hours was rolled again since (its marker's sum of the hourly
  rolls no longer agrees), at most `MAX_DAYS_PER_CYCLE` days a cycle, the newest first,
  among the days of the hours checked this cycle.

Each roll of an hour is one INSERT (rollups/sql/<name>_roll.sql): its rows under a new
roll id and a marker row with the raw rows it covered and `rolled_until`, the end of the
time it covers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field

from collector.settings import Settings
from pipeline.store import Store, StoreError
from rollups.coverage import stale_hours
from rollups.tables import DAY_MS, DAY_STAMP_MS, GRACE_MS, HOUR_MS, ROLLUPS, Rollup, rolls_sum

log = logging.getLogger(__name__)

RECHECK_HOURS = 48
FULL_CHECK_EVERY = 120
MAX_HOURS_PER_CYCLE = 24
MAX_DAYS_PER_CYCLE = 2
MAX_SHARE = 0.05  # of the time spent in costly cycles
COSTLY_MS = 500  # a cycle this long is costly (small stores roll every interval)


class RollupHooks:
    """What the roller reports (metrics); the defaults do nothing."""

    def rolled(self, hours: int, seconds: float) -> None:
        """One cycle rolled `hours` hours in `seconds`."""

    def roll_failed(self, error: str) -> None:
        """One cycle failed (the store is down or refused); it is tried again next cycle."""


@dataclass
class Roller:
    """Keeps the rollups in step with rum.events; `cycle()` is one round of work."""

    store: Store
    retention_days: int = 30
    hooks: RollupHooks = field(default_factory=RollupHooks)
    cycles: int = 0
    max_share: float = MAX_SHARE
    costly_ms: float = COSTLY_MS
    rested_ms: float = 0  # no cycle before this (epoch ms): the last one was costly
    pending: bool = False  # the last cycle left hours to roll: the next checks the retention

    def cycle(self, now: float | None = None) -> int:
        """Roll what needs rolling (see the module doc); return how many hours were marked."""
        now_ms = int((time.time() if now is None else now) * 1000)
        if now_ms < self.rested_ms:
            return 0
        full = self.cycles % FULL_CHECK_EVERY == 0 or self.pending
        self.cycles += 1
        started = time.perf_counter()
        done = [self._cycle(rollup, now_ms, full) for rollup in ROLLUPS]
        took_ms = (time.perf_counter() - started) * 1000
        if took_ms >= self.costly_ms and not any(backlog for _, backlog, _ in done):
            self.rested_ms = now_ms + took_ms / self.max_share
        # a backfill past RECHECK_HOURS (a new rollup, a restored store) goes on at the next
        # cycle, not at the next periodic full check (FULL_CHECK_EVERY cycles later)
        self.pending = any(more for _, _, more in done)
        return sum(hours for hours, _, _ in done)

    def settled(self, now: float | None = None) -> bool:
        """Whether the last cycle left nothing to roll: no hour over for the next cycle, and
        no hour of a linked rollup stale after its rolls (a backfill is done)."""
        until = {"from_ms": 0, "until_ms": int((time.time() if now is None else now) * 1000)}
        return not self.pending and not any(
            stale_hours(self.store.query(rollup.marks, until)) for rollup in ROLLUPS if rollup.linked)

    def _cycle(self, rollup: Rollup, now_ms: int, full: bool) -> tuple[int, bool, bool]:
        """Marked hours, whether closed hours were rolled or marked empty (a backlog), and
        whether hours were left for the next cycle (more than MAX_HOURS_PER_CYCLE)."""
        cut = now_ms - GRACE_MS  # rows stamped before this are (normally) stored by now
        current = cut // HOUR_MS * HOUR_MS
        # the oldest hour the TTL keeps (`hour + retention`, rollups' and raw rows' alike, is
        # still to come; a rollup may keep fewer days): an hour before it is dropped again
        # as soon as it is marked
        kept = (now_ms - rollup.days_kept(self.retention_days) * DAY_MS) // HOUR_MS * HOUR_MS + HOUR_MS
        start = kept if full else max(kept, current - RECHECK_HOURS * HOUR_MS)
        span = {"from_ms": start, "until_ms": now_ms}
        counts = {int(r["hour_ms"]): int(r["n"]) for r in self.store.query(rollup.counts, span)}
        found = self.store.query(rollup.marks, {**span, "from_ms": 0} if rollup.linked else span)
        marks = {int(r["hour_ms"]): r for r in found}
        stale = stale_hours(found) if rollup.linked else set()
        todo, empty, deferred = [], [], []
        for hour in range(current, start - 1, -HOUR_MS):  # newest first
            rows, mark, end = counts.get(hour, 0), marks.get(hour), min(hour + HOUR_MS, cut)
            if hour in stale or (mark is not None and not rollup.current(mark)):
                pass  # rolled before an hour it depends on changed, or with another config
            elif mark is not None and int(mark["rows"]) == rows and int(mark["covered"]) >= end:
                continue  # rolled as far as it can be, and no row came since
            elif (mark is not None and hour == current and int(mark["rows"]) == rows
                  and (not rollup.refresh_ms or cut - int(mark["covered"]) < rollup.refresh_ms)):
                # the hour being filled, nothing new since its last roll. A rollup rolled
                # again at most every refresh_ms is also rolled again once its roll is that
                # old with no new row: so on a quiet site its readers' windows still end near
                # now (revenue-impact's ends at the last roll when that is recent: no raw rest)
                continue
            elif mark is not None and hour == current and cut - int(mark["covered"]) < rollup.refresh_ms:
                deferred.append((hour, end))  # rolled lately: again only with earlier hours
                continue
            if rows == 0 and end == hour + HOUR_MS:
                empty.append(hour)
            else:
                todo.append((hour, end))
        if todo:  # it may read the earlier hours rolled now: roll it with them
            todo[:0] = deferred
        if len(stale) > MAX_HOURS_PER_CYCLE // 2:
            # sessions spanning many hours (a tab left open for days): each older hour
            # rolled makes every newer hour they share stale again, so newest first would
            # roll the same hours over and over (quadratic in the hours); roll the hours
            # not rolled yet first, then the stale ones
            todo.sort(key=lambda he: (he[0] in stale and he[0] != current, -he[0]))
        if empty:
            self.store.command(rollup.mark_empty, {**rollup.binds, "hours": empty, "roll": _roll_id()})
        # the newest hours first, rolled oldest first: a linked roll reads the hours before it
        for hour, end in sorted(todo[:MAX_HOURS_PER_CYCLE]):
            self.store.command(rollup.roll, {**rollup.binds, "from_ms": hour, "until_ms": end,
                                             "roll": _roll_id()})
        days, days_left = self._roll_days(rollup, start, current) if rollup.days else (0, False)
        # closed hours rolled or marked, days added up (a backfill, late rows): no rest after
        # such a cycle
        backlog = bool(empty) or days > 0 or any(hour != current for hour, _ in todo)
        return (min(len(todo), MAX_HOURS_PER_CYCLE) + len(empty), backlog,
                len(todo) > MAX_HOURS_PER_CYCLE or days_left)

    def _roll_days(self, rollup: Rollup, start: int, current: int) -> tuple[int, bool]:
        """Add up the whole days from `start` to before `current`'s day whose hours are all
        rolled in full and whose day rows are missing or no longer agree with them; return
        the days rolled, and whether days were left for the next cycle."""
        span = {"from_ms": -(-start // DAY_MS) * DAY_MS, "until_ms": current // DAY_MS * DAY_MS}
        if span["from_ms"] >= span["until_ms"]:
            return 0, False
        found = self.store.query(rollup.marks, span)
        hours = {int(m["hour_ms"]): m for m in found}
        # a linked rollup's stale hour is rolled again first (its hours depend only on hours
        # of their own day, all in the span)
        stale = stale_hours(found) if rollup.linked else set()
        days = {int(m["day_ms"]): m for m in self.store.query(
            rollup.day_marks, {**span, "day_stamp_ms": DAY_STAMP_MS})}
        todo = []
        for day in range(span["until_ms"] - DAY_MS, span["from_ms"] - 1, -DAY_MS):
            marks = [hours.get(day + i * HOUR_MS) for i in range(24)]
            if any(m is None or int(m["covered"]) < int(m["hour_ms"]) + HOUR_MS or not rollup.current(m)
                   or int(m["hour_ms"]) in stale for m in marks):
                continue  # an hour not rolled in full yet, with another config, or stale
            if all(int(m["rows"]) == 0 for m in marks if m is not None):
                continue  # marked empty: nothing to add up, its hours' rows are none
            rolls = [int(m["newest"]) for m in marks if m is not None]
            mark = days.get(day)
            if mark is None or int(mark["rolls_sum"]) != rolls_sum(rolls) or not rollup.current(mark):
                todo.append((day, rolls))
        for day, rolls in todo[:MAX_DAYS_PER_CYCLE]:
            self.store.command(rollup.day_roll, {
                "day_ms": day, "day_stamp_ms": DAY_STAMP_MS, "rolls": rolls,
                "rolls_sum": rolls_sum(rolls), "roll": _roll_id(),
                **({"config": rollup.config} if rollup.config else {})})
        return min(len(todo), MAX_DAYS_PER_CYCLE), len(todo) > MAX_DAYS_PER_CYCLE

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Cycle every `interval` seconds until `stop` is set; store errors are retried."""
        while not stop.is_set():
            started = time.perf_counter()
            try:
                hours = await asyncio.to_thread(self.cycle)
                self.hooks.rolled(hours, time.perf_counter() - started)
            except StoreError as exc:
                log.warning("rollup cycle failed; retrying next cycle", extra={"error": str(exc)})
                self.hooks.roll_failed(str(exc))
            except Exception as exc:  # a bug must not stop the rollups for good, silently
                log.exception("rollup cycle crashed; retrying next cycle")
                self.hooks.roll_failed(type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass


class RollupTask:
    """A Roller cycling in the background of an app; `close()` stops it between cycles."""

    def __init__(self, roller: Roller, interval: float) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(roller.run(interval, self._stop), name="rollups")

    async def close(self) -> None:
        """Let the cycle in hand finish, then stop."""
        self._stop.set()
        await self._task


def start_rollups(store: Store, settings: Settings, hooks: RollupHooks) -> RollupTask:
    """Keep the rollups of `store` up to date every RUM_ROLLUP_INTERVAL seconds."""
    return RollupTask(Roller(store, settings.retention_days, hooks), settings.rollup_interval)


def _roll_id() -> int:
    """Increasing across rolls (milliseconds, then 16 random bits against ties)."""
    return (int(time.time() * 1000) << 16) | random.getrandbits(16)
