"""analyze(): the report contract, option checks and the no-data error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_synth import full_run, make_data, symmetric_run

from cycler_cli.analysis import CycleReport, analyze
from cycler_cli.errors import ConfigError, NoDataError

KEYS = {"schema_version", "source", "cell_type", "cell_type_reason", "mass_mg", "area_cm2", "cycles", "summary", "warnings", "definitions", "input"}
SYMMETRIC_ROW = {
    "half_cycle", "cycle", "direction", "start_s", "duration_s", "current_a", "current_density_a_cm2",
    "overpotential_v", "overpotential_mean_v", "overpotential_end_v", "overpotential_peak_v", "r_dc_ohm",
    "asr_ohm_cm2", "ir_step_v", "ir_step_ohm", "ir_dt_s", "asr_bulk_ohm_cm2", "asr_interface_ohm_cm2",
}
SYMMETRIC_SUMMARY = {
    "half_cycles", "cycles", "duration_s", "overpotential_ref_v", "overpotential_final_v",
    "overpotential_drift_v_per_h", "overpotential_drift_ci95_v_per_h", "overpotential_drift_pct_per_100h",
    "r_dc_ohm_median", "asr_ohm_cm2_median", "short_circuit", "short_circuit_half_cycle", "short_circuit_kind",
    "sampling_interval_s",
}
FULL_ROW = {
    "cycle", "first_half", "charge_mah", "discharge_mah", "charge_mah_g", "discharge_mah_g", "charge_mah_cm2",
    "discharge_mah_cm2", "coulombic_efficiency", "energy_efficiency", "charge_mwh", "discharge_mwh",
    "mean_charge_v", "mean_discharge_v", "retention", "r_dc_ohm", "complete",
}
FULL_SUMMARY = {
    "cycles", "duration_s", "reference_cycle", "reference_discharge_mah", "reference_discharge_mah_g",
    "capacity_fade_pct_per_cycle", "retention_final", "cycles_to_80pct", "coulombic_efficiency_median",
}


def test_symmetric_report_contract_and_strict_json():
    report = analyze(symmetric_run(n_half=4), area_cm2=0.636)
    d = report.to_dict()
    assert set(d) == KEYS
    assert d["schema_version"] == 1 and d["cell_type"] == "symmetric"
    assert SYMMETRIC_ROW <= set(d["cycles"][0])
    assert SYMMETRIC_SUMMARY <= set(d["summary"])
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert "overpotential_v" in d["definitions"]


def test_full_report_contract_and_csv():
    data, _ = full_run(n_cycles=3)
    report = analyze(data)
    d = report.to_dict()
    assert set(d) == KEYS
    assert FULL_ROW <= set(d["cycles"][0])
    assert FULL_SUMMARY <= set(d["summary"])
    json.dumps(d, allow_nan=False)
    lines = report.to_csv().splitlines()
    assert lines[0].split(",") == report.columns
    assert len(lines) == 1 + 3
    frame = report.to_frame()
    assert frame["discharge_mah"].to_numpy() == pytest.approx([r["discharge_mah"] for r in report.cycles])


def test_no_current_is_no_data():
    t = np.arange(50.0)
    data = make_data(t, np.full(50, 3.0), np.zeros(50), source="ocv.mpr")
    with pytest.raises(NoDataError) as info:
        analyze(data)
    assert info.value.path == "ocv.mpr" and info.value.hint


def test_empty_frame_is_no_data():
    data = make_data(np.zeros(0), np.zeros(0), np.zeros(0))
    with pytest.raises(NoDataError):
        analyze(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cell": "half"},
        {"mass_mg": 0.0},
        {"area_cm2": -1.0},
        {"mass_mg": float("nan")},
        {"thickness_mm": 1.0},
        {"conductivity_s_cm": 1e-4},
        {"reference_cycle": 0},
    ],
)
def test_bad_options_are_config_errors(kwargs):
    with pytest.raises(ConfigError) as info:
        analyze(symmetric_run(n_half=2), **kwargs)
    assert info.value.hint


def test_report_is_frozen():
    report = analyze(symmetric_run(n_half=2))
    assert isinstance(report, CycleReport)
    with pytest.raises(AttributeError):
        report.cell_type = "full"  # type: ignore[misc]


def test_reader_warnings_and_spurious_segments_are_carried():
    data = symmetric_run(n_half=4)
    i = data.column("current_a").copy()
    i[5] = 1e-5  # a one-point blip during the first rest
    blip = make_data(data.column("time_s"), data.column("voltage_v"), i)
    blip.meta.warnings.append("something the reader noticed")
    report = analyze(blip)
    assert report.summary["half_cycles"] == 4
    assert any("spurious" in w for w in report.warnings)
    assert "reader: something the reader noticed" in report.warnings


def test_report_carries_the_reads_row_accounting(tmp_path):
    from cycler_cli.io import read

    f = tmp_path / "run.csv"
    lines = ["time_s,voltage_v,current_a"] + [f"{t},{0.4 if t < 50 else -0.4},{1e-5 if t < 50 else -1e-5}" for t in range(100)]
    f.write_text("\n".join(lines[:40] + ["", "garbage"] + lines[40:]) + "\n", encoding="utf-8")
    data = read(f)
    got = analyze(data).to_dict()["input"]
    assert got["reader"] == "generic-csv"
    assert got["rows_read"] == 100 == len(data)
    assert sum(got["rows_skipped"].values()) == 2
