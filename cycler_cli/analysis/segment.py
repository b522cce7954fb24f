"""Half-cycles from the current itself, and the per-half-cycle integrals every metric builds on.

This module owns the analysis' segmentation (docs/metrics.md, "Segmentation"):

* a point is **on current** when ``|I|`` exceeds :func:`cycler_cli.cycles.current_threshold`
  and, where the file has ``control_mode``, the instrument does not call it a rest (mode 3).
  CC and CV points of one sign are the same half-cycle;
* **spurious segments** are set to rest before labelling: a maximal run of one non-zero sign
  with fewer than :data:`MIN_SEGMENT_POINTS` points, or whose charge ``∫|I|dt`` is below
  :data:`MIN_SEGMENT_CHARGE_SHARE` of the largest run's. Their count goes into the report's
  warnings; a blip inside a long half-cycle therefore does not split it;
* half-cycles and cycles are then labelled exactly as :mod:`cycler_cli.cycles` defines them
  (rests belong to the half-cycle before them; cycles pair the first direction seen with the
  next opposite one). The file's own ``half_cycle``/``cycle`` columns are not trusted (real
  files have them stuck at 0 or skipping numbers); they are only cross-checked.

Integrals (all vectorised; no loop over rows): the charge of a half-cycle is the trapezoid
``½(|I_i| + |I_(i+1)|)·Δt`` summed over the intervals whose **both** end points are on current in
the half-cycle's direction (CC and CV points, not rests). Intervals that cross into or out of a
rest, or across a direct reversal, are not counted: cyclers record a point when a step ends
and when the next one starts, so the current did not flow across such an interval (EC-Lab's own
``dq`` is 0 there; spreading ``½|I|Δt`` over it overestimated a real half-cycle by 0.7 % when the
rest was sampled every 600 s). The cost on a signal sampled uniformly through a step change is
at most ``½|I|Δt`` at each end of a half-cycle. Energy integrates ``|V·I|`` the same way.

The file's own cumulative ``charge_ah`` (for the cross-check) is split into the positive and
negative parts of its increments over every interval with at least one on-current end (so
charge the file saw flowing into or out of a rest shows up as a difference; rest-to-rest drift
does not); an increment belongs to the half-cycle of the point that ends
it, except that at the first interval of a new half-cycle its part in the previous direction goes
back to the previous half-cycle (a cumulative column has already put the charge where it flowed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cycler_cli.cycles import current_threshold, label_cycles, run_starts
from cycler_cli.native import kernels as native_kernels

MIN_SEGMENT_POINTS = 2
MIN_SEGMENT_CHARGE_SHARE = 1e-3
MODE_REST = 3


#: Points per block of the streaming passes: each block's per-point work (Δt, |I|, trapezoids,
#: masks) stays in the CPU cache, so no full-length float temporary is made (docs/performance.md).
BLOCK = 1 << 16
#: Relative margin within which a run's block-wise charge is recomputed in numpy's own order
#: before it is compared with the spurious cut (sums of m >= 0 terms in two orders differ by
#: at most about 2·m·2⁻⁵³ relatively, far below this for any m below 10⁹).
_CUT_MARGIN = 1e-6


@dataclass
class Segments:
    """Per-point labels and per-half-cycle arrays (index ``h - 1`` for half-cycle ``h``)."""

    time_s: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    sign: np.ndarray  # int8 per point after cleaning: +1 charge, -1 discharge, 0 rest
    threshold_a: float
    spurious_segments: int
    # per half-cycle (length n_half)
    hc_sign: np.ndarray
    hc_cycle: np.ndarray
    first_on: np.ndarray  # index of the first on-current point
    last_on: np.ndarray  # index of the last on-current point
    step_end: np.ndarray  # index of the point after the last on-current point (or last_on)
    last: np.ndarray  # index of the half-cycle's last point (rests included)
    charge_ah: np.ndarray  # |charge| in the half-cycle's own direction, Ah (positive)
    energy_wh: np.ndarray  # |energy| in the half-cycle's own direction, Wh
    #: intervals where time goes backwards (counted before they are zeroed); None if not counted
    time_backwards: int | None = field(default=None)

    @property
    def n_half(self) -> int:
        return int(self.hc_sign.size)

    @cached_property
    def on(self) -> np.ndarray:
        return self.sign != 0

    @cached_property
    def half_cycle(self) -> np.ndarray:
        """int64 half-cycle per point, 0 before the first current (computed on first use: the
        full-cell analysis needs only the per-half-cycle arrays)."""
        half = np.zeros(self.sign.size, dtype=np.int64)
        half[self.first_on] = 1
        np.cumsum(half, out=half)
        return half

    @cached_property
    def cycle(self) -> np.ndarray:
        """int64 cycle per point (computed on first use: the analysis itself needs only hc_cycle)."""
        return label_cycles(self.half_cycle)


def _clean_dt(time_s: np.ndarray) -> tuple[np.ndarray, int]:
    """``Δt`` per interval with non-finite and non-positive steps set to 0, and the number of
    intervals where time goes backwards (``Δt < 0``)."""
    dt = np.empty(max(time_s.size - 1, 0))
    return dt, _clean_dt_into(time_s, dt)


def _clean_dt_into(time_s: np.ndarray, out: np.ndarray) -> int:
    """:func:`_clean_dt` of ``time_s`` written into ``out`` (``time_s.size - 1`` long); returns
    the backwards count."""
    np.subtract(time_s[1:], time_s[:-1], out=out)
    if out.size and out.min() > 0 and out.max() < np.inf:  # every step positive and finite (NaN fails both): two reductions
        return 0
    backwards = int(np.count_nonzero(out < 0))
    bad = out > 0
    bad &= out < np.inf  # NaN compares False in both
    np.logical_not(bad, out=bad)
    out[bad] = 0.0
    return backwards


def _abs_finite(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``|values|`` with non-finite values as 0 (in ``out`` when given)."""
    out = np.abs(values, out=out)
    if not out.max(initial=0.0) < np.inf:  # a NaN or inf somewhere (max passes NaN on): one reduction, not a mask
        out[~(out < np.inf)] = 0.0
    return out


