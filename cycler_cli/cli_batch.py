"""``cycler summary``, ``cycler compare`` and ``cycler plot``, and the batch options that
``check`` and ``cycles`` share with them (folders, globs, ``--recursive``, ``--jobs``,
``--executor``, ``--scheduler``, ``--quiet``, linked and joined files).

Parse options -> :mod:`cycler_cli.batch` / :mod:`cycler_cli.summary` / :mod:`cycler_cli.compare`
/ :mod:`cycler_cli.plot` -> render -> exit code. Module level imports typer and the standard
library only (start-up time, docs/performance.md); docs in docs/batch.md and docs/plot.md.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer


class CellChoice(str, Enum):
    auto = "auto"
    symmetric = "symmetric"
    full = "full"


class Executor(str, Enum):
    process = "process"
    dask = "dask"


class SummaryFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class CompareFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class PlotKind(str, Enum):
    auto = "auto"
    voltage = "voltage"
    overpotential = "overpotential"
    voltage_capacity = "voltage-capacity"
    capacity = "capacity"


# Options shared with `check` and `cycles` (kept here so every command spells them the same).
PathsArg = Annotated[
    list[Path], typer.Argument(help="Files, folders or globs (quote globs: 'runs/*.mpr').", show_default=False)
]
RecursiveOpt = Annotated[bool, typer.Option("--recursive", "-r", help="Look in sub-folders too (and let ** in globs match them).")]
JobsOpt = Annotated[
    Optional[int],
    typer.Option(
        "--jobs", "-j",
        help="Worker processes (default: the machine's cores; none for one run or under 2 MB of files, 8 MB on macOS and Windows; 1 = none).",
        show_default=False,
    ),
]
ExecutorOpt = Annotated[
    Executor, typer.Option("--executor", help="process (this machine) or dask (a Dask cluster; needs the dask extra, docs/scale.md).")
]
SchedulerOpt = Annotated[
    Optional[str],
    typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786) for --executor dask; default: a local cluster."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no list of skipped files on stderr.")]
LinkOpt = Annotated[
    bool,
    typer.Option("--link/--no-link", help="Analyse EC-Lab linked-technique files (name_01_X_C01, name_02_Y_C01) as one run."),
]
JoinOpt = Annotated[bool, typer.Option("--join", help="Analyse all the given files, in order, as one run.")]
ReaderOpt = Annotated[
    Optional[str], typer.Option("--reader", help="Use this reader instead of sniffing the content (see `cycler formats`).")
]
ColumnsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--columns",
        help="Map a CSV's own headers: time_s=COL,voltage_v=COL,current_a=COL[:UNIT] (implies --reader generic-csv).",
    ),
]
CellOpt = Annotated[CellChoice, typer.Option("--cell", help="auto (decide from the signal), symmetric (Li|SE|Li) or full.")]
MassOpt = Annotated[Optional[float], typer.Option("--mass-mg", help="Active-material mass, mg (else the file's, if set).")]
AreaOpt = Annotated[Optional[float], typer.Option("--area-cm2", help="Electrode area, cm² (else the file's, if set).")]


def open_workers(jobs: int | None, executor: Executor) -> Any:
    """Worker processes for one command, shared by sniffing and the runs (use as ``with``;
    started only when a stage runs in parallel; ``None`` for ``--executor dask``)."""
    import contextlib

    from cycler_cli.batch import Workers, default_jobs

    if executor is not Executor.process:
        return contextlib.nullcontext()
    return Workers(jobs or default_jobs())


def collect_runs(
    paths: list[Path], *, recursive: bool, link: bool, join: bool, quiet: bool, jobs: int | None = 1, workers: Any = None
) -> tuple[list[tuple[Path, ...]], Any]:
    """Discover the files and group them into runs; list skipped files on stderr (unless
    ``quiet``) with their count. Raises InputError when nothing is left to analyse. Folder and
    glob files are sniffed in ``jobs`` processes (``None``: as many as :func:`auto_jobs` gives;
    ``workers``: the command's :func:`open_workers`). Each run names the readers that claimed
    its files, so they are not sniffed again."""
    from cycler_cli.batch import list_entries

    entries = list_entries(paths, recursive=recursive)
    check = [e.path for e in entries if e.action == "check"]
    found, runs = _found_and_runs(entries, dict(zip(map(str, check), _claim(check, jobs, workers))), link, join)
    _report_skipped(found, paths, quiet)
    return runs, found


def _found_and_runs(entries: list[Any], claimed: dict[str, Any], link: bool, join: bool) -> tuple[Any, list[tuple[Path, ...]]]:
    """The discovery of ``entries`` with these claims, and its runs."""
    from cycler_cli.batch import from_entries, plan

    found = from_entries(entries, claimed)
    return found, plan(list(found.files), link=link, join=join, readers=found.readers)


def _claim(paths: list[Path], jobs: int | None, workers: Any) -> list[str | None]:
    from cycler_cli.batch import auto_jobs, claim_files_parallel

    n = jobs if jobs is not None else auto_jobs([(p,) for p in paths])
    return claim_files_parallel(paths, n, workers)


def _report_skipped(found: Any, paths: list[Path], quiet: bool) -> None:
    """List the skipped files on stderr (unless ``quiet``) with their count; InputError when
    no file is left."""
    from cycler_cli.errors import InputError

    if found.skipped and not quiet:
        for path, reason in found.skipped:
            print(f"skipped: {path}: {reason}", file=sys.stderr)
        counts = ", ".join(f"{n} {why}" for why, n in found.skipped_counts().items())
        print(f"skipped {len(found.skipped)} file(s): {counts}", file=sys.stderr)
    if not found.files:
        raise InputError(
            f"no file a reader recognises in {', '.join(str(p) for p in paths)}"
            + (f" ({len(found.skipped)} skipped)" if found.skipped else ""),
            hint="check the path, pass --recursive for sub-folders, or see `cycler formats`",
        )


def collect_and_execute(
    work: Callable[[Any], Any],
    paths: list[Path],
    *,
    recursive: bool,
    link: bool,
    join: bool,
    quiet: bool,
    jobs: int | None,
    executor: "Executor",
    scheduler: str | None,
    on_outcome: Callable[[int, Any], None] | None = None,
    workers: Any = None,
) -> tuple[list[Any], Any]:
    """:func:`collect_runs`, then :func:`execute`: the outcomes of the runs in order and the
    discovery. When the runs go to worker processes, a folder or glob file whose run does not
    depend on other files (:func:`cycler_cli.batch.deferrable`) is sniffed by the worker that
    runs it (:func:`cycler_cli.batch.sniff_then`) instead of in a stage of its own before the
    runs, and the skipped files are listed after the runs. The reports are the same either way."""
    import functools

    from cycler_cli.batch import DEFERRED, Unclaimed, auto_jobs, deferrable, from_entries, list_entries, sniff_then

    entries = list_entries(paths, recursive=recursive)
    check = [e.path for e in entries if e.action == "check"]
    later = set()
    if executor is Executor.process and not join and jobs != 1:
        later = {str(path) for path in deferrable(entries, link=link)}
    now = [path for path in check if str(path) not in later]
    sniff_jobs = jobs if executor is Executor.process else 1  # a Dask batch sniffs here
    claimed: dict[str, Any] = dict(zip(map(str, now), _claim(now, sniff_jobs, workers) if now else []))
    claimed.update(dict.fromkeys(later, DEFERRED))
    found, runs = _found_and_runs(entries, claimed, link, join)
    n = jobs if jobs is not None else auto_jobs(runs)
    if not later or n <= 1 or len(runs) <= 1:  # in this process after all: sniff them here first
        pending = [path for path in check if str(path) in later]
        if pending:
            claimed.update(zip(map(str, pending), _claim(pending, 1, workers)))
            found, runs = _found_and_runs(entries, claimed, link, join)
        _report_skipped(found, paths, quiet)
        outcomes = execute(
            work, runs, jobs=jobs, executor=executor, scheduler=scheduler, quiet=quiet, on_outcome=on_outcome, workers=workers
        )
        return outcomes, found

    def on_run(index: int, outcome: Any) -> None:
        if on_outcome is not None and not isinstance(outcome, Unclaimed):
            on_outcome(index, outcome)

    outcomes = execute(
        functools.partial(sniff_then, work), runs, jobs=n, executor=executor, scheduler=scheduler, quiet=quiet,
        on_outcome=on_run, workers=workers,
    )
    for run, outcome in zip(runs, outcomes):
        if getattr(run, "readers", None) == (DEFERRED,):
            claimed[str(run[0])] = not isinstance(outcome, Unclaimed)
    found = from_entries(entries, claimed)
    _report_skipped(found, paths, quiet)
    return [outcome for outcome in outcomes if not isinstance(outcome, Unclaimed)], found


def execute(
    work: Callable[[Any], Any],
    runs: list[tuple[Path, ...]],
    *,
    jobs: int | None,
    executor: Executor,
    scheduler: str | None,
    quiet: bool,
    on_outcome: Callable[[int, Any], None] | None = None,
    workers: Any = None,
) -> list[Any]:
    """Run ``work`` over ``runs`` with a progress bar on stderr (terminal only, not ``quiet``),
    in ``workers`` (:func:`open_workers`) when they are given and the runs go in parallel."""
    from cycler_cli.batch import auto_jobs, run_items
    from cycler_cli.report.progress import BatchProgress

    if jobs is None and executor is Executor.process:
        jobs = auto_jobs(runs)
    with BatchProgress(len(runs), quiet=quiet) as bar:

        def on_result(index: int, outcome: Any) -> None:
            bar.advance(outcome.rows)
            if on_outcome is not None:
                on_outcome(index, outcome)

        return run_items(
            work, runs, jobs=jobs, executor=executor.value, scheduler=scheduler, on_result=on_result,
            workers=workers if executor is Executor.process else None,
        )


def _emit_line(obj: dict[str, Any]) -> None:
    """One JSON object on its own line of stdout, flushed at once (JSON Lines streaming)."""
    from cycler_cli.batch import encode_json

    sys.stdout.write(encode_json(obj) + "\n")
    sys.stdout.flush()


def run_check_batch(
    paths: list[Path],
    config: Any,
    *,
    reader: str | None,
    columns: Any,
    recursive: bool,
    link: bool,
    join: bool,
    jobs: int | None,
    executor: Executor,
    scheduler: str | None,
    quiet: bool,
    stream: bool,
    on_error: Callable[[Any], None],
    raise_internal: bool,
    encode: bool = False,
    text_only: bool = False,
):
    """``cycler check``'s batch part: discover, group, judge every run (in parallel), call
    ``on_error`` with each error report as it happens and, with ``stream``, print each run's
    report as one JSON line as it finishes. Returns the :class:`CheckReport` in file order and,
    with ``encode`` (or ``stream``), each run's report as JSON text, encoded where the run was
    judged (else ``None``). ``text_only``: the caller writes only those texts, so the
    report's files come back without their ``analysis`` (:func:`~cycler_cli.batch.check_run`)."""
    import functools

    from cycler_cli.batch import check_run
    from cycler_cli.verdicts import CheckReport

    encode = encode or stream or text_only
    work = functools.partial(
        check_run, config=config, reader=reader, raise_internal=raise_internal, columns=columns, encode=encode,
        text_only=text_only,
    )

    def on_outcome(index: int, outcome: Any) -> None:
        if outcome.value.status == "error":
            on_error(outcome.value)
        if stream:
            sys.stdout.write(outcome.text + "\n")
            sys.stdout.flush()

    with open_workers(jobs, executor) as workers:
        outcomes, _ = collect_and_execute(
            work, paths, recursive=recursive, link=link, join=join, quiet=quiet, jobs=jobs, executor=executor,
            scheduler=scheduler, on_outcome=on_outcome, workers=workers,
        )
    report = CheckReport(files=tuple(o.value for o in outcomes), config=config.to_dict())
    return report, ([o.text for o in outcomes] if encode else None)


def cycles_batch(
    runs: list[tuple[Path, ...]],
    options: dict[str, Any],
    *,
    format: str,
    output: Path | None,
    reader: str | None,
    columns: Any,
    jobs: int | None,
    executor: Executor,
    scheduler: str | None,
    quiet: bool,
    raise_internal: bool,
    workers: Any = None,
) -> int:
    """``cycler cycles`` on several runs (or with ``--format jsonl``): ``jsonl`` streams one
    report per line as each run finishes; ``json`` prints a list in file order; ``csv`` the rows
    of every run with a leading ``source`` column; ``table`` one table per run. A run that
    cannot be analysed prints its error on stderr (and a ``{"source", "error", "exit_code"}``
    line in jsonl); the exit code is the largest per-run code."""
    import functools

    from cycler_cli.batch import cycles_run

    work = functools.partial(cycles_run, options=options, reader=reader, raise_internal=raise_internal, columns=columns)

    def on_outcome(index: int, outcome: Any) -> None:
        if outcome.error is not None:
            print(f"error: {outcome.error}", file=sys.stderr)
        if format == "jsonl":
            if outcome.error is not None:
                _emit_line({"source": outcome.source, "error": outcome.error, "exit_code": outcome.exit_code})
            else:
                _emit_line(outcome.value.to_dict())

    outcomes = execute(
        work, runs, jobs=jobs, executor=executor, scheduler=scheduler, quiet=quiet, on_outcome=on_outcome, workers=workers
    )
    good = [o.value for o in outcomes if o.error is None]
    if format == "json":
        from cycler_cli.batch import encode_json

        _write(encode_json([r.to_dict() for r in good]) + "\n", output)
    elif format == "csv":
        import csv
        import io

        columns_out: list[str] = ["source"]
        for report in good:
            columns_out += [c for c in report.columns if c not in columns_out]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns_out, lineterminator="\n")
        writer.writeheader()
        for report in good:
            writer.writerows({"source": report.source, **row} for row in report.cycles)
            for warning in report.warnings:
                print(f"warning: {report.source}: {warning}", file=sys.stderr)
        _write(buffer.getvalue(), output)
    elif format != "jsonl":
        from rich.console import Group
        from rich.rule import Rule

        from cycler_cli.report.cycles_text import render_cycles

        parts = []
        for report in good:
            parts += [Rule(report.source, align="left"), render_cycles(report.to_dict())]
        _write_rich(Group(*parts), output)
    return max((o.exit_code for o in outcomes), default=0)


