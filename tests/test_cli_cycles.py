"""`cycler cycles`: output formats, options, and one test per exit code."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "analysis"))
from analysis_synth import full_run, make_data, symmetric_run  # noqa: E402

import cycler_cli.io  # noqa: E402
from cycler_cli.analysis import analyze  # noqa: E402


@pytest.fixture
def fake_read(monkeypatch):
    """Make ``cycler_cli.io.read`` return a given CyclingData (the CLI imports it at call time)."""

    def use(data):
        calls = []

        def read(path, reader=None, columns=None):
            calls.append((str(path), reader))
            data.meta.source = str(path)
            return data

        monkeypatch.setattr(cycler_cli.io, "read", read)
        return calls

    return use


def test_json_equals_the_report(cli, fake_read, tmp_path):
    data, _ = full_run(n_cycles=4, mass_mg=3.0)
    fake_read(data)
    result = cli("cycles", tmp_path / "run.mpr", "--format", "json", "--area-cm2", "1.5")
    assert result.exit_code == 0, result.stderr
    expected = analyze(data, area_cm2=1.5).to_dict()
    assert json.loads(result.stdout) == expected
    assert result.stderr == ""


def test_options_reach_the_analysis(cli, fake_read, tmp_path):
    calls = fake_read(symmetric_run(n_half=6))
    result = cli(
        "cycles", tmp_path / "li.mpr", "-f", "json", "--cell", "symmetric", "--area-cm2", "0.636",
        "--thickness-mm", "1", "--conductivity-s-cm", "1e-4", "--reader", "biologic-mpr",
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert calls == [(str(tmp_path / "li.mpr"), "biologic-mpr")]
    assert out["cell_type_reason"] == "--cell symmetric"
    assert out["area_cm2"] == 0.636
    assert out["cycles"][0]["asr_ohm_cm2"] == pytest.approx(10_000.0)
    assert out["cycles"][0]["asr_bulk_ohm_cm2"] == pytest.approx(1000.0)


def test_reference_cycle_and_mass_options(cli, fake_read, tmp_path):
    data, exp = full_run(n_cycles=5, fade_per_cycle=0.02)
    fake_read(data)
    result = cli("cycles", tmp_path / "x.mpr", "-f", "json", "--reference-cycle", "2", "--mass-mg", "4")
    out = json.loads(result.stdout)
    assert out["summary"]["reference_cycle"] == 2
    assert out["mass_mg"] == 4.0
    assert out["cycles"][1]["retention"] == pytest.approx(1.0)
    assert out["cycles"][0]["discharge_mah_g"] == pytest.approx(exp["q_dis"][0] / 4e-3, rel=1e-3)


def test_csv_has_one_row_per_cycle(cli, fake_read, tmp_path):
    data, _ = full_run(n_cycles=3)
    fake_read(data)
    result = cli("cycles", tmp_path / "x.mpr", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["cycle"]) for r in rows] == [1, 2, 3]
    report = analyze(data)
    assert float(rows[0]["discharge_mah"]) == pytest.approx(report.cycles[0]["discharge_mah"])
    assert rows[0]["discharge_mah_g"] == ""  # null: no mass
    assert "warning: no active mass" in result.stderr  # the CSV has no place for warnings


def test_table_shows_display_units_and_summary(cli, fake_read, tmp_path):
    fake_read(symmetric_run(n_half=4))
    result = cli("cycles", tmp_path / "li.mpr", "--area-cm2", "0.636")
    assert result.exit_code == 0, result.stderr
    assert "kΩ·cm²" in result.stdout and "η mV" in result.stdout
    assert "400.0" in result.stdout  # 0.4 V shown in mV
    assert "10" in result.stdout  # ASR 10 kΩ·cm²
    assert "short circuit: none detected" in result.stdout


def test_table_full_cell(cli, fake_read, tmp_path):
    data, _ = full_run(n_cycles=3, mass_mg=5.0, extra_half=True)
    fake_read(data)
    result = cli("cycles", tmp_path / "x.mpr")
    assert result.exit_code == 0
    assert "mAh/g" in result.stdout and "CE %" in result.stdout
    assert "incomplete" in result.stdout
    assert "fade %/cycle" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_output_file(cli, fake_read, tmp_path, fmt):
    data, _ = full_run(n_cycles=2)
    fake_read(data)
    out = tmp_path / f"report.{fmt}"
    result = cli("cycles", tmp_path / "x.mpr", "-f", fmt, "-o", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text) == analyze(data).to_dict()
    elif fmt == "csv":
        assert text.startswith("cycle,first_half,complete")
    else:
        assert "CE %" in text


def test_unwritable_output_exits_2(cli, fake_read, tmp_path):
    data, _ = full_run(n_cycles=2)
    fake_read(data)
    result = cli("cycles", tmp_path / "x.mpr", "-f", "json", "-o", tmp_path / "no" / "such" / "dir.json")
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_no_current_exits_3_with_one_line(cli, fake_read, tmp_path):
    import numpy as np

    fake_read(make_data(np.arange(20.0), np.full(20, 3.0), np.zeros(20)))
    result = cli("cycles", tmp_path / "ocv.mpr")
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ocv.mpr" in lines[0] and "no current" in lines[0] and "--" in lines[0]
    assert result.stdout == ""


def test_missing_file_exits_3(cli, tmp_path):
    result = cli("cycles", tmp_path / "nope.mpr")
    assert result.exit_code == 3
    assert "no such file" in result.stderr


def test_bad_option_values_exit_2(cli, fake_read, tmp_path):
    fake_read(symmetric_run(n_half=2))
    assert cli("cycles", tmp_path / "x.mpr", "--cell", "half").exit_code == 2
    result = cli("cycles", tmp_path / "x.mpr", "--mass-mg", "-3")
    assert result.exit_code == 2 and "--mass-mg" in result.stderr
    result = cli("cycles", tmp_path / "x.mpr", "--thickness-mm", "1")
    assert result.exit_code == 2 and "--conductivity-s-cm" in result.stderr


def test_real_file_json(cli, realdata):
    path = realdata / "yadg/gcpl.pr_182.1.mpr"
    result = cli("cycles", path, "-f", "json")
    if result.exit_code == 3 and "no reader" in result.stderr.lower():
        pytest.skip(f"no .mpr reader yet: {result.stderr.strip()}")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    from cycler_cli.io import read

    assert out == analyze(read(path)).to_dict()
    assert out["cell_type"] == "full" and out["summary"]["first_half"] == "discharge"


def test_module_level_imports_are_light():
    import subprocess

    code = (
        "import sys, cycler_cli.cli_cycles; "
        "print([m for m in ('numpy','pandas','scipy','rich','galvani') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
