"""`rum demo` wired together: collector, GeoIP, shop, receiver, engines, incidents, display."""

from __future__ import annotations

import asyncio
import math
import random
import shlex
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.live import Live
from rich.table import Table

from collector.settings import Settings, load_settings
from demo.browser import BrowserEngine, chromium_available
from demo.geodb import build_geoip_db
from demo.incidents import Incident, Incidents, schedule
from demo.receiver import Delivery, run_receiver
from demo.rules import write_rules
from demo.shop import run_shop
from demo.stats import Stats
from demo.synthetic import SyntheticEngine
from demo.traffic import SITE
from queries.analytics import THRESHOLDS

# how long the findings wait for the collector to write what it took (a busy machine's writer
# can fall behind while the rollups take their first cycles on the embedded store)
WRITE_WAIT_S = 60.0
DEFAULT_TIMELINE = 60.0  # seconds over which incidents are planted when --duration is 0


@dataclass
class DemoOptions:
    """What `rum demo` was asked to do."""

    rate: float = 30.0  # synthetic visits per second
    duration: float = 0.0  # seconds; 0 = until Ctrl-C
    seed: int = 1
    browser: bool | None = None  # None: when chromium is installed
    alert_interval: float = 5.0
    port: int | None = None
    data_dir: Path | None = None
    config: str | None = None
    summary: Path | None = None


@dataclass
class Findings:
    """What the product found, read back from the query API when the demo ends."""

    planted: list[dict[str, Any]]
    slow_regions: list[dict[str, Any]]
    failing_logins: list[dict[str, Any]]
    top_errors: list[dict[str, Any]]
    deliveries: list[Delivery] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    revenue_impact: list[dict[str, Any]] = field(default_factory=list)


