"""cycler_cli.summary and cycler_cli.compare, as library and as commands."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from cycler_cli.compare import compare_reports, comparison_csv, run_labels
from cycler_cli.errors import ConfigError
from cycler_cli.summary import COLUMNS, sort_rows, summary_row
from tests.conftest import SAMPLES


def _report(source: str, cell_type: str, rows: list[dict], summary: dict) -> dict:
    return {"source": source, "cell_type": cell_type, "cycles": rows, "summary": summary}


def test_compare_by_hand() -> None:
    a = _report("x/a.mpr", "symmetric", [{"half_cycle": 1, "overpotential_v": 0.40}, {"half_cycle": 2, "overpotential_v": 0.42}],
                {"overpotential_drift_pct_per_100h": 3.0, "overpotential_ref_v": 0.40})
    b = _report("y/b.mpr", "symmetric", [{"half_cycle": 1, "overpotential_v": 0.18}, {"half_cycle": 3, "overpotential_v": 0.30}],
                {"overpotential_drift_pct_per_100h": -66.0, "overpotential_ref_v": 0.18})
    out = compare_reports([a, b], metrics=["overpotential_v"], summary_metrics=["overpotential_drift_pct_per_100h", "overpotential_ref_v"])
    assert out["index"] == "half_cycle" and [r["label"] for r in out["runs"]] == ["a", "b"]
    rows = {r["half_cycle"]: r["overpotential_v"] for r in out["rows"]}
    assert rows[1]["values"] == [0.40, 0.18] and rows[1]["diff"][1] == pytest.approx(0.18 - 0.40) and rows[1]["best"] == "b"
    assert rows[2] == {"values": [0.42, None], "diff": [0.0, None], "best": None}  # one run lacks it
    assert rows[3]["best"] is None
    assert out["better_in_rows"] == {"overpotential_v": {"a": 0, "b": 1}}
    drift, ref = out["summary"]
    assert drift["best"] == "a" and drift["better"] == "abs"  # |3| < |-66|
    assert ref["best"] == "b" and ref["diff"] == [0.0, pytest.approx(-0.22)]
    lines = list(csv.reader(io.StringIO(comparison_csv(out))))
    assert lines[0] == ["half_cycle", "overpotential_v:a", "overpotential_v:b", "overpotential_v:b-a", "overpotential_v:best"]
    assert lines[1][:3] == ["1", "0.4", "0.18"] and lines[1][4] == "b"


def test_compare_refuses_bad_input() -> None:
    a = _report("a", "symmetric", [{"half_cycle": 1, "overpotential_v": 0.4}], {})
    f = _report("f", "full", [{"cycle": 1, "discharge_mah_g": 100.0}], {})
    with pytest.raises(ConfigError):
        compare_reports([a])
    with pytest.raises(ConfigError, match="different cell types"):
        compare_reports([a, f])
    with pytest.raises(ConfigError, match="no such per-cycle metric"):
        compare_reports([a, a], metrics=["nope_v"])
    assert run_labels(["d1/run.mpr", "d2/run.mpr"]) == ["d1/run.mpr", "d2/run.mpr"]


def test_compare_command_on_the_seed_pair(cli) -> None:
    """The seed's comparison: Li | LZP | Li against Li | Au | LZP | Au | Li (sample_runs/README.md:
    ≈ 0.40 V flat vs 0.18 V rising +67 % per 100 h)."""
    plain, gold = SAMPLES / "li-lzp-li_80C_40uA.mpr", SAMPLES / "li-au-lzp-au-li_80C_40uA.mpr"
    result = cli("compare", plain, gold, "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    summary = {s["metric"]: s for s in out["summary"]}
    assert summary["overpotential_ref_v"]["best"] == "li-au-lzp-au-li_80C_40uA"
    assert summary["overpotential_drift_pct_per_100h"]["best"] == "li-lzp-li_80C_40uA"
    ref = summary["overpotential_ref_v"]["values"]
    assert ref[0] == pytest.approx(0.40, abs=0.01) and ref[1] == pytest.approx(0.18, abs=0.01)
    assert out["better_in_rows"]["overpotential_v"]["li-au-lzp-au-li_80C_40uA"] == 47
    table = cli("compare", plain, gold)
    assert table.exit_code == 0 and "overpotential_v per half-cycle" in table.stdout
    assert cli("compare", plain).exit_code == 2
    assert cli("compare", plain, SAMPLES / "li-lzp-ltp_80C.mpr").exit_code == 2
    assert cli("compare", plain, SAMPLES / "README.md").exit_code == 3


def test_summary_row_from_a_check_report() -> None:
    from cycler_cli.config import CheckConfig
    from cycler_cli.verdicts import check_file

    report = check_file(SAMPLES / "li-lzp-ltp_50C.mpr", CheckConfig())
    row = summary_row(report)
    assert list(row) == list(COLUMNS)
    summary = report.analysis["summary"]
    assert row["headline"] == "retention_final_pct" and row["headline_value"] == pytest.approx(100 * summary["retention_final"])
    assert row["cycles"] == summary["cycles"] == 10 and row["status"] == "fail"
    assert set(row["failed"].split(",")) == {v.rule for v in report.verdicts if v.status == "fail"}
    sym = summary_row(check_file(SAMPLES / "li-lzp-li_80C_40uA.mpr", CheckConfig()))
    assert sym["headline"] == "overpotential_drift_pct_per_100h" and sym["headline_value"] == pytest.approx(3.0, abs=0.3)
    bad = summary_row(check_file(SAMPLES / "README.md", CheckConfig()))
    assert bad["status"] == "error" and bad["exit_code"] == 3 and bad["headline_value"] is None


def test_sort_rows() -> None:
    rows = [{"source": "b", "headline_value": 2.0}, {"source": "a", "headline_value": None}, {"source": "c", "headline_value": -1.0}]
    assert [r["source"] for r in sort_rows(rows, "headline_value")] == ["c", "b", "a"]
    assert [r["source"] for r in sort_rows(rows, "headline_value", descending=True)] == ["b", "c", "a"]
    assert [r["source"] for r in sort_rows(rows, "source")] == ["a", "b", "c"]
    with pytest.raises(ConfigError):
        sort_rows(rows, "colour")


def test_summary_command(cli, tmp_path: Path) -> None:
    for name in ("li-lzp-li_80C_40uA.mpr", "li-lzp-ltp_80C.mpr", "README.md"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    result = cli("summary", tmp_path, "--format", "json", "--sort", "cell_type", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(Path(r["source"]).name, r["cell_type"], r["status"]) for r in doc["runs"]] == [
        ("li-lzp-ltp_80C.mpr", "full", "fail"),
        ("li-lzp-li_80C_40uA.mpr", "symmetric", "pass"),
    ]
    assert doc["skipped"] == [{"path": str(tmp_path / "README.md"), "reason": "no reader recognises its content"}]
    assert "skipped 1 file(s)" in result.stderr
    quiet = cli("summary", tmp_path, "--format", "csv", "--quiet")
    assert quiet.stderr == ""
    rows = list(csv.DictReader(io.StringIO(quiet.stdout)))
    assert [r["status"] for r in rows] == ["pass", "fail"]
    table = cli("summary", tmp_path)
    assert table.exit_code == 0 and "retention_final_pct" in table.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("summary", empty)
    assert nothing.exit_code == 3 and "no file a reader recognises" in nothing.stderr


def test_progress_is_silent_off_a_terminal_and_with_quiet() -> None:
    from cycler_cli.report.progress import BatchProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    for quiet, stream, drawn in ((False, Tty(), True), (True, Tty(), False), (False, io.StringIO(), False)):
        with BatchProgress(3, quiet=quiet, stream=stream) as bar:
            for _ in range(3):
                bar.advance(100)
        assert bar.enabled is drawn
        assert (stream.getvalue() != "") is drawn
        assert bar.rows == 300 and bar.done == 3
