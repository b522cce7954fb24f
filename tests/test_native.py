"""The compiled kernels (``cycler_cli/_native.c``) give the numpy code's results, bit for bit.

Each kernel is run against its numpy reference (the same function with ``CYCLER_NATIVE=0``) on
random inputs built to hit every branch (NaN and infinite values, time going backwards or
standing still, rests, single-point runs, pieces longer than numpy's 128-term pairwise block and
than an analysis block) and on every real ``.mpr`` file, read and analysed both ways. Without
the module (no C compiler at install time) these tests skip, except the one that says whether
it should have been built."""

from __future__ import annotations

import json
import shutil
import sys
import sysconfig

import numpy as np
import pytest

from cycler_cli import native, threads
from cycler_cli.analysis import segment
from cycler_cli.io import biologic_mpr
from cycler_cli.io.biologic_common import _RATIO_HIGH, _RATIO_LOW, CurrentDerivation
from tests.conftest import SAMPLES, realdata_dir

needs_native = pytest.mark.skipif(not native.built(), reason="cycler_cli._native was not built (no C compiler at install time)")


def test_the_extension_is_built_where_a_c_compiler_is() -> None:
    from pathlib import Path

    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if sys.platform == "win32" or shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}) here: cycler runs its numpy code")
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not header.is_file():
        pytest.skip(f"no Python headers ({header}; the python3-dev package): cycler runs its numpy code")
    assert native.built(), "a C compiler and Python.h are here but cycler_cli._native is missing: reinstall (pip install -e .)"


@needs_native
def test_cycler_native_0_turns_the_kernels_off(monkeypatch) -> None:
    monkeypatch.setenv("CYCLER_NATIVE", "0")
    assert native.kernels() is None
    monkeypatch.setenv("CYCLER_NATIVE", "1")
    assert native.kernels() is not None


def _both(monkeypatch, fn):
    """``fn()`` with the kernels on, then off."""
    monkeypatch.setenv("CYCLER_NATIVE", "1")
    on = fn()
    monkeypatch.setenv("CYCLER_NATIVE", "0")
    off = fn()
    monkeypatch.delenv("CYCLER_NATIVE")
    return on, off


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --- the .mpr read ----------------------------------------------------------------------------


def _assert_same_read(a, b) -> None:
    assert a.column_names == b.column_names
    for name in a.column_names:
        assert _same_bits(a.column(name), b.column(name)), name
    assert a.meta.to_dict() == b.meta.to_dict()


@needs_native
@pytest.mark.parametrize("chunk_bytes", [1 << 19, 7 * 53])
def test_read_with_and_without_kernels_is_the_same_on_every_real_and_sample_file(monkeypatch, chunk_bytes) -> None:
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", chunk_bytes)
    files = sorted(realdata_dir().rglob("*.mpr")) + sorted(SAMPLES.glob("*.mpr"))
    read = 0
    for path in files:
        if chunk_bytes < 4096 and path.stat().st_size > 2_000_000:
            continue
        try:
            on, off = _both(monkeypatch, lambda: biologic_mpr.read_mpr(path))
        except Exception as exc:  # an unreadable file must fail the same way both ways
            monkeypatch.setenv("CYCLER_NATIVE", "0")
            with pytest.raises(type(exc)):
                biologic_mpr.read_mpr(path)
            monkeypatch.delenv("CYCLER_NATIVE")
            continue
        _assert_same_read(on, off)
        read += 1
    assert read >= 20


_FIELD_TYPES = ["|u1", "<u2", "<u4", "<u8", "|i1", "<i2", "<i4", "<i8", "<f4", "<f8"]


