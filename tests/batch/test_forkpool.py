"""cycler_cli.forkpool: every item once, under its own index; errors and dead workers are
reported with the run they were working on, and no child outlives its stage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cycler_cli import forkpool
from cycler_cli.errors import ConfigError, EXIT_INTERNAL

pytestmark = pytest.mark.skipif(not forkpool.available(), reason="stages fork their workers on Linux only")


def _collect(work, items, jobs):
    got: dict[int, object] = {}
    order: list[int] = []

    def done(index: int, value: object) -> None:
        assert index not in got, f"index {index} handed back twice"
        got[index] = value
        order.append(index)

    forkpool.run(work, items, jobs, done)
    return got, order


def _gone(pid: int) -> bool:
    """The process ended and was reaped (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
def test_every_item_once_with_its_own_result(jobs: int) -> None:
    items = list(range(37))
    got, _ = _collect(lambda x: (x * x, os.getpid()), items, jobs)
    assert {i: v[0] for i, v in got.items()} == {i: i * i for i in items}
    pids = {v[1] for v in got.values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= min(jobs, len(items))
    assert all(_gone(pid) for pid in pids)


def test_no_items_forks_nothing() -> None:
    calls: list[int] = []
    forkpool.run(lambda x: x, [], 2, lambda i, v: calls.append(i))
    assert calls == []


def test_more_indices_than_the_task_pipe_holds_and_results_larger_than_a_pipe() -> None:
    """20 000 indices (160 kB, more than a 64 KiB pipe: the main process refills it as the
    children read), then results of 3 MB (each crosses many reads of the result pipe)."""
    items = list(range(20_000))
    got, _ = _collect(lambda x: x + 1, items, 2)
    assert got == {i: i + 1 for i in items}
    big = [bytes([k]) * (3 << 20) for k in range(4)]
    got, _ = _collect(lambda b: b[::-1], big, 2)
    assert got == {k: big[k] for k in range(4)}


def test_a_slow_item_does_not_hold_up_the_others() -> None:
    """Item 0 takes 0.5 s; the other child does every other item meanwhile (one at a time, no
    batch waits behind the slow one)."""

    def work(x: int) -> int:
        if x == 0:
            time.sleep(0.5)
        return x

    _, order = _collect(work, list(range(20)), 2)
    assert order[-1] == 0 and sorted(order) == list(range(20))


def test_an_exception_in_a_child_is_raised_with_its_traceback_and_the_children_stopped() -> None:
    pids: list[int] = []

    def work(x: int) -> int:
        if x == 5:
            raise ConfigError("bad setting", hint="fix it")
        time.sleep(0.01)
        return os.getpid()

    with pytest.raises(ConfigError) as caught:
        forkpool.run(work, list(range(200)), 2, lambda i, pid: pids.append(pid))
    assert caught.value.hint == "fix it" and caught.value.one_line() == "bad setting -- fix it"
    assert any("in a worker process" in note and "bad setting" in note for note in caught.value.__notes__)
    assert len(pids) < 199  # stopped early, not after every run
    assert pids and all(_gone(pid) for pid in set(pids))


def test_a_fork_that_fails_leaves_no_child_behind(monkeypatch) -> None:
    """The second fork fails (a process limit, say): the error is raised and the first child,
    already running, is stopped and reaped."""
    real_fork = os.fork
    forked: list[int] = []

    def fork() -> int:
        if forked:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(BlockingIOError):
        forkpool.run(lambda x: time.sleep(5), list(range(4)), 2, lambda i, v: None)
    assert len(forked) == 1 and _gone(forked[0])


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("cannot pickle this")


def test_an_exception_that_cannot_be_pickled_comes_back_as_text() -> None:
    def work(x: int) -> int:
        raise _Unpicklable("odd failure")

    with pytest.raises(RuntimeError, match="_Unpicklable: odd failure"):
        forkpool.run(work, [1, 2], 2, lambda i, v: None)


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_a_dead_worker_is_named_with_its_run(tmp_path: Path, how: str) -> None:
    victim = (tmp_path / "run07.mpr", )

    def work(item):
        if item is victim:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(3)
        time.sleep(0.005)
        return os.getpid()

    items = [(tmp_path / f"run{k:02d}.mpr",) for k in range(40)]
    items[7] = victim
    pids: list[int] = []
    with pytest.raises(forkpool.WorkerDied) as caught:
        forkpool.run(work, items, 2, lambda i, pid: pids.append(pid))
    line = caught.value.one_line()
    assert line.startswith(f"{victim[0]}: the worker process working on this run was "), line
    if how == "kill":
        assert "killed by SIGKILL" in line and "out of memory" in line
    else:
        assert "ended with exit code 3" in line
    assert caught.value.exit_code == EXIT_INTERNAL
    assert all(_gone(pid) for pid in set(pids))


def test_with_lost_a_dead_workers_run_is_reported_and_a_new_worker_goes_on() -> None:
    def work(x: int) -> tuple[int, int]:
        if x in (3, 11):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.002)
        return x * x, os.getpid()

    got: dict[int, object] = {}
    forkpool.run(work, list(range(30)), 2, got.__setitem__, lost=lambda index, error: error)
    assert sorted(got) == list(range(30))
    for index in (3, 11):
        assert isinstance(got[index], forkpool.WorkerDied) and "item " + str(index) in got[index].one_line()
    assert {i: v[0] for i, v in got.items() if i not in (3, 11)} == {i: i * i for i in range(30) if i not in (3, 11)}
    pids = {v[1] for i, v in got.items() if i not in (3, 11)}
    assert len(pids) >= 3 and all(_gone(pid) for pid in pids)  # the two first children and a new one at least


def test_every_run_killing_its_worker_ends_too() -> None:
    """No endless replacing: each new child is forked for a lost run, and there are 6."""
    got: dict[int, object] = {}
    forkpool.run(lambda x: os.kill(os.getpid(), signal.SIGKILL), list(range(6)), 2, got.__setitem__, lost=lambda i, e: "lost")
    assert got == {i: "lost" for i in range(6)}


_PROBE = """
import os, sys, time
from cycler_cli import forkpool
def work(x):
    with open(sys.argv[1], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    time.sleep(30)
    return x
try:
    forkpool.run(work, [1, 2, 3, 4], 2, lambda i, v: None)
except KeyboardInterrupt:
    print(" interrupted")
"""


def _probe_with_two_busy_children(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    script = tmp_path / "probe.py"
    script.write_text(_PROBE, encoding="utf-8")
    pids_file = tmp_path / "pids"
    pids_file.write_text("", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(pids_file)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    deadline = time.monotonic() + 60
    while len(pids_file.read_text().split()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    children = [int(p) for p in pids_file.read_text().split()]
    assert len(children) == 2
    return proc, children


def _ended(pid: int, within_s: float) -> bool:
    """Process ``pid`` (not our child) is gone or a zombie within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_interrupting_the_main_process_stops_the_children(tmp_path: Path) -> None:
    proc, children = _probe_with_two_busy_children(tmp_path)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert time.monotonic() - started < 10  # not after the children's 30 s runs
    assert out == " interrupted\n"
    assert all(_ended(pid, 5) for pid in children)


def test_children_end_with_a_killed_main_process(tmp_path: Path) -> None:
    """A pipeline's timeout kills the main process outright: its children do not run on."""
    proc, children = _probe_with_two_busy_children(tmp_path)
    proc.kill()
    proc.communicate(timeout=20)
    assert all(_ended(pid, 5) for pid in children)
