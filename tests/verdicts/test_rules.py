"""Each rule on both sides of its threshold, on hand-made analysis dicts whose answer is known."""

from __future__ import annotations

import math

import pytest
from verdict_cases import full, symmetric

from cycler_cli.config import CheckConfig, load_config
from cycler_cli.verdicts import judge
from cycler_cli.verdicts.rules import RULES


def _config(tmp_path, **cli):
    return load_config(cli=cli, cwd=tmp_path)


def _verdict(report, rule_id):
    found = [v for v in report.verdicts if v.rule == rule_id]
    assert len(found) == 1, f"{rule_id} reported {len(found)} times: {report.verdicts}"
    return found[0]


def _cfg_with(tmp_path, *set_items):
    return load_config(cwd=tmp_path, set_items=set_items)


# -- overpotential-drift --------------------------------------------------------------------


@pytest.mark.parametrize("drift,status", [(19.9, "pass"), (-19.9, "pass"), (20.1, "fail"), (-35.0, "fail"), (50.0, "fail")])
def test_overpotential_drift_default_threshold_20_pct(tmp_path, drift, status):
    v = _verdict(judge(symmetric(overpotential_drift_pct_per_100h=drift), _config(tmp_path)), "overpotential-drift")
    assert v.status == status
    assert v.value == drift and v.threshold == 20.0 and v.comparison == "abs<="
    if status == "fail":
        assert f"{abs(drift):.1f} % per 100 h" in v.message
        assert ("rose" if drift > 0 else "fell") in v.message


def test_overpotential_drift_threshold_is_configurable(tmp_path):
    cfg = _cfg_with(tmp_path, "symmetric.overpotential-drift.max-pct-per-100h=60")
    assert _verdict(judge(symmetric(overpotential_drift_pct_per_100h=50.0), cfg), "overpotential-drift").status == "pass"


def test_overpotential_drift_message_names_reference_and_rate(tmp_path):
    # 0.18 V rising 50 % in 100 h is 0.09 V / 100 h = 0.9 mV/h
    a = symmetric(
        overpotential_ref_v=0.18, overpotential_drift_v_per_h=0.0009, overpotential_drift_pct_per_100h=50.0,
        overpotential_drift_ci95_v_per_h=[0.00085, 0.00095],
    )
    v = _verdict(judge(a, _config(tmp_path)), "overpotential-drift")
    assert v.status == "fail"
    assert "0.180 V" in v.message and "+0.900 mV/h, 95 % interval 0.850 to 0.950" in v.message
    assert "±20 % limit" in v.message


def test_overpotential_drift_skips_when_not_computed(tmp_path):
    v = _verdict(judge(symmetric(overpotential_drift_pct_per_100h=math.nan), _config(tmp_path)), "overpotential-drift")
    assert v.status == "skip" and v.value is None


# -- min-duration -----------------------------------------------------------------------------


@pytest.mark.parametrize("half_cycles,status", [(3, "warn"), (4, "pass"), (46, "pass")])
def test_min_duration_symmetric_four_half_cycles(tmp_path, half_cycles, status):
    report = judge(symmetric(half_cycles=half_cycles, overpotential_drift_pct_per_100h=90.0), _config(tmp_path))
    v = _verdict(report, "min-duration")
    assert v.status == status and v.value == half_cycles and v.threshold == 4
    drift = _verdict(report, "overpotential-drift")
    if status == "warn":
        # too short: the drift rule skips with the reason, never passes (nor fails)
        assert drift.status == "skip" and "too short" in drift.message and "3 half-cycles" in drift.message
        assert report.status == "warn"
    else:
        assert drift.status == "fail"


def test_min_duration_gate_applies_even_when_ignored(tmp_path):
    cfg = _config(tmp_path, ignore=["min-duration"])
    report = judge(symmetric(half_cycles=2, overpotential_drift_pct_per_100h=1.0), cfg)
    assert [v.rule for v in report.verdicts if v.rule == "min-duration"] == []
    assert _verdict(report, "overpotential-drift").status == "skip"


@pytest.mark.parametrize("n,status", [(2, "warn"), (3, "pass")])
def test_min_duration_full_three_cycles(tmp_path, n, status):
    report = judge(full(ce=[0.99] * n, retention_final=0.5, capacity_fade_pct_per_cycle=5.0), _config(tmp_path))
    assert _verdict(report, "min-duration").status == status
    expected = "skip" if status == "warn" else "fail"
    assert _verdict(report, "capacity-retention").status == expected
    assert _verdict(report, "capacity-fade").status == expected


def test_incomplete_cycles_do_not_count_towards_min_duration(tmp_path):
    a = full(ce=[0.99, 0.99, 0.99])
    a["cycles"][-1]["complete"] = False
    assert _verdict(judge(a, _config(tmp_path)), "min-duration").value == 2