@needs_native
def test_gather_converts_every_field_type_as_numpy_does() -> None:
    rng = np.random.default_rng(7)
    dtype = np.dtype([("flags", "|u1")] + [(f"f{i}", t) for i, t in enumerate(_FIELD_TYPES)])
    n = 5_000
    records = np.frombuffer(rng.integers(0, 256, size=n * dtype.itemsize, dtype=np.uint8).tobytes(), dtype=dtype)
    records = records.copy()
    for name in ("f8", "f9"):  # floats: NaN, infinities, signed zeros, subnormals among random bits
        records[name][:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1.0, -1.5]
    for i, src in enumerate(_FIELD_TYPES):
        name = f"f{i}"
        offset = dtype.fields[name][1]
        for dst in {src, "<f8", "<i8"}:
            codes = native.field_code(src, dst)
            if codes is None:
                assert dst == "<i8" and src[1] == "f"  # floats to int64 stay with numpy
                continue
            out = np.empty(n + 3, dtype=dst)
            native._module.gather(records, n, dtype.itemsize, 3, [(offset, codes[0], out, codes[1], 0)])
            with np.errstate(invalid="ignore"):
                expected = records[name].astype(dst)
            assert _same_bits(out[3:], expected), (src, dst)
    for mask in (1, 3, 4, 128, 255):
        for dst in ("|u1", "|b1"):
            out = np.empty(n, dtype=dst)
            s, d = native.field_code("|u1", dst, mask)
            native._module.gather(records, n, dtype.itemsize, 0, [(0, s, out, d, mask)])
            expected = records["flags"] & np.uint8(mask)
            assert _same_bits(out, expected if dst == "|u1" else expected != 0), (mask, dst)


@needs_native
def test_gather_refuses_what_it_cannot_do() -> None:
    out = np.empty(10)
    buf = np.zeros(100, dtype=np.uint8)
    k = native._module
    with pytest.raises(ValueError):
        k.gather(buf, 20, 10, 0, [(0, native.TYPE_CODES["<f8"], out, native.F8, 0)])  # 20 records of 10 bytes > 100
    with pytest.raises(ValueError):
        k.gather(buf, 10, 10, 5, [(0, native.TYPE_CODES["<f8"], out, native.F8, 0)])  # column too short from 5
    with pytest.raises(ValueError):
        k.gather(buf, 10, 10, 0, [(4, native.TYPE_CODES["<f8"], out, native.F8, 0)])  # field runs past the record
    with pytest.raises(ValueError):
        k.gather(buf, 10, 10, 0, [(0, native.TYPE_CODES["<f8"], out, native.I8, 0)])  # float to int64


@needs_native
def test_segmentation_kernels_refuse_bad_half_cycle_starts() -> None:
    n = 100
    t, v, c = np.arange(n, dtype=float), np.ones(n), np.ones(n)
    s = np.ones(n, dtype=np.int8)
    for bad in ([5, 5], [7, 3], [-1, 4], [3, n]):
        first_on = np.array(bad, dtype=np.int64)
        acc_q, acc_e = np.zeros(3), np.zeros(3)
        with pytest.raises(ValueError):
            native._module.integrals(t, v, c, s, first_on, 16, acc_q, acc_e)
        with pytest.raises(ValueError):
            native._module.charge_column(c, s, first_on, np.zeros(3, dtype=np.int8), 16, acc_q)


def _random_run(rng, n: int, dq_type: str, control_type: str):
    dtype = np.dtype([("flags", "|u1"), ("control", control_type), ("dq", dq_type)])
    rec = np.zeros(n, dtype=dtype)
    mode = rng.choice(np.array([0, 1, 2, 3], dtype=np.uint8), size=n, p=[0.05, 0.55, 0.1, 0.3])
    rec["flags"] = mode
    step = rng.choice([1.0, 0.0, -1.0, 2.5], size=n, p=[0.9, 0.04, 0.03, 0.03])
    time_s = np.cumsum(step)
    time_s[rng.random(n) < 0.005] = np.nan
    control = rng.normal(1.0, 0.5, n)
    control[rng.random(n) < 0.02] = 0.0
    control[rng.random(n) < 0.01] = np.nan
    rec["control"] = control
    dq = control / 3600.0 * rng.normal(1.0, 0.03, n)
    dq[rng.random(n) < 0.01] = np.inf
    dq[rng.random(n) < 0.01] = np.nan
    rec["dq"] = dq
    return rec, time_s, mode


