"""The fast engine: visitors from the traffic model posting protocol-correct beacons.

Each beacon goes to the collector with the visitor's IP in X-Forwarded-For, sent from
127.0.0.1, which the demo's collector trusts as its proxy: GeoIP, user-agent parsing and
every other enrichment stage run exactly as for a real browser behind a load balancer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import httpx
import orjson

from demo.incidents import Incidents
from demo.stats import Stats
from demo.traffic import Visitor, envelope, journey, pick_visitor

MAX_OPEN_VISITS = 400


class SyntheticEngine:
    """Starts `rate` visits per second (Poisson arrivals) until stopped."""

    def __init__(self, collector: str, rate: float, rng: random.Random, incidents: Incidents,
                 stats: Stats, elapsed: Callable[[], float], think_time: float = 0.5) -> None:
        self.url = collector.rstrip("/") + "/v1/beacon"
        self.rate = rate
        self.rng = rng
        self.incidents = incidents
        self.stats = stats
        self.elapsed = elapsed
        self.think_time = think_time
        self._open = asyncio.Semaphore(MAX_OPEN_VISITS)

    async def run(self, stop: asyncio.Event) -> None:
        """Drive visits until `stop` is set; waits for the visits in flight."""
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            visits: set[asyncio.Task[None]] = set()
            while not stop.is_set():
                await self._open.acquire()
                task = asyncio.create_task(self._visit(client, pick_visitor(self.rng)))
                visits.add(task)
                task.add_done_callback(visits.discard)
                try:
                    await asyncio.wait_for(stop.wait(), self.rng.expovariate(self.rate))
                except TimeoutError:
                    pass
            for task in visits:
                task.cancel()
            await asyncio.gather(*visits, return_exceptions=True)

    async def _visit(self, client: httpx.AsyncClient, visitor: Visitor) -> None:
        try:
            self.stats.add(visitors=1)
            views = journey(self.rng, visitor, self.incidents, self.elapsed(), time.time() * 1000)
            for i, view in enumerate(views):
                if i:
                    await asyncio.sleep(self.think_time * self.rng.uniform(0.5, 1.5))
                body = orjson.dumps(envelope(visitor, view, time.time() * 1000))
                await self._post(client, visitor, body)
        finally:
            self._open.release()

    async def _post(self, client: httpx.AsyncClient, visitor: Visitor, body: bytes) -> None:
        headers = {"content-type": "text/plain;charset=UTF-8", "user-agent": visitor.device.user_agent,
                   "x-forwarded-for": visitor.ip}
        try:
            reply = await client.post(self.url, content=body, headers=headers)
            ok = reply.status_code == 202
        except httpx.HTTPError:
            ok = False
        self.stats.add(pageviews=1, accepted=int(ok), rejected=int(not ok))
