"""Time the Arbin CSV reader against plain ``pandas.read_csv`` of the same file.

Writes an Arbin MITS-style CSV (14 columns, ``--rows`` rows, 1,000,000 by default) to a temporary
folder, then reports the best of ``--repeat`` runs of each:

* ``pandas.read_csv(path)``: parsing alone, the floor;
* ``cycler_cli.io.read(path)``: sniffing, parsing, unit scaling, row accounting, sign rule,
  half-cycle labels and ``charge_ah`` from the capacity accumulators, and the SHA-256 of the file.

Target: the reader takes at most 1.5x the time of plain ``read_csv``. Run:
``python benchmarks/read_csv.py [--rows N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_arbin_csv(path: Path, rows: int) -> None:
    t = np.arange(rows, dtype=np.float64) * 1.0
    step_len = 3600.0
    phase = (t // step_len).astype(np.int64)
    current = np.where(phase % 2 == 0, 1.5, -1.5)
    frame = pd.DataFrame({
        "Data_Point": np.arange(1, rows + 1),
        "Date_Time": "10-19-2020 11:31:46.582",
        "Test_Time(s)": t,
        "Step_Time(s)": t % step_len,
        "Step_Index": phase % 4 + 1,
        "Cycle_Index": phase // 2 + 1,
        "Voltage(V)": 3.5 + 0.3 * np.sin(t / 1000.0),
        "Current(A)": current,
        "Charge_Capacity(Ah)": np.where(current > 0, (t % step_len) / 3600 * 1.5, 0.0),
        "Discharge_Capacity(Ah)": np.where(current < 0, (t % step_len) / 3600 * 1.5, 0.0),
        "Charge_Energy(Wh)": t / 1e5,
        "Discharge_Energy(Wh)": t / 1e5,
        "Internal Resistance(Ohm)": 0.01,
        "dV/dt(V/s)": 1e-5,
    })
    frame.to_csv(path, index=False)


def interleaved(fns: dict, repeat: int) -> dict[str, float]:
    """Best time of each function, running them in turn so that a busy machine slows all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from cycler_cli.io import read

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "arbin_big.csv"
        write_arbin_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        data = read(path)
        assert data.meta.reader == "arbin-csv" and len(data) == args.rows
        from cycler_cli.io.arbin import READER

        best = interleaved({"plain": lambda: pd.read_csv(path), "ours": lambda: read(path),
                            "alone": lambda: READER.read(path)}, args.repeat)
    plain, ours, alone = best["plain"], best["ours"], best["alone"]
    print(f"rows: {args.rows:,}  file: {size_mb:.1f} MB  best of {args.repeat}")
    print(f"pandas.read_csv : {plain:6.2f} s")
    print(f"cycler read     : {ours:6.2f} s  ({ours / plain:.2f}x, target <= 1.5x)")
    print(f"  reader alone  : {alone:6.2f} s  ({alone / plain:.2f}x; the rest is sniffing and the file's SHA-256)")


if __name__ == "__main__":
    main()
