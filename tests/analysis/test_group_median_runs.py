"""``group_median`` (partition per run where groups come in runs, one lexsort otherwise) equals the
definition computed group by group, bit for bit, including 0.0 against -0.0, NaN, inf, ties, groups past ``n_groups`` and empty groups."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.analysis.segment import group_median


def _reference_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """The definition, group by group: the finite values of the group in a stable sort (so 0.0
    and -0.0 keep their order, as a lexsort keeps it), the mean ``0.5 (a + b)`` of the two middle
    ones; NaN for a group without finite values. Independent of both of group_median's paths."""
    out = np.full(n_groups, np.nan)
    finite = np.isfinite(values)
    for g in range(n_groups):
        v = np.sort(values[finite & (groups == g)], kind="stable")
        if v.size:
            out[g] = 0.5 * (v[(v.size - 1) // 2] + v[v.size // 2])
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
        want = _reference_median(values, groups, n_groups)
        assert group_median(values, groups, n_groups).tobytes() == want.tobytes(), (t, n, n_groups)