# -- overpotential-max ------------------------------------------------------------------------


def test_overpotential_max_off_by_default(tmp_path):
    report = judge(symmetric(), _config(tmp_path))
    assert "overpotential-max" not in [v.rule for v in report.verdicts]


def test_overpotential_max_selected_without_threshold_skips(tmp_path):
    report = judge(symmetric(), _config(tmp_path, select=["overpotential-max"]))
    assert [(v.rule, v.status) for v in report.verdicts] == [("overpotential-max", "skip")]
    assert "max-v" in report.verdicts[0].message


@pytest.mark.parametrize("limit,status", [(0.5, "pass"), (0.45, "fail")])
def test_overpotential_max_on_either_side(tmp_path, limit, status):
    rows = [{"half_cycle": k, "overpotential_v": eta} for k, eta in enumerate([0.40, -0.41, 0.47, -0.42], start=1)]
    cfg = _cfg_with(tmp_path, f"symmetric.overpotential-max.max-v={limit}")
    v = _verdict(judge(symmetric(rows=rows, half_cycles=4), cfg), "overpotential-max")
    assert v.status == status and v.value == pytest.approx(0.47) and v.threshold == limit
    if status == "fail":
        assert "half-cycle 3" in v.message


# -- short-circuit ----------------------------------------------------------------------------


def test_short_circuit_fails_naming_the_half_cycle(tmp_path):
    a = symmetric(short_circuit=True, short_circuit_half_cycle=17, short_circuit_kind="hard")
    report = judge(a, _config(tmp_path))
    v = _verdict(report, "short-circuit")
    assert v.status == "fail" and "half-cycle 17" in v.message and "hard" in v.message
    assert report.status == "fail" and report.exit_code == 1


def test_soft_short_fails_listing_the_half_cycles(tmp_path):
    a = symmetric(short_circuit=True, short_circuit_half_cycle=12, short_circuit_kind="soft", soft_short_half_cycles=[12, 15, 20])
    v = _verdict(judge(a, _config(tmp_path)), "short-circuit")
    assert v.status == "fail" and v.value == 12
    assert v.message == "soft short circuit detected in half-cycle 12 (soft-short events in 3 half-cycles: 12, 15, 20)"


def test_short_circuit_passes_without_short(tmp_path):
    assert _verdict(judge(symmetric(), _config(tmp_path)), "short-circuit").status == "pass"


@pytest.mark.parametrize("dt_s,status", [(60.0, "pass"), (120.0, "warn")])
def test_short_circuit_warns_on_coarse_sampling(tmp_path, dt_s, status):
    v = _verdict(judge(symmetric(sampling_interval_s=dt_s), _config(tmp_path)), "short-circuit")
    assert v.status == status
    if status == "warn":
        assert "120 s apart" in v.message


def test_short_circuit_skips_when_detection_missing(tmp_path):
    a = symmetric()
    del a["summary"]["short_circuit"]
    assert _verdict(judge(a, _config(tmp_path)), "short-circuit").status == "skip"


# -- resistance-consistency -------------------------------------------------------------------


def test_resistance_consistency_skips_without_impedance_asr(tmp_path):
    v = _verdict(judge(symmetric(), _config(tmp_path)), "resistance-consistency")
    assert v.status == "skip" and "--asr-ohm-cm2" in v.message


@pytest.mark.parametrize(
    "eis,status",
    [
        (8000.0, "pass"),   # DC 10 000 vs 8 000: +25 %
        (12000.0, "pass"),  # -16.7 %
        (7000.0, "fail"),   # +42.9 %
        (750.0, "fail"),    # the paper's 750 Ω·cm²: +1233 %
    ],
)
def test_resistance_consistency_30_pct(tmp_path, eis, status):
    v = _verdict(judge(symmetric(asr_ohm_cm2_median=10000.0), _config(tmp_path, **{"asr-ohm-cm2": eis})), "resistance-consistency")
    assert v.status == status
    assert v.value == pytest.approx(100 * (10000.0 - eis) / eis)
    assert v.threshold == 30.0


def test_resistance_consistency_skips_without_area(tmp_path):
    v = _verdict(judge(symmetric(asr_ohm_cm2_median=None), _config(tmp_path, **{"asr-ohm-cm2": 750.0})), "resistance-consistency")
    assert v.status == "skip" and "--area-cm2" in v.message


# -- capacity-retention -----------------------------------------------------------------------


@pytest.mark.parametrize("retention,status", [(0.80, "pass"), (0.95, "pass"), (0.79, "fail")])
def test_capacity_retention_80_pct(tmp_path, retention, status):
    v = _verdict(judge(full(retention_final=retention, cycles_to_80pct=9), _config(tmp_path)), "capacity-retention")
    assert v.status == status and v.value == pytest.approx(100 * retention) and v.threshold == 80.0
    if status == "fail":
        assert "79.0 %" in v.message and "cycle 1" in v.message


