"""The second thread of a long analysis (cycler_cli.threads, cycler_cli.analysis.analyze).

``analyze`` computes a long run's integrals and the charge column's capacities on a second
thread while it decides the cell type. The reports must be the same as on one thread, for
every real and sample file (the threshold is lowered so that all of them take the second
thread), and an error on either side must reach the caller once, with no thread left behind.
"""

from __future__ import annotations

import json
import threading

import pytest

from cycler_cli import analysis, threads
from cycler_cli.analysis import analyze
from cycler_cli.errors import NoDataError
from cycler_cli.io import read
from cycler_cli.threads import Side
from tests.conftest import SAMPLES, realdata_dir


def _sides(monkeypatch) -> list:
    """Second threads the analysis starts from now on, on any machine."""
    import os

    monkeypatch.setattr(analysis, "TWO_THREADS_MIN_POINTS", 2)
    monkeypatch.delenv("CYCLER_THREADS", raising=False)
    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "cpu_count", lambda: max(cores, 2))
    started: list = []
    real = threads.Side.__init__

    def init(self, fn, name):
        started.append(name)
        real(self, fn, name)

    monkeypatch.setattr(threads.Side, "__init__", init)
    return started


def _report(path, **kw) -> str:
    try:
        return json.dumps(analyze(read(path), **kw).to_dict(), sort_keys=True, default=str)
    except Exception as exc:  # noqa: BLE001 - the same error both ways
        return f"{type(exc).__name__}: {exc}"


def test_reports_are_the_same_on_two_threads_as_on_one(monkeypatch) -> None:
    started = _sides(monkeypatch)
    files = sorted(SAMPLES.glob("*.mpr")) + sorted(SAMPLES.glob("*.csv")) + sorted(realdata_dir().rglob("*.mpr"))[:40]
    compared = 0
    for path in files:
        if path.stat().st_size > 5_000_000:
            continue
        for cell in ("auto", "symmetric", "full"):
            monkeypatch.setattr(threads, "ENABLED", True)
            before = len(started)
            two = _report(path, cell=cell)
            took_two = len(started) > before
            monkeypatch.setattr(threads, "ENABLED", False)
            one = _report(path, cell=cell)
            assert two == one, (path.name, cell)
            compared += took_two
    assert compared >= 30, "too few reports took the second thread: the test would not test it"


def test_an_error_on_the_second_thread_reaches_the_caller(monkeypatch) -> None:
    _sides(monkeypatch)

    def broken(seg):
        raise MemoryError("integrals")

    monkeypatch.setattr(analysis, "integrate", broken)
    before = threading.active_count()
    with pytest.raises(MemoryError, match="integrals"):
        analyze(read(SAMPLES / "li-lzp-li_80C_40uA.mpr"))
    assert threading.active_count() == before


def test_an_error_on_this_thread_waits_for_the_second(monkeypatch) -> None:
    """The cell-type step fails while the integrals run: its error is raised, after the second
    thread has stopped (and the second thread's own result is not needed)."""
    _sides(monkeypatch)
    done = threading.Event()
    real = analysis.integrate

    def slow(seg):
        out = real(seg)
        done.set()
        return out

    def classify(*args):
        raise NoDataError("classify failed")

    monkeypatch.setattr(analysis, "integrate", slow)
    monkeypatch.setattr(analysis, "_classify", classify)
    with pytest.raises(NoDataError, match="classify failed"):
        analyze(read(SAMPLES / "li-lzp-li_80C_40uA.mpr"))
    assert done.is_set()


def test_side_returns_the_value_or_raises_the_error() -> None:
    assert Side(lambda: 41 + 1, "t").result() == 42
    side = Side(lambda: 1 / 0, "t")
    side.join()
    with pytest.raises(ZeroDivisionError):
        side.result()


def test_cycler_threads_1_and_one_core_mean_one_thread(monkeypatch) -> None:
    import os

    monkeypatch.setattr(threads, "ENABLED", True)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.delenv("CYCLER_THREADS", raising=False)
    assert threads.enabled()
    monkeypatch.setenv("CYCLER_THREADS", "1")
    assert not threads.enabled()
    monkeypatch.delenv("CYCLER_THREADS")
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not threads.enabled()
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threads, "ENABLED", False)
    assert not threads.enabled()
