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
    on = seg.on & np.isfinite(seg.voltage_v)
    v = seg.voltage_v[on]
    s = seg.sign[on]
    if not ((s > 0).any() and (s < 0).any()):
        return "full", "auto: the current flows in one direction only, so this cannot be a cycled symmetric cell"
    median_abs_v = float(np.median(np.abs(v)))
    agree = np.sign(v) == s
    counted = v != 0
    shares = [
        float(np.mean(agree[counted & (s == d)])) if (counted & (s == d)).any() else 0.0 for d in (1, -1)
    ]
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