# -- capacity-fade ----------------------------------------------------------------------------


@pytest.mark.parametrize("fade,status", [(0.5, "pass"), (-0.2, "pass"), (0.51, "fail"), (2.0, "fail")])
def test_capacity_fade_half_pct_per_cycle(tmp_path, fade, status):
    v = _verdict(judge(full(capacity_fade_pct_per_cycle=fade), _config(tmp_path)), "capacity-fade")
    assert v.status == status and v.value == fade and v.threshold == 0.5


# -- coulombic-efficiency ---------------------------------------------------------------------


def test_coulombic_efficiency_median_after_first_cycle_pass(tmp_path):
    # first cycle (0.80, formation) is excluded; median of 99.2, 99.5, 99.9 is 99.5
    v = _verdict(judge(full(ce=[0.80, 0.995, 0.992, 0.999]), _config(tmp_path)), "coulombic-efficiency")
    assert v.status == "pass" and v.value == pytest.approx(99.5)


def test_coulombic_efficiency_median_below_99_fails(tmp_path):
    # median of 98.0, 98.5, 99.9 is 98.5
    v = _verdict(judge(full(ce=[0.999, 0.98, 0.985, 0.999]), _config(tmp_path)), "coulombic-efficiency")
    assert v.status == "fail" and v.value == pytest.approx(98.5) and "98.50 %" in v.message


def test_coulombic_efficiency_even_count_and_incomplete_cycle(tmp_path):
    a = full(ce=[0.9, 0.99, 1.0, 0.5])
    a["cycles"][-1]["complete"] = False  # the incomplete last cycle does not count
    v = _verdict(judge(a, _config(tmp_path)), "coulombic-efficiency")
    assert v.value == pytest.approx(99.5)


def test_coulombic_efficiency_above_100_5_warns_pairing(tmp_path):
    v = _verdict(judge(full(ce=[1.0, 1.02, 1.01, 1.02]), _config(tmp_path)), "coulombic-efficiency")
    assert v.status == "warn" and "pairing" in v.message


# -- specific-capacity ------------------------------------------------------------------------


def test_specific_capacity_off_by_default(tmp_path):
    assert "specific-capacity" not in [v.rule for v in judge(full(), _config(tmp_path)).verdicts]


@pytest.mark.parametrize("q,status", [(115.0, "pass"), (69.9, "fail")])
def test_specific_capacity_on_either_side(tmp_path, q, status):
    cfg = _cfg_with(tmp_path, "full.specific-capacity.min-mah-g=70")
    v = _verdict(judge(full(reference_discharge_mah_g=q), cfg), "specific-capacity")
    assert v.status == status and v.value == q and v.threshold == 70.0


def test_specific_capacity_skips_without_mass(tmp_path):
    cfg = _cfg_with(tmp_path, "full.specific-capacity.min-mah-g=70")
    v = _verdict(judge(full(reference_discharge_mah_g=None), cfg), "specific-capacity")
    assert v.status == "skip" and "--mass-mg" in v.message


# -- the whole set ----------------------------------------------------------------------------


def test_rules_of_the_other_cell_type_are_not_reported(tmp_path):
    sym_ids = {v.rule for v in judge(symmetric(), _config(tmp_path)).verdicts}
    full_ids = {v.rule for v in judge(full(), _config(tmp_path)).verdicts}
    assert sym_ids == {"min-duration", "short-circuit", "overpotential-drift", "resistance-consistency"}
    assert full_ids == {"min-duration", "capacity-retention", "capacity-fade", "coulombic-efficiency"}


def test_healthy_runs_pass(tmp_path):
    assert judge(symmetric(), _config(tmp_path)).status == "pass"
    assert judge(full(), _config(tmp_path)).status == "pass"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.cell_type}:{r.id}")
def test_rules_never_raise_on_empty_or_odd_input(rule):
    thresholds = CheckConfig().rule_thresholds(rule)
    for analysis in ({}, {"summary": None, "cycles": None}, {"summary": {"half_cycles": "x"}, "cycles": [1, None]}):
        v = rule.judge(analysis, thresholds, {"asr_ohm_cm2": 100.0, "too_short": None})
        assert v.rule == rule.id and v.status == "skip", v  # nothing to judge: never pass, never fail


def test_coulombic_efficiency_excludes_the_first_cycle_even_when_incomplete(tmp_path):
    a = full(ce=[0.5, 0.99, 0.995, 0.999])
    a["cycles"][0]["complete"] = False
    v = _verdict(judge(a, _config(tmp_path)), "coulombic-efficiency")
    assert v.value == pytest.approx(99.5)  # median of 99.0, 99.5, 99.9