@needs_native
@pytest.mark.parametrize("dq_type,control_type", [("<f8", "<f4"), ("<f4", "<f4"), ("<f8", "<f8")])
@pytest.mark.parametrize("kind", ["set point", "set point, no dq", "charge", "charge, no mode"])
def test_derive_equals_current_derivation_add(dq_type, control_type, kind) -> None:
    rng = np.random.default_rng(abs(hash((dq_type, control_type, kind))) % 2**32)
    n = 20_000
    rec, time_s, mode = _random_run(rng, n, dq_type, control_type)
    names = {"mode": 1, "control/V/mA": 1, "dq/mA.h": 1}
    if kind == "set point, no dq":
        del names["dq/mA.h"]
    if kind.startswith("charge"):
        del names["control/V/mA"]
    if kind == "charge, no mode":
        del names["mode"]
    fields = {"control/V/mA": "control", "dq/mA.h": "dq"}
    offsets = {name: (rec.dtype.fields[f][1], rec.dtype[f].str) for name, f in fields.items()}
    numpy_way, kernel_way = CurrentDerivation(names, n), CurrentDerivation(names, n)
    plan = kernel_way.native_plan(lambda name: offsets[name])
    assert plan is not None
    for a in range(0, n, 777):  # chunk edges inside the Δt of dq/Δt
        b = min(a + 777, n)
        feed = {key: (mode[a:b] if key == "mode" else rec[fields[name]][a:b]) for key, name in numpy_way.needs.items()}
        numpy_way.add(time_s[a:b], **feed)
        kernel_way.add_native(native._module, plan, rec[a:b], b - a, rec.dtype.itemsize, time_s, mode if "mode" in names else None)
    assert _same_bits(kernel_way.current, numpy_way.current)
    assert (kernel_way._n_ratios, kernel_way._n_low, kernel_way._n_high) == (numpy_way._n_ratios, numpy_way._n_low, numpy_way._n_high)
    assert (kernel_way._last_time == numpy_way._last_time) or (np.isnan(kernel_way._last_time) and np.isnan(numpy_way._last_time))
    if kind == "set point":
        assert 0 < numpy_way._n_low < numpy_way._n_ratios and 0 < numpy_way._n_high  # the counts were exercised
    assert _RATIO_LOW < 1 < _RATIO_HIGH


# --- the segmentation -------------------------------------------------------------------------


