"""Arbin, Maccor, PEC and BDF specifics not covered by the cross-dialect and real-file tests."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.errors import UnsupportedFormatError
from cycler_cli.io import registry


def test_arbin_leaves_bdf_mixed_files_to_bdf(realdata):
    assert registry.sniff_reader(realdata / "datalab/arbin_example.bdf.csv").name == "bdf-csv"


def test_bdf_warns_when_vendor_and_bdf_current_disagree(realdata):
    """datalab's arbin_example.bdf.csv: its BDF 'Current / A' is 1/1000 of Arbin's 'Current'."""
    data = registry.read(realdata / "datalab/arbin_example.bdf.csv")
    assert any("1000 x" in w for w in data.meta.warnings)


def test_canonical_csv_is_not_claimed_by_bdf(tmp_path):
    from cycler_cli.io.bdf import READER

    head = b"time_s,voltage_v,current_a,cycle\n0,3,0,0\n"
    assert not READER.sniff(head, tmp_path / "x.csv")
    assert READER.sniff(b"Cycle_Index,Step,Time_s,Current_A,Voltage_V\n1,1,0,0,3\n", tmp_path / "x.csv")


def test_bdf_hours_and_step_type(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("Test Time / h,Current / A,Voltage / V,Step Type / 1,Cycle Count / 1,Charging Capacity / Ah,"
                    "Discharging Capacity / Ah\n0,0,3.0,rest,1,0,0\n0.5,1.0,3.5,charge,1,0.5,0\n1.0,-1.0,3.3,discharge,1,0,0.5\n")
    data = registry.read(path)
    assert data.meta.reader == "bdf-csv"
    np.testing.assert_allclose(data.frame.time_s, [0, 1800, 3600])
    np.testing.assert_allclose(data.frame.charge_ah, [0, 0.5, 0.0])
    assert not data.meta.warnings


def test_maccor_eis_export_is_refused_in_one_line(tmp_path):
    path = tmp_path / "x.EDA0001.041"
    path.write_text("MACCOR, INC.    AC Impedance Test\r\nFrequency Sweep:   Open Circut Voltage\r\n1.5\t9.9\r\n")
    with pytest.raises(UnsupportedFormatError) as info:
        registry.read(path)
    assert "impedance" in info.value.one_line() and info.value.exit_code == 3


def test_maccor_duration_strings(tmp_path):
    header = "Rec#\tCyc#\tStep\tTestTime\tStepTime\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\tDPt Time"
    rows = ["1\t0\t1\t  0d 00:00:00.0000\t  0d 00:00:00.0000\t0\t0\t0\t3.9\tR\t0\t11/02/2016 15:57:53",
            "2\t0\t2\t  0d 01:00:00.0000\t  0d 01:00:00.0000\t1.0\t0\t1.0\t4.0\tC\t0\t11/02/2016 16:57:53",
            "3\t0\t3\t  1d 01:00:00.0000\t  1d 00:00:00.0000\t0.5\t0\t0.5\t3.0\tD\t0\t11/03/2016 16:57:53"]
    path = tmp_path / "m.041"
    path.write_text("Today's Date 03/07/2018  Date of Test:\t11/02/2016\n" + "\n".join([header] + rows) + "\n")
    data = registry.read(path)
    np.testing.assert_allclose(data.frame.time_s, [0, 3600, 90000])
    np.testing.assert_allclose(data.frame.current_a, [0, 1.0, -0.5])
    np.testing.assert_allclose(data.frame.charge_ah, [0, 1.0, 0.5])


def test_pec_energy_named_capacity_is_not_a_charge(realdata):
    data = registry.read(realdata / "cellpy/pec.csv")
    charge_info = next(c for c in data.meta.columns if c.canonical == "charge_ah")
    assert "mAh" in charge_info.source and "mWh" not in charge_info.source
    assert data.meta.technique == "SAFT VL43EFe dQdV C/25"
    assert data.meta.start_time.isoformat() == "2019-02-22T16:21:35"


def test_pec_hhmmss_total_time(realdata):
    data = registry.read(realdata / "cellpy/Test25195.csv")
    assert data.frame.time_s.iloc[-1] == pytest.approx(162.363)  # 00:02:42.363


def test_arbin_start_time_from_the_clock_column(realdata):
    # first Date Time of PyProBE's sample (with Arbin's leading tab); BEEP's DateTime is Unix seconds
    assert registry.read(realdata / "PyProBE/sample_data_arbin.csv").meta.start_time.isoformat() == "2024-09-20T08:32:34.558000"
    beep = registry.read(realdata / "beep/2017-05-09_test-TC-contact_CH33.csv")
    assert beep.meta.start_time.isoformat() == "2017-05-10T00:47:33.170000"  # 1494377253.17 s, UTC


def test_maccor_procedure_is_the_technique(realdata):
    assert registry.read(realdata / "cellpy/maccor_001.txt").meta.technique == "M50_Validation.000"
    assert registry.read(realdata / "beep/xTESLADIAG_000038con.078").meta.technique == "xTESLADIAG_000038.000"
