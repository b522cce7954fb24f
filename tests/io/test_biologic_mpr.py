"""Tests for the BioLogic .mpr reader: synthetic files built byte by byte (right answers known
by construction), every real .mpr under ../shared/realdata, galvani as an independent reader,
and EC-Lab's own .mpt/.mpl exports of the same runs for mass, area and start time."""

from __future__ import annotations

import re
import shutil
import struct
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from cycler_cli.errors import CorruptFileError, InputError, UnsupportedFormatError
from cycler_cli.io import biologic_mpr
from cycler_cli.io.biologic_mpr import MAGIC, READER, parse_mpr, parse_settings, read_mpr
#: ../shared/realdata, as tests/conftest.py finds it (parametrisation needs it at collection).
REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
REAL_MPR = sorted(REALDATA.rglob("*.mpr")) if REALDATA.is_dir() else []


def realdata_dir() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only CI and developers have ../shared)")
    return REALDATA


def _rel(path: Path) -> str:
    return str(path.relative_to(REALDATA))


# --------------------------------------------------------------------------- synthetic files


def _module(short: bytes, payload: bytes, version: int, header: str = "v1", date: bytes = b"01/02/25") -> bytes:
    if header == "v1":
        hdr = struct.pack("<10s25sII8s", short.ljust(10), short.ljust(25), len(payload), version, date)
    else:
        hdr = struct.pack("<10s25sIIII8s", short.ljust(10), short.ljust(25), 0xFFFFFFFF, len(payload), version, 11, date)
    return b"MODULE" + hdr + payload


def _settings(technique_id=4, active_mg=1.5, area=1.131, area_code=2, char_mass=2.5, char_code=1) -> bytes:
    buf = bytearray(0x300)
    buf[0] = technique_id
    struct.pack_into("<f", buf, 0x107, active_mg)
    struct.pack_into("<f", buf, 0x211, area)
    struct.pack_into("<f", buf, 0x24C, char_mass)
    buf[0x250] = area_code
    buf[0x251] = char_code
    return bytes(buf)


def _data(ids: list[int], records: bytes, n_points: int, version: int = 3) -> bytes:
    head = struct.pack("<IB", n_points, len(ids))
    if version in (2, 3):
        head += struct.pack(f"<{len(ids)}H", *ids)
        start = 405 if version == 2 else 406
    else:
        head += struct.pack(f">{len(ids)}H", *ids)
        start = 1007
    return head.ljust(start, b"\x00") + records


def _log(ole_days: float) -> bytes:
    buf = bytearray(700)
    struct.pack_into("<d", buf, 585, ole_days)
    return bytes(buf)


#: ids: mode/ox-red flags, time/s (f8), Ewe/V (f4), I/mA (f4), half cycle (468 -> u4)
SYN_IDS = [1, 2, 4, 6, 8, 468]
SYN_DTYPE = np.dtype([("flags", "u1"), ("t", "<f8"), ("e", "<f4"), ("i", "<f4"), ("h", "<u4")])


def _syn_records(n: int = 6) -> np.ndarray:
    rec = np.zeros(n, dtype=SYN_DTYPE)
    mode = np.array([3, 1, 1, 1, 1, 3][:n], dtype=np.uint8)
    oxred = np.array([0, 1, 1, 0, 0, 0][:n], dtype=np.uint8)
    rec["flags"] = mode | (oxred << 2)
    rec["t"] = np.arange(n) * 10.0 + 0.25
    rec["e"] = np.linspace(3.0, 3.5, n)
    rec["i"] = np.array([0.0, 0.5, 0.5, -0.5, -0.5, 0.0][:n])
    rec["h"] = np.array([0, 1, 1, 2, 2, 2][:n])
    return rec