def _signal(rng, n: int, *, bad: bool):
    """A cycling-like current with runs of every length, rests, blips and, with ``bad``,
    NaN/inf values and time that stands still or goes backwards."""
    lengths = rng.choice([1, 2, 3, 50, 200, 5_000, 90_000], size=n // 500 + 10)
    levels = rng.choice([1e-3, -1e-3, 0.0, 2e-4, -5e-4, 1e-12], size=lengths.size)
    current = np.repeat(levels, lengths)[:n] * rng.normal(1.0, 0.01, size=min(n, int(lengths.sum())))
    current = np.resize(current, n)
    time_s = np.cumsum(rng.choice([1.0, 0.5, 10.0], size=n))
    voltage = 3.5 + 0.01 * np.sign(current) + rng.normal(0, 1e-3, n)
    mode = np.where(current == 0.0, 3, 1).astype(np.int8)
    if bad:
        for arr, vals in ((current, [np.nan, np.inf, -np.inf]), (voltage, [np.nan, np.inf]), (time_s, [np.nan, np.inf])):
            hit = rng.random(n) < 0.001
            arr[hit] = rng.choice(vals, size=int(hit.sum()))
        back = rng.random(n) < 0.001
        time_s[back] -= 5.0
        still = np.flatnonzero(rng.random(n - 1) < 0.001)
        time_s[still + 1] = time_s[still]
    return time_s, voltage, current, mode


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_segmentation_kernels_equal_the_numpy_passes(monkeypatch, seed) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 1_000, 70_000, 300_000]))
    time_s, voltage, current, mode = _signal(rng, n, bad=seed % 2 == 1)
    for control_mode in (None, mode):
        threshold = 1e-6
        on, off = _both(monkeypatch, lambda: segment._sign_and_runs(time_s, current, control_mode, threshold))
        assert _same_bits(on[0], off[0]) and _same_bits(on[1], off[1]) and _same_bits(on[2], off[2])
        assert on[3] == off[3]
        seg_on, seg_off = _both(monkeypatch, lambda: segment.segment_run(time_s, voltage, current, control_mode))
        for name in ("sign", "first_on", "last_on", "step_end", "last", "hc_sign", "charge_ah", "energy_wh"):
            assert _same_bits(getattr(seg_on, name), getattr(seg_off, name)), name
        assert (seg_on.spurious_segments, seg_on.time_backwards) == (seg_off.spurious_segments, seg_off.time_backwards)
        # the file's cumulative charge: the integral of the current, with steps, NaN and inf in it
        with np.errstate(all="ignore"):
            charge = np.concatenate(([0.0], np.cumsum(np.nan_to_num(current[1:]) * np.diff(np.nan_to_num(time_s)) / 3600.0)))
        charge[rng.random(n) < 0.002] = np.nan
        charge[rng.random(n) < 0.001] = np.inf
        charge[rng.random(n) < 0.01] = -0.0
        col_on, col_off = _both(monkeypatch, lambda: segment.charge_from_column(seg_off, charge))
        assert _same_bits(col_on, col_off)
        if n >= 1_000:
            assert seg_on.n_half >= 1 and np.all(seg_on.charge_ah > 0)


@needs_native
def test_analysis_reports_are_the_same_with_and_without_kernels(monkeypatch) -> None:
    from cycler_cli.analysis import analyze
    from cycler_cli.io import read

    files = sorted(realdata_dir().rglob("*.mpr"))[:60] + sorted(SAMPLES.glob("*.mpr"))
    compared = 0
    for path in files:
        if path.stat().st_size > 5_000_000:
            continue

        def report(path=path) -> str:
            try:
                return json.dumps(analyze(read(path)).to_dict(), sort_keys=True, default=str)
            except Exception as exc:  # noqa: BLE001 - the same error both ways
                return f"{type(exc).__name__}: {exc}"

        on, off = _both(monkeypatch, report)
        assert on == off, path.name
        compared += 1
    assert compared >= 20


# --- the read on two threads (biologic_mpr._stage_native) --------------------------------------


def _count_halves(monkeypatch) -> list:
    """Reads on two threads from now on (one entry each), with the kernels on (the two-thread
    read is theirs; whatever CYCLER_THREADS says, and on a one-core machine too)."""
    import os

    monkeypatch.setenv("CYCLER_NATIVE", "1")
    monkeypatch.delenv("CYCLER_THREADS", raising=False)
    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "cpu_count", lambda: max(cores, 2))
    calls: list = []
    real = biologic_mpr._stage_native

    def counted(*args):
        if args[-1]:
            calls.append(args[1].n_read)
        return real(*args)

    monkeypatch.setattr(biologic_mpr, "_stage_native", counted)
    return calls


