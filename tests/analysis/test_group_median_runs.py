"""``group_median`` on groups in runs (partition per run) equals the one-lexsort definition bit
for bit, including 0.0 against -0.0, NaN, inf, ties, groups past ``n_groups`` and empty groups."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.analysis.segment import group_median


def _lexsort_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, np.nan)
    keep = np.isfinite(values)
    values, groups = values[keep], groups[keep]
    if values.size == 0:
        return out
    order = np.lexsort((values, groups))
    v = values[order]
    counts = np.bincount(groups, minlength=n_groups)[:n_groups]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    have = counts > 0
    lo = starts[have] + (counts[have] - 1) // 2
    hi = starts[have] + counts[have] // 2
    out[have] = 0.5 * (v[lo] + v[hi])
    return out


@pytest.mark.parametrize("sorted_groups", [True, False])
def test_group_median_equals_lexsort_definition(sorted_groups):
    rng = np.random.default_rng(21 if sorted_groups else 22)
    for t in range(1500):
        n = int(rng.choice([0, 1, 2, 3, 10, 300, 2000, 20000]))
        n_groups = int(rng.integers(1, 8))
        groups = rng.integers(0, n_groups + 1, n)  # n_groups itself: past the end, ignored
        if sorted_groups:
            groups.sort()
        kind = t % 4
        if kind == 0:
            values = rng.normal(size=n)
        elif kind == 1:
            values = rng.choice([0.0, -0.0, 1.0, -1.0, 2.0], n)
        elif kind == 2:
            values = rng.choice([0.0, -0.0], n)
        else:
            values = np.round(rng.normal(size=n), 1)
        if n and rng.random() < 0.3:
            values[rng.integers(0, n, n // 5)] = rng.choice([np.nan, np.inf, -np.inf], n // 5)
        want = _lexsort_median(values, groups, n_groups)
        assert group_median(values, groups, n_groups).tobytes() == want.tobytes(), (t, n, n_groups)
