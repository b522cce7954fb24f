"""``cycler cycles FILE``: the per-cycle table and summary of one run (docs/cycles.md).

Parse options -> ``cycler_cli.io.read`` -> ``cycler_cli.analysis.analyze`` -> render. Several
files, folders or globs (or ``--format jsonl``) go to :func:`cycler_cli.cli_batch.cycles_batch`
(docs/batch.md). Only typer and the standard library are imported at module level (start-up
time; :mod:`cycler_cli.cli_batch` is such a module too); everything else is imported inside the
command.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from cycler_cli.cli_batch import (
    AreaOpt,
    CellChoice,
    CellOpt,
    ColumnsOpt,
    Executor,
    ExecutorOpt,
    JobsOpt,
    JoinOpt,
    LinkOpt,
    MassOpt,
    QuietOpt,
    ReaderOpt,
    RecursiveOpt,
    SchedulerOpt,
    _write,
    _write_rich,
)


class CyclesFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    jsonl = "jsonl"


def register(app: typer.Typer) -> None:
    """Add the ``cycles`` command to ``app``."""
    from cycler_cli.cli import _guard, _state

    @app.command("cycles")
    @_guard
    def cycles(
        files: Annotated[
            list[Path],
            typer.Argument(help="The cycler file to analyse (or several files, folders, globs: docs/batch.md).", show_default=False),
        ],
        cell: CellOpt = CellChoice.auto,
        mass_mg: MassOpt = None,
        area_cm2: AreaOpt = None,
        reference_cycle: Annotated[
            int, typer.Option("--reference-cycle", help="Cycle that retention is relative to (full cells).")
        ] = 1,
        thickness_mm: Annotated[
            Optional[float], typer.Option("--thickness-mm", help="Electrolyte thickness, mm (with --conductivity-s-cm).")
        ] = None,
        conductivity_s_cm: Annotated[
            Optional[float],
            typer.Option("--conductivity-s-cm", help="Electrolyte conductivity, S/cm: splits ASR into bulk and per interface."),
        ] = None,
        reader: ReaderOpt = None,
        columns: ColumnsOpt = None,
        format: Annotated[
            CyclesFormat,
            typer.Option(
                "--format", "-f",
                help="table (terminal), json (the full report; a list for several runs), csv (the rows) or jsonl (one line per run as it finishes).",
            ),
        ] = CyclesFormat.table,
        output: Annotated[
            Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")
        ] = None,
        recursive: RecursiveOpt = False,
        jobs: JobsOpt = None,
        executor: ExecutorOpt = Executor.process,
        scheduler: SchedulerOpt = None,
        quiet: QuietOpt = False,
        link: LinkOpt = True,
        join: JoinOpt = False,
    ) -> int:
        """Per-cycle table and summary: capacities, CE, retention (full cells) or overpotential, ASR, drift, shorts (symmetric)."""
        from cycler_cli.analysis import analyze
        from cycler_cli.batch import read_run
        from cycler_cli.cli_batch import collect_runs, cycles_batch, open_workers

        options = dict(
            cell=cell.value, mass_mg=mass_mg, area_cm2=area_cm2, reference_cycle=reference_cycle,
            thickness_mm=thickness_mm, conductivity_s_cm=conductivity_s_cm,
        )
        with open_workers(jobs, executor) as workers:
            runs, _ = collect_runs(
                files, recursive=recursive, link=link, join=join, quiet=quiet,
                jobs=jobs if executor is Executor.process else 1, workers=workers,
            )
            if len(runs) > 1 or format is CyclesFormat.jsonl:
                return cycles_batch(
                    runs, options, format=format.value, output=output, reader=reader, columns=columns, jobs=jobs,
                    executor=executor, scheduler=scheduler, quiet=quiet, raise_internal=bool(_state["debug"]),
                    workers=workers,
                )
        (run,) = runs
        report = analyze(read_run(run, reader=reader, columns=columns), **options)
        if format is CyclesFormat.json:
            from cycler_cli.batch import encode_json

            text = encode_json(report.to_dict()) + "\n"
        elif format is CyclesFormat.csv:
            text = report.to_csv()
            for warning in report.warnings:  # the CSV has no place for them
                print(f"warning: {warning}", file=sys.stderr)
        else:
            from cycler_cli.report.cycles_text import render_cycles

            _write_rich(render_cycles(report.to_dict()), output, width=160)
            return 0
        _write(text, output)
        return 0
