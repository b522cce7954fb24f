"""Batch benchmark: ``cycler check`` on a folder of 200 runs with ``--jobs 1`` vs ``--jobs 2``.

    python benchmarks/batch.py                   # 200 runs, 3 rounds, the CLI end to end
    python benchmarks/batch.py --mode library    # run_items() in-process (no CLI start-up)
    python benchmarks/batch.py --runs 400 --jobs 1,2,4 --rounds 5
    python benchmarks/batch.py --jobs 1,2,dask2  # dask2: --executor dask on a 2-worker LocalCluster
    python benchmarks/batch.py --interval-s 20   # the same runs sampled 3x as often (larger files)

The runs are simulated (``cycler_cli.simulate``) and written once into
``benchmarks/_data/batch<N>/`` (git-ignored): three in four are Li | LZP | Li symmetric runs of
100 h sampled every 60 s (6 002 rows), one in four a 10-cycle Li | LZP | LTP full cell sampled
every 600 s, one in five written as generic CSV and the rest as EC-Lab ``.mpr`` -- the
sizes of ``sample_runs/``. Each round times every ``--jobs`` value once, in alternating order
(so a change in machine load hits all of them alike); the figure is the median wall time over
the rounds and the ratio to ``--jobs 1`` (and, as the least disturbed estimate on a shared
machine, the ratio of the fastest rounds). ``machine_ceiling`` calibrates the machine: the same
pure-Python task run N times at once against once alone, the best ratio any program can reach
with N processes there (0.5 for 2 on two really free cores; virtual CPUs often give less);
``work_ceiling`` does the same with the real per-run work: N independent processes each checking a
fixed share of the runs (equal bytes, imports and a warm-up run done before the clock starts)
against one process checking all of them, the best ``--jobs N`` can reach on this work at that
moment. The JSON reports of every setting are checked to be
identical. Results are printed as JSON (with the machine's cores and load average) and
written to ``benchmarks/_data/batch-results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data"


def make_runs(directory: Path, n: int, interval_s: float = 60.0) -> Path:
    """Write ``n`` simulated runs into ``directory`` (skipped when it already holds them):
    symmetric runs sampled every ``interval_s``, full cells every ``10 × interval_s``."""
    stamp = directory / ".complete"
    if stamp.exists() and stamp.read_text() == f"{n} {interval_s:g}":
        return directory
    sys.path.insert(0, str(ROOT))
    from cycler_cli.io.writers import write
    from cycler_cli.simulate import simulate_full, simulate_symmetric

    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i % 4 == 3:
            data = simulate_full(cycles=10, interval_s=10 * interval_s, retention_per_cycle=0.95 + 0.005 * (i % 9), seed=i)
        else:
            data = simulate_symmetric(interval_s=interval_s, drift="linear", drift_per_100h=0.1 * (i % 7), seed=i)
        write(data, directory / f"run{i:04d}.{'csv' if i % 5 == 0 else 'mpr'}")
    stamp.write_text(f"{n} {interval_s:g}")
    return directory


def _child_env() -> dict[str, str]:
    """The benchmark children's environment (``measure.child_env``): among others without
    ``PYTHONDONTWRITEBYTECODE``, so an editable checkout keeps its ``.pyc`` files as an
    installed cycler does instead of recompiling every module in every process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from measure import child_env

    return child_env()


def _setting(jobs: str) -> tuple[str, int]:
    """``"2"`` -> ("process", 2); ``"dask2"`` -> ("dask", 2)."""
    if jobs.startswith("dask"):
        return "dask", int(jobs[4:] or 2)
    return "process", int(jobs)


