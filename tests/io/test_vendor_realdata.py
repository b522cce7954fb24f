"""Every non-BioLogic raw export in ../shared/realdata reads with the reader its catalog row names,
with the catalog's row count, or stops with exit 3 and one line saying why; and where another
tool published figures for a file, ours agree with them."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from cycler_cli.errors import InputError
from cycler_cli.io import registry
from pathlib import Path

#: Same place as tests/conftest.py's ``realdata`` fixture (used here only to parametrise).
REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"

#: catalog "format" prefix -> the reader that must claim it.
FORMAT_READER = {
    "Arbin csv export": "arbin-csv",
    "Arbin Excel export": "excel",
    "Arbin res->csv + BDF columns": "bdf-csv",
    "Maccor text export": "maccor-txt",
    "Neware csv export": "neware-csv",
    "Neware binary": "neware-csv",
    "Novonix HPC/UHPC csv": "novonix-csv",
    "PEC (SBT) csv export": "pec-csv",
    "Battery Data Format (BDF) csv": "bdf-csv",
    "batterydata.energy.gov-style raw csv": "bdf-csv",
    'cellpy "custom" demo format': "generic-csv",
}

#: Files that must stop with exit 3, and why.
REFUSED = {
    "beep/maccor_test_file_4267-66-6519.EDA0001.041": "AC-impedance",
    # cellpy's custom demo has no standard names: the generic reader asks for a column map
    "cellpy/custom_data_001.csv": "map them",
}

#: Where our count of data lines differs from the catalog, and why.
ROW_COUNT_NOTES = {
    # the file has 9065 data lines (DataPoint 1..9065, no blank line, no trailing newline);
    # cellpy's loader_neware_txt.metrics.json also says 9065. The catalog's 9063 is two short.
    "cellpy/neware_uio.csv": 9065,
}


_CACHE: dict[str, object] = {}


def cached_read(path):
    """Real files are read by several tests: read each once per session (frames are not mutated)."""
    key = str(path)
    if key not in _CACHE:
        _CACHE[key] = registry.read(path)
    return _CACHE[key]


def _catalog():
    if not (REALDATA / "catalog.json").is_file():
        return []
    return json.loads((REALDATA / "catalog.json").read_text())


def _expected_reader(row) -> str | None:
    for prefix, reader in FORMAT_READER.items():
        if row["format"].startswith(prefix):
            return reader
    return None


ROWS = [r for r in _catalog() if _expected_reader(r)]


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_real_vendor_file_reads_or_exits_3(row, realdata):
    root = realdata
    path = root / row["file"]
    expected = _expected_reader(row)
    chosen = registry.sniff_reader(path)
    assert chosen is not None and chosen.name == expected, f"{row['file']}: claimed by {chosen and chosen.name}"
    if row["file"] in REFUSED:
        with pytest.raises(InputError) as info:
            registry.read(path)
        line = info.value.one_line()
        assert info.value.exit_code == 3 and "\n" not in line and REFUSED[row["file"]] in line
        return
    data = cached_read(path)
    assert data.meta.reader == expected
    assert len(data) > 0
    want = ROW_COUNT_NOTES.get(row["file"], row["rows"])
    if isinstance(want, int):  # the catalog counts data rows, not blank lines
        assert data.meta.rows_read == want, f"{row['file']}: {data.meta.rows_read} rows + {data.meta.rows_skipped}"
    assert set(data.meta.rows_skipped) <= {"blank line"}, data.meta.rows_skipped
    frame = data.frame
    assert np.isfinite(frame.time_s).all() and np.isfinite(frame.current_a).all()
    assert (np.diff(frame.time_s) >= -1e-6).all(), "test time goes backwards"


def test_walk_prints_count_per_reader(capsys, realdata):
    root = realdata
    counts: Counter[str] = Counter()
    points: Counter[str] = Counter()
    refused = []
    for row in ROWS:
        path = root / row["file"]
        try:
            data = cached_read(path)
        except InputError as exc:
            refused.append(exc.one_line())
            continue
        counts[data.meta.reader] += 1
        points[data.meta.reader] += len(data)
    with capsys.disabled():
        print("\nvendor real files read per reader:")
        for name in sorted(counts):
            print(f"  {name:12s} {counts[name]:3d} files {points[name]:8d} rows")
        for line in refused:
            print(f"  exit 3: {line}")
    assert sum(counts.values()) + len(refused) == len(ROWS)
    assert set(counts) >= {"arbin-csv", "maccor-txt", "neware-csv", "novonix-csv", "pec-csv", "bdf-csv", "excel"}


def test_custom_demo_reads_with_a_column_map(realdata):
    from cycler_cli.io.generic_csv import parse_column_map, read_generic

    data = read_generic(realdata / "cellpy/custom_data_001.csv",
                        parse_column_map("time_s=test_time,voltage_v=voltage,current_a=current,cycle=cycle,step=step"))
    # cellpy's loader_custom.metrics.json counts 2444 rows: its two trailing ';;;;;;;;;' lines
    # included. They hold no value, so we skip them as blank lines: 2442 + 2.
    metrics = json.loads((realdata / "cellpy/loader_custom.metrics.json").read_text())
    assert data.meta.rows_read + sum(data.meta.rows_skipped.values()) == metrics["n_rows"] == 2444
    assert data.meta.rows_skipped == {"blank line": 2}
    assert data.frame.time_s.iloc[-1] == pytest.approx(142455.05)


@pytest.mark.parametrize("suite, file", [
    ("loader_maccor_txt", "cellpy/maccor_001.txt"),
    ("loader_neware_txt", "cellpy/neware_uio.csv"),
    ("loader_pec_csv", "cellpy/pec.csv"),
    ("loader_batmo_bdf", "cellpy/batmo_bdf.csv"),
])
def test_row_count_matches_cellpy_metrics(realdata, suite, file):
    metrics = json.loads((realdata / f"cellpy/{suite}.metrics.json").read_text())
    data = registry.read(realdata / file)
    assert len(data) == metrics["n_rows"]


def per_cycle_capacity(frame: pd.DataFrame) -> pd.DataFrame:
    """Per cycle: charge and discharge capacity (Ah) two ways, independently:
    ``ch_int``/``dis_int`` = trapezoidal ∫ I dt over positive / negative intervals, and
    ``ch_col``/``dis_col`` = positive / negative increments of the file-derived ``charge_ah``."""
    t = frame.time_s.to_numpy()
    i = frame.current_a.to_numpy()
    c = frame.cycle.to_numpy()
    same = np.r_[False, c[1:] == c[:-1]]
    dq = np.where(same, np.r_[0.0, 0.5 * (i[1:] + i[:-1]) * np.diff(t)] / 3600.0, 0.0)
    dqc = np.where(same, np.diff(frame.charge_ah.to_numpy(), prepend=0.0), 0.0)
    table = pd.DataFrame({"cycle": c, "ch_int": np.clip(dq, 0, None), "dis_int": np.clip(-dq, 0, None),
                          "ch_col": np.clip(dqc, 0, None), "dis_col": np.clip(-dqc, 0, None)})
    return table.groupby("cycle").sum()


#: file -> relative tolerance between ∫|I|dt and the file's own capacity columns, and why.
CAPACITY_FILES = {
    "battery-data-toolkit/arbin_example.csv": 0.005,
    "cellpy/neware_uio.csv": 0.005,
    "cellpy/pec.csv": 0.005,
    "cellpy/maccor_001.txt": 0.005,
    "cellpy/maccor_002.txt": 0.005,
    "datalab/test.csv": 0.005,
    "beep/xTESLADIAG_000038test.078": 0.005,
    "navani/test.ndax": 0.005,
    # 439 points over 2 short cycles, float32 times at 0.1 s: the trapezoid is 0.6-0.9 % off
    "navani/test.nda": 0.01,
    # one point every 500 s: the trapezoid misses the step edges by up to 0.8 %
    "cellpy/batmo_bdf.csv": 0.01,
}


@pytest.mark.parametrize("file, tol", list(CAPACITY_FILES.items()), ids=list(CAPACITY_FILES))
def test_charge_column_agrees_with_integrated_current(realdata, file, tol):
    pytest.importorskip("NewareNDA") if file.endswith((".nda", ".ndax")) else None
    table = per_cycle_capacity(cached_read(realdata / file).frame)
    for a, b in (("ch_int", "ch_col"), ("dis_int", "dis_col")):
        big = np.maximum(table[a], table[b])
        judged = big > 0.05 * big.max()  # cycles with a real half-cycle of this direction
        assert judged.any()
        rel = np.abs(table[a] - table[b])[judged] / big[judged]
        assert rel.max() <= tol, f"{file} {a} vs {b}: {rel.max():.4f}"


def test_p492_matches_published_summary(realdata):
    """battery-data-toolkit's p492-13-summary.csv per-cycle Q_chg / Q_dis.

    The summary's Q is the largest value of the accumulator within the cycle; ours is the sum of
    every charge (discharge) increment. They agree where a cycle has one charge (discharge)
    segment; in cycles 4 and 5 (two charge steps, HPPC pulses) ours is the larger, by design."""
    summary = pd.read_csv(realdata / "battery-data-toolkit/p492-13-summary.csv").set_index("Cycle_Index")
    table = per_cycle_capacity(registry.read(realdata / "battery-data-toolkit/p492-13-raw.csv").frame)
    joined = summary[["Q_chg", "Q_dis"]].join(table, how="inner")
    for ref, ours_col, ours_int in (("Q_chg", "ch_col", "ch_int"), ("Q_dis", "dis_col", "dis_int")):
        have = joined[ref].notna() & (joined[ref] > 1e-4)
        single = have & ~joined.index.isin([4, 5])
        assert single.sum() >= 4
        np.testing.assert_allclose(joined.loc[single, ours_col], joined.loc[single, ref], rtol=1e-4)
        # ∫ I dt: p492 logs the first point of a step before the current has risen (cycle 6:
        # 0.000145 A, then 0.019 A 60 s later), so the trapezoid loses up to
        # 0.019 A x 60 s / 2 = 1.6e-4 Ah per step edge; hence 0.5 % plus that edge term. The
        # file's own capacity columns (above) agree to 1e-4.
        np.testing.assert_allclose(joined.loc[single, ours_int], joined.loc[single, ref], rtol=0.005, atol=1.6e-4)
        multi = have & joined.index.isin([4, 5])
        assert (joined.loc[multi, ours_col] >= joined.loc[multi, ref] * (1 - 1e-6)).all()


def test_p492_time_span_and_rows(realdata):
    raw = pd.read_csv(realdata / "battery-data-toolkit/p492-13-raw.csv")
    data = registry.read(realdata / "battery-data-toolkit/p492-13-raw.csv")
    assert len(data) == len(raw) == 2021
    assert data.frame.time_s.iloc[-1] - data.frame.time_s.iloc[0] == pytest.approx(raw.Time_s.iloc[-1] - raw.Time_s.iloc[0])


def test_arbin_xlsx_equals_its_csv_export(realdata):
    """navani's Channel_11 workbook and datalab's test.csv are the same Arbin run."""
    pytest.importorskip("python_calamine")
    book = registry.read(realdata / "navani/bs542_004_gr_li_50ua_50mv_1v_191020_Channel_11.xlsx")
    csv = registry.read(realdata / "datalab/test.csv")
    assert book.meta.extra["sheets"] == ["Channel_11_1"]
    pd.testing.assert_frame_equal(book.frame, csv.frame, check_exact=False, rtol=1e-6)


def test_batmo_bdf_sign_is_normalised(realdata):
    """batmo_bdf.csv writes discharge current positive (against BDF's own rule): negated, and said."""
    data = registry.read(realdata / "cellpy/batmo_bdf.csv")
    raw = pd.read_csv(realdata / "cellpy/batmo_bdf.csv")
    charge = (raw["Step Type / 1"] == "charge").to_numpy()
    assert (data.frame.current_a.to_numpy()[charge] >= 0).all()
    assert any("negated" in w for w in data.meta.warnings)


def test_maccor_magnitude_current_is_signed_by_state(realdata):
    data = registry.read(realdata / "cellpy/maccor_001.txt")
    raw = pd.read_csv(realdata / "cellpy/maccor_001.txt", sep="\t", skiprows=3, usecols=["Amps", "State"])
    assert (raw.Amps >= 0).all()  # the file's current is a magnitude
    d = (raw.State.str.strip() == "D").to_numpy()
    assert d.any() and (data.frame.current_a.to_numpy()[d] <= 0).all()
    assert (data.frame.current_a.to_numpy()[~d] >= 0).all()


def test_maccor_minutes_inferred_from_clock(realdata):
    """maccor_002.txt writes TestTime without a unit, in minutes: 5/11/2021 3:40:24 PM to
    5/14/2021 7:10:13 AM is 3809.8 min."""
    data = registry.read(realdata / "cellpy/maccor_002.txt")
    assert data.frame.time_s.iloc[-1] == pytest.approx(3809.841833 * 60)
    assert any("read as min" in i for i in data.meta.inferred)


def test_multi_file_maccor_parts_read_alone(realdata):
    first = registry.read(realdata / "battery-data-toolkit/maccor_example.001")
    second = registry.read(realdata / "battery-data-toolkit/maccor_example.002")
    assert len(first) == len(second) == 8
    assert first.frame.time_s.iloc[1] == pytest.approx(0.1667 * 60)  # "Test (Min)"


def test_neware_binary_files(realdata):
    pytest.importorskip("NewareNDA")
    nda = registry.read(realdata / "navani/test.nda")
    ndax = registry.read(realdata / "navani/test.ndax")
    assert (len(nda), len(ndax)) == (439, 1464)
    for data in (nda, ndax):
        assert (np.diff(data.frame.time_s) >= 0).all()
        assert data.meta.start_time is not None
