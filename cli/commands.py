"""What each `rum` subcommand does."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector.settings import Settings, load_settings


class CliError(RuntimeError):
    """A problem the user can fix, said in one line."""


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("host", "port", "data_dir"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_settings(args.config, **overrides)


def serve(args: argparse.Namespace) -> int:
    """Run the collector with uvicorn until SIGINT/SIGTERM (which flush everything)."""
    return _run(args, "serve")


def collector(args: argparse.Namespace) -> int:
    """Run the intake only, producing to Kafka (scaled deployment)."""
    return _run(args, "collector")


def pipeline(args: argparse.Namespace) -> int:
    """Run the Kafka consumer that writes to the store (scaled deployment)."""
    return _run(args, "pipeline")


def _run(args: argparse.Namespace, role: str) -> int:
    from collector.app import create_app
    from collector.logs import setup_logging
    from collector.server import build_servers

    settings = _settings(args)
    if role in ("collector", "pipeline") and not settings.kafka_bootstrap:
        raise CliError(f"`rum {role}` needs Kafka: set RUM_KAFKA_BOOTSTRAP "
                       "(for one process without Kafka, use `rum serve`)")
    if role == "serve" and not settings.clickhouse_url:
        from pipeline.chdb_store import hold_data_lock

        hold_data_lock(settings.data_dir / "chdb").close()  # in use: one line, not a traceback
    if sys.stderr.isatty():  # a person is watching: where things are, before the JSON logs
        from cli.banner import banner

        sys.stderr.write(banner(settings, role))
    setup_logging(settings.log_level)
    app = create_app(settings, role)
    # the embedded store's inserts run in this process's (lowered) threads: the loop gives
    # them time when they fall behind (collector/priority.py)
    embedded = role == "serve" and not settings.clickhouse_url and not settings.kafka_bootstrap
    nice = background_nice(settings.background_nice, role)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        started = runner.run(_serve(build_servers(app, settings), nice, app if embedded else None))
    return 0 if started else 1


def background_nice(setting: int | None, role: str) -> int:
    """The nice value a role gives its threads but the loop's (RUM_BACKGROUND_NICE; unset: 19
    where it was measured, `rum serve`, whose writer shares the loop's core). `rum pipeline`
    answers no beacons: its inserts are its work, at the usual priority."""
    if role == "pipeline":
        return 0
    if setting is None:
        return 19 if role == "serve" else 0
    return setting


async def _serve(servers: list[Any], nice: int, embedded: Any = None) -> bool:
    """Serve, with this process's other threads kept at `nice` (collector/priority.py), and
    what start-up made frozen out of the garbage collector's view once it is done. With
    `embedded` (the app, when its writer runs in this process), the loop yields to the
    writer while it falls behind. The process is the CLI's own, so it decides all three."""
    import gc

    from collector.priority import keep_lowering, yield_to_writer
    from collector.server import run_servers
    from pipeline.batcher import Batcher

    tasks = [asyncio.create_task(keep_lowering(nice), name="thread-priority")] if nice else []
    serving = asyncio.create_task(run_servers(servers), name="servers")
    try:
        # modules, the app and its caches live as long as the process; a full collection
        # walked them all (~50 ms, a stall of every request in flight), now only what is newer
        while not serving.done() and not servers[0].started:
            await asyncio.sleep(0.05)
        if servers[0].started:
            gc.collect()
            gc.freeze()
            intake = embedded.state.intake if embedded is not None else None
            if nice and intake is not None and isinstance(intake.sink, Batcher):
                tasks.append(asyncio.create_task(yield_to_writer(intake.sink.behind),
                                                 name="yield-to-writer"))
        return await serving
    finally:
        for task in tasks:
            task.cancel()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it), as `uvicorn` itself picks it;
    else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def migrate_cmd(args: argparse.Namespace) -> int:
    """Apply pending migrations to the configured store."""
    from pipeline.schema import migrate
    from pipeline.store import open_store

    settings = _settings(args)
    store = open_store(settings)
    try:
        applied = migrate(store, settings.retention_days)
    finally:
        store.close()
    print("applied: " + (", ".join(applied) if applied else "nothing (schema is current)"))
    return 0