def _write(text: str, output: Path | None) -> None:
    from cycler_cli.errors import ConfigError

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the output ({exc.strerror})", path=str(output), hint="check the -o path and its folder") from None


def _write_rich(renderable: Any, output: Path | None, width: int = 200) -> None:
    """Print ``renderable`` on stdout, or write it as plain text to ``output`` (:func:`_write`);
    ``width`` columns when not on a terminal (a pipe gets the whole table, not rich's 80)."""
    from rich.console import Console

    if output is None:
        Console(width=None if sys.stdout.isatty() else width).print(renderable)
        return
    import io

    buffer = io.StringIO()
    Console(file=buffer, width=width, force_terminal=False, color_system=None).print(renderable)
    _write(buffer.getvalue(), output)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _summary_table(rows: list[dict[str, Any]]):
    from rich.table import Table

    table = Table(title=f"{len(rows)} run(s)", title_justify="left")
    for name in ("run", "cell", "cycles", "headline", "value", "status", "failed / error"):
        table.add_column(name, justify="right" if name in ("cycles", "value") else "left")
    colour = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red", "skip": "dim"}
    for r in rows:
        value = "-" if r["headline_value"] is None else f"{r['headline_value']:.4g} {r['headline_unit']}"
        status = r["status"] or "-"
        table.add_row(
            str(r["source"]),
            _fmt(r["cell_type"]),
            _fmt(r["cycles"]),
            _fmt(r["headline"]),
            value,
            f"[{colour.get(status, 'white')}]{status}[/]",
            r["error"] or r["failed"] or "",
        )
    return table


