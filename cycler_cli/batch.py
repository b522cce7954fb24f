"""Many runs at once: which files a command sees, and running the per-run work in parallel.

This module owns (docs/batch.md, docs/scale.md):

* :func:`discover`: command-line arguments -> the files to analyse. A folder contributes the
  files in it (``recursive=True``: in its whole tree) that a reader claims by content
  (:func:`cycler_cli.io.sniff_reader`); a glob (``*.mpr``, ``runs/**/*.mpt`` with
  ``recursive=True``) contributes the claimed files it matches. Files no reader claims,
  hidden files and other non-files are **skipped, listed and counted** in
  :attr:`Discovery.skipped`. A file named on its own is always kept (it is reported as an
  input error if it cannot be read), as is an argument that matches nothing, so a typo is
  an error, not an empty success. Duplicates are kept once;
* :func:`plan`: files -> runs (tuples of files analysed as one run; see :mod:`cycler_cli.join`);
* :func:`run_items`: one picklable function over many runs, in this process
  (``jobs=1``), in ``jobs`` worker processes (:class:`concurrent.futures.ProcessPoolExecutor`)
  or on a Dask distributed cluster (``executor="dask"``). Results come back in the input order
  whatever the executor, and ``on_result`` sees each one as it finishes (progress bars, JSON
  lines);
* the per-run work of ``cycler check`` (:func:`check_run`), ``cycler cycles``
  (:func:`cycles_run`) and ``cycler summary`` (:func:`summary_run`). Each returns an
  :class:`Outcome` and never raises for a bad file; a :class:`~cycler_cli.errors.ConfigError`
  (it concerns every run) propagates and stops the batch.

No typer or rich here; heavy libraries are imported inside the functions.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cycler_cli.errors import EXIT_INTERNAL, ConfigError, CyclerError
from cycler_cli.model import CyclingData

EXECUTORS = ("process", "dask")
_GLOB_CHARS = frozenset("*?[")

SKIP_UNCLAIMED = "no reader recognises its content"
SKIP_HIDDEN = "hidden file"
SKIP_NOT_FILE = "not a regular file"


@dataclass(frozen=True)
class Discovery:
    """The files found (``files``, in order) and the ones left out (``skipped``: ``(path,
    reason)`` pairs)."""

    files: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def skipped_counts(self) -> dict[str, int]:
        """How many files were skipped for each reason."""
        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def _is_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def _claimed(path: Path) -> bool:
    from cycler_cli.errors import InputError
    from cycler_cli.io import sniff_reader

    try:
        return sniff_reader(path) is not None
    except InputError:  # unreadable: let the reader report it when named explicitly
        return False


def _candidates(path: Path, recursive: bool) -> list[Path]:
    walker = path.rglob("*") if recursive else path.iterdir()
    return sorted(walker, key=lambda p: str(p))


def claim_files(paths: Sequence[Path]) -> list[bool]:
    """Whether a reader claims each of ``paths`` (sniffing its first bytes), in this process."""
    return [_claimed(Path(p)) for p in paths]


def claim_files_parallel(paths: Sequence[Path], jobs: int) -> list[bool]:
    """:func:`claim_files` spread over ``jobs`` worker processes in chunks (sniffing a CSV
    tries every table reader, tens of ms per file); in this process for few files or ``jobs=1``."""
    if jobs <= 1 or len(paths) < 64:
        return claim_files(paths)
    size = max(8, -(-len(paths) // (jobs * 4)))
    chunks = [list(paths[i : i + size]) for i in range(0, len(paths), size)]
    results: list[list[bool] | None] = [None] * len(chunks)

    def done(index: int, value: list[bool]) -> None:
        results[index] = value

    _run_processes(claim_files, chunks, jobs, done)
    return [flag for chunk in results for flag in chunk or ()]


def discover(
    paths: Iterable[Path | str],
    *,
    recursive: bool = False,
    claim: Callable[[Sequence[Path]], list[bool]] | None = None,
) -> Discovery:
    """The files named by ``paths`` (files, folders, globs); rules in the module docstring.
    ``claim`` decides which folder and glob files a reader claims, all at once (default
    :func:`claim_files`; the CLI passes :func:`claim_files_parallel`)."""
    entries: list[tuple[str, Path, str]] = []  # (action, path, skip reason): keep | check | skip

    def consider(path: Path, top: Path) -> None:
        rel_parts = path.relative_to(top).parts if path.is_relative_to(top) else (path.name,)
        if any(part.startswith(".") for part in rel_parts):
            if path.is_file():
                entries.append(("skip", path, SKIP_HIDDEN))
            return
        if path.is_dir():
            return
        if not path.is_file():
            entries.append(("skip", path, SKIP_NOT_FILE))
        else:
            entries.append(("check", path, SKIP_UNCLAIMED))

    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            for child in _candidates(path, recursive):
                consider(child, path)
        elif not path.exists() and _is_glob(str(arg)):
            matches = sorted(glob.glob(str(arg), recursive=recursive))
            if not matches:
                entries.append(("keep", path, ""))  # reported as "no such file" by the reader
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    continue
                consider(match_path, match_path.parent)
        else:
            entries.append(("keep", path, ""))

    to_check = [path for action, path, _ in entries if action == "check"]
    claimed = dict(zip(map(str, to_check), (claim or claim_files)(to_check)))
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action, path, reason in entries:
        if action == "skip" or (action == "check" and not claimed[str(path)]):
            skipped.append((str(path), reason))
            continue
        key = os.path.normpath(str(path.absolute()))
        if key not in seen:
            seen.add(key)
            files.append(path)
    return Discovery(tuple(files), tuple(skipped))


def plan(files: Sequence[Path], *, link: bool = True, join: bool = False) -> list[tuple[Path, ...]]:
    """The runs among ``files``: with ``join`` all files are one run (in the order given);
    with ``link`` EC-Lab linked-technique files are grouped (:func:`cycler_cli.join.linked_groups`);
    otherwise every file is a run."""
    if not files:
        return []
    if join:
        return [tuple(files)]
    if link:
        from cycler_cli.join import linked_groups

        return linked_groups(files)
    return [(f,) for f in files]


def run_source(item: Sequence[Path | str]) -> str:
    """The ``source`` of a run: its file, or its files joined by ``" + "``."""
    return " + ".join(str(p) for p in item)


def read_run(item: Sequence[Path | str], reader: str | None = None, columns: dict[str, str] | str | None = None):
    """Read one run (one file, or several joined by :func:`cycler_cli.join.read_joined`);
    ``reader`` and ``columns`` as for :func:`cycler_cli.io.read`."""
    from cycler_cli.io import read

    if len(item) == 1:
        return read(Path(item[0]), reader=reader, columns=columns)
    from cycler_cli.join import read_joined

    return read_joined(item, reader=reader, columns=columns)


@dataclass(frozen=True)
class Outcome:
    """The result of one run's work: ``value`` (a report, its type depends on the work),
    ``rows`` read, wall ``seconds`` it took, and, when the run could not be analysed,
    ``error`` (one line) with ``exit_code`` (3 input, 4 internal)."""

    source: str
    value: Any = None
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    exit_code: int = 0


def _failure(source: str, exc: BaseException, started: float, raise_internal: bool) -> Outcome:
    if isinstance(exc, ConfigError):
        raise exc
    if isinstance(exc, CyclerError):
        if exc.path is None:
            exc.path = source
        return Outcome(source, error=exc.one_line(), exit_code=exc.exit_code, seconds=time.perf_counter() - started)
    if raise_internal:
        raise exc
    return Outcome(
        source,
        error=f"{source}: internal error: {type(exc).__name__}: {exc} -- this is a bug; rerun with --debug and report it",
        exit_code=EXIT_INTERNAL,
        seconds=time.perf_counter() - started,
    )


def check_run(
    item: Sequence[Path | str],
    config: Any,
    reader: str | None = None,
    raise_internal: bool = False,
    columns: dict[str, str] | str | None = None,
) -> Outcome:
    """``cycler check`` on one run: ``value`` is a :class:`cycler_cli.verdicts.FileReport`, the
    same as :func:`cycler_cli.verdicts.check_file` gives (an ``error`` report when the run
    cannot be read or analysed)."""
    from cycler_cli.verdicts import FileReport, judge
    from cycler_cli.verdicts import check as check_module

    source = run_source(item)
    started = time.perf_counter()
    rows = 0
    try:
        # check_file's own read and analyse steps (so a run checks exactly as check_file checks it)
        data = check_module._read(Path(item[0]), reader, columns) if len(item) == 1 else read_run(item, reader, columns)
        rows = len(data) if isinstance(data, CyclingData) else 0  # tests stand in other objects
        analysis = check_module._analyze(data, config)
        report = judge(analysis, config, source=source)
    except Exception as exc:  # noqa: BLE001 - mapped exactly as check_file maps it
        failed = _failure(source, exc, started, raise_internal)
        report = FileReport.failed(source, failed.error, failed.exit_code)
        return Outcome(source, report, rows, failed.seconds, failed.error, failed.exit_code)
    return Outcome(source, report, rows, time.perf_counter() - started, None, report.exit_code)


def cycles_run(
    item: Sequence[Path | str],
    options: dict[str, Any],
    reader: str | None = None,
    raise_internal: bool = False,
    columns: dict[str, str] | str | None = None,
) -> Outcome:
    """``cycler cycles`` on one run: ``value`` is the :class:`cycler_cli.analysis.CycleReport`
    of ``analyze(data, **options)``."""
    from cycler_cli.analysis import analyze

    source = run_source(item)
    started = time.perf_counter()
    rows = 0
    try:
        data = read_run(item, reader, columns)
        rows = len(data) if isinstance(data, CyclingData) else 0  # tests stand in other objects
        report = analyze(data, **options)
    except Exception as exc:  # noqa: BLE001
        failed = _failure(source, exc, started, raise_internal)
        return Outcome(source, None, rows, failed.seconds, failed.error, failed.exit_code)
    return Outcome(source, report, rows, time.perf_counter() - started)


def summary_run(
    item: Sequence[Path | str],
    config: Any,
    reader: str | None = None,
    raise_internal: bool = False,
    columns: dict[str, str] | str | None = None,
) -> Outcome:
    """``cycler summary`` on one run: ``value`` is its row (:func:`cycler_cli.summary.summary_row`)."""
    from cycler_cli.summary import summary_row

    outcome = check_run(item, config, reader, raise_internal, columns)
    return Outcome(outcome.source, summary_row(outcome.value), outcome.rows, outcome.seconds, outcome.error, outcome.exit_code)


@dataclass
class BatchStats:
    """What a batch did: runs done, rows read, wall seconds (filled by :func:`run_items`)."""

    runs: int = 0
    rows: int = 0
    seconds: float = 0.0
    per_run_seconds: list[float] = field(default_factory=list)


def default_jobs() -> int:
    """The machine's cores (``os.cpu_count()``; 1 when unknown)."""
    return os.cpu_count() or 1


