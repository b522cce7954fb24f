"""Reliability (docs/reliability.md): every damaged or degenerate input ends in a CyclingData or an
InputError (the CLI's exit 3 with one line); nothing raises anything else, nothing allocates what
a length field claims, and a file cut while it is being written reads its complete records.

The longer mutation run is ``benchmarks/fuzz.py``; here: a short hypothesis run over the same
mutations on a few small real and sample files, the 20-position cut of a real ``.mpr`` and a
real CSV, the 2**40-byte declared data module, and degenerate runs through ``cycler cycles`` and
``cycler check``.
"""

from __future__ import annotations

import struct
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cycler_cli.errors import CorruptFileError, InputError
from cycler_cli.io.registry import read
from cycler_cli.model import CyclingData
from tests.conftest import REALDATA, ROOT, SAMPLES

sys.path.insert(0, str(ROOT / "benchmarks"))
import fuzz  # noqa: E402


def _outcome(path: Path) -> CyclingData | InputError:
    """Read ``path``: a CyclingData, or the InputError it raised (one line, naming the file)."""
    try:
        data = read(path)
    except InputError as exc:
        line = exc.one_line()
        assert "\n" not in line and str(path) in line, line
        return exc
    assert isinstance(data, CyclingData)
    assert data.meta.rows_read == len(data.frame)
    assert all(count > 0 for count in data.meta.rows_skipped.values())
    return data


# ------------------------------------------------------------------ hypothesis over the fuzz mutations

SMALL_REAL = [
    "yadg/gcpl.issue_226.I.mpr",  # .mpr, data module v0
    "yadg/cp.issue_149.mpt",
    "PyProBE/sample_data_arbin.csv",
    "PyProBE/sample_data_maccor.csv",
    "cellpy/Test25195.csv",  # PEC
    "battery-data-toolkit/maccor_example.001",
]
SMALL_SAMPLES = ["li-lzp-ltp_50C.mpr"]


def _small_files() -> list[Path]:
    files = [SAMPLES / name for name in SMALL_SAMPLES]
    if REALDATA.is_dir():
        files += [REALDATA / rel for rel in SMALL_REAL]
    return files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    index=st.integers(0, 100),
    mutation=st.sampled_from(sorted(fuzz.MUTATIONS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_mutated_small_files_read_or_exit_3(tmp_path, index, mutation, seed):
    import random

    files = _small_files()
    source = files[index % len(files)]
    raw = source.read_bytes()
    rng = random.Random(seed)
    if mutation == "foreign":
        data, _ = fuzz.m_foreign(raw, rng, [f for f in files if f != source])
    else:
        data, _ = fuzz.MUTATIONS[mutation](raw, rng)
    path = tmp_path / source.name
    path.write_bytes(data)
    _outcome(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1), writes=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)), max_size=6))
def test_raw_byte_damage_to_a_sample_mpr_reads_or_exits_3(tmp_path, cut, writes):
    raw = bytearray((SAMPLES / "li-lzp-ltp_50C.mpr").read_bytes())
    for where, blob in writes:
        at = int(where * (len(raw) - len(blob)))
        raw[at : at + len(blob)] = blob
    path = tmp_path / "damaged.mpr"
    path.write_bytes(bytes(raw[: int(cut * len(raw))]))
    _outcome(path)


def test_the_fuzz_mutations_are_reproducible_and_change_the_file():
    files = _small_files()
    changed = 0
    for index in range(40):
        a = fuzz.make_case(index, 7, files)
        b = fuzz.make_case(index, 7, files)
        assert a[1:] == b[1:]
        changed += a[2] != a[0].read_bytes()
    assert changed >= 35  # a few mutations can be no-ops (e.g. a swap of equal lines)


# ------------------------------------------------------------------ cut a real .mpr at 20 positions


