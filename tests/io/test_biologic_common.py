"""Tests for BioLogic column names -> CyclingData (cycler_cli.io.biologic_common), on small
hand-made columns whose right answers are worked out by hand in each test."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.errors import MissingColumnError
from cycler_cli.io.biologic_common import derive_current_ma, to_cycling_data
from cycler_cli.model import RunMeta


def _meta() -> RunMeta:
    return RunMeta(source="test", reader="test")


def _sources(data) -> dict[str, str]:
    return {c.canonical: c.source for c in data.meta.columns}


def test_derived_current_uses_set_point_rest_and_charge_increments():
    # t = 0, 10, 20, 30, 40 s; modes CC, CC, CV, rest, CC
    cols = {
        "time/s": np.array([0.0, 10.0, 20.0, 30.0, 40.0]),
        "mode": np.array([1, 1, 2, 3, 1], dtype=np.uint8),
        "control/V/mA": np.array([2.0, 2.0, 4.1, 0.0, -2.0], dtype=np.float32),
        # 2 mA for 10 s = 2 * 10 / 3600 mAh; the CV point passed 1 mA for 10 s
        "dq/mA.h": np.array([0.0, 20.0 / 3600.0, 10.0 / 3600.0, 0.0, -20.0 / 3600.0]),
    }
    current, how = derive_current_ma(cols)
    np.testing.assert_allclose(current, [2.0, 2.0, 1.0, 0.0, -2.0], rtol=1e-12)
    assert "control/V/mA" in how and "dq/mA.h" in how


def test_set_point_far_from_measured_charge_is_not_trusted():
    # set point written in A (0.002) while the charge says 2 mA: dq / dt wins on CC points
    cols = {
        "time/s": np.array([0.0, 10.0, 20.0, 30.0]),
        "mode": np.array([1, 1, 1, 1], dtype=np.uint8),
        "control/V/mA": np.full(4, 0.002),
        "dq/mA.h": np.array([0.0, 20.0, 20.0, 20.0]) / 3600.0,
    }
    current, how = derive_current_ma(cols)
    assert np.isnan(current[0])  # no time step before the first point
    np.testing.assert_allclose(current[1:], 2.0, rtol=1e-12)
    assert "disagrees" in how


def test_rest_only_run_without_current_gets_zero_amps():
    cols = {
        "time/s": np.array([0.0, 1.0, 2.0]),
        "mode": np.array([3, 3, 3], dtype=np.uint8),
        "Ewe/V": np.array([3.1, 3.1, 3.2], dtype=np.float32),
    }
    data = to_cycling_data(cols, _meta())
    np.testing.assert_array_equal(data.frame["current_a"].to_numpy(), [0.0, 0.0, 0.0])
    assert _sources(data)["current_a"].startswith("derived: mode")
    assert data.meta.warnings == []


def test_points_with_nothing_to_derive_current_from_are_nan_with_a_warning():
    cols = {
        "time/s": np.array([0.0, 1.0, 2.0]),
        "mode": np.array([3, 2, 3], dtype=np.uint8),
        "Ewe/V": np.array([3.1, 3.1, 3.2], dtype=np.float32),
    }
    data = to_cycling_data(cols, _meta())
    current = data.frame["current_a"].to_numpy()
    assert current[0] == 0.0 and np.isnan(current[1]) and current[2] == 0.0
    assert any("1 of 3 points have no current" in w for w in data.meta.warnings)


def test_no_current_at_all_is_a_missing_column_error():
    cols = {"time/s": np.array([0.0, 1.0]), "Ewe/V": np.array([3.0, 3.1])}
    with pytest.raises(MissingColumnError):
        to_cycling_data(cols, _meta())


def test_voltage_priority_and_current_scaling():
    cols = {
        "time/s": np.array([0.0, 1.0]),
        "Ewe/V": np.array([1.0, 1.1]),
        "Ewe-Ece/V": np.array([2.0, 2.1]),
        "Ecell/V": np.array([3.0, 3.1]),
        "I/mA": np.array([5.0, -5.0]),
        "<I>/mA": np.array([9.0, 9.0]),
    }
    data = to_cycling_data(dict(cols), _meta())
    np.testing.assert_array_equal(data.frame["voltage_v"].to_numpy(), [3.0, 3.1])
    np.testing.assert_array_equal(data.frame["current_a"].to_numpy(), [0.005, -0.005])
    del cols["Ecell/V"]
    assert to_cycling_data(dict(cols), _meta()).frame["voltage_v"].iloc[0] == 2.0
    del cols["Ewe-Ece/V"]
    assert to_cycling_data(dict(cols), _meta()).frame["voltage_v"].iloc[0] == 1.0


def test_charge_from_q_minus_qo_or_running_sum_of_dq():
    base = {"time/s": np.arange(3.0), "Ewe/V": np.ones(3), "I/mA": np.ones(3)}
    data = to_cycling_data({**base, "(Q-Qo)/mA.h": np.array([0.0, 1.0, 3.0])}, _meta())
    np.testing.assert_array_equal(data.frame["charge_ah"].to_numpy(), [0.0, 0.001, 0.003])
    data = to_cycling_data({**base, "dq/mA.h": np.array([0.5, 1.0, 2.0])}, _meta())
    np.testing.assert_allclose(data.frame["charge_ah"].to_numpy(), [0.0005, 0.0015, 0.0035])


def test_stuck_half_cycle_column_is_replaced_by_current_sign():
    cols = {
        "time/s": np.arange(6.0),
        "Ewe/V": np.ones(6),
        "I/mA": np.array([0.0, 1.0, 1.0, -1.0, -1.0, 1.0]),
        "half cycle": np.zeros(6, dtype=np.uint32),
    }
    data = to_cycling_data(cols, _meta())
    np.testing.assert_array_equal(data.frame["half_cycle"].to_numpy(), [0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(data.frame["cycle"].to_numpy(), [0, 1, 1, 1, 1, 2])
    assert data.meta.cycle_source == "derived from current sign"


def test_file_half_cycle_column_is_kept_when_it_moves_shifted_to_count_from_one():
    # EC-Lab counts from 0 and the opening rest shares 0 with the first step; the project
    # counts from 1 (the opening rest stays with the first step) and takes
    # cycle = ceil(half / 2) (discharge-first here: cycle 1 = discharge + charge).
    cols = {
        "time/s": np.arange(6.0),
        "Ewe/V": np.ones(6),
        "I/mA": np.array([0.0, -1.0, -1.0, 1.0, 1.0, -1.0]),
        "half cycle": np.array([0, 0, 0, 1, 1, 2], dtype=np.uint32),
    }
    data = to_cycling_data(cols, _meta())
    np.testing.assert_array_equal(data.frame["half_cycle"].to_numpy(), [1, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(data.frame["cycle"].to_numpy(), [1, 1, 1, 1, 1, 2])
    assert data.meta.cycle_source == "file"


def test_empty_run_builds_an_empty_frame():
    cols = {"time/s": np.zeros(0), "Ewe/V": np.zeros(0, dtype=np.float32), "mode": np.zeros(0, dtype=np.uint8)}
    data = to_cycling_data(cols, _meta())
    assert data.is_empty and list(data.frame.columns)[:3] == ["time_s", "voltage_v", "current_a"]
