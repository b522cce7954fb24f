"""`cycler check` and `cycler cycles` on folders, globs, linked and joined files, in parallel."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.batch.test_join import _part, _split_row
from tests.conftest import SAMPLES

PROGRESS_CHARACTERS = ("━", "█", "ETA", "rows/s", "\r", "\x1b[")


@pytest.fixture(autouse=True)
def _no_pyproject_above(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _report_json(result) -> dict:
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_check_jobs_2_gives_the_same_json_as_jobs_1(cli, runs_dir: Path) -> None:
    """Acceptance: 200 generated runs, `check --jobs 2` writes the same JSON as `--jobs 1`."""
    one = cli("check", runs_dir, "--jobs", 1, "-f", "json", "--quiet")
    two = cli("check", runs_dir, "--jobs", 2, "-f", "json", "--quiet")
    assert one.stdout == two.stdout
    data = _report_json(one)
    assert len(data["files"]) == 200
    assert [Path(f["source"]).name for f in data["files"]] == sorted(f"run{i:03d}.{'csv' if i % 5 == 0 else 'mpr'}" for i in range(200))
    assert one.exit_code == two.exit_code == max(f["exit_code"] for f in data["files"])
    assert one.stderr == two.stderr == ""  # --quiet: no skipped-file list, no progress


def test_check_jsonl_streams_one_line_per_file(cli, runs_dir: Path) -> None:
    whole = _report_json(cli("check", runs_dir, "-f", "json", "--jobs", 1, "-q"))
    streamed = cli("check", runs_dir, "-f", "jsonl", "--jobs", 2)
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert len(lines) == 200
    by_source = {f["source"]: f for f in whole["files"]}
    assert {line["source"]: line for line in lines} == by_source
    assert streamed.exit_code == whole["exit_code"]
    assert "skipped 2 file(s): 2 no reader recognises its content" in streamed.stderr
    for mark in PROGRESS_CHARACTERS:
        assert mark not in streamed.stderr  # not a terminal: no bar


def test_check_globs_recursive_and_skips(cli, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "deep").mkdir()
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", tmp_path / "a" / "one.mpr")
    shutil.copy(SAMPLES / "li-lzp-ltp_80C.mpr", tmp_path / "a" / "deep" / "two.mpr")
    (tmp_path / "a" / "notes.md").write_text("x", encoding="utf-8")
    flat = _report_json(cli("check", tmp_path / "a", "-f", "json"))
    assert [Path(f["source"]).name for f in flat["files"]] == ["one.mpr"]
    deep = cli("check", tmp_path / "a", "--recursive", "-f", "json")
    assert [Path(f["source"]).name for f in _report_json(deep)["files"]] == ["two.mpr", "one.mpr"]  # path order: a/deep/ < a/one
    assert "skipped: " in deep.stderr and "notes.md" in deep.stderr
    globbed = _report_json(cli("check", str(tmp_path / "a" / "**" / "*.mpr"), "-r", "-f", "json"))
    assert sorted(Path(f["source"]).name for f in globbed["files"]) == ["one.mpr", "two.mpr"]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("check", empty)
    assert nothing.exit_code == 3 and "no file a reader recognises" in nothing.stderr


def _linked_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    from cycler_cli.io.writers import write_mpr
    from cycler_cli.simulate import simulate_symmetric

    data = simulate_symmetric(duration_s=20 * 3600.0, interval_s=120.0, seed=11)
    cut = _split_row(data)
    whole = write_mpr(data, tmp_path / "whole.mpr")
    runs = tmp_path / "linked"
    runs.mkdir()
    first = write_mpr(_part(data, slice(0, cut), restart_charge=False, time_from_zero=False, start_shift_s=None), runs / "cell_01_GCPL_C01.mpr")
    second = write_mpr(_part(data, slice(cut, None), restart_charge=True, time_from_zero=False, start_shift_s=None), runs / "cell_02_GCPL_C01.mpr")
    return whole, first, second


def test_linked_files_in_a_folder_are_one_run(cli, tmp_path: Path) -> None:
    whole, first, second = _linked_pair(tmp_path)
    linked = _report_json(cli("check", first.parent, "-f", "json"))
    assert [f["source"] for f in linked["files"]] == [f"{first} + {second}"]
    alone = _report_json(cli("check", whole, "-f", "json"))
    assert linked["files"][0]["status"] == alone["files"][0]["status"]
    assert [v["status"] for v in linked["files"][0]["verdicts"]] == [v["status"] for v in alone["files"][0]["verdicts"]]
    unlinked = _report_json(cli("check", first.parent, "--no-link", "-f", "json"))
    assert [f["source"] for f in unlinked["files"]] == [str(first), str(second)]
    table = json.loads(cli("cycles", first.parent, "-f", "json").stdout)
    one = json.loads(cli("cycles", whole, "-f", "json").stdout)
    assert [r["overpotential_v"] for r in table["cycles"]] == pytest.approx([r["overpotential_v"] for r in one["cycles"]])


def test_explicit_join(cli, tmp_path: Path) -> None:
    whole, first, second = _linked_pair(tmp_path)
    a, b = tmp_path / "part-a.mpr", tmp_path / "part-b.mpr"
    shutil.copy(first, a)
    shutil.copy(second, b)
    separate = _report_json(cli("check", a, b, "-f", "json"))
    assert len(separate["files"]) == 2
    joined = _report_json(cli("check", "--join", a, b, "-f", "json"))
    assert [f["source"] for f in joined["files"]] == [f"{a} + {b}"]
    cycles = json.loads(cli("cycles", "--join", a, b, "-f", "json").stdout)
    one = json.loads(cli("cycles", whole, "-f", "json").stdout)
    assert cycles["summary"]["half_cycles"] == one["summary"]["half_cycles"]


def test_cycles_on_several_runs(cli, tmp_path: Path) -> None:
    paths = [SAMPLES / "li-lzp-li_80C_40uA.mpr", SAMPLES / "li-lzp-ltp_80C.mpr"]
    as_list = json.loads(cli("cycles", *paths, "-f", "json").stdout)
    singles = [json.loads(cli("cycles", p, "-f", "json").stdout) for p in paths]
    assert as_list == singles
    lines = [json.loads(x) for x in cli("cycles", *paths, "-f", "jsonl", "--jobs", 2).stdout.splitlines()]
    assert sorted(lines, key=lambda r: r["source"]) == sorted(singles, key=lambda r: r["source"])
    csv_text = cli("cycles", *paths, "-f", "csv").stdout.splitlines()
    assert csv_text[0].startswith("source,")
    assert len(csv_text) == 1 + len(singles[0]["cycles"]) + len(singles[1]["cycles"])
    table = cli("cycles", *paths)
    assert table.exit_code == 0 and all(str(p) in table.stdout for p in paths)
    bad = cli("cycles", paths[0], SAMPLES / "README.md", "-f", "json")
    assert bad.exit_code == 3 and "README.md" in bad.stderr
    assert len(json.loads(bad.stdout)) == 1


def test_batch_option_errors(cli) -> None:
    sample = SAMPLES / "li-lzp-li_80C_40uA.mpr"
    assert cli("check", sample, sample, "--scheduler", "tcp://127.0.0.1:1").exit_code == 2
    assert cli("check", sample, "--jobs", 0).exit_code == 2
    assert cli("check", sample, "-f", "jsonl", "-o", "x.jsonl").exit_code == 2


def test_help_lists_every_option(cli) -> None:
    top = cli("--help").stdout
    for command in ("check", "cycles", "summary", "compare", "plot"):
        assert command in top
    check_help = cli("check", "--help").stdout
    for option in ("--recursive", "--jobs", "--executor", "--scheduler", "--quiet", "--link", "--no-link", "--join", "jsonl"):
        assert option in check_help
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (SAMPLES.parent / "docs").glob("*.md"))
    for option in ("--recursive", "--jobs", "--executor", "--scheduler", "--quiet", "--no-link", "--join", "--format jsonl"):
        assert option in docs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stages fork their workers on Linux only")
def test_a_worker_killed_mid_run_is_that_runs_error_and_the_batch_goes_on(cli, runs_dir: Path, monkeypatch) -> None:
    """As when the system kills a worker for memory: that run's report is an error naming it
    (exit 4), a new worker takes the dead one's place, and every other report is unchanged."""
    import os
    import signal

    from cycler_cli import batch

    one = _report_json(cli("check", runs_dir, "--jobs", 1, "-f", "json", "-q"))
    real = batch.check_run

    def check_run(item, *args, **kwargs):
        if Path(item[0]).name == "run017.mpr" and not isinstance(item, batch.LostRun):  # (the main process makes the lost run's report)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(item, *args, **kwargs)

    monkeypatch.setattr(batch, "check_run", check_run)
    result = cli("check", runs_dir, "--jobs", 2, "-f", "json", "-q")
    assert result.exit_code == 4
    two = json.loads(result.stdout)
    lost = two["files"][17]
    assert Path(lost["source"]).name == "run017.mpr" and lost["status"] == "error" and lost["exit_code"] == 4
    assert "the worker process working on this run was killed by SIGKILL" in lost["error"]
    assert two["files"][:17] + two["files"][18:] == one["files"][:17] + one["files"][18:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"error: {lost['error']}", lines
    assert "run fewer --jobs" in lines[0] and "Traceback" not in result.stderr


def _mixed_folder(tmp_path: Path) -> Path:
    """Runs of their own, a linked pair, a linked name alone, files no reader claims (one with
    a linked name, next to a claimed part of its group), a hidden file and a sub-folder."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    _, first, second = _linked_pair(tmp_path)
    shutil.move(first, folder / first.name)
    shutil.move(second, folder / second.name)
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.mpr", folder / "a.mpr")
    shutil.copy(SAMPLES / "li-lzp-li_80C_40uA.csv", folder / "b.csv")
    shutil.copy(SAMPLES / "li-lzp-ltp_80C.mpr", folder / "lone_02_GCPL_C03.mpr")
    shutil.copy(SAMPLES / "li-li_short.mpt", folder / "c.mpt")
    (folder / "notes.txt").write_text("cell 12 leaked\n", encoding="utf-8")
    (folder / "other_01_OCV_C07.mpr").write_bytes(b"not an mpr file at all")
    shutil.copy(SAMPLES / "li-lzp-ltp_50C.mpr", folder / "other_02_GCPL_C07.mpr")
    (folder / ".hidden.mpr").write_bytes((SAMPLES / "li-lzp-ltp_80C.mpr").read_bytes())
    return folder


@pytest.mark.parametrize("command", ["check", "summary"])
def test_files_sniffed_by_the_workers_give_the_same_reports_and_skips(cli, tmp_path: Path, command: str) -> None:
    """With --jobs 2 the files whose run stands alone are sniffed by the worker that runs them;
    the report, the skipped files and their count are those of --jobs 1 (listed after the runs)."""
    from cycler_cli.batch import deferrable, list_entries

    folder = _mixed_folder(tmp_path)
    later = {p.name for p in deferrable(list_entries([folder]))}
    assert later == {"a.mpr", "b.csv", "c.mpt", "lone_02_GCPL_C03.mpr", "notes.txt"}  # not the groups of two
    one = cli(command, folder, "--jobs", 1, "-f", "json")
    two = cli(command, folder, "--jobs", 2, "-f", "json")
    assert one.exit_code == two.exit_code and one.stdout == two.stdout
    assert sorted(one.stderr.splitlines()) == sorted(two.stderr.splitlines())
    assert "skipped 3 file(s): 1 hidden file, 2 no reader recognises its content" in two.stderr
    if command == "check":
        names = ["a.mpr", "b.csv", "c.mpt", None, "lone_02_GCPL_C03.mpr", "other_02_GCPL_C07.mpr"]
        expected = [str(folder / n) if n else f"{folder / 'cell_01_GCPL_C01.mpr'} + {folder / 'cell_02_GCPL_C01.mpr'}" for n in names]
        assert [f["source"] for f in json.loads(two.stdout)["files"]] == expected
    else:
        skipped = [Path(s["path"]).name for s in json.loads(two.stdout)["skipped"]]
        assert skipped == [".hidden.mpr", "notes.txt", "other_01_OCV_C07.mpr"]


def test_a_folder_no_reader_claims_is_one_error_with_workers_too(cli, tmp_path: Path) -> None:
    folder = tmp_path / "junk"
    folder.mkdir()
    for k in range(5):
        (folder / f"note{k}.txt").write_text("no data\n", encoding="utf-8")
    result = cli("check", folder, "--jobs", 2, "-q")
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [f"error: no file a reader recognises in {folder} (5 skipped) -- check the path, pass --recursive for sub-folders, or see `cycler formats`"]
