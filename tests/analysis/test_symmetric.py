"""Symmetric-cell metrics on closed-form Li|Li runs (analysis_synth.symmetric_run)."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_synth import make_data, symmetric_run

from cycler_cli.analysis import analyze

AREA = 0.636  # cm², a 9.0 mm disc
J = 40e-6  # A/cm²
I = J * AREA  # 25.44 µA


@pytest.mark.parametrize("eta_v,asr_ohm_cm2", [(0.4, 10.0e3), (0.18, 4.5e3)])
def test_worked_example_from_the_seed(eta_v, asr_ohm_cm2):
    """0.4 V at 40 µA/cm² on 0.636 cm² -> R = 15.7 kΩ, ASR = 10.0 kΩ·cm²; 0.18 V -> 4.5 kΩ·cm²."""
    report = analyze(symmetric_run(n_half=4, current_a=I, eta0_v=eta_v), cell="symmetric", area_cm2=AREA)
    row = report.cycles[0]
    assert row["current_density_a_cm2"] == pytest.approx(J, rel=1e-9)
    assert row["asr_ohm_cm2"] == pytest.approx(asr_ohm_cm2, rel=1e-9)
    assert row["r_dc_ohm"] == pytest.approx(eta_v / (J * AREA), rel=1e-9)
    if eta_v == 0.4:
        assert round(row["r_dc_ohm"] / 1e3, 1) == 15.7
    assert report.summary["asr_ohm_cm2_median"] == pytest.approx(asr_ohm_cm2, rel=1e-9)


def test_constant_overpotential_every_metric():
    n_half, t_half, t_rest, dt = 10, 7200.0, 600.0, 10.0
    report = analyze(
        symmetric_run(n_half=n_half, current_a=I, eta0_v=0.4, t_half_s=t_half, t_rest_s=t_rest, dt_s=dt),
        area_cm2=AREA,
    )
    assert report.cell_type == "symmetric"
    assert "symmetric" in report.cell_type_reason
    rows = report.cycles
    assert len(rows) == n_half
    assert [r["direction"] for r in rows[:2]] == ["strip", "plate"]
    assert [r["cycle"] for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    for k, r in enumerate(rows):
        assert r["half_cycle"] == k + 1
        assert r["start_s"] == pytest.approx(t_rest + k * (t_half + t_rest))
        assert r["duration_s"] == pytest.approx(t_half)
        assert abs(r["current_a"]) == pytest.approx(I)
        for key in ("overpotential_v", "overpotential_mean_v", "overpotential_end_v", "overpotential_peak_v"):
            assert r[key] == pytest.approx(0.4, rel=1e-9), key
        assert r["rest_v"] == 0.0
        assert r["ir_step_v"] == pytest.approx(0.4)
        assert r["ir_step_ohm"] == pytest.approx(0.4 / I)
        assert r["ir_dt_s"] == pytest.approx(dt)
        assert r["complete"] is True
    s = report.summary
    assert s["half_cycles"] == n_half and s["cycles"] == 5
    assert s["overpotential_ref_v"] == pytest.approx(0.4)
    assert s["overpotential_drift_v_per_h"] == pytest.approx(0.0, abs=1e-12)
    assert s["short_circuit"] is False and s["short_circuit_kind"] is None
    assert s["short_circuit_half_cycle"] is None
    assert s["sampling_interval_s"] == pytest.approx(dt)
    assert s["duration_s"] == pytest.approx(t_rest + n_half * (t_half + t_rest) - dt)
    assert report.warnings == []


@pytest.mark.parametrize("drift", [2e-3, -1e-3])
def test_linear_drift_recovered(drift):
    eta0 = 0.2
    run = symmetric_run(n_half=24, current_a=I, eta0_v=eta0, drift_v_per_h=drift, dt_s=30.0)
    report = analyze(run, area_cm2=AREA)
    s = report.summary
    assert s["overpotential_drift_v_per_h"] == pytest.approx(drift, rel=0.01)
    lo, hi = s["overpotential_drift_ci95_v_per_h"]
    assert lo <= s["overpotential_drift_v_per_h"] <= hi
    # the reference is the median of the first two half-cycles: medians at their sample mid-times
    times = run.frame["time_s"].to_numpy()
    on = run.frame["current_a"].to_numpy() != 0
    hc = run.frame["half_cycle"].to_numpy()
    mids = [np.median(times[on & (hc == k)]) for k in (1, 2)]
    ref = np.mean([eta0 + drift * m / 3600 for m in mids])
    assert s["overpotential_ref_v"] == pytest.approx(ref, rel=1e-3)
    assert s["overpotential_drift_pct_per_100h"] == pytest.approx(100 * drift * 100 / ref, rel=0.01)
    last_mid = np.median(times[on & (hc == 24)])
    assert s["overpotential_final_v"] == pytest.approx(eta0 + drift * last_mid / 3600, rel=1e-3)


def test_hard_short_at_known_half_cycle():
    report = analyze(symmetric_run(n_half=20, current_a=I, short_at=13), area_cm2=AREA)
    s = report.summary
    assert s["short_circuit"] is True
    assert s["short_circuit_kind"] == "hard"
    assert s["short_circuit_half_cycle"] == 13
    assert report.cycles[12]["overpotential_v"] == pytest.approx(0.008)
    # the drift fit stops before the short: the plateau before it is flat
    assert s["overpotential_drift_v_per_h"] == pytest.approx(0.0, abs=1e-12)


def test_soft_short_at_known_half_cycle():
    report = analyze(symmetric_run(n_half=12, current_a=I, soft_at=7, soft_drop=0.3), area_cm2=AREA)
    s = report.summary
    assert s["short_circuit"] is True
    assert s["short_circuit_kind"] == "soft"
    assert s["short_circuit_half_cycle"] == 7
    assert s["soft_short_half_cycles"] == [7]
    assert report.cycles[6]["soft_short_events"] == 1
    assert report.cycles[6]["overpotential_end_v"] == pytest.approx(0.4 * 0.7)


def test_noise_alone_is_not_a_soft_short():
    run = symmetric_run(n_half=8, current_a=I)
    rng = np.random.default_rng(0)
    v = run.frame["voltage_v"].to_numpy() + rng.normal(0, 0.004, len(run))
    noisy = make_data(run.column("time_s"), v, run.column("current_a"))
    report = analyze(noisy, cell="symmetric", area_cm2=AREA)
    assert report.summary["short_circuit"] is False
    assert report.summary["overpotential_ref_v"] == pytest.approx(0.4, rel=2e-3)


def test_plate_first_run():
    report = analyze(symmetric_run(n_half=6, current_a=I, first_sign=-1), area_cm2=AREA)
    assert report.cell_type == "symmetric"
    assert [r["direction"] for r in report.cycles[:2]] == ["plate", "strip"]
    assert report.cycles[0]["current_a"] == pytest.approx(-I)
    assert report.cycles[0]["current_density_a_cm2"] == pytest.approx(-J)


def test_bulk_and_interface_asr():
    # 1 mm at 1e-4 S/cm: bulk ASR = 0.1 cm / 1e-4 S/cm = 1000 Ω·cm²; whole cell 10 kΩ·cm²
    report = analyze(symmetric_run(n_half=4, current_a=I), area_cm2=AREA, thickness_mm=1.0, conductivity_s_cm=1e-4)
    row = report.cycles[0]
    assert row["asr_bulk_ohm_cm2"] == pytest.approx(1000.0)
    assert row["asr_interface_ohm_cm2"] == pytest.approx((10_000.0 - 1000.0) / 2)
    assert report.summary["asr_interface_ohm_cm2_median"] == pytest.approx(4500.0)


def test_without_area_densities_are_null_and_a_warning_says_why():
    report = analyze(symmetric_run(n_half=4, current_a=I))
    assert report.area_cm2 is None
    assert report.cycles[0]["asr_ohm_cm2"] is None and report.cycles[0]["current_density_a_cm2"] is None
    assert report.cycles[0]["r_dc_ohm"] == pytest.approx(0.4 / I)
    assert any("--area-cm2" in w for w in report.warnings)


def test_area_from_meta_when_no_option():
    report = analyze(symmetric_run(n_half=4, current_a=I, area_cm2=AREA))
    assert report.area_cm2 == AREA
    assert report.cycles[0]["asr_ohm_cm2"] == pytest.approx(10_000.0)


def test_truncated_last_half_cycle_is_incomplete_and_left_out():
    run = symmetric_run(n_half=9, current_a=I, drift_v_per_h=1e-3)
    t = run.column("time_s")
    hc = run.column("half_cycle")
    cut = np.flatnonzero(hc == 9)[0] + 300  # stop 3000 s into a 7200 s half-cycle
    short = make_data(t[:cut], run.column("voltage_v")[:cut], run.column("current_a")[:cut])
    report = analyze(short, area_cm2=AREA)
    assert report.cycles[-1]["complete"] is False
    assert all(r["complete"] for r in report.cycles[:-1])
    assert any("incomplete" in w for w in report.warnings)
    assert report.summary["overpotential_drift_v_per_h"] == pytest.approx(1e-3, rel=0.01)


def test_long_sampling_interval_warns():
    report = analyze(symmetric_run(n_half=4, current_a=I, dt_s=120.0), area_cm2=AREA)
    assert report.summary["sampling_interval_s"] == 120.0
    assert any("sampling interval" in w for w in report.warnings)


def test_direct_reversal_without_rests():
    """No rest between half-cycles: rest_v is null and the IR step divides by 2|I|."""
    run = symmetric_run(n_half=4, current_a=I, eta0_v=0.3, t_rest_s=0.0)
    report = analyze(run, area_cm2=AREA)
    second = report.cycles[1]
    assert second["rest_v"] is None
    # from +0.3 V at +I to -0.3 V at -I: ΔV = 0.6 V over ΔI = 2I
    assert second["ir_step_v"] == pytest.approx(0.6)
    assert second["ir_step_ohm"] == pytest.approx(0.6 / (2 * I))
    assert second["overpotential_v"] == pytest.approx(0.3)


def test_file_half_cycle_mismatch_is_a_warning():
    run = symmetric_run(n_half=4, current_a=I)
    run.meta.cycle_source = "file"
    run.frame["half_cycle"] = 0  # a counter stuck at 0, as in several real files
    report = analyze(run)
    assert any("the file numbers 1 half-cycles, the current's sign gives 4" in w for w in report.warnings)


def test_nucleation_spike_and_noise_do_not_make_a_short():
    """A 50 % overshoot decaying over ~20 s at each onset, plus 2 % noise, sampled every 2 s:
    the peak shows in overpotential_peak_v, the median stays at the plateau, no short."""
    run = symmetric_run(n_half=6, current_a=I, eta0_v=0.2, dt_s=2.0, t_half_s=3600.0, t_rest_s=300.0)
    t, v, i = run.column("time_s"), run.column("voltage_v").copy(), run.column("current_a")
    hc = run.column("half_cycle")
    on = i != 0
    onset = np.zeros_like(t)
    starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
    onset[starts] = t[starts]
    onset = np.maximum.accumulate(onset)
    spike = 1 + 0.5 * np.exp(-(t - onset) / 7.0)
    rng = np.random.default_rng(1)
    v = np.where(on, v * spike * (1 + rng.normal(0, 0.02, t.size)), v)
    report = analyze(make_data(t, v, i), area_cm2=AREA)
    assert report.summary["short_circuit"] is False
    for row in report.cycles:
        assert row["overpotential_peak_v"] > 0.28
        assert row["overpotential_v"] == pytest.approx(0.2, rel=0.01)
    assert hc.max() == 6


def test_time_going_backwards_is_a_warning():
    run = symmetric_run(n_half=4, current_a=I)
    t = run.column("time_s").copy()
    t[len(t) // 2 :] -= 1000.0
    report = analyze(make_data(t, run.column("voltage_v"), run.column("current_a")))
    assert any("time goes backwards at 1 point" in w for w in report.warnings)
