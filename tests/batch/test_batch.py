"""cycler_cli.batch: discovery, run grouping, and executors that give identical results."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from cycler_cli.batch import (
    SKIP_HIDDEN,
    SKIP_UNCLAIMED,
    BatchStats,
    check_run,
    claim_files_parallel,
    discover,
    plan,
    run_items,
    run_source,
)
from cycler_cli.config import CheckConfig
from cycler_cli.errors import ConfigError, EXIT_INPUT
from tests.conftest import SAMPLES


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", tmp_path / "a.mpr")
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.csv", tmp_path / "b.csv")
    (tmp_path / "README.md").write_text("hello\n", encoding="utf-8")
    (tmp_path / ".hidden.mpr").write_bytes((SAMPLES / "li-lzp-ltp_80C.mpr").read_bytes())
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copy(SAMPLES / "li-li_short.mpt", sub / "c.mpt")
    (sub / "junk.bin").write_bytes(b"\x00\x01garbage")
    return tmp_path


def test_discover_folder_skips_unclaimed_and_hidden(tree: Path) -> None:
    found = discover([tree])
    assert [p.name for p in found.files] == ["a.mpr", "b.csv"]
    assert dict(found.skipped) == {str(tree / ".hidden.mpr"): SKIP_HIDDEN, str(tree / "README.md"): SKIP_UNCLAIMED}
    assert found.skipped_counts() == {SKIP_HIDDEN: 1, SKIP_UNCLAIMED: 1}


def test_discover_recursive_and_globs(tree: Path) -> None:
    found = discover([tree], recursive=True)
    assert [p.name for p in found.files] == ["a.mpr", "b.csv", "c.mpt"]
    assert found.skipped_counts() == {SKIP_HIDDEN: 1, SKIP_UNCLAIMED: 2}
    assert [p.name for p in discover([str(tree / "*.mpr")]).files] == ["a.mpr"]
    assert [p.name for p in discover([str(tree / "**" / "*.mp?")], recursive=True).files] == ["a.mpr", "c.mpt"]
    # without --recursive, ** matches one level only (glob's rule)
    assert [p.name for p in discover([str(tree / "**" / "*.mpt")]).files] == ["c.mpt"]


def test_discover_keeps_named_files_and_missing_paths(tree: Path) -> None:
    """A file named on its own is never filtered (it is reported if unreadable), nor is a typo."""
    found = discover([tree / "README.md", tree / "nope.mpr", str(tree / "nothing*.mpr"), tree / "a.mpr", tree / "a.mpr"])
    assert [p.name for p in found.files] == ["README.md", "nope.mpr", "nothing*.mpr", "a.mpr"]
    assert found.skipped == ()


def test_plan_links_and_joins() -> None:
    files = [Path("x_02_GCPL_C01.mpr"), Path("solo.mpr"), Path("x_01_OCV_C01.mpr"), Path("x_01_OCV_C02.mpr")]
    assert plan(files) == [(files[2], files[0]), (files[1],), (files[3],)]
    assert plan(files, link=False) == [(f,) for f in files]
    assert plan(files, join=True) == [tuple(files)]
    assert run_source((Path("a"), Path("b"))) == "a + b"


def test_check_run_matches_check_file_and_maps_errors(tree: Path) -> None:
    from cycler_cli.verdicts import check_file

    config = CheckConfig()
    for path in (tree / "a.mpr", tree / "README.md", tree / "missing.mpr"):
        outcome = check_run((path,), config)
        assert outcome.value.to_dict() == check_file(path, config).to_dict()
    bad = check_run((tree / "README.md",), config)
    assert bad.exit_code == EXIT_INPUT and bad.error and bad.value.status == "error"
    good = check_run((tree / "a.mpr",), config)
    from cycler_cli.io import read

    assert good.rows == len(read(tree / "a.mpr")) > 0 and good.error is None


def test_config_error_stops_the_batch(tree: Path) -> None:
    work = functools.partial(check_run, config=CheckConfig(), reader="no-such-reader")
    with pytest.raises(ConfigError):
        run_items(work, [(tree / "a.mpr",), (tree / "b.csv",)], jobs=1)


def test_run_items_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        run_items(len, [], jobs=0)
    with pytest.raises(ConfigError):
        run_items(len, [], executor="threads")
    with pytest.raises(ConfigError):
        run_items(len, [], scheduler="tcp://x:8786")


def test_jobs_2_equals_jobs_1_on_200_runs(runs_dir: Path) -> None:
    """Acceptance: 200 generated runs, the same reports with 2 processes as with 1, in the same
    order, and the same as the one-by-one library path (check_files)."""
    from cycler_cli.verdicts import check_files

    found = discover([runs_dir])
    assert len(found.files) == 200 and found.skipped_counts() == {SKIP_UNCLAIMED: 2}
    assert discover([runs_dir], claim=functools.partial(claim_files_parallel, jobs=2)) == found
    runs = plan(list(found.files))
    config = CheckConfig()
    work = functools.partial(check_run, config=config)
    seen: list[int] = []
    stats = BatchStats()
    one = run_items(work, runs, jobs=1)
    two = run_items(work, runs, jobs=2, on_result=lambda i, o: seen.append(i), stats=stats)
    assert [o.value.to_dict() for o in two] == [o.value.to_dict() for o in one]
    assert sorted(seen) == list(range(200))
    assert stats.runs == 200 and stats.rows == sum(o.rows for o in one) > 0
    reference = check_files(found.files, config)
    assert [o.value.to_dict() for o in one] == [f.to_dict() for f in reference.files]
    statuses = {o.value.status for o in one}
    assert len(statuses) >= 2  # the generated runs are not all alike


def test_dask_local_cluster_gives_the_same_reports(runs_dir: Path) -> None:
    """Acceptance: the Dask path on a LocalCluster with 2 workers gives the local path's reports."""
    pytest.importorskip("distributed", reason="Dask distributed not installed (pip install 'cycler-cli[dask]')")
    runs = plan(list(discover([runs_dir]).files))[:40]
    work = functools.partial(check_run, config=CheckConfig())
    local = run_items(work, runs, jobs=1)
    seen: list[int] = []
    remote = run_items(work, runs, jobs=2, executor="dask", on_result=lambda i, o: seen.append(i))
    assert [o.value.to_dict() for o in remote] == [o.value.to_dict() for o in local]
    assert sorted(seen) == list(range(len(runs)))


