"""The run generator (cycler_cli/simulate.py), `cycler simulate`, and sample_runs/.

Model checks compare against values computed here by hand or in closed form; sample checks
regenerate every file into tmp_path and compare bytes with sample_runs/."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from cycler_cli.errors import ConfigError
from cycler_cli.simulate import (
    SAMPLES,
    SoftShort,
    exchange_current_for,
    ltp_ocv_v,
    sample_data,
    simulate_full,
    simulate_symmetric,
    write_samples,
)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_runs"
RT_F_80C = 8.314462618 * 353.15 / 96485.33212  # 0.030432 V


def _settled(frame, tau_min_s=600.0):
    """Current-on points at least tau_min_s after their step's onset (past the RC transient)."""
    on = frame["current_a"].to_numpy() != 0
    t = frame["time_s"].to_numpy()
    onset = np.maximum.accumulate(np.where(np.r_[True, np.diff(frame["step"].to_numpy()) != 0] & on, t, 0.0))
    return on & (t - onset >= tau_min_s)


def _plateau(frame, tau_min_s=600.0):
    """Median |V| of the settled current-on points, per half-cycle."""
    keep = _settled(frame, tau_min_s)
    return frame[keep].assign(absv=np.abs(frame["voltage_v"][keep])).groupby("half_cycle")["absv"].median()


# ----------------------------------------------------------------------------------------------
# symmetric model


def test_same_seed_same_run_other_seed_other_noise():
    a = simulate_symmetric(duration_s=5 * 3600.0, seed=3)
    b = simulate_symmetric(duration_s=5 * 3600.0, seed=3)
    c = simulate_symmetric(duration_s=5 * 3600.0, seed=4)
    assert a.frame.equals(b.frame)
    assert not np.array_equal(a.frame["voltage_v"], c.frame["voltage_v"])
    np.testing.assert_array_equal(a.frame["current_a"], c.frame["current_a"])


def test_exchange_current_by_hand():
    # 0.36 V over two interfaces at 40 µA/cm², 80 °C: 0.18 V each = (2RT/F) asinh(j / 2 j0)
    x = math.sinh(0.18 / (2 * RT_F_80C))
    assert exchange_current_for(0.36, 40e-6, 80.0) == pytest.approx(40e-6 / (2 * x), rel=1e-9)
    assert exchange_current_for(0.36, 40e-6, 80.0) == pytest.approx(2.07e-6, rel=0.01)


def test_steady_overpotential_matches_closed_form():
    j, asr, j0 = 40e-6, 1000.0, 2.0e-6
    data = simulate_symmetric(duration_s=10 * 3600.0, noise_v=0.0, asr_bulk_ohm_cm2=asr, j0_a_cm2=j0)
    want = j * asr + 4 * RT_F_80C * math.asinh(j / (2 * j0))  # 0.04 V + two BV interfaces
    plateau = _plateau(data.frame)
    np.testing.assert_allclose(plateau.to_numpy(), want, rtol=1e-6)
    assert want == pytest.approx(0.40, abs=0.01)


