"""The streaming (block-wise) segmentation against the straightforward full-length one it
replaced (issue 10): same signs, half-cycles and spurious runs, and the same sums to rounding
(the streaming code sums each block's piece pairwise; the reference adds term by term), for
block sizes that put boundaries everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.analysis import segment
from cycler_cli.cycles import current_threshold, half_cycles_from_sign


def _ref_abs(x):
    out = np.abs(x)
    out[~(out < np.inf)] = 0.0
    return out


def _ref_dt(t):
    dt = np.diff(t)
    back = int(np.count_nonzero(dt < 0))
    dt[~((dt > 0) & (dt < np.inf))] = 0.0
    return dt, back


def _runs(values):
    """Start indices and lengths of maximal runs of equal values."""
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    return starts, np.diff(np.concatenate((starts, [values.size])))


def _reference(t, v, i, mode=None):
    """The full-length implementation before issue 10 (Δt, |I|, point charges, masks)."""
    n = t.size
    dt, back = _ref_dt(t)
    abs_i = _ref_abs(i)
    thr = current_threshold(i)
    on = abs_i > thr
    sign = on.astype(np.int8) - 2 * ((i < 0) & on).astype(np.int8)
    if mode is not None:
        sign[mode == segment.MODE_REST] = 0
    starts, lengths = _runs(sign)
    run_sign = sign[starts]
    nonzero = run_sign != 0
    spurious_n = 0
    if nonzero.any():
        w = np.zeros(n)
        w[:-1] = dt / 2
        w[1:] += dt / 2
        charge = np.add.reduceat(w * abs_i, starts)
        big = charge[nonzero].max()
        spurious = nonzero & ((lengths < 2) | (charge < segment.MIN_SEGMENT_CHARGE_SHARE * big))
        sign[np.repeat(spurious, lengths)] = 0
        spurious_n = int(spurious.sum())
    half, idx_on, gs = half_cycles_from_sign(sign)
    n_half = gs.size
    inside = (sign[1:] != 0) & (sign[1:] == sign[:-1])
    q = 0.5 * (abs_i[:-1] + abs_i[1:]) * dt
    q[~inside] = 0.0
    p = _ref_abs(v) * abs_i
    e = 0.5 * (p[:-1] + p[1:]) * dt
    e[~inside] = 0.0
    qs = np.bincount(half[1:], weights=q, minlength=n_half + 1)[1 : n_half + 1] / 3600.0
    es = np.bincount(half[1:], weights=e, minlength=n_half + 1)[1 : n_half + 1] / 3600.0
    return sign, half, spurious_n, back, qs, es


def _ref_charge_from_column(sign, half, hc_sign, first_on, qcol):
    n_half = hc_sign.size
    dq = np.diff(qcol)
    on = sign != 0
    dq[~((on[1:] | on[:-1]) & np.isfinite(dq))] = 0.0
    own = np.maximum(np.concatenate(([0], hc_sign)).astype(np.int8)[half[1:]] * dq, 0.0)
    out = np.bincount(half[1:], weights=own, minlength=n_half + 1)[1 : n_half + 1]
    if n_half >= 2:
        out[:-1] += np.maximum(hc_sign[:-1] * dq[first_on[1:] - 1], 0.0)
    return out


def _random_run(rng):
    parts = []
    for _ in range(int(rng.integers(1, 60))):
        length = int(rng.integers(1, 4)) if rng.random() < 0.3 else int(rng.integers(1, 300))
        sign = int(rng.choice([-1, 0, 1]))
        parts.append(np.full(length, sign * rng.choice([1.0, 1.0, 1e-3, 3e-6])))
    i = np.concatenate(parts) * 1e-3
    n = i.size
    t = np.cumsum(rng.choice([0.5, 1.0, 10.0], n))
    v = 3.0 + rng.standard_normal(n)
    for arr in (t, v, i):
        if rng.random() < 0.4:
            arr[rng.random(n) < 0.02] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
    if rng.random() < 0.3:
        t[rng.random(n) < 0.02] -= 100.0
    mode = np.where(rng.random(n) < 0.05, 3, 1) if rng.random() < 0.3 else None
    return t, v, i, mode


@pytest.mark.parametrize("block", [7, 64, 1 << 16])
def test_streaming_segmentation_matches_the_full_length_one(monkeypatch, block):
    monkeypatch.setattr(segment, "BLOCK", block)
    rng = np.random.default_rng(block)
    for _ in range(150):
        t, v, i, mode = _random_run(rng)
        sign, half, spurious, back, qs, es = _reference(t, v, i, mode)
        seg = segment.segment_run(t, v, i, mode)
        assert np.array_equal(seg.sign, sign)
        assert np.array_equal(seg.half_cycle, half)
        assert seg.spurious_segments == spurious and seg.time_backwards == back
        np.testing.assert_allclose(seg.charge_ah, qs, rtol=1e-12, atol=0)
        np.testing.assert_allclose(seg.energy_wh, es, rtol=1e-12, atol=0)
        qcol = np.cumsum(rng.standard_normal(t.size))
        qcol[rng.random(t.size) < 0.01] = np.nan
        want = _ref_charge_from_column(sign, half, seg.hc_sign, seg.first_on, qcol)
        np.testing.assert_allclose(segment.charge_from_column(seg, qcol), want, rtol=1e-12, atol=0)


def test_run_charge_near_the_cut_is_decided_in_numpys_order():
    """A run whose charge is within rounding of 0.1 % of the biggest is decided on the exact
    charge (numpy's reduceat order), not on the block-wise sum."""
    rng = np.random.default_rng(3)
    t = np.arange(4000.0)
    i = np.zeros(4000)
    i[100:3100] = 1e-3
    i[3200:3203] = -1e-3 * rng.uniform(0.99, 1.01, 3)
    big = np.add.reduce(np.full(3000, 1e-3))  # the big run's charge is 1e-3 per point times Δt 1
    for scale in (0.999999999, 1.0, 1.000000001):
        i2 = i.copy()
        i2[3200:3203] = -big * 1e-3 / 3.0 * scale
        ref = _reference(t, np.ones_like(t), i2)
        for block in (5, 1 << 16):
            segment.BLOCK, old = block, segment.BLOCK
            try:
                seg = segment.segment_run(t, np.ones_like(t), i2)
            finally:
                segment.BLOCK = old
            assert np.array_equal(seg.sign, ref[0]) and seg.spurious_segments == ref[2]


def test_run_charge_exact_is_reduceat():
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.1, 2.0, 5000))
    i = rng.standard_normal(5000)
    dt, _ = _ref_dt(t)
    w = np.zeros(5000)
    w[:-1] = dt / 2
    w[1:] += dt / 2
    starts = np.array([0, 1, 17, 900, 4999])
    want = np.add.reduceat(w * np.abs(i), starts)
    stops = np.append(starts[1:], 5000)
    got = [segment._run_charge_exact(t, i, int(a), int(b)) for a, b in zip(starts, stops)]
    assert np.array(got).tobytes() == want.tobytes()
