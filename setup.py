"""Build hook for the one optional compiled module, ``cycler_cli._native`` (everything else is
in ``pyproject.toml``). ``optional=True``: without a C compiler the install goes on and cycler
runs its numpy code instead (``cycler_cli/native.py``, docs/performance.md)."""

import sys

from setuptools import Extension, setup

# IEEE double one operation at a time, as numpy computes: no fused multiply-add, no fast-math
_ARGS = [] if sys.platform == "win32" else ["-ffp-contract=off", "-fno-fast-math"]

setup(ext_modules=[Extension("cycler_cli._native", ["cycler_cli/_native.c"], optional=True, extra_compile_args=_ARGS)])