def report(args: argparse.Namespace) -> int:
    """Run a named query via a running collector, or directly on the store."""
    from queries.catalog import get_query

    spec = get_query(args.query)
    raw = {key: getattr(args, f"param_{key}") for key in spec.params
           if getattr(args, f"param_{key}", None) is not None}
    if getattr(args, "why", False):
        raw["why"] = "true"
    if not (args.json or args.csv or args.wide):  # what only the other outputs show: not asked
        raw |= {key: p.table_default for key, p in spec.params.items()
                if p.table_default is not None and key not in raw}
    values = spec.parse(raw)
    settings = _settings(args)
    server = _server_url(args.server) if args.server else f"http://{settings.host}:{settings.port}"
    rows = _from_server(server, spec.name, raw, explicit=bool(args.server))
    if rows is None:
        rows = _from_store(settings, spec, values)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif args.csv:
        _print_csv(rows)
    else:
        from cli.tables import print_table

        print_table(spec.name, rows, values, wide=args.wide)
        if getattr(args, "why", False):
            from queries.why import why_lines

            # the terminal's width, at most 100 columns (the table's rule)
            width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
            sys.stdout.write("\nwhy:\n" + "\n".join(why_lines(rows, width)) + "\n")
    return 0


def _server_url(given: str) -> str:
    """`--server` as a base URL: `host:port`, `host` or an http(s) URL; anything else is a one-line error."""
    text = given.strip()
    url = text if "://" in text else f"http://{text}"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise CliError(f"--server: expected host:port or an http(s):// URL, got {given!r}")
    return url


def _from_server(server: str, name: str, raw: dict[str, str], explicit: bool) -> list[dict[str, Any]] | None:
    url = f"{server.rstrip('/')}/v1/query/{name}?{urllib.parse.urlencode(raw)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            rows: list[dict[str, Any]] = json.loads(reply.read())["rows"]
            return rows
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = {"detail": exc.reason}
        if body.get("error") == "unknown_site":
            raise CliError(body["detail"]) from None
        raise CliError(f"{server} answered {exc.code}: {body.get('detail', '')}") from None
    except (urllib.error.URLError, OSError) as exc:
        if explicit:
            raise CliError(f"cannot reach {server}: {exc}") from None
        return None


def _from_store(settings: Settings, spec: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    from pipeline.schema import migrate
    from pipeline.store import open_store
    from queries.catalog import unknown_site, unknown_site_text

    store = open_store(settings)
    try:
        migrate(store, settings.retention_days)
        rows: list[dict[str, Any]] = spec.run(store, values)
        if not rows and (known := unknown_site(store, values)) is not None:
            raise CliError(unknown_site_text(values["site"], known))
        return rows
    finally:
        store.close()


def _print_csv(rows: list[dict[str, Any]]) -> None:
    import csv

    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                         for k, v in row.items()})


def demo(args: argparse.Namespace) -> int:
    """Run the demo: collector, shop, traffic, incidents, alerts; exit 0 when it ran."""
    from pathlib import Path

    from demo.run import Demo, DemoOptions

    if args.rate <= 0 or args.duration < 0 or args.alert_interval < 0.05:
        raise CliError("--rate must be > 0, --duration >= 0, --alert-interval >= 0.05")
    options = DemoOptions(
        rate=args.rate, duration=args.duration, seed=args.seed, browser=args.browser,
        alert_interval=args.alert_interval, port=args.port, config=args.config,
        data_dir=_demo_data_dir(args),
        summary=Path(args.summary) if args.summary else None)
    try:
        Demo(options).run()
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    return 0


def _demo_data_dir(args: argparse.Namespace) -> Path | None:
    """The demo's data folder: --data-dir, else RUM_DATA_DIR, else None (a temporary one)."""
    given = args.data_dir or os.environ.get("RUM_DATA_DIR")
    return Path(given) if given else None


def geoip_download(args: argparse.Namespace) -> int:
    """Download and install a GeoIP City database; the previous one stays on any failure."""
    from cli.geoip import GeoipError, download_cmd

    try:
        return download_cmd(_settings(args), args.url)
    except GeoipError as exc:
        raise CliError(f"geoip download failed (the previous database, if any, stays): {exc}") from None


def alerts_check(args: argparse.Namespace) -> int:
    """Validate a rules file: print a summary, or raise RulesError listing each problem."""
    from pathlib import Path

    from alerts.rules import load_rules

    ruleset = load_rules(Path(args.file))
    print(f"ok: {len(ruleset.rules)} rule(s), {len(ruleset.webhooks)} webhook(s)")
    for rule in ruleset.rules:
        group = ",".join(rule.group_by) or "all traffic"
        print(f"  {rule.name}: {rule.metric} {rule.stat} {rule.direction} {rule.threshold:g} "
              f"per {group}, window {rule.window}s, for {rule.for_seconds}s -> "
              f"{', '.join(rule.webhooks) or 'no webhook'}")
    return 0


def alerts_run(args: argparse.Namespace) -> int:
    """Run the evaluator and webhook delivery alone (with /healthz and /metrics)."""
    settings = _settings(args)
    if settings.alert_rules is None:
        raise CliError("RUM_ALERT_RULES is not set: nothing to evaluate")
    return _run(args, "alerts")


