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

import dataclasses
import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from cycler_cli.errors import EXIT_INTERNAL, ConfigError, CyclerError

EXECUTORS = ("process", "dask")
_GLOB_CHARS = frozenset("*?[")

SKIP_UNCLAIMED = "no reader recognises its content"
SKIP_HIDDEN = "hidden file"
SKIP_NOT_FILE = "not a regular file"


@dataclass(frozen=True)
class Discovery:
    """The files found (``files``, in order), the ones left out (``skipped``: ``(path,
    reason)`` pairs) and, for each folder or glob file, the name of the reader that claimed it
    (``readers``: path text -> reader name), so reading it need not sniff it again."""

    files: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    readers: dict[str, str] = field(default_factory=dict, compare=False)

    def skipped_counts(self) -> dict[str, int]:
        """How many files were skipped for each reason."""
        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def _is_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def _claimed(path: Path) -> str | None:
    from cycler_cli.errors import InputError
    from cycler_cli.io import sniff_reader

    try:
        reader = sniff_reader(path)
    except InputError:  # unreadable: let the reader report it when named explicitly
        return None
    return None if reader is None else reader.name


def _candidates(path: Path, recursive: bool) -> list[Path]:
    walker = path.rglob("*") if recursive else path.iterdir()
    return sorted(walker, key=lambda p: str(p))


def claim_files(paths: Sequence[Path]) -> list[str | None]:
    """The name of the reader that claims each of ``paths`` (sniffing its first bytes; ``None``
    when none does), in this process."""
    return [_claimed(Path(p)) for p in paths]


