"""--cell auto: symmetric vs full from the signal."""

from __future__ import annotations

import numpy as np
from analysis_synth import full_run, make_data, symmetric_run

from cycler_cli.analysis import analyze
from cycler_cli.analysis.celltype import detect_cell_type
from cycler_cli.analysis.segment import segment_run


def _seg(data):
    return segment_run(data.column("time_s"), data.column("voltage_v"), data.column("current_a"))


def test_symmetric_detected_with_reason():
    kind, reason = detect_cell_type(_seg(symmetric_run(n_half=4)))
    assert kind == "symmetric"
    assert "0.4 V" in reason and "100 %" in reason


def test_full_cell_detected():
    data, _ = full_run(n_cycles=2)
    kind, reason = detect_cell_type(_seg(data))
    assert kind == "full" and "3.5 V" in reason  # median |V| under current: 3.33 and 3.67 V plateaus


def test_anode_half_cell_against_li_is_full():
    # 0.01-1.0 V window: small voltage, but it never changes sign with the current
    data, _ = full_run(n_cycles=3, charge_first=False, v_charge0=0.1, v_discharge0=0.6, swing_v=0.5, r_ohm=5.0)
    assert detect_cell_type(_seg(data))[0] == "full"


def test_one_direction_only_is_full():
    t = np.arange(100.0)
    i = np.full(100, 1e-3)
    kind, reason = detect_cell_type(_seg(make_data(t, np.full(100, 0.1), i)))
    assert kind == "full" and "one direction" in reason


def test_forced_cell_type_is_reported_as_such():
    report = analyze(symmetric_run(n_half=4), cell="full")
    assert report.cell_type == "full" and report.cell_type_reason == "--cell full"


def test_diverging_symmetric_cell_stays_symmetric():
    # |V| climbs far past 1 V (void formation) but keeps following the current's sign
    data = symmetric_run(n_half=4)
    frame = data.frame.copy()
    frame["voltage_v"] = frame["voltage_v"] * 8.0  # 0.4 V -> 3.2 V plateaus
    from cycler_cli.model import CyclingData

    kind, reason = detect_cell_type(_seg(CyclingData(frame, data.meta)))
    assert kind == "symmetric" and "3.2 V" in reason
