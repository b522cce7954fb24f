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

from dataclasses import dataclass

import numpy as np

from cycler_cli.cycles import current_threshold, label_cycles, label_half_cycles

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
    cycle: np.ndarray  # int64 per point
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

    @property
    def n_half(self) -> int:
        return int(self.hc_sign.size)

    @property
    def on(self) -> np.ndarray:
        return self.sign != 0


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of maximal runs of equal values."""
    n = values.size
    starts = np.concatenate(([0], np.flatnonzero(np.diff(values)) + 1))
    lengths = np.diff(np.concatenate((starts, [n])))
    return starts, lengths


def _point_weights_s(time_s: np.ndarray) -> np.ndarray:
    """Time each point stands for, s: half the interval on each side (midpoint rule)."""
    dt = np.diff(time_s)
    dt = np.where(np.isfinite(dt) & (dt > 0), dt, 0.0)
    w = np.zeros(time_s.size)
    w[:-1] += dt / 2
    w[1:] += dt / 2
    return w


def clean_sign(
    time_s: np.ndarray, current_a: np.ndarray, control_mode: np.ndarray | None = None
) -> tuple[np.ndarray, float, int]:
    """Direction per point after removing rests by mode and spurious runs.

    Returns ``(sign int8, threshold_a, number of spurious runs set to rest)``."""
    current_a = np.asarray(current_a, dtype=np.float64)
    threshold = current_threshold(current_a)
    finite_i = np.where(np.isfinite(current_a), current_a, 0.0)
    sign = np.zeros(current_a.size, dtype=np.int8)
    sign[finite_i > threshold] = 1
    sign[finite_i < -threshold] = -1
    if control_mode is not None:
        sign[np.asarray(control_mode) == MODE_REST] = 0
    if sign.size == 0:
        return sign, threshold, 0
    starts, lengths = _runs(sign)
    run_sign = sign[starts]
    charge = np.add.reduceat(np.abs(finite_i) * _point_weights_s(time_s), starts)
    nonzero = run_sign != 0
    if not nonzero.any():
        return sign, threshold, 0
    biggest = float(charge[nonzero].max())
    spurious = nonzero & ((lengths < MIN_SEGMENT_POINTS) | (charge < MIN_SEGMENT_CHARGE_SHARE * biggest))
    if spurious.any():
        run_of_point = np.repeat(np.arange(starts.size), lengths)
        sign[spurious[run_of_point]] = 0
    return sign, threshold, int(np.count_nonzero(spurious))


def _assign_intervals(
    half_cycle: np.ndarray, hc_sign_full: np.ndarray, part_pos: np.ndarray, part_neg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum per-interval positive/negative parts into half-cycles (see module docstring).

    ``hc_sign_full[h]`` is the sign of half-cycle ``h`` (index 0 = leading rest, sign 0).
    Returns per-half-cycle sums (length ``len(hc_sign_full)``) of the positive and negative parts.
    """
    n_slots = hc_sign_full.size
    lab = half_cycle[1:]
    first = half_cycle[1:] != half_cycle[:-1]
    s = hc_sign_full[lab]
    prev = np.clip(lab - 1, 0, None)
    to_pos = np.where(s == 1, lab, np.where(first & (s == -1), prev, -1))
    to_neg = np.where(s == -1, lab, np.where(first & (s == 1), prev, -1))
    pos = np.bincount(to_pos[to_pos >= 0], weights=part_pos[to_pos >= 0], minlength=n_slots)
    neg = np.bincount(to_neg[to_neg >= 0], weights=part_neg[to_neg >= 0], minlength=n_slots)
    return pos[:n_slots], neg[:n_slots]