def _compare_tables(comparison: dict[str, Any]):
    from rich.console import Group
    from rich.table import Table

    labels = [r["label"] for r in comparison["runs"]]
    index = comparison["index"]
    out = []
    summary = Table(title="summary (best = better on that metric)", title_justify="left")
    summary.add_column("metric")
    for lab in labels:
        summary.add_column(lab, justify="right")
    for lab in labels[1:]:
        summary.add_column(f"{lab} - {labels[0]}", justify="right")
    summary.add_column("better")
    summary.add_column("best")
    for s in comparison["summary"]:
        summary.add_row(s["metric"], *map(_fmt, s["values"]), *map(_fmt, s["diff"][1:]), s["better"], _fmt(s["best"]))
    out.append(summary)
    for m in comparison["metrics"]:
        name = m["metric"]
        wins = ", ".join(f"{lab} {n}" for lab, n in comparison["better_in_rows"][name].items())
        table = Table(title=f"{name} per {index.replace('_', '-')} ({m['better']} is better; best in: {wins})", title_justify="left")
        table.add_column(index, justify="right")
        for lab in labels:
            table.add_column(lab, justify="right")
        for lab in labels[1:]:
            table.add_column(f"{lab} - {labels[0]}", justify="right")
        table.add_column("best")
        for row in comparison["rows"]:
            cell = row[name]
            table.add_row(str(row[index]), *map(_fmt, cell["values"]), *map(_fmt, cell["diff"][1:]), _fmt(cell["best"]))
        out.append(table)
    return Group(*out)


