"""What each benchmark child process does: one tool reading one file.

Run as ``python benchmarks/tasks.py TASK FILE [OPTIONS-JSON]``; prints one JSON line on stdout
with the in-process timings, taken *after* the task's imports (``import_s`` says how long
those took), so the parent gets both the whole-process wall time (which it measures) and
the imports-excluded time from one run.

Only the standard library is imported at the top: a task imports what it measures, and
nothing else, so the raw floor's whole-process time is Python + numpy + the read.
This file also runs under the separate benchmark venv (navani, cellpy), which has neither
cycler nor the project's galvani.
"""

from __future__ import annotations

import json
import sys
import time

perf = time.perf_counter
cpu = time.process_time  # CPU seconds of this process: less shaken than wall time on a busy machine


def task_floor(path: str, opts: dict) -> dict:
    """The raw read floor: the file's bytes into one numpy structured array (zero-copy view
    of the data module). ``opts`` carries the record dtype, offset and count, which the
    parent worked out from the headers beforehand."""
    t0 = perf()
    import numpy as np

    t1, c1 = perf(), cpu()
    with open(path, "rb") as fh:
        buf = fh.read()
    records = np.frombuffer(buf, dtype=np.dtype([tuple(f) for f in opts["dtype"]]), count=opts["count"], offset=opts["offset"])
    last_time_s = float(records["time/s"][-1])  # touch the data
    t2, c2 = perf(), cpu()
    return {"import_s": t1 - t0, "work_s": t2 - t1, "work_cpu_s": c2 - c1, "rows": int(records.shape[0]), "check": last_time_s}


def task_floor_columns(path: str, opts: dict) -> dict:
    """The floor plus one contiguous float64 copy of every numeric column: what any reader
    that hands out plain columns must at least do."""
    t0 = perf()
    import numpy as np

    t1 = perf()
    with open(path, "rb") as fh:
        buf = fh.read()
    records = np.frombuffer(buf, dtype=np.dtype([tuple(f) for f in opts["dtype"]]), count=opts["count"], offset=opts["offset"])
    columns = {name: records[name].astype(np.float64) for name in records.dtype.names}
    t2 = perf()
    return {"import_s": t1 - t0, "work_s": t2 - t1, "rows": int(records.shape[0]), "columns": len(columns)}


def _galvani_frame(path: str):
    import pandas as pd
    from galvani.BioLogic import MPRfile

    with open(path, "rb") as fh:
        mpr = MPRfile(fh)
    return pd.DataFrame(mpr.data)


def task_galvani_df(path: str, opts: dict) -> dict:
    """galvani's ``MPRfile`` + ``pandas.DataFrame(mpr.data)``."""
    t0 = perf()
    import galvani.BioLogic  # noqa: F401
    import pandas as pd  # noqa: F401

    t1 = perf()
    frame = _galvani_frame(path)
    t2 = perf()
    return {"import_s": t1 - t0, "work_s": t2 - t1, "rows": len(frame), "galvani": _version("galvani")}


def groupby_summary(frame):
    """A per-cycle summary as a pandas user would write it: cycle = half cycle // 2 (or the
    file's cycle number), then charge and discharge capacity, voltage range and end time."""
    if "half cycle" in frame.columns:
        cycle = frame["half cycle"] // 2
    elif "cycle number" in frame.columns:
        cycle = frame["cycle number"]
    else:
        cycle = frame["Ns"] * 0
    frame = frame.assign(cycle=cycle)
    agg = {"t_end_s": ("time/s", "max")}
    volt = next((c for c in ("Ecell/V", "Ewe/V") if c in frame.columns), None)
    if volt:
        agg.update(v_min=(volt, "min"), v_max=(volt, "max"), v_mean=(volt, "mean"))
    if "Q charge/discharge/mA.h" in frame.columns:
        agg.update(q_charge_mah=("Q charge/discharge/mA.h", "max"), q_discharge_mah=("Q charge/discharge/mA.h", "min"))
    return frame.groupby("cycle").agg(**agg)


def task_galvani_groupby(path: str, opts: dict) -> dict:
    """galvani + ``pandas.DataFrame`` + a pandas groupby per-cycle summary."""
    t0 = perf()
    import galvani.BioLogic  # noqa: F401
    import pandas as pd  # noqa: F401

    t1 = perf()
    frame = _galvani_frame(path)
    t2 = perf()
    summary = groupby_summary(frame)
    t3 = perf()
    return {"import_s": t1 - t0, "work_s": t3 - t1, "read_s": t2 - t1, "summary_s": t3 - t2, "rows": len(frame), "cycles": len(summary)}


def _cycles_of(result) -> int | None:
    """Number of rows in whatever ``analyze`` returns (a table, or an object holding one)."""
    for attr in ("cycles", "table", "frame"):
        inner = getattr(result, attr, None)
        if inner is not None and hasattr(inner, "__len__"):
            return len(inner)
    return len(result) if hasattr(result, "__len__") else None


