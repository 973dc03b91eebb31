"""The read side: what of a window a rollup answers, for queries/ to plan with.

Readers (queries/slow_regions.sql, queries/revenue_by_speed*.sql) take each hour's newest
marker and only that roll's rows, and raw events for whatever the rolls do not cover, so
an answer is the same with or without rollups, except that rows stored later than the
grace count from the next cycle.
"""

from __future__ import annotations

from typing import Any

from pipeline.store import Store, StoreError
from rollups import grid
from rollups.kept import Kept
from rollups.tables import DAY_MS, DAY_STAMP_MS, HOUR_MS, SNAP_WINDOW_MS, VITALS, Rollup, rolls_sum

# Readers' marks, kept by the state of the rollup table they were read from. A marks query's
# answer is a function of the table's rows alone, and every change to them (a roll, a merge,
# a TTL drop) replaces some of the table's active parts with new ones, each in a folder of
# its own: its path names the store, the table (a table made anew has a new one) and the
# part. So a question asked before the table changes again takes its marks from here after
# reading its parts' paths (~2 ms against ~10 ms for an hour marks query and ~7 ms for a
# day marks one on the analytics bench's 7-day store), and questions asked together (a
# dashboard's panels) read the marks once per rollup. Kept for windows from the same
# start; the end is cut here.
_PARTS = ("SELECT cityHash64(arraySort(groupArray(path))) AS parts FROM system.parts "
          "WHERE database = 'rum' AND table = {table:String} AND active")
_OPEN_END_MS = 4_102_444_800_000  # 2100-01-01: the marks kept reach to the end of the table
_kept: Kept[tuple[str, int, int, int], list[dict[str, Any]]] = Kept(64)


def _marks(store: Store, rollup: Rollup, day: bool, from_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """The rollup's hour marks (`rollup.marks`) or day marks (`rollup.day_marks`) in [from_ms,
    until_ms), as that query gives them, kept by the table's parts (above)."""
    sql, stamp = (rollup.day_marks, DAY_STAMP_MS) if day else (rollup.marks, 0)
    params = {"from_ms": from_ms, "until_ms": until_ms, **({"day_stamp_ms": stamp} if day else {})}
    if until_ms > _OPEN_END_MS:
        return store.query(sql, params)
    try:
        parts = int(store.query(_PARTS, {"table": rollup.table})[0]["parts"])
    except StoreError:  # a ClickHouse server whose user may not read system.parts
        return store.query(sql, params)
    key = (sql, from_ms, stamp, parts)
    found = _kept.get(key)
    if found is None:
        found = store.query(sql, {**params, "until_ms": _OPEN_END_MS})
        _kept.put(key, found)
    # the query's `hour < until_ms`: an hour's row is stamped at it, a day's DAY_STAMP_MS past
    # its midnight
    return [m for m in found if int(m["day_ms" if day else "hour_ms"]) + stamp < until_ms]


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


def coverage(store: Store, since_ms: int, until_ms: int,
             rollup: Rollup | None = VITALS) -> dict[str, Any]:
    """What of the window [since, until) the rollup answers, as the SQL parameters its
    readers take: from_ms (the window's start; a window of `SNAP_WINDOW_MS` or more starts
    at the top of its first hour), first_ms (where the rolled hours start), rolled_until_ms (the
    rollup answers [first_ms, rolled_until_ms)), hole_from_ms (readers read raw rows before
    it and from rolled_until_ms on: first_ms, or 0 when the window starts at first_ms), rolls
    (the roll to read, per hour: at a whole day's first hour the day's roll and 0 at its
    other hours, when the rollup has `days` and a day roll that agrees with the hours),
    and the histogram grid (`grid.PARAMS`), which readers
    bucket the raw rest with.

    The hours used are the run of consecutive rolled hours from the window's first marked
    hour (first_ms: the first whole hour, or a later one when the hours before it are not
    marked, being past the retention or not rolled yet), each rolled in full but the last,
    none reaching past the window's end. Rows stored more than the
    grace after their time (after an outage of the store or of Kafka) count from the
    next cycle, when the scheduler sees the hour's raw count change and rolls it again.
    `rollup` None: none of it (a question the rollup cannot answer), the window snapped alike.
    """
    from_ms = since_ms // HOUR_MS * HOUR_MS if until_ms - since_ms >= SNAP_WINDOW_MS else since_ms
    first_ms = -(-from_ms // HOUR_MS) * HOUR_MS
    run: list[tuple[int, int, int]] = []  # (hour, roll, covered)
    # a linked rollup's hours depend only on hours of their own UTC day (a session ends at
    # midnight), so the marks from that day's start are all `stale_hours` needs
    since = first_ms // DAY_MS * DAY_MS if rollup and rollup.linked else first_ms
    marks = _marks(store, rollup, False, since, until_ms) if rollup else []
    stale = stale_hours(marks) if rollup and rollup.linked else set()
    for mark in marks:
        hour, covered = int(mark["hour_ms"]), int(mark["covered"])
        if hour < first_ms:
            continue  # read for stale_hours only
        if not run and hour != first_ms and covered <= until_ms:
            # the window's first hours are not marked: older than the retention (the TTL
            # dropped their markers) or not rolled yet (a backfill rolls the newest first);
            # they are read raw, the run starts here
            first_ms = hour
        if (hour != first_ms + len(run) * HOUR_MS or covered > until_ms or hour in stale
                or (rollup is not None and not rollup.current(mark))):
            break  # a gap (not rolled yet), a roll reaching past the window, stale, or made
            # with another config (not rolled again yet)
        run.append((hour, int(mark["newest"]), covered))
        if covered < hour + HOUR_MS:
            break  # the hour being filled: rolled up to its last roll
    # where readers' raw rest stops before the rolled hours: first_ms, or 0 when the window
    # starts there (then [from_ms, first_ms) is empty, and `ts < 0` says so in a way the
    # primary key's hour column sees; `ts < first_ms` would read first_ms's hour)
    hole_from_ms = first_ms if from_ms < first_ms else 0
    rolls = [roll for _, roll, _ in run]
    if rollup is not None and rollup.days and len(run) >= 24:
        _take_days(store, rollup, run, rolls)
    return {"from_ms": from_ms, "first_ms": first_ms, "hole_from_ms": hole_from_ms,
            "rolled_until_ms": run[-1][2] if run else first_ms, "rolls": rolls, **grid.PARAMS}


def _take_days(store: Store, rollup: Rollup, run: list[tuple[int, int, int]], rolls: list[int]) -> None:
    """Where the run holds a whole UTC day rolled in full and that day's rows add up
    exactly those hourly rolls (its marker's sum agrees), name the day's roll at its first
    hour's place in `rolls` and 0 (no roll) at its other 23: readers then read one day row
    per cell (stamped `DAY_STAMP_MS` past midnight, so at that place) instead of 24."""
    days = {int(m["day_ms"]): m for m in _marks(store, rollup, True, run[0][0], run[-1][0] + HOUR_MS)}
    for i, (hour, _, _) in enumerate(run):
        mark = days.get(hour)
        if mark is None or i + 24 > len(run) or run[i + 23][2] < run[i + 23][0] + HOUR_MS:
            continue  # no day roll, or the day's last hour is not rolled in full (yet)
        if int(mark["rolls_sum"]) == rolls_sum(rolls[i:i + 24]) and rollup.current(mark):
            rolls[i:i + 24] = [int(mark["newest"])] + [0] * 23
