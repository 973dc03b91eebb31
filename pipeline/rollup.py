"""Rollups per hour, rolled from deduplicated raw events: pre-bucketed Web Vitals histograms
(rum.vitals_hourly, for slow-regions) and sessions (rum.sessions_hourly, for revenue-impact
and conversion-by-speed; migration 0090 explains its rows).

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
  cycles (and on the first); hours without page views are marked in one statement;
- at most `MAX_HOURS_PER_CYCLE` hours are rolled per cycle, the newest that need it, so
  a backfill of a long history never holds up the current hour for long; they are
  rolled oldest first, since a session roll reads the hours before it;
- a session hour is also rolled again when it is stale (`stale_hours`): an earlier hour
  it shares sessions with changed after it was rolled; the session hour being filled is
  rolled again at most every `SESSION_REFRESH_MS`; when more hours are stale than half a
  cycle's budget (sessions spanning many hours, met by a backfill), the hours not rolled
  yet go first;
- a cycle that only rolled the hour being filled again and took `COSTLY_MS` or more
  makes the next ones wait, so that such cycles take at most `MAX_SHARE` of the time (one
  that took 2 s: nothing for 40 s): they share the process, and chDB runs one statement
  at a time, with the intake. A cycle that rolled closed hours or marked them empty (a
  backfill, late rows) is not followed by a rest.

Each rollup keeps its own marks and is rolled alike. Each roll of an hour is one INSERT:
its rows under a new roll id and a marker row with the raw rows it covered (`n`) and
`rolled_until`, the end of the time it covers.
Readers (`coverage` below, queries/slow_regions.sql) take each hour's newest marker and
only that roll's rows, and raw events for whatever the rolls do not cover, so an answer
is the same with or without rollups (pipeline/migrations/0060_vitals_rollup.sql has the
bucket grid), except that rows stored later than the grace count from the next cycle.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from collector.settings import Settings
from pipeline.store import Store, StoreError

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
GRACE_MS = 60_000
RECHECK_HOURS = 48
FULL_CHECK_EVERY = 120
MAX_HOURS_PER_CYCLE = 24
MAX_SHARE = 0.05  # of the time spent in costly cycles
COSTLY_MS = 500  # a cycle this long is costly (small stores roll every interval)
# a window this long or longer starts at the top of its first hour (the rollup's grain)
SNAP_WINDOW_MS = 6 * HOUR_MS

# One INSERT per roll: histogram rows and the marker (site '', metric 'mark'), so a
# reader never sees half a roll. The marker's n is counted before the rows are read, so
# rows arriving meanwhile make the count disagree later (and the hour is rolled again).
# The bucket and dense-array expressions are also in queries/slow_regions.sql, which
# buckets the raw rows the rollup does not cover the same way.
BUCKETS = 600
# a value's bucket (0-based): 0 for [0, 1), else 1 + floor(log_1.02(v)), at most 599
BUCKET_SQL = "least({bucket_max}, if({v} < 1, 0, toUInt16(1 + floor(log({v}) / log(1.02)))))"
# sparse (bucket, count) pairs of a group -> the dense counts array of BUCKETS elements
DENSE_SQL = """arrayConcat(arrayWithConstant(filled.1[1], toUInt32(0)),
    arrayMap(x -> toUInt32(x), filled.2),
    arrayWithConstant({bucket_max} - filled.1[-1], toUInt32(0)))"""
_ROLL = f"""
INSERT INTO rum.vitals_hourly
    (site, hour, metric, country, region, counts, n, roll, rolled_until)
SELECT site, hour, metric, country, region, {DENSE_SQL.format(bucket_max=BUCKETS - 1)},
       total, {{roll:UInt64}}, fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