def time_cli(directory: Path, jobs: str) -> tuple[float, float, str]:
    """Wall and children-CPU seconds of one ``cycler check DIR --jobs N -f json -q`` (the JSON
    report on stdout, as a pipeline reads it; ``-o`` would also render the table) and its JSON."""
    executor, n = _setting(jobs)
    before = os.times()
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cycler_cli", "check", str(directory), "--jobs", str(n), "--executor", executor,
         "--format", "json", "--quiet"],
        capture_output=True, text=True, cwd=ROOT, env=_child_env(),
    )
    wall = time.perf_counter() - t0
    after = os.times()
    if done.returncode not in (0, 1):
        raise SystemExit(f"cycler check failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system), done.stdout


def time_library(directory: Path, jobs: str) -> tuple[float, float, str]:
    """Wall seconds of ``run_items(check_run, ...)`` in this process (imports done beforehand;
    a Dask LocalCluster is started and stopped inside the timing)."""
    import functools

    executor, n = _setting(jobs)
    from cycler_cli.batch import check_run, discover, plan, run_items
    from cycler_cli.config import CheckConfig

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    runs = plan(list(discover([directory]).files))
    outcomes = run_items(functools.partial(check_run, config=CheckConfig()), runs, jobs=n, executor=executor)
    wall = time.perf_counter() - t0
    text = json.dumps([o.value.to_dict() for o in outcomes], sort_keys=True)
    return wall, time.process_time() - cpu0, text


def _rows(directory: Path) -> int:
    """Data rows in all the runs (read once; cached next to them)."""
    cache = directory / ".rows"
    if cache.exists():
        return int(cache.read_text())
    sys.path.insert(0, str(ROOT))
    from cycler_cli.io import read

    rows = sum(len(read(p)) for p in sorted(directory.glob("run*")))
    cache.write_text(str(rows))
    return rows


def _burn(n: int) -> float:
    """Pure-Python arithmetic, no memory traffic: seconds it took."""
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t0


def machine_ceiling(jobs: int, n: int = 10_000_000) -> dict[str, float]:
    """The best ratio any program can reach here with ``jobs`` processes: the wall time of ``jobs``
    equal CPU-bound tasks run at once over ``jobs`` times one task alone (1/jobs on a machine
    whose cores are really free; more on shared or throttled virtual CPUs)."""
    import multiprocessing

    alone = min(_burn(n) for _ in range(2))
    with multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn").Pool(jobs) as pool:
        pool.map(_burn, [1000] * jobs)  # workers up before timing
        t0 = time.perf_counter()
        pool.map(_burn, [n] * jobs)
        together = time.perf_counter() - t0
    return {"one_task_s": round(alone, 3), f"{jobs}_tasks_at_once_s": round(together, 3), "ceiling_ratio": round(together / (jobs * alone), 3)}


def _halves(runs: list, parts: int) -> list[list]:
    """``runs`` dealt into ``parts`` shares of about equal bytes (largest first, each to the
    lightest share so far)."""
    shares: list[list] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for run in sorted(runs, key=lambda r: -sum(os.stat(p).st_size for p in r)):
        k = sizes.index(min(sizes))
        shares[k].append(run)
        sizes[k] += sum(os.stat(p).st_size for p in run)
    return shares


def _work_share(directory: Path, part: int, parts: int, start_at: float) -> None:
    """(internal) Check share ``part`` of ``parts`` of the runs, imports and a warm-up run done
    first, starting at the epoch time ``start_at``; print its wall and CPU seconds."""
    import functools

    sys.path.insert(0, str(ROOT))
    from cycler_cli.batch import check_run, discover, plan
    from cycler_cli.config import CheckConfig

    found = discover([directory])
    share = _halves(plan(list(found.files), readers=found.readers), parts)[part] if parts > 1 else plan(list(found.files), readers=found.readers)
    work = functools.partial(check_run, config=CheckConfig(), encode=True)
    for run in share[:1] + [r for r in share if str(r[0]).endswith(".csv")][:1]:
        work(run)  # imports and first-call costs are not part of the per-file work
    while time.time() < start_at:
        time.sleep(0.001)
    t0, c0 = time.perf_counter(), time.process_time()
    for run in share:
        work(run)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}))


