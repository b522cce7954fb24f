"""Half-cycle and cycle labels from the sign of the current (vectorised, no row loops).

This is the project's single definition of "half-cycle" when a file carries no usable index
(docs/metrics.md, "Cycles"):

* a point is *on current* when ``|I| > threshold``; its direction is the sign of ``I``
  (positive = charge / oxidation at the working electrode);
* a **half-cycle** is a maximal run of one direction; rest points (``|I| <= threshold``) belong
  to the half-cycle before them, so a relaxation stays with the step it relaxes from;
  points before the first current step are half-cycle 0;
* a **cycle** is a half-cycle of the first direction seen plus the following half-cycle of the
  opposite direction: ``cycle = ceil(half_cycle / 2)``, so discharge-first cells pair
  discharge→charge and charge-first cells charge→discharge; leading rest is cycle 0.
"""

from __future__ import annotations

import numpy as np

#: Relative part of the threshold: a point is on current above this fraction of the
#: 99th percentile of |I|.
RELATIVE_THRESHOLD = 1e-3


def current_threshold(current_a: np.ndarray) -> float:
    """Default on/off threshold in A: ``1e-3 × p99(|I|)`` (never below 1e-15 A).

    The 99th percentile rather than the maximum, so a single spike does not raise the
    threshold above a real low-current step."""
    current_a = np.asarray(current_a)
    finite = current_a[np.isfinite(current_a)]  # a fresh array: abs and the percentile work in it
    if finite.size == 0:
        return 1e-15
    np.abs(finite, out=finite)
    return max(RELATIVE_THRESHOLD * float(np.percentile(finite, 99, overwrite_input=True)), 1e-15)


def direction(current_a: np.ndarray, threshold_a: float | None = None) -> np.ndarray:
    """+1 (charge), -1 (discharge) or 0 (rest) per point, as int8. NaN current is rest."""
    current_a = np.asarray(current_a, dtype=np.float64)
    if threshold_a is None:
        threshold_a = current_threshold(current_a)
    # two bool masks viewed as int8 (0/1): no int64 or float temporaries; NaN compares False
    with np.errstate(invalid="ignore"):
        out = np.greater(current_a, threshold_a).view(np.int8)
        out -= np.less(current_a, -threshold_a).view(np.int8)
    return out


def label_half_cycles(current_a: np.ndarray, threshold_a: float | None = None) -> np.ndarray:
    """Half-cycle index per point (int64): 0 before the first current, then 1, 2, ...

    A new half-cycle starts at every point whose direction differs from the last non-rest
    direction before it."""
    return half_cycles_from_sign(direction(current_a, threshold_a))[0]


def half_cycles_from_sign(sign: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`label_half_cycles` from a direction array (int8 -1/0/+1), with what it finds on the way.

    Returns ``(half_cycle int64 per point, on int64 indices of the non-rest points, starts)``,
    where ``on[starts]`` are the first points of half-cycles 1, 2, ... (so ``starts`` indexes
    ``on``). One pass over the on-points' signs; no per-point fill of the last direction."""
    n = sign.size
    on = np.flatnonzero(sign)
    s = sign[on]
    change = np.empty(s.size, dtype=bool)
    if s.size:
        change[0] = True
        np.not_equal(s[1:], s[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    half = np.zeros(n, dtype=np.int64)
    half[on[starts]] = 1
    np.cumsum(half, out=half)
    return half, on, starts


def label_cycles(half_cycle: np.ndarray) -> np.ndarray:
    """Cycle index from half-cycle index: ``ceil(h / 2)`` (0 stays 0)."""
    out = np.array(half_cycle, dtype=np.int64)  # a copy, worked in place
    out += 1
    np.right_shift(out, 1, out=out)  # floor((h + 1) / 2), an arithmetic shift on int64
    return out