def build_mpr(*, data_version=3, header="v1", n_declared=None, records=None, ids=None, log=True, settings=None) -> bytes:
    records = _syn_records() if records is None else records
    ids = SYN_IDS if ids is None else ids
    n = len(records) if n_declared is None else n_declared
    out = MAGIC.ljust(48) + b"\x00" * 4
    out += _module(b"VMP Set", _settings() if settings is None else settings, 0, header)
    out += _module(b"VMP data", _data(ids, records.tobytes(), n, data_version), data_version if header == "v1" else 0, header)
    if log:
        # 2025-01-02 12:00:00 = 45659.5 days after 1899-12-30
        out += _module(b"VMP LOG", _log(45659.5), 0, header)
    return out


def _write(tmp_path: Path, data: bytes, name: str = "run.mpr") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_synthetic_v3_file_reads_exactly(tmp_path):
    rec = _syn_records()
    data = read_mpr(_write(tmp_path, build_mpr()))
    frame = data.frame
    assert len(data) == 6
    np.testing.assert_array_equal(frame["time_s"].to_numpy(), rec["t"])
    np.testing.assert_array_equal(frame["voltage_v"].to_numpy(), rec["e"].astype(np.float64))
    np.testing.assert_array_equal(frame["current_a"].to_numpy(), rec["i"].astype(np.float64) / 1000.0)
    np.testing.assert_array_equal(frame["control_mode"].to_numpy(), [3, 1, 1, 1, 1, 3])
    np.testing.assert_array_equal(frame["half_cycle"].to_numpy(), rec["h"] + 1)  # EC-Lab counts from 0, cycler from 1
    meta = data.meta
    assert meta.technique == "GCPL"
    assert meta.format_version == "data module v3"
    assert meta.active_mass_mg == pytest.approx(1.5)
    assert meta.electrode_area_cm2 == pytest.approx(1.131)
    assert meta.characteristic_mass_mg == pytest.approx(2500.0)  # 2.5 g
    assert meta.start_time == datetime(2025, 1, 2, 12, 0, 0)
    assert meta.rows_skipped == {}
    assert not [w for w in meta.warnings if "cut" in w or "unknown" in w]


def test_synthetic_v0_file_with_v2_headers_reads_low_byte_ids(tmp_path):
    # EC-Lab >= 11.50: v2 module headers, data module version 0, IDs as big-endian u2; 468's
    # low byte (212) is "half cycle", as galvani reads it.
    raw = build_mpr(data_version=0, header="v2")
    contents = parse_mpr(raw)
    assert [m.header_version for m in contents.walk.modules] == [2, 2, 2]
    assert contents.data.version == 0
    np.testing.assert_array_equal(contents.columns["half cycle"], _syn_records()["h"])
    np.testing.assert_array_equal(contents.columns["ox/red"], [False, True, True, False, False, False])


def test_synthetic_unknown_column_id_is_kept_with_inferred_width(tmp_path):
    # Replace I/mA (f4) by ID 506, unknown to galvani and cycler (its low byte 250 too).
    ids = [1, 2, 4, 6, 506, 468]
    contents = parse_mpr(build_mpr(ids=ids))
    col = contents.columns["unknown_506"]
    assert col.dtype.itemsize == 4
    np.testing.assert_array_equal(col.view("<f4"), _syn_records()["i"])
    assert any("column ID 506" in w and "4 bytes" in w for w in contents.warnings)
    np.testing.assert_array_equal(contents.columns["Ewe/V"], _syn_records()["e"])


def test_synthetic_unknown_ids_that_cannot_be_split_raise(tmp_path):
    ids = [1, 2, 4, 6, 506, 507]  # 4 + 4 = 8 spare bytes per record could be split ...
    rec = np.zeros(3, dtype=[("f", "u1"), ("t", "<f8"), ("e", "<f4"), ("x", "<f4"), ("y", "<u2")])
    with pytest.raises(CorruptFileError, match="cannot be split"):  # ... but here there are 6
        parse_mpr(build_mpr(ids=ids, records=rec))


def test_synthetic_unknown_data_module_version_is_unsupported(tmp_path):
    raw = bytearray(build_mpr())
    pos = raw.index(b"MODULEVMP data")
    struct.pack_into("<I", raw, pos + 6 + 39, 7)  # v1 header: version after name(35)+length(4)
    with pytest.raises(UnsupportedFormatError, match="version 7"):
        parse_mpr(bytes(raw))


