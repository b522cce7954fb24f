"""The console script leaves without the interpreter's teardown (cycler_cli.entry._leave): the
exit codes, the flushed output, the ``atexit`` handlers and ``weakref.finalize`` callbacks are
what a normal exit gives, and a thread still running is waited for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent


def _cycler(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cycler_cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120, **kwargs)


def test_exit_codes_and_every_byte_of_output_through_a_pipe(cli, tmp_path: Path) -> None:
    sample = SAMPLES / "li-lzp-li_80C_40uA.mpr"
    done = _cycler("cycles", str(sample), "--format", "csv")
    assert done.returncode == 0
    assert done.stdout == cli("cycles", sample, "--format", "csv").stdout  # all of it, flushed
    done = _cycler("check", str(sample), "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["files"][0]["status"] == "pass"
    missing = _cycler("check", str(tmp_path / "nothing.mpr"), "--format", "json")
    assert missing.returncode == 3 and "no such file" in missing.stderr
    assert _cycler("check", "--no-such-option").returncode == 2
    assert _cycler("--version").stdout.startswith("cycler ")


_PROBE = """
import atexit, sys, threading, time, weakref
from pathlib import Path
out = Path(sys.argv[1])

class Thing:
    pass

thing = Thing()
weakref.finalize(thing, lambda: out.joinpath("finalize").write_text("ran"))
atexit.register(lambda: out.joinpath("atexit").write_text("ran"))
if sys.argv[2] == "thread":
    def late():
        time.sleep(0.3)
        out.joinpath("thread").write_text("ran")
    threading.Thread(target=late).start()
from cycler_cli.entry import _leave
print("report", end="")
_leave(int(sys.argv[3]))
out.joinpath("returned").write_text("yes")  # only when _leave hands the exit back
sys.exit(int(sys.argv[3]))
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
def test_handlers_run_and_a_running_thread_is_waited_for(tmp_path: Path, thread: str) -> None:
    script = tmp_path / "probe.py"
    script.write_text(_PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(tmp_path), thread, "3"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 3 and done.stdout == "report"
    assert (tmp_path / "atexit").exists() and (tmp_path / "finalize").exists()
    if thread == "thread":
        assert (tmp_path / "returned").exists() and (tmp_path / "thread").exists()
    else:
        assert not (tmp_path / "returned").exists()  # it left there and then
