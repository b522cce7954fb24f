"""Worker processes forked for one stage of a batch (Linux): ``--jobs N`` without a pool.

:func:`run` forks N children of the main process, each of which already holds ``work`` and
every item (the fork copies them), so nothing is pickled on the way out. The children take the
next item's index from one pipe that the main process keeps filled (a read of 8 bytes from a
pipe is atomic, so each index goes to exactly one child, and a child that is done with a long
run simply takes the next one), and each writes ``(index, result)`` back on a pipe of its own.
The main process waits on those pipes and calls ``done(index, result)`` as results arrive.

Against :class:`concurrent.futures.ProcessPoolExecutor` (still used where workers are spawned,
:mod:`cycler_cli.batch`), this costs the main process no pickled calls, no management thread
and no wake-up to hand out the next task; a child is never idle while runs are left, one run at
a time, so the last runs end together. On the 200-run benchmark the ``--jobs 2`` check went
from 0.665 to 0.60 s with this and the command's quicker exit together (docs/scale.md).

A child that raises (a configuration error, or an internal error under ``--debug``) sends the
exception back; the main process stops the other children and raises it, with the child's
traceback as a note. A child that dies during a run (killed for memory, a crash in native code)
is named with that run, from a table of current indices the children share with the main
process (:class:`WorkerDied`); with ``lost`` the run is reported so and a new child takes the
dead one's place, without it the error is raised.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any

from cycler_cli.errors import CyclerError

_INDEX = struct.Struct("=q")  # a run's index, as the task pipe and the shared table hold it
_FRAME = struct.Struct("=qq")  # a result's payload length and index; the payload is a pickle of (ok, value)

#: Indices written to the task pipe at a time: 512 × 8 bytes is one ``PIPE_BUF`` (4096 bytes),
#: so each write lands whole or not at all and no index is ever split between two reads.
_INDICES_A_WRITE = 512


#: The longest the main process waits on the pipes at a time. A Ctrl-C that lands just before
#: the wait begins does not interrupt it; waking this often lets Python raise it anyway (the
#: likely cause of one run of the interrupt test that waited for its children's 30 s runs).
_POLL_S = 0.25


class WorkerDied(CyclerError):
    """A worker process ended without handing back the run it had taken (exit code 4)."""


def available() -> bool:
    """Whether runs can go to forked children here: Linux (forking is unsafe on macOS, absent
    on Windows, where :mod:`cycler_cli.batch` spawns a pool instead)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def run(
    work: Callable[[Any], Any],
    items: Sequence[Any],
    jobs: int,
    done: Callable[[int, Any], None],
    started: Callable[[], None] | None = None,
    lost: Callable[[int, "WorkerDied"], Any] | None = None,
) -> None:
    """``done(index, work(items[index]))`` for every index, in ``jobs`` forked children, in
    completion order. ``started()`` runs first in each child. Raises what ``work`` raised in a
    child; the children are stopped either way before it returns. A child that dies during a
    run: with ``lost``, ``done(index, lost(index, error))`` for that run and a new child takes
    the dead one's place; without, :class:`WorkerDied` is raised."""
    if not items:
        return
    stage = _Stage(work, items, started)
    try:
        stage.start(max(1, min(jobs, len(items))))
        stage.serve(done, lost)
    finally:
        stage.stop()


