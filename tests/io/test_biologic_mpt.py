"""The BioLogic text reader (cycler_cli/io/biologic_mpt.py): real exports from other labs, and
small synthetic files that pin each variant and each way a row can be skipped."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cycler_cli.errors import CorruptFileError, InputError, MissingColumnError
from cycler_cli.io import biologic_mpt, read
from cycler_cli.io.registry import SNIFF_BYTES

# ----------------------------------------------------------------------------------------------
# real files


def _catalog(root: Path) -> dict[str, dict]:
    return {row["file"]: row for row in json.loads((root / "catalog.json").read_text())}


def _is_biologic_text(row: dict) -> bool:
    fmt = row["format"]
    return "BioLogic" in fmt and ("ASCII" in fmt or "text export" in fmt)


#: Exports that carry only Ewe/V and Capacity/mA.h (eightinks' own mpr->txt conversion): no
#: time, so no current; the reader must refuse them with a MissingColumnError, not guess.
NO_TIME = {
    "eightinks-experimental/S0013_E0001_1_C06_0.txt",
    "eightinks-experimental/S0013_E0001_2_C07_0.txt",
    "eightinks-experimental/S0013_E0001_3_C08_0.txt",
    "eightinks-experimental/S0013_E0001_4_C09_0.txt",
}


def test_sniff_claims_exactly_the_biologic_text_files(realdata):
    """Every catalogued BioLogic text export is claimed; no other file in the real data is
    (Maccor .txt, Arbin/Neware/Novonix/PEC .csv, binaries, logs...)."""
    root = realdata
    catalog = _catalog(root)
    claimed, missed = [], []
    for rel, row in sorted(catalog.items()):
        path = root / rel
        if not path.is_file():
            continue
        head = path.read_bytes()[:SNIFF_BYTES]
        says = biologic_mpt.READER.sniff(head, path)
        if says and not _is_biologic_text(row):
            claimed.append(rel)
        if not says and _is_biologic_text(row):
            missed.append(rel)
    assert not claimed, f"claims files of other formats: {claimed}"
    assert not missed, f"does not claim BioLogic text files: {missed}"


def test_every_biologic_text_file_reads_with_the_catalogued_row_count(realdata):
    """Walk every .mpt and BioLogic .txt/.csv export; rows match the catalog's count."""
    root = realdata
    catalog = _catalog(root)
    files = sorted(rel for rel, row in catalog.items() if _is_biologic_text(row))
    assert len([f for f in files if f.endswith(".mpt")]) == len(list(root.glob("**/*.mpt")))
    per_format: Counter[str] = Counter()
    rows_per_format: Counter[str] = Counter()
    for rel in files:
        path = root / rel
        want = int(catalog[rel]["rows"])
        if rel in NO_TIME:
            columns, meta = biologic_mpt.read_columns(path)
            assert meta.rows_read == want, rel
            assert set(columns) == {"Ewe/V", "Capacity/mA.h"}, rel
            with pytest.raises(MissingColumnError, match="no time/s column"):
                read(path)
            per_format["no time/s (refused)"] += 1
            continue
        data = read(path)
        assert data.meta.reader == "biologic-mpt", rel
        assert len(data) == want, rel
        assert data.meta.rows_skipped == {}, (rel, data.meta.rows_skipped)
        if want == 0:
            assert any("no data rows" in w for w in data.meta.warnings), rel
        else:
            assert np.isfinite(data.column("time_s")).all(), rel
            assert np.isfinite(data.column("voltage_v")).all(), rel
        kind = Path(rel).suffix + (" (header block)" if data.meta.extra["header_block"] else " (no header block)")
        per_format[kind] += 1
        rows_per_format[kind] += len(data)
    print("\nBioLogic text files read, per format:")
    for kind, count in sorted(per_format.items()):
        print(f"  {kind:28s} {count:3d} files {rows_per_format[kind]:8d} rows")
    assert sum(per_format.values()) == len(files)


