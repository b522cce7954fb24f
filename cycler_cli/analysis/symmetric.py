"""Symmetric-cell (Li | electrolyte | Li) metrics: one row per half-cycle, and the run summary.

Definitions (docs/metrics.md, "Symmetric cells"):

* direction: ``"strip"`` for positive current (oxidation at the working electrode strips Li
  from it), ``"plate"`` for negative current;
* ``overpotential_v``: median of ``|V|`` over the half-cycle's **current-on** points. Li|Li has
  an open-circuit voltage of ≈ 0 V, so ``|V|`` is the polarization; the voltage at the last
  rest point before the half-cycle is reported as ``rest_v`` so an offset (e.g. an Au buffer on
  one side) is visible, but it is not subtracted: a rest of a few minutes has not relaxed and
  would bias strip and plate in opposite directions;
* ``overpotential_mean_v`` (mean of ``|V|`` over the same points; the time average when the
  sampling is uniform), ``overpotential_end_v`` (median over the last 5 % of the half-cycle's
  duration), ``overpotential_peak_v`` (maximum);
* ``r_dc_ohm = overpotential_v / |current_a|``; ``asr_ohm_cm2 = r_dc_ohm × area`` (whole cell:
  bulk + grain boundaries + both interfaces); with thickness and conductivity,
  ``asr_bulk_ohm_cm2 = thickness_cm / σ`` and ``asr_interface_ohm_cm2 = (asr − bulk) / 2``;
* ``ir_step_v``: ``|V(first on point) − V(point before)|`` at current onset, ``ir_step_ohm`` that
  over ``|ΔI|`` (so a direct reversal divides by ``2|I|``), ``ir_dt_s`` the interval it spans.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cycler_cli.analysis.robust import theil_sen
from cycler_cli.analysis.segment import Segments, group_median, nan_span
from cycler_cli.analysis.table import json_float as _f, json_floats

#: Hard short: a half-cycle's overpotential below this fraction of the reference, and every
#: later one too.
HARD_SHORT_FRACTION = 0.2
#: Soft short: a drop of |V| between consecutive current-on samples larger than
#: max(SOFT_NOISE_SIGMAS × σ_noise, SOFT_PLATEAU_FRACTION × overpotential_v).
SOFT_NOISE_SIGMAS = 5.0
SOFT_PLATEAU_FRACTION = 0.1
#: The start of each half-cycle that soft-short detection skips (nucleation peak, RC charging):
#: max(SOFT_SKIP_S, SOFT_SKIP_SHARE × duration).
SOFT_SKIP_S = 60.0
SOFT_SKIP_SHARE = 0.05
#: Share of the half-cycle's duration that ``overpotential_end_v`` uses.
END_SHARE = 0.05
#: The last half-cycle is incomplete when shorter than this share of the median duration of
#: the other half-cycles of its direction.
INCOMPLETE_SHARE = 0.9
#: How many half-cycles the reference overpotential is the median of.
REFERENCE_HALF_CYCLES = 2

DEFINITIONS: dict[str, str] = {
    "direction": "strip = positive current (oxidation at the working electrode), plate = negative",
    "overpotential_v": "median |V| over the half-cycle's current-on points (Li|Li OCV taken as 0 V; rest_v not subtracted)",
    "overpotential_mean_v": "mean |V| over the current-on points",
    "overpotential_end_v": "median |V| over the current-on points in the last 5 % of the half-cycle's duration",
    "overpotential_peak_v": "max |V| over the current-on points",
    "rest_v": "V at the rest point just before the half-cycle's first current-on point (null without a rest)",
    "r_dc_ohm": "overpotential_v / |current_a| (current_a = median current over the current-on points)",
    "asr_ohm_cm2": "r_dc_ohm x area: whole-cell ASR (bulk + grain boundaries + both interfaces)",
    "asr_interface_ohm_cm2": "(asr_ohm_cm2 - thickness_cm / conductivity) / 2, per interface",
    "ir_step_ohm": "|V(first on point) - V(point before)| / |I(first on point) - I(point before)|; ir_dt_s is the interval",
    "complete": "false for a last half-cycle shorter than 0.9 x the median duration of its direction",
    "overpotential_ref_v": "median overpotential_v of the first 2 half-cycles",
    "overpotential_drift_v_per_h": "Theil-Sen slope of overpotential_v vs half-cycle mid-time (h), complete half-cycles before any hard short; 95 % interval after Sen (1968)",
    "overpotential_drift_pct_per_100h": "100 x drift x 100 h / overpotential_ref_v",
    "short_circuit_kind": "hard: overpotential_v < 0.2 x ref from that half-cycle to the end; soft: a drop of |V| between consecutive current-on samples > max(5 sigma_noise, 0.1 x overpotential_v), skipping the first max(60 s, 5 %) of each half-cycle",
}


def analyze_symmetric(
    seg: Segments,
    *,
    area_cm2: float | None,
    thickness_mm: float | None = None,
    conductivity_s_cm: float | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Rows (one per half-cycle), summary and warnings for a symmetric cell.

    Units: V, A, s, Ω, Ω·cm²; ``area_cm2`` may be None (then densities and ASR are null)."""
    n_half = seg.n_half
    t, v, i = seg.time_s, seg.voltage_v, seg.current_a
    idx_on = np.flatnonzero(seg.on)
    # half-cycle (from 0) of each on-point: on-points of half-cycle h start at first_on[h]
    # (no per-point label array)
    bounds = np.searchsorted(idx_on, seg.first_on)
    g = np.repeat(np.arange(n_half, dtype=np.int64), np.diff(np.append(bounds, idx_on.size)))
    # full-length temporaries are dropped as soon as they are used (at 10^7 points each is 80 MB)
    current = group_median(i[idx_on], g, n_half)
    t_on = t[idx_on]
    abs_v = v[idx_on]
    del idx_on
    np.abs(abs_v, out=abs_v)

    start_s = t[seg.first_on]
    duration_s = t[seg.step_end] - start_s
    overpotential = group_median(abs_v, g, n_half)
    finite = np.isfinite(abs_v)
    g_f, v_f = (g, abs_v) if finite.all() else (g[finite], abs_v[finite])  # usually no copies
    sums = np.bincount(g_f, weights=v_f, minlength=n_half)
    counts = np.bincount(g_f, minlength=n_half)
    del finite, g_f, v_f
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    starts = bounds if g.size else np.zeros(0, int)  # every half-cycle has an on-point: its first
    peak = np.fmax.reduceat(abs_v, starts) if g.size else np.zeros(0)
    in_end = t_on >= (t[seg.last_on] - END_SHARE * duration_s)[g]
    end = group_median(abs_v[in_end], g[in_end], n_half)
    del in_end

    prev = seg.first_on - 1
    has_prev = prev >= 0
    prev_c = np.clip(prev, 0, None)
    rest_v = np.where(has_prev & (seg.sign[prev_c] == 0), v[prev_c], np.nan)
    ir_v = np.where(has_prev, np.abs(v[seg.first_on] - v[prev_c]), np.nan)
    d_i = np.abs(i[seg.first_on] - i[prev_c])
    with np.errstate(invalid="ignore", divide="ignore"):
        ir_ohm = np.where(has_prev & (d_i > 0), ir_v / d_i, np.nan)
        r_dc = overpotential / np.abs(current)
        ir_dt = np.where(has_prev, t[seg.first_on] - t[prev_c], np.nan)  # inf - inf in a damaged time column

    area = area_cm2 if area_cm2 else None
    asr = r_dc * area if area else np.full(n_half, np.nan)
    density = current / area if area else np.full(n_half, np.nan)
    bulk = None
    if thickness_mm is not None and conductivity_s_cm is not None:
        bulk = (thickness_mm / 10.0) / conductivity_s_cm
    interface = (asr - bulk) / 2.0 if bulk is not None else np.full(n_half, np.nan)

    complete = np.ones(n_half, dtype=bool)
    if n_half >= 2:
        same = seg.hc_sign[:-1] == seg.hc_sign[-1]
        if same.any():
            typical = float(np.median(duration_s[:-1][same]))
            complete[-1] = duration_s[-1] >= INCOMPLETE_SHARE * typical

    # soft shorts: sudden drops of |V| between consecutive on-current samples of one half-cycle
    soft_events = np.zeros(n_half, dtype=np.int64)
    if g.size >= 2:
        use = g[1:] == g[:-1]  # same half-cycle
        skip = np.maximum(SOFT_SKIP_S, SOFT_SKIP_SHARE * duration_s)
        use &= t_on[:-1] >= (start_s + skip)[g[:-1]]  # after the skip
        del t_on
        d = abs_v[1:] - abs_v[:-1]
        use &= np.isfinite(d)
        d_u, g_u = d[use], g[:-1][use]
        del d, use
        centre = group_median(d_u, g_u, n_half)
        spread = centre[g_u]
        np.subtract(d_u, spread, out=spread)
        np.abs(spread, out=spread)
        sigma = 1.4826 * group_median(spread, g_u, n_half)
        del spread
        threshold = np.fmax(SOFT_NOISE_SIGMAS * sigma, SOFT_PLATEAU_FRACTION * overpotential)
        event = d_u < -threshold[g_u]
        soft_events = np.bincount(g_u[event], minlength=n_half)[:n_half]
        del d_u, g_u, event
    del g, abs_v  # the per-point work is done

    ref = float(np.nanmedian(overpotential[:REFERENCE_HALF_CYCLES])) if n_half and np.isfinite(overpotential[:REFERENCE_HALF_CYCLES]).any() else math.nan
    hard_at = None
    if n_half > REFERENCE_HALF_CYCLES and math.isfinite(ref) and ref > 0:
        below = overpotential < HARD_SHORT_FRACTION * ref
        stays = np.logical_and.accumulate(below[::-1])[::-1]
        hits = np.flatnonzero(below & stays)
        hits = hits[hits >= REFERENCE_HALF_CYCLES]
        if hits.size:
            hard_at = int(hits[0])
    soft_hcs = (np.flatnonzero(soft_events) + 1).tolist()
    if hard_at is not None:
        kind, short_hc = "hard", hard_at + 1
    elif soft_hcs:
        kind, short_hc = "soft", int(soft_hcs[0])
    else:
        kind, short_hc = None, None

    fit = complete & np.isfinite(overpotential)
    if hard_at is not None:
        fit[hard_at:] = False
    mid_h = (start_s + duration_s / 2.0) / 3600.0
    slope, lo, hi = theil_sen(mid_h[fit], overpotential[fit]) if fit.sum() >= 2 else (math.nan,) * 3

    columns = {
        "half_cycle": range(1, n_half + 1),
        "cycle": seg.hc_cycle.tolist(),
        "direction": np.where(seg.hc_sign > 0, "strip", "plate").tolist(),
        "complete": complete.tolist(),
        "start_s": json_floats(start_s),
        "duration_s": json_floats(duration_s),
        "current_a": json_floats(current),
        "current_density_a_cm2": json_floats(density),
        "rest_v": json_floats(rest_v),
        "overpotential_v": json_floats(overpotential),
        "overpotential_mean_v": json_floats(mean),
        "overpotential_end_v": json_floats(end),
        "overpotential_peak_v": json_floats(peak),
        "r_dc_ohm": json_floats(r_dc),
        "asr_ohm_cm2": json_floats(asr),
        "asr_bulk_ohm_cm2": [_f(bulk)] * n_half,
        "asr_interface_ohm_cm2": json_floats(interface),
        "ir_step_v": json_floats(ir_v),
        "ir_step_ohm": json_floats(ir_ohm),
        "ir_dt_s": json_floats(ir_dt),
        "soft_short_events": soft_events.astype(np.int64).tolist(),
    }
    # output dicts, one per half-cycle, from whole columns (no row-level maths, no per-cell calls)
    rows: list[dict[str, Any]] = [dict(zip(columns, values)) for values in zip(*columns.values())]

    dt = np.diff(t)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    sampling = float(np.median(dt)) if dt.size else math.nan
    final = overpotential[complete & np.isfinite(overpotential)]
    pct = 100.0 * slope * 100.0 / ref if math.isfinite(ref) and ref > 0 else math.nan
    summary = {
        "half_cycles": n_half,
        "cycles": int(seg.hc_cycle.max()) if n_half else 0,
        "duration_s": _f(nan_span(t)) if t.size else None,
        "overpotential_ref_v": _f(ref),
        "overpotential_final_v": _f(final[-1]) if final.size else None,
        "overpotential_drift_v_per_h": _f(slope),
        "overpotential_drift_ci95_v_per_h": [_f(lo), _f(hi)],
        "overpotential_drift_pct_per_100h": _f(pct),
        "r_dc_ohm_median": _f(np.nanmedian(r_dc)) if np.isfinite(r_dc).any() else None,
        "asr_ohm_cm2_median": _f(np.nanmedian(asr)) if np.isfinite(asr).any() else None,
        "asr_bulk_ohm_cm2": _f(bulk),
        "asr_interface_ohm_cm2_median": _f(np.nanmedian(interface)) if np.isfinite(interface).any() else None,
        "short_circuit": kind is not None,
        "short_circuit_half_cycle": short_hc,
        "short_circuit_kind": kind,
        "soft_short_half_cycles": [int(h) for h in soft_hcs],
        "sampling_interval_s": _f(sampling),
    }
    warnings: list[str] = []
    if math.isfinite(sampling) and sampling > 60.0:
        warnings.append(
            f"median sampling interval is {sampling:.0f} s (> 60 s): short-circuit events between samples can be missed"
        )
    if not complete.all():
        warnings.append(f"half-cycle {n_half} is incomplete (shorter than 0.9 x the typical duration): left out of the drift fit")
    return rows, summary, warnings
