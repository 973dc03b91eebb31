"""The segments rollup: the dimensions a segment is made of, the groupings it is rolled
under, and the metrics it holds (migration 0140 defines the view that counts them).

`DIMENSIONS` are the columns the view rum.vital_cells groups by, in its order (a
grouping's `set` numbers them from 1). `GROUPINGS` are what the rollup keeps, the view's
GROUPING SETS in its order: every dimension alone, and the pairs the product asks for by
default; slow-segments by one of them reads the rollup, by anything else (city, asn,
another pair) raw events. A test checks that both lists are the view's.

To add a grouping (a pair the dashboard asks often), or a dimension: add it here and
replace the view in a migration with the grouping set (and the column) added (a
migration that changes what the view counts sets `CELLS` to its number). `CONFIG`
changes with the lists, so the scheduler rolls every hour again and readers take no roll
made before until then; the oracle tests (tests/rollups/test_segments.py) run over every
grouping here.

`PARTS` are what the explanation of a slow place reads (queries/why.py): kept per
country and per country + region, as counts and a histogram (migrations 0180, 0220).

`METRICS` are the Core Web Vitals with their thresholds (good, poor: the Core Web Vitals
ratings; the rollup also weighs the samples past four times good, Apdex's frustrated),
the outlier cap (values past it are measurement garbage: tabs left open, suspended
devices) and the scale their values are bucketed at (CLS is unitless: x 1000), in the
order the view numbers them.
"""

from __future__ import annotations

from typing import NamedTuple

from rollups import config_id, grid

DIMENSIONS = ("country", "region", "device_class", "browser", "os", "page_group", "connection_type")
GROUPINGS = tuple((d,) for d in DIMENSIONS) + (
    ("country", "region"), ("country", "device_class"), ("page_group", "country"),
    ("page_group", "device_class"))


class Metric(NamedTuple):
    good: float
    poor: float
    cap: float
    scale: float = 1.0


METRICS = {
    "lcp": Metric(2500.0, 4000.0, 60_000.0),
    "inp": Metric(200.0, 500.0, 60_000.0),
    "cls": Metric(0.1, 0.25, 10.0, scale=1000.0),
    "fcp": Metric(1800.0, 3000.0, 60_000.0),
    "ttfb": Metric(800.0, 1800.0, 60_000.0),
}


def positions(dims: tuple[str, ...]) -> list[int]:
    """A grouping as the view takes it: the sorted 1-based positions of its dimensions."""
    return sorted(DIMENSIONS.index(d) + 1 for d in dims)


SETS = [positions(g) for g in GROUPINGS]
# what the view takes besides the site and the time: the metrics' constants and the grid
METRIC_PARAMS = {"caps": [m.cap for m in METRICS.values()],
                 "goods": [m.good for m in METRICS.values()],
                 "poors": [m.poor for m in METRICS.values()],
                 "scales": [m.scale for m in METRICS.values()], **grid.PARAMS}
# what `why` reads (queries/why.py), rolled per country and per country + region
# (rum.part_cells, migrations 0180 and 0220), in its order: the parts of LCP and
# INP (ms), the RTT (ms) and slow_net (1: a slow-2g, 2g or 3g connection, 0: another type)
PARTS = ("lcp_ttfb", "lcp_load_delay", "lcp_load_time", "lcp_render_delay", "inp_input_delay",
         "inp_processing", "inp_presentation", "rtt", "slow_net")
PART_SETS = [positions(("country",)), positions(("country", "region"))]
# the migration that last changed what rum.vital_cells or rum.part_cells count (0220: the
# parts per country too)
CELLS = 220
# what a roll is made with: a roll made with anything else is rolled again
CONFIG = config_id(DIMENSIONS, SETS, METRIC_PARAMS, PARTS, PART_SETS, CELLS)
ROLL_PARAMS = {**METRIC_PARAMS, "config": CONFIG}


def grouping(d1: str, d2: str = "") -> dict[str, object] | None:
    """The parameters that read segments by d1 (and d2; '' = none) from the rollup: the
    grouping's `set`, and where d1 and d2 sit in its values (`at1`, `at2`; 0 = none).
    None when the rollup does not keep that grouping."""
    dims = tuple(d for d in (d1, d2) if d)
    if not dims or not any(sorted(g) == sorted(dims) for g in GROUPINGS):
        return None
    found = positions(dims)
    place = {p: i + 1 for i, p in enumerate(found)}
    at = [place[DIMENSIONS.index(d) + 1] if d else 0 for d in (d1, d2)]
    return {"set": found, "at1": at[0], "at2": at[1]}
