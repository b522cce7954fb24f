"""The small helpers the analysis' speed work added, against their plain definitions:
``json_floats`` (one list per column instead of a call per cell), ``nan_span`` (two plain
reductions instead of ``nanmax``/``nanmin``) and the stratified ``sample_indices``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from cycler_cli import cycles
from cycler_cli.analysis.segment import nan_span
from cycler_cli.analysis.table import json_float, json_floats


def test_json_floats_is_json_float_per_element():
    values = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 2.5, 1e-300])
    got = json_floats(values)
    assert got == [1.0, None, None, None, -0.0, 2.5, 1e-300]
    assert got == [json_float(x) for x in values]
    assert all(type(x) is float for x in got if x is not None)  # plain floats, not numpy scalars
    assert math.copysign(1.0, got[4]) == -1.0
    assert json_floats(np.zeros(0)) == []


@pytest.mark.parametrize("seed", range(20))
def test_nan_span_equals_nanmax_minus_nanmin(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=int(rng.integers(1, 500))) * 10.0 ** rng.integers(-5, 6)
    if seed % 3 == 1:
        x[rng.integers(0, x.size, 3)] = np.nan
    if seed % 4 == 2:
        x[rng.integers(0, x.size)] = np.inf
    if seed == 9:
        x[:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slice
        want = float(np.nanmax(x) - np.nanmin(x))
        got = nan_span(x)
    assert (got == want) or (math.isnan(got) and math.isnan(want)), (got, want)


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 16384, 16385, 100_003, 10**6])
def test_sample_indices_sorted_in_range_and_fixed(n):
    idx = cycles.sample_indices(n)
    m = min(cycles._SAMPLE_POINTS, n)
    assert idx.size == m and idx.dtype.kind == "i"
    assert idx.min() >= 0 and idx.max() < n
    assert np.all(np.diff(idx) > 0)  # one position per stratum: strictly increasing
    # each of the m equal strata holds exactly one sampled position
    strata = np.arange(m + 1, dtype=np.int64) * n // m
    assert np.array_equal(np.searchsorted(idx, strata[:-1]), np.arange(m))
    assert np.array_equal(idx, cycles.sample_indices(n))
    assert not idx.flags.writeable


def test_sample_indices_follow_the_sample_size(monkeypatch):
    monkeypatch.setattr(cycles, "_SAMPLE_POINTS", 64)
    assert cycles.sample_indices(10_000).size == 64
