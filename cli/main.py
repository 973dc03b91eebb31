"""`rum`: run the collector, apply migrations, print reports. Errors are one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alerts.rules import RulesError
from cli import commands
from collector.settings import SettingsError
from pipeline.store import StoreError
from queries.catalog import CATALOG, ParamError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="rum",
        description="Real-user monitoring: collect browser beacons, find slow regions.",
    )
    parser.add_argument("--config", help="TOML settings file (also RUM_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the collector (embedded chDB by default)",
                           description="Run the collector: beacon intake, query API, /metrics.")
    serve.add_argument("--host", help="listen address (RUM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (RUM_PORT, default 8080)")
    serve.add_argument("--data-dir", help="data folder (RUM_DATA_DIR, default ./.rum-data)")
    serve.set_defaults(func=commands.serve)

    for name, func, short, text in (
        ("collector", commands.collector, "run the beacon intake only, producing to Kafka",
         "Run the beacon intake only: accepted events go to a disk spool, then to Kafka "
         "(needs RUM_KAFKA_BOOTSTRAP). Scale it out behind a load balancer."),
        ("pipeline", commands.pipeline, "consume from Kafka and write to the store",
         "Consume events from Kafka and write them to the store (RUM_CLICKHOUSE_URL, else "
         "chDB under the data dir); serves /healthz and /metrics. Scale out with partitions."),
    ):
        role = sub.add_parser(name, help=short, description=text)
        role.add_argument("--host", help="listen address (RUM_HOST, default 127.0.0.1)")
        role.add_argument("--port", type=int, help="listen port (RUM_PORT, default 8080)")
        role.add_argument("--data-dir", help="data folder (RUM_DATA_DIR, default ./.rum-data)")
        role.set_defaults(func=func)

    mig = sub.add_parser("migrate", help="apply schema migrations and exit",
                         description="Apply pending schema migrations to the configured store.")
    mig.add_argument("--data-dir", help="data folder (RUM_DATA_DIR)")
    mig.set_defaults(func=commands.migrate_cmd)

    alerts = sub.add_parser("alerts", help="run the alert evaluator alone, or check a rules file",
                            description="Without a subcommand: evaluate RUM_ALERT_RULES and "
                            "deliver webhooks until stopped (scaled deployment); serves "
                            "/healthz and /metrics on RUM_HOST:RUM_PORT.")
    alerts.add_argument("--host", help="listen address (RUM_HOST, default 127.0.0.1)")
    alerts.add_argument("--port", type=int, help="listen port (RUM_PORT, default 8080)")
    alerts.add_argument("--data-dir", help="data folder (RUM_DATA_DIR)")
    alerts.set_defaults(func=commands.alerts_run)
    asub = alerts.add_subparsers(dest="alerts_command", metavar="SUBCOMMAND")
    check = asub.add_parser("check", help="validate a rules file; print each problem with its line",
                            description="Validate an alert rules file (YAML or TOML).")
    check.add_argument("file", help="rules file")
    check.set_defaults(func=commands.alerts_check)

    geoip = sub.add_parser("geoip", help="download a free GeoIP City database into the data dir",
                           description="GeoIP databases for visitors' countries and regions.")
    gsub = geoip.add_subparsers(dest="geoip_command", metavar="SUBCOMMAND", required=True)
    fetch = gsub.add_parser(
        "download", help="fetch DB-IP City Lite (or GeoLite2-City with RUM_MAXMIND_LICENSE_KEY)",
        description="Download a City database into DATA_DIR/geoip/city.mmdb, verify that it "
        "opens and answers, and only then replace the previous one; `rum serve` uses it when "
        "RUM_GEOIP_DB is unset. Default: DB-IP's IP to City Lite (CC BY 4.0) of this month, "
        "else of last month; with RUM_MAXMIND_LICENSE_KEY, MaxMind's GeoLite2-City.")
    fetch.add_argument("--url", help="download from this URL instead (.mmdb, .mmdb.gz or .tar.gz)")
    fetch.add_argument("--data-dir", help="data folder (RUM_DATA_DIR)")
    fetch.set_defaults(func=commands.geoip_download)

    demo = sub.add_parser("demo", help="see the product work: traffic, incidents, alerts, dashboard",
                          description="Start the embedded collector, a demo shop with the real "
                          "snippet and visitors from around the world; plant incidents and watch "
                          "them found on the dashboard and delivered as alerts. Ctrl-C stops.")
    demo.add_argument("--rate", type=float, default=30.0, help="synthetic visits per second (30)")
    demo.add_argument("--duration", type=float, default=0.0,
                      help="seconds to run; 0 = until Ctrl-C (incidents start at 12, 18, 24 s)")
    demo.add_argument("--seed", type=int, default=1, help="random seed of the traffic model (1)")
    demo.add_argument("--browser", action=argparse.BooleanOptionalAction, default=None,
                      help="also drive real chromium visitors (default: when /usr/bin/chromium exists)")
    demo.add_argument("--alert-interval", type=float, default=5.0,
                      help="seconds between alert evaluations (5)")
    demo.add_argument("--port", type=int, help="collector port (RUM_PORT, default 8080)")
    demo.add_argument("--data-dir",
                      help="keep the data here (default: RUM_DATA_DIR, else a temporary folder)")
    demo.add_argument("--summary", help="also write the findings as JSON to this file")
    demo.set_defaults(func=commands.demo)

    report = sub.add_parser("report", help="answer a question (e.g. slow-regions)",
                            description="Run a named query and print a table (or JSON).")
    rsub = report.add_subparsers(dest="query", required=True, metavar="QUERY")
    for spec in CATALOG.values():
        q = rsub.add_parser(spec.name, help=_escaped(spec.summary), description=spec.summary)
        for key, param in spec.params.items():
            if key == "why":
                continue  # the --why flag below sets it
            q.add_argument(f"--{key.replace('_', '-')}", dest=f"param_{key}", metavar=key.upper(),
                           help=_escaped(f"{param.help} (default {param.default!r})"))
        output = q.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="print JSON instead of a table")
        output.add_argument("--csv", action="store_true", help="print CSV instead of a table")
        q.add_argument("--wide", action="store_true",
                       help="the table with every column (default: the main ones, within 100 columns)")
        if spec.attach is not None:
            q.add_argument("--why", action="store_true",
                           help="after the table, why each flagged segment is slow (docs/analytics.md)")
        q.add_argument("--server", help="query a running collector at this URL "
                       "(default: the one in settings, else open the store directly)")
        q.add_argument("--data-dir", help="data folder (RUM_DATA_DIR)")
        q.set_defaults(func=commands.report)
    return parser


def _escaped(text: str) -> str:
    """Help text with its '%' doubled: argparse formats help strings with `%`."""
    return text.replace("%", "%%")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rum` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except RulesError as exc:
        for problem in exc.problems:
            print(f"rum: error: {problem}", file=sys.stderr)
        return 2
    except (SettingsError, ParamError, StoreError, commands.CliError) as exc:
        print(f"rum: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
