"""cycler_cli.join: linked-file grouping, and a run split over two files analysed as one."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from cycler_cli.join import join_runs, linked_groups, linked_key, read_joined
from cycler_cli.model import CyclingData


def test_linked_key_parses_eclab_names() -> None:
    assert linked_key("d/cell_01_OCV_C01.mpr") == ("d", "cell", "C01", "mpr", 1)
    assert linked_key("Sample_data_biologic_02_MB_CA1.txt")[1:] == ("sample_data_biologic", "CA1", "txt", 2)
    assert linked_key("jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr") is None
    assert linked_key("li-lzp-li_80C_40uA.mpr") is None


def test_linked_groups_by_base_channel_and_index() -> None:
    names = ["b_02_GCPL_C01.mpr", "b_01_OCV_C01.mpr", "b_01_OCV_C02.mpr", "b_10_GCPL_C01.mpr", "other.mpr"]
    groups = linked_groups(names)
    assert [[p.name for p in g] for g in groups] == [
        ["b_01_OCV_C01.mpr", "b_02_GCPL_C01.mpr", "b_10_GCPL_C01.mpr"],
        ["b_01_OCV_C02.mpr"],
        ["other.mpr"],
    ]
    # navani's folder: two experiments saved under one base name (index 02 twice): not linked
    navani = ["00_test_01_OCV_C01.mpr", "00_test_02_MB_C01.mpr", "00_test_02_OCV_C01.mpr", "00_test_04_MB_C01.mpr"]
    assert [[p.name for p in g] for g in linked_groups(navani)] == [[n] for n in navani]


def _part(data: CyclingData, rows: slice, *, restart_charge: bool, time_from_zero: bool, start_shift_s: float | None) -> CyclingData:
    frame = data.frame.iloc[rows].reset_index(drop=True)
    frame = frame.copy()
    t0 = float(frame["time_s"].iloc[0])
    if restart_charge:
        frame["charge_ah"] = frame["charge_ah"] - frame["charge_ah"].iloc[0]
    if time_from_zero:
        frame["time_s"] = frame["time_s"] - t0
    for name in ("cycle", "half_cycle", "step"):
        frame[name] = frame[name] - frame[name].iloc[0]
    start = data.meta.start_time
    if start_shift_s is not None and start is not None:
        start = start + timedelta(seconds=start_shift_s)
    meta = dataclasses.replace(data.meta, start_time=start, columns=list(data.meta.columns), inferred=[], warnings=[])
    return CyclingData(frame, meta)


def _split_row(data: CyclingData) -> int:
    """A rest point near the middle of the run (EC-Lab links techniques between steps)."""
    current = data.column("current_a")
    rest = np.flatnonzero(current == 0)
    return int(rest[np.searchsorted(rest, len(current) // 2)]) + 1


def _assert_close(a, b, where: str = "report") -> None:
    """Equal structure, equal strings, numbers within 1e-9 relative."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def _comparable(report: dict) -> dict:
    out = dict(report)
    out.pop("source")
    out["summary"] = {k: v for k, v in out["summary"].items() if k != "capacity_check_max_rel_diff"}
    return out


@pytest.mark.parametrize("kind", ["symmetric", "full"])
def test_two_file_linked_run_equals_the_one_file_run(tmp_path: Path, kind: str) -> None:
    """Acceptance: EC-Lab linked files (same start time, time continuing, Ns/cycles and (Q-Qo)
    restarting in file 2) give the same table as the run written as one file."""
    from cycler_cli.analysis import analyze
    from cycler_cli.io import read
    from cycler_cli.io.writers import write_mpr
    from cycler_cli.simulate import simulate_full, simulate_symmetric

    if kind == "symmetric":
        data = simulate_symmetric(duration_s=20 * 3600.0, interval_s=120.0, drift="linear", drift_per_100h=0.3, seed=7)
    else:
        data = simulate_full(cycles=4, interval_s=900.0, seed=8)
    cut = _split_row(data)
    whole = write_mpr(data, tmp_path / "whole.mpr")
    first = write_mpr(_part(data, slice(0, cut), restart_charge=False, time_from_zero=False, start_shift_s=None), tmp_path / "cell_01_GCPL_C01.mpr")
    second = write_mpr(_part(data, slice(cut, None), restart_charge=True, time_from_zero=False, start_shift_s=None), tmp_path / "cell_02_GCPL_C01.mpr")
    assert linked_groups([second, first]) == [(first, second)]

    joined = read_joined([first, second])
    one = read(whole)
    assert len(joined) == len(one)
    np.testing.assert_array_equal(joined.column("time_s"), one.column("time_s"))
    np.testing.assert_allclose(joined.column("charge_ah"), one.column("charge_ah"), rtol=0, atol=1e-12)
    assert np.all(np.diff(joined.column("half_cycle")) >= 0) and np.all(np.diff(joined.column("cycle")) >= 0)
    assert joined.meta.source == f"{first} + {second}"
    assert joined.meta.extra["joined_from"] == [str(first), str(second)]

    a, b = analyze(joined).to_dict(), analyze(one).to_dict()
    _assert_close(_comparable(a), _comparable(b))
    assert a["summary"]["capacity_check_max_rel_diff"] == pytest.approx(b["summary"]["capacity_check_max_rel_diff"], abs=1e-9)


