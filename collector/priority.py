"""The event loop's thread keeps the core: the process's other threads run at a lower priority.

`rum serve` answers beacons on one thread (the event loop) while ClickHouse's own
threads (chDB's inserts, merges and the rollups' queries) and the helper threads
(`asyncio.to_thread`, the spool's worker) share its core. At equal priority the
kernel gives a busy ClickHouse thread time slices of a few milliseconds, and each
slice is a stall of every request in flight: the latency tail. With the others
at a higher nice value (lower priority) the loop runs first whenever it has work,
and the background work takes the time the loop leaves idle. Measured in
bench/RESULTS.md ("2026-12-04, sixth session").

Under saturation the background work then gets the smaller share of the core (nice
10: ~10% against the loop's thread), which is less than the inserts need: the buffer
fills and the intake answers 503. Measured on one core under wrk at its maximum for
30 s: at nice 10, 9,700 beacons/s accepted and 55% of requests refused; at 0, 13,300/s
accepted and none refused. A browser does not resend a refused beacon, so this is off
by default (RUM_BACKGROUND_NICE=0): it suits a collector that runs below saturation
and wants the shorter tail (paced p99 at 80% load ~29 ms at 0, ~12-16 ms at 10).

`rum serve`, `rum collector` and `rum pipeline` do this (cli/commands.py, RUM_BACKGROUND_NICE);
an app embedded in another process (the tests' servers) leaves that process's threads alone.

Linux only: a thread's nice value is its own there (`setpriority` on a thread id);
elsewhere nothing is changed. A thread can always lower its own priority, so no
privilege is needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading

TASKS = "/proc/self/task"


def lower_other_threads(nice: int) -> int:
    """Give every thread of this process but the calling one at least `nice` (0 = leave
    them as they are); returns how many threads were changed. New threads inherit the
    nice value of the thread that starts them, so calling this now and then also covers
    threads started since by threads already lowered."""
    if nice <= 0 or not sys.platform.startswith("linux") or not os.path.isdir(TASKS):
        return 0
    me = threading.get_native_id()
    changed = 0
    for name in os.listdir(TASKS):
        tid = int(name)
        if tid == me:
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
                changed += 1
        except OSError:  # the thread ended meanwhile
            continue
    return changed


async def keep_lowering(nice: int, every_seconds: float = 1.0) -> None:
    """Lower the other threads now and every `every_seconds` (a task for the process's life;
    ClickHouse starts threads when it needs them)."""
    while True:
        lower_other_threads(nice)
        await asyncio.sleep(every_seconds)