def test_decimal_comma_twin_gives_the_same_numbers(realdata):
    """yadg's mb.issue_95.de.mpt is the German-locale export of mb.issue_95.mpt."""
    root = realdata / "yadg"
    comma, point = read(root / "mb.issue_95.de.mpt"), read(root / "mb.issue_95.mpt")
    assert comma.meta.extra["decimal"] == "," and point.meta.extra["decimal"] == "."
    assert "decimal comma (sniffed from the data)" in comma.meta.inferred
    pd.testing.assert_frame_equal(comma.frame, point.frame, check_exact=True)
    for field in ("start_time", "technique", "active_mass_mg", "electrode_area_cm2", "format_version"):
        assert getattr(comma.meta, field) == getattr(point.meta, field), field
    # its header's "Battery capacity : 1,300 A.h" read with the comma
    assert comma.meta.extra["battery_capacity_mah"] == pytest.approx(1300.0)
    # raw text: the first I/mA of the point file, as printed
    first_point = _data_lines(root / "mb.issue_95.mpt")[0].split("\t")
    header = _header_names(root / "mb.issue_95.mpt")
    assert point.frame["current_a"].iloc[0] == pytest.approx(float(first_point[header.index("I/mA")]) / 1000)


def _header_names(path: Path) -> list[str]:
    lines = path.read_bytes().decode("latin-1").splitlines()
    n = int(lines[1].split(":")[1])
    return lines[n - 1].split("\t")


def _data_lines(path: Path) -> list[str]:
    lines = path.read_bytes().decode("latin-1").splitlines()
    n = int(lines[1].split(":")[1])
    return lines[n:]


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        # values copied by hand from each file's header block
        # technique: EC-Lab's short name, as the .mpr gives it (line 4's title is in meta.extra)
        ("yadg/ca.mpt", dict(technique="CA", format_version="EC-Lab v11.27",
                             start_time=datetime(2019, 4, 29, 15, 43, 7), active_mass_mg=0.875,
                             characteristic_mass_mg=None, electrode_area_cm2=1.131)),
        # "113.100 mm²" is 1.131 cm²
        ("yadg/gcpl.issue_226.CxN.mpt", dict(format_version="EC-Lab v11.61", active_mass_mg=1.39,
                                             characteristic_mass_mg=1.39, electrode_area_cm2=1.131,
                                             start_time=datetime(2025, 8, 4, 9, 32, 47, 886000))),
        # BT-Lab; "Mass of active material : 7000.000 mg" is EC-Lab's placeholder
        ("yadg/bcd.issue_241.mpt", dict(technique="BCD", format_version="BT-Lab v1.79",
                                        active_mass_mg=None, electrode_area_cm2=None)),
        # decimal comma in the header: "0,196 cm²"; "0,000 cm²" and "0,001 g" mean not set
        ("yadg/cv.issue_149.mpt", dict(electrode_area_cm2=0.196, characteristic_mass_mg=None)),
        ("yadg/ca.issue_149.mpt", dict(electrode_area_cm2=None, characteristic_mass_mg=None)),
        # "Mass of active material : 0.001 mg" placeholder, a real characteristic mass
        ("yadg/geis.mpt", dict(active_mass_mg=None, characteristic_mass_mg=5.544, electrode_area_cm2=1.13)),
        # old export: start time without milliseconds
        ("yadg/ocv.old.mpt", dict(start_time=datetime(2020, 1, 16, 14, 13, 34), technique="OCV")),
        # three-line header: nothing to read
        ("yadg/gcpl.pr_182.1.mpt", dict(technique=None, format_version=None, start_time=None)),
        # "cm²" turned into "cm\ufffd" by an earlier re-encoding, still cm²: 0.001 placeholder
        ("PyProBE/Sample_data_biologic_CA1.txt", dict(technique="MB", format_version="BT-Lab v1.75",
                                                      electrode_area_cm2=None,
                                                      start_time=datetime(2024, 5, 13, 11, 19, 51, 602000))),
    ],
)
def test_header_metadata(realdata, rel, expected):
    data = read(realdata / rel)
    for field, value in expected.items():
        got = getattr(data.meta, field)
        if isinstance(value, float):
            assert got == pytest.approx(value), field
        else:
            assert got == value, field
    assert not [w for w in data.meta.warnings if "not understood" in w]


def test_timestamped_export_counts_seconds_from_the_first_point(realdata):
    """time/s written as MM/DD/YYYY hh:mm:ss.fff: checked against the file's own step time/s
    column, which EC-Lab computes independently as seconds since the step start."""
    path = realdata / "PyProBE/Sample_data_biologic_timestamped.txt"
    data = read(path)
    assert data.meta.start_time == datetime(2024, 11, 20, 11, 38, 41, 707000)
    assert any("absolute date-times" in s for s in data.meta.inferred)
    time_s = data.column("time_s")
    assert time_s[0] == 0.0
    columns, _ = biologic_mpt.read_columns(path)
    step_time = columns["step time/s"]
    # from row 1 on, all points are in step 1, which started at t = 0 (Ns changes to 1 at row 1
    # with step time 6.464 s = 11:38:48.171 - 11:38:41.707)
    np.testing.assert_allclose(time_s[1:], step_time[1:], atol=1e-3)
    assert time_s[1] == pytest.approx(6.464, abs=1e-9)


