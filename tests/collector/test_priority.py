"""The event loop's thread keeps the core: `rum serve` runs its other threads (ClickHouse's,
the helpers') at RUM_BACKGROUND_NICE (collector/priority.py), and the loop gives the writer
time back while it falls behind. Each check of nice values runs in a process of its own: a
thread's nice value cannot be raised back without privilege."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cli.commands import background_nice
from collector.priority import yield_to_writer
from tests.conftest import free_port, wait_healthy, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="a thread's own nice value is Linux's")
ROOT = Path(__file__).resolve().parents[2]


def _in_own_process(script: str) -> Any:
    """Run `script` in a Python process of its own (its threads' nice values cannot be raised
    back) and return the JSON it prints."""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def _nice(pid: int, tid: int) -> int:
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of stat: nice


def test_other_threads_are_lowered_and_the_caller_is_not() -> None:
    script = textwrap.dedent("""
        import json, os, threading
        from collector.priority import lower_other_threads

        def nice(tid):
            return int(open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()[16])

        ready, done, tids = threading.Event(), threading.Event(), []
        def worker():
            tids.append(threading.get_native_id()); ready.set(); done.wait(10)
        thread = threading.Thread(target=worker); thread.start(); ready.wait(10)
        first, second = lower_other_threads(7), lower_other_threads(7)
        out = {"first": first, "second": second, "off": lower_other_threads(0),
               "worker": nice(tids[0]), "caller": nice(threading.get_native_id())}
        done.set(); thread.join(10)
        print(json.dumps(out))
    """)
    seen = _in_own_process(script)
    assert seen["worker"] == 7
    assert seen["caller"] < 7
    assert seen["first"] >= 1
    assert seen["second"] == 0 and seen["off"] == 0  # nothing left to change; 0 changes nothing


@pytest.mark.skipif(os.getpriority(os.PRIO_PROCESS, 0) >= 19, reason="the tests already run at nice 19")
def test_rum_serve_keeps_its_loop_thread_first_by_default(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RUM_BACKGROUND_NICE"}
    env.update(RUM_PORT=str(port), RUM_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        # ClickHouse's threads exist once the store is open; the task lowers them at start
        # and each second after
        def others() -> list[int]:
            out = []
            for name in os.listdir(f"/proc/{proc.pid}/task"):
                try:
                    if int(name) != proc.pid:
                        out.append(_nice(proc.pid, int(name)))
                except FileNotFoundError:  # the thread ended meanwhile
                    continue
            return out

        wait_until(lambda: all(n == 19 for n in others()), timeout=10)  # the default
        assert len(others()) >= 2
        # the event loop's thread (the main one) keeps the nice value it started with
        assert _nice(proc.pid, proc.pid) == os.getpriority(os.PRIO_PROCESS, 0)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def test_the_loop_yields_to_a_writer_behind_in_proportion() -> None:
    """Each tick the loop blocks for the writer's share of it (at most a whole tick), and not
    at all while the writer keeps up."""
    shares = iter([0.0, 0.5, 3.0, 0.0])
    slept: list[float] = []
    asked = asyncio.Event()

    def behind() -> float:
        share = next(shares, None)
        if share is None:
            asked.set()
            return 0.0
        return share

    task = asyncio.create_task(yield_to_writer(behind, tick_seconds=0.002, sleep=slept.append))
    try:
        await asyncio.wait_for(asked.wait(), timeout=10)
    finally:
        task.cancel()
    assert slept == [0.001, 0.002]


def test_rum_serve_yields_only_to_its_embedded_writer_when_lowered() -> None:
    """The CLI starts the yield beside the lowering when its writer runs in the process: not
    at nice 0, not without an embedded batcher (Kafka, a ClickHouse server). In a process of
    its own: the lowering cannot be undone."""
    script = textwrap.dedent("""
        import asyncio, json
        from types import SimpleNamespace
        from cli.commands import _serve
        from pipeline.batcher import Batcher

        class Server:
            started = should_exit = False
            async def serve(self):
                self.started = True
                while not self.should_exit:
                    await asyncio.sleep(0.01)

        async def tasks_while_serving(nice, embedded):
            server = Server()
            serving = asyncio.create_task(_serve([server], nice, embedded))
            for _ in range(20):  # _serve looks for the start every 50 ms
                await asyncio.sleep(0.05)
            names = sorted(t.get_name() for t in asyncio.all_tasks())
            server.should_exit = True
            assert await serving
            return names

        async def main():
            app = SimpleNamespace(state=SimpleNamespace(intake=SimpleNamespace(sink=Batcher(None))))
            kafka = SimpleNamespace(state=SimpleNamespace(intake=SimpleNamespace(sink=object())))
            print(json.dumps({"embedded": await tasks_while_serving(19, app),
                              "nice 0": await tasks_while_serving(0, app),
                              "not embedded": await tasks_while_serving(19, None),
                              "kafka sink": await tasks_while_serving(19, kafka)}))

        asyncio.run(main())
    """)
    seen = _in_own_process(script)
    assert "yield-to-writer" in seen["embedded"] and "thread-priority" in seen["embedded"]
    assert "yield-to-writer" not in seen["nice 0"] and "thread-priority" not in seen["nice 0"]
    assert "yield-to-writer" not in seen["not embedded"]
    assert "yield-to-writer" not in seen["kafka sink"]


def test_the_roles_background_nice_by_default_and_when_set() -> None:
    assert background_nice(None, "serve") == 19  # measured: its writer shares the loop's core
    assert background_nice(None, "collector") == 0  # unchanged unless asked
    assert background_nice(7, "collector") == 7 and background_nice(0, "serve") == 0
    assert background_nice(19, "pipeline") == 0  # its inserts are its work
