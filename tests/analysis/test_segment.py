"""Segmentation: half-cycles from the current, spurious segments, and per-half-cycle integrals."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.analysis.segment import charge_from_column, clean_sign, group_median, segment_run


def _square(signs, n_per=100, dt=1.0, current=1e-3, rest_between=0):
    """Segments of constant current (sign in signs; 0 = rest) of n_per points each."""
    i = np.concatenate([np.full(n_per, s * current) for s in signs])
    t = np.arange(i.size) * dt
    return t, i


def test_direct_reversal_intervals_are_not_counted():
    t, i = _square([1, -1, 1, -1])  # no rests
    seg = segment_run(t, np.ones_like(t), i)
    assert seg.n_half == 4
    assert seg.hc_sign.tolist() == [1, -1, 1, -1]
    # 100 points 1 s apart: 99 s of intervals with both ends on current in one direction
    assert seg.charge_ah == pytest.approx(np.full(4, 99e-3 / 3600), rel=1e-12)


def test_interval_into_a_sparse_rest_is_not_counted():
    """EC-Lab records the last point of a step and the first of the next; a rest sampled
    every 600 s must not add ½·I·600 s of charge (real file: yadg gcpl.pr_182.1)."""
    t = np.concatenate((np.arange(0.0, 100.0), [700.0, 1300.0]))
    i = np.concatenate((np.full(100, 1e-3), [0.0, 0.0]))
    seg = segment_run(t, np.ones_like(t), i)
    assert seg.charge_ah[0] == pytest.approx(99e-3 / 3600, rel=1e-12)


def test_rests_attach_to_the_previous_half_cycle_and_discharge_first_pairs():
    t, i = _square([0, -1, 0, 1, 0, -1, 0])
    seg = segment_run(t, np.ones_like(t), i)
    assert seg.hc_sign.tolist() == [-1, 1, -1]
    assert seg.hc_cycle.tolist() == [1, 1, 2]
    assert seg.half_cycle[:100].tolist() == [0] * 100
    assert (seg.half_cycle[200:300] == 1).all()  # rest after the first discharge
    assert seg.first_on.tolist() == [100, 300, 500]
    assert seg.last_on.tolist() == [199, 399, 599]
    assert seg.step_end.tolist() == [200, 400, 600]
    assert seg.last.tolist() == [299, 499, 699]
    # only the 99 intervals between on-current points of the half-cycle count
    assert seg.charge_ah == pytest.approx(np.full(3, 99e-3 / 3600), rel=1e-12)


def test_single_point_blip_is_spurious_and_does_not_split():
    t, i = _square([1, 1, 1])
    i[150] = -1e-3  # one sampled point of the wrong sign
    sign, _, spurious = clean_sign(t, i)
    assert spurious == 1 and sign[150] == 0
    seg = segment_run(t, np.ones_like(t), i)
    assert seg.n_half == 1


def test_tiny_charge_segment_is_spurious():
    t, i = _square([1, 0, 1])
    i[120:125] = -2e-6  # 5 points, above the threshold but a negligible charge
    sign, thr, spurious = clean_sign(t, i)
    assert 2e-6 > thr
    assert spurious == 1
    assert segment_run(t, np.ones_like(t), i).n_half == 1


def test_control_mode_rest_wins_over_current_noise():
    t, i = _square([1, 0, -1])
    i[100:200] = 5e-5  # offset current during the rest, above the threshold
    mode = np.where(np.abs(i) > 1e-4, 1, 3)
    seg = segment_run(t, np.ones_like(t), i, control_mode=mode)
    assert seg.n_half == 2
    assert seg.last_on[0] == 99


def test_cv_tail_merges_with_its_cc_half_cycle():
    cc = np.full(100, 1e-3)
    cv = 1e-3 * np.exp(-np.arange(100) / 10.0)  # decays below the threshold
    dis = np.full(100, -1e-3)
    i = np.concatenate((cc, cv, dis))
    t = np.arange(i.size, dtype=float)
    seg = segment_run(t, np.ones_like(t), i)
    assert seg.n_half == 2
    # charge: trapezoid over the intervals whose both ends are above the on/off threshold
    on = np.flatnonzero(i[:200] > seg.threshold_a)
    assert (np.diff(on) == 1).all()  # the tail decays monotonically
    expected = np.trapezoid(i[on], t[on]) / 3600
    assert seg.charge_ah[0] == pytest.approx(expected, rel=1e-9)


def test_energy_uses_voltage_times_current():
    t, i = _square([0, 1, 0])
    v = np.full(t.size, 3.0)
    seg = segment_run(t, v, i)
    assert seg.energy_wh[0] == pytest.approx(3.0 * seg.charge_ah[0], rel=1e-12)


def test_charge_column_per_half_cycle():
    # a column that integrates a current which stops exactly at each recorded step end:
    # steps of 100 points at 1 s, so 99 s of current per half-cycle, none across rests
    t, i = _square([0, 1, 0, -1, 0, 1, 0])
    inc = 0.5 * (i[1:] + i[:-1]) * np.diff(t)
    inc[(i[1:] == 0) | (i[:-1] == 0)] = 0.0
    q = np.concatenate(([0.0], np.cumsum(inc))) / 3600
    seg = segment_run(t, np.ones_like(t), i)
    assert charge_from_column(seg, q) == pytest.approx(np.full(3, 99e-3 / 3600), rel=1e-12)
    assert charge_from_column(seg, q) == pytest.approx(seg.charge_ah, rel=1e-12)
    # a direct reversal: the column's net increment over the reversal interval goes to both sides
    t2, i2 = _square([1, -1])
    q2 = np.concatenate(([0.0], np.cumsum(np.diff(t2) * i2[1:]))) / 3600  # right-point rule
    seg2 = segment_run(t2, np.ones_like(t2), i2)
    assert charge_from_column(seg2, q2) == pytest.approx(np.array([99e-3, 100e-3]) / 3600, rel=1e-12)


def test_no_current_gives_no_half_cycles():
    t = np.arange(10.0)
    seg = segment_run(t, np.ones(10), np.zeros(10))
    assert seg.n_half == 0 and seg.charge_ah.size == 0


def test_group_median_matches_numpy():
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 6, 300)
    values = rng.normal(size=300)
    values[::17] = np.nan
    out = group_median(values, groups, 7)
    for g in range(7):
        sel = values[(groups == g) & np.isfinite(values)]
        if sel.size:
            assert out[g] == pytest.approx(np.median(sel))
        else:
            assert np.isnan(out[g])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([-1, 0, 1]), st.integers(min_value=2, max_value=40), st.floats(0.5, 3.0)),
        min_size=1,
        max_size=12,
    )
)
def test_square_waves_half_cycles_and_capacities(steps):
    """Random sequences of constant-current steps (sign, points, amplitude in mA) sampled at 1 s:
    half-cycles are the runs of one sign once rests are ignored, and each half-cycle's charge
    is Σ amplitude × (points − 1) s over its steps (no charge across step changes)."""
    i = np.concatenate([np.full(n, s * a * 1e-3) for s, n, a in steps])
    t = np.arange(i.size, dtype=float)
    seg = segment_run(t, np.ones_like(t), i)
    # expected, by hand from the step list
    signs, charges = [], []
    prev = None
    for s, n, a in steps:
        if s == 0:
            continue
        if s != prev:
            signs.append(s)
            charges.append(0.0)
            prev = s
        charges[-1] += a * 1e-3 * (n - 1) / 3600
    # two adjacent steps of one sign and different amplitude share one interval: its trapezoid
    extra = np.zeros(len(signs))
    h = -1
    prev = None
    for j, (s, n, a) in enumerate(steps):
        if s != 0 and s != prev:
            h += 1
        if s != 0:
            prev = s
        if j > 0 and s != 0 and steps[j - 1][0] == s:
            extra[h] += 0.5 * (a + steps[j - 1][2]) * 1e-3 / 3600
    assert seg.hc_sign.tolist() == signs
    assert seg.charge_ah == pytest.approx(np.array(charges) + extra, rel=1e-9, abs=1e-15)