class _Stage:
    """The children of one :func:`run` and the main process's ends of their pipes."""

    def __init__(self, work: Callable[[Any], Any], items: Sequence[Any], started: Callable[[], None] | None):
        self.work = work
        self.items = items
        self.started = started
        self.parent = os.getpid()
        self.next_index = 0  # the first index not yet written to the task pipe
        self.current: Any = None  # each child's current index, in memory shared with them
        self.task_r = self.task_w = -1
        self.children: dict[int, tuple[int, int]] = {}  # result pipe -> (pid, slot); pid -1 once reaped

    def start(self, jobs: int) -> None:
        """Fork ``jobs`` children (those forked before a failure are stopped by :meth:`stop`)."""
        import mmap

        self.current = mmap.mmap(-1, _INDEX.size * jobs)
        self.current.write(_INDEX.pack(-1) * jobs)
        self.task_r, self.task_w = os.pipe()
        for slot in range(jobs):
            self.fork(slot)

    def fork(self, slot: int) -> int:
        """Fork the child for ``slot``; the main process's end of its result pipe."""
        _INDEX.pack_into(self.current, _INDEX.size * slot, -1)
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's part, in the forked process, which it ends
            not_ours = [fd for fd in (self.task_w, result_r, *self.children) if fd >= 0]
            _child(self.work, self.items, self.task_r, result_w, self.current, slot, self.started, self.parent, not_ours)
        os.close(result_w)
        self.children[result_r] = (pid, slot)
        return result_r

    def feed(self) -> bool:
        """Write indices to the task pipe until it is full or all are in; True when all are in
        (the pipe is then closed: a child that reads past the last index sees its end)."""
        import array

        n = len(self.items)
        while self.next_index < n:
            stop = min(n, self.next_index + _INDICES_A_WRITE)
            try:
                os.write(self.task_w, array.array("q", range(self.next_index, stop)).tobytes())
            except BlockingIOError:
                return False
            self.next_index = stop
        os.close(self.task_w)
        self.task_w = -1
        return True

    def serve(self, done: Callable[[int, Any], None], lost: Callable[[int, "WorkerDied"], Any] | None = None) -> None:
        """Keep the task pipe filled and hand each child's results to ``done`` until every
        child has ended (``lost``: see :func:`run`)."""
        from selectors import EVENT_READ, EVENT_WRITE, DefaultSelector

        os.set_blocking(self.task_w, False)
        buffers = {fd: bytearray() for fd in self.children}
        returned = bytearray(len(self.items))

        def hand_back(index: int, value: Any) -> None:
            returned[index] = 1
            done(index, value)

        received = 0
        with DefaultSelector() as selector:
            for fd in self.children:
                selector.register(fd, EVENT_READ)
            if not self.feed():
                selector.register(self.task_w, EVENT_WRITE)
            while selector.get_map():
                for key, _ in selector.select(_POLL_S):
                    fd = key.fd
                    if fd == self.task_w:
                        selector.unregister(fd)
                        if not self.feed():
                            selector.register(self.task_w, EVENT_WRITE)
                        continue
                    data = os.read(fd, 1 << 16)  # a pipe holds 64 KiB
                    if data:
                        buffers[fd] += data
                        received += _frames(buffers[fd], hand_back)
                        continue
                    selector.unregister(fd)  # the child closed its end: it has ended
                    pid, slot = self.children[fd]
                    status = _reap(pid)
                    self.children[fd] = (-1, slot)
                    if buffers[fd] or status != 0:
                        (index,) = _INDEX.unpack_from(self.current, _INDEX.size * slot)
                        if not (0 <= index < len(returned)) or returned[index]:
                            raise _death(status, -1, self.items)  # not during a run: nothing to hand back
                        error = _death(status, index, self.items)
                        if lost is None:
                            raise error
                        hand_back(index, lost(index, error))
                        received += 1
                        fresh = self.fork(slot)  # the runs left go on in a new child
                        buffers[fresh] = bytearray()
                        selector.register(fresh, EVENT_READ)
        if received < len(self.items):  # pragma: no cover - every child ended well, yet a run is missing
            raise WorkerDied(f"the worker processes handed back {received} of {len(self.items)} runs")

    def stop(self) -> None:
        """Close the pipes; terminate and reap the children still running (after an error or an
        interrupt), so none outlives the stage."""
        for fd in (self.task_w, self.task_r):
            if fd >= 0:
                os.close(fd)
        self.task_w = self.task_r = -1
        for fd, (pid, slot) in self.children.items():
            os.close(fd)
            if pid > 0:
                try:
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        self.children = {}
        if self.current is not None:
            self.current.close()


