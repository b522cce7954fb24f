"""Robust straight-line fits for the analysis: Theil-Sen slope with a 95 % interval, and OLS.

The Theil-Sen slope is the median of the pairwise slopes ``(y_j - y_i) / (x_j - x_i)`` over all
pairs with ``x_j != x_i``. Its confidence interval follows Sen (1968) as scipy does
(:func:`scipy.stats.theilslopes`): the ranks ``(N ± z·σ_K) / 2`` in the sorted pairwise slopes,
with ``σ_K² = n(n-1)(2n+5)/18`` (Kendall's tau variance, less Sen's terms for ties in ``x`` and ``y``, as scipy does).

Exact up to :data:`EXACT_MAX_POINTS` points (all ``n(n-1)/2`` slopes in memory: about 25 MB at
peak for 1000 points, 0.05 s). Above that, a *randomised* estimator, so memory and time stay
bounded whatever the number of half-cycles: :data:`SAMPLED_PAIRS` pairs ``(i, j)`` drawn
uniformly with a fixed seed (results are reproducible), and the median and the interval are
taken at the same *fractions* of the sorted sampled slopes as the exact ranks would be in the
full set. With 500 000 pairs the sampled median sits within about ±0.0007 in quantile of the
exact one (binomial standard error ``0.5/sqrt(m)``), far inside the interval itself.
"""

from __future__ import annotations

import math

import numpy as np

EXACT_MAX_POINTS = 1000
SAMPLED_PAIRS = 500_000
_SEED = 20240601
_Z95 = 1.959963984540054  # norm.ppf(0.975)


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(slope, ci95_low, ci95_high)`` of ``y`` against ``x`` (units: y-unit per x-unit).

    Non-finite pairs are dropped. Fewer than two distinct ``x`` give ``(nan, nan, nan)``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = x.size
    if n < 2:
        return math.nan, math.nan, math.nan
    if n <= EXACT_MAX_POINTS:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(_SEED)
        i = rng.integers(0, n, SAMPLED_PAIRS)
        j = rng.integers(0, n, SAMPLED_PAIRS)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return math.nan, math.nan, math.nan
    slopes = np.sort((y[j][ok] - y[i][ok]) / dx[ok])
    m = slopes.size
    slope = float(np.median(slopes))
    # Ranks as scipy computes them on the full set of N = number of pairs with distinct x.
    if n <= EXACT_MAX_POINTS:
        n_pairs = m
    else:
        n_pairs = n * (n - 1) / 2 * (m / SAMPLED_PAIRS)  # share of sampled pairs with distinct x
    sigsq = n * (n - 1) * (2 * n + 5) - _tie_term(x) - _tie_term(y)
    sigma = math.sqrt(max(sigsq, 0.0) / 18.0)
    r_up = min(int(round((n_pairs + _Z95 * sigma) / 2.0)), n_pairs - 1)
    r_lo = max(int(round((n_pairs - _Z95 * sigma) / 2.0)) - 1, 0)
    if n <= EXACT_MAX_POINTS:
        lo, hi = float(slopes[int(r_lo)]), float(slopes[int(r_up)])
    else:
        lo = float(slopes[min(int(r_lo / n_pairs * m), m - 1)])
        hi = float(slopes[min(int(r_up / n_pairs * m), m - 1)])
    return slope, lo, hi


def _tie_term(values: np.ndarray) -> float:
    """``sum k(k-1)(2k+5)`` over groups of ``k`` equal values (Sen's tie correction)."""
    _, counts = np.unique(values, return_counts=True)
    k = counts[counts > 1].astype(np.float64)
    return float(np.sum(k * (k - 1) * (2 * k + 5)))


def ols_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Ordinary least-squares slope of ``y`` on ``x`` (NaN with fewer than two distinct x)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2:
        return math.nan
    xc = x - x.mean()
    sxx = float(np.dot(xc, xc))
    if sxx == 0:
        return math.nan
    return float(np.dot(xc, y - y.mean()) / sxx)
