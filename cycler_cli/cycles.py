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
    finite = np.abs(current_a[np.isfinite(current_a)])
    if finite.size == 0:
        return 1e-15
    return max(RELATIVE_THRESHOLD * float(np.percentile(finite, 99)), 1e-15)


def direction(current_a: np.ndarray, threshold_a: float | None = None) -> np.ndarray:
    """+1 (charge), -1 (discharge) or 0 (rest) per point, as int8. NaN current is rest."""
    current_a = np.asarray(current_a, dtype=np.float64)
    if threshold_a is None:
        threshold_a = current_threshold(current_a)
    out = np.zeros(current_a.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        out[current_a > threshold_a] = 1
        out[current_a < -threshold_a] = -1
    return out


def label_half_cycles(current_a: np.ndarray, threshold_a: float | None = None) -> np.ndarray:
    """Half-cycle index per point (int64): 0 before the first current, then 1, 2, ...

    A new half-cycle starts at every point whose direction differs from the last non-rest
    direction before it."""
    sign = direction(current_a, threshold_a)
    n = sign.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pos = np.where(sign != 0, np.arange(n), -1)
    np.maximum.accumulate(pos, out=pos)
    filled = np.where(pos >= 0, sign[np.clip(pos, 0, None)], 0)
    starts = np.empty(n, dtype=bool)
    starts[0] = filled[0] != 0
    starts[1:] = (filled[1:] != filled[:-1]) & (filled[1:] != 0)
    return np.cumsum(starts, dtype=np.int64)


def label_cycles(half_cycle: np.ndarray) -> np.ndarray:
    """Cycle index from half-cycle index: ``ceil(h / 2)`` (0 stays 0)."""
    half_cycle = np.asarray(half_cycle, dtype=np.int64)
    return (half_cycle + 1) // 2
