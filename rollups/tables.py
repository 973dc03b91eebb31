"""The rollups: each a table (its migration in pipeline/migrations/) and its statements in
sql/, named after it. Adding a rollup is a migration, three or four .sql files and a line
here; the scheduler and the coverage planner treat every rollup alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rollups import config_id, grid, load_sql, segments

HOUR_MS = 3_600_000  # the grain: a rollup row covers one UTC hour
DAY_MS = 24 * HOUR_MS
# rows stamped this long before a cycle are (normally) stored by then: the hour being filled
# is rolled up to the cycle minus this grace
GRACE_MS = 60_000
# a window this long or longer starts at the top of its first hour (the rollup's grain)
SNAP_WINDOW_MS = 6 * HOUR_MS
# a rollup with `days` also adds up each whole UTC day's hours into day rows, stamped this
# long past the day's midnight: a key apart from the 00:00 hour's rows (the tables keep one
# row per key, the newest roll's), at the same place as that hour in a reader's `rolls`
DAY_STAMP_MS = 1000
SESSION_LCP_CAP = int(segments.METRICS["lcp"].cap)  # ms: LCPs past it are outliers, left out
# the sets of dimensions the session rollup keeps its sums by (a session counts in the
# segment of its earliest event in a window), numbered as the rollup's `dset` column: a
# question by one or two dimensions of one set reads that set's rows
# (sql/sessions_roll.sql writes them, queries/revenue_by_speed*.sql read them; migration
# 0160 added the device class, 0210 the sets of one). Every session is in every set, so
# a set's sums add up to the site's. To add a dimension (docs/analytics.md, "Rollups"): a
# set here, its column in the table (a migration that makes the table anew), in
# sessions_roll.sql's pieces and masks, and in the readers' multiIf.
SESSION_SETS = (("country", "region", "device_class"), ("browser",), ("os",), ("connection_type",))


def session_set(d1: str, d2: str = "") -> int | None:
    """The `dset` of the session rollup's rows that answer a question by d1 and d2 ('' =
    none; by none: set 0), or None when no set holds both."""
    wanted = {d for d in (d1, d2) if d}
    return next((i for i, dims in enumerate(SESSION_SETS) if wanted <= set(dims)), None)
# the hour being filled is rolled again at most this often (its session roll is the costliest
# part of a steady cycle; revenue-impact's window ends at the last roll, queries.revenue)
SESSION_REFRESH_MS = 120_000


@dataclass(frozen=True)
class Rollup:
    """One hourly rollup: its table, its statements (sql/<name>_*.sql) and what they bind.

    - `<name>_roll`: rolls [from_ms, until_ms) under `roll`, with the hour's marker;
    - `<name>_mark_empty`: marks whole `hours` without raw rows as rolled;
    - `<counted>_counts`: raw rows per hour, the rows a roll depends on (page views, or
      page views and conversions);
    - `<name>_marks`: the newest marker of each hour;
    - with `days`: `<name>_day_roll` adds up a day's hours (the rolls named) under `roll`,
      with a marker holding the sum of those rolls' ids; `<name>_day_marks`: the newest
      marker of each day.
    """

    name: str
    table: str
    counted: str = "pageview"
    binds: Mapping[str, Any] = field(default_factory=dict)  # constants the roll statement takes
    linked: bool = False  # an hour's roll reads other hours' rows (coverage.stale_hours)
    refresh_ms: int = 0  # the hour being filled is rolled again once its roll is this old
    keep_days: int = 0  # its table's TTL when shorter than the raw rows' retention (0: the same)
    # whole UTC days are added up into day rows (`<name>_day_roll`), which readers take
    # instead of the day's 24 hourly rows (coverage): a 7-day window reads ~6 day rows and
    # the edge hours per cell, not 168 hours
    days: bool = False

    @property
    def config(self) -> int:
        """What a roll is made with (0: not recorded); a mark made with another is rolled
        again and not read (`binds["config"]`, written into the marker)."""
        return int(self.binds.get("config", 0))

    def days_kept(self, retention_days: int) -> int:
        """The days its table keeps under RUM_RETENTION_DAYS (`keep_days` when shorter): the
        TTL set_retention gives it, and how far back the scheduler rolls."""
        return min(retention_days, self.keep_days or retention_days)

    def current(self, mark: Mapping[str, Any]) -> bool:
        """Whether a marker's roll was made with this rollup's config."""
        return not self.config or int(mark.get("config", 0)) == self.config

    @property
    def roll(self) -> str:
        return load_sql(f"{self.name}_roll")

    @property
    def mark_empty(self) -> str:
        return load_sql(f"{self.name}_mark_empty")

    @property
    def counts(self) -> str:
        return load_sql(f"{self.counted}_counts")

    @property
    def marks(self) -> str:
        return load_sql(f"{self.name}_marks")

    @property
    def day_roll(self) -> str:
        return load_sql(f"{self.name}_day_roll")

    @property
    def day_marks(self) -> str:
        return load_sql(f"{self.name}_day_marks")


def rolls_sum(rolls: list[int]) -> int:
    """What a day's marker holds of the hourly rolls it added up: their ids' sum (mod
    2^64, ClickHouse's UInt64). An hour's new roll has a larger id than its last, so any
    hour rolled again makes the day's hours sum to another number."""
    return sum(rolls) % 2**64


# per (site, hour, metric, country, region): the dense histogram of LCP, INP, CLS, FCP, TTFB
VITALS = Rollup("vitals", "vitals_hourly", binds=grid.PARAMS, days=True)
# sessions by the segment they start in, and page views' LCP histograms (migration 0090)
SESSIONS = Rollup("sessions", "sessions_hourly", counted="sessions",
                  binds={**grid.PARAMS, "lcp_cap": SESSION_LCP_CAP}, linked=True,
                  refresh_ms=SESSION_REFRESH_MS, days=True)
# per (site, hour, metric, segment of each rollups/segments.py GROUPINGS): exact counts and
# the sparse histogram (migration 0140), for slow-segments by those groupings
SEGMENTS = Rollup("segments", "segments_hourly", binds=segments.ROLL_PARAMS, days=True)
# the vitals over time: slices this long (migration 0170; queries/timeseries.py reads them
# for buckets of a multiple of it)
SERIES_SLICE_S = 600
# what rum.series_samples counts a page view by: the caps, LCP's thresholds and the grid
SERIES_PARAMS = {**{f"{m}_cap": segments.METRICS[m].cap for m in ("lcp", "inp", "cls", "ttfb")},
                 "good": segments.METRICS["lcp"].good, "poor": segments.METRICS["lcp"].poor,
                 **grid.PARAMS}
# the filters the series rollup keeps rows for (sql/series_roll.sql's GROUPING SETS): a
# bit per filter (device 1, country 2, region 4; a region is kept with its country); a
# question reads the rows of its own filters' set
SERIES_BITS = {"device": 1, "country": 2, "region": 2 | 4}
SERIES_SETS = (0, 1, 2, 3, 6, 7)
# per (site, hour, 10-minute slice, metric, set, device class, country, region): page
# views, LCP's weights past its thresholds and the sparse weighted histogram, for
# vitals-timeseries
SERIES = Rollup("series", "series_hourly", binds={
    **SERIES_PARAMS, "config": config_id(SERIES_PARAMS, SERIES_SLICE_S, SERIES_SETS)})
# what rum.page_samples buckets the vitals with: the metrics' caps and scales, and the grid
PAGES_PARAMS = {k: v for k, v in segments.METRIC_PARAMS.items()
                if k in ("caps", "scales", *grid.PARAMS)}
# the filters slow-pages takes (device, country, region), as rum.page_cells' GROUPING SETS
# keep them (migration 0190): bits as SERIES_BITS (set 16 holds the hours' markers)
PAGES_SETS = (0, 1, 2, 3, 6, 7)
# per (site, hour, set, device class, country, region, page group): aggregate states of the
# page views, sessions, vitals (weighted histograms on the grid) and LCP elements, for
# slow-pages (queries/pages.py). Its exact distinct counts keep every page view's and
# session's hash under each set (~0.63 GB a day at 10 million page views), so it keeps 8
# days (the dashboard's 7-day window and the hour before it), and its hour being filled is
# rolled again at most every SESSION_REFRESH_MS (its roll takes ~1.2 s an hour at that size)
PAGES = Rollup("pages", "pages_hourly", counted="pages", keep_days=8, refresh_ms=SESSION_REFRESH_MS,
               days=True, binds={**PAGES_PARAMS, "config": config_id(PAGES_PARAMS, PAGES_SETS, 190)})
ROLLUPS = (VITALS, SESSIONS, SEGMENTS, SERIES, PAGES)


def series_set(device: str, country: str, region: str) -> int:
    """The set of series rows (and of the pages rollup's page rows) that answers these
    filters ('' = none)."""
    out = 0
    for name, value in (("device", device), ("country", country), ("region", region)):
        if value:
            out |= SERIES_BITS[name]
    return out