def claim_files_parallel(paths: Sequence[Path], jobs: int, workers: "Workers | None" = None) -> list[str | None]:
    """:func:`claim_files` spread over ``jobs`` worker processes in chunks (sniffing a CSV
    tries every table reader, a few ms per file); in this process for few files or ``jobs=1``.
    ``workers``: processes to use (and leave running for the runs that follow)."""
    if jobs <= 1 or len(paths) < 64:
        return claim_files(paths)
    size = max(4, -(-len(paths) // (jobs * 8)))  # small chunks: no worker idles long at the end
    chunks = [list(paths[i : i + size]) for i in range(0, len(paths), size)]
    results: list[list[str | None] | None] = [None] * len(chunks)

    def done(index: int, value: list[str | None]) -> None:
        results[index] = value

    _run_processes(claim_files, chunks, jobs, done, workers)
    return [name for chunk in results for name in chunk or ()]


def discover(
    paths: Iterable[Path | str],
    *,
    recursive: bool = False,
    claim: Callable[[Sequence[Path]], Sequence[str | bool | None]] | None = None,
) -> Discovery:
    """The files named by ``paths`` (files, folders, globs); rules in the module docstring.
    ``claim`` decides which folder and glob files a reader claims, all at once: the claiming
    reader's name (or any true value) per file (default :func:`claim_files`; the CLI passes
    :func:`claim_files_parallel`)."""
    entries = list_entries(paths, recursive=recursive)
    to_check = [e.path for e in entries if e.action == "check"]
    return from_entries(entries, dict(zip(map(str, to_check), (claim or claim_files)(to_check))))


class Entry(NamedTuple):
    """What :func:`list_entries` says of one path: ``action`` ``keep`` (named on its own: read
    it, whatever it is), ``check`` (from a folder or glob: a run if a reader claims it) or
    ``skip`` (for ``reason``); ``key``: the path made absolute and normalised, which tells a
    file found twice ("" for a skip)."""

    action: str
    path: Path
    reason: str
    key: str = ""


def list_entries(paths: Iterable[Path | str], *, recursive: bool = False) -> list[Entry]:
    """The first half of :func:`discover`: every path found, in order, before any is sniffed."""
    entries: list[Entry] = []

    def consider(path: Path, top: Path) -> None:
        rel_parts = path.relative_to(top).parts if path.is_relative_to(top) else (path.name,)
        if any(part.startswith(".") for part in rel_parts):
            if path.is_file():
                entries.append(Entry("skip", path, SKIP_HIDDEN))
            return
        if path.is_dir():
            return
        if not path.is_file():
            entries.append(Entry("skip", path, SKIP_NOT_FILE))
        else:
            entries.append(Entry("check", path, SKIP_UNCLAIMED, _key(path)))

    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            for child in _candidates(path, recursive):
                consider(child, path)
        elif not path.exists() and _is_glob(str(arg)):
            matches = sorted(glob.glob(str(arg), recursive=recursive))
            if not matches:
                entries.append(Entry("keep", path, "", _key(path)))  # reported as "no such file" by the reader
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    continue
                consider(match_path, match_path.parent)
        else:
            entries.append(Entry("keep", path, "", _key(path)))
    return entries


def _key(path: Path) -> str:
    return os.path.normpath(str(path.absolute()))


def from_entries(entries: Sequence[Entry], claimed: dict[str, str | bool | None]) -> Discovery:
    """The second half of :func:`discover`: ``claimed`` maps each ``check`` path (as text) to
    its reader's name (or any true value), or a false value for one that no reader claims."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    readers: dict[str, str] = {}
    seen: set[str] = set()
    for action, path, reason, key in entries:
        if action == "skip" or (action == "check" and not claimed[str(path)]):
            skipped.append((str(path), reason))
            continue
        if key not in seen:
            seen.add(key)
            files.append(path)
            name = claimed.get(str(path)) if action == "check" else None
            if isinstance(name, str):
                readers[str(path)] = name
    return Discovery(tuple(files), tuple(skipped), readers)


#: The reader a folder or glob file is planned with when the worker that runs it sniffs it
#: first (:func:`deferrable`, :func:`sniff_then`), instead of a stage that sniffs every file
#: before any run starts.
DEFERRED = "?sniffed-by-the-worker"


def deferrable(entries: Sequence[Entry], *, link: bool = True) -> list[Path]:
    """The ``check`` paths whose run does not depend on whether a reader claims them or any
    other file: found once, and alone in their linked group (:func:`cycler_cli.join.linked_key`;
    any with ``link=False``). Each is a run of its own, in its place, if a reader claims it and
    no run at all if none does, so it can be sniffed by the worker that runs it."""
    from collections import Counter

    from cycler_cli.join import linked_key

    kept = [(e.action, e.path, e.key, linked_key(e.path) if link else None) for e in entries if e.action != "skip"]
    seen = Counter(key for _, _, key, _ in kept)
    groups = Counter(linked[:4] for _, _, _, linked in kept if linked is not None)
    return [
        path
        for action, path, key, linked in kept
        if action == "check" and seen[key] == 1 and (linked is None or groups[linked[:4]] == 1)
    ]


@dataclass(frozen=True)
class Unclaimed:
    """What :func:`sniff_then` hands back for a file no reader claims (it is skipped)."""

    source: str
    rows: int = 0


def sniff_then(work: Callable[[Any], Any], item: Sequence[Path | str]) -> Any:
    """``work(item)``; for a run planned with :data:`DEFERRED`, its file is sniffed here first:
    :class:`Unclaimed` when no reader claims it, else ``work`` on the run with the claiming
    reader (as if discovery had sniffed it)."""
    if getattr(item, "readers", None) != (DEFERRED,):
        return work(item)
    name = _claimed(Path(item[0]))
    if name is None:
        return Unclaimed(str(item[0]))
    return work(RunFiles(item, (name,)))


class RunFiles(tuple):
    """A run's files (a tuple of paths, usable wherever one is) that also carries the reader
    discovery found for each file (``readers``; ``None``: sniff it when reading)."""

    readers: tuple[str | None, ...]

    def __new__(cls, files: Iterable[Path], readers: Iterable[str | None] | None = None) -> "RunFiles":
        run = super().__new__(cls, files)
        run.readers = tuple(readers) if readers is not None else (None,) * len(run)
        return run

    def __reduce__(self):  # pickled for worker processes: the files and the reader names
        return (RunFiles, (tuple(self), self.readers))


def plan(
    files: Sequence[Path], *, link: bool = True, join: bool = False, readers: dict[str, str] | None = None
) -> list[tuple[Path, ...]]:
    """The runs among ``files``: with ``join`` all files are one run (in the order given);
    with ``link`` EC-Lab linked-technique files are grouped (:func:`cycler_cli.join.linked_groups`);
    otherwise every file is a run. With ``readers`` (:attr:`Discovery.readers`) each run is a
    :class:`RunFiles` that names its files' readers, so the work does not sniff them again."""
    if not files:
        return []
    if join:
        runs = [tuple(files)]
    elif link:
        from cycler_cli.join import linked_groups

        runs = linked_groups(files)
    else:
        runs = [(f,) for f in files]
    if readers is None:
        return runs
    return [RunFiles(run, (readers.get(str(p)) for p in run)) for run in runs]


def _item_reader(item: Sequence[Path | str], reader: str | None, columns: Any) -> str | None:
    """The reader to read ``item`` with: ``reader`` when given (or ``columns``, which picks
    one), else the one discovery found when every file of the run had the same one (the same
    reader sniffing would pick again), else ``None`` (sniff)."""
    if reader is not None or columns:
        return reader
    names = set(getattr(item, "readers", (None,)))
    return names.pop() if len(names) == 1 else None


def run_source(item: Sequence[Path | str]) -> str:
    """The ``source`` of a run: its file, or its files joined by ``" + "``."""
    return " + ".join(str(p) for p in item)


class LostRun(tuple):
    """A run whose worker process died while it was on it (:mod:`cycler_cli.forkpool`): the
    work functions below raise its ``error`` (exit 4, naming the run) for it, so its report is
    made the way every other error report is, and the batch goes on with the other runs."""

    error: CyclerError

    def __new__(cls, run: Sequence[Path | str], error: CyclerError) -> "LostRun":
        lost = super().__new__(cls, run)
        lost.error = error
        return lost


def _lost(work: Callable[[Any], Any], items: Sequence[Any]) -> Callable[[int, CyclerError], Any]:
    """For :func:`cycler_cli.forkpool.run`: the outcome of run ``index`` whose worker died."""

    def outcome(index: int, error: CyclerError) -> Any:
        if not isinstance(items[index], tuple):
            raise error  # not a run (tests map other items): nothing to report it in
        return work(LostRun(items[index], error))

    return outcome


def read_run(item: Sequence[Path | str], reader: str | None = None, columns: dict[str, str] | str | None = None):
    """Read one run (one file, or several joined by :func:`cycler_cli.join.read_joined`);
    ``reader`` and ``columns`` as for :func:`cycler_cli.io.read`."""
    from cycler_cli.io import read

    reader = _item_reader(item, reader, columns)
    if len(item) == 1:
        return read(Path(item[0]), reader=reader, columns=columns)
    from cycler_cli.join import read_joined

    return read_joined(item, reader=reader, columns=columns)


@dataclass(frozen=True)
class Outcome:
    """The result of one run's work: ``value`` (a report, its type depends on the work),
    ``rows`` read, wall ``seconds`` it took, and, when the run could not be analysed,
    ``error`` (one line) with ``exit_code`` (3 input, 4 internal). ``text``: the report's JSON
    (:func:`encode_json` of ``value.to_dict()``) when the work was asked to encode it, so a
    worker process does that and the main process only joins the texts."""

    source: str
    value: Any = None
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    exit_code: int = 0
    text: str | None = None


def _rows(data: Any) -> int:
    from cycler_cli.model import CyclingData

    return len(data) if isinstance(data, CyclingData) else 0  # tests stand in other objects


def encode_json(obj: Any) -> str:
    """``obj`` as the CLI writes JSON: one line, UTF-8 text kept as is, no NaN (``allow_nan=False``)."""
    import json

    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


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
    encode: bool = False,
    text_only: bool = False,
) -> Outcome:
    """``cycler check`` on one run: ``value`` is a :class:`cycler_cli.verdicts.FileReport`, the
    same as :func:`cycler_cli.verdicts.check_file` gives (an ``error`` report when the run
    cannot be read or analysed); with ``encode``, ``text`` is its JSON. ``text_only`` (implies
    ``encode``): for a caller that writes only ``text``, ``value`` leaves out the report's
    ``analysis`` (two thirds of the bytes a worker process would send back and the main
    process unpickle); its status, verdicts and error stay."""
    from cycler_cli.verdicts import FileReport, judge
    from cycler_cli.verdicts import check as check_module

    source = run_source(item)
    started = time.perf_counter()
    rows = 0
    try:
        if isinstance(item, LostRun):
            raise item.error
        # check_file's own read and analyse steps (so a run checks exactly as check_file checks it)
        if len(item) == 1:
            data = check_module._read(Path(item[0]), _item_reader(item, reader, columns), columns)
        else:
            data = read_run(item, reader, columns)
        rows = _rows(data)
        analysis = check_module._analyze(data, config)
        report = judge(analysis, config, source=source)
    except Exception as exc:  # noqa: BLE001 - mapped exactly as check_file maps it
        failed = _failure(source, exc, started, raise_internal)
        report = FileReport.failed(source, failed.error, failed.exit_code)
        text = encode_json(report.to_dict()) if encode or text_only else None
        return Outcome(source, report, rows, failed.seconds, failed.error, failed.exit_code, text)
    text = encode_json(report.to_dict()) if encode or text_only else None
    if text_only:
        report = dataclasses.replace(report, analysis=None)
    return Outcome(source, report, rows, time.perf_counter() - started, None, report.exit_code, text)


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
        if isinstance(item, LostRun):
            raise item.error
        data = read_run(item, reader, columns)
        rows = _rows(data)
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


#: Below this many bytes of input in all, ``auto_jobs`` runs in-process, where workers would
#: cost more than they save. Where the stages fork their workers (:data:`FORK_STAGES`) a fork
#: takes milliseconds and the modules are imported once either way: 10 runs the size of
#: ``sample_runs/`` (2.3 MB) took 0.19 s in-process and with 2 workers, 30 of them (6.8 MB)
#: 0.26 s in-process and 0.23 s with 2 workers.
SMALL_BATCH_BYTES = 2 * 1024 * 1024
#: The same where workers are spawned (macOS, Windows) and each imports cycler cold.
SMALL_BATCH_BYTES_SPAWNED = 8 * 1024 * 1024


def auto_jobs(runs: Sequence[Sequence[Path | str]]) -> int:
    """The default ``--jobs``: 1 for a single run or a batch under :data:`SMALL_BATCH_BYTES`
    of files (:data:`SMALL_BATCH_BYTES_SPAWNED` where workers are spawned), else
    :func:`default_jobs`."""
    if len(runs) <= 1:
        return 1
    small = SMALL_BATCH_BYTES if stages_fork() else SMALL_BATCH_BYTES_SPAWNED
    total = 0
    for item in runs:
        for path in item:
            try:
                total += os.stat(path).st_size
            except OSError:
                continue
            if total >= small:
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
    workers: Workers | None = None,
) -> list[Outcome]:
    """Apply ``work`` (a picklable module-level function, e.g. a :func:`functools.partial` of
    :func:`check_run`) to every item; the outcomes in the order of ``items``.

    ``executor="process"``: ``jobs`` worker processes (default :func:`default_jobs`; with
    ``jobs=1``, or a single item, everything runs in this process). ``executor="dask"``: on the
    Dask distributed scheduler at ``scheduler`` (``tcp://host:8786``), or, without one, on a
    ``LocalCluster`` of ``jobs`` single-threaded worker processes started for this batch.
    ``on_result(index, outcome)`` is called in this process as each run finishes (in
    completion order). ``workers``: already started processes to use (their ``jobs`` count
    wins), left running."""
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
        _run_processes(work, items, jobs, done, workers, per_task=runs_per_task(len(items), jobs), lost=_lost(work, items))
    if stats is not None:
        stats.seconds = time.perf_counter() - started
    return results  # type: ignore[return-value]