def _run_charge_exact(time_s: np.ndarray, current_a: np.ndarray, start: int, stop: int) -> float:
    """``∫|I|dt`` of points ``start..stop-1`` with the midpoint weights, summed exactly as
    ``np.add.reduceat`` sums one segment of the whole run's point charges (its first term,
    then numpy's pairwise sum of the rest)."""
    n = time_s.size
    lo, hi = max(start - 1, 0), min(stop + 1, n)
    dt, _ = _clean_dt(time_s[lo:hi])
    half = np.empty(stop - lo)  # half Δt of points lo..stop-1; the last point of the run has none
    np.multiply(dt, 0.5, out=half[: dt.size])
    half[dt.size :] = 0.0
    if start >= 1:
        w = half[1:] + half[:-1]
    else:
        w = np.empty(stop)
        w[0] = half[0]
        np.add(half[1:], half[:-1], out=w[1:])
    w *= _abs_finite(current_a[start:stop])
    return float(w[0] + np.add.reduce(w[1:]))


def _contiguous(*arrays: np.ndarray) -> bool:
    """Are these C-contiguous arrays (what the compiled kernels take)?"""
    return all(a.flags.c_contiguous for a in arrays)


def _sign_and_runs(time_s, current_a, control_mode, threshold):
    """Raw direction per point (int8, rests by threshold and mode), the runs of equal direction
    (starts, and each run's ``∫|I|dt`` summed block by block: equal to numpy's order up to
    rounding), and the backwards-time count, in one streaming pass."""
    n = current_a.size
    sign = np.empty(n, dtype=np.int8)
    kernels = native_kernels()
    if kernels is not None and _contiguous(time_s, current_a) and (
        control_mode is None or (control_mode.dtype.kind in "iu" and control_mode.dtype.itemsize == 1 and _contiguous(control_mode))
    ):  # the same pass compiled (cycler_cli/_native.c), bit for bit
        starts_b, sums_b, backwards = kernels.sign_runs(time_s, current_a, control_mode, float(threshold), sign, BLOCK)
        return sign, np.frombuffer(starts_b, dtype=np.int64).copy(), np.frombuffer(sums_b).copy(), backwards
    m = min(BLOCK, n)
    abs_b, dt_b, half_b, w_b = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    on_b, neg_b = np.empty(m, dtype=bool), np.empty(m, dtype=bool)
    backwards = 0
    half_prev = 0.0
    starts_parts, ids_parts, sums_parts = [], [], []
    n_runs = 0
    for a in range(0, n, BLOCK):
        b = min(a + BLOCK, n)
        m = b - a
        cur = current_a[a:b]
        abs_i = _abs_finite(cur, abs_b[:m])
        s = sign[a:b]
        on = np.greater(abs_i, threshold, out=on_b[:m])
        if control_mode is not None:
            on &= np.asarray(control_mode[a:b]) != MODE_REST
        neg = np.less(cur, 0.0, out=neg_b[:m])
        neg &= on
        s[...] = on.view(np.int8)
        s -= neg.view(np.int8)
        s -= neg.view(np.int8)
        # midpoint weights: half of Δt on each side; the run's last point has no interval after
        k = min(b, n - 1) - a  # intervals a .. a+k-1
        half = half_b[:m]
        if k > 0:
            backwards += _clean_dt_into(time_s[a : a + k + 1], dt_b[:k])
            np.multiply(dt_b[:k], 0.5, out=half[:k])  # exactly dt / 2, and cheaper than a division
        half[k:] = 0.0
        w = w_b[:m]
        w[0] = half[0] + half_prev
        np.add(half[1:], half[:-1], out=w[1:])
        half_prev = half[m - 1]
        w *= abs_i
        # runs of one direction: a new one at each change, and at the block start if it differs
        change = np.flatnonzero(s[1:] != s[:-1])
        change += 1
        idx = np.concatenate(([0], change))
        if a == 0 or s[0] != last_sign:
            ids = np.arange(n_runs, n_runs + idx.size)
            starts_parts.append(idx + a)
        else:  # the block's first piece continues the previous block's last run
            ids = np.arange(n_runs - 1, n_runs + change.size)
            starts_parts.append(change + a)
        n_runs = int(ids[-1]) + 1
        ids_parts.append(ids)
        sums_parts.append(np.add.reduceat(w, idx))
        last_sign = s[-1]
    if n == 0:
        return sign, np.zeros(0, np.int64), np.zeros(0), backwards
    starts = np.concatenate(starts_parts)
    approx = np.bincount(np.concatenate(ids_parts), weights=np.concatenate(sums_parts), minlength=n_runs)
    return sign, starts, approx, backwards