def task_cycler_lib(path: str, opts: dict) -> dict:
    """cycler as a library: ``cycler_cli.io.read`` + ``cycler_cli.analysis.analyze``.

    Lazy imports inside cycler (reader modules, pandas, scipy) are paid by a warm-up run on a
    small file first (``opts["warmup"]``), so ``work_s`` excludes imports as the target asks."""
    t0 = perf()
    from cycler_cli.analysis import analyze
    from cycler_cli.io import read

    warm = opts.get("warmup")
    if warm:
        analyze(read(warm))
    t1, c1 = perf(), cpu()
    data = read(path)
    t2 = perf()
    result = analyze(data)
    t3, c3 = perf(), cpu()
    return {
        "import_s": t1 - t0,
        "work_s": t3 - t1,
        "work_cpu_s": c3 - c1,
        "read_s": t2 - t1,
        "analyze_s": t3 - t2,
        "rows": len(data),
        "cycles": _cycles_of(result),
        "reader": data.meta.reader,
    }


def task_cycler_profile(path: str, opts: dict) -> dict:
    """cProfile of ``read`` + ``analyze`` (after the warm-up), or of the CLI run in-process when
    ``opts["argv"]`` is given: the functions that cost most, by own time and by cumulative
    time, as ``[seconds, calls, "file:line(function)"]``."""
    import cProfile
    import pstats

    from cycler_cli.analysis import analyze
    from cycler_cli.io import read

    warm = opts.get("warmup")
    argv = opts.get("argv")  # profile the CLI (`cycler ARGV`, stdout discarded) instead of the library
    if argv:
        import contextlib
        import io

        from cycler_cli.cli import main

        def work() -> None:
            sys.argv = ["cycler", *argv]
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main()
                except SystemExit:
                    pass
    else:

        def work() -> None:
            analyze(read(path))

    if warm:
        analyze(read(warm))
    profiler = cProfile.Profile()
    t1 = perf()
    profiler.enable()
    work()
    profiler.disable()
    t2 = perf()
    stats = pstats.Stats(profiler)
    top = int(opts.get("top", 15))

    def where(func: tuple) -> str:
        filename, line, name = func
        short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        return f"{short}:{line}({name})"

    rows = [(tt, ct, nc, where(func)) for func, (cc, nc, tt, ct, callers) in stats.stats.items()]
    by_own = sorted(rows, key=lambda r: r[0], reverse=True)[:top]
    by_cum = sorted(rows, key=lambda r: r[1], reverse=True)[: top * 4]  # the renderer drops wrappers
    return {
        "work_s": t2 - t1,
        "by_own": [[round(r[0], 4), r[2], r[3]] for r in by_own],
        "by_cumulative": [[round(r[1], 4), r[2], r[3]] for r in by_cum],
    }


def task_navani(path: str, opts: dict) -> dict:
    """navani: ``echem_file_loader`` (datalab galvani fork + its processing) + ``cycle_summary``."""
    t0 = perf()
    import contextlib
    import io

    import navani.echem as ec

    t1 = perf()
    with contextlib.redirect_stdout(io.StringIO()):  # navani prints; stdout is our channel
        frame = ec.echem_file_loader(path)
        t2 = perf()
        summary = ec.cycle_summary(frame)
    t3 = perf()
    return {
        "import_s": t1 - t0,
        "work_s": t3 - t1,
        "read_s": t2 - t1,
        "summary_s": t3 - t2,
        "rows": len(frame),
        "cycles": len(summary),
        "navani": _version("navani"),
        "galvani": _version("datalab-org-galvani") or _version("galvani"),
    }


def task_cellpy(path: str, opts: dict) -> dict:
    """cellpy: ``cellpy.get(path, instrument="biologics_mpr")`` (its own .mpr parser, then its
    step table and summary)."""
    t0 = perf()
    import contextlib
    import io
    import logging

    import cellpy

    logging.disable(logging.WARNING)
    t1 = perf()
    with contextlib.redirect_stdout(io.StringIO()):
        cell = cellpy.get(path, instrument="biologics_mpr")
    t2 = perf()
    raw = cell.data.raw
    summary = cell.data.summary
    return {"import_s": t1 - t0, "work_s": t2 - t1, "rows": len(raw), "cycles": len(summary), "cellpy": _version("cellpy")}


def task_imports_after(path: str, opts: dict) -> dict:
    """Run ``cycler ARGS`` in-process (``opts["argv"]``) and list which heavy modules it imported."""
    sys.argv = ["cycler", *opts["argv"]]
    import contextlib
    import io

    from cycler_cli.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main()
        except SystemExit:
            pass
    heavy = ("numpy", "pandas", "scipy", "galvani", "matplotlib")
    return {"imported": sorted(m for m in heavy if m in sys.modules)}


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


TASKS = {
    "floor": task_floor,
    "floor-columns": task_floor_columns,
    "galvani-df": task_galvani_df,
    "galvani-groupby": task_galvani_groupby,
    "cycler-lib": task_cycler_lib,
    "cycler-profile": task_cycler_profile,
    "navani": task_navani,
    "cellpy": task_cellpy,
    "imports-after": task_imports_after,
}


def main(argv: list[str]) -> int:
    name, path = argv[0], argv[1]
    opts = json.loads(argv[2]) if len(argv) > 2 else {}
    out = TASKS[name](path, opts)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
