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

    cli_main()