class Demo:
    """One run of the demo; `run()` returns the findings."""

    def __init__(self, options: DemoOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console()
        self.stats = Stats()
        self.rng = random.Random(options.seed)
        timeline = options.duration or DEFAULT_TIMELINE
        self.incidents = Incidents(schedule(timeline))
        self.deliveries: list[Delivery] = []
        self._started = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the traffic started."""
        return time.monotonic() - self._started

    def run(self) -> Findings:
        """Start everything, drive traffic until the duration ends or Ctrl-C, then report."""
        with ExitStack() as stack:
            data_dir = self.options.data_dir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="rum-demo-")))
            data_dir.mkdir(parents=True, exist_ok=True)
            hook = stack.enter_context(run_receiver(self._delivered))
            settings = self._settings(data_dir, hook)
            collector = stack.enter_context(_collector(settings))
            shop = stack.enter_context(run_shop(collector, self.incidents, self.elapsed, self.stats))
            self.console.print(f"[bold]Dashboard:[/] {collector}/?site={SITE}&window=15m"
                               "&refresh=5")
            self.console.print(f"Demo shop: {shop}/   webhook receiver: {hook}")
            browser = self._browser(shop)
            if browser is not None:
                stack.callback(browser.close)
            asyncio.run(self._drive(collector))
            if browser is not None:
                browser.close()
                if browser.error:
                    self.console.print(f"[yellow]browser engine stopped:[/] {browser.error}")
            self.stats.unwritten_rows = _wait_written(collector)
            if self.stats.unwritten_rows:
                self.console.print(f"[yellow]the collector still had {self.stats.unwritten_rows:,} "
                                   f"rows to write after {WRITE_WAIT_S:.0f} s; the findings leave "
                                   "them out[/]")
            findings = self._findings(collector)
        self._report(findings)
        return findings

    def _settings(self, data_dir: Path, hook: str) -> Settings:
        rules = write_rules(data_dir / "demo-rules.yaml", hook)
        overrides: dict[str, Any] = {
            "host": "127.0.0.1", "data_dir": data_dir, "trusted_proxies": ["127.0.0.1/32"],
            "alert_rules": rules, "alert_interval": self.options.alert_interval,
            "alert_allow_private_webhooks": True, "batch_max_seconds": 0.5,
            "log_level": "warning"}
        if self.options.port is not None:
            overrides["port"] = self.options.port
        settings = load_settings(self.options.config, **overrides)
        if settings.geoip_db is None:
            overrides["geoip_db"] = build_geoip_db(data_dir / "demo-city.mmdb")
            settings = load_settings(self.options.config, **overrides)
        else:
            self.console.print(f"GeoIP: {settings.geoip_db} (RUM_GEOIP_DB)")
        return settings

    def _browser(self, shop: str) -> BrowserEngine | None:
        wanted = self.options.browser
        if wanted is None:
            wanted = chromium_available()
        elif wanted and not chromium_available():
            self.console.print("[yellow]--browser: /usr/bin/chromium or playwright is missing; "
                               "synthetic visitors only[/]")
            return None
        if not wanted:
            return None
        engine = BrowserEngine(shop, random.Random(self.options.seed + 1), self.stats)
        engine.start()
        return engine

    async def _drive(self, collector: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self._started = time.monotonic()
        engine = SyntheticEngine(collector, self.options.rate, self.rng, self.incidents,
                                 self.stats, self.elapsed)
        traffic = asyncio.create_task(engine.run(stop))
        announced: set[Incident] = set()
        with Live(self._panel(), console=self.console, refresh_per_second=4,
                  transient=True) as live:
            while not stop.is_set():
                for incident in self.incidents.active(self.elapsed()):
                    if incident not in announced:
                        announced.add(incident)
                        live.console.print(f"[bold red]incident[/] at {self.elapsed():4.0f}s: "
                                           f"{incident.description}")
                for delivery in self._take_new_deliveries():
                    live.console.print(_describe(delivery))
                live.update(self._panel())
                if self.options.duration and self.elapsed() >= self.options.duration:
                    stop.set()
                try:
                    await asyncio.wait_for(stop.wait(), 0.25)
                except TimeoutError:
                    pass
            await traffic
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for delivery in self._take_new_deliveries():
            self.console.print(_describe(delivery))

    _shown = 0

    def _take_new_deliveries(self) -> list[Delivery]:
        new = self.deliveries[self._shown:]
        self._shown += len(new)
        return new

    def _delivered(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.stats.add(alerts_delivered=1)

    def _panel(self) -> Table:
        s = self.stats
        table = Table(title=f"rum demo: {self.elapsed():.0f}s"
                      + (f" of {self.options.duration:.0f}s" if self.options.duration else
                         " (Ctrl-C stops)"), show_header=False)
        table.add_row("visitors sent (synthetic)", f"{s.visitors:,}")
        table.add_row("page views sent", f"{s.pageviews:,}")
        table.add_row("beacons accepted / refused", f"{s.accepted:,} / {s.rejected:,}")
        table.add_row("browser visitors / beacons accepted",
                      f"{s.browser_visitors:,} / {s.browser_accepted:,}")
        table.add_row("incidents started", str(len(self.incidents.active(self.elapsed()))))
        table.add_row("alerts delivered", str(s.alerts_delivered))
        return table

    def _findings(self, collector: str) -> Findings:
        window = f"{max(60, math.ceil(self.elapsed()) + 30)}s"
        base = {"site": SITE, "window": window}
        slow = _query(collector, "slow-regions", {**base, "min_samples": "20"})
        # a short demo sees a few tens of logins per country: the default of 20 attempts
        # (for real traffic) left the spiking country untested in some 30 s runs; the z-test
        # with its Bonferroni correction still keeps the others unflagged
        logins = _query(collector, "failing-logins", {**base, "by": "country", "min_attempts": "10"})
        errors = _query(collector, "top-errors", {**base, "limit": "5"})
        revenue = _query(collector, "revenue-impact", base)
        planted = [{"kind": i.kind, "target": i.target, "start": round(i.start, 1),
                    "description": i.description} for i in self.incidents.planned]
        counts = {k: v for k, v in vars(self.stats).items() if isinstance(v, int)}
        return Findings(planted, slow, logins, errors, list(self.deliveries), counts, revenue)

    def _report(self, findings: Findings) -> None:
        out = self.console
        out.print(f"\n[bold]Findings[/] (site {SITE}; {findings.stats['accepted']:,} synthetic and "
                  f"{findings.stats['browser_accepted']:,} browser beacons accepted)")
        for row in [r for r in findings.slow_regions if r["flagged"]][:5]:
            where = f"{row['country']}-{row['region']}" if row["level"] == "region" else row["country"]
            out.print(f"  slow region   {where:<8} {_slow_metrics(row)} ({row['samples']} page views)")
        for line in _revenue_lines(findings.revenue_impact):
            out.print(f"  revenue       {line}")
        for row in [r for r in findings.failing_logins if r["flagged"]]:
            out.print(f"  failing login {row['country']:<8} {row['failure_rate']:.0%} failed vs "
                      f"{row['baseline_rate']:.0%} elsewhere ({row['attempts']} attempts)")
        for row in findings.top_errors[:3]:
            out.print(f"  JS error      {row['pageviews']:>4} page views: {row['message'][:70]}")
        out.print(f"  alerts delivered to the demo receiver: {len(findings.deliveries)}")
        kept = self.options.data_dir
        if kept is None:
            out.print("\nThe demo's data was in a temporary folder and is gone: "
                      "keep it with --data-dir DIR (or RUM_DATA_DIR).")
        else:
            out.print(f"\nThe demo's data is kept in {kept}. To open its dashboard again:\n"
                      f"  rum serve --data-dir {shlex.quote(str(kept))}\n"
                      f"  then http://127.0.0.1:8080/?site={SITE}&window=24h (RUM_PORT to change the port)")
        if self.options.summary is not None:
            self.options.summary.write_bytes(orjson.dumps(vars(findings), option=orjson.OPT_INDENT_2))


def _slow_metrics(row: dict[str, Any]) -> str:
    """'p75 TTFB 920 ms > 800 ms': each metric that made slow-regions flag the place."""
    return ", ".join(f"p75 {m.upper()} {row[f'{m}_p75']:,.0f} ms > {THRESHOLDS[m][0]:,.0f} ms"
                     for m in row.get("slow_metrics") or [])


def _revenue_lines(rows: list[dict[str, Any]], most: int = 3) -> list[str]:
    """Revenue at risk of the places past the LCP threshold, surely slow ones first: the
    measured figure, else the prior's, else why there is none; with the caveat if any."""
    def rank(row: dict[str, Any]) -> int:
        if row["revenue_at_risk_per_day"] is None:
            return 2
        return 0 if row["method"] == "observed" else 1

    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        where = f"{row['country']}-{row['region']}"
        if row["excess_ms"] > 0 and (where not in best or rank(row) < rank(best[where])):
            best[where] = row
    lines = []
    for where, row in sorted(best.items(), key=lambda item: not item[1]["flagged"])[:most]:
        money = (f"{row['revenue_at_risk_per_day']:,.0f} {row['currency']} a day at risk "
                 f"({row['method']})" if row["revenue_at_risk_per_day"] is not None
                 else "no figure")
        note = f"; {row['reason']}" if row["reason"] else ""
        lines.append(f"{where:<8} {money}, p75 LCP {row['p75_lcp']:,.0f} ms{note}")
    return lines


def _describe(delivery: Delivery) -> str:
    colour = "red" if delivery.get("state") == "firing" else "green"
    text = str(delivery.get("summary") or delivery.get("rule"))
    kind, _, rest = text.partition(": ")
    return f"[bold {colour}]alert {kind.lower()}[/]: {rest}"


def _query(collector: str, name: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """A question's rows; RuntimeError (one line for the CLI) when the collector does not
    answer it."""
    try:
        reply = httpx.get(f"{collector}/v1/query/{name}", params=params, timeout=60)
        body = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise RuntimeError(f"the demo's collector did not answer {name}: {_reason(exc)}") from None
    if reply.status_code == 404 and body.get("error") == "unknown_site":
        return []  # stopped before the first beacon was stored: nothing found yet
    if reply.status_code != 200 or not isinstance(body.get("rows"), list):
        detail = body.get("detail") or body.get("error") or reply.text[:200]
        raise RuntimeError(f"the demo's collector answered {name} with HTTP {reply.status_code}: {detail}")
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def _reason(exc: Exception) -> str:
    """An HTTP client error in a few words (httpx's text, or the error's kind when empty)."""
    return str(exc) or type(exc).__name__


def _wait_written(collector: str, timeout: float = WRITE_WAIT_S) -> int:
    """Until the collector's buffer is empty, so that the findings include every beacon, or
    the timeout: the rows it still had to write then (0 when all are written)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pending = int(httpx.get(f"{collector}/healthz", timeout=5).json().get("pending_rows", 0))
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise RuntimeError(f"the demo's collector did not answer /healthz: {_reason(exc)}") from None
        if pending == 0 or time.monotonic() >= deadline:
            return pending
        time.sleep(0.1)


@contextmanager
def _collector(settings: Settings) -> Iterator[str]:
    """The embedded collector (`rum serve`) in a thread of this process; yields its URL."""
    from collector.app import create_app
    from collector.server import build_servers, run_servers

    app = create_app(settings)
    servers = build_servers(app, settings)
    thread = threading.Thread(target=lambda: asyncio.run(run_servers(servers)),
                              daemon=True, name="demo-collector")
    thread.start()
    deadline = time.monotonic() + 60
    while not all(s.started for s in servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the collector did not start on {settings.host}:{settings.port} "
                               "(port in use? try --port)")
        time.sleep(0.05)
    try:
        yield f"http://{settings.host}:{settings.port}"
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=30)