FROM (
    SELECT site, hour, metric, country, region, sum(c) AS total,
           mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
    FROM (
        SELECT site, toStartOfHour(ts) AS hour, m.1 AS metric, country, region,
               {BUCKET_SQL.format(v="m.2", bucket_max=BUCKETS - 1)} AS bucket, count() AS c
        FROM rum.events FINAL
        ARRAY JOIN [('lcp', lcp), ('inp', inp), ('cls', cls * 1000), ('fcp', fcp),
                    ('ttfb', ttfb)] AS m
        WHERE kind = 'pageview' AND is_bot = 0 AND m.2 IS NOT NULL
          AND ts >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
        GROUP BY site, hour, metric, country, region, bucket
    )
    GROUP BY site, hour, metric, country, region
)
UNION ALL
SELECT '', toDateTime(intDiv({{from_ms:Int64}}, 1000), 'UTC'), 'mark', '', '', [],
       (SELECT count() FROM rum.events WHERE kind = 'pageview'
          AND ts >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')),
       {{roll:UInt64}}, fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
"""
_MARK_EMPTY = """
INSERT INTO rum.vitals_hourly (site, hour, metric, country, region, counts, n, roll, rolled_until)
SELECT '', toDateTime(intDiv(h, 1000), 'UTC'), 'mark', '', '', [], 0, {roll:UInt64},
       fromUnixTimestamp64Milli(h + 3600000, 'UTC')
FROM (SELECT arrayJoin({hours:Array(Int64)}) AS h)
"""
# raw page views per hour over [from, until) (physical rows: duplicates not merged yet count)
_COUNTS = """
SELECT toInt64(toUnixTimestamp(toStartOfHour(ts))) * 1000 AS hour_ms, count() AS n
FROM rum.events
WHERE kind IN ({kinds}) AND ts >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
  AND ts < fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
GROUP BY hour_ms
"""
# the newest roll of each hour from `from_ms` to `until_ms`: its id, raw rows, end
_MARKS = """
SELECT toInt64(toUnixTimestamp(hour)) * 1000 AS hour_ms, max(roll) AS newest,
       argMax(n, roll) AS rows, toUnixTimestamp64Milli(argMax(rolled_until, roll)) AS covered{more}
FROM rum.{table}
WHERE site = '' AND {kind} = 'mark'
  AND hour >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
  AND hour < fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
GROUP BY hour_ms
ORDER BY hour_ms
"""

# Sessions (migration 0090 explains the rows). A session is a site's session id on one UTC
# day (`sess` = cityHash64(session_id, toDate(ts)): a session ends at midnight, so it
# spans at most 24 hours, which bounds a roll's work per session, quadratic in its
# hours) and counts, whole, in the country and region of its earliest event in a
# window. The roll of an hour takes its sessions' pieces (one per session seen in the
# hour), reads the pieces the same sessions left in other hours (each hour's newest
# roll), and for each hour H a window may start at, from the session's first hour to
# this one, adds the session as such a window sees it up to this hour to the 'agg' sums
# of H while taking out what it was up to its previous hour: the sums of H hold each
# session once, as of its last hour (telescoping). The marker records the hour's content
# and the hours it shares sessions with (`stale_hours`). queries/revenue_by_speed.sql
# cuts the raw rest of a window into pieces the same way.
SESSION_LCP_CAP = 60_000  # ms: LCPs past it are outliers, left out (queries.analytics THRESHOLDS)
# the hour being filled is rolled again at most this often (its roll is the costliest part of
# a steady cycle; revenue-impact's window ends at the last roll, queries.revenue)
SESSION_REFRESH_MS = 120_000
# a session's LCP (p75 of its page views, as quantileExact) and its bucket
SESSION_LCP_SQL = "arrayReduce('quantileExact(0.75)', {lcps})"
LCP_BUCKET_SQL = "toUInt8(least(6, intDiv(toUInt32({lcp}), 1000)))"
# the hour a roll rolls, and its raw rows
_HOUR = "toDateTime(intDiv({from_ms:Int64}, 1000), 'UTC')"
_SPAN = """ts >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND ts < fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')"""
_SESSION_ROLL = f"""
INSERT INTO rum.sessions_hourly
    (site, hour, part, from_hour, carried, country, region, bucket, sess, sessions, converted,
     orders, revenue, revenue_sq, w, w_revenue, lcp_sum, lcps, currencies, counts, n, content,
     deps, dep_content, roll, rolled_until)
WITH
    current AS (
        -- the newest roll of every other hour (rows of superseded rolls are not read)
        SELECT hour, max(roll) AS newest, argMax(content, roll) AS newest_content
        FROM rum.sessions_hourly
        WHERE site = '' AND part = 'mark' AND hour != {_HOUR}
        GROUP BY hour
    ),
    (SELECT mapFromArrays(groupArray(hour), groupArray(newest_content)) FROM current) AS known,
    sessions AS (
        -- the sessions seen in this hour, each with all its pieces (this hour's, from
        -- deduplicated raw events, and other hours'), by hour
        SELECT site, sess,
               arraySort(p -> p.1, groupArray((hour, country, region, lcps, toInt64(orders),
                                               revenue, w, currencies))) AS ps
        FROM (
            SELECT {_HOUR} AS hour, site, sess, seg.1 AS country, seg.2 AS region, lcps,
                   orders, revenue, w, currencies
            FROM (
                SELECT site, cityHash64(session_id, toDate(ts)) AS sess,
                       argMin((country, region), (ts, event_id)) AS seg,
                       arraySort(groupArrayIf(assumeNotNull(lcp), kind = 'pageview'
                                              AND lcp IS NOT NULL AND lcp <= {SESSION_LCP_CAP}))
                           AS lcps,
                       toUInt32(countIf(kind = 'conversion')) AS orders,
                       sumIf(ifNull(conversion_value, 0), kind = 'conversion') AS revenue,
                       max(toFloat64(sample_weight)) AS w,
                       groupUniqArrayIf(currency, kind = 'conversion' AND currency != '')
                           AS currencies
                FROM rum.events FINAL
                WHERE is_bot = 0 AND kind IN ('pageview', 'conversion') AND {_SPAN}
                GROUP BY site, sess
            )
            UNION ALL
            SELECT hour, site, sess, country, region, lcps, orders, revenue, w, currencies
            FROM rum.sessions_hourly
            WHERE part = 'session' AND hour != {_HOUR}
              AND (hour, roll) IN (SELECT hour, newest FROM current)
              AND sess IN (SELECT cityHash64(session_id, toDate(ts)) FROM rum.events
                           WHERE is_bot = 0 AND kind IN ('pageview', 'conversion') AND {_SPAN})
        )
        GROUP BY site, sess
        HAVING has(arrayMap(p -> p.1, ps), {_HOUR})
    ),
    emits AS (
        -- per session: its piece of this hour (k 0: its 'session' row; k 3: its share of
        -- the marker), and for each hour H from its first to this one, the session as a
        -- window starting at H sees it up to this hour (k 1, +1) and up to its previous
        -- hour (k 2, -1): its pieces from H on (the earliest gives its segment)
        SELECT site, sess, ps, first_hour, e.1 AS k, e.2 AS from_hour, e.3 AS pieces
        FROM (
            SELECT site, sess, ps, ps[1].1 AS first_hour,
                   arrayFilter(p -> p.1 <= {_HOUR}, ps) AS upto,
                   arrayFilter(p -> p.1 = {_HOUR}, ps) AS here,
                   arrayConcat(
                       [(0, first_hour, here), (3, first_hour, here)],
                       arrayFlatten(arrayMap(
                           h -> [(1, h, arrayFilter(p -> p.1 >= h, upto)),
                                 (2, h, arrayFilter(p -> p.1 >= h AND p.1 < {_HOUR}, upto))],
                           arrayMap(i -> first_hour + i * 3600,
                                    range(toUInt32(dateDiff('hour', first_hour, {_HOUR})) + 1)))))
                       AS es
            FROM sessions
        )
        ARRAY JOIN es AS e
        WHERE k IN (0, 3) OR notEmpty(arrayFlatten(arrayMap(p -> p.4, pieces)))
    ),
    out AS (
        SELECT multiIf(k = 0, 'session', k = 3, 'mark', 'agg') AS o_part,
               if(k = 3, '', site) AS o_site,
               if(k = 3, '', pieces[1].2) AS o_country,
               if(k = 3, '', pieces[1].3) AS o_region,
               if(k IN (1, 2), from_hour, toDateTime(0, 'UTC')) AS o_from_hour,
               toUInt8(k IN (1, 2) AND from_hour > first_hour) AS o_carried,
               arraySort(arrayFlatten(arrayMap(p -> p.4, pieces))) AS all_lcps,
               (arraySum(arrayMap(p -> p.5, pieces)), arraySum(arrayMap(p -> p.6, pieces)),
                arrayMax(arrayMap(p -> p.7, pieces)),
                if(k IN (1, 2), toFloat64({SESSION_LCP_SQL.format(lcps="all_lcps")}), 0.)) AS v,
               if(k IN (1, 2), {LCP_BUCKET_SQL.format(lcp="v.4")}, 0) AS o_bucket,
               if(k = 0, sess, 0) AS o_sess, multiIf(k = 3, 0, k = 2, -1, 1) AS sign,
               if(k = 0, all_lcps, []) AS o_lcps,
               if(k = 3, [], arrayDistinct(arrayFlatten(arrayMap(p -> p.8, pieces))))
                   AS o_currencies,
               if(k = 3, cityHash64(site, pieces[1].2, pieces[1].3, sess, pieces[1].4,
                                    pieces[1].5, pieces[1].6, pieces[1].7, arraySort(pieces[1].8)),
                  0) AS o_content,
               if(k = 3, arrayFilter(h -> h != {_HOUR}, arrayMap(p -> p.1, ps)), []) AS o_deps
        FROM emits
    )
SELECT site, {_HOUR}, part, from_hour, carried, country, region, bucket, sess,
       toInt32(sum(sign)), toInt32(sum(sign * (v.1 > 0))), toInt32(sum(sign * v.1)),
       sum(sign * v.2), sum(sign * v.2 * v.2), sum(sign * v.3), sum(sign * v.3 * v.2),
       sum(sign * v.4), any(lcps), groupUniqArrayArray(currencies), [],
       if(part = 'mark', (SELECT count() FROM rum.events
                          WHERE kind IN ('pageview', 'conversion') AND {_SPAN}), 0),
       groupBitXor(content), arraySort(groupUniqArrayArray(deps)) AS dep_hours,
       arrayMap(h -> known[h], dep_hours),
       {{roll:UInt64}}, fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
FROM (
    SELECT o_part AS part, o_site AS site, o_country AS country, o_region AS region,
           o_from_hour AS from_hour, o_carried AS carried, o_bucket AS bucket, o_sess AS sess,
           sign, v, o_lcps AS lcps, o_currencies AS currencies, o_content AS content,
           o_deps AS deps
    FROM out
    UNION ALL  -- the marker, also when the hour has no piece
    SELECT 'mark', '', '', '', toDateTime(0, 'UTC'), 0, 0, 0, 0, (0, 0., 0., 0.), [], [], 0, []
)
GROUP BY site, part, from_hour, carried, country, region, bucket, sess
UNION ALL
SELECT site, {_HOUR}, 'views', toDateTime(0, 'UTC'), 0, country, region, 0, 0, 0, 0, 0, 0, 0,
       0, 0, 0, [], [], {DENSE_SQL.format(bucket_max=BUCKETS - 1)}, 0, 0, [], [], {{roll:UInt64}},
       fromUnixTimestamp64Milli({{until_ms:Int64}}, 'UTC')
FROM (
    SELECT site, country, region, mapPopulateSeries(groupArray(bucket), groupArray(c)) AS filled
    FROM (
        SELECT site, country, region, {BUCKET_SQL.format(v="lcp", bucket_max=BUCKETS - 1)} AS bucket,
               count() AS c
        FROM rum.events FINAL
        WHERE kind = 'pageview' AND is_bot = 0 AND lcp IS NOT NULL AND lcp <= {SESSION_LCP_CAP}
          AND {_SPAN}
        GROUP BY site, country, region, bucket
    )
    GROUP BY site, country, region
)
"""
_SESSION_MARK_EMPTY = """
INSERT INTO rum.sessions_hourly (site, hour, part, n, roll, rolled_until)
SELECT '', toDateTime(intDiv(h, 1000), 'UTC'), 'mark', 0, {roll:UInt64},
       fromUnixTimestamp64Milli(h + 3600000, 'UTC')
FROM (SELECT arrayJoin({hours:Array(Int64)}) AS h)
"""


@dataclass(frozen=True)
class Rollup:
    """One hourly rollup: its table and the statements that keep it and read its marks."""

    table: str
    roll: str        # rolls [from_ms, until_ms) under `roll`, with its marker
    mark_empty: str  # marks whole `hours` without raw rows as rolled
    counts: str      # raw rows per hour the roll depends on
    marks: str       # the newest marker of each hour
    linked: bool = False  # an hour's roll reads other hours' rows (see `stale_hours`)
    refresh_ms: int = 0  # the hour being filled is rolled again once its roll is this old


VITALS = Rollup("vitals_hourly", _ROLL, _MARK_EMPTY, _COUNTS.format(kinds="'pageview'"),
                _MARKS.format(table="vitals_hourly", kind="metric", more=""))
SESSIONS = Rollup("sessions_hourly", _SESSION_ROLL, _SESSION_MARK_EMPTY,
                  _COUNTS.format(kinds="'pageview', 'conversion'"),
                  _MARKS.format(table="sessions_hourly", kind="part", more=""",
       argMax(content, roll) AS content,
       arrayMap(h -> toInt64(toUnixTimestamp(h)) * 1000, argMax(deps, roll)) AS deps,
       argMax(dep_content, roll) AS dep_content"""), linked=True, refresh_ms=SESSION_REFRESH_MS)
ROLLUPS = (VITALS, SESSIONS)


def stale_hours(marks: list[dict[str, Any]]) -> set[int]:
    """Hours (epoch ms) of a linked rollup whose newest roll no longer agrees with the
    hours before them: an earlier hour it read sessions from has changed since (its
    content differs from what the roll saw), or an earlier hour shares a session with it
    that its roll did not see (rolled later, or newly sharing). Later hours do not matter:
    a roll adds up its sessions as of its own hour. Such an hour is rolled again, and
    readers take no rolled hour from it on."""
    content = {int(m["hour_ms"]): int(m["content"]) for m in marks}
    roll = {int(m["hour_ms"]): int(m["newest"]) for m in marks}
    seen = {int(m["hour_ms"]): {int(h): int(c) for h, c in zip(m["deps"], m["dep_content"],
                                                               strict=True)}
            for m in marks}
    stale = set()
    for hour, deps in seen.items():
        if any(dep < hour and content.get(dep, 0) != c for dep, c in deps.items()):
            stale.add(hour)
        # a later hour rolled before this one that shares a session with it must have seen it
        stale.update(dep for dep in deps if dep > hour and roll.get(dep, 0) < roll[hour]
                     and hour not in seen.get(dep, {}))
    return stale


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

    def cycle(self, now: float | None = None) -> int:
        """Roll what needs rolling (see the module doc); return how many hours were marked."""
        now_ms = int((time.time() if now is None else now) * 1000)
        if now_ms < self.rested_ms:
            return 0
        full = self.cycles % FULL_CHECK_EVERY == 0
        self.cycles += 1
        started = time.perf_counter()
        done = [self._cycle(rollup, now_ms, full) for rollup in ROLLUPS]
        took_ms = (time.perf_counter() - started) * 1000
        if took_ms >= self.costly_ms and not any(backlog for _, backlog in done):
            self.rested_ms = now_ms + took_ms / self.max_share
        return sum(hours for hours, _ in done)

    def _cycle(self, rollup: Rollup, now_ms: int, full: bool) -> tuple[int, bool]:
        """Marked hours, and whether closed hours were rolled or marked empty (a backlog)."""
        cut = now_ms - GRACE_MS  # rows stamped before this are (normally) stored by now
        current = cut // HOUR_MS * HOUR_MS
        start = current - (self.retention_days * 24 if full else RECHECK_HOURS) * HOUR_MS
        span = {"from_ms": start, "until_ms": now_ms}
        counts = {int(r["hour_ms"]): int(r["n"]) for r in self.store.query(rollup.counts, span)}
        found = self.store.query(rollup.marks, {**span, "from_ms": 0} if rollup.linked else span)
        marks = {int(r["hour_ms"]): r for r in found}
        stale = stale_hours(found) if rollup.linked else set()
        todo, empty, deferred = [], [], []
        for hour in range(current, start - 1, -HOUR_MS):  # newest first
            rows, mark, end = counts.get(hour, 0), marks.get(hour), min(hour + HOUR_MS, cut)
            if hour in stale:
                pass  # rolled before an hour it depends on changed: roll it again
            elif mark is not None and int(mark["rows"]) == rows and int(mark["covered"]) >= end:
                continue  # rolled as far as it can be, and no row came since
            elif mark is not None and hour == current and int(mark["rows"]) == rows:
                continue  # the hour being filled: nothing new since its last roll
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
            self.store.command(rollup.mark_empty, {"hours": empty, "roll": _roll_id()})
        # the newest hours first, rolled oldest first: a linked roll reads the hours before it
        for hour, end in sorted(todo[:MAX_HOURS_PER_CYCLE]):
            self.store.command(rollup.roll, {"from_ms": hour, "until_ms": end, "roll": _roll_id()})
        # closed hours rolled or marked (a backfill, late rows): no rest after such a cycle;
        # the retention's oldest hour is marked again on every full check (its rows expire)
        backlog = any(hour != start for hour in empty) or any(hour != current for hour, _ in todo)
        return min(len(todo), MAX_HOURS_PER_CYCLE) + len(empty), backlog

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


def coverage(store: Store, since_ms: int, until_ms: int,
             rollup: Rollup | None = VITALS) -> dict[str, Any]:
    """What of the window [since, until) the rollup answers, as queries/slow_regions.sql
    takes it: from_ms (the window's start; a window of `SNAP_WINDOW_MS` or more starts at
    the top of its first hour), first_ms (the first whole hour), rolled_until_ms (the
    rollup answers [first_ms, rolled_until_ms)) and rolls (the roll to read, per hour).

    The hours used are the run of consecutive rolled hours from first_ms, each rolled in
    full but the last, none reaching past the window's end. Rows stored more than
    `GRACE_MS` after their time (after an outage of the store or of Kafka) count from the
    next cycle, when the roller sees the hour's raw count change and rolls it again.
    `rollup` None: none of it (a question the rollup cannot answer), the window snapped alike.
    """
    from_ms = since_ms // HOUR_MS * HOUR_MS if until_ms - since_ms >= SNAP_WINDOW_MS else since_ms
    first_ms = -(-from_ms // HOUR_MS) * HOUR_MS
    run: list[tuple[int, int, int]] = []  # (hour, roll, covered)
    # a linked rollup's hours depend only on hours of their own UTC day (a session ends at
    # midnight), so the marks from that day's start are all `stale_hours` needs
    since = first_ms // DAY_MS * DAY_MS if rollup and rollup.linked else first_ms
    marks = store.query(rollup.marks, {"from_ms": since, "until_ms": until_ms}) if rollup else []
    stale = stale_hours(marks) if rollup and rollup.linked else set()
    for mark in marks:
        hour, covered = int(mark["hour_ms"]), int(mark["covered"])
        if hour < first_ms:
            continue  # read for stale_hours only
        if hour != first_ms + len(run) * HOUR_MS or covered > until_ms or hour in stale:
            break  # a gap (not rolled yet), a roll reaching past the window, or stale
        run.append((hour, int(mark["newest"]), covered))
        if covered < hour + HOUR_MS:
            break  # the hour being filled: rolled up to its last roll
    return {"from_ms": from_ms, "first_ms": first_ms,
            "rolled_until_ms": run[-1][2] if run else first_ms,
            "rolls": [roll for _, roll, _ in run]}


def _roll_id() -> int:
    """Increasing across rolls (milliseconds, then 16 random bits against ties)."""
    return (int(time.time() * 1000) << 16) | random.getrandbits(16)