def _mpr_layout(raw: bytes) -> tuple[int, int, int, int]:
    """(records start, record bytes, declared points, data module end) from the module headers,
    walked here independently of the reader."""
    pos = 52
    while pos < len(raw):
        v2 = raw[pos + 41 : pos + 45] == b"\xff\xff\xff\xff"
        length = struct.unpack_from("<I", raw, pos + (45 if v2 else 41))[0]
        version = struct.unpack_from("<I", raw, pos + (49 if v2 else 45))[0]
        start = pos + 6 + (59 if v2 else 51)
        if raw[pos + 6 : pos + 14] == b"VMP data":
            n_points = struct.unpack_from("<I", raw, start)[0]
            records_at = {2: 405, 3: 406}.get(version) or (100 if raw[start + 5] else 1007)
            record_bytes, rest = divmod(length - records_at, n_points)
            assert rest == 0
            return start + records_at, record_bytes, n_points, start + length
        pos = start + length
    raise AssertionError("no data module")


@pytest.mark.parametrize("relpath", ["yadg/gcpl.pr_182.1.mpr", "yadg/gcpl.issue_149.mpr"])
def test_real_mpr_cut_at_20_positions_reads_its_complete_records(realdata, tmp_path, relpath):
    raw = (realdata / relpath).read_bytes()
    records_at, record_bytes, n_points, data_end = _mpr_layout(raw)
    positions = np.linspace(0, len(raw), 21)[:-1].astype(int)
    positions[1::4] = np.minimum(positions[1::4] + record_bytes // 2, len(raw) - 1)  # some mid-record
    outcomes = {"data": 0, "exit 3": 0}
    for cut in positions:
        path = tmp_path / f"cut{cut}.mpr"
        path.write_bytes(raw[:cut])
        result = _outcome(path)
        if cut < records_at:
            assert isinstance(result, InputError), f"cut at {cut}, before the records at {records_at}"
            outcomes["exit 3"] += 1
            continue
        assert isinstance(result, CyclingData), f"cut at {cut}: {result}"
        outcomes["data"] += 1
        complete, partial = divmod(min(cut, data_end) - records_at, record_bytes)
        assert result.meta.rows_read == min(complete, n_points)
        if cut < data_end:
            assert any(f"{complete} of {n_points} declared records read" in w for w in result.meta.warnings)
            assert result.meta.rows_skipped == ({"partial last record": 1} if partial else {})
        else:
            assert result.meta.rows_skipped == {}
    assert outcomes["data"] >= 10 and outcomes["exit 3"] >= 1


# ------------------------------------------------------------------ cut a real CSV at 20 positions


@pytest.mark.parametrize(
    ("relpath", "header_lines"),
    [("battery-data-toolkit/arbin_example.csv", 1), ("beep/PredictionDiagnostics_000151_test.052", 2)],
)
def test_real_csv_cut_at_20_positions_reads_its_complete_lines(realdata, tmp_path, relpath, header_lines):
    raw = (realdata / relpath).read_bytes()
    lines = raw.splitlines(keepends=True)
    header_end = sum(len(line) for line in lines[:header_lines])
    sep = b"\t" if b"\t" in lines[header_lines - 1] else b","
    n_fields = lines[header_lines - 1].rstrip(b"\r\n").count(sep) + 1
    positions = np.linspace(0, len(raw), 21)[1:].astype(int)
    for cut in positions:
        path = tmp_path / Path(relpath).name
        path.write_bytes(raw[:cut])
        result = _outcome(path)
        if cut <= header_end:
            assert isinstance(result, InputError)
            continue
        assert isinstance(result, CyclingData), f"cut at {cut}: {result}"
        body = raw[header_end:cut]
        complete = body.count(b"\n")
        tail = body[body.rfind(b"\n") + 1 :]
        blank = sum(1 for line in body.splitlines() if not line.strip())
        partial = 1 if tail.strip() else 0
        meta = result.meta
        # every line of the cut file is accounted for, and every complete line is read
        assert meta.rows_read + sum(meta.rows_skipped.values()) == complete + partial, (cut, meta.rows_skipped)
        assert meta.rows_read >= complete - blank, (cut, meta.rows_read, complete)
        if partial and tail.rstrip(b"\r").count(sep) + 1 < n_fields:
            # a cut line that lost whole fields is never read as a row
            assert meta.rows_read == complete - blank, (cut, tail[-40:], meta.rows_skipped)
            assert sum(meta.rows_skipped.values()) == partial + blank


@pytest.mark.parametrize("relpath", ["yadg/gcpl.issue_211.mpt", "yadg/gcpl.issue_149.mpt"])
def test_real_mpt_cut_at_20_positions_reads_complete_lines_and_skips_the_cut_one(realdata, tmp_path, relpath):
    """EC-Lab writes every value in a fixed scientific format, so a line cut anywhere (even
    inside its last value) is recognised and skipped as partial; a line that lost only its
    line end is complete and read."""
    import re

    raw = (realdata / relpath).read_bytes()
    header_lines = int(re.search(rb"Nb header lines\s*:\s*(\d+)", raw).group(1))
    lines = raw.splitlines(keepends=True)
    header_end = sum(len(line) for line in lines[:header_lines])
    last_full = lines[-1].rstrip(b"\r\n")
    positions = list(np.linspace(header_end + 1, len(raw), 20).astype(int))
    positions[-2] = len(raw) - len(lines[-1]) + len(last_full)  # a line complete but for its end
    for cut in positions:
        path = tmp_path / Path(relpath).name
        path.write_bytes(raw[:cut])
        result = _outcome(path)
        assert isinstance(result, CyclingData), f"cut at {cut}: {result}"
        body = raw[header_end:cut]
        complete = body.count(b"\n")
        tail = body[body.rfind(b"\n") + 1 :].rstrip(b"\r")
        tail_line = next(line for line in lines[header_lines:] if line.startswith(tail)) if tail else b""
        whole = bool(tail) and tail == tail_line.rstrip(b"\r\n")
        meta = result.meta
        assert meta.rows_read == complete + whole, (cut, tail[-30:], meta.rows_skipped)
        partial = bool(tail) and not whole
        assert meta.rows_skipped == ({"partial last line (the file ends inside it)": 1} if partial else {}), cut


# ------------------------------------------------------------------ a 2**40-byte data module


def _synthetic_mpr(n_points: int, module_length: int, column_ids: list[int], records: bytes) -> bytes:
    """A minimal v2-header .mpr: settings module, then a version-3 data module."""
    def module(short: bytes, payload: bytes, version: int, length: int | None = None) -> bytes:
        hdr = struct.pack(
            "<10s25sIIII8s", short.ljust(10), short.ljust(25), 0xFFFFFFFF,
            len(payload) if length is None else length, version, 11, b"01/01/25",
        )
        return b"MODULE" + hdr + payload

    settings_payload = bytes([5]) + bytes(0x260)
    header = struct.pack("<IB", n_points, len(column_ids)) + struct.pack(f"<{len(column_ids)}H", *column_ids)
    data_payload = header.ljust(406, b"\x00") + records
    return (
        b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"
        + module(b"VMP Set", settings_payload, 0)
        + module(b"VMP data", data_payload, 3, module_length)
    )


def test_data_module_declaring_2_to_the_40_bytes_exits_3_at_once_without_allocating(cli, tmp_path):
    """No .mpr length field is 64 bits wide (module length, max length and point count are u32),
    so the largest data a file can declare is points x record size. Here 2**31 points of 512-byte
    records (64 float64 time columns) = 2**40 bytes, with the module length at its u32 maximum:
    a read that trusted either figure would try to allocate 1 TiB."""
    column_ids = [7] * 64  # time/s, <f8: 512-byte records
    assert 2**31 * 64 * 8 == 2**40
    raw = _synthetic_mpr(2**31, 0xFFFFFFFF, column_ids, bytes(512 * 3))
    path = tmp_path / "huge.mpr"
    path.write_bytes(raw)
    ok = tmp_path / "ok.mpr"
    ok.write_bytes(_synthetic_mpr(3, 406 + 512 * 3, column_ids, bytes(512 * 3)))
    with pytest.raises(InputError):  # imports done (and the plain file's verdict known) before timing
        read(ok)  # 64 time columns and no voltage: not a cycling run, but parsed
    t0 = time.perf_counter()
    tracemalloc.start()
    with pytest.raises(CorruptFileError) as info:
        read(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - t0 < 1.0
    assert peak < 5 * len(raw) + 1_000_000, f"peak {peak} bytes for a {len(raw)}-byte file"
    assert "declares" in info.value.message
    result = cli("cycles", str(path))
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr


def test_data_module_length_consistent_with_2_to_the_40_bytes_but_absent_exits_3(tmp_path):
    """The same 2**40-byte claim made consistently (points x record size agrees with what is
    present, but the file ends): the module says it holds the bytes the file lacks."""
    column_ids = [7] * 64
    raw = _synthetic_mpr(2**31, 0xFFFFFFFF, column_ids, b"")
    path = tmp_path / "huge-empty.mpr"
    path.write_bytes(raw)
    t0 = time.perf_counter()
    with pytest.raises(InputError):
        read(path)
    assert time.perf_counter() - t0 < 1.0


def test_real_mpr_with_the_largest_declarable_lengths_exits_3_at_once(realdata, tmp_path):
    """A real file with its data module's length and point count both set to 0xFFFFFFFF (the
    most a u32 can declare: 4 GiB of module, ~2**37 bytes of records)."""
    raw = bytearray((realdata / "yadg" / "gcpl.pr_182.1.mpr").read_bytes())
    pos = raw.index(b"MODULEVMP data")
    struct.pack_into("<I", raw, pos + 45, 0xFFFFFFFF)  # v2 header: length after max length
    struct.pack_into("<I", raw, pos + 65, 0xFFFFFFFF)  # n_points
    path = tmp_path / "huge.mpr"
    path.write_bytes(bytes(raw))
    read(realdata / "yadg" / "gcpl.pr_182.1.mpr")
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(InputError):
        read(path)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 5 * len(raw)


# ------------------------------------------------------------------ degenerate but readable runs


def _csv(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def _cycling_rows(n_half: int = 6, points: int = 20) -> list[str]:
    rows, t = [], 0.0
    for h in range(n_half):
        current = 0.001 if h % 2 == 0 else -0.001
        for k in range(points):
            v = 3.5 + (0.01 * k if current > 0 else -0.01 * k)
            rows.append(f"{t:.1f},{v:.4f},{current}")
            t += 10.0
    return rows


DEGENERATE = {
    "one-point": ("time_s,voltage_v,current_a", ["0,3.7,0.001"]),
    "header-only": ("time_s,voltage_v,current_a", []),
    "no-current": ("time_s,voltage_v,current_a", [f"{t},3.7,0" for t in range(50)]),
    "all-rest-nan-current": ("time_s,voltage_v,current_a", [f"{t},3.7,nan" for t in range(50)]),
    "nan-inf-values": ("time_s,voltage_v,current_a", [
        r.replace("3.5", "nan") if i % 7 == 0 else r.replace("0.001", "inf") if i % 11 == 0 else r
        for i, r in enumerate(_cycling_rows())
    ]),
    "all-nan-voltage": ("time_s,voltage_v,current_a", [f"{t},nan,{0.001 if t < 25 else -0.001}" for t in range(50)]),
    "non-monotonic-time": ("time_s,voltage_v,current_a", list(reversed(_cycling_rows()))),
    "repeated-time": ("time_s,voltage_v,current_a", [f"0,{r.split(',', 1)[1]}" for r in _cycling_rows()]),
    "duplicated-column": ("time_s,voltage_v,current_a,current_a", [r + ",0.5" for r in _cycling_rows()]),
    "missing-current": ("time_s,voltage_v", [",".join(r.split(",")[:2]) for r in _cycling_rows()]),
    "huge-current": ("time_s,voltage_v,current_a", [r.replace("0.001", "1e300") for r in _cycling_rows()]),
    "one-direction": ("time_s,voltage_v,current_a", [f"{t},{3 + t / 100},0.001" for t in range(50)]),
}


@pytest.mark.parametrize("command", ["cycles", "check"])
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_runs_give_a_result_or_one_line_exit_3(cli, tmp_path, command, case):
    header, rows = DEGENERATE[case]
    path = _csv(tmp_path, f"{case}.csv", header, rows)
    result = cli(command, str(path))
    assert result.exit_code in (0, 1, 3), (result.exit_code, result.stderr[-500:])
    if result.exit_code == 3:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert str(path) in lines[0] and " -- " in lines[0], lines[0]  # the file, the problem, the fix
        assert "Traceback" not in result.stderr


def test_empty_file_exits_3_with_one_line(cli, tmp_path):
    path = tmp_path / "empty.mpr"
    path.write_bytes(b"")
    result = cli("cycles", str(path))
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "empty" in result.stderr


# ------------------------------------------------------------------ the fault model, one case each


def test_a_pipe_or_a_device_exits_3_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "run.mpr"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    for path in (fifo, Path("/dev/zero")):
        if not path.exists():
            continue
        t0 = time.perf_counter()
        result = _outcome(path)
        assert isinstance(result, InputError) and "not a regular file" in result.message
        assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("run.mpr", b""),  # zero-length
        ("run.mpr", b"\x89PNG\r\n\x1a\n" + bytes(200)),  # wrong format under the right extension
        ("run.mpr", b"BIO-LOGIC MODULAR FILE\x1a"),  # the magic and nothing else
        ("run.mpt", b"EC-Lab ASCII FILE\r\nNb header lines : 99999999999\r\n"),  # absurd header count
        ("run.csv", bytes(range(256)) * 40),  # binary junk under .csv
        ("run.csv", "time_s,voltage_v,current_a\n".encode("utf-16")),  # UTF-16 header, no rows
        ("run.csv", b"time_s,voltage_v,current_a\n\xff\xfe,\xb5,\x80\n"),  # non-UTF-8 values
    ],
)
def test_fault_model_cases_exit_3_with_one_line(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert isinstance(_outcome(path), InputError)


def test_repeated_header_line_inside_the_data_is_counted_not_read(tmp_path):
    rows = _cycling_rows()
    path = _csv(tmp_path, "run.csv", "time_s,voltage_v,current_a", rows[:50] + ["time_s,voltage_v,current_a"] + rows[50:])
    result = _outcome(path)
    assert isinstance(result, CyclingData)
    assert result.meta.rows_read == len(rows)
    assert sum(result.meta.rows_skipped.values()) == 1


def test_the_report_carries_rows_read_and_skipped(cli, tmp_path):
    import json

    rows = _cycling_rows()
    path = _csv(tmp_path, "run.csv", "time_s,voltage_v,current_a", rows[:30] + ["", "time_s,voltage_v,current_a"] + rows[30:])
    result = cli("cycles", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    expected = f"reader: {len(rows)} rows read, 2 skipped: "
    assert any(w.startswith(expected) for w in warnings), warnings
    result = cli("check", str(path), "--format", "json")
    analysis = json.loads(result.stdout)["files"][0]["analysis"]
    assert any(w.startswith(expected) for w in analysis["warnings"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("oneline.csv", b"time_s,voltage_v,current_a" + b",x" * 1_000_000),  # 2 MB, no line end
        ("numbers.csv", b"1.0," * 1_000_000),
        ("longlast.csv", b"time_s,voltage_v,current_a\n" + b"1,2,3\n" * 10 + b"9" * 2_000_000),
        ("manycols.csv", (",".join(f"c{i}" for i in range(50_000)) + "\n").encode() * 3),
        ("tabs.mpt", b"EC-Lab ASCII FILE\r\nNb header lines : 3\r\ntime/s\tEwe/V\tI/mA\r\n" + b"\t" * 2_000_000),
        ("blank.csv", b"time_s,voltage_v,current_a\n" + b"\n" * 2_000_000),
        ("paren.csv", b"Current (" + b"(" * 100_000 + b"mA)\n"),
        # a header-line count far beyond 2 million short lines: checked before any loop
        ("hugecount.mpt", b"EC-Lab ASCII FILE\r\nNb header lines : 1000000000000\r\n" + b"\n" * 2_000_000),
    ],
)
def test_pathological_text_ends_quickly(tmp_path, name, content):
    """Giant lines, giant headers, millions of blank lines: no regex or loop blows up."""
    path = tmp_path / name
    path.write_bytes(content)
    t0 = time.perf_counter()
    _outcome(path)
    assert time.perf_counter() - t0 < 5.0


# ------------------------------------------------------------------ damaged files behind third-party libraries


@pytest.mark.parametrize(
    ("relpath", "damage"),
    [
        ("navani/test.ndax", "truncate"),  # zipfile.BadZipFile inside NewareNDA
        ("navani/test.ndax", "flip-deflate"),  # zlib.error inside NewareNDA
        ("navani/test.nda", "rename-ndax"),  # an .nda under a name NewareNDA rejects (TypeError)
        ("navani/bs542_004_gr_li_50ua_50mv_1v_191020_Channel_11.xlsx", "flip-deflate"),  # calamine XML errors
    ],
)
def test_damaged_binary_exports_exit_3(realdata, tmp_path, relpath, damage):
    pytest.importorskip("NewareNDA") if relpath.endswith((".nda", ".ndax")) else pytest.importorskip("python_calamine")
    raw = bytearray((realdata / relpath).read_bytes())
    name = Path(relpath).name
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip-deflate":
        for at in range(len(raw) // 4, len(raw) * 3 // 4, 997):  # inside the compressed members
            raw[at] ^= 0x55
    elif damage == "rename-ndax":
        name = "foreign.mgr"
    path = tmp_path / name
    path.write_bytes(bytes(raw))
    result = _outcome(path)
    if damage == "rename-ndax":
        return  # the content is still a Neware file: read by content, or refused with one line
    assert isinstance(result, InputError)


def test_a_vendor_csv_cut_inside_its_last_line_skips_it_and_says_so(tmp_path):
    rows = _cycling_rows()
    text = "time_s,voltage_v,current_a\n" + "".join(r + "\n" for r in rows)
    path = tmp_path / "run.csv"
    path.write_text(text[: text.rindex(",")])  # the last line lost its current
    result = _outcome(path)
    assert isinstance(result, CyclingData)
    assert result.meta.rows_read == len(rows) - 1
    assert result.meta.rows_skipped == {"partial last line (the file ends inside it)": 1}
    assert any("ends inside its last line" in w for w in result.meta.warnings)
    path.write_text(text.rstrip("\n"))  # complete, only the final line end missing: read
    assert _outcome(path).meta.rows_read == len(rows)


def test_one_point_with_current_is_not_called_a_rest():
    from cycler_cli.analysis import analyze
    from cycler_cli.errors import NoDataError
    from cycler_cli.model import RunMeta, build_frame

    frame = build_frame({"time_s": [0.0], "voltage_v": [3.7], "current_a": [0.001], "cycle": [1], "half_cycle": [1], "step": [0]})
    with pytest.raises(NoDataError) as info:
        analyze(CyclingData(frame, RunMeta(source="one.csv", reader="test")))
    assert "every point is a rest" not in info.value.message and "too few" in info.value.message
