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

import functools

import numpy as np

#: Relative part of the threshold: a point is on current above this fraction of the
#: 99th percentile of |I|.
RELATIVE_THRESHOLD = 1e-3


def current_threshold(current_a: np.ndarray) -> float:
    """Default on/off threshold in A: ``1e-3 × p99(|I|)`` (never below 1e-15 A).

    The 99th percentile rather than the maximum, so a single spike does not raise the
    threshold above a real low-current step. Non-finite currents are left out. The number is
    exactly ``np.percentile(|I|, 99)``'s; long float64 runs get it without copying the run
    (:func:`quantile_bracket`, :class:`RankCounter`)."""
    current_a = np.asarray(current_a)
    if current_a.dtype == np.float64 and current_a.ndim == 1 and current_a.size >= SELECT_MIN_POINTS:
        p99 = _p99_abs_streamed(current_a)
        if p99 is None:
            return 1e-15
        return max(RELATIVE_THRESHOLD * p99, 1e-15)
    finite = current_a[np.isfinite(current_a)]  # a fresh array: abs and the percentile work in it
    if finite.size == 0:
        return 1e-15
    np.abs(finite, out=finite)
    return max(RELATIVE_THRESHOLD * float(np.percentile(finite, 99, overwrite_input=True)), 1e-15)


#: Runs at least this long take the streamed order statistics (:func:`quantile_bracket`);
#: shorter ones are copied and partitioned whole, which is as fast there.
SELECT_MIN_POINTS = 1 << 15
#: Points per block of the streamed passes (in-cache temporaries only).
SELECT_BLOCK = 1 << 16
_SAMPLE_POINTS = 1 << 14
_FLOAT_MAX = float(np.finfo(np.float64).max)


def sample_indices(n: int) -> np.ndarray:
    """Sorted positions of a fixed pseudo-random sample of ``0..n-1`` (the same for every call):
    ``0..n-1`` cut into ``m`` equal strata and one position drawn in each, so the positions come
    sorted without a sort (which cost 0.5 ms of the 10^6-point analysis) and a periodic signal
    is not sampled at one phase. Read-only, and made once per ``(n, m)``."""
    return _stratified_sample(n, min(_SAMPLE_POINTS, n))


@functools.lru_cache(maxsize=8)
def _stratified_sample(n: int, m: int) -> np.ndarray:
    edges = np.arange(m + 1, dtype=np.int64) * n // max(m, 1)
    out = edges[:-1] + (np.random.default_rng(0).random(m) * np.diff(edges)).astype(np.int64)
    out.flags.writeable = False
    return out


def quantile_bracket(sample: np.ndarray, q: float) -> tuple[float, float]:
    """Bounds ``lo <= hi`` that very likely hold the ``q``-quantile of the population the finite,
    non-negative ``sample`` was drawn from: ±6 binomial standard deviations of the sample's own
    rank, and ``[0, float max]`` (everything finite) when the sample is too small to say.

    Only the speed depends on the bracket: :meth:`RankCounter.values` says when it missed."""
    m = sample.size
    if m < 256:
        return 0.0, _FLOAT_MAX
    margin = 6.0 * float(np.sqrt(m * q * (1.0 - q))) + 8.0
    i = int(np.floor(q * (m - 1) - margin))
    j = int(np.ceil(q * (m - 1) + margin))
    kth = [k for k in (i, j) if 0 < k < m - 1]
    s = np.partition(sample, kth) if kth else sample  # the two order statistics, no full sort
    lo = float(s[i]) if i > 0 else 0.0
    hi = float(s[j]) if j < m - 1 else _FLOAT_MAX
    return lo, hi