def test_headerless_bt_lab_csv_with_flag_bytes(realdata):
    """BEEP's BT-Lab auto-export: ';'-separated, leading index column, absolute times, and the
    mode/ox/error columns all holding the whole flag byte."""
    data = read(realdata / "beep/test_loopsnewoutput_MB_CE1_short10k.csv")
    assert len(data) == 9999
    assert data.meta.extra["separator"] == ";"
    mode = data.column("control_mode")
    assert set(np.unique(mode)) <= {1, 2, 3}
    current = data.column("current_a")
    # the masked mode must agree with the current: rest points carry no current
    assert np.all(current[mode == 3] == 0.0)
    assert np.all(current[mode == 1] != 0.0)
    # first and last time stamps of the file: 05/05/2021 15:36:22.757 -> 05/06/2021 19:57:03.527
    span = (datetime(2021, 5, 6, 19, 57, 3, 527000) - datetime(2021, 5, 5, 15, 36, 22, 757000)).total_seconds()
    assert data.column("time_s")[-1] == pytest.approx(span, abs=1e-6)
    assert data.meta.start_time == datetime(2021, 5, 5, 15, 36, 22, 757000)
    assert any("flag byte" in s for s in data.meta.inferred)


def test_headerless_tab_export_and_repaired_names(realdata):
    """PyProBE's headerless .mpt; its header line has 'Temperature/\\ufffdC' (a ° lost in an
    earlier re-encoding), which must still map to temperature_c."""
    path = realdata / "PyProBE/Sample_data_biologic_no_header.mpt"
    data = read(path)
    assert len(data) == 13 and not data.meta.extra["header_block"]
    first = path.read_text(encoding="utf-8").splitlines()[1].split("\t")
    assert data.column("time_s")[0] == 2.816723801174285e5  # time/s, column 9, printed
    assert data.column("voltage_v")[0] == 2.9344745  # Ecell/V, column 11
    assert float(first[17]) == pytest.approx(24.443432)
    assert data.column("temperature_c")[0] == pytest.approx(float(first[17]))


def test_open_circuit_run_has_zero_current(realdata):
    data = read(realdata / "yadg/ocv.mpt")
    assert len(data) == 602
    assert np.all(data.column("current_a") == 0.0)
    assert np.all(data.column("control_mode") == 3)
    source = {c.canonical: c.source for c in data.meta.columns}["current_a"]
    assert source.startswith("derived") and "rest" in source


def test_header_naming_more_columns_than_the_data_holds(realdata):
    """EC-Lab 11.61 PEIS with Ece: the header ends '\\t\\tEwe-Ece/V' but rows stop at Rwe-ce/Ohm.
    Rows are not short; Ewe-Ece/V is left out (with a warning) instead of misaligning values."""
    path = realdata / "yadg/peis.issue_225.with_ece.mpt"
    data = read(path)
    assert len(data) == 32 and data.meta.rows_skipped == {}
    assert any("'Ewe-Ece/V'" in w for w in data.meta.warnings)
    assert {c.canonical: c.source for c in data.meta.columns}["voltage_v"] == "<Ewe>/V"
    names = _header_names(path)
    first = _data_lines(path)[0].split("\t")
    assert data.column("voltage_v")[0] == float(first[names.index("<Ewe>/V")])


# ----------------------------------------------------------------------------------------------
# synthetic files

COLUMNS = ["mode", "ox/red", "time/s", "Ewe/V", "I/mA", "(Q-Qo)/mA.h", "half cycle", "cycle number", "Ns"]


def _rows(n: int = 6) -> list[list[str]]:
    rows = []
    for i in range(n):
        current = 1.0 if i < n // 2 else -1.0
        rows.append([
            "1", "1" if current > 0 else "0", f"{10.0 * i:.15E}", f"{3.0 + 0.01 * i:.7E}",
            f"{current:.7E}", f"{current * i * 10 / 3600:.15E}", "0" if i < n // 2 else "1", "1", "1",
        ])
    return rows


