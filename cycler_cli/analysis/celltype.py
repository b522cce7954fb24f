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

MIN_SIGN_AGREEMENT = 0.9


def detect_cell_type(seg: Segments) -> tuple[str, str]:
    """``("symmetric" | "full", reason)`` from the current-on points of ``seg``."""
    on = np.isfinite(seg.voltage_v)
    on &= seg.on
    v = seg.voltage_v[on]  # a fresh array, worked in place below
    pos = seg.sign[on] > 0  # on-points are +1 or -1, so the rest are discharge points
    del on
    n_pos = int(np.count_nonzero(pos))
    if not (0 < n_pos < pos.size):
        return "full", "auto: the current flows in one direction only, so this cannot be a cycled symmetric cell"
    # sign(V) == sign(I) among the points with V != 0, per direction, as counts
    v_pos = v > 0
    v_neg = v < 0
    agree_ch = int(np.count_nonzero(v_pos & pos))
    against_ch = int(np.count_nonzero(v_neg & pos))
    agree_dis = int(np.count_nonzero(v_neg)) - against_ch
    against_dis = int(np.count_nonzero(v_pos)) - agree_ch
    del v_pos, v_neg, pos
    shares = [
        agree / (agree + against) if agree + against else 0.0
        for agree, against in ((agree_ch, against_ch), (agree_dis, against_dis))
    ]
    median_abs_v = float(np.median(np.abs(v, out=v), overwrite_input=True))
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
