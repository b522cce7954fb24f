"""A progress bar on stderr for long batch work: runs done, rows/s, ETA.

This module owns :class:`BatchProgress`. It draws with rich on **stderr only**, and only when
stderr is a terminal and ``quiet`` is false; otherwise every method is a no-op, so a pipe,
a CI log or ``--quiet`` never sees a progress character and stdout always carries only the
report. Progress is advanced from the batch's ``on_result`` callback
(:func:`cycler_cli.batch.run_items`), in the main process.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def progress_enabled(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Whether a bar would be drawn: not ``quiet`` and ``stream`` (default stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class BatchProgress:
    """``with BatchProgress(total, quiet=...) as bar: bar.advance(rows)`` (one call per run)."""

    def __init__(self, total: int, *, quiet: bool = False, description: str = "runs", stream: TextIO | None = None):
        self.total = total
        self.description = description
        self.enabled = progress_enabled(quiet, stream) and total > 1
        self._stream = sys.stderr if stream is None else stream
        self._progress: Any = None
        self._task: Any = None
        self.rows = 0
        self.done = 0
        self._started = time.perf_counter()

    def __enter__(self) -> "BatchProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self._stream, stderr=True),
                transient=True,
                auto_refresh=False,  # no refresh thread: worker processes are forked from this one
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total, rate="")
            self._progress.refresh()
        return self

    def advance(self, rows: int = 0) -> None:
        """One run finished, having read ``rows`` rows."""
        self.done += 1
        self.rows += rows
        if self._progress is not None:
            elapsed = max(time.perf_counter() - self._started, 1e-9)
            self._progress.update(self._task, advance=1, rate=f"{self.rows / elapsed:,.0f} rows/s", refresh=True)

    def log(self, line: str) -> None:
        """Print a line on stderr above the bar (or plainly without one)."""
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self._stream)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
