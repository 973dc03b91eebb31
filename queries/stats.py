"""The statistics behind the answers: intervals for percentiles, two-proportion tests.

Kept in plain Python (no SciPy) and applied to the few rows a query returns.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
GRID_START, GRID_STEP = 0.50, 0.01  # segment_vitals.sql returns quantiles 0.50 .. 0.95


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of a > b: (z, one-sided p-value)."""
    if n_a == 0 or n_b == 0:
        return 0.0, 1.0
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (hits_a / n_a - hits_b / n_b) / se
    return z, normal_sf(z)


def quantile_interval(grid: list[float], n: int, q: float = 0.75,
                      z: float = Z95) -> tuple[float | None, float | None]:
    """Distribution-free 95% interval of the q-quantile from order statistics.

    The rank of the true q-quantile among n samples is Binomial(n, q); its normal
    approximation gives ranks n*q -/+ z*sqrt(n*q*(1-q)), i.e. levels q -/+ z*sqrt(q(1-q)/n).
    The bounds are read from the quantile grid, rounded outward; a level outside the grid
    (too few samples) gives an open bound (None).
    """
    if n <= 0 or not grid:
        return None, None
    half = z * math.sqrt(q * (1 - q) / n)
    top = GRID_START + GRID_STEP * (len(grid) - 1)

    def at(level: float, outward: int) -> float | None:
        if level < GRID_START - 1e-9 or level > top + 1e-9:
            return None
        index = (level - GRID_START) / GRID_STEP
        index = math.floor(index + 1e-9) if outward < 0 else math.ceil(index - 1e-9)
        return float(grid[max(0, min(len(grid) - 1, index))])

    return at(q - half, -1), at(q + half, +1)
