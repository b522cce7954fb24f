"""Closed-form synthetic cycling runs for the analysis tests (the right answers are known).

Each run is a list of segments (rest or constant current) sampled every ``dt_s``; a segment of
duration ``T`` starting at ``t0`` has points at ``t0, t0 + dt, ...`` below ``t0 + T``.
"""

from __future__ import annotations

import numpy as np

from cycler_cli.cycles import label_cycles, label_half_cycles
from cycler_cli.model import CyclingData, RunMeta, build_frame


def make_data(time_s, voltage_v, current_a, *, charge_ah=None, control_mode=None, area_cm2=None, mass_mg=None, source="synthetic"):
    half = label_half_cycles(np.asarray(current_a, dtype=float))
    cols = {
        "time_s": time_s,
        "voltage_v": voltage_v,
        "current_a": current_a,
        "cycle": label_cycles(half),
        "half_cycle": half,
        "step": np.zeros(len(time_s)),
    }
    if charge_ah is not None:
        cols["charge_ah"] = charge_ah
    if control_mode is not None:
        cols["control_mode"] = control_mode
    meta = RunMeta(source=source, reader="synthetic", electrode_area_cm2=area_cm2, active_mass_mg=mass_mg,
                   cycle_source="derived from current sign")
    return CyclingData(build_frame(cols), meta)


def cumulative_charge_ah(time_s, current_a):
    """Running integral of I dt, Ah, as a cycler's (Q-Qo) column holds it: current flows between
    consecutive points of a step (trapezoid) and not across a step change, which cyclers record
    as the step's last point and the next step's first point."""
    inc = 0.5 * (current_a[1:] + current_a[:-1]) * np.diff(time_s) / 3600.0
    inc[np.sign(current_a[1:]) != np.sign(current_a[:-1])] = 0.0
    return np.concatenate(([0.0], np.cumsum(inc)))


def symmetric_run(
    *,
    n_half=24,
    current_a=25.44e-6,
    eta0_v=0.4,
    drift_v_per_h=0.0,
    t_half_s=7200.0,
    t_rest_s=600.0,
    dt_s=10.0,
    first_sign=1,
    short_at=None,
    soft_at=None,
    soft_drop=0.3,
    rest_v=0.0,
    area_cm2=None,
):
    """A Li|Li run: rest, then half-cycles of ±current_a each followed by a rest.

    Under current ``V = sign·(eta0 + drift·t_h)`` (t_h = hours since start); from half-cycle
    ``short_at`` on ``V = sign·0.02·eta0`` (hard short); in half-cycle ``soft_at`` |V| drops by
    ``soft_drop`` (a fraction) 60 % of the way through and stays there (soft short)."""
    t_parts, v_parts, i_parts = [], [], []
    t0 = 0.0

    def rest():
        nonlocal t0
        t = t0 + np.arange(0.0, t_rest_s, dt_s)
        t_parts.append(t)
        v_parts.append(np.full(t.size, rest_v))
        i_parts.append(np.zeros(t.size))
        t0 += t_rest_s

    rest()
    for k in range(1, n_half + 1):
        sign = first_sign if k % 2 else -first_sign
        t = t0 + np.arange(0.0, t_half_s, dt_s)
        mag = eta0_v + drift_v_per_h * t / 3600.0
        if short_at is not None and k >= short_at:
            mag = np.full(t.size, 0.02 * eta0_v)
        if soft_at is not None and k == soft_at:
            mag = np.where(t >= t0 + 0.6 * t_half_s, mag * (1 - soft_drop), mag)
        t_parts.append(t)
        v_parts.append(sign * mag)
        i_parts.append(np.full(t.size, sign * current_a))
        t0 += t_half_s
        rest()
    t, v, i = (np.concatenate(p) for p in (t_parts, v_parts, i_parts))
    return make_data(t, v, i, charge_ah=cumulative_charge_ah(t, i), area_cm2=area_cm2)


def full_run(
    *,
    n_cycles=10,
    charge_first=True,
    q0_mah=1.0,
    ce=0.98,
    fade_per_cycle=0.01,
    current_a=1e-3,
    r_ohm=20.0,
    dt_s=1.0,
    t_rest_s=300.0,
    v_charge0=3.4,
    v_discharge0=3.6,
    swing_v=0.5,
    extra_half=False,
    mass_mg=None,
    area_cm2=None,
):
    """A full cell cycled at ±current_a between rests.

    Discharge capacity of cycle n: ``q0·(1 − fade·(n−1))`` mAh. CE (second / first half) is
    ``ce``: charge-first → Q_ch = Q_dis / ce; discharge-first → Q_ch = ce·Q_dis.
    Charge: ``V = v_charge0 + swing·τ + I·R`` (τ from 0 to 1 across the half-cycle);
    discharge: ``V = v_discharge0 − swing·τ − I·R``. Rests relax linearly from the last
    value less the IR step to the next onset's value less its IR step, so every current step
    is ``I·R``. ``extra_half`` appends the first half of one more cycle (incomplete).

    Returns (data, expected) where expected holds per-cycle arrays."""
    q_dis = q0_mah * (1 - fade_per_cycle * np.arange(n_cycles))
    q_ch = q_dis / ce if charge_first else q_dis * ce
    halves = []  # (sign, capacity_mah)
    for n in range(n_cycles):
        pair = [(1, q_ch[n]), (-1, q_dis[n])]
        halves += pair if charge_first else pair[::-1]
    if extra_half:
        halves.append(halves[0] if charge_first else halves[0])
    ir = current_a * r_ohm

    def on_v(sign, tau):
        return v_charge0 + swing_v * tau + ir if sign > 0 else v_discharge0 - swing_v * tau - ir

    t_parts, v_parts, i_parts = [], [], []
    t0 = 0.0
    prev_end_v = on_v(halves[0][0], 0.0) - halves[0][0] * ir  # first rest sits at the first onset's value less IR
    for sign, q in halves:
        start_v = on_v(sign, 0.0) - sign * ir
        tr = t0 + np.arange(0.0, t_rest_s, dt_s)
        t_parts.append(tr)
        v_parts.append(np.linspace(prev_end_v, start_v, tr.size))
        i_parts.append(np.zeros(tr.size))
        t0 += t_rest_s
        duration = q * 3.6 / current_a
        t = t0 + np.arange(0.0, duration, dt_s)
        tau = (t - t0) / duration
        t_parts.append(t)
        v_parts.append(on_v(sign, tau))
        i_parts.append(np.full(t.size, sign * current_a))
        prev_end_v = on_v(sign, tau[-1]) - sign * ir
        t0 += duration
    tr = t0 + np.arange(0.0, t_rest_s, dt_s)
    t_parts.append(tr)
    v_parts.append(np.full(tr.size, prev_end_v))
    i_parts.append(np.zeros(tr.size))
    t, v, i = (np.concatenate(p) for p in (t_parts, v_parts, i_parts))
    mean_ch = v_charge0 + swing_v / 2 + ir
    mean_dis = v_discharge0 - swing_v / 2 - ir
    expected = {
        "q_ch": q_ch,
        "q_dis": q_dis,
        "e_ch": q_ch * mean_ch,
        "e_dis": q_dis * mean_dis,
        "mean_ch": mean_ch,
        "mean_dis": mean_dis,
        "r_ohm": r_ohm,
    }
    data = make_data(t, v, i, charge_ah=cumulative_charge_ah(t, i), mass_mg=mass_mg, area_cm2=area_cm2)
    return data, expected
