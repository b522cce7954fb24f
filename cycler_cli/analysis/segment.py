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

from cycler_cli.cycles import current_threshold, half_cycles_from_sign, label_cycles

MIN_SEGMENT_POINTS = 2
MIN_SEGMENT_CHARGE_SHARE = 1e-3
MODE_REST = 3


@dataclass
class Segments:
    """Per-point labels and per-half-cycle arrays (index ``h - 1`` for half-cycle ``h``)."""

    time_s: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    sign: np.ndarray  # int8 per point after cleaning: +1 charge, -1 discharge, 0 rest
    half_cycle: np.ndarray  # int64 per point, 0 before the first current
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
    def cycle(self) -> np.ndarray:
        """int64 cycle per point (computed on first use: the analysis itself needs only hc_cycle)."""
        return label_cycles(self.half_cycle)


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of maximal runs of equal values."""
    n = values.size
    starts = np.flatnonzero(values[1:] != values[:-1])
    starts += 1
    starts = np.concatenate(([0], starts))
    lengths = np.diff(np.concatenate((starts, [n])))
    return starts, lengths


def _clean_dt(time_s: np.ndarray) -> tuple[np.ndarray, int]:
    """``Δt`` per interval with non-finite and non-positive steps set to 0, and the number of
    intervals where time goes backwards (``Δt < 0``)."""
    dt = np.diff(time_s)
    backwards = int(np.count_nonzero(dt < 0))
    bad = dt > 0
    bad &= dt < np.inf  # NaN compares False in both
    np.logical_not(bad, out=bad)
    dt[bad] = 0.0
    return dt, backwards


def _point_weights_s(time_s: np.ndarray, dt: np.ndarray | None = None) -> np.ndarray:
    """Time each point stands for, s: half the interval on each side (midpoint rule).

    ``dt``: the cleaned intervals (:func:`_clean_dt`) when the caller has them already."""
    if dt is None:
        dt = _clean_dt(time_s)[0]
    w = np.empty(time_s.size)
    if w.size:
        w[-1] = 0.0
        np.divide(dt, 2, out=w[:-1])
        w[1:] += w[:-1]  # numpy buffers the overlapping operands: w[i] += half dt[i-1]
    return w


def _abs_finite(values: np.ndarray) -> np.ndarray:
    """``|values|`` with non-finite values as 0, in one new array."""
    out = np.abs(values)
    out[~(out < np.inf)] = 0.0  # NaN and inf
    return out


def clean_sign(
    time_s: np.ndarray,
    current_a: np.ndarray,
    control_mode: np.ndarray | None = None,
    *,
    abs_i: np.ndarray | None = None,
    dt: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """Direction per point after removing rests by mode and spurious runs.

    ``abs_i`` (``|I|``, non-finite as 0) and ``dt`` (cleaned intervals) may be passed when the
    caller has them. Returns ``(sign int8, threshold_a, number of spurious runs set to rest)``."""
    current_a = np.asarray(current_a, dtype=np.float64)
    threshold = current_threshold(current_a)
    if abs_i is None:
        abs_i = _abs_finite(current_a)
    # on = |I| > threshold with NaN and inf as rest; then -1 where the current is negative
    on = np.greater(abs_i, threshold)
    neg = np.less(current_a, 0.0)
    neg &= on
    sign = on.view(np.int8)
    sign -= neg.view(np.int8)
    sign -= neg.view(np.int8)
    del neg
    if control_mode is not None:
        sign[np.asarray(control_mode) == MODE_REST] = 0
    if sign.size == 0:
        return sign, threshold, 0
    starts, lengths = _runs(sign)
    run_sign = sign[starts]
    nonzero = run_sign != 0
    if not nonzero.any():
        return sign, threshold, 0
    point_q = _point_weights_s(time_s, dt)
    point_q *= abs_i
    charge = np.add.reduceat(point_q, starts)
    del point_q
    biggest = float(charge[nonzero].max())
    spurious = nonzero & ((lengths < MIN_SEGMENT_POINTS) | (charge < MIN_SEGMENT_CHARGE_SHARE * biggest))
    if spurious.any():
        sign[np.repeat(spurious, lengths)] = 0
    return sign, threshold, int(np.count_nonzero(spurious))


def segment_run(
    time_s: np.ndarray,
    voltage_v: np.ndarray,
    current_a: np.ndarray,
    control_mode: np.ndarray | None = None,
) -> Segments:
    """Label half-cycles and integrate charge and energy per half-cycle.

    Units: s, V, A in; Ah and Wh out (magnitudes in each half-cycle's own direction)."""
    time_s = np.asarray(time_s, dtype=np.float64)
    voltage_v = np.asarray(voltage_v, dtype=np.float64)
    current_a = np.asarray(current_a, dtype=np.float64)
    n = time_s.size
    dt, backwards = _clean_dt(time_s) if n else (np.zeros(0), 0)
    abs_i = _abs_finite(current_a)
    sign, threshold, spurious = clean_sign(time_s, current_a, control_mode, abs_i=abs_i, dt=dt)
    # labels, on-points and half-cycle starts in one pass (cycler_cli.cycles)
    half_cycle, idx_on, group_start = half_cycles_from_sign(sign)
    n_half = int(group_start.size)

    # on-current points of one half-cycle are contiguous in idx_on (labels never decrease)
    group_end = np.concatenate((group_start[1:], [idx_on.size])) - 1 if idx_on.size else np.zeros(0, int)
    first_on = idx_on[group_start]
    last_on = idx_on[group_end]
    del idx_on
    step_end = np.minimum(last_on + 1, max(n - 1, 0))
    hc_sign = sign[first_on].astype(np.int8)
    hc_cycle = (np.arange(1, n_half + 1, dtype=np.int64) + 1) // 2  # cycle = ceil(h / 2)
    # a half-cycle's last point is the one before the next half-cycle's first on-point
    last = np.concatenate((first_on[1:] - 1, [n - 1])) if n_half else np.zeros(0, np.int64)

    if n >= 2 and n_half:
        inside = sign[1:] != 0
        inside &= sign[1:] == sign[:-1]  # both ends on, same direction
        np.logical_not(inside, out=inside)  # now: the intervals that are not counted
        lab = half_cycle[1:]
        slots = n_half + 1
        # trapezoids 0.5 (|x_i| + |x_(i+1)|) dt, in place; uncounted intervals weigh 0, so
        # the per-half-cycle sums add the same terms in the same order as summing only the
        # counted ones
        q = np.add(abs_i[:-1], abs_i[1:])
        q *= 0.5
        q *= dt
        q[inside] = 0.0
        charge_ah = np.bincount(lab, weights=q, minlength=slots)[1:slots] / 3600.0
        del q
        abs_p = _abs_finite(voltage_v)
        abs_p *= abs_i
        e = np.add(abs_p[:-1], abs_p[1:])
        del abs_p
        e *= 0.5
        e *= dt
        e[inside] = 0.0
        energy_wh = np.bincount(lab, weights=e, minlength=slots)[1:slots] / 3600.0
        del e
    else:
        charge_ah = np.zeros(n_half)
        energy_wh = np.zeros(n_half)

    return Segments(
        time_s=time_s,
        voltage_v=voltage_v,
        current_a=current_a,
        sign=sign,
        half_cycle=half_cycle,
        threshold_a=threshold,
        spurious_segments=spurious,
        hc_sign=hc_sign,
        hc_cycle=hc_cycle,
        first_on=first_on,
        last_on=last_on,
        step_end=step_end,
        last=np.asarray(last, dtype=np.int64),
        charge_ah=charge_ah,
        energy_wh=energy_wh,
        time_backwards=backwards,
    )


def charge_from_column(seg: Segments, charge_ah: np.ndarray) -> np.ndarray:
    """Per-half-cycle capacity (Ah, positive) from the file's cumulative ``charge_ah`` column.

    Increments ``Δ(charge_ah)`` over intervals with at least one on-current end are split into
    their positive and negative parts and assigned to half-cycles (module docstring), so the two
    agree when the file's column is the integral of its current. NaN increments count as 0.

    Only the part in a half-cycle's own direction is kept, so each interval contributes
    ``max(s·Δq, 0)`` to the half-cycle ``s`` it ends in; the first interval of a half-cycle also
    hands its part in the previous direction back to the previous half-cycle (added after that
    half-cycle's own intervals, the order they come in)."""
    n_half = seg.n_half
    if n_half == 0 or seg.half_cycle.size < 2:
        return np.zeros(n_half)
    dq = np.diff(np.asarray(charge_ah, dtype=np.float64))
    # rest-to-rest increments are the instrument integrating its offset during open circuit
    # (EC-Lab's (Q-Qo) drifts there); the integral leaves rests out, so the check does too
    on = seg.on
    drop = on[1:] | on[:-1]
    drop &= dq < np.inf
    drop &= dq > -np.inf  # finite (NaN compares False)
    np.logical_not(drop, out=drop)
    dq[drop] = 0.0
    del drop
    lab = seg.half_cycle[1:]
    hc_sign_full = np.concatenate(([0], seg.hc_sign)).astype(np.int8)
    own = hc_sign_full[lab] * dq  # the increment in the direction of the half-cycle it ends in
    np.maximum(own, 0.0, out=own)
    slots = n_half + 1
    out = np.bincount(lab, weights=own, minlength=slots)[1:slots]
    del own
    if n_half >= 2:
        # first interval of half-cycle k+1 ends at first_on[k]; its part in half-cycle k's
        # direction belongs to k (half-cycles alternate in direction)
        back = seg.hc_sign[:-1] * dq[seg.first_on[1:] - 1]
        out[:-1] += np.maximum(back, 0.0)
    return out


def group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per integer group ``0..n_groups-1`` (NaN for empty groups).

    Vectorised: one lexsort, then the middle element(s) of each group."""
    out = np.full(n_groups, np.nan)
    keep = np.isfinite(values)
    values, groups = values[keep], groups[keep]
    if values.size == 0:
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
