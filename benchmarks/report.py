"""Turn benchmark results into figures: log-log slopes, acceptance ratios, markdown.

Pure functions over the results dict that ``run.py`` builds (and saves as JSON):

``results["runs"][tool][str(points)]`` holds ``wall_s`` (whole process, best of the repeats),
``work_s`` (in-process, imports excluded; absent for whole-process-only tools),
``maxrss_mb`` (peak resident memory of that process) or ``error`` (why it has no figure).
"""

from __future__ import annotations

import math
import re

import numpy as np

BEGIN_MARK = "<!-- benchmarks:begin (rewritten by benchmarks/run.py; edit outside these markers) -->"
END_MARK = "<!-- benchmarks:end -->"

#: Tools in table order, with the label shown in tables and the plot.
TOOL_LABELS: dict[str, str] = {
    "floor": "raw read floor: read() + numpy.frombuffer",
    "floor-columns": "floor + float64 copy of every column",
    "galvani-df": "galvani MPRfile + pandas.DataFrame",
    "galvani-groupby": "galvani + DataFrame + groupby summary",
    "cycler-lib": "cycler: io.read + analysis.analyze (library)",
    "cycler-cli": "cycler cycles FILE --format json (process)",
    "navani": "navani echem_file_loader + cycle_summary",
    "cellpy": "cellpy.get(instrument='biologics_mpr')",
}


def loglog_slope(points: list[float], times: list[float]) -> float | None:
    """Least-squares slope of log10(time) against log10(points); ``None`` for fewer than two
    usable pairs. 1.0 is linear scaling."""
    pairs = [(p, t) for p, t in zip(points, times) if p and t and p > 0 and t > 0]
    if len(pairs) < 2 or len({p for p, _ in pairs}) < 2:
        return None
    x = np.log10([p for p, _ in pairs])
    y = np.log10([t for _, t in pairs])
    slope, _intercept = np.polyfit(x, y, 1)
    return float(slope)


def series(results: dict, tool: str, key: str, min_points: int = 0) -> tuple[list[int], list[float]]:
    """(points, values) of ``key`` for one tool, sizes ascending, only where measured."""
    runs = results.get("runs", {}).get(tool, {})
    pts, vals = [], []
    for size in sorted(runs, key=int):
        value = runs[size].get(key)
        if value is not None and int(size) >= min_points:
            pts.append(int(size))
            vals.append(float(value))
    return pts, vals


def slope_for(results: dict, tool: str, key: str) -> tuple[float | None, str]:
    """The log-log slope over sizes >= 1e5 (the target's range) when two such sizes exist,
    else over every size; with the range it used, e.g. ``"1e5..1e6"``."""
    pts, vals = series(results, tool, key, min_points=100_000)
    if len(pts) < 2:
        pts, vals = series(results, tool, key)
    if len(pts) < 2:
        return None, ""
    return loglog_slope(pts, vals), f"{fmt_points(pts[0])}..{fmt_points(pts[-1])}"


def fmt_points(n: int) -> str:
    """10000 -> '1e4'; 2500000 -> '2.5e6'."""
    exp = int(math.floor(math.log10(n)))
    mant = n / 10**exp
    return f"{mant:g}e{exp}" if mant != 1 else f"1e{exp}"


def _get(results: dict, tool: str, points: int, key: str) -> float | None:
    value = results.get("runs", {}).get(tool, {}).get(str(points), {}).get(key)
    return None if value is None else float(value)


def _ratio_target(
    name: str,
    num: float | None,
    den: float | None,
    limit: float,
    detail: str,
    why_missing: str,
    cpu: tuple[float | None, float | None] = (None, None),
) -> dict:
    """A ratio target, judged on wall time; ``cpu`` (the same two processes' CPU seconds) is
    quoted beside it, as a check on how much other load on the machine moved the wall times."""
    if num is None or den is None or den <= 0:
        return {"target": name, "measured": None, "limit": limit, "status": "not measured", "detail": why_missing}
    ratio = num / den
    text = detail.format(num=num, den=den)
    if cpu[0] and cpu[1]:
        text += f"; CPU time ratio {cpu[0] / cpu[1]:.2f} ({cpu[0]:.2f} s vs {cpu[1]:.2f} s)"
    return {
        "target": name,
        "measured": ratio,
        "limit": limit,
        "status": "met" if ratio <= limit else "not met",
        "detail": text,
    }


def _cpu(results: dict, a: str, b: str, points: int, key: str = "cpu_s") -> tuple[float | None, float | None]:
    return _get(results, a, points, key), _get(results, b, points, key)


