"""One synthetic run written in several vendors' dialects must read to the same CyclingData.

The signal (closed form): rest 60 s, then two cycles of CC charge at +1.5 A for 600 s, rest
60 s, CC discharge at -1.5 A for 600 s, rest 60 s; one point every 10 s. Every writer below
encodes it the way that vendor does (Maccor: magnitude-only current with a C/D/R state and a
per-step Amp-hr; Neware: mA, h:mm:ss durations, per-step Chg./DChg. capacities; Arbin: BOM,
separate charge/discharge accumulators), so equal frames prove that the sign, unit and charge
rules undo each vendor's encoding.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cycler_cli.io import registry
from cycler_cli.io.generic_csv import read_generic

I_A = 1.5
DT_S = 10.0


def signal() -> pd.DataFrame:
    """time_s, current_a, voltage_v, cycle, step, state and per-step capacity of the run."""
    segments = [(0, 0.0, 60, "R", 1)]
    for cycle in (1, 2):
        segments += [(cycle, I_A, 600, "C", 2), (cycle, 0.0, 60, "R", 3), (cycle, -I_A, 600, "D", 4),
                     (cycle, 0.0, 60, "R", 5)]
    rows = []
    t = 0.0
    for cycle, current, duration, state, step in segments:
        n = int(duration / DT_S)
        for k in range(n):
            rows.append((t, current, max(cycle, 1), step, state, (k + 1) * DT_S))
            t += DT_S
    frame = pd.DataFrame(rows, columns=["time_s", "current_a", "cycle", "step", "state", "step_time_s"])
    # the first current point of each step has already passed DT_S of charge
    frame["step_q_ah"] = np.abs(frame["current_a"]) * frame["step_time_s"] / 3600.0
    frame["voltage_v"] = 3.6 + 0.2 * np.tanh(np.cumsum(frame["current_a"]) * DT_S / 3600.0)
    frame["voltage_v"] = frame["voltage_v"].round(6)
    return frame


def expected_charge_ah(frame: pd.DataFrame) -> np.ndarray:
    """Net charge since the first point: the per-step capacity increments, signed."""
    q = frame["step_q_ah"].to_numpy()
    starts = np.r_[True, frame["step"].to_numpy()[1:] != frame["step"].to_numpy()[:-1]]
    inc = np.where(starts, q, np.diff(q, prepend=0.0))
    inc[0] = 0.0
    return np.cumsum(inc * np.sign(frame["current_a"].to_numpy()))


def write_arbin(frame: pd.DataFrame, path: Path) -> None:
    start = datetime(2024, 9, 20, 8, 0, 0)
    qc = np.where(frame.current_a > 0, frame.step_q_ah, 0.0)
    qd = np.where(frame.current_a < 0, frame.step_q_ah, 0.0)
    # Arbin accumulators hold their value through rests and reset at the cycle start
    qc = pd.Series(qc).where(frame.current_a > 0).groupby(frame.cycle).ffill().fillna(0).to_numpy()
    qd = pd.Series(qd).where(frame.current_a < 0).groupby(frame.cycle).ffill().fillna(0).to_numpy()
    out = pd.DataFrame({
        "Data Point": np.arange(1, len(frame) + 1),
        "Date Time": ["\t" + (start + timedelta(seconds=float(t))).strftime("%m/%d/%Y %H:%M:%S.000") for t in frame.time_s],
        "Test Time (s)": frame.time_s, "Step Time (s)": frame.step_time_s,
        "Cycle Index": frame.cycle, "Step Index": frame.step,
        "Current (A)": frame.current_a, "Voltage (V)": frame.voltage_v,
        "Charge Capacity (Ah)": qc, "Discharge Capacity (Ah)": qd,
        "Aux_Temperature_1 (C)": 25.0,
    })
    path.write_bytes(b"\xef\xbb\xbf" + out.to_csv(index=False, lineterminator="\r\n").encode())


def write_maccor(frame: pd.DataFrame, path: Path, *, european: bool = False) -> None:
    start = datetime(2016, 3, 31, 16, 5, 31)
    stamps = [(start + timedelta(seconds=float(t))).strftime("%m/%d/%Y %H:%M:%S") for t in frame.time_s]
    if european:
        out = pd.DataFrame({
            "Rec": np.arange(1, len(frame) + 1), "Cycle P": 0, "Cycle C": frame.cycle, "Step": frame.step,
            "TestTime": frame.time_s / 60.0, "StepTime": frame.step_time_s / 60.0,
            "Cap. [Ah]": frame.step_q_ah.where(frame.current_a != 0, 0.0), "Ener. [Wh]": 0.0,
            "Current [A]": frame.current_a.abs(), "Voltage [V]": frame.voltage_v, "Md": frame.state, "ES": 0,
            "DPT Time": stamps,
        })
        body = out.to_csv(index=False, sep="\t", decimal=",", float_format="%.10f", lineterminator="\r\n")
        preamble = "Name:\tSynthetic\r\nTester\tMaccor\r\nDescription\tcellule à 25 °C\r\n\r\n"
        path.write_bytes((preamble + body).encode("latin-1"))
        return
    out = pd.DataFrame({
        "Rec#": np.arange(1, len(frame) + 1), "Cyc#": frame.cycle, "Step": frame.step,
        "Test (Sec)": frame.time_s, "Step (Sec)": frame.step_time_s,
        "Amp-hr": frame.step_q_ah.where(frame.current_a != 0, 0.0), "Watt-hr": 0.0,
        "Amps": frame.current_a.abs(), "Volts": frame.voltage_v, "State": frame.state, "ES": 0,
        "DPt Time": stamps,
    })
    preamble = "Today's Date 04/04/2016  Date of Test:\t03/31/2016\t Filename:\tC:\\Data\\x.001\r\n"
    path.write_bytes((preamble + out.to_csv(index=False, sep="\t", float_format="%.10f", lineterminator="\r\n")).encode())


def _hms(seconds: pd.Series) -> list[str]:
    s = seconds.round().astype(int)
    return [f"{v // 3600:02d}:{v // 60 % 60:02d}:{v % 60:02d}" for v in s]


def write_neware(frame: pd.DataFrame, path: Path) -> None:
    labels = frame.state.map({"C": "CC Chg", "D": "CC DChg", "R": "Rest"})
    chg = np.where(frame.current_a > 0, frame.step_q_ah * 1000, 0.0)
    dchg = np.where(frame.current_a < 0, frame.step_q_ah * 1000, 0.0)
    out = pd.DataFrame({
        "DataPoint": np.arange(1, len(frame) + 1), "Cycle Index": frame.cycle, "Step Index": frame.step,
        "Step Type": labels, "Time": _hms(frame.step_time_s), "Total Time": _hms(frame.time_s),
        "Current(mA)": frame.current_a * 1000, "Voltage(V)": frame.voltage_v,
        "Chg. Cap.(mAh)": chg, "DChg. Cap.(mAh)": dchg, "T1(℃)": 25.0,
    })
    path.write_text(out.to_csv(index=False, float_format="%.10f"), encoding="utf-8")


def write_generic(frame: pd.DataFrame, path: Path) -> None:
    out = frame[["time_s", "voltage_v", "current_a", "cycle", "step"]].copy()
    out["charge_ah"] = expected_charge_ah(frame)
    path.write_text(out.to_csv(index=False, float_format="%.10f"), encoding="utf-8")


def write_user_table(frame: pd.DataFrame, path: Path) -> None:
    """A table in minutes and mA with the user's own names, ';' separated, decimal comma."""
    out = pd.DataFrame({"Zeit": frame.time_s / 60.0, "Spannung": frame.voltage_v, "Strom": frame.current_a * 1000,
                        "Zyklus": frame.cycle, "Schritt": frame.step})
    path.write_bytes(b"\xef\xbb\xbf" + out.to_csv(index=False, sep=";", decimal=",", float_format="%.10f").encode())


