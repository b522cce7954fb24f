"""Damaged vendor files: cut anywhere or with bytes overwritten, a read either succeeds or raises
the project's InputError (exit 3): never another exception, never a hang."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cycler_cli.errors import InputError
from cycler_cli.io import registry

SMALL_FILES = [
    "PyProBE/sample_data_arbin.csv",
    "PyProBE/sample_data_maccor.csv",
    "battery-data-toolkit/maccor_example.001",
    "cellpy/Test25195.csv",
    "beep/maccor_test_file_4267-66-6519.041",
]


def _read_or_input_error(path):
    try:
        data = registry.read(path)
    except InputError as exc:
        assert "\n" not in exc.one_line()
        return None
    assert data.meta.rows_read == len(data)
    return data


@pytest.mark.parametrize("name", SMALL_FILES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 1.0), flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4))
def test_damaged_file_reads_or_exits_3(name, cut, flips, realdata, tmp_path_factory):
    raw = bytearray((realdata / name).read_bytes())
    raw = raw[: max(1, int(len(raw) * cut))]
    for where, value in flips:
        raw[min(int(where * len(raw)), len(raw) - 1)] = value
    path = tmp_path_factory.mktemp("damaged") / name.split("/")[-1]
    path.write_bytes(bytes(raw))
    _read_or_input_error(path)


MY_READERS = ["arbin-csv", "maccor-txt", "neware-csv", "novonix-csv", "basytec-txt", "pec-csv", "bdf-csv",
              "excel", "generic-csv"]
OTHER_FILES = SMALL_FILES + ["yadg/cp.mpr", "yadg/cp.mpt", "navani/test.ndax", "cellpy/steps_short.csv",
                             "navani/bs542_004_gr_li_50ua_50mv_1v_191020_Channel_11.xlsx"]


@pytest.mark.parametrize("reader", MY_READERS)
def test_forced_reader_on_any_file_reads_or_exits_3(reader, realdata):
    for name in OTHER_FILES:
        try:
            registry.read(realdata / name, reader=reader)
        except InputError as exc:
            assert "\n" not in exc.one_line(), (reader, name)
