"""The writers (cycler_cli/io/writers.py): what galvani and the project's own readers get back
from every written .mpr/.mpt/CSV, byte-level layout facts, and cross-format agreement."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from cycler_cli.errors import ConfigError
from cycler_cli.io import writers
from cycler_cli.simulate import SoftShort, simulate_full, simulate_symmetric

galvani = pytest.importorskip("galvani.BioLogic")

START = datetime(2024, 3, 4, 9, 30, 0)


@pytest.fixture(scope="module")
def sym():
    return simulate_symmetric(duration_s=12 * 3600.0, interval_s=60.0, seed=11, start_time=START,
                              soft_shorts=(SoftShort(2),))


@pytest.fixture(scope="module")
def full():
    return simulate_full(cycles=3, interval_s=600.0, seed=12, start_time=datetime(2024, 5, 6, 11, 0, 0))


def _arrays(data):
    f = data.frame
    return {c: f[c].to_numpy() for c in f.columns}


def _ec_half_by_hand(current_a):
    """EC-Lab's half cycle rebuilt independently: count direction changes between non-zero
    currents, starting at 0 (loop over points: a test oracle, not library code)."""
    out, count, last = [], 0, 0
    for i in current_a:
        s = int(np.sign(i))
        if s != 0 and last != 0 and s != last:
            count += 1
        if s != 0:
            last = s
        out.append(count)
    return np.array(out)


# ----------------------------------------------------------------------------------------------
# .mpr through galvani


@pytest.mark.parametrize("which", ["sym", "full"])
def test_galvani_reads_mpr_to_the_written_values(which, request, tmp_path):
    data = request.getfixturevalue(which)
    path = writers.write_mpr(data, tmp_path / "run.mpr")
    with open(path, "rb") as fh:
        mpr = galvani.MPRfile(fh)
    a = _arrays(data)
    d = mpr.data
    assert len(d) == len(data)
    assert mpr.version == 3
    assert "I/mA" not in d.dtype.names  # like a raw GCPL file
    np.testing.assert_allclose(d["time/s"], a["time_s"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(d["Ewe/V"], a["voltage_v"], atol=1e-6, rtol=0)
    mode = mpr.get_flag("mode")
    np.testing.assert_array_equal(mode, a["control_mode"])
    cc = mode == 1
    np.testing.assert_allclose(d["control/V/mA"][cc], a["current_a"][cc] * 1000, atol=1e-6, rtol=1e-6)
    assert np.all(d["control/V/mA"][~cc] == 0)
    np.testing.assert_allclose(d["(Q-Qo)/mA.h"], a["charge_ah"] * 1000, atol=1e-9, rtol=0)
    np.testing.assert_allclose(np.cumsum(d["dq/mA.h"]), a["charge_ah"] * 1000, atol=1e-9, rtol=0)
    np.testing.assert_array_equal(d["Ns"], a["step"])
    np.testing.assert_array_equal(d["half cycle"], _ec_half_by_hand(a["current_a"]))
    ox = mpr.get_flag("ox/red")
    assert ox[cc][a["current_a"][cc] > 0].all() and not ox[cc][a["current_a"][cc] < 0].any()
    assert mpr.timestamp == data.meta.start_time
    assert mpr.startdate == data.meta.start_time.date()


def test_mpr_settings_offsets_hold_mass_and_area(full, tmp_path):
    path = writers.write_mpr(full, tmp_path / "run.mpr")
    with open(path, "rb") as fh:
        mpr = galvani.MPRfile(fh)
    (settings,) = [m for m in mpr.modules if m["shortname"] == b"VMP Set   "]
    raw = settings["data"]
    f4 = lambda off: float(np.frombuffer(raw, "<f4", count=1, offset=off)[0])  # noqa: E731
    assert raw[0] == 0x04  # GCPL
    assert f4(0x0107) == pytest.approx(2.0)
    assert f4(0x0211) == pytest.approx(0.636, rel=1e-6)
    assert f4(0x024C) == pytest.approx(2.0)
    assert raw[0x0250] == 2 and raw[0x0251] == 2
    assert [m["shortname"] for m in mpr.modules] == [b"VMP Set   ", b"VMP data  ", b"VMP LOG   "]


def test_unset_mass_is_written_as_ec_lab_placeholder(sym, tmp_path):
    path = writers.write_mpr(sym, tmp_path / "run.mpr")
    with open(path, "rb") as fh:
        mpr = galvani.MPRfile(fh)
    raw = mpr.modules[0]["data"]
    assert float(np.frombuffer(raw, "<f4", count=1, offset=0x0107)[0]) == pytest.approx(0.001)


def test_mpr_last_record_has_the_stop_bit(sym, tmp_path):
    path = writers.write_mpr(sym, tmp_path / "run.mpr")
    with open(path, "rb") as fh:
        mpr = galvani.MPRfile(fh)
    stop = (mpr.data["flags"] & 0x40) != 0
    assert stop[-1] and not stop[:-1].any()


# ----------------------------------------------------------------------------------------------
# .mpt through galvani, and its text


@pytest.mark.parametrize("decimal", [".", ","])
def test_galvani_reads_mpt_to_the_written_values(sym, tmp_path, decimal):
    path = writers.write_mpt(sym, tmp_path / "run.mpt", decimal=decimal)
    with open(path, "rb") as fh:
        arr, comments = galvani.MPTfile(fh)
    a = _arrays(sym)
    np.testing.assert_allclose(arr["time/s"], a["time_s"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(arr["Ewe/V"], a["voltage_v"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(arr["I/mA"], a["current_a"] * 1000, atol=1e-9, rtol=1e-6)
    np.testing.assert_allclose(arr["(Q-Qo)/mA.h"], a["charge_ah"] * 1000, atol=1e-9, rtol=1e-12)
    np.testing.assert_array_equal(arr["half cycle"], _ec_half_by_hand(a["current_a"]))
    np.testing.assert_array_equal(arr["cycle number"], _ec_half_by_hand(a["current_a"]) // 2)
    text = b"".join(comments).decode("latin-1")
    assert "Acquisition started on : 03/04/2024 09:30:00.000" in text


def test_mpt_header_follows_ec_lab(full, tmp_path):
    raw = writers.write_mpt(full, tmp_path / "run.mpt").read_bytes()
    assert raw.startswith(b"EC-Lab ASCII FILE\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    lines = raw.split(b"\r\n")
    n = int(re.match(rb"Nb header lines : (\d+)\s*$", lines[1]).group(1))
    assert lines[n - 1].startswith(b"mode\tox/red\terror\t")
    text = raw.decode("latin-1")
    assert "Galvanostatic Cycling with Potential Limitation" in text
    assert "Mass of active material : 2.000 mg" in text
    assert "Electrode surface area : 0.636 cm\xb2" in text  # latin-1 ² = 0xB2
    first = lines[n].split(b"\t")
    assert re.fullmatch(rb"\d\.\d{15}E[+-]\d{3}", first[7])  # time/s like EC-Lab: three-digit exponent
    assert len(lines[n:-1]) == len(full)


def test_mpt_decimal_comma_touches_numbers_only(sym, tmp_path):
    text = writers.write_mpt(sym, tmp_path / "run.mpt", decimal=",").read_bytes().decode("latin-1")
    assert "Electrode surface area : 0,636 cm" in text
    body = text.split("\r\n")[60:70]
    assert all("." not in line for line in body)


# ----------------------------------------------------------------------------------------------
# CSV


def test_csv_round_trips_through_pandas(sym, tmp_path):
    path = writers.write_csv(sym, tmp_path / "run.csv")
    got = pd.read_csv(path)
    assert list(got.columns) == list(writers.CSV_COLUMNS)
    a = _arrays(sym)
    for col in ("time_s", "voltage_v", "current_a", "charge_ah"):
        np.testing.assert_allclose(got[col].to_numpy(), a[col], atol=1e-6, rtol=1e-8)
    for col in ("cycle", "half_cycle", "step"):
        np.testing.assert_array_equal(got[col].to_numpy(), a[col])


def test_write_refuses_unknown_format(sym, tmp_path):
    with pytest.raises(ConfigError) as exc:
        writers.write(sym, tmp_path / "run.txt")
    assert exc.value.hint


def test_writers_need_a_start_time(sym, tmp_path):
    import copy

    data = copy.deepcopy(sym)
    data.meta.start_time = None
    with pytest.raises(ConfigError):
        writers.write_mpr(data, tmp_path / "x.mpr")


# ----------------------------------------------------------------------------------------------
# the project's own readers (written by other helpers): same values, mass, area, start time


def _reader_or_skip(module: str):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")


def _check_same(data, got, *, mass_mg, area_cm2):
    a = _arrays(data)
    f = got.frame
    assert len(f) == len(data)
    np.testing.assert_allclose(f["time_s"], a["time_s"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(f["voltage_v"], a["voltage_v"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(f["current_a"], a["current_a"], atol=1e-9, rtol=1e-6)
    np.testing.assert_allclose(f["charge_ah"], a["charge_ah"], atol=1e-9, rtol=1e-9)
    np.testing.assert_array_equal(f["step"], a["step"])
    # the half-cycle column: EC-Lab writes it counting from 0 and the BioLogic readers shift it
    # to count from 1 (biologic_common); the CSV carries the project's labels (cycler_cli.cycles)
    want = a["half_cycle"] if got.meta.reader == "generic-csv" else _ec_half_by_hand(a["current_a"]) + 1
    np.testing.assert_array_equal(f["half_cycle"], want)
    if mass_mg is None:
        assert got.meta.active_mass_mg is None
    else:
        assert got.meta.active_mass_mg == pytest.approx(mass_mg, rel=1e-6)
    if area_cm2 is not None:
        assert got.meta.electrode_area_cm2 == pytest.approx(area_cm2, rel=1e-6)


@pytest.mark.parametrize("which", ["sym", "full"])
def test_project_mpr_reader_reads_the_written_values(which, request, tmp_path):
    _reader_or_skip("cycler_cli.io.biologic_mpr")
    from cycler_cli.io import read

    data = request.getfixturevalue(which)
    got = read(writers.write_mpr(data, tmp_path / "run.mpr"))
    assert got.meta.reader == "biologic-mpr"
    _check_same(data, got, mass_mg=data.meta.active_mass_mg, area_cm2=0.636)
    assert got.meta.start_time == data.meta.start_time
    assert not got.meta.warnings, got.meta.warnings


@pytest.mark.parametrize("which", ["sym", "full"])
def test_project_mpt_reader_reads_the_written_values(which, request, tmp_path):
    _reader_or_skip("cycler_cli.io.biologic_mpt")
    from cycler_cli.io import read

    data = request.getfixturevalue(which)
    got = read(writers.write_mpt(data, tmp_path / "run.mpt"))
    assert got.meta.reader == "biologic-mpt"
    _check_same(data, got, mass_mg=data.meta.active_mass_mg, area_cm2=0.636)
    assert got.meta.start_time == data.meta.start_time


def test_project_csv_reader_reads_the_written_values(sym, tmp_path):
    _reader_or_skip("cycler_cli.io.generic_csv")
    from cycler_cli.io import read

    got = read(writers.write_csv(sym, tmp_path / "run.csv"))
    _check_same(sym, got, mass_mg=None, area_cm2=None)
    np.testing.assert_array_equal(got.frame["half_cycle"], sym.frame["half_cycle"])
    np.testing.assert_array_equal(got.frame["cycle"], sym.frame["cycle"])


def test_the_three_formats_give_the_same_run(full, tmp_path):
    for module in ("cycler_cli.io.biologic_mpr", "cycler_cli.io.biologic_mpt", "cycler_cli.io.generic_csv"):
        _reader_or_skip(module)
    from cycler_cli.io import read

    runs = [read(writers.write(full, tmp_path / f"run.{ext}")) for ext in ("mpr", "mpt", "csv")]
    for other in runs[1:]:
        for col in ("time_s", "voltage_v", "current_a", "charge_ah", "step"):
            np.testing.assert_allclose(other.frame[col], runs[0].frame[col], atol=1e-6, rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# the shipped sample_runs/ files


def _shipped():
    from cycler_cli.simulate import SAMPLES

    return SAMPLES


@pytest.mark.parametrize("spec", [s for s in _shipped() if s.format == "mpr"], ids=lambda s: s.name)
def test_galvani_reads_every_shipped_mpr(spec):
    from pathlib import Path

    from cycler_cli.simulate import sample_data

    path = Path(__file__).resolve().parents[2] / "sample_runs" / spec.name
    data = sample_data(spec)
    with open(path, "rb") as fh:
        mpr = galvani.MPRfile(fh)
    np.testing.assert_allclose(mpr.data["time/s"], data.frame["time_s"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(mpr.data["Ewe/V"], data.frame["voltage_v"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(mpr.data["(Q-Qo)/mA.h"], data.frame["charge_ah"] * 1000, atol=1e-9, rtol=0)
    assert mpr.timestamp == data.meta.start_time


@pytest.mark.parametrize("spec", _shipped(), ids=lambda s: s.name)
def test_project_readers_read_every_shipped_sample(spec):
    from pathlib import Path

    from cycler_cli.simulate import sample_data

    module = {"mpr": "cycler_cli.io.biologic_mpr", "mpt": "cycler_cli.io.biologic_mpt",
              "csv": "cycler_cli.io.generic_csv"}[spec.format]
    _reader_or_skip(module)
    from cycler_cli.io import read

    data = sample_data(spec)
    got = read(Path(__file__).resolve().parents[2] / "sample_runs" / spec.name)
    has_meta = spec.format != "csv"
    _check_same(data, got, mass_mg=data.meta.active_mass_mg if has_meta else None,
                area_cm2=0.636 if has_meta else None)
