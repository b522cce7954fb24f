"""The shared vendor-table machinery (cycler_cli/io/tabular.py): header units, sniffing,
row accounting and the charge / sign rules, on small files whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.errors import InputError
from cycler_cli.io import registry, tabular
from cycler_cli.io.arbin import SPEC as ARBIN


@pytest.mark.parametrize("header, name, unit", [
    ("Current (A)", "Current", "A"),
    ("Current(mA)", "Current", "mA"),
    ("Current [µA]", "Current", "µA"),
    ("Current / A", "Current", "A"),
    ("Current#A", "Current", "A"),
    ("Current_A", "Current", "A"),
    ("Cycle_Index", "Cycle_Index", ""),
    ("Amp-hr", "Amp-hr", ""),
    ("T1(℃)", "T1", "℃"),
    ("~Time[s]", "~Time", "s"),
    ("Total Time (Hours in hh:mm:ss.xxx)", "Total Time", "Hours in hh:mm:ss.xxx"),
])
def test_split_unit(header, name, unit):
    assert tabular.split_unit(header) == (name, unit)


@pytest.mark.parametrize("unit, family, factor", [
    ("A", "current", 1.0), ("mA", "current", 1e-3), ("µA", "current", 1e-6), ("uA", "current", 1e-6),
    ("V", "voltage", 1.0), ("mV", "voltage", 1e-3), ("Ah", "charge", 1.0), ("mAh", "charge", 1e-3),
    ("mA.h", "charge", 1e-3), ("Wh", "energy", 1.0), ("mWh", "energy", 1e-3), ("s", "time", 1.0),
    ("min", "time", 60.0), ("h", "time", 3600.0), ("Seconds", "time", 1.0), ("°C", "temperature", 1.0),
    ("℃", "temperature", 1.0), ("C", "temperature", 1.0),
])
def test_unit_scale(unit, family, factor):
    assert tabular.unit_scale(unit, family, "x") == factor


def test_unit_of_the_wrong_family_is_an_input_error():
    with pytest.raises(InputError) as info:
        tabular.unit_scale("mV", "current", "Current (mV)", "f.csv")
    assert info.value.exit_code == 3 and "Current (mV)" in info.value.one_line()


def test_increments_of_a_resetting_accumulator():
    # 0, 1, 2 | reset to 0.5 (0.5 passed since the reset), 1.5 | held 1.5 | reset 0.2
    acc = np.array([0.0, 1.0, 2.0, 0.5, 1.5, 1.5, 0.2])
    np.testing.assert_allclose(tabular.increments_resetting(acc), [0, 1, 1, 0.5, 1, 0, 0.2])
    # per-step accumulator: a new step restarts even when the value does not fall
    starts = np.array([True, False, False, True, False, False, False])
    acc2 = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.5])
    np.testing.assert_allclose(tabular.increments_resetting(acc2, starts), [0, 0.1, 0.1, 0.3, 0.1, 0, 0.1])


def test_net_charge_from_accumulators_by_hand():
    qc = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 0.0, 0.5])
    qd = np.array([0.0, 0.0, 0.0, 0.5, 1.5, 0.0, 0.0])
    np.testing.assert_allclose(tabular.net_charge_from_accumulators(qc, qd), [0, 1, 2, 1.5, 0.5, 0.5, 1.0])


ARBIN_HEADER = "Data Point,Test Time (s),Cycle Index,Step Index,Current (A),Voltage (V),Charge Capacity (Ah),Discharge Capacity (Ah)"


def _arbin_row(k: int) -> str:
    return f"{k},{10.0 * k},1,1,0.5,{3.0 + 0.01 * k},{0.5 * 10 * k / 3600:.9f},0"


def test_row_accounting_counts_every_line(tmp_path):
    lines = [ARBIN_HEADER] + [_arbin_row(k) for k in range(5)]
    lines += ["", ARBIN_HEADER, _arbin_row(5), "1,2,3,4,5,6,7,8,9,10,11,12", _arbin_row(6), "End of file,,,,,,,", ""]
    path = tmp_path / "a.csv"
    path.write_text("\n".join(lines) + "\n")
    data = registry.read(path)
    assert data.meta.reader == "arbin-csv"
    assert data.meta.rows_read == 7
    assert data.meta.rows_skipped == {
        "blank line": 2,
        "repeated header line": 1,
        "line with the wrong number of fields": 1,
        "no numeric time, voltage or current (footer, comment or damaged line)": 1,
    }
    data_lines = len(lines) - 1  # everything after the header
    assert data.meta.rows_read + sum(data.meta.rows_skipped.values()) == data_lines
    np.testing.assert_allclose(data.frame.time_s, [0, 10, 20, 30, 40, 50, 60])


def test_decimal_comma_semicolon_latin1(tmp_path):
    header = "Data Point;Test Time (min);Cycle Index;Step Index;Current (mA);Voltage (V);Temperature (°C)"
    rows = ["1;0,5;1;1;-250,0;3,5;25,5", "2;1,0;1;1;-250,0;3,4;25,5"]
    path = tmp_path / "eu.csv"
    path.write_bytes(("\r\n".join([header] + rows) + "\r\n").encode("latin-1"))
    data = registry.read(path)
    assert data.meta.reader == "arbin-csv"
    np.testing.assert_allclose(data.frame.time_s, [30.0, 60.0])
    np.testing.assert_allclose(data.frame.current_a, [-0.25, -0.25])
    np.testing.assert_allclose(data.frame.temperature_c, [25.5, 25.5])
    assert "decimal comma detected" in data.meta.inferred
    assert any("latin-1" in i for i in data.meta.inferred)


def test_durations_and_datetimes_to_seconds():
    import pandas as pd

    np.testing.assert_allclose(tabular.to_seconds(pd.Series(["00:00:00", "01:00:01.5", "144:02:18"]), 1.0),
                               [0, 3601.5, 144 * 3600 + 138])
    np.testing.assert_allclose(tabular.to_seconds(pd.Series(["  0d 00:00:00.0000", "  1d 02:00:00.5"]), 1.0),
                               [0, 93600.5])
    np.testing.assert_allclose(tabular.to_seconds(pd.Series(["2022-05-18 16:27:52", "2022-05-18 16:28:52"]), 1.0),
                               [0, 60])


BIOLOGIC_TEXT = (
    b"mode\tox/red\terror\tcontrol changes\tNs changes\tcounter inc.\tNs\ttime/s\tcontrol/V/mA\tEwe/V\tI/mA\tcycle number\n"
    b"1\t1\t0\t0\t0\t0\t0\t1.0\t1.0\t3.5\t1.0\t0\n"
)


@pytest.mark.parametrize("module", ["arbin", "maccor", "neware", "novonix", "basytec", "pec", "bdf", "excel",
                                    "generic_csv"])
def test_vendor_sniffers_never_claim_biologic_text(module, tmp_path):
    import importlib

    reader = importlib.import_module(f"cycler_cli.io.{module}").READER
    assert not reader.sniff(BIOLOGIC_TEXT, tmp_path / "x.txt")
    header = b"EC-Lab ASCII FILE\r\nNb header lines : 3\r\n\r\n" + BIOLOGIC_TEXT
    assert not reader.sniff(header, tmp_path / "x.mpt")


def test_vendor_sniffers_reject_real_biologic_text(realdata):
    import importlib
    import json

    rows = [r for r in json.loads((realdata / "catalog.json").read_text())
            if "BioLogic" in r["format"] and ("ASCII" in r["format"] or "text export" in r["format"])]
    mine = [importlib.import_module(f"cycler_cli.io.{m}").READER
            for m in ("arbin", "maccor", "neware", "novonix", "basytec", "pec", "bdf", "excel", "generic_csv")]
    for row in rows:
        head = (realdata / row["file"]).read_bytes()[:65536]
        claimed = [r.name for r in mine if r.sniff(head, realdata / row["file"])]
        assert not claimed, f"{row['file']} claimed by {claimed}"


def test_header_found_after_a_preamble():
    text = "Today's Date 04/04/2016\nsome line, with, commas\n" + ARBIN_HEADER + "\n1,2,3\n"
    assert tabular.locate_header(text, ARBIN) == (2, ",")


def _all_specs():
    import gc

    registry.readers()  # imports every reader module, and with it every spec
    return [o for o in gc.get_objects() if isinstance(o, tabular.TableSpec)]


def test_every_signature_name_has_a_letter_that_is_not_an_exponent():
    """locate_header skips lines without such a letter; that is exact only while no name a
    spec looks for is made of digits, punctuation and exponent e's."""
    specs = _all_specs()
    assert len(specs) >= 10
    for spec in specs:
        for group in spec.signature:
            for name in group:
                assert tabular._has_letter(name), (spec.name, name)


@pytest.mark.parametrize(("line", "letter"), [
    ("0.000,0.0000377,0.000000000e+00,-1.5E-3,0,7", False),
    ("1E5;2.5e-3;.5e7\t-3", False),
    ("time_s,voltage_v,current_a", True),
    ("Zeit;Spannung;Strom", True),
    ("e,1,2", True),  # a lone e is a name, not an exponent
    ("1e5,x", True),
    ("1,2,3e", True),
    ("Время,Напряжение", True),
])
def test_a_line_of_numbers_has_no_letter(line, letter):
    assert tabular._has_letter(line) is letter


def test_a_header_line_below_lines_of_numbers_is_still_found():
    text = "1,2,3\n4.5e-3,6,7\ntime_s,voltage_v,current_a\n0,0.1,1e-3\n"
    from cycler_cli.io.generic_csv import CANONICAL_SPEC

    assert tabular.locate_header(text, CANONICAL_SPEC) == (2, ",")
