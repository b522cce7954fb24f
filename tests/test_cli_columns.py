"""``--columns``: a user's own CSV headers mapped on the command line (inspect, cycles, check,
summary, compare, plot)."""

from __future__ import annotations

import json

import numpy as np


def _write_lab_csv(path):
    # two 1 h half-cycles at +-1 mA, current in mA and time in minutes, headers of a lab's own logger
    t_min = np.arange(0, 121, 1.0)
    i_ma = np.where(t_min < 60, 1.0, -1.0)
    v = np.where(t_min < 60, 3.5, 3.3)
    lines = ["Minutes;Volts;Milliamps"] + [f"{a:.1f};{b:.3f};{c:.3f}" for a, b, c in zip(t_min, v, i_ma)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


MAP = "time_s=Minutes:min,voltage_v=Volts,current_a=Milliamps:mA"


def test_unmapped_csv_exits_3_naming_the_columns(cli, tmp_path):
    f = _write_lab_csv(tmp_path / "lab.csv")
    result = cli("inspect", f)
    assert result.exit_code == 3
    assert "Minutes" in result.stderr and "--columns" in result.stderr


def test_columns_map_reads_units_from_the_map(cli, tmp_path):
    f = _write_lab_csv(tmp_path / "lab.csv")
    result = cli("inspect", "--format", "json", "--columns", MAP, f)
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["reader"] == "generic-csv" and info["rows"] == 121
    assert info["duration_s"] == 120 * 60.0


def test_columns_map_drives_cycles(cli, tmp_path):
    f = _write_lab_csv(tmp_path / "lab.csv")
    result = cli("cycles", "--format", "json", "--cell", "full", "--columns", MAP, f)
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)["cycles"][0]
    # 1 mA for the 59 one-minute intervals between on-current points of each direction: 59/60 mAh
    assert abs(row["charge_mah"] - 59 / 60) < 1e-9 and abs(row["discharge_mah"] - 60 / 60) < 1e-9


def test_bad_map_is_a_usage_error(cli, tmp_path):
    f = _write_lab_csv(tmp_path / "lab.csv")
    result = cli("inspect", "--columns", "time=Minutes", f)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_columns_with_another_reader_is_a_usage_error(cli, tmp_path):
    f = _write_lab_csv(tmp_path / "lab.csv")
    result = cli("check", "--reader", "arbin-csv", "--columns", MAP, f)
    assert result.exit_code == 2


def test_columns_map_drives_summary_and_compare(cli, tmp_path):
    a = _write_lab_csv(tmp_path / "a.csv")
    b = _write_lab_csv(tmp_path / "b.csv")
    unmapped = cli("summary", "--format", "json", "--jobs", "1", "--cell", "full", tmp_path)
    assert {r["status"] for r in json.loads(unmapped.stdout)["runs"]} == {"error"}
    summary = cli("summary", "--format", "json", "--jobs", "1", "--cell", "full", "--columns", MAP, tmp_path)
    assert summary.exit_code == 0, summary.stderr
    runs = json.loads(summary.stdout)["runs"]
    assert len(runs) == 2 and all(r["cell_type"] == "full" and r["cycles"] == 1 for r in runs), runs
    compare = cli("compare", "--format", "json", "--cell", "full", "--metric", "discharge_mah", "--columns", MAP, a, b)
    assert compare.exit_code == 0, compare.stderr
    (row,) = json.loads(compare.stdout)["rows"]
    # 1 mA for 60 one-minute intervals: 1 mAh in both runs, no difference
    assert [round(v, 9) for v in row["discharge_mah"]["values"]] == [1.0, 1.0] and row["discharge_mah"]["diff"][1] == 0.0, row
    assert cli("compare", "--cell", "full", a, b).exit_code == 3
