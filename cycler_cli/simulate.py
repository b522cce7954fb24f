"""Deterministic, seeded cycling runs from physical voltage models (``cycler simulate``).

This module owns the two cell models, the step programme they are driven by, and the
specification of the files in ``sample_runs/``. It returns :class:`~cycler_cli.model.CyclingData`
(canonical columns, SI-like units in the names); writing files is :mod:`cycler_cli.io.writers`.

Sign convention: **positive current = charge = oxidation at the working electrode** (BioLogic
``ox/red = 1``). In a Li | SE | Li cell, positive current strips Li from the working electrode;
in a Li | SE | LiTi2(PO4)3 cell (working electrode = LTP) negative current is a discharge
(lithiation of LTP).

Sampling: every step is recorded every ``interval_s`` from its onset; a current step also records
its end point (still under current, where a cycler's limit fires) and the step after it starts
recording ``min(interval_s, duration / 2)`` in (no duplicate times). Current is the set point
(exactly constant within a step), so ``charge_ah`` is exact: ``Q(t) = Q(step start) +
I·(t − t_step)``.

Symmetric model (Li | SE | Li), per current step with onset ``t0``, ``τ = t − t0``, ``s = sign(I)``::

    j          = |I| / A                                         (A cm⁻²)
    η_bulk     = j · ASR_bulk                                    (V)
    η_ct       = 2 · (2RT/F) · asinh(j / (2 j0))                 (two Butler-Volmer interfaces, α = ½)
    η(τ)       = g(t) · [η_bulk + η_ct (1 − e^(−τ/τ_rc)) + η_nuc e^(−τ/τ_nuc) (plating onsets only)]
    V          = V_offset + s · η(τ) + noise

and at rest after a step ``V = V_offset + s_prev · g · η_ct · e^(−τ/τ_rc) + noise`` (the ohmic part
drops at once, the interfacial part relaxes). ``g(t)`` is the drift factor: ``1`` (none),
``1 + d · t/100 h`` (linear, ``d`` = fractional change per 100 h) or ``(1 + d)^(t/100 h)``
(exponential). A hard short at half-cycle *k*, fraction *f* turns the cell into a resistor
``R_short`` from then on (``V = I · R_short + noise``); a soft short is a sudden drop of the
overpotential by a fraction ``depth`` that recovers with time constant ``recovery_s``.
If ``|V|`` exceeds ``voltage_limit_v`` the run stops there (EC-Lab safety limit).

Full-cell model (Li | SE | LiTi2(PO4)3), with ``x`` the lithiation degree of LTP
(0 = LiTi2(PO4)3, 1 = Li3Ti2(PO4)3)::

    OCV(x) = E0 + (RT/F) ln((1 − x)/x) + A (e^(−x/w) − e^(−(1−x)/w))
    η_n(τ) = g_n · j · ASR · [f_ohm + (1 − f_ohm)(1 − e^(−τ/τ_rc))]     (on current)
    η_n(τ) = g_n · j · ASR · (1 − f_ohm) e^(−τ/τ_rc)                  (rest after it)
    V      = OCV(x) + s · η_n + noise

Each half-cycle's capacity is prescribed: discharge *n* passes ``Q_1 · r^(n−1)`` (``Q_1`` =
first-discharge capacity, ``r`` = retention per cycle) and the following charge passes ``CE`` times
that (charge-first runs swap the roles). Within a half-cycle ``x`` runs linearly in passed charge
from where the previous half-cycle ended to the composition where the loaded voltage meets the
cut-off (``OCV(x) − η = v_min`` on discharge, ``OCV(x) + η = v_max`` on charge); so every
half-cycle ends on its voltage limit and its capacity is exactly the prescribed one.
``g_n = 1 + asr_growth_per_cycle · (n − 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cycler_cli.cycles import label_cycles, label_half_cycles
from cycler_cli.errors import ConfigError
from cycler_cli.model import ColumnInfo, CyclingData, RunMeta, build_frame

FARADAY_C_MOL = 96485.33212
GAS_J_MOL_K = 8.314462618
MODE_CC, MODE_REST = 1, 3
LTP_THEORETICAL_MAH_G = 138.0  # LiTi2(PO4)3, 2 e-, M = 387.6 g/mol (domain.md §2.1)
DEFAULT_START = datetime(2024, 3, 4, 9, 30, 0)


def thermal_voltage_v(temperature_c: float) -> float:
    """RT/F in V at ``temperature_c`` (°C)."""
    return GAS_J_MOL_K * (temperature_c + 273.15) / FARADAY_C_MOL


def interfacial_overpotential_v(j_a_cm2: float, j0_a_cm2: float, temperature_c: float) -> float:
    """Steady-state charge-transfer overpotential of two identical Li interfaces, V (>= 0):
    ``2 · (2RT/F) · asinh(|j| / (2 j0))`` (symmetric Butler-Volmer, α = ½, at each interface)."""
    return 2.0 * 2.0 * thermal_voltage_v(temperature_c) * float(np.arcsinh(abs(j_a_cm2) / (2.0 * j0_a_cm2)))


def exchange_current_for(eta_ct_v: float, j_a_cm2: float, temperature_c: float) -> float:
    """The exchange current density j0 (A cm⁻²) that gives the two-interface charge-transfer
    overpotential ``eta_ct_v`` (V) at current density ``j_a_cm2``: inverse of
    :func:`interfacial_overpotential_v`."""
    if eta_ct_v <= 0:
        raise ConfigError("the interfacial overpotential must be > 0 V", hint="pass a positive value")
    x = np.sinh(eta_ct_v / (4.0 * thermal_voltage_v(temperature_c)))
    return abs(j_a_cm2) / (2.0 * float(x))


# --------------------------------------------------------------------------------------------
# the step programme


@dataclass(frozen=True)
class _Steps:
    """A programme of steps: per-step duration (s), current (A) and Ns index."""

    duration_s: np.ndarray
    current_a: np.ndarray
    ns: np.ndarray


def _sample(steps: _Steps, interval_s: float) -> dict[str, np.ndarray]:
    """Time grid over the steps (vectorised): per point ``time_s``, ``step_index`` (which step),
    ``tau_s`` (time since the step's onset), ``current_a`` and exact cumulative ``charge_ah``.

    A step is recorded every ``interval_s`` from its onset; a current step also records its end
    point (``τ = duration``, still under current, the point where a cycler's limit fires), and the
    step after a current step therefore starts at ``τ = min(interval_s, duration / 2)`` (no
    duplicate time)."""
    if interval_s <= 0:
        raise ConfigError(f"interval must be > 0 s, got {interval_s}", hint="pass --interval 60")
    dur = steps.duration_s
    on = steps.current_a != 0
    after_on = np.concatenate([[False], on[:-1]])
    # the step after a current step starts recording one interval in (half the step if shorter)
    offset_s = np.where(after_on, np.minimum(float(interval_s), dur / 2.0), 0.0)
    n_regular = np.maximum(np.ceil((dur - offset_s) / interval_s - 1e-9).astype(np.int64), 0)
    n_regular = np.where(dur > 0, np.maximum(n_regular, 1), 0)
    counts = n_regular + on
    starts_s = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
    step_index = np.repeat(np.arange(counts.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    j = np.arange(step_index.size) - np.repeat(first, counts)
    is_end = on[step_index] & (j == n_regular[step_index])
    tau_s = np.where(is_end, dur[step_index], offset_s[step_index] + j * float(interval_s))
    time_s = starts_s[step_index] + tau_s
    q_start_as = np.concatenate([[0.0], np.cumsum(steps.current_a * dur)[:-1]])
    current_a = steps.current_a[step_index]
    charge_ah = (q_start_as[step_index] + current_a * tau_s) / 3600.0
    return {
        "time_s": time_s,
        "step_index": step_index,
        "tau_s": tau_s,
        "current_a": current_a,
        "charge_ah": charge_ah,
    }


def _previous_sign(steps: _Steps) -> np.ndarray:
    """Per step, the sign of the last current step at or before it (0 before any current)."""
    sign = np.sign(steps.current_a)
    idx = np.where(sign != 0, np.arange(sign.size), -1)
    np.maximum.accumulate(idx, out=idx)
    return np.where(idx >= 0, sign[np.clip(idx, 0, None)], 0.0)


def _check_common(seed: int, noise_v: float, temperature_c: float, interval_s: float) -> None:
    if seed < 0:
        raise ConfigError(f"the seed must be >= 0, got {seed}", hint="pass --seed 0 or any positive integer")
    if not noise_v >= 0:
        raise ConfigError(f"the noise must be >= 0 V, got {noise_v}", hint="pass --noise-mv 0 or more")
    if not temperature_c > -273.15:
        raise ConfigError(f"temperature {temperature_c} °C is below absolute zero", hint="pass --temperature in °C")
    if not interval_s > 0:
        raise ConfigError(f"interval must be > 0 s, got {interval_s}", hint="pass --interval 60")


def _drift_factor(time_s: np.ndarray, drift: str, drift_per_100h: float) -> np.ndarray:
    hours = time_s / 3600.0
    if drift == "none" or drift_per_100h == 0:
        return np.ones_like(time_s)
    if drift == "linear":
        return 1.0 + drift_per_100h * hours / 100.0
    if drift == "exponential":
        if drift_per_100h <= -1:
            raise ConfigError("exponential drift must be > -100 % per 100 h", hint="pass a larger --drift-pct")
        return (1.0 + drift_per_100h) ** (hours / 100.0)
    raise ConfigError(f"unknown drift {drift!r}", hint="use none, linear or exponential")


def _meta(kind: str, params: dict[str, Any], *, start_time: datetime, area_cm2: float,
          mass_mg: float | None, temperature_c: float) -> RunMeta:
    meta = RunMeta(
        source=f"simulated:{kind}",
        reader="simulate",
        format_version=None,
        technique="Galvanostatic Cycling with Potential Limitation",
        start_time=start_time,
        active_mass_mg=mass_mg,
        characteristic_mass_mg=mass_mg,
        electrode_area_cm2=area_cm2,
        cycle_source="derived from current sign",
    )
    meta.extra["simulation"] = {"kind": kind, **params}
    meta.extra["temperature_c"] = temperature_c
    return meta


def _finish(sampled: dict[str, np.ndarray], voltage_v: np.ndarray, steps: _Steps, meta: RunMeta) -> CyclingData:
    current_a = sampled["current_a"]
    half = label_half_cycles(current_a)
    mode = np.where(current_a != 0, MODE_CC, MODE_REST)
    frame = build_frame({
        "time_s": sampled["time_s"],
        "voltage_v": voltage_v,
        "current_a": current_a,
        "cycle": label_cycles(half),
        "half_cycle": half,
        "step": steps.ns[sampled["step_index"]],
        "charge_ah": sampled["charge_ah"],
        "control_mode": mode,
    })
    meta.columns = [ColumnInfo(c, "simulated", u) for c, u in (
        ("time_s", "s"), ("voltage_v", "V"), ("current_a", "A"), ("cycle", ""), ("half_cycle", ""),
        ("step", ""), ("charge_ah", "Ah"), ("control_mode", ""))]
    return CyclingData(frame, meta)


# --------------------------------------------------------------------------------------------
# symmetric cells


@dataclass(frozen=True)
class SoftShort:
    """A soft short: in current half-cycle ``half_cycle`` (1 = the first current step), at
    fraction ``at_fraction`` of its duration, the overpotential drops by ``depth`` (fraction of
    itself) and recovers with time constant ``recovery_s``."""

    half_cycle: int
    at_fraction: float = 0.5
    depth: float = 0.5
    recovery_s: float = 1800.0


def simulate_symmetric(
    *,
    current_density_a_cm2: float = 40e-6,
    area_cm2: float = 0.636,
    temperature_c: float = 80.0,
    duration_s: float = 100 * 3600.0,
    step_s: float = 7200.0,
    rest_s: float = 600.0,
    initial_rest_s: float = 600.0,
    interval_s: float = 60.0,
    asr_bulk_ohm_cm2: float = 1000.0,
    j0_a_cm2: float = 2.07e-6,
    tau_rc_s: float = 30.0,
    nucleation_v: float = 0.02,
    tau_nucleation_s: float = 20.0,
    offset_v: float = 0.0,
    drift: str = "none",
    drift_per_100h: float = 0.0,
    noise_v: float = 3e-4,
    hard_short_half_cycle: int | None = None,
    hard_short_fraction: float = 0.5,
    short_resistance_ohm: float = 20.0,
    soft_shorts: tuple[SoftShort, ...] = (),
    voltage_limit_v: float = 5.0,
    first_direction: int = 1,
    seed: int = 0,
    start_time: datetime = DEFAULT_START,
) -> CyclingData:
    """A Li | SE | Li galvanostatic plating/stripping run (model in the module docstring).

    Units: A cm⁻² for current densities, cm² for area, s for times, Ω cm² for ASR, V for
    voltages; ``drift_per_100h`` is a fraction (0.05 = +5 % per 100 h). Programme:
    ``initial_rest_s`` open circuit, then ``step_s`` at ``+I`` (``first_direction = 1``),
    ``rest_s``, ``step_s`` at ``−I``, ``rest_s``, repeated until ``duration_s``.
    Half-cycle numbers for shorts count current steps from 1."""
    _check_common(seed, noise_v, temperature_c, interval_s)
    if current_density_a_cm2 <= 0 or area_cm2 <= 0:
        raise ConfigError("current density and area must be > 0", hint="pass --current-density and --area")
    if step_s <= 0 or duration_s <= 0 or rest_s < 0 or initial_rest_s < 0:
        raise ConfigError("durations must be positive", hint="check --hours, --step-h and --rest-min")
    current_a = current_density_a_cm2 * area_cm2
    sign0 = 1.0 if first_direction >= 0 else -1.0
    period = 2 * (step_s + rest_s)
    n_cycles = int(np.ceil(max(duration_s - initial_rest_s, 0.0) / period)) + 1
    block_d = np.tile([step_s, rest_s, step_s, rest_s], n_cycles)
    block_i = np.tile([sign0 * current_a, 0.0, -sign0 * current_a, 0.0], n_cycles)
    block_ns = np.tile([1, 1, 2, 2], n_cycles)
    keep = block_d > 0
    durations = np.concatenate([[initial_rest_s], block_d[keep]]) if initial_rest_s > 0 else block_d[keep]
    currents = np.concatenate([[0.0], block_i[keep]]) if initial_rest_s > 0 else block_i[keep]
    ns = np.concatenate([[0], block_ns[keep]]) if initial_rest_s > 0 else block_ns[keep]
    # cut the programme at duration_s
    ends = np.cumsum(durations)
    last = int(np.searchsorted(ends, duration_s - 1e-9))
    durations = durations[: last + 1].copy()
    durations[-1] -= max(ends[last] - duration_s, 0.0)
    steps = _Steps(durations, currents[: last + 1], ns[: last + 1].astype(np.int64))

    s = _sample(steps, interval_s)
    t, tau, idx = s["time_s"], s["tau_s"], s["step_index"]
    sign_step = np.sign(steps.current_a)
    sign_pt = sign_step[idx]
    prev_sign = _previous_sign(steps)
    # the sign a rest relaxes from is the sign of the step before it
    relax_sign = np.concatenate([[0.0], prev_sign[:-1]])[idx]
    on = sign_pt != 0
    g = _drift_factor(t, drift, drift_per_100h)
    eta_bulk = current_density_a_cm2 * asr_bulk_ohm_cm2
    eta_ct = interfacial_overpotential_v(current_density_a_cm2, j0_a_cm2, temperature_c)
    # nucleation spike at plating onsets at the working electrode (negative current)
    nuc = np.where(sign_pt < 0, nucleation_v * np.exp(-tau / tau_nucleation_s), 0.0)
    eta_on = eta_bulk + eta_ct * (1.0 - np.exp(-tau / tau_rc_s)) + nuc
    eta_rest = eta_ct * np.exp(-tau / tau_rc_s)
    eta = g * np.where(on, eta_on, eta_rest)
    direction = np.where(on, sign_pt, relax_sign)

    # current half-cycle number of each point (1 = first current step), rests belong to the step before
    step_half = np.cumsum(sign_step != 0)
    half_pt = step_half[idx]
    step_dur = steps.duration_s[idx]
    frac = tau / step_dur
    for event in soft_shorts:
        hit = on & (half_pt == event.half_cycle) & (frac >= event.at_fraction)
        if hit.any():
            t_event = t[np.argmax(hit)]
            dip = event.depth * np.exp(-(t - t_event) / event.recovery_s)
            eta = np.where(hit, eta * (1.0 - dip), eta)

    rng = np.random.default_rng(seed)
    voltage = offset_v + direction * eta + rng.normal(0.0, noise_v, t.size)
    if hard_short_half_cycle is not None:
        after = (half_pt > hard_short_half_cycle) | ((half_pt == hard_short_half_cycle) & ((frac >= hard_short_fraction) | ~on))
        if not (half_pt == hard_short_half_cycle).any():
            raise ConfigError(
                f"the run has no half-cycle {hard_short_half_cycle} to short",
                hint="pick a smaller --short-at or a longer --hours",
            )
        shorted = s["current_a"] * short_resistance_ohm + rng.normal(0.0, noise_v, t.size) * 0.1
        voltage = np.where(after, shorted, voltage)

    over = np.abs(voltage) > voltage_limit_v
    if over.any():
        stop = int(np.argmax(over))
        s = {k: v[:stop] for k, v in s.items()}
        voltage = voltage[:stop]

    params = {
        "current_density_a_cm2": current_density_a_cm2, "area_cm2": area_cm2, "temperature_c": temperature_c,
        "duration_s": duration_s, "step_s": step_s, "rest_s": rest_s, "initial_rest_s": initial_rest_s,
        "interval_s": interval_s, "asr_bulk_ohm_cm2": asr_bulk_ohm_cm2, "j0_a_cm2": j0_a_cm2,
        "tau_rc_s": tau_rc_s, "nucleation_v": nucleation_v, "offset_v": offset_v, "drift": drift,
        "drift_per_100h": drift_per_100h, "noise_v": noise_v, "hard_short_half_cycle": hard_short_half_cycle,
        "hard_short_fraction": hard_short_fraction, "short_resistance_ohm": short_resistance_ohm,
        "soft_shorts": [vars(e) for e in soft_shorts], "voltage_limit_v": voltage_limit_v, "seed": seed,
        "eta_bulk_v": eta_bulk, "eta_ct_v": eta_ct, "stopped_on_voltage_limit": bool(over.any()),
    }
    meta = _meta("symmetric", params, start_time=start_time, area_cm2=area_cm2, mass_mg=None,
                 temperature_c=temperature_c)
    return _finish(s, voltage, steps, meta)


def steady_overpotential_v(current_density_a_cm2: float, asr_bulk_ohm_cm2: float, j0_a_cm2: float,
                           temperature_c: float) -> float:
    """Steady-state |η| of the symmetric model without drift: ``j · ASR_bulk + η_ct`` (V)."""
    return current_density_a_cm2 * asr_bulk_ohm_cm2 + interfacial_overpotential_v(
        current_density_a_cm2, j0_a_cm2, temperature_c)


# --------------------------------------------------------------------------------------------
# full cells


def ltp_ocv_v(x: np.ndarray, temperature_c: float = 80.0, *, e0_v: float = 2.48, tail_v: float = 0.5,
              tail_width: float = 0.02) -> np.ndarray:
    """Open-circuit voltage (V vs Li/Li⁺) of Li(1+2x)Ti2(PO4)3 at lithiation degree ``x`` ∈ (0, 1):
    a plateau at ``e0_v`` (Ti⁴⁺/Ti³⁺, ≈ 2.5 V) with a Nernstian slope and exponential tails that
    rise at ``x → 0`` and fall at ``x → 1``. Decreasing in ``x``."""
    x = np.clip(np.asarray(x, dtype=np.float64), 1e-9, 1 - 1e-9)
    return (e0_v + thermal_voltage_v(temperature_c) * np.log((1.0 - x) / x)
            + tail_v * (np.exp(-x / tail_width) - np.exp(-(1.0 - x) / tail_width)))


def _x_at_ocv(ocv_v: np.ndarray, temperature_c: float) -> np.ndarray:
    """Inverse of :func:`ltp_ocv_v` (monotonic decreasing) by interpolation on a fine grid."""
    grid = np.linspace(1e-6, 1 - 1e-6, 200_001)
    v = ltp_ocv_v(grid, temperature_c)
    return np.interp(-np.asarray(ocv_v, dtype=np.float64), -v, grid)


def simulate_full(
    *,
    current_density_a_cm2: float = 10e-6,
    area_cm2: float = 0.636,
    active_mass_mg: float = 2.0,
    temperature_c: float = 80.0,
    first_capacity_mah_g: float = 115.0,
    retention_per_cycle: float = 0.97,
    coulombic_efficiency: float = 0.985,
    cycles: int = 10,
    discharge_first: bool = True,
    v_min: float = 2.0,
    v_max: float = 3.0,
    asr_ohm_cm2: float = 5000.0,
    asr_growth_per_cycle: float = 0.02,
    tau_rc_s: float = 60.0,
    ohmic_fraction: float = 0.3,
    rest_s: float = 600.0,
    initial_rest_s: float = 600.0,
    interval_s: float = 600.0,
    noise_v: float = 3e-4,
    seed: int = 0,
    start_time: datetime = DEFAULT_START,
) -> CyclingData:
    """A Li | SE | LiTi2(PO4)3 galvanostatic cycling run (model in the module docstring).

    ``first_capacity_mah_g`` is the first forward half-cycle's specific capacity (mAh g⁻¹ of active
    material, ``active_mass_mg`` in mg); ``retention_per_cycle`` the ratio of consecutive forward
    capacities; ``coulombic_efficiency`` the reverse/forward ratio within a cycle (forward =
    discharge when ``discharge_first``). Voltages in V, ASR in Ω cm², times in s."""
    _check_common(seed, noise_v, temperature_c, interval_s)
    if not (0 < retention_per_cycle <= 1.5 and 0 < coulombic_efficiency <= 1.5):
        raise ConfigError("retention and coulombic efficiency must be fractions > 0", hint="e.g. --retention 0.97 --ce 0.985")
    if cycles < 1 or first_capacity_mah_g <= 0 or active_mass_mg <= 0 or area_cm2 <= 0 or current_density_a_cm2 <= 0:
        raise ConfigError("cycles, capacity, mass, area and current density must be > 0", hint="check the model options")
    if v_min >= v_max:
        raise ConfigError(f"v_min ({v_min} V) must be below v_max ({v_max} V)", hint="pass --v-min below --v-max")
    current_a = current_density_a_cm2 * area_cm2
    q1_ah = first_capacity_mah_g * active_mass_mg * 1e-3 / 1000.0  # mAh/g · g -> mAh -> Ah
    n = np.arange(cycles)
    forward_ah = q1_ah * retention_per_cycle ** n
    reverse_ah = coulombic_efficiency * forward_ah
    fwd_sign = -1.0 if discharge_first else 1.0
    half_q = np.column_stack([forward_ah, reverse_ah]).ravel()
    half_sign = np.tile([fwd_sign, -fwd_sign], cycles)
    growth = 1.0 + asr_growth_per_cycle * np.repeat(n, 2)
    eta_ss = current_density_a_cm2 * asr_ohm_cm2 * growth  # V per half-cycle
    # cut-off compositions at the loaded voltage of each half-cycle: discharge ends where
    # OCV(x) - eta = v_min, charge where OCV(x) + eta = v_max; the next half-cycle starts there
    target_ocv = np.where(half_sign < 0, v_min + eta_ss, v_max - eta_ss)
    ocv_lo, ocv_hi = (float(v) for v in ltp_ocv_v(np.array([1 - 1e-6, 1e-6]), temperature_c))
    if target_ocv.min() <= ocv_lo or target_ocv.max() >= ocv_hi:
        raise ConfigError(
            f"the voltage limits {v_min}-{v_max} V lie outside what the LTP curve reaches with this "
            f"polarisation ({ocv_lo + eta_ss.max():.2f}-{ocv_hi - eta_ss.max():.2f} V)",
            hint="narrow --v-min/--v-max or lower --asr",
        )
    x_end_half = _x_at_ocv(target_ocv, temperature_c)
    x_pristine = float(_x_at_ocv(np.array([v_max - eta_ss[0]]), temperature_c)[0])
    if fwd_sign > 0:  # charge first: the cell is assembled lithiated
        x_pristine = float(_x_at_ocv(np.array([v_min + eta_ss[0]]), temperature_c)[0])
    x_start_half = np.concatenate([[x_pristine], x_end_half[:-1]])
    if np.any((x_end_half - x_start_half) * -half_sign <= 0):
        raise ConfigError("the polarisation is too large for the voltage window",
                          hint="lower --asr or widen --v-min/--v-max")
    dur_half = half_q * 3600.0 / current_a

    # programme: initial rest, then (current, rest) per half-cycle
    durations = np.concatenate([[initial_rest_s], np.column_stack([dur_half, np.full(dur_half.size, rest_s)]).ravel()])
    currents = np.concatenate([[0.0], np.column_stack([half_sign * current_a, np.zeros(dur_half.size)]).ravel()])
    ns = np.concatenate([[0], np.tile([1, 1, 2, 2], cycles)])
    keep = durations > 0
    # per-step attributes: which half-cycle it belongs to (-1 = initial rest)
    step_half = np.concatenate([[-1], np.repeat(np.arange(half_q.size), 2)])
    durations, currents, ns, step_half = durations[keep], currents[keep], ns[keep], step_half[keep]
    steps = _Steps(durations, currents, ns.astype(np.int64))
    s = _sample(steps, interval_s)
    tau, idx = s["tau_s"], s["step_index"]
    h = step_half[idx]
    on = currents[idx] != 0
    hc = np.clip(h, 0, None)
    frac = np.clip(tau / durations[idx], 0.0, 1.0)
    x = np.where(on, x_start_half[hc] + (x_end_half[hc] - x_start_half[hc]) * frac, x_end_half[hc])
    x = np.where(h < 0, x_pristine, x)  # before the first step the pristine electrode rests
    sgn = half_sign[hc]
    # ohmic share appears and vanishes at once; the rest builds up and relaxes with tau_rc
    relax = np.exp(-tau / tau_rc_s)
    eta_on = eta_ss[hc] * (ohmic_fraction + (1.0 - ohmic_fraction) * (1.0 - relax))
    eta_off = eta_ss[hc] * (1.0 - ohmic_fraction) * relax
    eta = np.where(h < 0, 0.0, np.where(on, eta_on, eta_off))
    rng = np.random.default_rng(seed)
    voltage = ltp_ocv_v(x, temperature_c) + sgn * eta + rng.normal(0.0, noise_v, tau.size)

    params = {
        "current_density_a_cm2": current_density_a_cm2, "area_cm2": area_cm2, "active_mass_mg": active_mass_mg,
        "temperature_c": temperature_c, "first_capacity_mah_g": first_capacity_mah_g,
        "retention_per_cycle": retention_per_cycle, "coulombic_efficiency": coulombic_efficiency,
        "cycles": cycles, "discharge_first": discharge_first, "v_min": v_min, "v_max": v_max,
        "asr_ohm_cm2": asr_ohm_cm2, "asr_growth_per_cycle": asr_growth_per_cycle, "tau_rc_s": tau_rc_s,
        "ohmic_fraction": ohmic_fraction,
        "rest_s": rest_s, "initial_rest_s": initial_rest_s, "interval_s": interval_s, "noise_v": noise_v,
        "seed": seed,
        "forward_capacity_mah_g": (forward_ah * 1e6 / active_mass_mg).tolist(),
        "reverse_capacity_mah_g": (reverse_ah * 1e6 / active_mass_mg).tolist(),
    }
    meta = _meta("full", params, start_time=start_time, area_cm2=area_cm2, mass_mg=active_mass_mg,
                 temperature_c=temperature_c)
    return _finish(s, voltage, steps, meta)


# --------------------------------------------------------------------------------------------
# sample_runs/


@dataclass(frozen=True)
class SampleSpec:
    """One file of ``sample_runs/``: which model, its parameters, the format, and what
    ``cycler check`` should say about it."""

    name: str
    kind: str  # "symmetric" | "full"
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    expected: str = ""
    source: str | None = None  # for a CSV/MPT export of another sample: that sample's name

    @property
    def format(self) -> str:
        return Path(self.name).suffix.lstrip(".")


_J40 = 40e-6
_BASE_SYM = dict(current_density_a_cm2=_J40, area_cm2=0.636, temperature_c=80.0, duration_s=100 * 3600.0,
                 interval_s=60.0)

SAMPLES: tuple[SampleSpec, ...] = (
    SampleSpec(
        "li-lzp-li_80C_40uA.mpr", "symmetric",
        dict(_BASE_SYM, asr_bulk_ohm_cm2=1000.0,
             j0_a_cm2=exchange_current_for(0.36, _J40, 80.0), drift="linear", drift_per_100h=0.03,
             seed=1, start_time=datetime(2024, 3, 4, 9, 30, 0)),
        "Li | LZP | Li, 80 °C, 40 µA cm⁻² on 0.636 cm² (25.44 µA), 2 h / 10 min rest / 2 h / 10 min, 100 h; "
        "flat overpotential ≈ 0.40 V, +3 % per 100 h",
        "pass",
    ),
    SampleSpec(
        "li-au-lzp-au-li_80C_40uA.mpr", "symmetric",
        dict(_BASE_SYM, asr_bulk_ohm_cm2=1000.0,
             j0_a_cm2=exchange_current_for(0.14, _J40, 80.0), drift="linear", drift_per_100h=0.67,
             offset_v=0.003, seed=2, start_time=datetime(2024, 3, 11, 10, 0, 0)),
        "Li | Au | LZP | Au | Li, 80 °C, 40 µA cm⁻², 100 h; overpotential 0.18 V rising linearly to ≈ 0.30 V "
        "(+67 % per 100 h), 3 mV rest offset",
        "fail: overpotential-drift",
    ),
    SampleSpec(
        "li-lzp-li_80C_100uA.mpr", "symmetric",
        dict(_BASE_SYM, current_density_a_cm2=100e-6, asr_bulk_ohm_cm2=1000.0,
             j0_a_cm2=exchange_current_for(0.36, _J40, 80.0), drift="exponential", drift_per_100h=1.5,
             seed=3, start_time=datetime(2024, 3, 18, 8, 15, 0)),
        "Li | LZP | Li, 80 °C, 100 µA cm⁻² (63.6 µA), 100 h; overpotential ≈ 0.58 V climbing ×2.5 "
        "(exponentially, +150 % per 100 h) to ≈ 1.45 V",
        "fail: overpotential-drift",
    ),
    SampleSpec(
        "li-li_short.mpt", "symmetric",
        dict(_BASE_SYM, duration_s=40 * 3600.0, asr_bulk_ohm_cm2=1000.0,
             j0_a_cm2=exchange_current_for(0.21, _J40, 80.0), hard_short_half_cycle=14,
             hard_short_fraction=0.4, soft_shorts=(SoftShort(10, 0.5, 0.4, 1200.0),),
             seed=4, start_time=datetime(2024, 4, 2, 14, 0, 0)),
        "Li | LZP | Li, 80 °C, 40 µA cm⁻², 40 h at 60 s; overpotential ≈ 0.25 V, a soft-short dip in "
        "half-cycle 10 and a hard short (20 Ω) 40 % into half-cycle 14 (≈ 30 h) that stays",
        "fail: short-circuit",
    ),
    SampleSpec(
        "li-lzp-ltp_50C.mpr", "full",
        dict(current_density_a_cm2=10e-6, area_cm2=0.636, active_mass_mg=2.0, temperature_c=50.0,
             first_capacity_mah_g=70.0, retention_per_cycle=0.96, coulombic_efficiency=0.993, cycles=10,
             asr_ohm_cm2=8000.0, interval_s=600.0, seed=5, start_time=datetime(2024, 5, 6, 11, 0, 0)),
        "Li | LZP | LiTi2(PO4)3, 50 °C, 10 µA cm⁻², 2.0 mg LTP, discharge first, 2.0–3.0 V; first discharge "
        "70 mAh g⁻¹, 4 % fade per cycle (retention 0.69 at cycle 10), CE 99.3 %",
        "fail: capacity-retention (and capacity-fade)",
    ),
    SampleSpec(
        "li-lzp-ltp_80C.mpr", "full",
        dict(current_density_a_cm2=10e-6, area_cm2=0.636, active_mass_mg=2.0, temperature_c=80.0,
             first_capacity_mah_g=115.0, retention_per_cycle=0.97, coulombic_efficiency=0.996, cycles=10,
             asr_ohm_cm2=5000.0, interval_s=600.0, seed=6, start_time=datetime(2024, 5, 6, 11, 30, 0)),
        "Li | LZP | LiTi2(PO4)3, 80 °C, 10 µA cm⁻², 2.0 mg LTP, discharge first, 2.0–3.0 V; first discharge "
        "115 mAh g⁻¹, 3 % fade per cycle (retention 0.76 at cycle 10), CE 99.6 %",
        "fail: capacity-retention (and capacity-fade)",
    ),
    SampleSpec(
        "li-lzp-li_80C_40uA.csv", "symmetric", {},
        "the same run as li-lzp-li_80C_40uA.mpr in the generic CSV layout (docs/simulate.md)",
        "pass",
        source="li-lzp-li_80C_40uA.mpr",
    ),
)


def simulate(kind: str, **params: Any) -> CyclingData:
    """Dispatch to :func:`simulate_symmetric` (``kind="symmetric"``) or :func:`simulate_full`."""
    if kind == "symmetric":
        return simulate_symmetric(**params)
    if kind == "full":
        return simulate_full(**params)
    raise ConfigError(f"unknown kind {kind!r}", hint="use symmetric or full")


def sample_data(spec: SampleSpec) -> CyclingData:
    """The simulated run behind a sample file."""
    if spec.source is not None:
        (base,) = (s for s in SAMPLES if s.name == spec.source)
        return sample_data(base)
    return simulate(spec.kind, **spec.params)


def write_samples(directory: Path | str) -> list[Path]:
    """Write every :data:`SAMPLES` file into ``directory`` (created if needed); same bytes every time."""
    from cycler_cli.io.writers import write

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    cache: dict[str, CyclingData] = {}
    for spec in SAMPLES:
        key = spec.source or spec.name
        if key not in cache:
            cache[key] = sample_data(spec)
        path = directory / spec.name
        write(cache[key], path, format=spec.format)
        out.append(path)
    return out