def test_synthetic_zero_points_read_as_empty_run_with_warning(tmp_path):
    data = read_mpr(_write(tmp_path, build_mpr(records=_syn_records()[:0])))
    assert len(data) == 0
    assert any("no data records" in w for w in data.meta.warnings)


def test_synthetic_partial_last_record_reads_complete_records(tmp_path):
    raw = build_mpr(log=False)
    cut = raw[: len(raw) - SYN_DTYPE.itemsize - 5]  # the 6th record loses all but 16 of 21 bytes
    data = read_mpr(_write(tmp_path, cut))
    assert len(data) == 4
    assert data.meta.rows_skipped == {"partial last record": 1}
    msg = " ".join(data.meta.warnings)
    assert "4 of 6 declared records read" in msg and "cut after 16 of its 21 bytes" in msg
    np.testing.assert_array_equal(data.frame["time_s"].to_numpy(), _syn_records()["t"][:4])


def test_synthetic_cut_on_a_record_boundary_skips_nothing(tmp_path):
    raw = build_mpr(log=False)
    data = read_mpr(_write(tmp_path, raw[: len(raw) - 2 * SYN_DTYPE.itemsize]))
    assert len(data) == 4
    assert data.meta.rows_skipped == {}
    assert any("4 of 6 declared records read, 2 missing" in w for w in data.meta.warnings)


def test_cut_inside_the_settings_module_is_corrupt_with_one_line(tmp_path):
    raw = build_mpr()
    path = _write(tmp_path, raw[:300])
    with pytest.raises(CorruptFileError) as info:
        read_mpr(path)
    line = info.value.one_line()
    assert "\n" not in line and "before the data module" in line and str(path) in line


@pytest.mark.parametrize("cut", [10, 30, 60, 58 + 51 + 100])
def test_cut_anywhere_before_the_data_is_corrupt(tmp_path, cut):
    raw = build_mpr()
    with pytest.raises(CorruptFileError):
        read_mpr(_write(tmp_path, raw[:cut]))


def test_not_mpr_magic_is_unsupported(tmp_path):
    with pytest.raises(UnsupportedFormatError):
        read_mpr(_write(tmp_path, b"EC-Lab ASCII FILE\r\n"))


def _craft_huge_length(raw: bytes, how: str) -> bytes:
    raw = bytearray(raw)
    pos = raw.index(b"MODULEVMP data") + 6
    if raw[pos + 35 : pos + 39] == b"\xff\xff\xff\xff":
        length_at = pos + 39  # v2 header: max length, then length
    else:
        length_at = pos + 35
    if how == "u4max":
        struct.pack_into("<I", raw, length_at, 0xFFFFFFFF)
    else:
        # A u32 length cannot hold 2**40: written little-endian over the length word and the
        # word after it, it leaves length 0 and version 256. Either way: exit 3 at once.
        struct.pack_into("<Q", raw, length_at, 2**40)
    return bytes(raw)