def _analysis_options(cell: CellChoice, mass_mg: float | None, area_cm2: float | None) -> dict[str, Any]:
    return {"cell": cell.value, "mass_mg": mass_mg, "area_cm2": area_cm2}


def register(app: typer.Typer) -> None:
    """Add ``summary``, ``compare`` and ``plot`` to ``app``."""
    from cycler_cli.cli import _guard, _state

    @app.command("summary")
    @_guard
    def summary(
        paths: PathsArg,
        recursive: RecursiveOpt = False,
        sort: Annotated[
            Optional[str], typer.Option("--sort", help="Sort by this column (source, cell_type, cycles, headline_value, status, ...).")
        ] = None,
        descending: Annotated[bool, typer.Option("--descending", help="Sort from the largest down.")] = False,
        format: Annotated[SummaryFormat, typer.Option("--format", "-f", help="table (terminal), csv or json.")] = SummaryFormat.table,
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
        cell: CellOpt = CellChoice.auto,
        mass_mg: MassOpt = None,
        area_cm2: AreaOpt = None,
        config: Annotated[Optional[Path], typer.Option("--config", help="TOML file with check settings (docs/config.md).")] = None,
        reader: ReaderOpt = None,
        columns: ColumnsOpt = None,
        link: LinkOpt = True,
        jobs: JobsOpt = None,
        executor: ExecutorOpt = Executor.process,
        scheduler: SchedulerOpt = None,
        quiet: QuietOpt = False,
    ) -> int:
        """One row per run (cell type, cycles, headline metric, check status), sortable; table, CSV or JSON."""
        import functools

        from cycler_cli import summary as summary_mod
        from cycler_cli.batch import summary_run
        from cycler_cli.config import load_config

        cfg = load_config(
            cli={"cell": cell.value if cell is not CellChoice.auto else None, "mass-mg": mass_mg, "area-cm2": area_cm2},
            config_file=config,
            set_items=(),
        )
        work = functools.partial(summary_run, config=cfg, reader=reader, raise_internal=bool(_state["debug"]), columns=columns)
        with open_workers(jobs, executor) as workers:
            outcomes, found = collect_and_execute(
                work, paths, recursive=recursive, link=link, join=False, quiet=quiet, jobs=jobs, executor=executor,
                scheduler=scheduler, workers=workers,
            )
        rows = summary_mod.sort_rows([o.value for o in outcomes], sort, descending=descending)
        if format is SummaryFormat.csv:
            _write(summary_mod.to_csv(rows), output)
        elif format is SummaryFormat.json:
            _write(summary_mod.to_json(rows, found.skipped), output)
        else:
            _write_rich(_summary_table(rows), output)
        return 0

    @app.command("compare")
    @_guard
    def compare(
        files: Annotated[list[Path], typer.Argument(help="Two or more runs (files) of one cell type; the first is the baseline.", show_default=False)],
        metric: Annotated[
            Optional[list[str]],
            typer.Option("--metric", "-m", help="Per-cycle metric to compare (repeatable; default: the cell type's main ones)."),
        ] = None,
        format: Annotated[CompareFormat, typer.Option("--format", "-f", help="table (terminal), csv (the rows) or json.")] = CompareFormat.table,
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
        cell: CellOpt = CellChoice.auto,
        mass_mg: MassOpt = None,
        area_cm2: AreaOpt = None,
        reader: ReaderOpt = None,
        columns: ColumnsOpt = None,
    ) -> int:
        """Per-cycle tables of several runs side by side, differences from the first, and the better run per metric."""
        from cycler_cli.analysis import analyze
        from cycler_cli.compare import comparison_csv, compare_reports
        from cycler_cli.io import read

        options = _analysis_options(cell, mass_mg, area_cm2)
        reports = [analyze(read(f, reader=reader, columns=columns), **options).to_dict() for f in files]
        metrics = [m.strip() for v in metric or () for m in v.split(",") if m.strip()] or None
        comparison = compare_reports(reports, metrics=metrics)
        if format is CompareFormat.json:
            _write(json.dumps(comparison, ensure_ascii=False, allow_nan=False, indent=2) + "\n", output)
        elif format is CompareFormat.csv:
            _write(comparison_csv(comparison), output)
        else:
            _write_rich(_compare_tables(comparison), output)
        return 0

    @app.command("plot")
    @_guard
    def plot(
        files: Annotated[list[Path], typer.Argument(help="The run's file (several files are joined into one run).", show_default=False)],
        output: Annotated[Path, typer.Option("--output", "-o", help="The figure: .png, .svg or .pdf.", show_default=False)],
        kind: Annotated[
            PlotKind,
            typer.Option("--kind", "-k", help="auto, voltage, overpotential (symmetric), voltage-capacity or capacity (full)."),
        ] = PlotKind.auto,
        cycles: Annotated[
            Optional[str], typer.Option("--cycles", help="Cycles to colour in voltage-capacity, e.g. 1,5,10 (default: up to 10).")
        ] = None,
        retention_pct: Annotated[
            float, typer.Option("--retention-pct", help="Retention threshold line on the capacity plot, % of the reference cycle.")
        ] = 80.0,
        width_px: Annotated[int, typer.Option("--width-px", help="Figure width, pixels.")] = 1200,
        height_px: Annotated[int, typer.Option("--height-px", help="Figure height, pixels.")] = 900,
        dpi: Annotated[int, typer.Option("--dpi", help="Dots per inch.")] = 100,
        cell: CellOpt = CellChoice.auto,
        mass_mg: MassOpt = None,
        area_cm2: AreaOpt = None,
        reference_cycle: Annotated[int, typer.Option("--reference-cycle", help="Cycle that retention is relative to (full cells).")] = 1,
        reader: ReaderOpt = None,
        columns: ColumnsOpt = None,
    ) -> int:
        """Figures of one run: voltage vs time and overpotential drift (symmetric), voltage vs capacity and capacity/CE vs cycle (full)."""
        from cycler_cli.analysis import analyze
        from cycler_cli.batch import read_run
        from cycler_cli.errors import ConfigError
        from cycler_cli.plot import plot_run

        chosen: list[int] | None = None
        if cycles:
            try:
                chosen = [int(c) for c in cycles.replace(" ", "").split(",") if c]
            except ValueError:
                raise ConfigError(f"--cycles {cycles!r} is not a list of cycle numbers", hint="e.g. --cycles 1,5,10") from None
        data = read_run(files, reader=reader, columns=columns)
        report = analyze(data, reference_cycle=reference_cycle, **_analysis_options(cell, mass_mg, area_cm2)).to_dict()
        info = plot_run(
            data, report, output, kind=kind.value, cycles=chosen, retention_pct=retention_pct,
            width_px=width_px, height_px=height_px, dpi=dpi,
        )
        print(f"wrote {info['path']} ({info['kind']}, {info['width_px']}x{info['height_px']} px)", file=sys.stderr)
        return 0
