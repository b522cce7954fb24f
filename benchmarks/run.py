"""cycler's performance benchmark: grow a real .mpr file, time every tool side by side.

    python benchmarks/run.py                      # 1e4, 1e5, 1e6, 1e7 points
    python benchmarks/run.py --quick              # 1e4, 1e5 only
    python benchmarks/run.py --sizes 1e4,1e6 --skip-competitors
    python benchmarks/run.py --profile 1e6        # also cProfile cycler at 1e6 points

Each figure is one fresh child process (``benchmarks/tasks.py``), measured for wall time and
peak RSS; in-process timings (imports excluded) come from inside the same child. Results go
to stdout as markdown, to ``benchmarks/_data/results.json``, into ``docs/performance.md``
between its marker comments, and to ``docs/performance.png`` (drawn by the benchmark venv's
matplotlib). See docs/performance.md for what each tool does and how to read the figures.

navani and cellpy run from separate venvs (``--bench-python``, ``--cellpy-python``) because
navani installs a galvani fork under the same import name as the project's galvani.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import grow  # noqa: E402
import report  # noqa: E402
from measure import RSS_METHOD, Sample, best_of, child_env, run_child  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "realdata" / "datalab" / "jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr"
CACHE_DIR = HERE / "_data"
TASKS = str(HERE / "tasks.py")
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "performance.png"

#: Tools measured from the project's venv / a competitor venv; "cycler-cli" is the real CLI.
PROJECT_TOOLS = ["floor", "floor-columns", "galvani-df", "galvani-groupby", "cycler-lib", "cycler-cli"]
COMPETITOR_TOOLS = ["navani", "cellpy"]
COMPETITORS_SKIPPABLE = {"galvani-df", "galvani-groupby", "navani", "cellpy", "floor-columns"}


def parse_sizes(text: str) -> list[int]:
    """'1e4,1e5,2.5e5' -> [10000, 100000, 250000] (sorted, unique)."""
    out = set()
    for part in text.split(","):
        part = part.strip()
        if part:
            value = float(part)
            if value < 1 or value != int(value):
                raise argparse.ArgumentTypeError(f"bad size {part!r}: a whole number of points")
            out.add(int(value))
    return sorted(out)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine_info() -> dict:
    from importlib.metadata import version

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = "?"
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        pass
    versions = {"Python": platform.python_version()}
    for dist in ("numpy", "pandas", "scipy", "galvani", "cycler-cli"):
        try:
            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            versions[dist] = "not installed"
    openblas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "mem_gb": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "loadavg_at_start": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "openblas_env": ("unset for the children (was " + ", ".join(f"{k}={v}" for k, v in openblas.items()) + ")")
        if openblas else "not set",
    }


def competitor_versions(python: Path, dists: list[str]) -> dict[str, str]:
    code = (
        "import json,importlib.metadata as m,platform\n"
        "out={'Python':platform.python_version()}\n"
        f"for d in {dists!r}:\n"
        "    try: out[d]=m.version(d)\n"
        "    except Exception: out[d]='not installed'\n"
        "print(json.dumps(out))"
    )
    try:
        done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
        return json.loads(done.stdout)
    except Exception as exc:  # noqa: BLE001
        return {"error": str(exc)}


def measure_startup(repeats: int, env: dict) -> dict:
    """``python -c pass`` against ``cycler --version`` and ``--help``, interleaved, and which
    heavy modules each cycler command imports."""
    cycler = Path(sys.executable).with_name("cycler")
    commands = {
        "python-pass": [sys.executable, "-c", "pass"],
        "cycler-version": [str(cycler), "--version"],
        "cycler-help": [str(cycler), "--help"],
    }
    samples: dict[str, list[Sample]] = {k: [] for k in commands}
    for argv in commands.values():  # one untimed run each: warm the file cache
        run_child(argv, env=env, timeout_s=60, stdout_to_null=True)
    for _ in range(repeats):
        for key, argv in commands.items():
            samples[key].append(run_child(argv, env=env, timeout_s=60, stdout_to_null=True))
    out: dict = {"repeats": repeats}
    for key, runs in samples.items():
        best = best_of(runs)
        if best is None:
            out[key] = None
            continue
        out[key] = {
            "wall_s": best.wall_s,
            "cpu_s": min(s.cpu_s for s in runs if s.ok),
            "median_s": statistics.median(s.wall_s for s in runs if s.ok),
            "maxrss_mb": best.maxrss_mb,
        }
    out["imports"] = {}
    for args in (["--version"], ["--help"]):
        s = run_child([sys.executable, TASKS, "imports-after", "-", json.dumps({"argv": args})], env=env, timeout_s=60)
        out["imports"][" ".join(args)] = s.result.get("imported") if s.ok else f"failed: {s.error_line()}"
    return out


def cli_has_cycles(env: dict) -> str | None:
    """``None`` when ``cycler cycles`` exists, else why not."""
    cycler = Path(sys.executable).with_name("cycler")
    s = run_child([str(cycler), "cycles", "--help"], env=env, timeout_s=60)
    return None if s.returncode == 0 else f"`cycler cycles` not available yet ({s.error_line()})"


def lib_has_analyze(env: dict) -> str | None:
    code = "from cycler_cli.analysis import analyze; from cycler_cli.io import read"
    s = run_child([sys.executable, "-c", code], env=env, timeout_s=60)
    return None if s.ok else f"cycler_cli.analysis.analyze not importable yet ({s.error_line()})"


def argv_for(tool: str, path: Path, opts: dict, pythons: dict[str, Path]) -> tuple[list[str], bool]:
    """(argv, stdout_to_null) for one measurement."""
    if tool == "cycler-cli":
        cycler = Path(sys.executable).with_name("cycler")
        return [str(cycler), "cycles", str(path), "--format", "json"], True
    python = pythons.get(tool, Path(sys.executable))
    return [str(python), TASKS, tool, str(path), json.dumps(opts)], False


def run_benchmarks(args: argparse.Namespace) -> dict:
    env = child_env(unset_openblas=not args.keep_openblas)
    source = Path(args.source)
    if not source.is_file():
        sys.exit(f"error: source file {source} not found (needs ../shared/realdata); pass --source")
    buf = source.read_bytes()
    layout = grow.data_layout(buf)
    bench_python = Path(args.bench_python)
    cellpy_python = Path(args.cellpy_python) if args.cellpy_python else bench_python
    results: dict = {
        "machine": machine_info(),
        "source": {
            "name": str(source.relative_to(ROOT.parent)) if source.is_relative_to(ROOT.parent) else str(source),
            "points": layout.n_points,
            "data_version": layout.module.version,
            "record_bytes": layout.record_bytes,
        },
        "sizes": args.sizes,
        "rss_method": RSS_METHOD,
        "labels": report.TOOL_LABELS,
        "file_mb": {},
        "runs": {},
        "skipped": {},
    }
    # grow the files first (cached)
    paths: dict[int, Path] = {}
    for n in args.sizes:
        t0 = time.perf_counter()
        paths[n] = grow.ensure_grown(source, n, CACHE_DIR)
        results["file_mb"][str(n)] = paths[n].stat().st_size / 1e6
        log(f"grown {paths[n].name}: {results['file_mb'][str(n)]:.1f} MB ({time.perf_counter() - t0:.1f} s)")
    warm_path = grow.ensure_grown(source, min(10_000, min(args.sizes)), CACHE_DIR)

    tools = list(PROJECT_TOOLS)
    if not args.skip_competitors:
        tools += COMPETITOR_TOOLS
    else:
        tools = [t for t in tools if t not in COMPETITORS_SKIPPABLE]
        results["skipped_note"] = "competitors skipped (--skip-competitors)"
    pythons: dict[str, Path] = {"navani": bench_python, "cellpy": cellpy_python}
    for tool in COMPETITOR_TOOLS:
        if tool in tools and not pythons[tool].exists():
            results["skipped"][tool] = f"no interpreter at {pythons[tool]} (see docs/performance.md: the benchmark venv)"
            tools.remove(tool)
    if "navani" in tools or "cellpy" in tools:
        vers = competitor_versions(bench_python, ["navani", "datalab-org-galvani", "pandas", "numpy"])
        results["machine"]["versions"]["benchmark venv"] = ", ".join(f"{k} {v}" for k, v in vers.items())
        if cellpy_python != bench_python:
            vers = competitor_versions(cellpy_python, ["cellpy", "pandas", "numpy"])
            results["machine"]["versions"]["cellpy venv"] = ", ".join(f"{k} {v}" for k, v in vers.items())
    why = cli_has_cycles(env)
    if why:
        results["skipped"]["cycler-cli"] = why
        tools.remove("cycler-cli")
    why = lib_has_analyze(env)
    if why:
        results["skipped"]["cycler-lib"] = why
        tools.remove("cycler-lib")

    if args.startup_repeats > 0:
        log("start-up: python -c pass vs cycler --version / --help")
        results["startup"] = measure_startup(args.startup_repeats, env)

    floor_opts = {"dtype": layout.dtype_descr, "offset": layout.records_start}
    dead: dict[str, str] = {}  # tool -> why it is not run at larger sizes
    for n in args.sizes:
        path = paths[n]
        repeats = args.repeats or default_repeats(n)
        with open(path, "rb") as fh:  # warm the page cache so no tool pays the first read
            while fh.read(1 << 24):
                pass
        opts_by_tool = {t: {} for t in tools}
        for t in ("floor", "floor-columns"):
            opts_by_tool[t] = dict(floor_opts, count=n)
        opts_by_tool["cycler-lib"] = {"warmup": str(warm_path)}
        samples: dict[str, list[Sample]] = {t: [] for t in tools}
        for rep in range(repeats):
            for tool in tools:
                if tool in dead:
                    continue
                if rep > 0 and samples[tool] and samples[tool][0].wall_s > args.slow_s:
                    continue  # one run of a slow tool says enough; repeats go to the fast ones
                argv, to_null = argv_for(tool, path, opts_by_tool[tool], pythons)
                s = run_child(argv, env=env, timeout_s=args.timeout, stdout_to_null=to_null)
                samples[tool].append(s)
                status = "ok" if s.ok else f"FAILED: {s.error_line()}"
                log(f"{grow_label(n)} rep {rep + 1}/{repeats} {tool:16s} {s.wall_s:8.3f} s "
                    f"{s.maxrss_mb:8.0f} MB  work {s.result.get('work_s', float('nan')):.3f} s  {status}")
                if not s.ok:
                    dead[tool] = f"failed at {report.fmt_points(n)} points: {s.error_line()}"
        for tool in tools:
            runs = samples[tool]
            if not runs:
                continue  # failed or timed out at a smaller size
            best = best_of(runs)
            entry: dict
            if best is None:
                entry = {"error": runs[-1].error_line(), "wall_s": None}
            else:
                entry = {
                    "wall_s": best.wall_s,
                    "cpu_s": min(s.cpu_s for s in runs if s.ok),
                    "maxrss_mb": max(s.maxrss_mb for s in runs if s.ok),
                    "repeats": len(runs),
                }
                goods = [s for s in runs if s.ok and "work_s" in s.result]
                if goods:
                    fastest = min(goods, key=lambda s: s.result["work_s"])
                    for key in ("work_s", "work_cpu_s", "read_s", "analyze_s", "summary_s", "import_s", "rows", "cycles", "reader"):
                        if key in fastest.result:
                            entry[key] = fastest.result[key]
            results["runs"].setdefault(tool, {})[str(n)] = entry
    results["repeats_note"] = (("best of " + str(args.repeats)) if args.repeats else
                               "best of 5 up to 1e6 points, of 3 above") + \
        f" (a tool whose first run took over {args.slow_s:g} s runs once)"

    if args.profile and "cycler-lib" in tools:
        n = args.profile
        path = paths.get(n) or grow.ensure_grown(source, n, CACHE_DIR)
        log(f"cProfile of cycler at {report.fmt_points(n)} points")
        s = run_child([sys.executable, TASKS, "cycler-profile", str(path), json.dumps({"warmup": str(warm_path)})],
                      env=env, timeout_s=args.timeout)
        if s.ok:
            results["profile"] = dict(s.result, points=n)
        else:
            log(f"profile failed: {s.error_line()}")
        if "cycler-cli" in tools:
            opts = {"warmup": str(warm_path), "argv": ["cycles", str(path), "--format", "json"]}
            s = run_child([sys.executable, TASKS, "cycler-profile", str(path), json.dumps(opts)], env=env, timeout_s=args.timeout)
            if s.ok:
                results["profile_cli"] = dict(s.result, points=n)
            else:
                log(f"CLI profile failed: {s.error_line()}")

    results["slopes"] = {}
    for tool in results["runs"]:
        for key in ("wall_s", "work_s"):
            slope, _span = report.slope_for(results, tool, key)
            if slope is not None:
                results["slopes"].setdefault(tool, {})[key] = slope
    return results


def default_repeats(n: int) -> int:
    """Best of 5 up to 1e6 points, of 3 above (slow tools run once, see --slow-s). Five at 1e6:
    a run there takes well under a second, and on a shared machine a slow patch of a few
    seconds can cover three runs of one tool in a row (it did once in ten runs of the 1e6
    target, 2026-11-25); both sides of every ratio get the same number of runs."""
    return 5 if n <= 1_000_000 else 3


def grow_label(n: int) -> str:
    return f"{report.fmt_points(n):>5s}"


def draw_plot(results_path: Path, bench_python: Path) -> str | None:
    """Draw the PNG with the first interpreter that has matplotlib; ``None`` on success."""
    for python in (bench_python, Path(sys.executable)):
        if not python.exists():
            continue
        s = run_child([str(python), str(HERE / "plot.py"), str(results_path), str(PLOT)], timeout_s=300)
        if s.ok:
            return None
        last = s.error_line()
    return f"plot not drawn: {last if 'last' in locals() else 'no interpreter with matplotlib'}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e4,1e5,1e6,1e7"),
                   help="comma-separated point counts (default 1e4,1e5,1e6,1e7)")
    p.add_argument("--quick", action="store_true", help="1e4 and 1e5 points only")
    p.add_argument("--skip-competitors", action="store_true", help="only the floor and cycler")
    p.add_argument("--repeats", type=int, default=0, help="runs per figure (default: 5 up to 1e6 points, 3 above; tools slower than --slow-s run once)")
    p.add_argument("--slow-s", type=float, default=60.0, help="a tool whose first run took longer is not repeated")
    p.add_argument("--startup-repeats", type=int, default=15, help="runs of each start-up command (0 skips)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds before a child is killed (default 900)")
    p.add_argument("--profile", type=parse_sizes, default=None, help="cProfile cycler read+analyze at this size")
    p.add_argument("--source", default=str(DEFAULT_SOURCE), help="the real GCPL .mpr file to grow")
    p.add_argument("--bench-python", default="/work/bench-venv/bin/python", help="interpreter with navani (and matplotlib)")
    p.add_argument("--cellpy-python", default="/work/bench-venv-cellpy/bin/python",
                   help="interpreter with cellpy (default: a Python 3.13 venv; cellpy >= 1.0.4 needs 3.13)")
    p.add_argument("--keep-openblas", action="store_true", help="do not unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE in children")
    p.add_argument("--no-docs", action="store_true", help="print the table only; leave docs/ alone")
    p.add_argument("--from-results", metavar="JSON", help="measure nothing: re-render docs and plot from a saved results file")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = [10_000, 100_000]
    if args.profile:
        args.profile = args.profile[0]
    if args.cellpy_python and not Path(args.cellpy_python).exists():
        args.cellpy_python = None  # fall back to the benchmark venv's cellpy

    if args.from_results:
        results_path = Path(args.from_results)
        results = json.loads(results_path.read_text(encoding="utf-8"))
    else:
        results = run_benchmarks(args)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        results_path = CACHE_DIR / "results.json"
        results_path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        log(f"results saved to {results_path}")
    plot_note = None
    if not args.no_docs:
        plot_note = draw_plot(results_path, Path(args.bench_python))
        if plot_note:
            log(plot_note)
    body = report.render_markdown(results, plot_name=None if (plot_note or args.no_docs) else PLOT.name)
    print(body)
    if not args.no_docs:
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
        DOC.write_text(report.rewrite_between_markers(text, body), encoding="utf-8")
        log(f"figures written into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
