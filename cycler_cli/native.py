"""The optional compiled kernels (``cycler_cli._native``, built from ``_native.c`` at install
time when a C compiler is there) and the switch that turns them off.

Every kernel has a numpy reference in the module that calls it and returns the same values,
bit for bit (``tests/test_native.py``). :func:`kernels` is ``None`` when the module was not
built or when the environment has ``CYCLER_NATIVE=0``; callers then run the numpy code.
No numpy import here: the type codes are keyed by numpy's dtype strings."""

from __future__ import annotations

import os
from typing import Any

try:
    from cycler_cli import _native as _module
except ImportError:  # not built: no C compiler at install time, or a source checkout
    _module = None

#: numpy dtype string (``dtype.str``) -> the type code ``_native.c`` uses. Little-endian and
#: one-byte types only: a big-endian field goes through numpy.
TYPE_CODES = {
    "|u1": 1, "<u2": 2, "<u4": 3, "<u8": 4, "|i1": 5, "<i2": 6, "<i4": 7, "<i8": 8, "<f4": 9, "<f8": 10, "|b1": 11,
}
F8, I8 = TYPE_CODES["<f8"], TYPE_CODES["<i8"]


def built() -> bool:
    """Was the compiled module built and imported (whatever ``CYCLER_NATIVE`` says)?"""
    return _module is not None


def kernels() -> Any:
    """The compiled module, or ``None``: not built, or ``CYCLER_NATIVE=0`` in the environment."""
    if _module is None or os.environ.get("CYCLER_NATIVE", "1").strip() == "0":
        return None
    return _module


def field_code(src: str, dst: str, flag_mask: int = 0) -> tuple[int, int] | None:
    """``(src code, dst code)`` when ``_native.gather`` copies a record field of dtype string
    ``src`` into a column of dtype string ``dst`` as numpy's assignment would (a flag:
    ``flag_mask`` not 0, into ``|u1`` or ``|b1``); ``None`` otherwise, or without the module.
    The rule itself is the module's own (``_native.supported``)."""
    s, d = TYPE_CODES.get(src), TYPE_CODES.get(dst)
    if s is None or d is None or _module is None or not _module.supported(s, d, flag_mask):
        return None
    return s, d
