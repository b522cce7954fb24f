"""Excel workbooks: sniffing by content and the missing-extra message (the real Arbin workbook is
compared with its CSV export in test_vendor_realdata.py)."""

from __future__ import annotations

import sys

import pytest

from cycler_cli.errors import MissingExtraError
from cycler_cli.io import registry
from cycler_cli.io.excel import READER


def test_sniffs_xlsx_and_xls_by_content(tmp_path):
    assert READER.sniff(b"PK\x03\x04" + b"\x00" * 26 + b"xl/workbook.xml", tmp_path / "data.bin")
    assert READER.sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, tmp_path / "data.bin")
    assert not READER.sniff(b"PK\x03\x04" + b"\x00" * 26 + b"data.ndc", tmp_path / "x.ndax")
    assert not READER.sniff(b"Data_Point,Test_Time(s)\n", tmp_path / "x.xlsx")


def test_without_calamine_exits_3_with_the_install_hint(monkeypatch, realdata):
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    with pytest.raises(MissingExtraError) as info:
        registry.read(realdata / "navani/bs542_004_gr_li_50ua_50mv_1v_191020_Channel_11.xlsx")
    line = info.value.one_line()
    assert info.value.exit_code == 3 and "pip install 'cycler-cli[excel]'" in line and "\n" not in line


def test_damaged_workbook_is_exit_3(tmp_path):
    pytest.importorskip("python_calamine")
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 26 + b"xl/workbook.xml" + b"\x00" * 100)
    with pytest.raises(Exception) as info:
        registry.read(path)
    assert getattr(info.value, "exit_code", None) == 3


def test_landt_sheet_mapping():
    """Landt columns (navani's names): per-step capacity in mAh, signed by the current."""
    import numpy as np
    import pandas as pd

    from cycler_cli.io import tabular
    from cycler_cli.io.excel import LANDT_SPEC

    frame = pd.DataFrame({"Index": [1, 2, 3, 4], "time /s": [0.0, 10.0, 20.0, 30.0],
                          "Current/mA": [0.0, 100.0, -100.0, -100.0], "Voltage/V": [3.0, 3.5, 3.4, 3.3],
                          "Capacity/mAh": [0.0, 0.2, 0.1, 0.3], "Step": [1, 2, 3, 3]})
    assert tabular.matches(LANDT_SPEC, tabular.header_names(list(frame.columns)))
    data = tabular.canonicalise(tabular.frame_table(frame, LANDT_SPEC, "x.xlsx"), LANDT_SPEC)
    np.testing.assert_allclose(data.frame.current_a, [0, 0.1, -0.1, -0.1])
    # step 2 (charge) +0.2 mAh; step 3 (discharge) 0.1 then +0.2 mAh
    np.testing.assert_allclose(data.frame.charge_ah, [0, 0.2e-3, 0.1e-3, -0.1e-3])


def test_data_sheets_are_preferred_over_summaries():
    from cycler_cli.io.excel import _candidate_sheets

    assert _candidate_sheets(["Global_Info", "Channel_11_1", "Channel_11_2", "Statistics_1-011"]) == [
        "Channel_11_1", "Channel_11_2"]
    assert _candidate_sheets(["test", "cycle", "step", "record"]) == ["record"]
    assert _candidate_sheets(["Info", "Record1", "Record2"]) == ["Record1", "Record2"]
