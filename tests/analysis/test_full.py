"""Full-cell metrics on closed-form runs (analysis_synth.full_run): capacities, CE, EE, fade."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_synth import full_run, make_data

from cycler_cli.analysis import analyze
from cycler_cli.errors import ConfigError

REL = 1e-3  # 0.1 %


def _col(report, key):
    return np.array([np.nan if r[key] is None else r[key] for r in report.cycles], dtype=float)


@pytest.mark.parametrize("charge_first", [True, False], ids=["charge-first", "discharge-first"])
def test_capacities_efficiencies_and_fade(charge_first):
    n, ce, fade = 12, 0.97, 0.01
    data, exp = full_run(n_cycles=n, charge_first=charge_first, ce=ce, fade_per_cycle=fade, mass_mg=4.0, area_cm2=0.5)
    report = analyze(data)
    assert report.cell_type == "full"
    assert len(report.cycles) == n
    first = "charge" if charge_first else "discharge"
    assert all(r["first_half"] == first for r in report.cycles)
    assert _col(report, "charge_mah") == pytest.approx(exp["q_ch"], rel=REL)
    assert _col(report, "discharge_mah") == pytest.approx(exp["q_dis"], rel=REL)
    assert _col(report, "discharge_mah_g") == pytest.approx(exp["q_dis"] / 4e-3, rel=REL)
    assert _col(report, "charge_mah_cm2") == pytest.approx(exp["q_ch"] / 0.5, rel=REL)
    assert _col(report, "coulombic_efficiency") == pytest.approx(np.full(n, ce), rel=REL)
    assert _col(report, "charge_mwh") == pytest.approx(exp["e_ch"], rel=REL)
    assert _col(report, "discharge_mwh") == pytest.approx(exp["e_dis"], rel=REL)
    assert _col(report, "mean_charge_v") == pytest.approx(np.full(n, exp["mean_ch"]), rel=REL)
    assert _col(report, "mean_discharge_v") == pytest.approx(np.full(n, exp["mean_dis"]), rel=REL)
    # energy delivered / energy stored in either order (< 1: discharge below charge voltage)
    ee = exp["e_dis"] / exp["e_ch"]
    assert _col(report, "energy_efficiency") == pytest.approx(ee, rel=REL)
    assert (_col(report, "energy_efficiency") < 1).all()
    assert _col(report, "retention") == pytest.approx(1 - fade * np.arange(n), rel=REL)
    assert _col(report, "r_dc_ohm") == pytest.approx(np.full(n, exp["r_ohm"]), rel=REL)
    # each half lasts Q·3.6/I s (Q in mAh, I in A), plus the rest between the halves
    halves_s = (exp["q_ch"] + exp["q_dis"]) * 3.6 / 1e-3
    assert _col(report, "duration_s") == pytest.approx(halves_s + 300.0, rel=REL)
    assert report.cycles[0]["start_s"] == pytest.approx(300.0)
    s = report.summary
    assert s["cycles"] == n and s["complete_cycles"] == n
    assert s["reference_discharge_mah"] == pytest.approx(1.0, rel=REL)
    assert s["reference_discharge_mah_g"] == pytest.approx(250.0, rel=REL)
    assert s["capacity_fade_pct_per_cycle"] == pytest.approx(100 * fade, rel=REL)
    assert s["retention_final"] == pytest.approx(1 - fade * (n - 1), rel=REL)
    assert s["cycles_to_80pct"] is None
    assert s["coulombic_efficiency_median"] == pytest.approx(ce, rel=REL)
    assert s["capacity_check_max_rel_diff"] < 1e-9
    assert not any("charge column" in w for w in report.warnings)


def test_discharge_first_pairs_within_the_cycle():
    """The pairing matters: in a discharge-first run Q_ch(n)/Q_dis(n) = ce, but the
    charge-first pairing Q_dis(n+1)/Q_ch(n) would mix cycles. Check the row pairs within a cycle."""
    data, exp = full_run(n_cycles=5, charge_first=False, ce=0.95, fade_per_cycle=0.0)
    report = analyze(data)
    assert _col(report, "coulombic_efficiency") == pytest.approx(np.full(5, 0.95), rel=REL)
    assert report.summary["first_half"] == "discharge"


def test_cycles_to_80pct_and_reference_cycle():
    data, exp = full_run(n_cycles=30, fade_per_cycle=0.01, ce=0.99)
    report = analyze(data)
    # retention(n) = 1 - 0.01 (n - 1) < 0.8 first at n = 22
    assert report.summary["cycles_to_80pct"] == 22
    report3 = analyze(data, reference_cycle=3)
    q3 = exp["q_dis"][2]
    assert report3.summary["reference_cycle"] == 3
    assert report3.summary["reference_discharge_mah"] == pytest.approx(q3, rel=REL)
    assert report3.cycles[9]["retention"] == pytest.approx(exp["q_dis"][9] / q3, rel=REL)
    assert report3.summary["capacity_fade_pct_per_cycle"] == pytest.approx(100 * 0.01 / 0.98, rel=REL)


def test_incomplete_last_cycle_is_flagged_and_left_out_of_fits():
    data, exp = full_run(n_cycles=6, fade_per_cycle=0.02, extra_half=True)
    report = analyze(data)
    assert len(report.cycles) == 7
    last = report.cycles[-1]
    assert last["complete"] is False and last["discharge_mah"] is None and last["coulombic_efficiency"] is None
    assert report.summary["complete_cycles"] == 6
    assert report.summary["capacity_fade_pct_per_cycle"] == pytest.approx(2.0, rel=REL)
    assert report.summary["retention_final"] == pytest.approx(1 - 0.02 * 5, rel=REL)
    assert any("incomplete" in w for w in report.warnings)


def test_truncated_second_half_is_incomplete():
    data, exp = full_run(n_cycles=4, fade_per_cycle=0.0)
    i = data.column("current_a")
    cut = np.flatnonzero(i < 0)[-1] - 1000  # stop 1000 s before the end of the last discharge
    trimmed = make_data(*(data.column(c)[:cut] for c in ("time_s", "voltage_v", "current_a")))
    report = analyze(trimmed)
    assert report.cycles[-1]["complete"] is False
    assert report.summary["complete_cycles"] == 3


def test_without_mass_specific_columns_are_null_with_a_warning():
    data, _ = full_run(n_cycles=3)
    report = analyze(data)
    assert report.mass_mg is None and report.cycles[0]["charge_mah_g"] is None
    assert report.summary["reference_discharge_mah_g"] is None
    assert any("--mass-mg" in w for w in report.warnings)
    assert any("--area-cm2" in w for w in report.warnings)
    with_mass = analyze(data, mass_mg=2.0)
    assert with_mass.mass_mg == 2.0
    assert with_mass.cycles[0]["discharge_mah_g"] == pytest.approx(with_mass.cycles[0]["discharge_mah"] / 2e-3)


def test_mass_option_overrides_meta():
    data, _ = full_run(n_cycles=3, mass_mg=10.0)
    assert analyze(data).mass_mg == 10.0
    assert analyze(data, mass_mg=5.0).mass_mg == 5.0


def test_charge_column_disagreement_is_reported():
    data, _ = full_run(n_cycles=3)
    q = data.column("charge_ah") * 1.02
    skewed = make_data(*(data.column(c) for c in ("time_s", "voltage_v", "current_a")), charge_ah=q)
    report = analyze(skewed)
    assert report.summary["capacity_check_max_rel_diff"] == pytest.approx(0.02, rel=1e-6)
    assert any("charge column" in w and "2.00 %" in w for w in report.warnings)


def test_reference_cycle_beyond_the_run_is_a_config_error():
    data, _ = full_run(n_cycles=3)
    with pytest.raises(ConfigError, match="reference-cycle"):
        analyze(data, reference_cycle=9)