@pytest.mark.parametrize("how", ["u4max", "2**40"])
def test_huge_declared_length_fails_at_once_without_allocating(tmp_path, how):
    read_mpr(_write(tmp_path, build_mpr(), "ok.mpr"))  # imports done before timing and tracing
    path = _write(tmp_path, _craft_huge_length(build_mpr(), how))
    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        read_mpr(path)
    elapsed = time.perf_counter() - t0
    assert info.value.exit_code == 3
    assert elapsed < 1.0
    tracemalloc.start()
    with pytest.raises(InputError):
        read_mpr(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000, f"peak {peak} bytes"


def test_real_file_with_huge_declared_length_exits_3(cli, realdata, tmp_path):
    src = realdata / "yadg" / "gcpl.issue_226.I.mpr"
    path = _write(tmp_path, _craft_huge_length(src.read_bytes(), "2**40"), "huge.mpr")
    from cycler_cli.io.registry import read

    read(src)  # imports done before tracing
    tracemalloc.start()

    with pytest.raises(InputError) as info:
        read(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.exit_code == 3 and peak < 5_000_000
    result = cli("inspect", path)
    assert result.exit_code == 3, result.stderr


def test_png_renamed_mpr_is_not_sniffed(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sIIBBBBB", 13, b"IHDR", 1, 1, 8, 2, 0, 0, 0) + b"\x00" * 40
    path = _write(tmp_path, png, "image.mpr")
    assert READER.sniff(png, path) is False
    from cycler_cli.io.registry import sniff_reader

    chosen = sniff_reader(path)
    assert chosen is None or chosen.name != "biologic-mpr"


def test_sniff_claims_the_magic():
    assert READER.sniff(MAGIC.ljust(48) + b"\x00" * 4, Path("x.bin")) is True
    assert READER.name == "biologic-mpr"


# --------------------------------------------------------------------------- settings module


@pytest.mark.parametrize(
    ("kwargs", "active", "area", "char"),
    [
        ({}, 1.5, 1.131, 2500.0),
        ({"active_mg": 0.001, "area": 0.001, "char_mass": 0.001}, None, None, None),  # EC-Lab defaults
        ({"active_mg": 7000.0, "area": 0.0, "char_mass": 0.001, "char_code": 2}, None, None, None),
        ({"active_mg": float("nan"), "area": 113.1, "area_code": 3, "char_mass": 1.39, "char_code": 2}, None, 1.131, 1.39),
    ],
)
def test_settings_values_units_and_placeholders(kwargs, active, area, char):
    warnings: list[str] = []
    s = parse_settings(_settings(**kwargs), warnings)
    for got, want in ((s.active_mass_mg, active), (s.electrode_area_cm2, area), (s.characteristic_mass_mg, char)):
        assert (got is None) if want is None else got == want  # the decimal typed, not float32 noise
    assert warnings == []


def test_settings_unknown_unit_codes_leave_values_unset_with_warning():
    warnings: list[str] = []
    s = parse_settings(_settings(area_code=7, char_code=9), warnings)
    assert s.electrode_area_cm2 is None and s.characteristic_mass_mg is None
    assert s.active_mass_mg == pytest.approx(1.5)
    assert len(warnings) == 2


def test_settings_unknown_technique_warns():
    warnings: list[str] = []
    assert parse_settings(_settings(technique_id=250), warnings).technique is None
    assert any("technique id 250" in w for w in warnings)


# --------------------------------------------------------------------------- real files


def test_every_real_mpr_reads(realdata):
    files = sorted(realdata.rglob("*.mpr"))
    assert files
    empty = []
    for path in files:
        data = read_mpr(path)
        if len(data) == 0:
            assert any("no data records" in w for w in data.meta.warnings), _rel(path)
            empty.append(_rel(path))
        assert data.meta.technique is not None, _rel(path)
        assert np.isfinite(data.frame["time_s"].to_numpy()).all(), _rel(path)
        assert not any("unknown to cycler" in w for w in data.meta.warnings), _rel(path)
    print(f"\n{len(files)} .mpr files read, {len(files) - len(empty)} with rows > 0, empty: {empty}")
    assert empty == ["yadg/wait.mpr"]


def _galvani(path: Path):
    from galvani import BioLogic

    with open(path, "rb") as fh:
        try:
            return BioLogic.MPRfile(fh)
        except (ValueError, NotImplementedError, AssertionError, OSError) as exc:
            pytest.skip(f"galvani 0.5.0 cannot read {_rel(path)}: {type(exc).__name__}")


@pytest.mark.parametrize("path", REAL_MPR, ids=[_rel(p) for p in REAL_MPR])
def test_columns_equal_galvani(path):
    """Every raw column (by position) and the canonical time/voltage/current sources equal
    galvani's values exactly, wherever galvani 0.5.0 reads the file."""
    realdata_dir()
    g = _galvani(path)
    contents = parse_mpr(path.read_bytes())
    g_fields = [n for n in g.dtype.names if n != "flags"]
    ours = contents.data.fields
    assert len(ours) == len(g_fields)
    for (name, _), g_name in zip(ours, g_fields):
        np.testing.assert_array_equal(contents.columns[name], g.data[g_name], err_msg=f"{name} vs {g_name}")
    for flag in g.flags_dict:
        np.testing.assert_array_equal(contents.columns[flag], g.get_flag(flag), err_msg=flag)

    data = read_mpr(path)
    by_position = {name: g_name for (name, _), g_name in zip(ours, g_fields)}

    def galvani_values(source: str) -> np.ndarray:
        if source.startswith("derived: ") and " - " in source:
            a, b = source.removeprefix("derived: ").split(" - ")
            return galvani_values(a) - galvani_values(b)
        return np.asarray(g.data[by_position[source]], dtype=np.float64)

    np.testing.assert_array_equal(data.frame["time_s"].to_numpy(), g.data["time/s"])
    sources = {c.canonical: c.source for c in data.meta.columns}
    np.testing.assert_array_equal(data.frame["voltage_v"].to_numpy(), galvani_values(sources["voltage_v"]))
    if not sources["current_a"].startswith("derived"):
        np.testing.assert_array_equal(data.frame["current_a"].to_numpy(), galvani_values(sources["current_a"]) / 1000.0)


_HEADER_FIELDS = {
    "active_mass_mg": r"Mass of active material\s*:\s*([-\d.,]+)\s*(\S+)",
    "electrode_area_cm2": r"Electrode surface area\s*:\s*([-\d.,]+)\s*(\S+)",
    "characteristic_mass_mg": r"Characteristic mass\s*:\s*([-\d.,]+)\s*(\S+)",
}
_TO_MG = {"mg": 1.0, "g": 1000.0, "µg": 1e-3, "kg": 1e6}
_TO_CM2 = {"cm²": 1.0, "mm²": 0.01, "m²": 1e4}


def _header_value(text: str, key: str) -> tuple[bool, float | None]:
    """(stated, value in mg or cm², None when EC-Lab's placeholder) from a .mpt/.mpl header."""
    m = re.search(_HEADER_FIELDS[key], text)
    if not m:
        return False, None
    number = float(m.group(1).replace(",", "."))
    unit = m.group(2).replace("\ufffd", "²")
    if number <= 0 or number == 0.001 or (key != "electrode_area_cm2" and number == 7000.0 and unit == "mg"):
        return True, None  # EC-Lab's "not set" defaults
    table = _TO_CM2 if key == "electrode_area_cm2" else _TO_MG
    return True, number * table[unit]


def _pairs(realdata: Path) -> list[tuple[Path, Path]]:
    out = []
    for mpr in sorted(realdata.rglob("*.mpr")):
        for ext in (".mpt", ".mpl"):
            other = mpr.with_suffix(ext)
            if other.exists():
                out.append((mpr, other))
    return out


def test_mass_and_area_agree_with_mpt_and_mpl_headers(realdata):
    checked = 0
    for mpr, text_file in _pairs(realdata):
        text = text_file.read_bytes().decode("latin-1")
        data = read_mpr(mpr)
        for key in _HEADER_FIELDS:
            stated, want = _header_value(text, key)
            if not stated:
                continue
            got = getattr(data.meta, key)
            label = f"{_rel(text_file)} {key}"
            if want is None:
                assert got is None, label
            else:
                assert got == pytest.approx(want, rel=1e-6), label
            checked += 1
    print(f"\n{checked} mass/area header values checked")
    assert checked >= 40


def test_start_time_agrees_with_mpt_acquisition_start(realdata):
    checked = 0
    for mpr, text_file in _pairs(realdata):
        text = text_file.read_bytes().decode("latin-1")
        m = re.search(r"Acquisition started on\s*:\s*(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d(?:[.,]\d+)?)", text)
        if not m:
            continue
        stamp = m.group(1).replace(",", ".")
        want = datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S.%f" if "." in stamp else "%m/%d/%Y %H:%M:%S")
        meta = read_mpr(mpr).meta
        got = meta.start_time
        if any("no LOG module" in w for w in meta.warnings):  # e.g. aurora PEIS.mpr: the .mpl has it
            assert got is None, _rel(mpr)
            continue
        assert got is not None and abs((got - want).total_seconds()) <= 1e-3, _rel(mpr)
        checked += 1
    print(f"\n{checked} start times checked")
    assert checked >= 10


def _cc_segments(mode: np.ndarray, control: np.ndarray, step: np.ndarray) -> list[np.ndarray]:
    """Index arrays of maximal runs of galvanostatic points with one set point and one step."""
    key_change = np.r_[True, (np.diff(mode) != 0) | (np.diff(control) != 0) | (np.diff(step) != 0)]
    run_id = np.cumsum(key_change)
    out = []
    for rid in np.unique(run_id[mode == 1]):
        idx = np.flatnonzero(run_id == rid)
        if len(idx) >= 4:
            out.append(idx)
    return out


def test_derived_current_agrees_with_charge_column_over_cc_segments(realdata):
    """Where current is derived from the set point, it matches Δ(Q-Qo)/Δt over every
    constant-current segment to 1 % (charge from the file's own cumulative column)."""
    files = 0
    segments = 0
    for path in sorted(realdata.rglob("*.mpr")):
        data = read_mpr(path)
        sources = {c.canonical: c.source for c in data.meta.columns}
        if not sources["current_a"].startswith("derived: control") or "charge_ah" not in sources:
            continue
        frame = data.frame
        t = frame["time_s"].to_numpy()
        q = frame["charge_ah"].to_numpy()
        i = frame["current_a"].to_numpy()
        mode = frame["control_mode"].to_numpy()
        step = frame["step"].to_numpy()
        for idx in _cc_segments(mode, i, step):
            # charge passed from the segment's first point to its last, over that time
            measured_a = (q[idx[-1]] - q[idx[0]]) * 3600.0 / (t[idx[-1]] - t[idx[0]])
            derived_a = float(np.mean(i[idx[1:]]))
            assert measured_a == pytest.approx(derived_a, rel=0.01), f"{_rel(path)} points {idx[0]}-{idx[-1]}"
            segments += 1
        files += 1
    print(f"\n{files} files, {segments} constant-current segments checked")
    assert files >= 8 and segments >= 50


def test_set_point_is_in_ma_in_every_real_file(realdata):
    """control/V/mA and control/mA hold mA on galvanostatic points (also in yadg's C x N file):
    the median of (dq/Δt) / set point is 1 within 5 % wherever the current comes from it."""
    checked = []
    for path in sorted(realdata.rglob("*.mpr")):
        cols = parse_mpr(path.read_bytes()).columns
        control = next((c for c in ("control/V/mA", "control/mA") if c in cols), None)
        dq = next((c for c in ("dq/mA.h", "dQ/mA.h") if c in cols), None)
        if control is None or dq is None or "mode" not in cols or "I/mA" in cols or "<I>/mA" in cols:
            continue
        t = np.asarray(cols["time/s"], dtype=np.float64)
        dt = np.diff(t, prepend=np.nan)
        cc = (np.asarray(cols["mode"]) == 1) & (dt > 0) & (np.asarray(cols[control]) != 0)
        ratio = np.asarray(cols[dq], dtype=np.float64)[cc] * 3600.0 / dt[cc] / np.asarray(cols[control], dtype=np.float64)[cc]
        assert abs(np.median(ratio) - 1.0) < 0.05, _rel(path)
        checked.append(_rel(path))
    print(f"\nset point checked in {len(checked)} files")
    assert "yadg/gcpl.issue_226.CxN.mpr" in checked and len(checked) >= 8


def test_real_file_cut_at_half_reads_complete_records(realdata, tmp_path):
    src = realdata / "datalab" / "jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"
    raw = src.read_bytes()
    full = read_mpr(src)
    data = read_mpr(_write(tmp_path, raw[: len(raw) // 2], "half.mpr"))
    contents = parse_mpr(raw)
    data_module = next(m for m in contents.walk.modules if m.short_name == "VMP data")
    want_rows = (len(raw) // 2 - data_module.start - 406) // contents.data.record_bytes
    assert len(data) == want_rows > 0
    cut_warning = [w for w in data.meta.warnings if "ends inside the data module" in w]
    assert cut_warning and f"{want_rows} of {len(full)} declared records read" in cut_warning[0]
    assert data.meta.rows_skipped.get("partial last record", 0) in (0, 1)
    np.testing.assert_array_equal(data.frame["time_s"].to_numpy(), full.frame["time_s"].to_numpy()[:want_rows])
    np.testing.assert_array_equal(data.frame["voltage_v"].to_numpy(), full.frame["voltage_v"].to_numpy()[:want_rows])


@pytest.mark.parametrize("path", REAL_MPR, ids=[_rel(p) for p in REAL_MPR])
def test_every_real_file_cut_at_half_reads_or_fails_cleanly(path, tmp_path):
    realdata_dir()
    raw = path.read_bytes()
    cut = _write(tmp_path, raw[: len(raw) // 2])
    try:
        data = read_mpr(cut)
    except CorruptFileError as exc:
        assert "before" in exc.message or "header" in exc.message
        return
    assert any("ends inside" in w for w in data.meta.warnings)


def test_registry_picks_mpr_reader(realdata, tmp_path):
    from cycler_cli.io.registry import read, sniff_reader

    src = realdata / "yadg" / "gcpl.issue_226.I.mpr"
    renamed = tmp_path / "renamed.dat"
    shutil.copyfile(src, renamed)
    assert sniff_reader(renamed).name == "biologic-mpr"
    data = read(renamed)
    assert data.meta.reader == "biologic-mpr" and len(data) == 15


def test_module_walk_never_trusts_lengths():
    # A length pointing past the end of a module list does not allocate: the walk only slices.
    raw = bytearray(build_mpr())
    pos = raw.index(b"MODULEVMP Set") + 6
    struct.pack_into("<I", raw, pos + 35, 0xFFFFFFF0)
    walk = biologic_mpr.walk_modules(bytes(raw))
    assert walk.cut_at == len(raw) and walk.modules[0].truncated
    with pytest.raises(CorruptFileError, match="before the data module"):
        parse_mpr(bytes(raw))


def _mpt_table(path: Path) -> dict[str, np.ndarray]:
    """The numeric data block of an EC-Lab .mpt (header length from line 2; decimal comma or point)."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    n_header = int(re.search(r"Nb header lines\s*:\s*(\d+)", lines[1]).group(1))
    names = lines[n_header - 1].rstrip("\t").split("\t")
    rows = [line.rstrip("\t").replace(",", ".").split("\t") for line in lines[n_header:] if line.strip()]
    table = np.array(rows, dtype=np.float64)
    return {name: table[:, k] for k, name in enumerate(names[: table.shape[1]])}


#: the files galvani 0.5.0 cannot read, and the IDs that stop it
GALVANI_UNREADABLE = {
    "yadg/coc.issue_185.mpr": ("step time/s",),  # ID 182
    "yadg/cov.issue_185.mpr": ("step time/s",),
    "yadg/cv.issue_149.mpr": ("step time/s",),
    "yadg/cv.issue_217.mpr": ("<Ece>/V", "Rcmp/Ohm"),  # ID 185; ID 424 read by its low byte 168
    "yadg/lsv.issue_195.mpr": ("<Ece>/V", "Analog IN 1/V"),  # ID 185; 272 -> 16
    "yadg/mb.issue_223.mpr": ("Energy we/W.h", "z cycle"),  # ID 368 -> 112, 981 -> 213
    "yadg/peis.issue_225.ewe_ece.mpr": ("<Ece>/V", "|Ece|/V", "Phase(Zwe-ce)/deg"),  # 215, 352 -> 96, 174 rule
    "yadg/peis.issue_225.with_ece.mpr": ("<Ece>/V", "|Ece|/V", "Phase(Zwe-ce)/deg"),
}


@pytest.mark.parametrize("rel", sorted(GALVANI_UNREADABLE))
def test_files_galvani_cannot_read_agree_with_their_mpt_export(rel):
    """Where galvani cannot serve as the reference, EC-Lab's own .mpt export of the same run
    does: every column both carry agrees to the .mpt's printed precision, including the columns
    whose IDs galvani 0.5.0 lacks."""
    path = realdata_dir() / rel
    mpt = _mpt_table(path.with_suffix(".mpt"))
    cols = parse_mpr(path.read_bytes()).columns
    assert len(next(iter(mpt.values()))) == len(cols["time/s"])
    for name in GALVANI_UNREADABLE[rel]:
        assert name in cols and name in mpt, name
    compared = 0
    for name, values in cols.items():
        if name not in mpt or name in ("I Range",):  # I Range: "MPR quirk: off by one" (yadg)
            continue
        np.testing.assert_allclose(
            np.asarray(values, dtype=np.float64), mpt[name], rtol=2e-6, atol=1e-12, err_msg=f"{rel}: {name}"
        )
        compared += 1
    assert compared >= 5


def test_technique_agrees_with_mpt_title(realdata):
    """The technique id in the settings module names the technique the .mpt export's line 4
    spells out (short name in meta.technique, EC-Lab's title in meta.extra)."""
    checked = 0
    for mpr, text_file in _pairs(realdata):
        if text_file.suffix != ".mpt":
            continue
        lines = text_file.read_bytes().decode("latin-1").splitlines()
        if not lines[0].endswith("ASCII FILE") or lines[1].strip().endswith(": 3"):
            continue  # 3-line exports carry no technique
        meta = read_mpr(mpr).meta
        assert meta.extra["technique_title"] == lines[3].strip(), _rel(mpr)
        checked += 1
    print(f"\n{checked} techniques checked")
    assert checked >= 20


# --------------------------------------------------------------------------- mangled bytes

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SMALL = build_mpr()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(0, len(_SMALL)),
    flips=st.lists(st.tuples(st.integers(0, len(_SMALL) - 1), st.integers(0, 255)), max_size=6),
)
def test_mangled_files_read_or_fail_with_an_input_error(tmp_path, cut, flips):
    """Any truncation plus any byte changes: the reader returns data or raises InputError
    (exit 3), never another exception, and never takes long."""
    raw = bytearray(_SMALL[:cut])
    for pos, value in flips:
        if pos < len(raw):
            raw[pos] = value
    path = _write(tmp_path, bytes(raw), "mangled.mpr")
    t0 = time.perf_counter()
    try:
        read_mpr(path)
    except InputError:
        pass
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("name", ["yadg/gcpl.issue_226.I.mpr", "yadg/peis.issue_225.ewe_ece.mpr", "yadg/bcd.issue_241.mpr"])
def test_mangled_real_headers_read_or_fail_with_an_input_error(tmp_path, name):
    """Every single byte of a real file's module and data headers set to 0xFF in turn."""
    raw = (realdata_dir() / name).read_bytes()
    contents = parse_mpr(raw)
    data_module = next(m for m in contents.walk.modules if m.short_name == "VMP data")
    positions = list(range(0, 120)) + list(range(data_module.start - 65, data_module.start + 60))
    for pos in positions:
        mangled = bytearray(raw)
        mangled[pos] ^= 0xFF
        path = _write(tmp_path, bytes(mangled), "mangled.mpr")
        try:
            read_mpr(path)
        except InputError:
            pass


def test_we_read_every_file_galvani_reads_and_more(realdata):
    from galvani import BioLogic

    files = sorted(realdata.rglob("*.mpr"))
    galvani_ok = []
    for path in files:
        with open(path, "rb") as fh:
            try:
                BioLogic.MPRfile(fh)
                galvani_ok.append(path)
            except (ValueError, NotImplementedError, AssertionError, OSError):
                pass
        read_mpr(path)  # raises if cycler cannot
    print(f"\ngalvani 0.5.0 reads {len(galvani_ok)} of {len(files)} .mpr files; cycler reads {len(files)}")
    assert len(galvani_ok) < len(files)
