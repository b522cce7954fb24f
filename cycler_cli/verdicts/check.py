"""Judging runs: analysis dict + configuration -> :class:`FileReport`; files -> :class:`CheckReport`.

:func:`judge` applies the enabled rules of the file's cell type to an analysis dict.
:func:`check_files` reads and analyses each file (``cycler_cli.io.read`` then
``cycler_cli.analysis.analyze``) and judges it; a file that cannot be read or analysed becomes
a ``FileReport`` with status ``error`` (its exit code 3, or 4 for a bug) and the other files are
still judged. A :class:`ConfigError` (bad ``--reader``) stops the whole check (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cycler_cli.errors import EXIT_INTERNAL, ConfigError, CyclerError
from cycler_cli.verdicts.report import CheckReport, FileReport, Verdict
from cycler_cli.verdicts.rules import CELL_TYPES, min_cycles_gate, min_half_cycles_gate

if TYPE_CHECKING:  # config imports the rules, so import it lazily here
    from cycler_cli.config import CheckConfig


def _gate(analysis: Mapping[str, Any], cell_type: str, config: CheckConfig) -> str | None:
    """Why the run is too short for the trend rules (min-duration), or ``None``.
    Applies even when ``min-duration`` itself is not reported."""
    params = config.thresholds[cell_type]["min-duration"]
    if cell_type == "symmetric":
        return min_half_cycles_gate(analysis, int(params["min-half-cycles"]))
    return min_cycles_gate(analysis, int(params["min-cycles"]))


def judge(analysis: Mapping[str, Any], config: "CheckConfig | None" = None, *, source: str | None = None) -> FileReport:
    """Apply the enabled rules of ``analysis["cell_type"]`` to one analysis dict.

    A rule that raises is a bug in cycler: the exception propagates (the CLI reports the file
    as an internal error) rather than being turned into a misleading verdict."""
    if config is None:
        from cycler_cli.config import CheckConfig

        config = CheckConfig()
    source = source if source is not None else str(analysis.get("source", ""))
    cell_type = analysis.get("cell_type")
    if cell_type not in CELL_TYPES:
        raise ValueError(f"analysis of {source} has cell_type {cell_type!r}, not one of {CELL_TYPES}")
    options = {"asr_ohm_cm2": config.asr_ohm_cm2, "too_short": _gate(analysis, cell_type, config)}
    verdicts: list[Verdict] = []
    for rule in config.enabled_rules(cell_type):
        verdict = rule.judge(analysis, config.rule_thresholds(rule), options)
        verdicts.append(verdict)
    return FileReport.judged(source, cell_type, verdicts, dict(analysis))


def _read(path: Path, reader: str | None, columns: dict[str, str] | str | None = None):
    from cycler_cli.io import read

    return read(path, reader=reader, columns=columns)


def _analyze(data, config: CheckConfig) -> dict[str, Any]:
    from cycler_cli.analysis import analyze

    return analyze(data, **config.analysis_options()).to_dict()


def check_file(
    path: Path | str,
    config: CheckConfig,
    *,
    reader: str | None = None,
    columns: dict[str, str] | str | None = None,
    raise_internal: bool = False,
) -> FileReport:
    """Read, analyse and judge one file. Input errors become an ``error`` report (exit 3);
    any other exception becomes an ``error`` report with exit code 4 (a bug in cycler), or
    propagates when ``raise_internal`` (``--debug``, to show the traceback).
    :class:`ConfigError` propagates: it concerns every file."""
    source = str(path)
    try:
        data = _read(Path(path), reader, columns)
        analysis = _analyze(data, config)
        return judge(analysis, config, source=source)
    except ConfigError:
        raise
    except CyclerError as exc:
        if exc.path is None:
            exc.path = source
        return FileReport.failed(source, exc.one_line(), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - reported per file as an internal error (exit 4)
        if raise_internal:
            raise
        return FileReport.failed(
            source,
            f"{source}: internal error: {type(exc).__name__}: {exc} -- this is a bug; rerun with --debug and report it",
            EXIT_INTERNAL,
        )


def check_files(
    paths: Iterable[Path | str],
    config: "CheckConfig | None" = None,
    *,
    reader: str | None = None,
    columns: dict[str, str] | str | None = None,
    on_error: Callable[[FileReport], None] | None = None,
    raise_internal: bool = False,
) -> CheckReport:
    """Check every file; ``on_error`` is called with each ``error`` report as it happens.
    ``raise_internal``: let an unexpected exception propagate instead of reporting it."""
    if config is None:
        from cycler_cli.config import CheckConfig

        config = CheckConfig()
    reports = []
    for path in paths:
        report = check_file(path, config, reader=reader, columns=columns, raise_internal=raise_internal)
        if report.status == "error" and on_error is not None:
            on_error(report)
        reports.append(report)
    return CheckReport(files=tuple(reports), config=config.to_dict())