def _second_thread_allowed(item) -> bool:
    from cycler_cli import threads

    return threads.ENABLED


@pytest.mark.parametrize("executor", ["process", "pool", "dask"])
def test_workers_read_and_analyse_on_one_thread(executor: str, monkeypatch) -> None:
    """Each worker of --jobs N (forked for the stage, or a pool's) and of a Dask cluster turns
    cycler's second thread off: the processes already use the cores (cycler_cli.threads)."""
    from cycler_cli import batch

    if executor == "pool":
        monkeypatch.setattr(batch, "FORK_STAGES", False)
        executor = "process"
    if executor == "dask":
        pytest.importorskip("distributed", reason="Dask distributed not installed (pip install 'cycler-cli[dask]')")
    items = list(range(8))
    assert run_items(_second_thread_allowed, items, jobs=1) == [True] * 8  # this process keeps it
    assert run_items(_second_thread_allowed, items, jobs=2, executor=executor) == [False] * 8


def test_the_default_jobs_run_small_batches_in_process(tmp_path: Path, monkeypatch) -> None:
    """One run, or under SMALL_BATCH_BYTES of files (where stages fork their workers; the
    larger threshold where workers are spawned): in-process; at the threshold: the cores."""
    from cycler_cli import batch

    monkeypatch.setattr(batch, "default_jobs", lambda: 7)
    monkeypatch.setattr(batch, "stages_fork", lambda: True)

    def runs_of(*sizes: int) -> list[tuple[Path]]:
        out = []
        for k, size in enumerate(sizes):
            path = tmp_path / f"r{len(list(tmp_path.iterdir()))}_{k}.mpr"
            with open(path, "wb") as fh:
                fh.truncate(size)  # sparse: the size without the bytes
            out.append((path,))
        return out

    mib = 1024 * 1024
    assert batch.auto_jobs(runs_of(50 * mib)) == 1  # a single run
    small = batch.SMALL_BATCH_BYTES
    assert batch.auto_jobs(runs_of(small // 2, small // 2 - 1)) == 1
    assert batch.auto_jobs(runs_of(small // 2, small // 2)) == 7
    assert batch.auto_jobs(runs_of(small // 2, small // 2) + [(tmp_path / "missing.mpr",)]) == 7
    monkeypatch.setattr(batch, "stages_fork", lambda: False)
    assert batch.SMALL_BATCH_BYTES < batch.SMALL_BATCH_BYTES_SPAWNED
    assert batch.auto_jobs(runs_of(small // 2, small // 2)) == 1
    spawned = batch.SMALL_BATCH_BYTES_SPAWNED
    assert batch.auto_jobs(runs_of(spawned // 2, spawned // 2)) == 7


def test_deferrable_files_are_those_whose_run_stands_alone(tmp_path: Path) -> None:
    """Sniffing a deferrable file later cannot change another run: not a file found twice, not
    one of a linked group of two or more (unless --no-link), never a file named on its own."""
    from cycler_cli.batch import deferrable, list_entries

    for name in ("a.mpr", "x_01_OCV_C01.mpr", "x_02_GCPL_C01.mpr", "y_02_GCPL_C01.mpr", "x_01_OCV_C02.mpr", ".h.mpr"):
        (tmp_path / name).write_bytes(b"")
    entries = list_entries([tmp_path])
    assert sorted(p.name for p in deferrable(entries)) == ["a.mpr", "x_01_OCV_C02.mpr", "y_02_GCPL_C01.mpr"]
    assert sorted(p.name for p in deferrable(entries, link=False)) == [
        "a.mpr", "x_01_OCV_C01.mpr", "x_01_OCV_C02.mpr", "x_02_GCPL_C01.mpr", "y_02_GCPL_C01.mpr",
    ]
    twice = list_entries([tmp_path, tmp_path / "a.mpr"])  # a.mpr from the folder and named on its own
    assert "a.mpr" not in {p.name for p in deferrable(twice)}
    assert deferrable(list_entries([tmp_path / "a.mpr"])) == []  # named: read whatever it is


def test_sniff_then_claims_a_deferred_run_first(tree: Path) -> None:
    from cycler_cli.batch import DEFERRED, RunFiles, Unclaimed, sniff_then

    work = functools.partial(check_run, config=CheckConfig())
    deferred = sniff_then(work, RunFiles([tree / "a.mpr"], [DEFERRED]))
    known = work(RunFiles([tree / "a.mpr"], ["biologic-mpr"]))
    assert deferred.value.to_dict() == known.value.to_dict() and deferred.error is None
    assert sniff_then(work, RunFiles([tree / "README.md"], [DEFERRED])) == Unclaimed(str(tree / "README.md"))
    named = sniff_then(work, (tree / "README.md",))  # not deferred: read as named, an error report
    assert named.value.status == "error" and named.exit_code == EXIT_INPUT
