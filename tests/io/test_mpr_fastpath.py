"""The streamed ``.mpr`` read (cycler_cli.io.biologic_mpr.read_mpr) against whole-buffer references.

``read_mpr`` reads the data module in chunks into one reusable buffer and builds the canonical
columns chunk by chunk, deriving the current on the way (``CurrentDerivation``). Here the chunk
size is forced small, so chunk boundaries fall all through the files (and inside the Δt of the
dq/Δt derivation), and every result is compared bit for bit with

* the reader on the whole file in memory (``_read_mpr_buffer``: the columns are views of
  ``numpy.frombuffer`` on the bytes, derived by whole-column code), for every real ``.mpr``;
* the structured-array fields of ``numpy.frombuffer`` on the data module, worked out in this
  test, for a real GCPL file;
* the whole-column current derivation (``_derive_current_ma_whole``) on random runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.io import biologic_common, biologic_mpr
from cycler_cli.io.biologic_common import CurrentDerivation, _derive_current_ma_whole, derive_current_ma
from cycler_cli.io.biologic_mpr import _read_mpr_buffer, parse_mpr, read_mpr
from tests.conftest import realdata_dir

GCPL = "datalab/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"


def _assert_same(streamed, reference) -> None:
    """Same columns, dtypes and bytes (NaN payloads included), and the same metadata."""
    assert streamed.column_names == reference.column_names
    for name in reference.column_names:
        a, b = streamed.column(name), reference.column(name)
        assert a.dtype == b.dtype, name
        assert a.tobytes() == b.tobytes(), name
    sa, sb = streamed.meta.to_dict(), reference.meta.to_dict()
    sa.pop("sha256"), sb.pop("sha256")
    assert sa == sb
    assert streamed.meta.extra == reference.meta.extra


def _real_mpr_files() -> list:
    return sorted(realdata_dir().rglob("*.mpr"))


@pytest.mark.parametrize("chunk_bytes", [1, 1000, 1 << 16])
def test_streamed_read_equals_whole_buffer_read_on_every_real_file(monkeypatch, chunk_bytes):
    files = _real_mpr_files()
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", chunk_bytes)
    for path in files:
        if chunk_bytes == 1 and path.stat().st_size > 300_000:
            continue  # one record a chunk: the small files are enough
        _assert_same(read_mpr(path), _read_mpr_buffer(path.read_bytes(), path))


def test_streamed_gcpl_columns_equal_the_data_module_fields(monkeypatch):
    """Canonical columns rebuilt here from ``numpy.frombuffer`` on the data module, with chunks
    of 7 records (boundaries inside the dq/Δt derivation)."""
    path = realdata_dir() / GCPL
    raw = path.read_bytes()
    data = parse_mpr(raw).data
    rec = np.frombuffer(raw, dtype=data.record_dtype, count=data.n_read, offset=data.records_offset)
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 7 * data.record_bytes)
    run = read_mpr(path)
    assert len(run) == data.n_read > 7 * 100

    t = rec["time/s"].astype(np.float64)
    np.testing.assert_array_equal(run.column("time_s"), t)
    np.testing.assert_array_equal(run.column("voltage_v"), rec["Ewe/V"].astype(np.float64))
    np.testing.assert_array_equal(run.column("step"), rec["Ns"].astype(np.int64))
    half = rec["half cycle"].astype(np.int64) + 1
    np.testing.assert_array_equal(run.column("half_cycle"), half)
    np.testing.assert_array_equal(run.column("cycle"), (half + 1) // 2)
    np.testing.assert_array_equal(run.column("charge_ah"), rec["(Q-Qo)/mA.h"] / 1000.0)
    mode = rec["flags"] & 0x03
    np.testing.assert_array_equal(run.column("control_mode"), mode.astype(np.int8))

    # current: set point on galvanostatic points, 0 on rest, dq x 3600 / dt elsewhere (mA -> A)
    dt = np.concatenate([[np.nan], np.diff(t)])
    with np.errstate(divide="ignore", invalid="ignore"):
        from_dq = np.where(dt > 0, rec["dq/mA.h"] * 3600.0 / dt, np.nan)
    expected = np.where(mode == 1, rec["control/V/mA"].astype(np.float64), from_dq)
    expected[mode == 3] = 0.0
    np.testing.assert_array_equal(run.column("current_a"), expected / 1000.0)
    assert (mode == 1).any() and (mode == 3).any()  # both branches of the derivation are used


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.731, 0.999])
@pytest.mark.parametrize("extra", [0, 1, 17])
def test_streamed_read_of_a_cut_file_accounts_for_every_row(monkeypatch, tmp_path, fraction, extra):
    """A real file cut inside its records: complete records read, the cut one counted as
    skipped, the same as the whole-buffer read, with chunks of 37 records."""
    src = realdata_dir() / GCPL
    raw = src.read_bytes()
    full = parse_mpr(raw).data
    itemsize = full.record_bytes
    cut = full.records_offset + int(full.n_read * fraction) * itemsize + extra
    path = tmp_path / "cut.mpr"
    path.write_bytes(raw[:cut])
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 37 * itemsize)
    run = read_mpr(path)
    complete, partial = divmod(cut - full.records_offset, itemsize)
    assert run.meta.rows_read == len(run) == complete
    assert run.meta.rows_skipped == ({"partial last record": 1} if partial else {})
    assert any(f"{complete} of {full.n_read} declared records read" in w for w in run.meta.warnings)
    _assert_same(run, _read_mpr_buffer(raw[:cut], path))


def test_a_file_that_shrinks_while_read_is_an_input_error(monkeypatch, tmp_path):
    from cycler_cli.errors import InputError

    raw = (realdata_dir() / GCPL).read_bytes()
    path = tmp_path / "shrinking.mpr"
    path.write_bytes(raw)
    real_stage = biologic_mpr._stage_columns

    def stage_after_truncating(fh, data):
        with open(path, "r+b") as other:
            other.truncate(data.records_offset + 10 * data.record_bytes)
        return real_stage(fh, data)

    monkeypatch.setattr(biologic_mpr, "_stage_columns", stage_after_truncating)
    with pytest.raises(InputError, match="while it was read"):
        read_mpr(path)


# ------------------------------------------------------------------ the chunked current derivation


def _random_run(rng: np.random.Generator, n: int, scale: float) -> dict[str, np.ndarray]:
    dt = rng.choice([1.0, 2.0, 0.5, 0.0, -1.0, np.nan], size=n, p=[0.6, 0.2, 0.1, 0.04, 0.03, 0.03])
    time_s = np.cumsum(dt)
    mode = rng.choice(np.array([0, 1, 2, 3], dtype=np.uint8), size=n, p=[0.05, 0.6, 0.15, 0.2])
    set_point = rng.choice([2.0, -2.0, 0.0, np.inf], size=n, p=[0.45, 0.45, 0.08, 0.02]).astype(np.float32)
    # dq agreeing with the set point up to `scale` (1 = exact, 0.95 = at the tolerance, ...)
    noise = rng.normal(1.0, 0.02, size=n)
    with np.errstate(invalid="ignore"):  # inf x 0
        dq = set_point.astype(np.float64) * scale * noise * np.nan_to_num(dt, nan=1.0) / 3600.0
        dq[rng.random(n) < 0.02] = np.nan
    return {"time/s": time_s, "mode": mode, "control/V/mA": set_point, "dq/mA.h": dq}


@pytest.mark.parametrize("scale", [1.0, 1.04, 0.955, 0.95, 0.5, 1000.0])
@pytest.mark.parametrize("drop", [(), ("dq/mA.h",), ("control/V/mA",), ("mode",), ("control/V/mA", "dq/mA.h")])
def test_chunked_derivation_equals_whole_columns(monkeypatch, scale, drop):
    """Random runs (NaN, inf, zero and backwards time steps, every mode, set points that agree,
    sit at the tolerance or disagree), chunks of 1 to 64 points: the same bytes and description
    as the whole-column code."""
    rng = np.random.default_rng(int(scale * 1000) + len(drop))
    for n in (0, 1, 2, 5, 300):
        cols = _random_run(rng, n, scale)
        for name in drop:
            del cols[name]
        reference = _derive_current_ma_whole(dict(cols))
        for chunk in (1, 3, 64):
            monkeypatch.setattr(biologic_common, "_DERIVE_CHUNK", chunk)
            got = derive_current_ma(dict(cols))
            if reference is None:
                assert got is None
                continue
            assert got is not None and got[1] == reference[1]
            assert got[0].tobytes() == reference[0].tobytes()


def test_chunked_derivation_checks_the_set_point_without_an_exact_median_when_it_clearly_agrees():
    rng = np.random.default_rng(7)
    cols = _random_run(rng, 1000, 1.0)
    derivation = CurrentDerivation(cols, 1000)
    derivation.add(cols["time/s"], mode=cols["mode"], control=cols["control/V/mA"], dq=cols["dq/mA.h"])

    def no_whole_columns():
        raise AssertionError("the whole columns were asked for")

    current, how = derivation.finish(no_whole_columns)
    assert "disagrees" not in how
    assert current.tobytes() == _derive_current_ma_whole(cols)[0].tobytes()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes on this platform")
def test_a_pipe_is_read_whole_with_the_same_result(tmp_path):
    """A pipe has no offsets to read at: read_mpr reads it whole (the registry refuses pipes
    before this, but the reader function takes any path)."""
    import os
    import threading

    src = realdata_dir() / "yadg" / "gcpl.issue_211.mpr"  # data module v0
    raw = src.read_bytes()
    fifo = tmp_path / "run.mpr"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(raw)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        run = read_mpr(fifo)
    finally:
        writer.join(timeout=10)
    _assert_same(run, _read_mpr_buffer(raw, fifo))
    _assert_same(read_mpr(src), _read_mpr_buffer(raw, src))


def test_streamed_read_falls_back_on_a_second_pass_for_the_exact_median(monkeypatch):
    """With the counting window made useless, the set-point check needs the exact median: the
    streamed read takes a second pass over the records for whole columns, and the result is
    still the whole-buffer read's (and the default one's)."""
    path = realdata_dir() / GCPL
    raw = path.read_bytes()
    default = _read_mpr_buffer(raw, path)
    monkeypatch.setattr(biologic_mpr, "_CHUNK_BYTES", 4096)
    monkeypatch.setattr(biologic_common, "_RATIO_LOW", 2.0)
    monkeypatch.setattr(biologic_common, "_RATIO_HIGH", 3.0)
    calls = []
    whole = biologic_common._derive_current_ma_whole
    monkeypatch.setattr(biologic_common, "_derive_current_ma_whole", lambda cols: calls.append(sorted(cols)) or whole(cols))
    run = read_mpr(path)
    assert calls and calls[0] == ["control/V/mA", "dq/mA.h", "mode", "time/s"]
    _assert_same(run, default)
    _assert_same(run, _read_mpr_buffer(raw, path))
