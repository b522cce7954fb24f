"""Full-cell (and half-cell) metrics: one row per cycle, and the run summary.

Definitions (docs/metrics.md, "Full cells"):

* a cycle is the first half-cycle direction seen plus the next opposite one
  (:mod:`cycler_cli.cycles`), so ``first_half`` is ``"charge"`` or ``"discharge"`` and
  ``coulombic_efficiency = Q(second half) / Q(first half)``: discharge-first cells
  (Li|LiTi2(PO4)3, anode half cells) get ``Q_charge / Q_discharge``;
* ``energy_efficiency = E_discharge / E_charge`` of the cycle in either order: over a closed
  cycle that is energy delivered over energy stored (≤ 1). The pairing rule of CE applied to
  energies would give ``E_charge / E_discharge > 1`` for discharge-first cells;
* capacities are trapezoid integrals of ``|I| dt`` over each half-cycle (CC and CV points of
  its sign; see :mod:`cycler_cli.analysis.segment`), in mAh; energies ``∫ V·|I| dt`` in mWh;
  ``mean_*_v = E / Q``;
* ``retention = Q_discharge / Q_discharge(reference_cycle)``;
* ``r_dc_ohm``: median over the cycle's current steps (each half-cycle's onset, and its end when
  the current steps to rest) of ``|ΔV| / |ΔI|`` between the two points around the step;
  ``ir_dt_s`` the median interval those points span;
* ``complete``: both halves present and, for the last cycle, a second half of at least
  :data:`INCOMPLETE_SHARE` × the previous cycle's second half. Incomplete cycles keep their
  row but are left out of every fit and summary figure.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cycler_cli.analysis.robust import ols_slope
from cycler_cli.analysis.segment import Segments, group_median, nan_span
from cycler_cli.analysis.table import json_float as _f, json_floats
from cycler_cli.errors import ConfigError

INCOMPLETE_SHARE = 0.9
#: Warn when the reference cycle's discharge is below this share of the median discharge.
LOW_REFERENCE_SHARE = 0.5
END_OF_LIFE_RETENTION = 0.8

DEFINITIONS: dict[str, str] = {
    "start_s": "time of the cycle's first current-on point; duration_s runs to the point after its last current-on point",
    "charge_mah": "trapezoid integral of |I| dt over the charge half-cycle's points (CC and CV, not rests), mAh",
    "discharge_mah": "the same over the discharge half-cycle",
    "coulombic_efficiency": "Q(second half) / Q(first half) of the cycle (discharge-first: Q_charge / Q_discharge)",
    "energy_efficiency": "E_discharge / E_charge of the cycle (energy delivered / energy stored, whichever half comes first), E = integral of |V I| dt",
    "mean_charge_v": "charge_mwh / charge_mah",
    "retention": "discharge_mah / discharge_mah of the reference cycle",
    "r_dc_ohm": "median |dV/dI| over the cycle's current steps (onsets, and ends into rest); ir_dt_s is the median interval",
    "complete": "both halves present; the last cycle also needs a second half >= 0.9 x the previous cycle's",
    "capacity_fade_pct_per_cycle": "-100 x OLS slope of discharge_mah vs cycle / reference discharge_mah, complete cycles from the reference on (positive = fading)",
    "cycles_to_80pct": "first complete cycle from the reference on with retention < 0.8 (null if none)",
    "coulombic_efficiency_median": "median coulombic_efficiency of complete cycles after cycle 1",
}


def _step_resistances(seg: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cycle, |ΔV|/|ΔI| in Ω, Δt in s) for every half-cycle onset and every end into rest."""
    t, v, i, n = seg.time_s, seg.voltage_v, seg.current_a, seg.time_s.size
    onset_after = seg.first_on
    onset_before = seg.first_on - 1
    end_before = seg.last_on
    end_after = seg.step_end
    to_rest = (end_after != end_before) & (seg.sign[np.clip(end_after, 0, n - 1)] == 0)
    before = np.concatenate((onset_before, end_before[to_rest]))
    after = np.concatenate((onset_after, end_after[to_rest]))
    cyc = np.concatenate((seg.hc_cycle, seg.hc_cycle[to_rest]))
    ok = before >= 0
    before, after, cyc = before[ok], after[ok], cyc[ok]
    d_i = np.abs(i[after] - i[before])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(d_i > 0, np.abs(v[after] - v[before]) / d_i, np.nan)
    return cyc, r, t[after] - t[before]


