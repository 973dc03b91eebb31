"""Analytics at scale: the catalog's questions over 10 million events in chDB.

Loads N synthetic events (default 10 million in the last 24 h; --days spreads them
wider: page views with vitals in 40 countries, logins, conversions), then times each
question as served, three ways: from raw events only (before any rollup), after the
roller has rolled every hour (slow-regions reads the hourly rollup), and after the
parts are merged; with a plain p75-by-country on the raw table as the baseline of the
same run, and the roller's own cost (first backfill, a steady cycle).

With --warm N, each question (and the baseline) is first asked N times untimed, so that
the timed runs find what a dashboard refreshing the same questions finds: ClickHouse's
compiled expressions (it compiles an expression the third time it sees it, which costs
that run tens of ms) and the parts' marks loaded. With --planning, each cell also says how
long ClickHouse takes to analyse and plan the question's SQL without reading a row (an
`EXPLAIN PLAN` of each SQL the question ran, summed): the part of its time no rollup can
shorten. With --by-matrix, every question that takes `by` is also asked by each dimension
the product offers, alone, over the longest window.

Usage: .venv/bin/python bench/analytics_bench.py [--events 10000000] [--days 1] [--runs 5]
       [--warm 0] [--planning] [--by-matrix] [--states raw,rolled,merged]
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grafana import sql as grafana_sql  # noqa: E402
from pipeline.chdb_store import ChdbStore  # noqa: E402
from pipeline.schema import migrate  # noqa: E402
from queries.analytics import DIMENSIONS  # noqa: E402
from queries.catalog import CATALOG, get_query, parse_window  # noqa: E402
from queries.spec import ParamError, forget_settled  # noqa: E402
from rollups import segments  # noqa: E402
from rollups.scheduler import Roller  # noqa: E402
from tests.recording import Recording  # noqa: E402

COUNTRIES = "['US','DE','IN','BR','GB','FR','JP','NL','SE','MX','ES','IT','CA','AU','PL','TR','ID','NG','ZA','AR','KR','VN','PH','EG','TH','CO','CL','PE','RO','CZ','PT','GR','HU','AT','CH','BE','DK','FI','NO','IE']"  # noqa: E501

# 8 events per session, 75 s apart (a session lasts ~9 min: `p` sessions run at once); a
# session's country, region, city, device, browser, OS and connection are its own (drawn
# independently: more segments than real traffic, where OS follows device); 2% logins (BR fails 12%,
# elsewhere 1%), 2% conversions, the rest page views with lognormal vitals (India's LCP 1.8x),
# an RTT each, the parts of LCP on 2 in 5 (India's server wait 3x) and of INP on 1 in 5
LOAD = f"""
INSERT INTO rum.events (event_id, site, kind, ts, received_at, session_id, pageview_id, country,
    region, city, device_class, browser, os, connection_type, page_group, is_bot, lcp, inp, cls,
    fcp, ttfb, login_success, conversion_value, currency, rtt, lcp_ttfb, lcp_load_delay,
    lcp_load_time, lcp_render_delay, inp_input_delay, inp_processing, inp_presentation)
