"""Analytics at scale: the catalog's questions over 10 million events in chDB.

Loads N synthetic events spread over 7 days (page views with vitals in 40 countries,
logins, conversions), then times each query over 24 h and 7 d, as served (through
rum.segmented_events, which reads FINAL), before and after the parts are merged, and
a plain p75-by-country on the raw table as the baseline of the same run.

Usage: .venv/bin/python bench/analytics_bench.py [--events 10000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.chdb_store import ChdbStore  # noqa: E402
from pipeline.schema import migrate  # noqa: E402
from queries.catalog import get_query  # noqa: E402

COUNTRIES = "['US','DE','IN','BR','GB','FR','JP','NL','SE','MX','ES','IT','CA','AU','PL','TR','ID','NG','ZA','AR','KR','VN','PH','EG','TH','CO','CL','PE','RO','CZ','PT','GR','HU','AT','CH','BE','DK','FI','NO','IE']"  # noqa: E501

LOAD = f"""
INSERT INTO rum.events (event_id, site, kind, ts, received_at, session_id, pageview_id, country,
    region, device_class, browser, page_group, is_bot, lcp, inp, cls, fcp, ttfb, login_success,
    conversion_value, currency)
SELECT
    generateUUIDv4(number), 'shop',
    multiIf(number % 20 = 0, 'login', number % 50 = 1, 'conversion', 'pageview'),
    now64(3) - toIntervalMillisecond(number * 7 * 86400000 / {{n}}),
    now64(3), concat('s', toString(intDiv(number, 8))), concat('p', toString(number)),
    {COUNTRIES}[number % 40 + 1] AS c, concat(c, '-', toString(number % 3)),
    ['desktop','mobile','tablet'][number % 3 + 1], ['Chrome','Safari','Firefox'][number % 3 + 1],
    ['/','/product/:id','/cart','/checkout'][number % 4 + 1], 0,
    (800 + (number * 7919) % 3000) * if(c = 'IN', 1.8, 1.0),
    40 + (number * 104729) % 400, ((number * 31) % 300) / 1000,
    400 + (number * 13) % 2000, 80 + (number * 17) % 1200,
    if(number % 20 = 0, if(c = 'BR', number % 100 >= 12, number % 100 >= 1), NULL),
    if(number % 50 = 1, 20 + number % 80, NULL), if(number % 50 = 1, 'EUR', '')
FROM numbers({{n}})
"""

QUESTIONS = [("slow-regions", {}), ("slow-segments", {"by": "country"}),
             ("failing-logins", {"by": "country"}), ("revenue-impact", {"by": "country"}),
             ("apdex", {"by": "country"})]


def timed(fn: object, runs: int) -> float:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return statistics.median(out) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = ChdbStore(Path(tempfile.mkdtemp(prefix="rum-analytics-bench-")))
    migrate(store, 30)
    started = time.perf_counter()
    store.command(LOAD.format(n=args.events))
    load_s = time.perf_counter() - started
    parts = store.query("SELECT count() AS n FROM system.parts WHERE database = 'rum' "
                        "AND table = 'events' AND active")[0]["n"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; date {time.strftime('%Y-%m-%d')}")
    print(f"{args.events:,} events over 7 days loaded in {load_s:.1f} s "
          f"({args.events / load_s:,.0f} rows/s, INSERT SELECT), {parts} active parts")
    baseline = ("SELECT country, quantileExact(0.75)(lcp) FROM rum.events WHERE site = 'shop' "
                "AND kind = 'pageview' AND ts >= now64(3) - toIntervalHour({h}) GROUP BY country")
    for state in ("as loaded", "after OPTIMIZE FINAL"):
        if state != "as loaded":
            started = time.perf_counter()
            store.command("OPTIMIZE TABLE rum.events FINAL")
            print(f"\nOPTIMIZE TABLE rum.events FINAL: {time.perf_counter() - started:.1f} s")
        print(f"\n{state}: median of {args.runs} runs, ms")
        print("| question | 24 h | 7 d |")
        print("|---|---|---|")
        base = [timed(lambda h=h: store.query(baseline.format(h=h)), args.runs) for h in (24, 168)]
        print(f"| baseline: raw p75 by country, no FINAL | {base[0]:.0f} | {base[1]:.0f} |")
        for name, extra in QUESTIONS:
            spec = get_query(name)
            cells = []
            for window in ("24h", "7d"):
                values = spec.parse({"window": window, "site": "shop", **extra})
                cells.append(timed(lambda s=spec, v=values: s.run(store, v), args.runs))
            print(f"| {name} | {cells[0]:.0f} | {cells[1]:.0f} |")
    store.close()


if __name__ == "__main__":
    main()