def analyze_full(
    seg: Segments,
    *,
    mass_mg: float | None,
    area_cm2: float | None,
    reference_cycle: int = 1,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Rows (one per cycle), summary and warnings for a full (or half) cell.

    Units: mAh, mWh, V, Ω; specific values per g of active material, areal per cm²."""
    n_cycles = int(seg.hc_cycle.max()) if seg.n_half else 0
    charge_first = bool(seg.hc_sign[0] > 0)
    q_ch = np.full(n_cycles, np.nan)
    q_dis = np.full(n_cycles, np.nan)
    e_ch = np.full(n_cycles, np.nan)
    e_dis = np.full(n_cycles, np.nan)
    pos = seg.hc_sign > 0
    neg = ~pos
    q_ch[seg.hc_cycle[pos] - 1] = seg.charge_ah[pos] * 1000.0
    e_ch[seg.hc_cycle[pos] - 1] = seg.energy_wh[pos] * 1000.0
    q_dis[seg.hc_cycle[neg] - 1] = seg.charge_ah[neg] * 1000.0
    e_dis[seg.hc_cycle[neg] - 1] = seg.energy_wh[neg] * 1000.0
    q_first, q_second = (q_ch, q_dis) if charge_first else (q_dis, q_ch)
    with np.errstate(invalid="ignore", divide="ignore"):
        ce = q_second / q_first
        ee = e_dis / e_ch  # energy delivered / energy stored, whichever half comes first
        mean_ch = e_ch / q_ch
        mean_dis = e_dis / q_dis

    complete = np.isfinite(q_ch) & np.isfinite(q_dis)
    if n_cycles >= 2 and complete[-1] and math.isfinite(q_second[-2]):
        complete[-1] = q_second[-1] >= INCOMPLETE_SHARE * q_second[-2]

    cycles = np.arange(1, n_cycles + 1)
    if not 1 <= reference_cycle <= n_cycles:
        raise ConfigError(
            f"--reference-cycle {reference_cycle} is not a cycle of this run (it has {n_cycles})",
            hint=f"pass --reference-cycle between 1 and {n_cycles}",
        )
    warnings: list[str] = []
    q_ref = q_dis[reference_cycle - 1]
    if not complete[reference_cycle - 1]:
        warnings.append(f"reference cycle {reference_cycle} is incomplete: retention and fade are relative to a partial cycle")
    typical = np.nanmedian(q_dis[complete]) if complete.any() else math.nan
    if math.isfinite(typical) and q_ref < LOW_REFERENCE_SHARE * typical:
        warnings.append(
            f"the reference cycle's discharge ({q_ref:.4g} mAh) is under {100 * LOW_REFERENCE_SHARE:.0f} % of the median "
            f"discharge ({typical:.4g} mAh), e.g. a partial first discharge: retention and fade are relative to it "
            "(pass --reference-cycle 2 or later)"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        retention = q_dis / q_ref if q_ref and math.isfinite(q_ref) else np.full(n_cycles, np.nan)

    mass_g = mass_mg / 1000.0 if mass_mg else None
    spec = (lambda q: q / mass_g) if mass_g else (lambda q: np.full(n_cycles, np.nan))
    areal = (lambda q: q / area_cm2) if area_cm2 else (lambda q: np.full(n_cycles, np.nan))

    step_cycle, step_r, step_dt = _step_resistances(seg)
    r_dc = group_median(step_r, step_cycle - 1, n_cycles) if n_cycles else np.zeros(0)
    ir_dt = group_median(step_dt, step_cycle - 1, n_cycles) if n_cycles else np.zeros(0)

    # cycle span: first on-current point of its first half to the end of its last half's step
    t = seg.time_s
    start_s = np.full(n_cycles, np.inf)
    end_s = np.full(n_cycles, -np.inf)
    np.minimum.at(start_s, seg.hc_cycle - 1, t[seg.first_on])
    np.maximum.at(end_s, seg.hc_cycle - 1, t[seg.step_end])

    columns: dict[str, np.ndarray] = {
        "start_s": start_s,
        "duration_s": end_s - start_s,
        "charge_mah": q_ch,
        "discharge_mah": q_dis,
        "charge_mah_g": spec(q_ch),
        "discharge_mah_g": spec(q_dis),
        "charge_mah_cm2": areal(q_ch),
        "discharge_mah_cm2": areal(q_dis),
        "coulombic_efficiency": ce,
        "energy_efficiency": ee,
        "charge_mwh": e_ch,
        "discharge_mwh": e_dis,
        "mean_charge_v": mean_ch,
        "mean_discharge_v": mean_dis,
        "retention": retention,
        "r_dc_ohm": r_dc,
        "ir_dt_s": ir_dt,
    }
    first_half = "charge" if charge_first else "discharge"
    # each column to JSON-safe Python floats once (tolist, not one numpy scalar per cell)
    names = ["cycle", "first_half", "complete", *columns]
    cells = [range(1, n_cycles + 1), [first_half] * n_cycles, complete.tolist(), *map(json_floats, columns.values())]
    rows: list[dict[str, Any]] = [dict(zip(names, values)) for values in zip(*cells)]  # output dicts, one per cycle

    from_ref = complete & (cycles >= reference_cycle)
    slope = ols_slope(cycles[from_ref], q_dis[from_ref])
    fade = -100.0 * slope / q_ref if q_ref and math.isfinite(q_ref) else math.nan
    done = np.flatnonzero(complete)
    below = np.flatnonzero(from_ref & (retention < END_OF_LIFE_RETENTION))
    ce_after_first = ce[complete & (cycles > 1)]
    summary = {
        "cycles": n_cycles,
        "complete_cycles": int(complete.sum()),
        "first_half": first_half,
        "duration_s": _f(nan_span(t)) if t.size else None,
        "reference_cycle": reference_cycle,
        "reference_discharge_mah": _f(q_ref),
        "reference_discharge_mah_g": _f(q_ref / mass_g) if mass_g else None,
        "capacity_fade_pct_per_cycle": _f(fade),
        "retention_final": _f(retention[done[-1]]) if done.size else None,
        "cycles_to_80pct": int(cycles[below[0]]) if below.size else None,
        "coulombic_efficiency_median": _f(np.median(ce_after_first[np.isfinite(ce_after_first)]))
        if np.isfinite(ce_after_first).any()
        else None,
    }
    if not complete.all():
        bad = [int(c) for c in cycles[~complete]]
        warnings.append(f"incomplete cycle(s) {bad}: rows kept with complete=false, left out of fits and medians")
    return rows, summary, warnings
