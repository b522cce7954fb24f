"""Theil-Sen and OLS fits against scipy and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cycler_cli.analysis import robust
from cycler_cli.analysis.robust import ols_slope, theil_sen


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [5, 23, 200])
def test_theil_sen_matches_scipy_on_small_inputs(seed, n):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 100, n))
    y = 0.3 * x + rng.standard_t(2, n)
    slope, lo, hi = theil_sen(x, y)
    ref = stats.theilslopes(y, x, alpha=0.95)
    assert slope == pytest.approx(ref.slope, rel=1e-12)
    assert lo == pytest.approx(ref.low_slope, rel=1e-12)
    assert hi == pytest.approx(ref.high_slope, rel=1e-12)


def test_theil_sen_with_ties_matches_scipy():
    x = np.array([0, 0, 1, 1, 2, 3, 3, 4, 5, 6], dtype=float)
    y = np.array([1, 2, 2, 2, 3, 5, 4, 6, 6, 7], dtype=float)
    slope, lo, hi = theil_sen(x, y)
    ref = stats.theilslopes(y, x)
    assert (slope, lo, hi) == pytest.approx((ref.slope, ref.low_slope, ref.high_slope))


def test_randomised_estimator_close_to_exact(monkeypatch):
    rng = np.random.default_rng(5)
    n = 1500
    x = np.linspace(0, 300, n)
    y = -0.002 * x + rng.normal(0, 0.05, n)
    exact = theil_sen(x, y)
    monkeypatch.setattr(robust, "EXACT_MAX_POINTS", 100)
    sampled = theil_sen(x, y)
    width = exact[2] - exact[1]
    assert abs(sampled[0] - exact[0]) < 0.05 * width
    assert abs(sampled[1] - exact[1]) < 0.1 * width
    assert abs(sampled[2] - exact[2]) < 0.1 * width


def test_large_input_is_linear_in_memory_and_exact_on_a_line():
    x = np.arange(50_000, dtype=float)
    slope, lo, hi = theil_sen(x, 2.5 * x + 1)
    assert slope == pytest.approx(2.5) and lo == pytest.approx(2.5) and hi == pytest.approx(2.5)


def test_degenerate_inputs_give_nan():
    assert all(np.isnan(theil_sen(np.array([1.0]), np.array([2.0]))))
    assert all(np.isnan(theil_sen(np.array([1.0, 1.0]), np.array([2.0, 3.0]))))
    assert np.isnan(ols_slope(np.array([1.0]), np.array([1.0])))


def test_ols_slope_closed_form():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([2.0, 4.1, 5.9, 8.0])
    # slope = Sxy/Sxx with x̄ = 2.5, ȳ = 5: Sxy = (-1.5)(-3)+(-0.5)(-0.9)+(0.5)(0.9)+(1.5)(3) = 9.9, Sxx = 5
    assert ols_slope(x, y) == pytest.approx(9.9 / 5)