def _die_with(parent: int) -> None:  # pragma: no cover - in the child
    """Have the kernel end this child when the main process ends (killed by a pipeline's
    timeout, say: ``PR_SET_PDEATHSIG``), instead of running on with its run until it next
    writes a result to nobody."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the main process ended before the request was in place
        os._exit(1)


def _child(
    work: Callable[[Any], Any],
    items: Sequence[Any],
    task_r: int,
    result_w: int,
    current: Any,
    slot: int,
    started: Callable[[], None] | None,
    parent: int,
    not_ours: list[int],
) -> None:  # pragma: no cover - runs in the forked process, which it ends: it never returns
    code = 0
    try:
        _die_with(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the main process reports it and stops us
        for fd in not_ours:  # the main process's ends, and the other children's pipes
            os.close(fd)
        if started is not None:
            started()
        while True:
            raw = os.read(task_r, _INDEX.size)
            if len(raw) < _INDEX.size:
                break  # the task pipe is closed and empty: nothing left
            (index,) = _INDEX.unpack(raw)
            _INDEX.pack_into(current, _INDEX.size * slot, index)
            try:
                payload = pickle.dumps((True, work(items[index])), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - handed to the main process, which raises it
                _send(result_w, index, _pickled_error(exc))
                break
            _send(result_w, index, payload)
    except BaseException:  # noqa: BLE001 - a broken pipe (the main process is gone): just end
        code = 1
    finally:
        os._exit(code)


def _pickled_error(exc: BaseException) -> bytes:  # pragma: no cover - in the child
    import traceback

    remote = "".join(traceback.format_exception(exc))
    try:
        return pickle.dumps((False, (exc, remote)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled goes back as text
        return pickle.dumps((False, (RuntimeError(f"{type(exc).__name__}: {exc}"), remote)))


def _send(fd: int, index: int, payload: bytes) -> None:  # pragma: no cover - in the child
    view = memoryview(_FRAME.pack(len(payload), index) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _frames(buffer: bytearray, done: Callable[[int, Any], None]) -> int:
    """Hand every complete frame at the start of ``buffer`` to ``done``, cut them off, and
    return how many; a child's exception is raised, its traceback added as a note."""
    count = 0
    start = 0
    try:
        while len(buffer) - start >= _FRAME.size:
            length, index = _FRAME.unpack_from(buffer, start)
            end = start + _FRAME.size + length
            if len(buffer) < end:
                break
            ok, value = pickle.loads(buffer[start + _FRAME.size : end])
            start = end
            if not ok:
                exc, remote = value
                exc.add_note(f"in a worker process:\n{remote}")
                raise exc
            done(index, value)
            count += 1
    finally:
        del buffer[:start]
    return count


def _reap(pid: int) -> int:
    """Wait for child ``pid``: its exit code, or minus the signal that ended it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _death(status: int, index: int, items: Sequence[Any]) -> WorkerDied:
    """The error for a child that ended (``status``: exit code, or minus a signal) while it
    had run ``index``."""
    from cycler_cli.batch import run_source

    what = None
    if index >= 0:
        try:
            what = run_source(items[index])
        except Exception:  # noqa: BLE001 - items that are not runs (sniffing chunks, tests)
            what = f"item {index}"
    if status < 0:
        try:
            how = f"killed by {signal.Signals(-status).name}"
        except ValueError:
            how = f"killed by signal {-status}"
    else:
        how = f"ended with exit code {status}"
    hint = "rerun with --jobs 1 to see the error"
    if status == -signal.SIGKILL:
        hint = "if the system ran out of memory, run fewer --jobs at once; else " + hint
    where = "working on this run" if what else "between two runs"
    return WorkerDied(f"the worker process {where} was {how}", path=what, hint=hint)
