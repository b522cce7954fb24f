"""The command line: parse options -> call one library function -> render -> exit code.

This module holds no numpy and no analysis. Heavy libraries (pandas, scipy, galvani) are
imported inside the commands that need them, so ``cycler --version`` and ``--help`` start fast.
Every command runs under :func:`_guard`, the one error handler: a :class:`CyclerError`
prints one line on stderr and exits with its code; anything else is an internal error
(exit 4) with a traceback only under ``--debug``.
"""

from __future__ import annotations

import functools
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable

import typer

from cycler_cli import __version__
from cycler_cli.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, CyclerError

app = typer.Typer(
    name="cycler",
    help="Galvanostatic cycling analyzer: per-cycle tables and stability verdicts from raw cycler files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Any] = {"debug": False}


def _err(line: str) -> None:
    """One red line on stderr (plain text when stderr is not a terminal)."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.markup import escape  # a hint such as pip install 'cycler-cli[plot]' is not markup

        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {escape(line)}", markup=True, soft_wrap=True)
    else:
        print(f"error: {line}", file=sys.stderr)


def _internal(exc: BaseException) -> int:
    if _state["debug"]:
        import traceback

        traceback.print_exception(exc)
    _err(
        f"internal error in cycler {__version__}: {type(exc).__name__}: {exc} "
        "-- this is a bug; rerun with --debug and report the traceback"
    )
    return EXIT_INTERNAL


def _guard(fn: Callable[..., int | None]) -> Callable[..., None]:
    """Map exceptions to the public exit codes (see cycler_cli.errors)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = fn(*args, **kwargs) or EXIT_OK
        except typer.Exit:
            raise
        except CyclerError as exc:
            if _state["debug"]:
                import traceback

                traceback.print_exception(exc)
            _err(exc.one_line())
            code = exc.exit_code
        except KeyboardInterrupt:
            _err("interrupted")
            code = 130
        except Exception as exc:  # noqa: BLE001 - the one place that catches everything
            code = _internal(exc)
        raise typer.Exit(code)

    return wrapper


def _version_callback(value: bool) -> None:
    if value:
        print(f"cycler {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    _state["debug"] = debug


class InspectFormat(str, Enum):
    table = "table"
    json = "json"


FilesArg = Annotated[list[Path], typer.Argument(help="Cycler files to read.", show_default=False)]
from cycler_cli.cli_batch import ColumnsOpt, ReaderOpt  # noqa: E402  (shared option types; typer only)


@app.command()
@_guard
def inspect(
    files: FilesArg,
    format: Annotated[InspectFormat, typer.Option("--format", "-f", help="table (terminal) or json (one object per line per file).")] = InspectFormat.table,
    reader: ReaderOpt = None,
    columns: ColumnsOpt = None,
) -> int:
    """Show what is in each file: reader, rows, columns with units, time span, cycles, mass, area."""
    from cycler_cli.inspect import describe
    from cycler_cli.io import read

    worst = EXIT_OK
    for path in files:
        try:
            info = describe(read(path, reader=reader, columns=columns))
        except CyclerError as exc:
            if exc.exit_code != EXIT_INPUT or len(files) == 1:
                raise
            _err(exc.one_line())
            worst = max(worst, exc.exit_code)
            continue
        if format is InspectFormat.json:
            from cycler_cli.batch import encode_json

            print(encode_json(info))
        else:
            from rich.console import Console

            from cycler_cli.report.inspect_text import render_inspect

            Console().print(render_inspect(info))
    return worst


@app.command()
@_guard
def formats() -> int:
    """List the readers and what each recognises."""
    from cycler_cli.io import readers

    for r in readers():
        print(f"{r.name:<16} {r.description}")
    return EXIT_OK


#: Modules that add commands to ``app`` through ``register(app)``; each must import only
#: typer and the standard library at module level (start-up time, see docs/performance.md).
COMMAND_MODULES = (
    "cycler_cli.cli_cycles",
    "cycler_cli.cli_check",
    "cycler_cli.cli_simulate",
    "cycler_cli.cli_batch",
)


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="cycler")