def _clean(time_s, current_a, control_mode, threshold):
    """:func:`clean_sign` with the run structure: ``(sign, spurious count, backwards count,
    starts, lengths, run_sign, kept)`` where ``kept`` marks the on-current runs left."""
    sign, starts, approx, backwards = _sign_and_runs(time_s, current_a, control_mode, threshold)
    n = sign.size
    lengths = np.diff(np.concatenate((starts, [n])))
    run_sign = sign[starts]
    nonzero = run_sign != 0
    if not nonzero.any():
        return sign, 0, backwards, starts, lengths, run_sign, nonzero
    # spurious: too short, or under a share of the biggest run's charge. The charges are
    # block-wise sums; a run within _CUT_MARGIN of the cut is decided on its exact charge
    # (and the biggest run's), so the decision is the one numpy's order would give.
    biggest = float(approx[nonzero].max())
    cut = MIN_SEGMENT_CHARGE_SHARE * biggest
    below = approx < cut
    if not np.isfinite(biggest):
        exact = np.array([_run_charge_exact(time_s, current_a, int(s0), int(s0 + ln)) for s0, ln in zip(starts, lengths)])
        below = exact < MIN_SEGMENT_CHARGE_SHARE * float(exact[nonzero].max())
    else:
        near = nonzero & (lengths >= MIN_SEGMENT_POINTS) & (np.abs(approx - cut) <= _CUT_MARGIN * np.maximum(approx, cut))
        if near.any():
            top = np.flatnonzero(nonzero & (approx >= biggest * (1 - _CUT_MARGIN)))
            biggest = max(_run_charge_exact(time_s, current_a, int(starts[r]), int(starts[r] + lengths[r])) for r in top)
            cut = MIN_SEGMENT_CHARGE_SHARE * biggest
            for r in np.flatnonzero(near):
                below[r] = _run_charge_exact(time_s, current_a, int(starts[r]), int(starts[r] + lengths[r])) < cut
    spurious = nonzero & ((lengths < MIN_SEGMENT_POINTS) | below)
    if spurious.any():
        sign[np.repeat(spurious, lengths)] = 0
    return sign, int(np.count_nonzero(spurious)), backwards, starts, lengths, run_sign, nonzero & ~spurious


