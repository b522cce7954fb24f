"""Half-cycle and cycle labels from the sign of the current (cycler_cli.cycles)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cycler_cli.cycles import current_threshold, direction, label_cycles, label_half_cycles


def test_charge_first_with_rests_by_hand():
    #          rest  +  +  rest  -  -  rest  +  rest  -
    current = [0.0, 1, 1, 0.0, -1, -1, 0.0, 1, 0.0, -1]
    half = label_half_cycles(np.array(current))
    assert half.tolist() == [0, 1, 1, 1, 2, 2, 2, 3, 3, 4]
    assert label_cycles(half).tolist() == [0, 1, 1, 1, 1, 1, 1, 2, 2, 2]


def test_discharge_first_pairs_discharge_then_charge():
    current = np.array([-2e-6, -2e-6, 0, 2e-6, 2e-6, 0, -2e-6])
    half = label_half_cycles(current)
    assert half.tolist() == [1, 1, 1, 2, 2, 2, 3]
    # cycle 1 = discharge (half 1) + charge (half 2): the first direction leads
    assert label_cycles(half).tolist() == [1, 1, 1, 1, 1, 1, 2]


def test_small_rest_noise_does_not_split_a_half_cycle():
    # 1e-9 A of noise during rest around a 1 mA step is below 1e-3 x p99
    current = np.array([1e-3, 1e-3, 1e-9, -1e-9, 1e-3, -1e-3])
    assert label_half_cycles(current).tolist() == [1, 1, 1, 1, 1, 2]
    assert current_threshold(current) == 1e-6


def test_nan_current_counts_as_rest():
    current = np.array([1.0, np.nan, 1.0, -1.0])
    assert direction(current, 0.5).tolist() == [1, 0, 1, -1]
    assert label_half_cycles(current).tolist() == [1, 1, 1, 2]


def test_empty():
    assert label_half_cycles(np.zeros(0)).size == 0


@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=1, max_size=200))
def test_half_cycle_count_equals_sign_changes(values):
    current = np.array(values)
    half = label_half_cycles(current, threshold_a=0.5)
    signs = [v for v in values if v != 0]
    expected = 0 if not signs else 1 + sum(a != b for a, b in zip(signs, signs[1:]))
    assert int(half.max()) == expected
    assert np.all(np.diff(half) >= 0)
