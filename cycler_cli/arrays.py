"""Large arrays laid on whole huge pages.

numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on arrays of 4 MiB and
more, but the kernel can only back the 2 MiB-aligned stretches of an allocation with them; an
array from ``malloc`` starts at an arbitrary 4 KiB page, so about 2 MiB of each large array is
still touched one 4 KiB page fault at a time (512 faults an array). :func:`empty` places the
array on a 2 MiB boundary inside a slightly larger allocation (the unused tail is never touched,
so it costs address space, not memory): five 8 MB columns then fault in with 20 page faults
instead of about 2,600, which took 3-5 ms off reading a 10^6-point ``.mpr`` on the benchmark
machine (docs/performance.md). Elsewhere (small arrays, other systems) it is ``numpy.empty``.
"""

from __future__ import annotations

import sys

import numpy as np

HUGE_PAGE = 1 << 21
#: Arrays from this size on are aligned (numpy's own huge-page threshold is 4 MiB).
ALIGN_FROM_BYTES = 1 << 21


def empty(n: int, dtype=np.float64) -> np.ndarray:
    """``numpy.empty(n, dtype)``, starting on a 2 MiB boundary when it is large (module docstring).

    The result is a contiguous, writeable 1-D array like ``numpy.empty``'s; its ``base`` is the
    larger byte buffer it lies in."""
    dtype = np.dtype(dtype)
    nbytes = int(n) * dtype.itemsize
    if nbytes < ALIGN_FROM_BYTES or not sys.platform.startswith("linux"):
        return np.empty(n, dtype=dtype)
    raw = np.empty(nbytes + HUGE_PAGE, dtype=np.uint8)
    offset = -raw.__array_interface__["data"][0] % HUGE_PAGE
    return raw[offset : offset + nbytes].view(dtype)