SELECT
    generateUUIDv4(number), 'shop',
    multiIf(number % 50 = 0, 'login', number % 50 = 25, 'conversion', 'pageview') AS k,
    now64(3) - toIntervalMillisecond(number * {{days}} * 86400000 / {{n}}),
    now64(3), concat('s', toString(number % {{p}} + {{p}} * intDiv(number, 8 * {{p}})) AS s),
    concat('p', toString(number)),
    {COUNTRIES}[cityHash64(s) % 40 + 1] AS c, concat(c, '-', toString(cityHash64(s) % 3)),
    concat(c, ' city ', toString(cityHash64(s, 5) % 8)),
    ['desktop','mobile','tablet'][cityHash64(s, 1) % 3 + 1],
    ['Chrome','Safari','Firefox'][cityHash64(s, 2) % 3 + 1],
    ['Windows','Android','iOS','macOS'][cityHash64(s, 3) % 4 + 1],
    ['4g','wifi','3g'][cityHash64(s, 4) % 3 + 1],
    ['/','/product/:id','/cart','/checkout'][number % 4 + 1], 0,
    if(k = 'pageview', randLogNormal(log(1800), 0.5) * if(c = 'IN', 1.8, 1.0), NULL),
    if(k = 'pageview', randLogNormal(log(120), 0.6), NULL),
    if(k = 'pageview', randExponential(20), NULL),
    if(k = 'pageview', randLogNormal(log(1100), 0.5), NULL),
    if(k = 'pageview', randLogNormal(log(400), 0.6), NULL),
    if(k = 'login', randCanonical() >= if(c = 'BR', 0.12, 0.01), NULL),
    if(k = 'conversion', 20 + number % 80, NULL), if(k = 'conversion', 'EUR', ''),
    if(k = 'pageview', [25, 50, 100, 300][cityHash64(s, 6) % 4 + 1], NULL),
    if(k = 'pageview' AND number % 5 < 2, randLogNormal(log(500), 0.6) * if(c = 'IN', 3, 1), NULL) AS pt,
    if(pt IS NULL, NULL, randLogNormal(log(150), 0.8)),
    if(pt IS NULL, NULL, randLogNormal(log(400), 0.7)),
    if(pt IS NULL, NULL, randLogNormal(log(200), 0.9)),
    if(k = 'pageview' AND number % 5 = 1, randLogNormal(log(20), 1.0), NULL) AS pi,
    if(pi IS NULL, NULL, randLogNormal(log(80), 0.7)),
    if(pi IS NULL, NULL, randLogNormal(log(30), 0.5))
FROM numbers({{n}})
"""


def load(n: int, days: int) -> str:
    """The INSERT of `n` events over the last `days` days (0: all now)."""
    at_once = max(1, round(75_000 * n / (days * 86_400_000))) if days else 1
    return LOAD.format(n=n, days=days, p=at_once)


QUESTIONS = [("slow-regions", {}), ("slow-regions --why (the drill-down's first step)", {"why": "true"}),
             ("slow-regions (raw SQL, as Grafana reads it)", {}),
             *[(f"slow-segments --by {d}", {"by": d}) for d in segments.DIMENSIONS],
             ("slow-segments --by country,device_class", {"by": "country,device_class"}),
             ("slow-segments --by device_class --metric inp", {"by": "device_class", "metric": "inp"}),
             ("slow-segments --by city (not in the rollup: raw)", {"by": "city"}),
             ("vitals-ratings (the dashboard's Web Vitals bars: every metric by device class)", {}),
             ("vitals-ratings --by country", {"by": "country"}),
             ("failing-logins", {"by": "country"}), ("revenue-impact", {"by": "country"}),
             ("revenue-impact (asked again: the settled answer kept)", {"by": "country"}),
             ("revenue-impact --by device_class", {"by": "device_class"}),
             ("revenue-impact --by browser", {"by": "browser"}),
             ("revenue-impact --by city (not in the rollup: raw)", {"by": "city"}),
             ("apdex", {}), ("apdex --by device_class", {"by": "device_class"}),
             ("apdex --apdex-t 1200 (not the rollup's T: raw)", {"apdex_t": "1200"}),
             ("vitals-timeseries --bucket 10m", {"bucket": "10m"}),
             ("vitals-timeseries --bucket 10m --device mobile", {"bucket": "10m", "device": "mobile"}),
             ("vitals-timeseries --bucket 5m (shorter than a slice: raw)", {"bucket": "5m"}),
             ("conversion-by-speed", {}), ("login-revenue-at-risk (not rolled: raw)", {}),
             ("top-errors (not rolled: raw)", {}),
             ("sites (not rolled: raw)", {}), ("slow-pages", {}),
             ("slow-pages --counts false (the dashboard's Pages view)", {"counts": "false"}),
             ("slow-pages --country IN (the drill-down's second step)", {"country": "IN"}),
             ("slow-pages --country IN --region IN-1 (the drill-down's second step)",
              {"country": "IN", "region": "IN-1"}),
             ("slow-pages --device mobile", {"device": "mobile"}),
             ("page-views --country IN --page-group /cart (the drill-down's third step; raw)",
              {"country": "IN", "page_group": "/cart", "limit": "25"}),
             ("page-views (site-wide; raw)", {"limit": "25"}),
             ("journey (not rolled: raw)", {})]


# the dashboard's slow-regions: the same question from raw events through
# rum.segmented_events, with reservoir-sampled quantiles (the API's before the rollup)
GRAFANA_SQL = grafana_sql.load("slow_regions")


def grafana_slow_regions(store: ChdbStore | Recording, window: str) -> None:
    until = int(time.time() * 1000)
    store.query(GRAFANA_SQL, {"site": "shop", "since_ms": until - parse_window(window) * 1000,
                              "until_ms": until, "min_samples": 30})


def planning(store: ChdbStore, run: object, runs: int) -> float:
    """Median ms ClickHouse takes to analyse and plan every SQL `run(store)` runs (EXPLAIN
    PLAN: parsed, analysed and planned, no part read)."""
    recording = Recording(store)
    forget_settled()
    run(recording)  # type: ignore[operator]
    return timed(lambda: [store.query("EXPLAIN PLAN " + sql, params)
                          for sql, params in recording.asked], runs, warm=1)


def timed(fn: object, runs: int, cold: bool = True, warm: int = 0) -> float:
    """Median ms of `runs` calls after `warm` untimed ones (cold: no kept answer)."""
    for _ in range(warm):
        if cold:
            forget_settled()
        fn()  # type: ignore[operator]
    out = []
    for _ in range(runs):
        if cold:  # an answer kept from the run before (queries.spec) would time a lookup
            forget_settled()
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return statistics.median(out) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=1,
                        help="spread the events over this many days (1: all in the last 24 h)")
    parser.add_argument("--warm", type=int, default=0,
                        help="untimed asks of each question before the timed runs (0: none)")
    parser.add_argument("--states", default="raw,rolled,merged",
                        help="which states to time: raw (before any roll), rolled, merged (after "
                             "OPTIMIZE ... FINAL), comma-separated")
    parser.add_argument("--by-matrix", action="store_true",
                        help="also ask every question that takes `by` by each dimension alone "
                             "(the longest window)")
    parser.add_argument("--planning", action="store_true",
                        help="also time the analysis and planning of each question's SQL")
    args = parser.parse_args()
    if args.runs < 1 or args.warm < 0 or args.events < 1 or args.days < 0:
        parser.error("--runs and --events must be at least 1, --warm and --days at least 0")
    states = {"raw": "raw events only (no rollup yet)", "rolled": "rollup rolled",
              "merged": "rollup, parts merged"}
    asked = [x.strip() for x in args.states.split(",") if x.strip()]
    if not asked or set(asked) - set(states):
        parser.error(f"--states: a comma-separated list of {', '.join(states)}")
    tmp = Path(tempfile.mkdtemp(prefix="rum-analytics-bench-"))
    atexit.register(shutil.rmtree, tmp, True)  # the store: GBs at 10M events
    store = ChdbStore(tmp / "chdb")
    migrate(store, 30)
    started = time.perf_counter()
    store.command(load(args.events, args.days))
    load_s = time.perf_counter() - started
    parts = store.query("SELECT count() AS n FROM system.parts WHERE database = 'rum' "
                        "AND table = 'events' AND active")[0]["n"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    print(f"{args.events:,} events over {args.days} day(s) loaded in {load_s:.1f} s "
          f"({args.events / load_s:,.0f} rows/s, INSERT SELECT), {parts} active parts")
    windows = ["24h"] + (["7d"] if args.days >= 7 else [])
    baseline = ("SELECT country, quantileExact(0.75)(lcp) FROM rum.events WHERE site = 'shop' "
                "AND kind = 'pageview' AND ts >= now64(3) - toIntervalHour({h}) GROUP BY country")
    roller = Roller(store)
    for key, state in states.items():  # each state builds on the one before
        if key == "rolled" and asked == ["raw"] or key == "merged" and "merged" not in asked:
            break
        if key == "rolled":
            started = time.perf_counter()
            hours = roller.cycle()
            # backfill, MAX_HOURS_PER_CYCLE hours per cycle, until no hour is left and no
            # session hour is stale (the bench does not wait out the roller's rests)
            while not roller.settled():
                roller.rested_ms = 0
                roller.cycle()
            first = time.perf_counter() - started
            started = time.perf_counter()
            store.command(load(args.events // 8640, 0))  # ~10 s of traffic, all at once
            roller.cycle()
            steady = time.perf_counter() - started
            rollup_rows = store.query("SELECT count() AS n FROM rum.vitals_hourly")[0]["n"]
            segment_rows = store.query("SELECT count() AS n, sum(length(buckets)) AS b "
                                       "FROM rum.segments_hourly")[0]
            session_rows = store.query("SELECT part, count() AS n FROM rum.sessions_hourly "
                                       "GROUP BY part ORDER BY part")
            print(f"\nroller: first cycles (every hour of the retention, {hours} marked in the "
                  f"first) {first:.1f} s; a steady cycle (~10 s of new traffic, current hour "
                  f"rolled again) {steady:.2f} s; vitals rollup rows {rollup_rows:,}; session "
                  f"rollup rows " + ", ".join(f"{r['part']} {r['n']:,}" for r in session_rows)
                  + f"; segments rollup rows {segment_rows['n']:,} ({segment_rows['b']:,} "
                  f"histogram entries) (raw {args.events:,})")
        if key == "merged":
            started = time.perf_counter()
            store.command("OPTIMIZE TABLE rum.events FINAL")
            store.command("OPTIMIZE TABLE rum.vitals_hourly FINAL")
            store.command("OPTIMIZE TABLE rum.sessions_hourly FINAL")
            store.command("OPTIMIZE TABLE rum.segments_hourly FINAL")
            print(f"\nOPTIMIZE TABLE ... FINAL: {time.perf_counter() - started:.1f} s")
        if key not in asked:
            continue
        print(f"\n{state}: median of {args.runs} runs"
              + (f" after {args.warm} untimed" if args.warm else "") + ", ms"
              + (" (of which analysis and planning)" if args.planning else ""))
        print("| question | " + " | ".join(windows) + " |")
        print("|---|" + "---|" * len(windows))
        hours_of = {"24h": 24, "7d": 168}
        def cell(run: object, cold: bool = True) -> str:
            ms = timed(lambda: run(store), args.runs, cold=cold, warm=args.warm)  # type: ignore[operator]
            if not args.planning or not cold:  # a kept answer runs no SQL
                return f"{ms:.0f}"
            return f"{ms:.0f} ({planning(store, run, args.runs):.0f})"

        print("| baseline: raw quantileExact p75 by country, no FINAL | "
              + " | ".join(cell(lambda s, h=hours_of[w]: s.query(baseline.format(h=h)))
                           for w in windows) + " |")
        def rolled_again(key: str = key) -> None:
            """Roll as a running roller would have (every RUM_ROLLUP_INTERVAL): without it the
            raw rest grows with each question timed, and past an hour the session questions
            take their merged path (the table would time the bench, not the rollups)."""
            if key != "raw":
                roller.rested_ms = 0
                roller.cycle()

        for name, extra in QUESTIONS:
            rolled_again()
            cells = []
            for window in windows:
                if "Grafana" in name:
                    cells.append(cell(lambda s, w=window: grafana_slow_regions(s, w)))
                    continue
                spec = get_query(name.split(" (")[0].split(" --")[0])
                values = spec.parse({"window": window, "site": "shop", **extra})
                cells.append(cell(lambda s, q=spec, v=values: q.run(s, v), cold="kept" not in name))
            print(f"| {name} | " + " | ".join(cells) + " |")
        if args.by_matrix:
            window = windows[-1]
            print(f"\n{state}, every question that takes `by`, by each dimension alone, over "
                  f"{window}: ms as above; `-`: the question does not take that dimension")
            print("| question | " + " | ".join(DIMENSIONS) + " |")
            print("|---|" + "---|" * len(DIMENSIONS))
            for name, spec in CATALOG.items():
                if "by" not in spec.params:
                    continue
                rolled_again()
                cells = []
                for dim in DIMENSIONS:
                    try:
                        values = spec.parse({"window": window, "site": "shop", "by": dim})
                    except ParamError:
                        cells.append("-")
                        continue
                    cells.append(cell(lambda s, q=spec, v=values: q.run(s, v)))
                print(f"| {name} | " + " | ".join(cells) + " |")
    store.close()


if __name__ == "__main__":
    main()
