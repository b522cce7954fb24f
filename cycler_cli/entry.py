"""The console script's entry point: ``cycler --version`` answers before typer is imported.

Importing typer (and the command modules it registers) costs about 0.1 s; a pipeline that asks
for the version, and ``cycler --version`` timed against ``python -c pass`` (docs/performance.md),
should not pay it. Everything else goes to :func:`cycler_cli.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from cycler_cli import __version__

        print(f"cycler {__version__}")
        return
    from cycler_cli.cli import main as cli_main

    cli_main()