def _mpt(rows: list[list[str]] | list[str], *, header_meta: list[str] | None = None, newline: str = "\r\n",
         columns: list[str] = COLUMNS, decimal: str = ".", product: str = "EC-Lab") -> str:
    meta = header_meta if header_meta is not None else [
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Acquisition started on : 03/04/2025 10:11:12.500",
        "EC-Lab for windows v11.50 (software)",
        "Mass of active material : 2.500 mg",
        "Electrode surface area : 1.131 cm²",
        "Characteristic mass : 0.001 g",
        "",
    ]
    n = 2 + len(meta) + 1
    body = [r if isinstance(r, str) else "\t".join(r) for r in rows]
    if decimal == ",":
        body = [line.replace(".", ",") for line in body]
    lines = [f"{product} ASCII FILE", f"Nb header lines : {n}                          ", *meta,
             "\t".join(columns) + "\t", *body]
    return newline.join(lines) + newline


def _write(tmp_path: Path, text: str, name: str = "run.mpt", encoding: str = "latin-1") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_synthetic_full_header_values(tmp_path):
    data = read(_write(tmp_path, _mpt(_rows())))
    assert data.meta.reader == "biologic-mpt"
    assert data.meta.active_mass_mg == 2.5
    assert data.meta.electrode_area_cm2 == 1.131
    assert data.meta.characteristic_mass_mg is None
    assert data.meta.start_time == datetime(2025, 3, 4, 10, 11, 12, 500000)
    assert data.meta.technique == "GCPL"
    assert data.meta.extra["technique_title"] == "Galvanostatic Cycling with Potential Limitation"
    np.testing.assert_array_equal(data.column("time_s"), 10.0 * np.arange(6))
    np.testing.assert_array_equal(data.column("current_a"), [1e-3] * 3 + [-1e-3] * 3)
    np.testing.assert_array_equal(data.column("half_cycle"), [1, 1, 1, 2, 2, 2])
    np.testing.assert_allclose(data.column("voltage_v"), 3.0 + 0.01 * np.arange(6))


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8", "utf-8-sig", "utf-16"])
def test_line_endings_and_encodings_give_the_same_run(tmp_path, newline, encoding):
    reference = read(_write(tmp_path, _mpt(_rows()), name="ref.mpt"))
    data = read(_write(tmp_path, _mpt(_rows(), newline=newline), encoding=encoding))
    pd.testing.assert_frame_equal(data.frame, reference.frame, check_exact=True)
    assert data.meta.electrode_area_cm2 == 1.131  # "cm²" decoded whatever the encoding


def test_decimal_comma_synthetic(tmp_path):
    point = read(_write(tmp_path, _mpt(_rows()), name="point.mpt"))
    meta = ["", "Modulo Bat", "", "Acquisition started on : 03/04/2025 10:11:12,500",
            "Mass of active material : 2,500 mg", "Electrode surface area : 113,100 mm²", ""]
    comma = read(_write(tmp_path, _mpt(_rows(), decimal=",", header_meta=meta), name="comma.mpt"))
    pd.testing.assert_frame_equal(comma.frame, point.frame, check_exact=True)
    assert comma.meta.active_mass_mg == 2.5
    assert comma.meta.electrode_area_cm2 == pytest.approx(1.131)
    assert comma.meta.start_time == datetime(2025, 3, 4, 10, 11, 12, 500000)


def test_units_mangled_by_an_earlier_re_encoding(tmp_path):
    """'cm²' and 'µA.h' whose ² and µ became U+FFFD (as in PyProBE's BT-Lab .txt files)."""
    meta = ["", "Modulo Bat", "", "Electrode surface area : 0.785 cm\ufffd",
            "Battery capacity : 120.000 \ufffdA.h", "Characteristic mass : 12.5 mg", ""]
    data = read(_write(tmp_path, _mpt(_rows(), header_meta=meta), encoding="utf-8"))
    assert data.meta.electrode_area_cm2 == 0.785
    assert data.meta.extra["battery_capacity_mah"] == pytest.approx(0.12)
    assert data.meta.characteristic_mass_mg == 12.5
    assert data.meta.warnings == []