def test_join_places_parts_by_start_time_or_after_the_previous(tmp_path: Path) -> None:
    """Parts whose clocks restart at 0: with start times each is placed at its start; without,
    it follows the previous part one median interval later (recorded in meta.inferred)."""
    from cycler_cli.simulate import simulate_symmetric

    data = simulate_symmetric(duration_s=10 * 3600.0, interval_s=300.0, seed=3)
    cut = _split_row(data)
    t_cut = float(data.frame["time_s"].iloc[cut])
    a = _part(data, slice(0, cut), restart_charge=False, time_from_zero=False, start_shift_s=None)
    b = _part(data, slice(cut, None), restart_charge=True, time_from_zero=True, start_shift_s=t_cut)
    joined = join_runs([a, b])
    np.testing.assert_allclose(joined.column("time_s"), data.column("time_s"), atol=1e-6)
    np.testing.assert_allclose(joined.column("charge_ah"), data.column("charge_ah"), atol=1e-15)

    a.meta.start_time = None
    b.meta.start_time = None
    joined = join_runs([a, b])
    t = joined.column("time_s")
    assert t[cut] == pytest.approx(t[cut - 1] + 300.0)  # the median interval of part 1
    assert np.all(np.diff(t) > 0)
    assert any("shifted by" in line for line in joined.meta.inferred)


def test_join_drops_a_column_one_part_lacks() -> None:
    from cycler_cli.simulate import simulate_symmetric

    data = simulate_symmetric(duration_s=6 * 3600.0, interval_s=300.0, seed=4)
    a = _part(data, slice(0, 30), restart_charge=False, time_from_zero=False, start_shift_s=None)
    b = _part(data, slice(30, None), restart_charge=True, time_from_zero=False, start_shift_s=None)
    b = CyclingData(b.frame.drop(columns=["charge_ah"]), b.meta)
    b.meta.rows_skipped = {"bad line": 2}
    a.meta.rows_skipped = {"bad line": 1, "nan time": 4}
    joined = join_runs([a, b])
    assert "charge_ah" not in joined.frame.columns
    assert any("charge_ah dropped" in w for w in joined.meta.warnings)
    assert joined.meta.rows_skipped == {"bad line": 3, "nan time": 4}
    assert len(joined) == len(data)


def test_real_linked_biologic_files(realdata: Path) -> None:
    """PyProBE's three Modulo Bat files of one BT-Lab experiment (channel CA1): one run, the
    files' own clock kept (they share the start time), (Q-Qo) made cumulative across files."""
    from cycler_cli.analysis import analyze
    from cycler_cli.io import read

    folder = realdata / "PyProBE"
    groups = linked_groups(sorted(folder.iterdir()))
    (linked,) = [g for g in groups if len(g) > 1]
    assert [p.name for p in linked] == [f"Sample_data_biologic_0{i}_MB_CA1.txt" for i in (1, 2, 3)]
    parts = [read(p) for p in linked]
    assert len({p.meta.start_time for p in parts}) == 1
    joined = read_joined(linked)
    assert len(joined) == sum(len(p) for p in parts)
    np.testing.assert_array_equal(joined.column("time_s"), np.concatenate([p.column("time_s") for p in parts]))
    charge = joined.column("charge_ah")
    n1, n2 = len(parts[0]), len(parts[0]) + len(parts[1])
    assert charge[n1] == pytest.approx(parts[0].column("charge_ah")[-1] + parts[1].column("charge_ah")[0])
    assert charge[-1] == pytest.approx(sum(p.column("charge_ah")[-1] for p in parts))
    assert charge[n2] == pytest.approx(charge[n2 - 1] + parts[2].column("charge_ah")[0])
    assert analyze(joined).to_dict()["source"] == " + ".join(str(p) for p in linked)