@needs_native
@pytest.mark.parametrize("chunk_bytes", [4096, 1 << 16])
def test_read_on_two_threads_is_the_same_as_on_one_on_every_real_and_sample_file(monkeypatch, chunk_bytes) -> None:
    """Small chunks, so that most files are long enough for two threads, with their halves cut
    inside runs, steps and the dq/Δt derivation; each file read both ways, bit for bit."""
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", chunk_bytes)
    calls = _count_halves(monkeypatch)
    compared = 0
    for path in sorted(realdata_dir().rglob("*.mpr")) + sorted(SAMPLES.glob("*.mpr")):
        if path.stat().st_size > 20_000_000:
            continue
        monkeypatch.setattr(threads, "ENABLED", True)
        try:
            two = biologic_mpr.read_mpr(path)
        except Exception as exc:  # an unreadable file fails the same way on one thread
            monkeypatch.setattr(threads, "ENABLED", False)
            with pytest.raises(type(exc)):
                biologic_mpr.read_mpr(path)
            continue
        monkeypatch.setattr(threads, "ENABLED", False)
        _assert_same_read(two, biologic_mpr.read_mpr(path))
        compared += 1
    assert compared >= 20
    assert len(calls) >= (15 if chunk_bytes == 4096 else 5), "too few files took the two-thread read: the test would not test it"
    derived = [p for p in sorted(realdata_dir().rglob("*gcpl*.mpr")) if p.stat().st_size > 8 * chunk_bytes]
    assert derived, "no GCPL file long enough for two threads (the derived current's half cut)"


@needs_native
@pytest.mark.parametrize("cut", ["1", "third", "middle", "last"])
def test_the_derived_current_and_its_counts_are_the_same_wherever_the_halves_are_cut(monkeypatch, cut) -> None:
    """The second half's first point takes its time step from the record before it: the derived
    current there, and the set-point check's ratio counts, equal the one-thread read's."""
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 4096)
    monkeypatch.setattr(biologic_mpr, "_halves_cut", {"1": lambda n: 1, "third": lambda n: n // 3, "middle": lambda n: n // 2, "last": lambda n: n - 1}[cut])
    states: list = []
    real_finish = CurrentDerivation.finish

    def finish(self, whole_columns):
        states.append((self._pos, float(self._last_time), self._n_ratios, self._n_low, self._n_high))
        return real_finish(self, whole_columns)

    monkeypatch.setattr(CurrentDerivation, "finish", finish)
    calls = _count_halves(monkeypatch)
    files = [p for p in sorted(realdata_dir().rglob("*.mpr")) if "gcpl" in p.name or "mb" in p.name] + sorted(SAMPLES.glob("*.mpr"))
    derived = 0
    for path in files:
        monkeypatch.setattr(threads, "ENABLED", True)
        try:
            two = biologic_mpr.read_mpr(path)
        except Exception:  # noqa: BLE001 - unreadable both ways: the other test checks that
            continue
        monkeypatch.setattr(threads, "ENABLED", False)
        del states[:-1]
        one = biologic_mpr.read_mpr(path)
        _assert_same_read(two, one)
        if len(states) == 2:
            assert states[0] == states[1], path.name
            derived += states[0][2] > 0
        states.clear()
    assert calls and derived >= 3


@needs_native
def test_cycler_threads_1_and_the_pool_workers_read_on_one_thread(monkeypatch) -> None:
    from cycler_cli import batch

    path = SAMPLES / "li-lzp-li_80C_40uA.mpr"
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 4096)
    calls = _count_halves(monkeypatch)
    biologic_mpr.read_mpr(path)
    assert len(calls) == 1
    monkeypatch.setenv("CYCLER_THREADS", "1")
    biologic_mpr.read_mpr(path)
    assert len(calls) == 1
    monkeypatch.delenv("CYCLER_THREADS")
    monkeypatch.setattr(threads, "ENABLED", True)
    batch._worker_started()  # what each --jobs N worker runs first
    assert threads.ENABLED is False
    biologic_mpr.read_mpr(path)
    assert len(calls) == 1


@needs_native
@pytest.mark.parametrize("fraction", [0.2, 0.7])
def test_a_file_that_shrinks_while_read_on_two_threads_is_an_input_error(monkeypatch, tmp_path, fraction) -> None:
    """Cut in the first half or in the second: the same one error either way, and the second
    thread is stopped and joined before it is raised."""
    import threading

    from cycler_cli.errors import InputError

    raw = (SAMPLES / "li-lzp-li_80C_40uA.mpr").read_bytes()
    path = tmp_path / "shrinking.mpr"
    path.write_bytes(raw)
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 4096)
    calls = _count_halves(monkeypatch)
    real_stage = biologic_mpr._stage_columns

    def stage_after_truncating(fh, data):
        with open(path, "r+b") as other:
            other.truncate(data.records_offset + int(fraction * data.n_read) * data.record_bytes)
        return real_stage(fh, data)

    monkeypatch.setattr(biologic_mpr, "_stage_columns", stage_after_truncating)
    threads = threading.active_count()
    with pytest.raises(InputError, match="while it was read"):
        biologic_mpr.read_mpr(path)
    assert calls and threading.active_count() == threads