def test_every_unparseable_line_is_counted(tmp_path):
    rows = _rows(8)
    header = "\t".join(COLUMNS) + "\t"
    body = [
        rows[0], rows[1], "", rows[2], header, rows[3],  # a blank line, a repeated header
        rows[4][:4],  # a short row
        ["1", "1", "oops"] + rows[5][3:],  # time not a number
        rows[6], rows[7],
        "End of file",  # a footer: one field
    ]
    path = _write(tmp_path, _mpt(body))
    data = read(path)
    assert data.meta.rows_skipped == {
        biologic_mpt.REASON_BLANK: 1,
        biologic_mpt.REASON_HEADER: 1,
        biologic_mpt.REASON_SHORT: 2,
        biologic_mpt.REASON_TIME: 1,
    }
    assert data.meta.rows_read == 6
    assert data.meta.rows_read + sum(data.meta.rows_skipped.values()) == len(body)
    kept = [0, 1, 2, 3, 6, 7]
    np.testing.assert_array_equal(data.column("time_s"), [10.0 * i for i in kept])


def test_non_numeric_value_in_another_column_is_missing_and_reported(tmp_path):
    rows = _rows()
    rows[2][COLUMNS.index("(Q-Qo)/mA.h")] = "n/a?"
    data = read(_write(tmp_path, _mpt(rows)))
    assert len(data) == 6
    assert np.isnan(data.column("charge_ah")[2])
    assert any("1 non-numeric value(s) in column '(Q-Qo)/mA.h'" in w for w in data.meta.warnings)


def test_duplicate_column_keeps_the_first(tmp_path):
    columns = COLUMNS + ["Ewe/V"]
    rows = [r + ["9.9"] for r in _rows()]
    data = read(_write(tmp_path, _mpt(rows, columns=columns)))
    np.testing.assert_allclose(data.column("voltage_v"), 3.0 + 0.01 * np.arange(6))
    assert any("duplicate column 'Ewe/V'" in w for w in data.meta.warnings)


def test_three_line_header(tmp_path):
    text = "EC-Lab ASCII FILE\nNb header lines : 3\n" + "\t".join(COLUMNS) + "\n" + "\n".join(
        "\t".join(r) for r in _rows()) + "\n"
    data = read(_write(tmp_path, text))
    assert len(data) == 6 and data.meta.technique is None and data.meta.start_time is None
    assert data.meta.extra["header_lines"] == 3 and not data.meta.extra["header_block"]


def test_headerless_file_named_txt(tmp_path):
    text = "\t".join(COLUMNS) + "\n" + "\n".join("\t".join(r) for r in _rows()) + "\n"
    path = _write(tmp_path, text, name="export.txt")
    data = read(path)
    assert data.meta.reader == "biologic-mpt" and len(data) == 6


def test_absolute_times_with_an_unreadable_one(tmp_path):
    text = (
        "mode;ox;time/s;Ecell/V;I/mA\n"
        "1;1;05/05/2021 23:59:59.500;3.5;100\n"
        "1;1;05/06/2021 00:00:01;3.6;100\n"  # no fraction: still read
        "1;1;yesterday;3.7;100\n"
        "3;1;05/06/2021 00:00:02,250;3.7;0\n"  # decimal comma in the seconds
    )
    data = read(_write(tmp_path, text, name="stamps.csv"))
    np.testing.assert_allclose(data.column("time_s"), [0.0, 1.5, 2.75])
    assert data.meta.rows_skipped == {biologic_mpt.REASON_TIME: 1}
    assert data.meta.start_time == datetime(2021, 5, 5, 23, 59, 59, 500000)


def test_header_only_is_an_empty_run(tmp_path):
    data = read(_write(tmp_path, _mpt([])))
    assert data.is_empty
    assert any("no data rows" in w for w in data.meta.warnings)


def test_mode_rest_without_current_gives_zero(tmp_path):
    columns = ["mode", "error", "time/s", "Ewe/V"]
    rows = [["3", "0", f"{i:.3E}", "2.5"] for i in range(4)]
    data = read(_write(tmp_path, _mpt(rows, columns=columns)))
    np.testing.assert_array_equal(data.column("current_a"), np.zeros(4))


