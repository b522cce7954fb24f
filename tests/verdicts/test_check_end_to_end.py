"""``cycler check`` end to end: synthetic runs written as canonical CSV, read by the real
reader, analysed by ``cycler_cli.analysis.analyze``, judged by the rules.

Protocol (domain.md §1.4): 40 µA/cm² on 0.636 cm² (25.44 µA), 2 h strip, 10 min rest, 2 h
plate, 10 min rest, 100 h (23 cycles and a bit), one point a minute."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

AREA_CM2 = 0.636
CURRENT_A = 40e-6 * AREA_CM2
STEP_S, REST_S, SPAN_S, DT_S = 7200.0, 600.0, 100 * 3600.0, 60.0


def _symmetric_csv(path: Path, eta_v) -> Path:
    """Write a Li|Li run whose |V| under current is ``eta_v(t_s)`` (0 V at rest)."""
    t = np.arange(0.0, SPAN_S + DT_S / 2, DT_S)
    period = 2 * (STEP_S + REST_S)
    phase = np.mod(t, period)
    strip = phase < STEP_S
    plate = (phase >= STEP_S + REST_S) & (phase < 2 * STEP_S + REST_S)
    current = np.where(strip, CURRENT_A, np.where(plate, -CURRENT_A, 0.0))
    voltage = np.sign(current) * eta_v(t)
    lines = ["time_s,voltage_v,current_a"] + [f"{a:.1f},{b:.6f},{c:.6e}" for a, b, c in zip(t, voltage, current)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    pytest.importorskip("cycler_cli.analysis")
    monkeypatch.chdir(tmp_path)


def _check(cli, path, *extra):
    result = cli("check", path, "--cell", "symmetric", "--area-cm2", AREA_CM2, "-f", "json", *extra)
    return result, (json.loads(result.stdout) if result.stdout else None)


def _verdict(data, rule):
    return next(v for v in data["files"][0]["verdicts"] if v["rule"] == rule)


def test_flat_run_near_0_4_v_passes(cli, tmp_path):
    path = _symmetric_csv(tmp_path / "flat.csv", lambda t: 0.4 + 0.002 * np.sin(t / 900.0))
    result, data = _check(cli, path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert data["status"] == "pass"
    drift = _verdict(data, "overpotential-drift")
    assert drift["status"] == "pass" and abs(drift["value"]) < 2.0
    assert _verdict(data, "short-circuit")["status"] == "pass"
    # whole-cell ASR = η / j = 0.4 V / 40 µA/cm² = 10 000 Ω·cm² (domain.md §1.4)
    assert data["files"][0]["analysis"]["summary"]["asr_ohm_cm2_median"] == pytest.approx(1.0e4, rel=0.01)


def test_run_rising_50_pct_in_100_h_fails_on_drift(cli, tmp_path):
    path = _symmetric_csv(tmp_path / "rising.csv", lambda t: 0.18 * (1 + 0.5 * t / SPAN_S))
    result, data = _check(cli, path)
    assert result.exit_code == 1
    assert data["status"] == "fail"
    drift = _verdict(data, "overpotential-drift")
    assert drift["status"] == "fail"
    # closed form: slope 0.09 V / 100 h over a reference of ~0.18 V is +50 %/100 h
    assert drift["value"] == pytest.approx(50.0, rel=0.03)
    assert "overpotential rose" in drift["message"] and "% per 100 h" in drift["message"]
    assert f"{drift['value']:.1f} % per 100 h" in drift["message"]
    table = cli("check", path, "--cell", "symmetric", "--area-cm2", AREA_CM2)
    assert table.exit_code == 1 and "overpotential-drift" in table.stdout and "FAIL" in table.stdout


def test_rising_run_passes_with_a_looser_threshold(cli, tmp_path):
    path = _symmetric_csv(tmp_path / "rising.csv", lambda t: 0.18 * (1 + 0.5 * t / SPAN_S))
    result, data = _check(cli, path, "--set", "symmetric.overpotential-drift.max-pct-per-100h=60")
    assert result.exit_code == 0 and _verdict(data, "overpotential-drift")["status"] == "pass"


def test_resistance_consistency_against_the_papers_750_ohm_cm2(cli, tmp_path):
    # 0.4 V at 40 µA/cm² is 10 000 Ω·cm², far from 750 Ω·cm² (domain.md §0.5): fail
    path = _symmetric_csv(tmp_path / "flat.csv", lambda t: np.full_like(t, 0.4))
    result, data = _check(cli, path, "--asr-ohm-cm2", "750")
    assert result.exit_code == 1
    v = _verdict(data, "resistance-consistency")
    assert v["status"] == "fail" and v["value"] == pytest.approx(100 * (1e4 - 750) / 750, rel=0.01)
    result, data = _check(cli, path, "--asr-ohm-cm2", "9000")
    assert result.exit_code == 0 and _verdict(data, "resistance-consistency")["status"] == "pass"


def test_short_run_warns_and_skips_drift(cli, tmp_path):
    path = _symmetric_csv(tmp_path / "short.csv", lambda t: 0.18 * (1 + 5 * t / SPAN_S))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: int(3 * 7800 / DT_S)]) + "\n")  # 3 half-cycles
    result, data = _check(cli, path)
    assert result.exit_code == 0, result.stderr
    assert _verdict(data, "min-duration")["status"] == "warn"
    assert _verdict(data, "overpotential-drift")["status"] == "skip"


def test_junit_from_a_real_analysis(cli, tmp_path):
    import xml.etree.ElementTree as ET

    flat = _symmetric_csv(tmp_path / "flat.csv", lambda t: np.full_like(t, 0.4))
    rising = _symmetric_csv(tmp_path / "rising.csv", lambda t: 0.18 * (1 + 0.5 * t / SPAN_S))
    out = tmp_path / "junit.xml"
    result = cli("check", flat, rising, "--cell", "symmetric", "--area-cm2", AREA_CM2, "-f", "junit", "-o", out)
    assert result.exit_code == 1
    root = ET.parse(out).getroot()
    failed = [(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == [(str(rising), "overpotential-drift")]