def work_ceiling(directory: Path, jobs: int) -> dict[str, float]:
    """The best ratio ``--jobs N`` can reach on this work here: ``jobs`` independent processes,
    each checking a fixed share of the runs (equal bytes; imports done and warmed up before the
    clock starts), all at once, against one process checking every run. The longest share's
    wall time over the one process's wall time."""

    def launch(part: int, parts: int, start_at: float) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, __file__, "--work-share", f"{part},{parts},{start_at},{directory}"],
            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_child_env(),
        )

    def run(parts: int) -> list[dict]:
        start_at = time.time() + 3.0  # all processes imported and warmed up by then
        procs = [launch(k, parts, start_at) for k in range(parts)]
        return [json.loads(p.communicate()[0]) for p in procs]

    alone = run(1)[0]
    together = run(jobs)
    longest = max(r["wall_s"] for r in together)
    return {
        "all_runs_one_process_s": round(alone["wall_s"], 3),
        f"longest_of_{jobs}_shares_at_once_s": round(longest, 3),
        "cpu_s_one": round(alone["cpu_s"], 3),
        f"cpu_s_{jobs}_shares": round(sum(r["cpu_s"] for r in together), 3),
        "ceiling_ratio": round(longest / alone["wall_s"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=("cli", "library"), default="cli")
    parser.add_argument(
        "--interval-s", type=float, default=60.0,
        help="sampling interval of the symmetric runs (full cells: 10x); 60 = the size of sample_runs/, 20 = 3x the rows",
    )
    parser.add_argument("--work-share", help=argparse.SUPPRESS)  # internal: one share of work_ceiling
    args = parser.parse_args()
    if args.work_share:
        part, parts, start_at, folder = args.work_share.split(",", 3)
        _work_share(Path(folder), int(part), int(parts), float(start_at))
        return
    jobs_list = [j.strip() for j in args.jobs.split(",")]
    name = f"batch{args.runs}" if args.interval_s == 60.0 else f"batch{args.runs}-{args.interval_s:g}s"
    directory = make_runs(DATA / name, args.runs, args.interval_s)
    timer = time_cli if args.mode == "cli" else time_library
    if args.mode == "library":
        sys.path.insert(0, str(ROOT))
        import cycler_cli.analysis  # noqa: F401 - imports outside the timing
        import cycler_cli.verdicts  # noqa: F401
    walls: dict[str, list[float]] = {j: [] for j in jobs_list}
    cpus: dict[str, list[float]] = {j: [] for j in jobs_list}
    outputs: dict[str, str] = {}
    loads = []
    for r in range(args.rounds):
        order = jobs_list if r % 2 == 0 else list(reversed(jobs_list))
        for jobs in order:
            loads.append(os.getloadavg()[0])
            wall, cpu, text = timer(directory, jobs)
            walls[jobs].append(wall)
            cpus[jobs].append(cpu)
            if jobs in outputs and outputs[jobs] != text:
                raise SystemExit(f"--jobs {jobs} gave different reports in two rounds")
            outputs[jobs] = text
    same = len(set(outputs.values())) == 1
    parallel = [j for j in jobs_list if not j.startswith("dask") and int(j) > 1]
    ceiling = {j: machine_ceiling(int(j)) for j in parallel}
    per_work = {j: work_ceiling(directory, int(j)) for j in parallel}
    base = statistics.median(walls[jobs_list[0]])
    result = {
        "mode": args.mode,
        "runs": args.runs,
        "interval_s": args.interval_s,
        "rows": _rows(directory),
        "rounds": args.rounds,
        "cpu_count": os.cpu_count(),
        "load_avg_1min_during": [round(x, 2) for x in loads],
        "identical_reports": same,
        "machine_ceiling": ceiling,
        "work_ceiling": per_work,
        "load_avg_1min_after": round(os.getloadavg()[0], 2),
        "jobs": {
            j: {
                "wall_s_median": round(statistics.median(walls[j]), 3),
                "wall_s": [round(w, 3) for w in walls[j]],
                "cpu_s_median": round(statistics.median(cpus[j]), 3),
                "ratio_to_first": round(statistics.median(walls[j]) / base, 3),
                "wall_s_min": round(min(walls[j]), 3),
                "ratio_of_minima": round(min(walls[j]) / min(walls[jobs_list[0]]), 3),
            }
            for j in jobs_list
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    (DATA / "batch-results.json").write_text(text + "\n", encoding="utf-8")
    if not same:
        raise SystemExit("the reports differ between --jobs settings")


if __name__ == "__main__":
    main()