class RankCounter:
    """Order statistics of a long run of non-negative values seen block by block, without
    keeping the run: each :meth:`add` counts the finite values under, at and above a bracket
    ``[lo, hi]`` and keeps only those strictly inside it (ties at a bound are counted, not
    kept, so a run of equal values costs nothing). NaN and inf are never counted."""

    def __init__(self, lo: float, hi: float, capacity: int) -> None:
        self.lo, self.hi = lo, hi
        self.inside = np.empty(capacity)  # pages are committed only as far as it is filled
        self.fill = self.finite = self.below = self.at_lo = self.at_hi = 0
        self.block = SELECT_BLOCK  # the most values one add() takes
        self._b1, self._b2 = np.empty(self.block, dtype=bool), np.empty(self.block, dtype=bool)

    def add(self, x: np.ndarray, finite: np.ndarray | None = None) -> None:
        """Count and keep the block ``x`` (at most :attr:`block` values); ``finite``: the
        caller's ``x < inf`` of this block, when it has it already."""
        k = x.size
        t, m = self._b1[:k], self._b2[:k]
        count = np.count_nonzero
        self.finite += int(count(np.less(x, np.inf, out=t) if finite is None else finite))
        below = int(count(np.less(x, self.lo, out=t)))
        self.below += below
        self.at_lo += int(count(np.less_equal(x, self.lo, out=m))) - below
        if self.hi > self.lo:
            self.at_hi += int(count(np.equal(x, self.hi, out=t)))
            np.logical_not(m, out=m)
            m &= np.less(x, self.hi, out=t)  # lo < x < hi (NaN fails the second)
            c = int(count(m))
            np.compress(m, x, out=self.inside[self.fill : self.fill + c])
            self.fill += c

    def values(self, ranks: list[int]) -> list[float] | None:
        """The values of 0-based ``ranks`` among the finite values added, or None when one of
        them lies outside the bracket."""
        inside = self.inside[: self.fill]
        out: list = []
        want: list[int] = []
        for r in ranks:
            r -= self.below
            if 0 <= r < self.at_lo:
                out.append(self.lo)
                continue
            r -= self.at_lo
            if 0 <= r < inside.size:
                out.append(r)  # a position in ``inside``, resolved below
                want.append(len(out) - 1)
                continue
            r -= inside.size
            if 0 <= r < self.at_hi:
                out.append(self.hi)
                continue
            return None
        if want:
            inside.partition(sorted({out[i] for i in want}))
            for i in want:
                out[i] = float(inside[out[i]])
        return out


def percentile_linear(n: int, q: float, value_at) -> float | None:
    """``np.percentile``'s default (linear) interpolation for ``n`` values, bit for bit:
    ``value_at(ranks)`` returns the sorted values at those 0-based ranks (or None, passed on)."""
    vi = (n - 1) * (q / 100)
    if vi >= n - 1:
        got = value_at([n - 1])
        return None if got is None else got[0]
    prev = int(np.floor(vi))
    got = value_at([prev, prev + 1])
    if got is None:
        return None
    a, b = got
    gamma = vi - prev
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


def _p99_abs_streamed(current_a: np.ndarray) -> float | None:
    """``np.percentile(|I|, 99)`` over the finite points (None if there are none): a sampled
    bracket, then one pass of :class:`RankCounter`. If the bracket missed, once more with a
    bracket that holds everything."""
    n = current_a.size
    sample = np.abs(current_a[sample_indices(n)])
    lo, hi = quantile_bracket(sample[sample < np.inf], 0.99)
    while True:
        rc = RankCounter(lo, hi, n)
        step = rc.block
        buf = np.empty(min(step, n))
        for a in range(0, n, step):
            b = min(a + step, n)
            rc.add(np.abs(current_a[a:b], out=buf[: b - a]))
        if rc.finite == 0:
            return None
        got = percentile_linear(rc.finite, 99, rc.values)
        if got is not None:
            return got
        lo, hi = 0.0, _FLOAT_MAX  # the bracket missed: this one holds every finite value


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


def run_starts(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the elements that differ from the one before (the first one always)."""
    change = np.empty(values.size, dtype=bool)
    if values.size:
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
    return change


def half_cycles_from_sign(sign: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`label_half_cycles` from a direction array (int8 -1/0/+1), with what it finds on the way.

    Returns ``(half_cycle int64 per point, on int64 indices of the non-rest points, starts)``,
    where ``on[starts]`` are the first points of half-cycles 1, 2, ... (so ``starts`` indexes
    ``on``). One pass over the on-points' signs; no per-point fill of the last direction."""
    n = sign.size
    on = np.flatnonzero(sign)
    starts = np.flatnonzero(run_starts(sign[on]))
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
