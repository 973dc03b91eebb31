"""The histogram grid of the Web Vitals: one definition for the rollups and the questions.

A value v (ms; CLS x 1000) falls in bucket 0 when v < 1, else in bucket
1 + floor(log_RATIO(v)), at most LAST: bucket b >= 1 is [RATIO^(b-1), RATIO^b) and the last
one takes everything past it. With RATIO 1.02 a percentile read inside its bucket is within
1% of quantileExact (queries/slow_regions.sql says how it is placed).

The SQL files take the grid as bound parameters (`{grid_ratio:Float64}`,
`{grid_last:UInt16}`): `PARAMS` is what the scheduler and the query plans bind. Changing
the grid changes what rolled hours mean: it needs a migration that empties the rollup
tables (the scheduler then rolls the retention again), see docs/analytics.md.
"""

from __future__ import annotations

import math

RATIO = 1.02
BUCKETS = 600
LAST = BUCKETS - 1

PARAMS = {"grid_ratio": RATIO, "grid_last": LAST}


def bucket(value: float) -> int:
    """The bucket of `value`, as the SQL computes it."""
    if value < 1:
        return 0
    return min(LAST, 1 + math.floor(math.log(value) / math.log(RATIO)))


def lower_edge(b: int) -> float:
    """The smallest value of bucket `b` (0 for bucket 0)."""
    return 0.0 if b == 0 else RATIO ** (b - 1)
