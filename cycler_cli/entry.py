"""The console script's entry point: ``cycler --version`` answers before typer is imported.

Importing typer (and the command modules it registers) costs about 0.1 s; a pipeline that asks
for the version, and ``cycler --version`` timed against ``python -c pass`` (docs/performance.md),
should not pay it. Everything else goes to :func:`cycler_cli.cli.main`.

Before numpy is imported, the command asks OpenBLAS for one thread (``OPENBLAS_NUM_THREADS=1``)
unless the environment already says how many: cycler's only BLAS calls are dot products of a
few thousand numbers, and OpenBLAS's own threads otherwise spin on the other cores for about
50 ms after numpy is imported, and again in every ``--jobs N`` worker after it is forked, where
they take CPU from the work (docs/performance.md, docs/scale.md). cycler's own threads
(:mod:`cycler_cli.threads`) are not affected. Importing cycler as a library changes nothing.

When the command is done it leaves without the interpreter's teardown (:func:`_leave`): the
output is flushed and the ``atexit`` handlers run as usual, but the modules (numpy, pandas,
rich) are not taken apart object by object, which cost 20-35 ms at the end of every command.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from cycler_cli import __version__

        print(f"cycler {__version__}")
        return
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from cycler_cli.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        _leave(exc.code)
        raise
    _leave(0)


def _leave(code: object) -> None:
    """End the process now with ``code``: flush stdout and stderr, run the ``atexit`` handlers
    (multiprocessing's, logging's, ``weakref.finalize``'s), then ``os._exit``. Returns, and the
    interpreter exits as usual, when anything asks for the usual way: a code that is not a
    number, another thread still running (the usual exit would wait for it), or output that
    cannot be flushed (a closed pipe: Python reports that itself)."""
    import atexit
    import threading

    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 120  # what Python exits with when it cannot flush stdout at exit
    os._exit(code)