def test_programme_timing_current_and_charge_by_hand():
    data = simulate_symmetric(noise_v=0.0)  # 100 h, 2 h / 10 min / 2 h / 10 min after 10 min rest
    f = data.frame
    i = 40e-6 * 0.636
    assert set(np.round(np.unique(f["current_a"]) / i, 12)) == {-1.0, 0.0, 1.0}
    # half-cycle k starts at 600 s + (k - 1) * 7800 s; the last one starting before 100 h is 47
    assert f["half_cycle"].max() == 47 == 1 + int((100 * 3600 - 600 - 1) // 7800)
    assert f["time_s"].iloc[-1] == pytest.approx(100 * 3600.0)
    assert np.median(np.diff(f["time_s"])) == 60.0
    # charge after the first stripping step, and after a full cycle, in Ah
    q = f.set_index("time_s")["charge_ah"]
    assert q[600.0 + 7200.0] == pytest.approx(i * 7200 / 3600, rel=1e-12)
    assert q[600.0 + 2 * 7800.0] == pytest.approx(0.0, abs=1e-15)
    # every current step records its end point, so the trapezoid over each step is exact
    on = f[f["current_a"] != 0]
    for _, step in list(on.groupby("half_cycle"))[:4]:
        assert np.trapezoid(step["current_a"], step["time_s"]) == pytest.approx(
            step["charge_ah"].iloc[-1] * 3600 - step["charge_ah"].iloc[0] * 3600, rel=1e-9)


def test_rest_relaxes_and_first_step_strips():
    f = simulate_symmetric(duration_s=6 * 3600.0, noise_v=0.0).frame
    assert f["current_a"].iloc[0] == 0 and f["voltage_v"].iloc[0] == 0.0
    first_on = f[f["current_a"] != 0].iloc[0]
    assert first_on["current_a"] > 0 and first_on["voltage_v"] > 0
    rest = f[(f["current_a"] == 0) & (f["half_cycle"] == 1)]["voltage_v"].to_numpy()
    assert np.all(np.diff(rest) < 0) and rest[-1] < 1e-3  # relaxes from the stripping overpotential


@pytest.mark.parametrize("shape,d", [("linear", 0.67), ("exponential", 1.5)])
def test_drift_factor_by_hand(shape, d):
    f = simulate_symmetric(noise_v=0.0, drift=shape, drift_per_100h=d).frame
    plateau = _plateau(f, tau_min_s=600.0)
    mid_t = f[f["current_a"] != 0].groupby("half_cycle")["time_s"].median()
    g = (1 + d * mid_t / 360000.0) if shape == "linear" else (1 + d) ** (mid_t / 360000.0)
    ratio = (plateau / plateau.iloc[0]) / (g / g.iloc[0])
    np.testing.assert_allclose(ratio.to_numpy(), 1.0, rtol=0.01)  # plateau median vs mid-time factor


def test_hard_short_collapses_and_stays():
    f = simulate_symmetric(duration_s=30 * 3600.0, hard_short_half_cycle=6, hard_short_fraction=0.5,
                           short_resistance_ohm=20.0).frame
    t_short = 600.0 + 5 * 7800.0 + 0.5 * 7200.0
    after = f["time_s"] >= t_short
    assert np.all(np.abs(f["voltage_v"][after]) < 2e-3)  # 25.44 µA × 20 Ω = 0.5 mV
    before_on = (~after) & _settled(f)
    assert np.all(np.abs(f["voltage_v"][before_on]) > 0.2)


def test_soft_short_dips_then_recovers():
    f = simulate_symmetric(duration_s=10 * 3600.0, noise_v=0.0,
                           soft_shorts=(SoftShort(2, at_fraction=0.5, depth=0.4, recovery_s=1200.0),)).frame
    h2 = f[(f["half_cycle"] == 2) & _settled(f)]
    v = np.abs(h2["voltage_v"].to_numpy())
    k = int(np.argmin(v))
    assert v[k] == pytest.approx(0.6 * v[k - 1], rel=0.01)  # a 40 % drop between two samples
    assert v[-1] > 0.95 * v[k - 1]  # recovered by the end of the step


def test_voltage_limit_stops_the_run():
    data = simulate_symmetric(drift="exponential", drift_per_100h=100.0, voltage_limit_v=2.0)
    assert np.abs(data.frame["voltage_v"]).max() <= 2.0
    assert data.frame["time_s"].iloc[-1] < 100 * 3600.0
    assert data.meta.extra["simulation"]["stopped_on_voltage_limit"]


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        simulate_symmetric(current_density_a_cm2=-1.0)
    with pytest.raises(ConfigError):
        simulate_symmetric(drift="wobbly", drift_per_100h=0.1)
    with pytest.raises(ConfigError):
        simulate_symmetric(duration_s=3600.0, hard_short_half_cycle=9)
    with pytest.raises(ConfigError):
        simulate_full(v_min=3.0, v_max=2.0)
    with pytest.raises(ConfigError):
        simulate_full(v_min=0.5, v_max=5.0)  # beyond what the LTP curve reaches
    with pytest.raises(ConfigError):
        simulate_symmetric(seed=-1)
    with pytest.raises(ConfigError):
        simulate_full(noise_v=-1e-3)


# ----------------------------------------------------------------------------------------------
# full-cell model


def test_ltp_ocv_plateau_and_monotonic():
    assert float(ltp_ocv_v(np.array([0.5]), 80.0)[0]) == pytest.approx(2.48, abs=1e-9)
    v = ltp_ocv_v(np.linspace(0.01, 0.99, 999), 80.0)
    assert np.all(np.diff(v) < 0)


def _half_capacities_mah_g(frame, mass_mg):
    q = frame.groupby("half_cycle")["charge_ah"].agg(lambda s: s.max() - s.min())
    return (q[q.index > 0] * 1e6 / mass_mg).to_numpy()


def test_full_cell_capacities_by_hand():
    data = simulate_full(first_capacity_mah_g=115.0, retention_per_cycle=0.97, coulombic_efficiency=0.99,
                         cycles=5, active_mass_mg=2.0)
    q = _half_capacities_mah_g(data.frame, 2.0)
    dis, ch = q[0::2], q[1::2]
    np.testing.assert_allclose(dis, 115.0 * 0.97 ** np.arange(5), rtol=1e-9)
    np.testing.assert_allclose(ch / dis, 0.99, rtol=1e-9)
    # 115 mAh/g × 2 mg = 0.23 mAh at 6.36 µA is 36.16 h
    on = data.frame[(data.frame["half_cycle"] == 1) & (data.frame["current_a"] != 0)]["time_s"]
    assert on.iloc[-1] - on.iloc[0] == pytest.approx(0.23e-3 / 6.36e-6 * 3600, rel=1e-9)


def test_full_cell_discharge_first_ends_on_voltage_limits():
    f = simulate_full(cycles=3, noise_v=0.0).frame
    on = f[f["current_a"] != 0]
    assert on["current_a"].iloc[0] < 0
    ends = on.groupby("half_cycle")["voltage_v"].last().to_numpy()
    np.testing.assert_allclose(ends[0::2], 2.0, atol=1e-3)
    np.testing.assert_allclose(ends[1::2], 3.0, atol=1e-3)
    assert f["voltage_v"].between(1.99, 3.01).all()


def test_full_cell_charge_first():
    f = simulate_full(cycles=2, discharge_first=False, noise_v=0.0).frame
    assert f[f["current_a"] != 0]["current_a"].iloc[0] > 0


# ----------------------------------------------------------------------------------------------
# sample_runs/


def test_samples_regenerate_byte_identical(tmp_path):
    paths = write_samples(tmp_path)
    assert {p.name for p in paths} == {s.name for s in SAMPLES}
    for path in paths:
        shipped = SAMPLE_DIR / path.name
        assert shipped.read_bytes() == path.read_bytes(), f"{path.name} differs: run sample_runs/make_samples.py"


def test_samples_fit_in_two_megabytes_and_are_documented():
    files = [SAMPLE_DIR / s.name for s in SAMPLES]
    assert sum(p.stat().st_size for p in files) < 2_000_000
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    for spec in SAMPLES:
        assert f"`{spec.name}`" in readme
        rules = [r for r in ("overpotential-drift", "short-circuit", "capacity-retention") if r in spec.expected]
        line = readme.split(f"`{spec.name}`", 1)[1].split("\n- ", 1)[0]
        assert ("**pass**" in line) == (spec.expected == "pass")
        assert all(r in line for r in rules)


def test_symmetric_samples_have_the_documented_shape():
    flat = _plateau(sample_data(SAMPLES[0]).frame)
    assert flat.iloc[0] == pytest.approx(0.40, abs=0.01) and flat.iloc[-1] / flat.iloc[0] < 1.05
    au = _plateau(sample_data(SAMPLES[1]).frame)
    assert au.iloc[0] == pytest.approx(0.18, abs=0.01) and au.iloc[-1] == pytest.approx(0.30, abs=0.01)
    steep = _plateau(sample_data(SAMPLES[2]).frame)
    assert steep.iloc[-1] > 2 * steep.iloc[0]
    short = sample_data(SAMPLES[3])
    assert np.median(np.diff(short.frame["time_s"])) <= 60.0
    last = short.frame[short.frame["half_cycle"] == short.frame["half_cycle"].max()]
    assert np.abs(last["voltage_v"]).max() < 2e-3


@pytest.mark.parametrize("index,first,retention", [(4, 70.0, 0.96 ** 9), (5, 115.0, 0.97 ** 9)])
def test_full_samples_have_the_documented_capacity(index, first, retention):
    data = sample_data(SAMPLES[index])
    assert data.meta.active_mass_mg == 2.0 and data.meta.electrode_area_cm2 == 0.636
    q = _half_capacities_mah_g(data.frame, 2.0)
    assert q[0] == pytest.approx(first, rel=1e-9)
    assert q[-2] / q[0] == pytest.approx(retention, rel=1e-9) and q[-2] / q[0] < 0.8


# ----------------------------------------------------------------------------------------------
# what `cycler check` says about the samples (skips until the check command exists)


def _status(result) -> dict[str, str]:
    import json

    report = json.loads(result.stdout)
    out: dict[str, str] = {}

    def walk(o):
        if isinstance(o, dict):
            if "status" in o and ("rule" in o or "id" in o):
                out[o.get("rule", o.get("id"))] = o["status"]
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(report.get("files", report))
    return out


@pytest.mark.parametrize("spec", SAMPLES, ids=[s.name for s in SAMPLES])
def test_cycler_check_says_what_the_readme_says(spec, cli):
    import importlib.util

    if importlib.util.find_spec("cycler_cli.cli_check") is None:
        pytest.skip("cycler check is not written yet")
    result = cli("check", "-f", "json", SAMPLE_DIR / spec.name)
    statuses = _status(result)
    if spec.expected == "pass":
        assert result.exit_code == 0, statuses
        assert "fail" not in statuses.values()
    else:
        assert result.exit_code == 1, statuses
        for rule in ("overpotential-drift", "short-circuit", "capacity-retention"):
            if rule in spec.expected:
                assert statuses.get(rule) == "fail", statuses


# ----------------------------------------------------------------------------------------------
# the command


def test_cli_simulate_symmetric_writes_a_readable_mpr(cli, tmp_path):
    from galvani.BioLogic import MPRfile

    out = tmp_path / "run.mpr"
    result = cli("simulate", "symmetric", "-o", out, "--hours", "8", "--seed", "5", "--short-at", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    with open(out, "rb") as fh:
        mpr = MPRfile(fh)
    assert mpr.data["time/s"][-1] == pytest.approx(8 * 3600.0)
    (tmp_path / "again").mkdir()
    again = tmp_path / "again" / "run.mpr"  # same name: the LOG module records the file name
    cli("simulate", "symmetric", "-o", again, "--hours", "8", "--seed", "5", "--short-at", "3")
    assert again.read_bytes() == out.read_bytes()


def test_cli_simulate_full_options_reach_the_model(cli, tmp_path):
    out = tmp_path / "run.csv"
    result = cli("simulate", "full", "-o", out, "--cycles", "2", "--capacity", "100", "--mass", "1.5",
                 "--retention", "0.9", "--ce", "0.98", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    import pandas as pd

    f = pd.read_csv(out)
    q = _half_capacities_mah_g(f, 1.5)
    np.testing.assert_allclose(q, [100.0, 98.0, 90.0, 88.2], rtol=1e-6)


def test_cli_simulate_usage_errors_exit_2(cli, tmp_path):
    result = cli("simulate", "full", "-o", tmp_path / "run.txt")
    assert result.exit_code == 2 and "--format" in result.stderr
    result = cli("simulate", "symmetric", "-o", tmp_path / "no" / "such" / "run.mpr")
    assert result.exit_code == 2 and "cannot write" in result.stderr
    result = cli("simulate", "symmetric", "-o", tmp_path / "x.mpr", "--overpotential", "0.01")
    assert result.exit_code == 2


def test_cli_simulate_samples_writes_the_set(cli, tmp_path):
    result = cli("simulate", "samples", "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    for spec in SAMPLES:
        assert (tmp_path / spec.name).read_bytes() == (SAMPLE_DIR / spec.name).read_bytes()


def test_default_start_time_is_fixed():
    assert simulate_full(cycles=1).meta.start_time == datetime(2024, 3, 4, 9, 30, 0)
