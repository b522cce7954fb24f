"""The batch's shortcuts give the results of the long way: readers found by discovery are not
sniffed again, the stages fork warm workers of their own (or, where a pool is used, share
it), and ``check``'s JSON joined from per-run texts is the text of ``json.dumps(report.to_dict())``."""

from __future__ import annotations

import functools
import json
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from cycler_cli import batch
from cycler_cli.batch import (
    RunFiles,
    Workers,
    check_run,
    claim_files,
    claim_files_parallel,
    cycles_run,
    discover,
    plan,
    run_items,
)
from cycler_cli.config import CheckConfig
from tests.conftest import SAMPLES


def test_discovery_names_the_reader_of_each_found_file(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", tmp_path / "a.mpr")
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.csv", tmp_path / "b.csv")
    (tmp_path / "README.md").write_text("hello\n", encoding="utf-8")
    assert claim_files([tmp_path / "a.mpr", tmp_path / "README.md"]) == ["biologic-mpr", None]
    found = discover([tmp_path])
    assert found.readers == {str(tmp_path / "a.mpr"): "biologic-mpr", str(tmp_path / "b.csv"): "generic-csv"}
    # a file named on its own is read (and sniffed) by the reader, as before
    assert discover([tmp_path / "a.mpr"]).readers == {}
    runs = plan(list(found.files), readers=found.readers)
    assert runs == [(tmp_path / "a.mpr",), (tmp_path / "b.csv",)]
    assert [run.readers for run in runs] == [("biologic-mpr",), ("generic-csv",)]
    assert pickle.loads(pickle.dumps(runs[1])).readers == ("generic-csv",)
    assert isinstance(pickle.loads(pickle.dumps(runs[1])), RunFiles)


def test_runs_read_with_discovered_readers_give_the_same_reports(tmp_path: Path) -> None:
    for name in ("li-lzp-li_80C_40uA.mpr", "li-lzp-li_80C_40uA.csv", "li-lzp-ltp_80C.mpr"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    found = discover([tmp_path])
    config = CheckConfig()
    for sniffed, known in zip(plan(list(found.files)), plan(list(found.files), readers=found.readers)):
        assert not hasattr(sniffed, "readers") and known.readers[0] is not None
        assert check_run(known, config).value.to_dict() == check_run(sniffed, config).value.to_dict()
        assert cycles_run(known, {}).value.to_dict() == cycles_run(sniffed, {}).value.to_dict()
    # an explicit --reader or --columns wins over the discovered reader
    csv_run = RunFiles([tmp_path / "li-lzp-li_80C_40uA.csv"], ["generic-csv"])
    forced = check_run(csv_run, config, reader="biologic-mpr")
    assert forced.value.status == "error" and "not a BioLogic .mpr file" in forced.error


def test_check_run_encodes_its_report_when_asked(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", tmp_path / "a.mpr")
    (tmp_path / "bad.mpr").write_bytes(b"not an mpr file at all")
    for path in (tmp_path / "a.mpr", tmp_path / "bad.mpr"):
        outcome = check_run((path,), CheckConfig(), encode=True)
        assert json.loads(outcome.text) == outcome.value.to_dict()
        assert check_run((path,), CheckConfig()).text is None


def test_check_run_text_only_sends_the_text_and_a_report_without_its_analysis(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", tmp_path / "a.mpr")
    (tmp_path / "bad.mpr").write_bytes(b"not an mpr file at all")
    for path in (tmp_path / "a.mpr", tmp_path / "bad.mpr"):
        full = check_run((path,), CheckConfig())
        light = check_run((path,), CheckConfig(), text_only=True)
        assert json.loads(light.text) == full.value.to_dict()
        assert light.value.analysis is None
        assert (light.value.status, light.value.verdicts, light.value.error) == (full.value.status, full.value.verdicts, full.value.error)
        assert light.exit_code == full.exit_code
    assert check_run((tmp_path / "a.mpr",), CheckConfig()).value.analysis  # the full report keeps it


_PRELOAD_PROBE = """
import sys
from cycler_cli import batch

def loaded(names):
    return [name for name in names if name in sys.modules]

names = ["numpy", "numpy.random", "numpy.ma", "galvani.BioLogic", "cycler_cli.io.biologic_mpr",
         "cycler_cli.io.generic_csv", "cycler_cli.analysis.symmetric", "cycler_cli.analysis.full",
         "cycler_cli.verdicts.check"]
batch.FORK_STAGES = sys.argv[1] == "fork"
assert batch._mp_context().get_start_method() == "fork"
assert loaded(names) == [], loaded(names)  # the main process has not imported them yet
got = []
with batch.Workers(2) as workers:
    assert workers.forks() == batch.FORK_STAGES
    batch._run_processes(loaded, [names, names], 2, lambda i, value: got.append(value), workers)
assert got[0] == got[1]
print(",".join(got[0]))
"""


@pytest.mark.parametrize("how", ["fork", "pool"])
def test_forked_workers_start_with_the_modules_their_runs_need(tmp_path: Path, how: str) -> None:
    """Forked workers (a stage's own, or a pool's) inherit numpy, the readers, galvani and the
    analysis from the main process (imported just before it forks) instead of importing them
    cold each."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only (spawned elsewhere)")
    script = tmp_path / "probe.py"
    script.write_text(_PRELOAD_PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), how], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().split(",") == [
        "numpy", "numpy.random", "numpy.ma", "galvani.BioLogic", "cycler_cli.io.biologic_mpr",
        "cycler_cli.io.generic_csv", "cycler_cli.analysis.symmetric", "cycler_cli.analysis.full",
        "cycler_cli.verdicts.check",
    ]


def test_one_pool_serves_sniffing_and_runs(runs_dir: Path, monkeypatch) -> None:
    """Where workers come from a pool (spawned platforms; here with FORK_STAGES off), the
    sniffing and the runs use the same processes."""
    monkeypatch.setattr(batch, "FORK_STAGES", False)
    found = discover([runs_dir])
    config = CheckConfig()
    with Workers(2) as workers:
        assert not workers.forks()
        shared = discover([runs_dir], claim=functools.partial(claim_files_parallel, jobs=2, workers=workers))
        pool = workers.pool()
        runs = plan(list(shared.files), readers=shared.readers)
        two = run_items(functools.partial(check_run, config=config), runs, jobs=2, workers=workers)
        assert workers.pool() is pool  # the same processes, still running
    assert workers._pool is None  # stopped at the end of the block
    assert shared == found and shared.readers == found.readers
    one = run_items(functools.partial(check_run, config=config), plan(list(found.files)), jobs=1)
    assert [o.value.to_dict() for o in two] == [o.value.to_dict() for o in one]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stages fork their workers on Linux only")
def test_each_stage_forks_its_own_workers_and_no_pool(runs_dir: Path) -> None:
    found = discover([runs_dir])
    config = CheckConfig()
    with Workers(2) as workers:
        assert workers.forks()
        shared = discover([runs_dir], claim=functools.partial(claim_files_parallel, jobs=2, workers=workers))
        runs = plan(list(shared.files), readers=shared.readers)
        two = run_items(functools.partial(check_run, config=config, encode=True), runs, jobs=2, workers=workers)
        assert workers._pool is None
    assert shared == found and shared.readers == found.readers
    one = run_items(functools.partial(check_run, config=config, encode=True), runs, jobs=1)
    assert [o.text for o in two] == [o.text for o in one]


def test_check_json_joined_from_run_texts_is_the_report_json(cli, tmp_path: Path, monkeypatch) -> None:
    """Pass, fail and error runs, and a non-ASCII name: the CLI's JSON (joined from texts
    encoded per run) is exactly ``json.dumps(CheckReport.to_dict())``, on stdout and with -o."""
    from cycler_cli.cli_check import CheckFormat, _render, _render_json
    from cycler_cli.verdicts import CheckReport

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", folder / "a.mpr")
    shutil.copy(SAMPLES / "li-lzp-ltp_80C.mpr", folder / "b-µ.mpr")
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.csv", folder / "c.csv")
    (folder / "d.mpr").write_bytes(b"not an mpr file at all")
    files = sorted(folder.iterdir())
    config = CheckConfig()
    outcomes = [check_run((p,), config, encode=True) for p in files]
    report = CheckReport(files=tuple(o.value for o in outcomes), config=config.to_dict())
    assert {f.status for f in report.files} >= {"error"} and len({f.status for f in report.files}) >= 2
    expected = _render(report.to_dict(), CheckFormat.json)
    assert _render_json(report, [o.text for o in outcomes]) == expected
    empty = CheckReport(files=(), config=config.to_dict())
    assert _render_json(empty, []) == _render(empty.to_dict(), CheckFormat.json)

    args = ["check", *files, "-f", "json", "-q", "--jobs", "1"]
    stdout = cli(*args).stdout
    assert cli(*args, "-o", tmp_path / "report.json").exit_code == 3
    assert (tmp_path / "report.json").read_text(encoding="utf-8") == stdout
    assert [Path(f["source"]).name for f in json.loads(stdout)["files"]] == [p.name for p in files]


def _square(x: int) -> int:
    return x * x


def test_runs_per_task_is_one_for_short_batches_and_at_most_four() -> None:
    from cycler_cli.batch import MAX_RUNS_PER_TASK, runs_per_task

    assert runs_per_task(1, 2) == 1 and runs_per_task(63, 2) == 1  # under 16 tasks a worker of 2
    assert runs_per_task(64, 2) == 2 and runs_per_task(200, 2) == 4 == MAX_RUNS_PER_TASK
    assert runs_per_task(10**5, 8) == MAX_RUNS_PER_TASK and runs_per_task(200, 8) == 1


def test_several_runs_a_task_report_each_run_once_under_its_own_index(monkeypatch) -> None:
    """A pool's tasks, groups of 3 over 10 items (the last group short): every index reported
    once, with its own item's result, as with one item a task."""
    from cycler_cli.batch import _run_processes

    monkeypatch.setattr(batch, "FORK_STAGES", False)
    items = list(range(10))
    for per_task in (1, 3):
        got: dict[int, int] = {}

        def done(index: int, value: int) -> None:
            assert index not in got
            got[index] = value

        with Workers(2) as workers:
            _run_processes(_square, items, 2, done, workers, per_task=per_task)
        assert got == {i: i * i for i in items}