@needs_native
def test_an_error_on_the_second_thread_is_raised_by_the_first(monkeypatch) -> None:
    """Any exception in the second half (here from the kernel) reaches the caller, once, after
    the second thread has stopped."""
    import threading

    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 4096)
    calls = _count_halves(monkeypatch)
    real_stage = native.kernels().stage
    main = threading.get_ident()

    class Kernels:
        def __getattr__(self, name):
            return getattr(native.kernels(), name)

        def stage(self, *args):
            if threading.get_ident() != main:
                raise MemoryError("second half")
            return real_stage(*args)

    real_plan = biologic_mpr._native_plan
    monkeypatch.setattr(biologic_mpr, "_native_plan", lambda *a: (Kernels(), *real_plan(*a)[1:]))
    threads_before = threading.active_count()
    with pytest.raises(MemoryError, match="second half"):
        biologic_mpr.read_mpr(SAMPLES / "li-lzp-li_80C_40uA.mpr")
    assert calls and threading.active_count() == threads_before


@needs_native
def test_stage_reports_a_read_error_and_the_end_of_the_file() -> None:
    import errno

    kernels = native._module
    rec = 16
    buffer = np.empty(4 * rec, dtype=np.uint8)
    col = np.empty(10)
    fields = [(0, native.F8, col, native.F8, 0)]
    status, where, *_ = kernels.stage(-1, 0, 0, 10, rec, 4, buffer, fields, None, col, None, None, float("nan"))
    assert (status, where) == (2, errno.EBADF)
    import tempfile

    with tempfile.TemporaryFile() as fh:
        fh.write(np.arange(20, dtype=np.float64).tobytes())  # 160 bytes: 10 records of 16, 8 after offset 8
        fh.flush()
        status, where, *_ = kernels.stage(fh.fileno(), 8, 0, 10, rec, 4, buffer, fields, None, col, None, None, float("nan"))
        assert (status, where) == (1, 160)  # the 10th record would end at 8 + 160
        status, where, *_ = kernels.stage(fh.fileno(), 0, 0, 10, rec, 4, buffer, fields, None, col, None, None, float("nan"))
        assert status == 0 and col.tolist() == [float(2 * i) for i in range(10)]


@needs_native
def test_stage_refuses_to_derive_without_gathering_the_time() -> None:
    kernels = native._module
    rec = 16
    buffer = np.empty(4 * rec, dtype=np.uint8)
    time_s, other, current, mode = np.empty(10), np.empty(10), np.empty(10), np.ones(10, dtype=np.uint8)
    derive = (1, -1, 0, 8, native.F8, 0.5, 1.5)  # charge kind: dq at offset 8
    with pytest.raises(ValueError, match="time column"):
        kernels.stage(0, 0, 0, 10, rec, 4, buffer, [(0, native.F8, other, native.F8, 0)], derive, time_s, mode, current, float("nan"))
