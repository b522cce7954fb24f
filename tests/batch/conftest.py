"""Fixtures for the batch tests: a folder of small generated runs (made once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

N_RUNS = 200


def make_runs(directory: Path, n: int = N_RUNS) -> list[Path]:
    """``n`` small simulated runs (symmetric and full, .mpr and .csv, different drifts and
    seeds, so their verdicts differ) plus two files no reader claims."""
    from cycler_cli.io.writers import write
    from cycler_cli.simulate import simulate_full, simulate_symmetric

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        if i % 4 == 3:
            data = simulate_full(cycles=3 + i % 3, interval_s=1800.0, retention_per_cycle=0.9 + 0.01 * (i % 9), seed=i)
        else:
            data = simulate_symmetric(
                duration_s=8 * 3600.0, step_s=3600.0, rest_s=600.0, interval_s=300.0,
                drift="linear", drift_per_100h=0.1 * (i % 7), seed=i,
            )
        suffix = "csv" if i % 5 == 0 else "mpr"
        paths.append(write(data, directory / f"run{i:03d}.{suffix}"))
    (directory / "README.md").write_text("# not a run\n", encoding="utf-8")
    (directory / "notes.txt").write_text("cell 12 leaked\n", encoding="utf-8")
    return paths


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("runs200")
    make_runs(directory)
    return directory
