"""Neware readers: BTSDA record CSV (mA / A headers, Chinese headers), the BTS 7.x three-level
cycle/step/record CSV, and .nda/.ndax without the optional NewareNDA package."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cycler_cli.errors import MissingExtraError
from cycler_cli.io import registry

THREE_LEVEL = """Cycle ID,Cap_Chg(mAh),Cap_DChg(mAh),Charge Energy(mWh)
,Step ID,Step Name,Step Time(h:min:s.ms),Capacity(mAh)
,,Record ID,Time(h:min:s.ms),Voltage(V),Current(mA),Capacitance_Chg(mAh),Capacitance_DChg(mAh)
1,0.5,0.5,1.8
,1,Rest,00:00:20.000,0
,,1,00:00:00.000,3.000,0.000,0,0
,,2,00:00:10.000,3.001,0.000,0,0
,,3,00:00:20.000,3.001,0.000,0,0
,2,CC_Chg,00:00:20.000,0.5
,,4,00:00:10.000,3.500,90.000,0.25,0
,,5,00:00:20.000,3.600,90.000,0.5,0
,3,CC_DChg,00:00:20.000,0.5
,,6,00:00:10.000,3.300,-90.000,0,0.25
,,7,00:00:20.000,3.200,-90.000,0,0.5
"""


def test_three_level_csv(tmp_path):
    path = tmp_path / "bts7.csv"
    path.write_text(THREE_LEVEL, encoding="latin-1")
    data = registry.read(path)
    assert data.meta.reader == "neware-csv"
    assert data.meta.rows_read == 7
    assert data.meta.rows_skipped == {"cycle summary line": 1, "step summary line": 3}
    frame = data.frame
    # step times 0,10,20 | 10,20 | 10,20 continue from the end of each previous step
    np.testing.assert_allclose(frame.time_s, [0, 10, 20, 30, 40, 50, 60])
    np.testing.assert_allclose(frame.current_a, [0, 0, 0, 0.09, 0.09, -0.09, -0.09])
    np.testing.assert_array_equal(frame.cycle, [1] * 7)
    np.testing.assert_array_equal(frame.step, [1, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(frame.half_cycle, [0, 0, 0, 1, 1, 2, 2])
    # Capacitance_Chg/DChg are per-step accumulators in mAh: +0.25, +0.25, then -0.25, -0.25 mAh
    np.testing.assert_allclose(frame.charge_ah, [0, 0, 0, 0.25e-3, 0.5e-3, 0.25e-3, 0.0], atol=1e-12)
    np.testing.assert_array_equal(frame.control_mode, [3, 3, 3, 1, 1, 1, 1])


def test_record_csv_with_amps_and_chinese_headers(tmp_path):
    header = "数据序号,循环号,工步号,工步类型,总时间,电流(A),电压(V),充电容量(Ah),放电容量(Ah)"
    rows = ["1,1,1,搁置,00:00:00,0,3.0,0,0", "2,1,2,恒流充电,00:01:00,0.5,3.5,0.0083,0",
            "3,1,2,恒流充电,00:02:00,0.5,3.6,0.0167,0"]
    path = tmp_path / "cn.csv"
    path.write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    data = registry.read(path)
    assert data.meta.reader == "neware-csv"
    np.testing.assert_allclose(data.frame.time_s, [0, 60, 120])
    np.testing.assert_allclose(data.frame.current_a, [0, 0.5, 0.5])
    np.testing.assert_array_equal(data.frame.step, [1, 2, 2])


def test_magnitude_only_current_is_signed_by_step_type(tmp_path):
    header = "DataPoint,Cycle Index,Step Index,Step Type,Total Time,Current(mA),Voltage(V)"
    rows = ["1,1,1,CC Chg,00:00:00,100,3.5", "2,1,1,CC Chg,00:00:10,100,3.6",
            "3,1,2,CC DChg,00:00:20,100,3.4", "4,1,2,CC DChg,00:00:30,100,3.3"]
    path = tmp_path / "mag.csv"
    path.write_text("\n".join([header] + rows) + "\n")
    data = registry.read(path)
    np.testing.assert_allclose(data.frame.current_a, [0.1, 0.1, -0.1, -0.1])
    assert any("magnitude-only" in i for i in data.meta.inferred)


@pytest.mark.parametrize("name, head", [("x.nda", b"NEWARE20200325" + b"\x00" * 64),
                                        ("x.ndax", b"PK\x03\x04" + b"\x00" * 26 + b"VersionInfo.xml")])
def test_binary_without_the_extra_exits_3_with_the_install_hint(monkeypatch, tmp_path, name, head):
    path = tmp_path / name
    path.write_bytes(head)
    monkeypatch.setitem(sys.modules, "NewareNDA", None)  # import NewareNDA -> ImportError
    with pytest.raises(MissingExtraError) as info:
        registry.read(path)
    line = info.value.one_line()
    assert info.value.exit_code == 3 and "pip install 'cycler-cli[neware]'" in line and "\n" not in line


def test_binary_without_the_extra_via_cli(monkeypatch, tmp_path, cli):
    path = tmp_path / "x.nda"
    path.write_bytes(b"NEWARE20200325" + b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "NewareNDA", None)
    result = cli("inspect", path)
    assert result.exit_code == 3
    assert "cycler-cli[neware]" in result.stderr
