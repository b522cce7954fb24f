"""Run one child process and measure it: wall time and peak resident memory.

Peak memory is the child's own maximum resident set size, so each measurement is of exactly
one process (not the running maximum over all children that ``RUSAGE_CHILDREN`` gives).
It is taken by GNU time (``/usr/bin/time -f %M``) where that exists: on Linux a child's
``ru_maxrss`` starts from the RSS of the process that forked it (the high-water mark of the
address space it replaced at ``exec``), so measured straight from this harness every child
would seem to use at least the harness's own ~50 MB. GNU time is a small process, so the
inherited floor is its ~2 MB. Without GNU time, ``os.wait4``'s ``ru_maxrss`` is used and
:data:`RSS_METHOD` says so.

Wall time runs from just before ``Popen`` to the return of ``wait4`` (GNU time adds about a
millisecond, the same for every tool). A child that outlives ``timeout_s`` is killed with its
process group (only the processes this harness started) and reported as timed out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def _gnu_time() -> str | None:
    path = "/usr/bin/time"
    if not os.access(path, os.X_OK):
        return None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "GNU" in (done.stdout + done.stderr) else None


GNU_TIME = _gnu_time()
RSS_METHOD = "GNU time %M" if GNU_TIME else "os.wait4 ru_maxrss (includes the harness's RSS at spawn)"


@dataclass
class Sample:
    """One run of one child."""

    argv: list[str]
    wall_s: float
    maxrss_mb: float
    cpu_s: float  # user + system CPU seconds of the child (and its own children)
    returncode: int
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    result: dict = field(default_factory=dict)  # the JSON line a task printed, if any

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def error_line(self) -> str:
        """The last meaningful line of stderr: why the child failed, in one line."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        # strip rich/typer box drawing so a boxed usage error reads as its message
        lines = [ln.strip().strip("│╭╮╰╯─┃━ ").strip() for ln in self.stderr.splitlines()]
        lines = [ln for ln in lines if any(ch.isalpha() for ch in ln)]
        return lines[-1][:200] if lines else f"exit code {self.returncode}"


def run_child(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 600.0,
    stdout_to_null: bool = False,
    cwd: str | Path | None = None,
) -> Sample:
    """Run ``argv`` once and measure it. stdout goes to a temporary file (or /dev/null), never
    a pipe, so a chatty child cannot block on a full pipe while we wait for it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        sink = subprocess.DEVNULL if stdout_to_null else out
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else list(argv)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            full, stdout=sink, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this Popen started, nothing else
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall_s = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        maxrss_kb = float(usage.ru_maxrss)
        if GNU_TIME:
            # GNU time writes "Command exited with non-zero status N" before %M on failures
            numbers = [ln.strip() for ln in rss.read().splitlines() if ln.strip().isdigit()]
            maxrss_kb = float(numbers[-1]) if numbers else float("nan")
    sample = Sample(
        argv=list(argv),
        wall_s=wall_s,
        maxrss_mb=maxrss_kb / 1024.0,
        cpu_s=usage.ru_utime + usage.ru_stime,
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        stdout=stdout,
        stderr=stderr,
    )
    sample.result = parse_result(stdout)
    return sample


def parse_result(stdout: str) -> dict:
    """The last line of ``stdout`` that is a JSON object, else ``{}``."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def best_of(samples: list[Sample]) -> Sample | None:
    """The fastest successful sample (its peak memory is kept with it), or ``None``."""
    good = [s for s in samples if s.ok]
    return min(good, key=lambda s: s.wall_s) if good else None


def child_env(unset_openblas: bool = True) -> dict[str, str]:
    """The environment for children: this one, less OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
    (both together, see the workplace note: they slow a current numpy), and with Python's
    output unbuffered so a killed child still leaves its last lines. ``PYTHONDONTWRITEBYTECODE``
    is dropped: a user's ``pip install`` leaves compiled ``.pyc`` files for every module, while
    this development checkout (an editable install) would otherwise recompile cycler's ~60
    modules in every child (0.15 s of CPU a process, measured on this machine), a cost no user
    pays. The first child writes the ``__pycache__`` folders (git-ignored)."""
    env = dict(os.environ)
    if unset_openblas:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
