"""cycler_cli.arrays.empty: numpy.empty, laid on a 2 MiB boundary when large (huge pages)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cycler_cli import arrays


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.uint8, np.int8])
def test_large_arrays_start_on_a_huge_page_and_behave_like_numpy_empty(dtype):
    n = (3 * arrays.HUGE_PAGE) // np.dtype(dtype).itemsize + 5
    a = arrays.empty(n, dtype)
    assert a.shape == (n,) and a.dtype == np.dtype(dtype)
    assert a.flags.c_contiguous and a.flags.writeable and a.flags.aligned
    if sys.platform.startswith("linux"):
        assert a.__array_interface__["data"][0] % arrays.HUGE_PAGE == 0
    a[:] = 7
    a[-1] = 3
    assert int(a[0]) == 7 and int(a[-1]) == 3 and int(a.sum()) == 7 * (n - 1) + 3


def test_small_arrays_are_plain_numpy_empty():
    a = arrays.empty(1000)
    assert a.shape == (1000,) and a.dtype == np.float64 and a.base is None