def _mp_context():
    """The start method of a :meth:`Workers.pool` (the pool path, see :data:`FORK_STAGES`).
    ``fork`` on Linux: a worker starts as a copy of this process, modules already imported,
    in milliseconds (cycler runs no threads of its own when the pool starts: the progress bar
    refreshes from the main thread). Elsewhere ``spawn`` (macOS and Windows, where forking
    is unsafe or absent): each worker imports cycler once."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def preload_worker_modules() -> None:
    """Import, in this process, the modules every worker needs for its first task (numpy, the
    readers, the analysis, the verdicts): a forked worker then starts with them, instead of
    each worker importing them cold at the same moment, competing for the cores with the
    other (≈ 0.1 s a worker: the sniffing stage of a folder ran slower in two processes than
    in one). The one thread this starts, OpenBLAS's (loaded by numpy), is stopped and
    restarted around a fork by OpenBLAS itself (``pthread_atfork``)."""
    import _strptime  # noqa: F401 - what time.strptime imports on first use (galvani's date parsing)
    import json  # noqa: F401

    import numpy  # noqa: F401
    import numpy.ma  # noqa: F401 - numpy imports these two lazily: the first np.unique and
    import numpy.random  # noqa: F401 - default_rng (cycles.current_threshold's sample) cost 17 ms

    from cycler_cli.analysis import full, symmetric  # noqa: F401
    from cycler_cli.io import ecl_columns, registry  # noqa: F401 - ecl_columns: galvani's column table
    from cycler_cli.verdicts import check  # noqa: F401

    registry.readers()


def _worker_started() -> None:
    """In each worker process of the pool, before its first task: read and analyse every file on
    one thread (the pool's processes already use the cores; :mod:`cycler_cli.threads`)."""
    from cycler_cli import threads

    threads.ENABLED = False


#: Run each parallel stage in children forked for it (:mod:`cycler_cli.forkpool`) where the
#: platform forks; False: a :class:`~concurrent.futures.ProcessPoolExecutor` shared by the
#: stages, as where workers are spawned (macOS, Windows). Tests set it to False to check that
#: path on Linux too.
FORK_STAGES = True


def stages_fork() -> bool:
    """Whether each parallel stage forks its own children here (:data:`FORK_STAGES` on a
    platform that forks), rather than using a pool."""
    from cycler_cli import forkpool

    return FORK_STAGES and forkpool.available()


class Workers:
    """The worker processes of one command's parallel stages (sniffing a folder's files, then
    the runs): ``jobs`` of them. Where the platform forks (:data:`FORK_STAGES`), each stage
    forks its own children (:mod:`cycler_cli.forkpool`) after the modules they need are
    imported here (:func:`preload_worker_modules`), so they start warm and hold the stage's
    work without it being pickled. Elsewhere one pool is started on first use, shared by the
    stages (a spawned worker imports cycler once, for both) and stopped by :meth:`close` (or at
    the end of a ``with`` block)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: Any = None

    def forks(self) -> bool:
        """Whether each stage forks its own children here (:func:`stages_fork`)."""
        return stages_fork()

    def pool(self):
        """The :class:`concurrent.futures.ProcessPoolExecutor` (started now if need be). With
        ``fork`` the worker modules are imported here first (:func:`preload_worker_modules`)."""
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            context = _mp_context()
            if context.get_start_method() == "fork":
                preload_worker_modules()
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=_worker_started)
        return self._pool

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self.close(cancel=exc_type is not None)


#: At most this many runs go to a pool's worker in one task (see :func:`runs_per_task`).
MAX_RUNS_PER_TASK = 4


def runs_per_task(n_items: int, jobs: int) -> int:
    """Runs handed to a pool's worker at a time (:meth:`Workers.pool`; children forked for a
    stage take one run at a time): 1 for a short batch, up to :data:`MAX_RUNS_PER_TASK`
    when there are at least 16 tasks a worker even so. Each task costs the main process a
    submit, a result hand-back and a wake-up (≈ 0.5 ms of its CPU, taken from the workers on a
    machine with as many cores as workers); small tasks keep the last ones short, so no worker
    waits long for another at the end."""
    return max(1, min(MAX_RUNS_PER_TASK, n_items // (jobs * 16)))


def _apply_each(work: Callable[[Any], Any], group: Sequence[Any]) -> list[Any]:
    """``[work(item) for item in group]``, in a worker: one task for several runs."""
    return [work(item) for item in group]


def _run_processes(
    work: Callable[[Any], Any],
    items: Sequence[Any],
    jobs: int,
    done: Callable[[int, Any], None],
    workers: Workers | None = None,
    per_task: int = 1,
    lost: Callable[[int, CyclerError], Any] | None = None,
) -> None:
    """``done(index, work(item))`` for every item, in worker processes (completion order):
    children forked for this stage where :meth:`Workers.forks`, one run at a time (``lost``:
    what to report for an item whose child died, :func:`cycler_cli.forkpool.run`); else the
    pool's processes, ``per_task`` consecutive items a task (each still reported on its own)."""
    own = workers is None
    if own:
        workers = Workers(min(jobs, len(items)))
    if workers.forks():
        from cycler_cli import forkpool

        preload_worker_modules()
        forkpool.run(work, items, workers.jobs, done, started=_worker_started, lost=lost)
        return
    try:
        _run_pool(workers.pool(), work, items, workers.jobs, done, per_task)
    except BaseException:
        workers.close(cancel=True)
        raise
    if own:
        workers.close()


def _run_pool(pool: Any, work: Callable[[Any], Any], items: Sequence[Any], jobs: int, done: Callable[[int, Any], None], per_task: int) -> None:
    """:func:`_run_processes` on a :class:`~concurrent.futures.ProcessPoolExecutor` of ``jobs``
    processes: ``per_task`` items a task, at most ``4 × jobs`` tasks in flight."""
    import functools
    from concurrent.futures import FIRST_COMPLETED, wait

    each = functools.partial(_apply_each, work)
    # keep a bounded window in flight: results stream, memory stays flat on 10^5 files
    pending: dict[Any, int] = {}
    starts = iter(range(0, len(items), per_task))
    window = jobs * 4

    def fill() -> None:
        while len(pending) < window:
            try:
                start = next(starts)
            except StopIteration:
                return
            pending[pool.submit(each, items[start : start + per_task])] = start

    fill()
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            start = pending.pop(future)
            for k, result in enumerate(future.result()):
                done(start + k, result)
        fill()


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
            client.run(_worker_started)  # one thread a file there too: each worker runs its own tasks
            futures = client.map(work, list(items), pure=False)
            index_of = {future.key: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                done(index_of[future.key], future.result())
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
