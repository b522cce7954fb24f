"""``cycler check``: judge runs against stability rules and exit with the CI contract.

Parse options -> :func:`cycler_cli.config.load_config` -> :func:`cycler_cli.cli_batch.run_check_batch`
(files, folders and globs; runs in parallel, each judged as :func:`cycler_cli.verdicts.check_file`
judges it; docs/batch.md) -> render (table, JSON, JUnit, or JSON Lines streamed) -> exit code (0 pass/warn, 1 a verdict failed, 2 usage or
config error, 3 a file could not be read or judged, 4 internal error; with several files the
largest code wins, and every file is still reported). Module level imports typer and the
standard library only (start-up time; :mod:`cycler_cli.cli_batch` is such a module too).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cycler_cli.cli_batch import (
    CellChoice,
    ColumnsOpt,
    Executor,
    ExecutorOpt,
    JobsOpt,
    JoinOpt,
    LinkOpt,
    QuietOpt,
    ReaderOpt,
    RecursiveOpt,
    SchedulerOpt,
)


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    jsonl = "jsonl"


def _split_ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _render_table(report: dict[str, Any], file=None) -> None:
    from rich.console import Console

    from cycler_cli.report.check_text import render_check

    console = Console(file=file, width=120 if file is not None else None, no_color=file is not None, highlight=False)
    console.print(render_check(report))


def _render(report: dict[str, Any], fmt: CheckFormat) -> str:
    if fmt is CheckFormat.json:
        from cycler_cli.batch import encode_json

        return encode_json(report) + "\n"
    from cycler_cli.report.junit import render_junit

    return render_junit(report)


#: Stands in for the ``files`` list while the rest of the report is encoded (a NUL never
#: occurs in a report's keys or text, so the encoded marker occurs once: where the list goes).
_FILES_MARK = "\x00files\x00"


def _render_json(report: Any, texts: list[str]) -> str:
    """``json.dumps(report.to_dict())`` (as :func:`_render` writes it), with the ``files``
    list joined from ``texts``, each run's entry already encoded where the run was judged (a
    worker process), so this process does not encode the whole report again."""
    from cycler_cli.batch import encode_json
    from cycler_cli.verdicts import CheckReport

    frame = CheckReport(files=(), config=report.config, schema_version=report.schema_version).to_dict()
    frame.update(status=report.status, exit_code=report.exit_code, files=[_FILES_MARK])
    head, *tail = encode_json(frame).split(encode_json([_FILES_MARK]))
    if any(text is None for text in texts):
        return _render(report.to_dict(), CheckFormat.json)
    if len(tail) != 1:  # the marker string occurs in the config too: decode the texts instead
        import json

        data = report.to_dict()
        data["files"] = [json.loads(text) for text in texts]  # the reports may carry no analysis (text_only)
        return _render(data, CheckFormat.json)
    # one join, so the 5 MB of reports are copied once (each ``+`` copied all of it again)
    parts = [", "] * (2 * len(texts) - 1) if texts else []
    parts[0::2] = texts
    return "".join([head, "[", *parts, "]", tail[0], "\n"])


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""
    from cycler_cli.cli import _err, _guard, _state

    @app.command("check")
    @_guard
    def check(
        paths: Annotated[
            list[Path], typer.Argument(help="Cycler files, folders or globs to judge (docs/batch.md).", show_default=False)
        ],
        cell: Annotated[
            Optional[CellChoice], typer.Option("--cell", help="Cell type: auto (detect), symmetric (Li|Li) or full.")
        ] = None,
        mass_mg: Annotated[Optional[float], typer.Option("--mass-mg", help="Active-material mass, mg (for mAh/g).")] = None,
        area_cm2: Annotated[Optional[float], typer.Option("--area-cm2", help="Electrode area, cm² (for ASR and current density).")] = None,
        reference_cycle: Annotated[
            Optional[int], typer.Option("--reference-cycle", help="Cycle whose discharge capacity is 100 % retention.")
        ] = None,
        asr_ohm_cm2: Annotated[
            Optional[float],
            typer.Option("--asr-ohm-cm2", help="Impedance (EIS) ASR of the whole cell, Ω·cm², for resistance-consistency."),
        ] = None,
        config: Annotated[
            Optional[Path], typer.Option("--config", help="TOML file with settings (see docs/config.md).")
        ] = None,
        select: Annotated[
            Optional[list[str]], typer.Option("--select", help="Only these rule ids (comma-separated; repeatable).")
        ] = None,
        ignore: Annotated[
            Optional[list[str]], typer.Option("--ignore", help="Leave out these rule ids (comma-separated; repeatable).")
        ] = None,
        set_: Annotated[
            Optional[list[str]],
            typer.Option("--set", help="Set one config key, e.g. full.capacity-fade.max-pct-per-cycle=0.2 (repeatable)."),
        ] = None,
        reader: ReaderOpt = None,
        columns: ColumnsOpt = None,
        format: Annotated[
            CheckFormat,
            typer.Option(
                "--format", "-f",
                help="table (terminal), json, junit (XML for CI test reports) or jsonl (one line per file as it finishes).",
            ),
        ] = CheckFormat.table,
        output: Annotated[
            Optional[Path],
            typer.Option("--output", "-o", help="Write the report to FILE; json/junit then also print the table on stdout."),
        ] = None,
        recursive: RecursiveOpt = False,
        jobs: JobsOpt = None,
        executor: ExecutorOpt = Executor.process,
        scheduler: SchedulerOpt = None,
        quiet: QuietOpt = False,
        link: LinkOpt = True,
        join: JoinOpt = False,
    ) -> int:
        """Judge runs against stability rules: exit 0 pass/warn, 1 fail, 2 usage/config, 3 input, 4 internal."""
        from cycler_cli.config import load_config
        from cycler_cli.errors import ConfigError
        from cycler_cli.cli_batch import run_check_batch

        cfg = load_config(
            cli={
                "cell": cell.value if cell is not None else None,
                "mass-mg": mass_mg,
                "area-cm2": area_cm2,
                "reference-cycle": reference_cycle,
                "asr-ohm-cm2": asr_ohm_cm2,
                "select": _split_ids(select),
                "ignore": _split_ids(ignore),
            },
            config_file=config,
            set_items=set_ or (),
        )
        if format is CheckFormat.jsonl and output is not None:
            raise ConfigError("--format jsonl streams to stdout", hint="drop --output, or use --format json")
        report, texts = run_check_batch(
            paths, cfg, reader=reader, columns=columns, recursive=recursive, link=link, join=join, jobs=jobs,
            executor=executor, scheduler=scheduler, quiet=quiet, stream=format is CheckFormat.jsonl,
            on_error=lambda r: _err(str(r.error)), raise_internal=bool(_state["debug"]),
            encode=format is CheckFormat.json,
            text_only=format is CheckFormat.jsonl or (format is CheckFormat.json and output is None),
        )
        if format is CheckFormat.jsonl:
            return report.exit_code
        if format is CheckFormat.json and output is None:
            sys.stdout.write(_render_json(report, texts))
            return report.exit_code
        data = report.to_dict()
        if output is not None:
            try:
                with open(output, "w", encoding="utf-8", newline="\n") as fh:
                    if format is CheckFormat.table:
                        _render_table(data, file=fh)
                    elif format is CheckFormat.json:
                        fh.write(_render_json(report, texts))
                    else:
                        fh.write(_render(data, format))
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the report ({exc.strerror})", path=str(output), hint="check the -o path and its folder"
                ) from None
            if format is not CheckFormat.table:
                _render_table(data)
        elif format is CheckFormat.table:
            _render_table(data)
        else:
            sys.stdout.write(_render(data, format))
        return report.exit_code
