"""``--cell auto``: symmetric or full cell, decided from the signal, with the reason in words.

A symmetric cell (Li | electrolyte | Li) has an open-circuit voltage of ≈ 0 V, so under current
its voltage takes the sign of the current and stays small. A full cell, or a half cell against
Li, keeps one voltage sign whichever way the current flows. The rule (docs/metrics.md):

**symmetric** when both current directions occur and ``sign(V) == sign(I)`` on at least
:data:`MIN_SIGN_AGREEMENT` of the current-on points with ``V != 0`` **in each direction**
(separately, so a half cell that is mostly delithiated at positive V with short negative pulses
is not mistaken for symmetric); otherwise **full**. The size of ``|V|`` is reported but does
not decide: a symmetric cell whose overpotential diverges past 1 V (void formation, contact
loss) is still symmetric, and judging it as a full cell would hide exactly that failure.
"""

from __future__ import annotations

import numpy as np

from cycler_cli.analysis.segment import Segments
from cycler_cli.cycles import RankCounter, quantile_bracket, sample_indices

MIN_SIGN_AGREEMENT = 0.9


def _median_abs(rc: RankCounter) -> float | None:
    """``np.median`` of the values :class:`RankCounter` saw, bit for bit (the mean of the two
    middle values, ``(a + b) / 2``, for an even count); None when its bracket missed."""
    n = rc.finite
    got = rc.values([(n - 1) // 2, n // 2])
    if got is None:
        return None
    return got[0] if n % 2 else (got[0] + got[1]) / 2


def _scan(seg: Segments, lo: float, hi: float) -> tuple[RankCounter, tuple[int, int, int, int, int]]:
    """One pass over the run in blocks: ``|V|`` of the current-on points with finite ``V`` into a
    :class:`RankCounter`, and the counts the rule needs: ``(charge points, V > 0, V < 0,
    V > 0 while charging, V < 0 while charging)``."""
    v_all, sign = seg.voltage_v, seg.sign
    n = sign.size
    rc = RankCounter(lo, hi, n)
    step = rc.block
    m = min(step, n)
    abs_b = np.empty(m)
    fin_b, pos_b, x_b = (np.empty(m, dtype=bool) for _ in range(3))
    n_pos = n_vp = n_vn = agree_ch = against_ch = 0
    count = np.count_nonzero
    for a in range(0, n, step):
        b = min(a + step, n)
        k = b - a
        s, v = sign[a:b], v_all[a:b]
        av = np.abs(v, out=abs_b[:k])
        np.copyto(av, np.nan, where=np.equal(s, 0, out=x_b[:k]))  # rests count nowhere
        on = np.less(av, np.inf, out=fin_b[:k])  # on current with finite V
        rc.add(av, finite=on)
        pos = np.greater(s, 0, out=pos_b[:k])
        pos &= on
        n_pos += int(count(pos))
        x = np.greater(v, 0, out=x_b[:k])
        x &= on
        n_vp += int(count(x))
        x &= pos
        agree_ch += int(count(x))
        x = np.less(v, 0, out=x_b[:k])
        x &= on
        n_vn += int(count(x))
        x &= pos
        against_ch += int(count(x))
    return rc, (n_pos, n_vp, n_vn, agree_ch, against_ch)


def detect_cell_type(seg: Segments) -> tuple[str, str]:
    """``("symmetric" | "full", reason)`` from the current-on points of ``seg``.

    One streamed pass over the run (no full-length copies): sign counts, and the median of
    ``|V|`` from the points near a sampled guess of it (:class:`~cycler_cli.cycles.RankCounter`),
    equal to ``np.median`` of all of them."""
    idx = sample_indices(seg.sign.size) if seg.sign.size else np.zeros(0, dtype=np.intp)
    sample = np.abs(seg.voltage_v[idx[seg.sign[idx] != 0]])
    lo, hi = quantile_bracket(sample[sample < np.inf], 0.5)
    rc, (n_pos, n_vp, n_vn, agree_ch, against_ch) = _scan(seg, lo, hi)
    if not (0 < n_pos < rc.finite):
        return "full", "auto: the current flows in one direction only, so this cannot be a cycled symmetric cell"
    # sign(V) == sign(I) among the points with V != 0, per direction, as counts
    agree_dis = n_vn - against_ch
    against_dis = n_vp - agree_ch
    shares = [
        agree / (agree + against) if agree + against else 0.0
        for agree, against in ((agree_ch, against_ch), (agree_dis, against_dis))
    ]
    median_abs_v = _median_abs(rc)
    if median_abs_v is None:  # the sampled bracket missed: once more with one that holds all
        median_abs_v = _median_abs(_scan(seg, 0.0, float(np.finfo(np.float64).max))[0])
    agreement = min(shares)
    numbers = (
        f"median |V| under current {median_abs_v:.3g} V, "
        f"V has the sign of I on {100 * shares[0]:.0f} % of charge and {100 * shares[1]:.0f} % of discharge points"
    )
    if agreement >= MIN_SIGN_AGREEMENT:
        return "symmetric", f"auto: {numbers} (symmetric: at least {100 * MIN_SIGN_AGREEMENT:.0f} % in both)"
    return "full", (
        f"auto: {numbers} (a symmetric cell's voltage follows the current's sign on at least "
        f"{100 * MIN_SIGN_AGREEMENT:.0f} % of the points in both directions)"
    )
