"""Shared fixtures: where the real files are, and a CLI runner that keeps stdout and stderr apart."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
SAMPLES = ROOT / "sample_runs"


def realdata_dir() -> Path:
    """``../shared/realdata`` or skip: a user's clone has no ``../shared``."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available: {REALDATA} is absent (only CI and developers have ../shared)")
    return REALDATA


@pytest.fixture
def realdata() -> Path:
    return realdata_dir()


@pytest.fixture
def cli():
    """Invoke the CLI in-process: ``cli(args) -> Result`` with ``.exit_code``, ``.stdout``, ``.stderr``."""
    from typer.testing import CliRunner

    from cycler_cli.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke
