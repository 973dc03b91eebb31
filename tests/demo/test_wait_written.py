"""The demo reads its findings once the collector has written what it took, and says how
many rows were still unwritten when it stopped waiting (instead of reading fewer silently)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from demo.run import _wait_written
from tests.js_beacon.site import QuietHandler, serve


@contextmanager
def _healthz(pending: list[int]) -> Iterator[str]:
    """A real HTTP server whose /healthz reports the next of `pending` (the last repeats)."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            rows = pending.pop(0) if len(pending) > 1 else pending[0]
            self._reply(200, orjson.dumps({"status": "ok", "pending_rows": rows}), "application/json")

    with serve(Handler) as url:
        yield url


def test_waits_until_the_buffer_is_written() -> None:
    with _healthz([900, 400, 0]) as url:
        assert _wait_written(url, timeout=30) == 0


def test_says_what_was_left_when_the_writer_stays_behind() -> None:
    with _healthz([1200]) as url:
        assert _wait_written(url, timeout=0.3) == 1200
