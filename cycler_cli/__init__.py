"""cycler: galvanostatic cycling analyzer for battery researchers.

The package is a library first; :mod:`cycler_cli.cli` is a thin typer wrapper over it.
This module must stay import-light: ``cycler --version`` imports nothing else.
"""

__version__ = "0.1.0"