WRITERS = {
    "arbin-csv": write_arbin,
    "maccor-txt": write_maccor,
    "maccor-txt-eu": lambda f, p: write_maccor(f, p, european=True),
    "neware-csv": write_neware,
    "generic-csv": write_generic,
}

COMPARED = ["time_s", "voltage_v", "current_a", "cycle", "half_cycle", "step", "charge_ah"]


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return signal()


@pytest.mark.parametrize("dialect", list(WRITERS))
def test_each_dialect_reads_back_the_signal(dialect, truth, tmp_path):
    path = tmp_path / f"run.{dialect}"
    WRITERS[dialect](truth, path)
    data = registry.read(path)
    assert data.meta.reader == dialect.removesuffix("-eu")
    frame = data.frame
    assert len(frame) == len(truth)
    np.testing.assert_allclose(frame.time_s, truth.time_s, atol=1e-6)
    np.testing.assert_allclose(frame.current_a, truth.current_a, atol=1e-9)
    np.testing.assert_allclose(frame.voltage_v, truth.voltage_v, atol=1e-9)
    np.testing.assert_array_equal(frame.cycle, truth.cycle)
    np.testing.assert_array_equal(frame.step, truth.step)
    np.testing.assert_allclose(frame.charge_ah, expected_charge_ah(truth), atol=1e-9)
    # charge is the integral of the current (left Riemann sum of the step's constant current)
    assert frame.charge_ah.iloc[-1] == pytest.approx(0.0, abs=1e-9)
    assert frame.charge_ah.max() == pytest.approx(I_A * 600 / 3600, rel=1e-9)


def test_all_dialects_give_equal_cycling_data(truth, tmp_path):
    frames = {}
    for dialect, write in WRITERS.items():
        path = tmp_path / f"run.{dialect}"
        write(truth, path)
        frames[dialect] = registry.read(path).frame[COMPARED]
    reference = frames.pop("generic-csv")
    for dialect, frame in frames.items():
        # minutes written with 10 decimals carry 1e-8 s of rounding; everything else is exact to 1e-9
        np.testing.assert_allclose(frame.time_s, reference.time_s, atol=1e-6, err_msg=dialect)
        pd.testing.assert_frame_equal(frame.drop(columns="time_s"), reference.drop(columns="time_s"),
                                      check_exact=False, atol=1e-9, rtol=0, obj=dialect)


def test_user_mapped_table_with_units_matches(truth, tmp_path):
    generic = tmp_path / "canonical.csv"
    write_generic(truth, generic)
    user = tmp_path / "user.csv"
    write_user_table(truth, user)
    mapped = read_generic(user, {"time_s": "Zeit:min", "voltage_v": "Spannung:V", "current_a": "Strom:mA",
                                 "cycle": "Zyklus", "step": "Schritt"})
    reference = registry.read(generic).frame
    cols = ["time_s", "voltage_v", "current_a", "cycle", "half_cycle", "step"]
    pd.testing.assert_frame_equal(mapped.frame[cols], reference[cols], check_exact=False, atol=1e-6, rtol=0)
    assert "decimal comma detected" in mapped.meta.inferred
