"""The event loop's thread keeps the core: the process's other threads run at a lower priority.

`rum serve` answers beacons on one thread (the event loop) while ClickHouse's own
threads (chDB's inserts, merges and the rollups' queries) and the helper threads
(`asyncio.to_thread`, the spool's worker) share its core. At equal priority the
kernel gives a busy ClickHouse thread time slices of a few milliseconds, and each
slice is a stall of every request in flight: the latency tail. With the others
at a higher nice value (lower priority) the loop runs first whenever it has work,
and the background work takes the time the loop leaves idle. Measured in
bench/RESULTS.md ("2026-12-04, sixth session").

Under saturation the background work would then get the smaller share of the core
(nice 10: ~10% against the loop's thread), less than the inserts need: the buffer
fills and the intake answers 503 (measured on one core under wrk at its maximum for
30 s: at nice 10, 9,700 beacons/s accepted and 55% of requests refused; at 0,
13,300/s and none refused). A browser does not resend a refused beacon. So the loop
gives the time back while the writer falls behind (`yield_to_writer`, on
Batcher.behind): every 5 ms it blocks for the writer's share of that tick. Measured
at nice 19 with it (bench/RESULTS.md, "2026-12-04 (seventh session)"): p99 at 80%
load ~9 ms against ~30 ms at nice 0, and at saturation as many beacons accepted as
at nice 0, none refused. Hence `rum serve`'s default, nice 19 (RUM_BACKGROUND_NICE
unset). `rum collector` has no writer on its loop's core (its loop produces to Kafka
itself, its helper threads do little), so it is left as it is unless the setting asks.

The nice value counts against every process of the machine, not only this one: on a
machine whose other work keeps the cores busy, the lowered writer gets little of
them, and RUM_BACKGROUND_NICE=0 (threads left as they are, no yielding) is the setting.

`rum serve` does this by default and `rum collector` when RUM_BACKGROUND_NICE is set
(cli/commands.py), and `rum serve` on its embedded store yields to the writer; `rum
pipeline`, whose inserts are its work, does neither. An app embedded in another process
(the tests' servers) leaves that process's threads alone.

Linux only: a thread's nice value is its own there (`setpriority` on a thread id);
elsewhere nothing is changed. A thread can always lower its own priority, so no
privilege is needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable

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


async def yield_to_writer(behind: Callable[[], float], tick_seconds: float = 0.005,
                          sleep: Callable[[float], object] = time.sleep) -> None:
    """Give the lowered writer the core back while it falls behind (a task for the process's
    life, beside keep_lowering).

    At a higher nice value the writer only gets the time the loop leaves idle, and a
    saturated loop leaves none: its rows would pile up until the buffer refuses beacons.
    So every `tick_seconds` the loop looks at how far the writer is behind (`behind()`,
    Batcher.behind: 0 while it keeps up) and, when it is, blocks for that share of a
    tick (at most a whole one: half the core), in which the writer runs. The loop's
    time goes to the writer only while the writer needs it; below saturation nothing
    is given up.
    """
    while True:
        await asyncio.sleep(tick_seconds)
        share = behind()
        if share > 0:
            sleep(tick_seconds * min(1.0, share))
