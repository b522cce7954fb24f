"""The streamed order statistics equal numpy's: ``current_threshold`` (``np.percentile``),
``detect_cell_type``'s median ``|V|`` (``np.median``) and the file's half-cycle count
(``_distinct_on``), on random inputs with NaN, inf, ties and tiny sizes, in tiny blocks, with
tiny samples and with brackets that miss."""

from __future__ import annotations

import numpy as np
import pytest

import cycler_cli.analysis.celltype as celltype
import cycler_cli.analysis.segment as segment
import cycler_cli.cycles as cycles
from cycler_cli.analysis import _distinct_on
from cycler_cli.analysis.segment import segment_run

SIZES = [0, 1, 2, 3, 4, 5, 10, 99, 100, 101, 300, 1000, 5000]


def _reference_threshold(x: np.ndarray) -> float:
    finite = np.abs(x[np.isfinite(x)])
    if finite.size == 0:
        return 1e-15
    return max(1e-3 * float(np.percentile(finite, 99)), 1e-15)


def _signal(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    if kind == 0:
        x = rng.normal(size=n)
    elif kind == 1:  # few distinct values: ties at every rank
        x = rng.choice([0.0, -0.0, -1.0, 1.0, 2.5, -2.5, 1e-9], size=n)
    elif kind == 2:  # magnitudes over the whole float range
        x = rng.normal(size=n) * 10 ** rng.uniform(-300, 300, size=n)
    elif kind == 3:
        x = np.round(rng.normal(size=n), 2)
    elif kind == 4:  # sorted: a strided or blocked sample would be biased
        x = np.sort(rng.normal(size=n))
    else:
        x = np.full(n, 0.25)
    if n and rng.random() < 0.5:
        k = int(rng.integers(0, n + 1))
        x[rng.integers(0, n, k)] = rng.choice([np.nan, np.inf, -np.inf], k)
    return x


@pytest.fixture(params=[(0, 37, 300), (0, 1 << 16, 1 << 14), (0, 5, 256)], ids=["block37", "default", "block5"])
def streamed(request, monkeypatch):
    """The streamed path forced on every size, with a block size and a sample size."""
    min_points, block, sample = request.param
    monkeypatch.setattr(cycles, "SELECT_MIN_POINTS", min_points)
    monkeypatch.setattr(cycles, "SELECT_BLOCK", block)
    monkeypatch.setattr(cycles, "_SAMPLE_POINTS", sample)


def test_current_threshold_equals_np_percentile(streamed):
    rng = np.random.default_rng(7)
    for t in range(400):
        x = _signal(rng, int(rng.choice(SIZES)), t % 6)
        assert cycles.current_threshold(x) == _reference_threshold(x), (x.size, t % 6)


def test_current_threshold_when_the_bracket_misses(monkeypatch):
    """A bracket that holds none of the ranks costs a second pass, not a different number."""
    monkeypatch.setattr(cycles, "SELECT_MIN_POINTS", 0)
    monkeypatch.setattr(cycles, "SELECT_BLOCK", 64)
    rng = np.random.default_rng(8)
    for lo, hi in [(0.0, 0.0), (5.0, 6.0), (1e300, 1e301), (0.5, 0.5)]:
        monkeypatch.setattr(cycles, "quantile_bracket", lambda sample, q, lo=lo, hi=hi: (lo, hi))
        for t in range(60):
            x = _signal(rng, int(rng.choice(SIZES)), t % 6)
            assert cycles.current_threshold(x) == _reference_threshold(x)


def test_current_threshold_long_runs_default_settings():
    rng = np.random.default_rng(9)
    for x in (
        rng.normal(size=200_000),
        np.repeat([0.0, 1e-4, -1e-4, 0.0], 50_000),
        np.repeat([0.0, 1e-4, -1e-4, 0.0], 50_000) + rng.normal(scale=1e-7, size=200_000),
    ):
        assert cycles.current_threshold(x) == _reference_threshold(x)


def test_percentile_linear_every_small_n():
    rng = np.random.default_rng(10)
    for n in range(1, 400):
        v = np.sort(rng.normal(size=n))
        for q in (0, 1, 25, 50, 99, 99.9, 100):
            got = cycles.percentile_linear(n, q, lambda ranks: [float(v[r]) for r in ranks])
            assert got == float(np.percentile(v, q)), (n, q)


def _reference_cell_type(seg):
    """The rule on whole-array copies, as before the streamed pass."""
    on = np.isfinite(seg.voltage_v) & (seg.sign != 0)
    v = seg.voltage_v[on]
    pos = seg.sign[on] > 0
    n_pos = int(np.count_nonzero(pos))
    if not (0 < n_pos < pos.size):
        return None
    return float(np.median(np.abs(v))), n_pos


@pytest.mark.parametrize("symmetric", [True, False])
def test_detect_cell_type_median_equals_np_median(streamed, monkeypatch, symmetric):
    rng = np.random.default_rng(11 if symmetric else 12)
    seen = []
    monkeypatch.setattr(celltype, "_median_abs", lambda rc, f=celltype._median_abs: seen.append(f(rc)) or seen[-1])
    for t in range(60):
        n_steps = int(rng.integers(2, 12))
        lengths = rng.integers(1, 400, n_steps)
        i = np.repeat(rng.choice([-1e-3, 0.0, 1e-3], n_steps), lengths)
        n = i.size
        t_s = np.cumsum(rng.uniform(0.5, 1.5, n))
        ocv = 0.0 if symmetric else 3.0
        v = ocv + 0.05 * np.sign(i) + rng.choice([0.0, 0.01, 0.02], n) * rng.normal(size=n)
        if rng.random() < 0.5:
            v[rng.integers(0, n, n // 10)] = rng.choice([np.nan, np.inf, -np.inf, 0.0], n // 10)
        seg = segment_run(t_s, v, i)
        seen.clear()
        kind, reason = celltype.detect_cell_type(seg)
        want = _reference_cell_type(seg)
        if want is None:
            assert "one direction only" in reason
            continue
        assert seen[-1] == want[0]
        assert f"median |V| under current {want[0]:.3g} V" in reason


def test_detect_cell_type_when_the_bracket_misses(monkeypatch):
    monkeypatch.setattr(celltype, "quantile_bracket", lambda sample, q: (10.0, 11.0))
    rng = np.random.default_rng(13)
    i = np.repeat([1e-3, 0.0, -1e-3, 0.0] * 3, 500)
    v = 0.05 * np.sign(i) + 0.01 * rng.normal(size=i.size)
    seg = segment_run(np.arange(i.size, dtype=float), v, i)
    kind, reason = celltype.detect_cell_type(seg)
    want = _reference_cell_type(seg)[0]
    assert kind == "symmetric" and f"median |V| under current {want:.3g} V" in reason


def _reference_distinct(labels: np.ndarray) -> int:
    if labels.size == 0:
        return 0
    if np.any(labels[1:] < labels[:-1]):
        return int(np.unique(labels).size)
    return 1 + int(np.count_nonzero(labels[1:] != labels[:-1]))


@pytest.mark.parametrize("block", [1, 3, 37, 1 << 16])
def test_distinct_on_equals_gathered_count(monkeypatch, block):
    monkeypatch.setattr(segment, "BLOCK", block)
    rng = np.random.default_rng(14)
    for t in range(300):
        n = int(rng.choice(SIZES))
        labels = np.cumsum(rng.random(n) < 0.05)
        if t % 3 == 1 and n:
            labels[rng.integers(0, n)] -= 2  # one step back: np.unique decides
        if t % 3 == 2:
            labels = labels.astype(float)
            if n:
                labels[rng.integers(0, n, 3)] = np.nan
        sign = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n, p=[0.4, 0.2, 0.4])
        if t % 7 == 0:
            sign[:] = 0
        assert _distinct_on(labels, sign) == _reference_distinct(labels[sign != 0]), t