def test_flag_byte_in_mode_is_masked_and_other_mode_values_are_refused(tmp_path):
    columns = ["mode", "ox/red", "time/s", "Ewe/V", "I/mA"]
    # flag bytes as BT-Lab's CSV writes them: 0b10101 = 21 (mode 1, ox 1), 0b10111 = 23 (rest)
    rows = [["21", "21", "0", "3.0", "1.0"], ["21", "21", "1", "3.1", "1.0"], ["23", "23", "2", "3.1", "0"]]
    data = read(_write(tmp_path, _mpt(rows, columns=columns), name="flags.mpt"))
    np.testing.assert_array_equal(data.column("control_mode"), [1, 1, 3])
    bad = [["1", "1", "0", "3.0", "1.0"], ["7.5", "1", "1", "3.1", "1.0"]]
    data = read(_write(tmp_path, _mpt(bad, columns=columns), name="bad.mpt"))
    assert "control_mode" not in data.frame
    assert any("'mode' holds values other than 0-3" in w for w in data.meta.warnings)


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("EC-Lab ASCII FILE\nNb header lines : 40\nshort\n", CorruptFileError, "file ends"),
        ("EC-Lab ASCII FILE\nsomething else\n", CorruptFileError, "Nb header lines"),
        ("EC-Lab ASCII FILE\nNb header lines : 1\n", CorruptFileError, "below 3"),
        ("EC-Lab ASCII FILE\nNb header lines : 3\nfoo\tbar\n1\t2\n", CorruptFileError, "neither time/s"),
        ("mode\tEwe/V\tI/mA\n3\t2.5\t0\n", MissingColumnError, "no time/s"),
    ],
)
def test_bad_files_raise_input_errors(tmp_path, text, error, match):
    path = _write(tmp_path, text)
    with pytest.raises(error, match=match) as info:
        read(path, reader="biologic-mpt")
    assert isinstance(info.value, InputError)
    assert info.value.hint and info.value.path == str(path)


def test_sniff_rejects_other_tables(tmp_path):
    for head in (b"time,voltage,current\n0,3.1,0.1\n", b"Test Time (s)\tVoltage (V)\n", b"\x00\x01binary",
                 b"Ewe/V\tfoo\n1\t2\n"):
        assert not biologic_mpt.READER.sniff(head, tmp_path / "x.csv")
    assert biologic_mpt.READER.sniff(b"BT-Lab ASCII FILE\r\nNb header lines : 3\r\n", tmp_path / "x.txt")
    assert biologic_mpt.READER.sniff(b";mode;ox;time/s;Ecell/V\n", tmp_path / "x.csv")


def test_large_file_reads_fast(tmp_path):
    """300 000 rows x 9 columns: vectorised parsing, not a Python loop per row."""
    n = 300_000
    i = np.arange(n)
    frame = pd.DataFrame({
        "mode": 1, "ox/red": (i // 1000) % 2, "time/s": i * 1.0, "Ewe/V": 3.0 + 1e-6 * i,
        "I/mA": np.where((i // 1000) % 2 == 1, 1.0, -1.0), "(Q-Qo)/mA.h": 1e-3 * i, "half cycle": i // 1000,
        "cycle number": i // 2000 + 1, "Ns": 1,
    })
    body = frame.to_csv(sep="\t", index=False, header=False, float_format="%.7E")
    path = tmp_path / "big.mpt"
    path.write_text(_mpt([]).rstrip("\r\n") + "\r\n" + body, encoding="latin-1")
    start = time.perf_counter()
    data = read(path)
    elapsed = time.perf_counter() - start
    print(f"\n300k-row .mpt read in {elapsed:.2f} s")
    assert len(data) == n
    np.testing.assert_allclose(data.column("voltage_v"), 3.0 + 1e-6 * i, rtol=1e-7)
    assert elapsed < 15.0


# ----------------------------------------------------------------------------------------------
# robustness: arbitrary lines in the data block


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_good_line = st.builds(lambda i: "\t".join(_rows(12)[i]), st.integers(0, 11))
_junk_line = st.one_of(
    st.just(""), st.just("\t".join(COLUMNS)), st.text(alphabet="0123456789.,E+-\tabc µ°;", max_size=60),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(_good_line, _junk_line), max_size=25))
def test_any_data_block_reads_or_raises_an_input_error(tmp_path, lines):
    """Whatever lines follow the header: a CyclingData or an InputError, never a traceback; and
    every line is either a point or counted in rows_skipped."""
    path = tmp_path / "fuzz.mpt"
    path.write_bytes(_mpt(lines).encode("utf-8"))
    try:
        data = read(path)
    except InputError:
        return
    assert data.meta.rows_read + sum(data.meta.rows_skipped.values()) == len(lines)