#: Below this many bytes of input in all, ``auto_jobs`` runs in-process: starting worker
#: processes (about a second with the analysis modules preloaded) would cost more than it saves.
SMALL_BATCH_BYTES = 8 * 1024 * 1024


def auto_jobs(runs: Sequence[Sequence[Path | str]]) -> int:
    """The default ``--jobs``: 1 for a single run or a batch under :data:`SMALL_BATCH_BYTES`
    of files, else :func:`default_jobs`."""
    if len(runs) <= 1:
        return 1
    total = 0
    for item in runs:
        for path in item:
            try:
                total += os.stat(path).st_size
            except OSError:
                continue
            if total >= SMALL_BATCH_BYTES:
                return default_jobs()
    return 1


def run_items(
    work: Callable[[Any], Outcome],
    items: Sequence[Any],
    *,
    jobs: int | None = None,
    executor: str = "process",
    scheduler: str | None = None,
    on_result: Callable[[int, Outcome], None] | None = None,
    stats: BatchStats | None = None,
) -> list[Outcome]:
    """Apply ``work`` (a picklable module-level function, e.g. a :func:`functools.partial` of
    :func:`check_run`) to every item; the outcomes in the order of ``items``.

    ``executor="process"``: ``jobs`` worker processes (default :func:`default_jobs`; with
    ``jobs=1``, or a single item, everything runs in this process). ``executor="dask"``: on the
    Dask distributed scheduler at ``scheduler`` (``tcp://host:8786``), or, without one, on a
    ``LocalCluster`` of ``jobs`` single-threaded worker processes started for this batch.
    ``on_result(index, outcome)`` is called in this process as each run finishes (in
    completion order)."""
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}", hint=f"use one of: {', '.join(EXECUTORS)}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}", hint="pass --jobs 1 or more (default: the machine's cores)")
    if scheduler is not None and executor != "dask":
        raise ConfigError("--scheduler needs --executor dask", hint="add --executor dask, or drop --scheduler")
    jobs = jobs or default_jobs()
    started = time.perf_counter()
    results: list[Outcome | None] = [None] * len(items)

    def done(index: int, outcome: Outcome) -> None:
        results[index] = outcome
        if stats is not None:
            stats.runs += 1
            stats.rows += outcome.rows
            stats.per_run_seconds.append(outcome.seconds)
        if on_result is not None:
            on_result(index, outcome)

    if executor == "dask":
        _run_dask(work, items, jobs, scheduler, done)
    elif jobs == 1 or len(items) <= 1:
        for index, item in enumerate(items):
            done(index, work(item))
    else:
        _run_processes(work, items, jobs, done)
    if stats is not None:
        stats.seconds = time.perf_counter() - started
    return results  # type: ignore[return-value]


def _mp_context():
    """``fork`` on Linux: a worker starts as a copy of this process, modules already imported,
    in milliseconds (cycler runs no threads of its own when the pool starts: the progress bar
    refreshes from the main thread). Elsewhere ``spawn`` (macOS and Windows, where forking
    is unsafe or absent): each worker imports cycler once."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_processes(work: Callable[[Any], Outcome], items: Sequence[Any], jobs: int, done: Callable[[int, Outcome], None]) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    workers = min(jobs, len(items))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context())
    try:
        # keep a bounded window in flight: results stream, memory stays flat on 10^5 files
        pending: dict[Any, int] = {}
        queue = iter(enumerate(items))
        window = workers * 4

        def fill() -> None:
            while len(pending) < window:
                try:
                    index, item = next(queue)
                except StopIteration:
                    return
                pending[pool.submit(work, item)] = index

        fill()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                done(index, future.result())
            fill()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(
    work: Callable[[Any], Outcome], items: Sequence[Any], jobs: int, scheduler: str | None, done: Callable[[int, Outcome], None]
) -> None:
    from cycler_cli.errors import MissingExtraError

    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise MissingExtraError(
            "--executor dask needs Dask distributed, which is not installed",
            hint="pip install 'cycler-cli[dask]'",
        ) from exc
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                    hint="check --scheduler ADDRESS (tcp://host:8786) and that the scheduler is running",
                ) from exc
        try:
            futures = client.map(work, list(items), pure=False)
            index_of = {future.key: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                done(index_of[future.key], future.result())
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
