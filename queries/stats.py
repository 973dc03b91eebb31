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


def wilson_interval(hits: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion hits/n (n may be an effective size)."""
    if n <= 0:
        return 0.0, 1.0
    p = min(1.0, max(0.0, hits / n))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def weighted_slope(points: list[tuple[float, float, float]]) -> float | None:
    """Least-squares slope of y on x with weights, from (x, y, weight) points; None if < 2."""
    total = sum(w for _, _, w in points)
    if len(points) < 2 or total <= 0:
        return None
    mean_x = sum(x * w for x, _, w in points) / total
    mean_y = sum(y * w for _, y, w in points) / total
    sxx = sum(w * (x - mean_x) ** 2 for x, _, w in points)
    if sxx == 0:
        return None
    return sum(w * (x - mean_x) * (y - mean_y) for x, y, w in points) / sxx


def what_if_gain(seg: list[float], ref: list[float], value: list[float],
                 value_var: list[float]) -> tuple[float, float]:
    """Value per session gained if a segment's bucket mix were the reference's: (gain, std error).

    `seg` and `ref` are session counts per bucket, `value` the value per session of each
    bucket (pooled over the site) and `value_var` its sampling variance. The gain is
    sum_b (q_b - p_b) * value_b (direct standardization); its variance, by the delta
    method, adds the buckets' sampling variance and the multinomial variance of both
    mixes (covariance between them ignored).
    """
    n_seg, n_ref = sum(seg), sum(ref)
    if n_seg <= 0 or n_ref <= 0:
        return 0.0, 0.0
    p = [c / n_seg for c in seg]
    q = [c / n_ref for c in ref]
    gain = sum((qb - pb) * v for qb, pb, v in zip(q, p, value, strict=True))

    def mix_var(shares: list[float], n: float) -> float:
        mean = sum(s * v for s, v in zip(shares, value, strict=True))
        return max(0.0, sum(s * v * v for s, v in zip(shares, value, strict=True)) - mean * mean) / n

    var = (sum((qb - pb) ** 2 * vv for qb, pb, vv in zip(q, p, value_var, strict=True))
           + mix_var(q, n_ref) + mix_var(p, n_seg))
    return gain, math.sqrt(var)
