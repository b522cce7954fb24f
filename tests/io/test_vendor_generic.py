"""The generic CSV reader: canonical headers, the user's column map, and the exit-3 message."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.errors import ConfigError, MissingColumnError
from cycler_cli.io import registry
from cycler_cli.io.generic_csv import parse_column_map, read_generic


def test_canonical_csv_reads_without_a_map(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("time_s,voltage_v,current_a,cycle,half_cycle,step,charge_ah\n"
                    "0,3.0,0.0,0,0,0,0.0\n10,3.5,1.0,1,1,1,0.0027777778\n20,3.4,-1.0,1,2,2,0.0\n")
    data = registry.read(path)
    assert data.meta.reader == "generic-csv"
    np.testing.assert_array_equal(data.frame.half_cycle, [0, 1, 2])  # kept from the file
    np.testing.assert_allclose(data.frame.charge_ah, [0, 0.0027777778, 0])
    assert data.meta.cycle_source == "file"


def test_parse_column_map():
    assert parse_column_map("time_s=Test_Time(s),voltage_v=Volts,current_a=Amps:mA") == {
        "time_s": "Test_Time(s)", "voltage_v": "Volts", "current_a": "Amps:mA"}
    with pytest.raises(ConfigError):
        parse_column_map("time=Test_Time(s)")
    with pytest.raises(ConfigError):
        parse_column_map("time_s")


def test_map_with_units_from_header_and_from_the_map(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("# exported by a home-made rig\nTest_Time(min),Volts,Amps\n0,3.0,0\n1,3.5,500\n2,3.4,-500\n")
    data = read_generic(path, parse_column_map("time_s=Test_Time(min),voltage_v=Volts,current_a=Amps:mA"))
    np.testing.assert_allclose(data.frame.time_s, [0, 60, 120])
    np.testing.assert_allclose(data.frame.current_a, [0, 0.5, -0.5])
    np.testing.assert_array_equal(data.frame.cycle, [0, 1, 1])  # derived from the current sign
    assert data.meta.cycle_source == "derived from current sign"


def test_unrecognised_csv_exits_3_listing_columns_and_the_map(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Zeit,Spannung,Strom\n0,3.0,0\n1,3.1,1\n")
    with pytest.raises(MissingColumnError) as info:
        registry.read(path)
    line = info.value.one_line()
    assert info.value.exit_code == 3
    assert "Zeit, Spannung, Strom" in line and "--columns" in line and "\n" not in line


def test_map_naming_a_missing_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n0,3.0,0\n")
    with pytest.raises(MissingColumnError) as info:
        read_generic(path, {"time_s": "a", "voltage_v": "b", "current_a": "Amps"})
    assert "Amps" in info.value.one_line() and "a, b, c" in info.value.one_line()


def test_binary_is_not_claimed(tmp_path):
    from cycler_cli.io.generic_csv import READER

    assert not READER.sniff(b"PK\x03\x04xl/workbook.xml", tmp_path / "a.xlsx")
    assert not READER.sniff(b"\x00\x01\x02,a,b,c\n", tmp_path / "a.bin")