def clean_sign(
    time_s: np.ndarray,
    current_a: np.ndarray,
    control_mode: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """Direction per point after removing rests by mode and spurious runs.

    Returns ``(sign int8, threshold_a, number of spurious runs set to rest)``."""
    time_s = np.asarray(time_s, dtype=np.float64)
    current_a = np.asarray(current_a, dtype=np.float64)
    threshold = current_threshold(current_a)
    sign, spurious = _clean(time_s, current_a, control_mode, threshold)[:2]
    return sign, threshold, spurious


def _add_by_label(acc: np.ndarray, values: np.ndarray, base: int, cuts: np.ndarray) -> None:
    """``acc[base + k] += values[j]`` for each ``j``, ``k`` the number of ``cuts`` at or before
    ``j`` (``cuts`` strictly increasing, inside ``1 .. values.size - 1``, as
    :func:`_block_labels` gives them): one ``np.add.reduceat`` over the block, which sums each
    label's piece as its first term plus numpy's pairwise sum of the rest. The sums agree with
    a term-by-term ``np.bincount(labels, weights)`` to rounding (a test pins them within 1e-12
    relative). One call a block, where a ``sum`` call per label cost ≈ 3 µs a label (2.5 ms of
    the 10^6-point benchmark's 30 ms analysis)."""
    acc[base : base + cuts.size + 1] += np.add.reduceat(values, _piece_starts(cuts))


def _piece_starts(cuts: np.ndarray) -> np.ndarray:
    """``[0, *cuts]``: where each label's piece of a block starts."""
    idx = np.empty(cuts.size + 1, dtype=np.intp)
    idx[0] = 0
    idx[1:] = cuts
    return idx


def _block_labels(first_on: np.ndarray, a: int, b: int) -> tuple[int, np.ndarray]:
    """Half-cycle of point ``a + 1`` and the offsets from it of the half-cycle starts in
    ``a + 2 .. b`` (the labels of intervals ``a .. b - 1``, which end at those points)."""
    lo = int(np.searchsorted(first_on, a + 1, side="right"))
    hi = int(np.searchsorted(first_on, b, side="right"))
    return lo, first_on[lo:hi] - (a + 1)


def _integrals(time_s, voltage_v, current_a, sign, first_on, n_half):
    """Per-half-cycle trapezoid sums of ``|I|`` and ``|V·I|`` over the counted intervals.

    An interval counts when both ends are on current in one direction and its ``Δt`` is a
    positive finite number (the cleaned ``Δt`` of :func:`_clean_dt` is 0 exactly there); the
    others weigh 0, so the sums are those of the counted intervals alone."""
    n = sign.size
    slots = n_half + 1
    acc_q, acc_e = np.zeros(slots), np.zeros(slots)
    kernels = native_kernels()
    if kernels is not None and _contiguous(time_s, voltage_v, current_a, sign):  # compiled, bit for bit
        kernels.integrals(time_s, voltage_v, current_a, sign, np.ascontiguousarray(first_on, dtype=np.int64), BLOCK, acc_q, acc_e)
        return acc_q[1:slots] / 3600.0, acc_e[1:slots] / 3600.0
    m = min(BLOCK, n - 1)
    hdt_b, abs_b, p_b, q_b, e_b = np.empty(m), np.empty(m + 1), np.empty(m + 1), np.empty(m), np.empty(m)
    out_b, x_b = np.empty(m, dtype=bool), np.empty(m, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):  # inf·0 of a bad Δt: zeroed below
        for a in range(0, n - 1, BLOCK):
            _integrate_block(time_s, voltage_v, current_a, sign, first_on, a, min(a + BLOCK, n - 1),
                             (hdt_b, abs_b, p_b, q_b, e_b, out_b, x_b), acc_q, acc_e)
    return acc_q[1:slots] / 3600.0, acc_e[1:slots] / 3600.0


def _integrate_block(time_s, voltage_v, current_a, sign, first_on, a, b, buffers, acc_q, acc_e):
    """:func:`_integrals` of intervals ``a .. b-1`` (points ``a .. b``), added into the sums."""
    hdt_b, abs_b, p_b, q_b, e_b, out_b, x_b = buffers
    k = b - a
    hdt = np.subtract(time_s[a + 1 : b + 1], time_s[a:b], out=hdt_b[:k])
    s = sign[a : b + 1]
    counted = np.not_equal(s[1:], 0, out=out_b[:k])
    counted &= np.equal(s[1:], s[:-1], out=x_b[:k])  # both ends on, same direction
    if not (hdt.min() > 0 and hdt.max() < np.inf):  # some Δt not positive and finite (NaN fails both)
        counted &= np.greater(hdt, 0, out=x_b[:k])
        counted &= np.less(hdt, np.inf, out=x_b[:k])
    uncounted = np.logical_not(counted, out=counted)
    hdt *= 0.5  # ½Δt (exact); the trapezoids are (|x_i| + |x_(i+1)|)·½Δt
    abs_i = _abs_finite(current_a[a : b + 1], abs_b[: k + 1])
    q = np.add(abs_i[:-1], abs_i[1:], out=q_b[:k])
    q *= hdt
    p = _abs_finite(voltage_v[a : b + 1], p_b[: k + 1])
    p *= abs_i
    e = np.add(p[:-1], p[1:], out=e_b[:k])
    e *= hdt
    np.copyto(q, 0.0, where=uncounted)  # also the inf/NaN products of a bad Δt
    np.copyto(e, 0.0, where=uncounted)
    base, cuts = _block_labels(first_on, a, b)
    _add_by_label(acc_q, q, base, cuts)
    _add_by_label(acc_e, e, base, cuts)


def segment_run(
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_a: np.ndarray,
    control_mode: np.ndarray | None = None,
    *,
    integrals: bool = True,
) -> Segments:
    """Label half-cycles and integrate charge and energy per half-cycle.

    Units: s, V, A in; Ah and Wh out (magnitudes in each half-cycle's own direction).

    Two streaming passes of :data:`BLOCK` points (direction and runs; then the integrals);
    half-cycles come from the runs, so no per-point label array is made (see
    :attr:`Segments.half_cycle`). ``integrals=False`` leaves the second pass to the caller:
    ``charge_ah`` and ``energy_wh`` are then ``None`` until it sets them from
    :func:`integrate` (which ``analyze`` runs on a second thread)."""
    time_s = np.asarray(time_s, dtype=np.float64)
    voltage_v = np.asarray(voltage_v, dtype=np.float64)
    current_a = np.asarray(current_a, dtype=np.float64)
    n = time_s.size
    threshold = current_threshold(current_a)
    sign, spurious, backwards, starts, lengths, run_sign, kept = _clean(time_s, current_a, control_mode, threshold)
    # a half-cycle starts at each kept run whose direction differs from the kept run before
    k_start = starts[kept]
    k_last = k_start + lengths[kept] - 1
    k_sign = run_sign[kept]
    group = np.flatnonzero(run_starts(k_sign))
    n_half = int(group.size)
    first_on = k_start[group]
    last_on = k_last[np.concatenate((group[1:], [k_start.size])) - 1] if n_half else np.zeros(0, np.int64)
    step_end = np.minimum(last_on + 1, max(n - 1, 0))
    hc_sign = k_sign[group].astype(np.int8)
    hc_cycle = (np.arange(1, n_half + 1, dtype=np.int64) + 1) // 2  # cycle = ceil(h / 2)
    # a half-cycle's last point is the one before the next half-cycle's first on-point
    last = np.concatenate((first_on[1:] - 1, [n - 1])) if n_half else np.zeros(0, np.int64)

    seg = Segments(
        time_s=time_s,
        voltage_v=voltage_v,
        current_a=current_a,
        sign=sign,
        threshold_a=threshold,
        spurious_segments=spurious,
        hc_sign=hc_sign,
        hc_cycle=hc_cycle,
        first_on=first_on.astype(np.int64, copy=False),
        last_on=last_on.astype(np.int64, copy=False),
        step_end=step_end.astype(np.int64, copy=False),
        last=np.asarray(last, dtype=np.int64),
        charge_ah=None,  # type: ignore[arg-type] - set below, or by the caller (integrals=False)
        energy_wh=None,  # type: ignore[arg-type]
        time_backwards=backwards,
    )
    if integrals:
        seg.charge_ah, seg.energy_wh = integrate(seg)
    return seg


def integrate(seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    """``(charge_ah, energy_wh)`` of :func:`segment_run`'s segments: its second pass."""
    n, n_half = seg.sign.size, seg.n_half
    if n >= 2 and n_half:
        return _integrals(seg.time_s, seg.voltage_v, seg.current_a, seg.sign, seg.first_on, n_half)
    return np.zeros(n_half), np.zeros(n_half)


def charge_from_column(seg: Segments, charge_ah: np.ndarray) -> np.ndarray:
    """Per-half-cycle capacity (Ah, positive) from the file's cumulative ``charge_ah`` column.

    Increments ``Δ(charge_ah)`` over intervals with at least one on-current end are split into
    their positive and negative parts and assigned to half-cycles (module docstring), so the two
    agree when the file's column is the integral of its current. NaN increments count as 0.

    Only the part in a half-cycle's own direction is kept, so each interval contributes
    ``max(s·Δq, 0)`` to the half-cycle ``s`` it ends in; the first interval of a half-cycle also
    hands its part in the previous direction back to the previous half-cycle (added after that
    half-cycle's own intervals, the order they come in). One streaming pass of blocks."""
    n_half = seg.n_half
    n = seg.sign.size
    if n_half == 0 or n < 2:
        return np.zeros(n_half)
    q = np.asarray(charge_ah, dtype=np.float64)
    sign = seg.sign
    first_on = seg.first_on
    hc_sign_full = np.concatenate(([0], seg.hc_sign)).astype(np.int8)
    slots = n_half + 1
    acc = np.zeros(slots)
    kernels = native_kernels()
    if kernels is not None and _contiguous(q, sign):  # the block pass compiled, bit for bit
        kernels.charge_column(q, sign, np.ascontiguousarray(first_on, dtype=np.int64), hc_sign_full, BLOCK, acc)
    else:
        _charge_column_blocks(q, sign, first_on, hc_sign_full, BLOCK, acc)
    out = acc[1:slots]
    if n_half >= 2:
        # first interval of half-cycle k+1 ends at first_on[k]; its part in half-cycle k's
        # direction belongs to k (half-cycles alternate in direction)
        f = first_on[1:]
        with np.errstate(invalid="ignore", over="ignore"):
            d = q[f] - q[f - 1]
        d[~((d < np.inf) & (d > -np.inf))] = 0.0
        back = seg.hc_sign[:-1] * d
        out[:-1] += np.maximum(back, 0.0)
    return out


def _charge_column_blocks(q, sign, first_on, hc_sign_full, block, acc) -> None:
    """:func:`charge_from_column`'s streaming pass, added into ``acc`` (one slot per half-cycle
    and slot 0 before the first); the numpy reference of ``_native.charge_column``, which takes
    the same arguments."""
    n = sign.size
    m = min(block, n - 1)
    dq_b, up_b, on_b, keep_b = np.empty(m), np.empty(m), np.empty(m + 1, dtype=bool), np.empty(m, dtype=bool)
    for a in range(0, n - 1, block):
        b = min(a + block, n - 1)
        k = b - a
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: not finite, left out below
            dq = np.subtract(q[a + 1 : b + 1], q[a:b], out=dq_b[:k])
        # rest-to-rest increments are the instrument integrating its offset during open
        # circuit (EC-Lab's (Q-Qo) drifts there); the integral leaves rests out, so the check does too
        on = np.not_equal(sign[a : b + 1], 0, out=on_b[: k + 1])
        keep = np.logical_or(on[1:], on[:-1], out=keep_b[:k])
        if not (dq.min() > -np.inf and dq.max() < np.inf):  # not all finite (NaN fails both)
            keep &= dq < np.inf
            keep &= dq > -np.inf
        np.logical_not(keep, out=keep)
        dq[keep] = 0.0
        base, cuts = _block_labels(first_on, a, b)
        # the increment in the direction of the half-cycle it ends in, at least 0: per label's
        # piece, the sum of max(Δq, 0) for a charge, of -min(Δq, 0) for a discharge (the same
        # terms as max(s·Δq, 0), so the same sums), nothing before the first half-cycle
        starts = _piece_starts(cuts)
        up = np.add.reduceat(np.maximum(dq, 0.0, out=up_b[:k]), starts)
        down = np.add.reduceat(np.minimum(dq, 0.0, out=dq), starts)
        s = hc_sign_full[base : base + starts.size]
        acc[base : base + starts.size] += np.where(s > 0, up, np.where(s < 0, -down, 0.0))


def nan_span(values: np.ndarray) -> float:
    """``nanmax(values) - nanmin(values)``: two plain reductions (no NaN handling per element)
    when no NaN is there, which ``max``/``min`` pass on; ``nanmax``/``nanmin`` otherwise."""
    span = float(values.max() - values.min())
    if span == span:  # not NaN
        return span
    return float(np.nanmax(values) - np.nanmin(values))


def group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per integer group ``0..n_groups-1`` (NaN for empty groups).

    The middle element(s) of each group in a stable sort by value: where the groups come in
    runs (``groups`` never decreases, as labels of points in time order do) each run's two
    middle values are found with ``np.partition`` (linear time); otherwise one lexsort."""
    out = np.full(n_groups, np.nan)
    keep = np.isfinite(values)
    if not keep.all():  # (all finite, the usual case: no copies)
        values, groups = values[keep], groups[keep]
    if values.size == 0:
        return out
    starts = np.flatnonzero(groups[1:] != groups[:-1])
    starts += 1
    # groups in runs that never decrease (checked at the run starts only), long enough that a
    # call per run pays
    if groups[0] >= 0 and starts.size * 256 <= values.size and not np.any(groups[starts] < groups[starts - 1]):
        _run_medians(values, groups, np.concatenate(([0], starts, [values.size])), out)
        return out
    order = np.lexsort((values, groups))
    v = values[order]
    counts = np.bincount(groups, minlength=n_groups)[:n_groups]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    have = counts > 0
    lo = starts[have] + (counts[have] - 1) // 2
    hi = starts[have] + counts[have] // 2
    out[have] = 0.5 * (v[lo] + v[hi])
    return out


def _run_medians(values: np.ndarray, groups: np.ndarray, bounds: np.ndarray, out: np.ndarray) -> None:
    """:func:`group_median` of runs ``values[bounds[k]:bounds[k+1]]`` into ``out[group]``, bit for
    bit: the lexsort's middle values, found by partition. Equal values are the same number
    except 0.0 and -0.0, so a run whose middle value is zero is sorted stably instead."""
    n_groups = out.size
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        gid = int(groups[a])
        if gid >= n_groups:
            continue
        m = b - a
        lo, hi = (m - 1) // 2, m // 2
        piece = values[a:b].copy()
        piece.partition([lo, hi] if hi != lo else lo)
        x, y = piece[lo], piece[hi]
        if x == 0 or y == 0:
            piece = np.sort(values[a:b], kind="stable")
            x, y = piece[lo], piece[hi]
        out[gid] = 0.5 * (x + y)