def acceptance(results: dict) -> list[dict]:
    """Each acceptance target of issues 10 and 5 with its measured figure and met / not met /
    not measured (and why)."""
    out = []
    st = results.get("startup", {})
    py = st.get("python-pass", {}).get("wall_s")
    ver = st.get("cycler-version", {}).get("wall_s")
    out.append(_ratio_target(
        "`cycler --version` time / `python -c pass` time", ver, py, 3.0,
        "{num:.3f} s vs {den:.3f} s (best of the startup repeats)", "startup not measured",
        cpu=(st.get("cycler-version", {}).get("cpu_s"), st.get("python-pass", {}).get("cpu_s")),
    ))
    imports = st.get("imports", {})
    for args, imported in imports.items():
        heavy = [m for m in imported if m in ("pandas", "scipy", "galvani")] if isinstance(imported, list) else None
        out.append({
            "target": f"`cycler {args}` imports none of pandas, scipy, galvani",
            "measured": None if heavy is None else len(heavy),
            "limit": 0,
            "status": "not measured" if heavy is None else ("met" if not heavy else "not met"),
            "detail": str(imported) if heavy is None else ("imports: " + (", ".join(imported) or "none of numpy/pandas/scipy/galvani")),
        })
    n6 = 1_000_000
    out.append(_ratio_target(
        "1e6 points, in-process, imports excluded: cycler read + analyze / raw floor",
        _get(results, "cycler-lib", n6, "work_s"), _get(results, "floor", n6, "work_s"), 2.0,
        "{num:.3f} s vs {den:.3f} s", _missing(results, ["cycler-lib", "floor"], n6),
        cpu=_cpu(results, "cycler-lib", "floor", n6, "work_cpu_s"),
    ))
    n7 = 10_000_000
    out.append(_ratio_target(
        "1e7 points, whole process: `cycler cycles --format json` / floor process",
        _get(results, "cycler-cli", n7, "wall_s"), _get(results, "floor", n7, "wall_s"), 3.0,
        "{num:.2f} s vs {den:.2f} s", _missing(results, ["cycler-cli", "floor"], n7),
        cpu=_cpu(results, "cycler-cli", "floor", n7),
    ))
    out.append(_ratio_target(
        "1e7 points, whole process: `cycler cycles --format json` / galvani + DataFrame + groupby process",
        _get(results, "cycler-cli", n7, "wall_s"), _get(results, "galvani-groupby", n7, "wall_s"), 0.5,
        "{num:.2f} s vs {den:.2f} s", _missing(results, ["cycler-cli", "galvani-groupby"], n7),
        cpu=_cpu(results, "cycler-cli", "galvani-groupby", n7),
    ))
    for tool, key, what in (("cycler-lib", "work_s", "in-process"), ("cycler-cli", "wall_s", "whole process")):
        pts, vals = series(results, tool, key, min_points=100_000)
        slope = loglog_slope(pts, vals)
        if slope is None:
            status, detail = "not measured", "needs two sizes from 1e5 up; " + _missing(results, [tool], 10_000_000)
        else:
            span = f"{fmt_points(pts[0])}..{fmt_points(pts[-1])}"
            full = pts[0] == 100_000 and pts[-1] >= 10_000_000
            status = "met" if slope <= 1.1 else "not met"
            detail = f"fitted over {span}" + ("" if full else " (not yet the full 1e5..1e7 range)")
        out.append({
            "target": f"log-log slope of cycler time vs points, 1e5..1e7 ({what})",
            "measured": slope,
            "limit": 1.1,
            "status": status,
            "detail": detail,
        })
    rss7 = _get(results, "cycler-cli", n7, "maxrss_mb")
    base_pts, base_rss = series(results, "cycler-cli", "maxrss_mb")
    size7 = results.get("file_mb", {}).get(str(n7))
    if rss7 is None or not base_rss or size7 is None:
        out.append({"target": "peak memory on 1e7 points above the interpreter baseline / file size",
                    "measured": None, "limit": 2.0, "status": "not measured",
                    "detail": _missing(results, ["cycler-cli"], n7)})
    else:
        above = rss7 - base_rss[0]
        ratio = above / size7
        out.append({
            "target": "peak memory on 1e7 points above the interpreter baseline / file size",
            "measured": ratio, "limit": 2.0, "status": "met" if ratio <= 2.0 else "not met",
            "detail": f"{rss7:.0f} MB peak - {base_rss[0]:.0f} MB baseline (same command on the "
                      f"{fmt_points(base_pts[0])} file) = {above:.0f} MB over a {size7:.0f} MB file",
        })
    out.append(_ratio_target(
        "issue 5: 1e6 points, whole process: `cycler cycles` / galvani + pandas.DataFrame process",
        _get(results, "cycler-cli", n6, "wall_s"), _get(results, "galvani-df", n6, "wall_s"), 2.0,
        "{num:.2f} s vs {den:.2f} s", _missing(results, ["cycler-cli", "galvani-df"], n6),
        cpu=_cpu(results, "cycler-cli", "galvani-df", n6),
    ))
    return out