def _own_direction(hc_sign_full: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    return np.where(hc_sign_full == 1, pos, np.where(hc_sign_full == -1, neg, 0.0))[1:]


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
    sign, threshold, spurious = clean_sign(time_s, current_a, control_mode)
    n = sign.size
    half_cycle = label_half_cycles(sign.astype(np.float64), 0.5) if n else np.zeros(0, np.int64)
    cycle = label_cycles(half_cycle)
    n_half = int(half_cycle.max()) if n else 0

    idx_on = np.flatnonzero(sign != 0)
    hc_on = half_cycle[idx_on]
    # on-current points of one half-cycle are contiguous in idx_on (labels never decrease)
    group_start = np.concatenate(([0], np.flatnonzero(np.diff(hc_on)) + 1)) if idx_on.size else np.zeros(0, int)
    group_end = np.concatenate((group_start[1:], [idx_on.size])) - 1 if idx_on.size else np.zeros(0, int)
    first_on = idx_on[group_start]
    last_on = idx_on[group_end]
    step_end = np.minimum(last_on + 1, max(n - 1, 0))
    hc_sign = sign[first_on].astype(np.int8)
    hc_cycle = cycle[first_on] if n_half else np.zeros(0, np.int64)
    # a half-cycle's last point is the one before the next half-cycle's first on-point
    last = np.concatenate((first_on[1:] - 1, [n - 1])) if n_half else np.zeros(0, np.int64)

    if n >= 2 and n_half:
        dt = np.diff(time_s)
        dt = np.where(np.isfinite(dt) & (dt > 0), dt, 0.0)
        abs_i = np.abs(np.where(np.isfinite(current_a), current_a, 0.0))
        abs_p = np.abs(np.where(np.isfinite(voltage_v), voltage_v, 0.0)) * abs_i
        inside = (sign[1:] != 0) & (sign[1:] == sign[:-1])  # both ends on, same direction
        lab = half_cycle[1:][inside] - 1
        q = 0.5 * (abs_i[:-1] + abs_i[1:]) * dt
        e = 0.5 * (abs_p[:-1] + abs_p[1:]) * dt
        charge_ah = np.bincount(lab, weights=q[inside], minlength=n_half)[:n_half] / 3600.0
        energy_wh = np.bincount(lab, weights=e[inside], minlength=n_half)[:n_half] / 3600.0
    else:
        charge_ah = np.zeros(n_half)
        energy_wh = np.zeros(n_half)

    return Segments(
        time_s=time_s,
        voltage_v=voltage_v,
        current_a=current_a,
        sign=sign,
        half_cycle=half_cycle,
        cycle=cycle,
        threshold_a=threshold,
        spurious_segments=spurious,
        hc_sign=hc_sign,
        hc_cycle=np.asarray(hc_cycle, dtype=np.int64),
        first_on=first_on,
        last_on=last_on,
        step_end=step_end,
        last=np.asarray(last, dtype=np.int64),
        charge_ah=charge_ah,
        energy_wh=energy_wh,
    )


def charge_from_column(seg: Segments, charge_ah: np.ndarray) -> np.ndarray:
    """Per-half-cycle capacity (Ah, positive) from the file's cumulative ``charge_ah`` column.

    Increments ``Δ(charge_ah)`` over intervals with at least one on-current end are split into
    their positive and negative parts and assigned to half-cycles (module docstring), so the two
    agree when the file's column is the integral of its current. NaN increments count as 0."""
    n_half = seg.n_half
    if n_half == 0 or seg.half_cycle.size < 2:
        return np.zeros(n_half)
    dq = np.diff(np.asarray(charge_ah, dtype=np.float64))
    # rest-to-rest increments are the instrument integrating its offset during open circuit
    # (EC-Lab's (Q-Qo) drifts there); the integral leaves rests out, so the check does too
    touches_on = (seg.sign[1:] != 0) | (seg.sign[:-1] != 0)
    dq = np.where(np.isfinite(dq) & touches_on, dq, 0.0)
    hc_sign_full = np.concatenate(([0], seg.hc_sign)).astype(np.int8)
    pos, neg = _assign_intervals(seg.half_cycle, hc_sign_full, np.clip(dq, 0, None), np.clip(-dq, 0, None))
    return _own_direction(hc_sign_full, pos, neg)


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