def _missing(results: dict, tools: list[str], points: int) -> str:
    reasons = []
    for tool in tools:
        skipped = results.get("skipped", {}).get(tool)
        run = results.get("runs", {}).get(tool, {}).get(str(points), {})
        if skipped:
            reasons.append(f"{tool}: {skipped}")
        elif run.get("error"):
            reasons.append(f"{tool}: {run['error']}")
        elif not run:
            reasons.append(f"{tool}: not run at {fmt_points(points)} points")
    return "; ".join(reasons) or "not measured"


def _cell(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: dict, plot_name: str | None = "performance.png") -> str:
    """The figures section of docs/performance.md (everything between the markers)."""
    sizes = [int(s) for s in results.get("sizes", [])]
    heads = " | ".join(fmt_points(n) for n in sizes)
    lines: list[str] = []
    m = results.get("machine", {})
    lines.append(f"Measured {m.get('date', '?')} on {m.get('cpu', '?')} ({m.get('nproc', '?')} CPUs, "
                 f"{m.get('mem_gb', '?')} GB RAM), {m.get('os', '?')}; load average at start "
                 f"{m.get('loadavg_at_start', '?')} (1 / 5 / 15 min).")
    lines.append("")
    lines.append("| software | version |")
    lines.append("|---|---|")
    for name, ver in m.get("versions", {}).items():
        lines.append(f"| {name} | {ver} |")
    lines.append("")
    src = results.get("source", {})
    lines.append(f"Grown from `{src.get('name', '?')}` ({src.get('points', '?')} points, data module "
                 f"v{src.get('data_version', '?')}, {src.get('record_bytes', '?')} bytes a point); repeats: "
                 f"{results.get('repeats_note', '?')}; page cache warm for every tool; "
                 f"`OPENBLAS_CORETYPE`/`OPENBLAS_L2_SIZE` in children: {m.get('openblas_env', 'unset')}.")
    lines.append("")
    lines.append("| points | " + heads + " |")
    lines.append("|---|" + "---:|" * len(sizes))
    lines.append("| file size, MB | " + " | ".join(_cell(results.get("file_mb", {}).get(str(n))) for n in sizes) + " |")
    lines.append("")

    def table(title: str, key: str, with_slope: bool) -> None:
        lines.append(f"**{title}**")
        lines.append("")
        head = "| tool | " + heads + (" | log-log slope |" if with_slope else " |")
        lines.append(head)
        lines.append("|---|" + "---:|" * len(sizes) + ("---:|" if with_slope else ""))
        for tool, label in TOOL_LABELS.items():
            runs = results.get("runs", {}).get(tool)
            if runs is None and tool not in results.get("skipped", {}):
                continue
            if tool in results.get("skipped", {}):
                continue  # listed once under "not measured"
            cells = []
            for n in sizes:
                run = runs.get(str(n), {})
                cells.append(_cell(run.get(key)) if run.get(key) is not None else ("✗" if run.get("error") else "–"))
            if all(c in ("–", "✗") for c in cells):
                continue
            row = f"| {label} | " + " | ".join(cells)
            if with_slope:
                slope, span = slope_for(results, tool, key)
                row += f" | {slope:.2f} ({span})" if slope is not None else " | –"
            lines.append(row + " |")
        lines.append("")

    table("Whole process, wall time in seconds (Python start, imports, read, work, exit)", "wall_s", True)
    table("Whole process, CPU time in seconds (user + system; less shaken by other load than wall time)", "cpu_s", True)
    table("In one process, imports excluded, seconds", "work_s", True)
    table(f"Peak resident memory of the process, MB ({results.get('rss_method', '?')})", "maxrss_mb", False)

    found = []
    for tool, label in TOOL_LABELS.items():
        runs = results.get("runs", {}).get(tool, {})
        cells = [runs.get(str(n), {}).get("cycles") for n in sizes]
        if any(c is not None for c in cells):
            found.append(f"| {label} | " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    if found:
        lines.append("**Cycles found** (rows of each tool's per-cycle table; the tools count cycles differently)")
        lines.append("")
        lines.append("| tool | " + heads + " |")
        lines.append("|---|" + "---:|" * len(sizes))
        lines.extend(found)
        lines.append("")

    errors = []
    for tool, runs in results.get("runs", {}).items():
        for n, run in sorted(runs.items(), key=lambda kv: int(kv[0])):
            if run.get("error"):
                errors.append(f"- {TOOL_LABELS.get(tool, tool)} at {fmt_points(int(n))} points: {_md_escape(run['error'])}")
    for tool, why in results.get("skipped", {}).items():
        errors.append(f"- {TOOL_LABELS.get(tool, tool)}: not measured: {_md_escape(why)}")
    if errors:
        lines.append("✗ and missing figures:")
        lines.append("")
        lines.extend(errors)
        lines.append("")

    split = []
    for tool, parts in (("cycler-lib", ("read_s", "analyze_s")), ("galvani-groupby", ("read_s", "summary_s")), ("navani", ("read_s", "summary_s"))):
        for n in sizes:
            run = results.get("runs", {}).get(tool, {}).get(str(n), {})
            if all(run.get(p) is not None for p in parts):
                split.append(f"| {TOOL_LABELS[tool]} | {fmt_points(n)} | " + " | ".join(f"{parts[i].removesuffix('_s')} {run[parts[i]]:.3f}" for i in range(2)) + " |")
    if split:
        lines.append("**Where the in-process time goes (seconds)**")
        lines.append("")
        lines.append("| tool | points | first part | second part |")
        lines.append("|---|---:|---|---|")
        lines.extend(split)
        lines.append("")

    st = results.get("startup", {})
    if st:
        lines.append("**Start-up** (best / median of " + str(st.get("repeats", "?")) + " runs, seconds; peak RSS MB)")
        lines.append("")
        lines.append("| command | best | median | peak RSS |")
        lines.append("|---|---:|---:|---:|")
        for key, label in (("python-pass", "`python -c pass`"), ("cycler-version", "`cycler --version`"), ("cycler-help", "`cycler --help`")):
            row = st.get(key)
            if row:
                lines.append(f"| {label} | {_cell(row.get('wall_s'))} | {_cell(row.get('median_s'))} | {_cell(row.get('maxrss_mb'))} |")
        lines.append("")

    lines.append("**Acceptance targets** (ratios from this one run)")
    lines.append("")
    lines.append("| target | measured | limit | status | detail |")
    lines.append("|---|---:|---:|---|---|")
    for row in acceptance(results):
        measured = "–" if row["measured"] is None else (f"{row['measured']:.2f}" if isinstance(row["measured"], float) else str(row["measured"]))
        mark = {"met": "✅ met", "not met": "❌ not met"}.get(row["status"], "⚪ not measured")
        lines.append(f"| {row['target']} | {measured} | {row['limit']:g} | {mark} | {_md_escape(row['detail'])} |")
    lines.append("")

    for key, what in (("profile", "cycler read + analyze (library)"), ("profile_cli", "`cycler cycles --format json`, in-process")):
        prof = results.get(key)
        if not prof:
            continue
        lines.append(f"**cProfile of {what}, {fmt_points(prof['points'])} points** "
                     f"({prof['work_s']:.2f} s under the profiler, after a warm-up run of the library on the 1e4 file; own time = time in the function itself)")
        lines.append("")
        lines.append("| own s | calls | function |")
        lines.append("|---:|---:|---|")
        for own, calls, where in prof["by_own"][:12]:
            lines.append(f"| {own:.3f} | {calls} | `{_md_escape(where)}` |")
        lines.append("")
        lines.append("| cumulative s | calls | function (cycler's own, typer's argument parsing, imports) |")
        lines.append("|---:|---:|---|")
        shown = [r for r in prof["by_cumulative"] if _worth_showing(r[2])]
        for cum, calls, where in shown[:12]:
            lines.append(f"| {cum:.3f} | {calls} | `{_md_escape(where)}` |")
        lines.append("")

    if plot_name:
        lines.append(f"![time against points, log-log]({plot_name})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _worth_showing(where: str) -> bool:
    """Cumulative-time rows worth a reader's eye: cycler's own functions, typer's argument
    parsing (where it imports pydantic) and module imports, not the dispatch wrappers."""
    return where.startswith("cycler_cli/") or "(parse_args)" in where or "(_find_and_load)" in where


def rewrite_between_markers(text: str, body: str) -> str:
    """``text`` with everything between :data:`BEGIN_MARK` and :data:`END_MARK` replaced by
    ``body``; the markers are appended when absent. Text outside them is kept byte for byte."""
    block = f"{BEGIN_MARK}\n{body.rstrip()}\n{END_MARK}"
    pattern = re.compile(re.escape(BEGIN_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    sep = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{sep}\n{block}\n"
