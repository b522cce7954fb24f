"""cycler plot: every sample run gives a valid image of the asked size, with labelled axes and ink."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLES

SAMPLE_FILES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".mpr", ".mpt", ".csv"))


def _image(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def _ink_fraction(pixels: np.ndarray) -> float:
    return float(np.mean(pixels.min(axis=2) < 200))


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_plot_each_sample_run(cli, tmp_path: Path, name: str) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib not installed (pip install 'cycler-cli[plot]')")
    out = tmp_path / f"{name}.png"
    result = cli("plot", SAMPLES / name, "-o", out, "--width-px", 900, "--height-px", 700)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    pixels = _image(out)
    assert pixels.shape == (700, 900, 3)
    assert _ink_fraction(pixels) > 0.02  # not a blank canvas


@pytest.mark.parametrize(
    ("name", "kind", "xlabel", "ylabel"),
    [
        ("li-lzp-li_80C_40uA.mpr", "voltage", "time (h)", "cell voltage (V)"),
        ("li-au-lzp-au-li_80C_40uA.mpr", "overpotential", "half-cycle mid-time (h)", "overpotential |η| (V)"),
        ("li-lzp-ltp_80C.mpr", "voltage-capacity", "capacity since half-cycle start (mAh/g)", "cell voltage (V)"),
        ("li-lzp-ltp_80C.mpr", "capacity", "cycle", "capacity (mAh/g)"),
    ],
)
def test_plot_kinds_label_their_axes_with_units(tmp_path: Path, name: str, kind: str, xlabel: str, ylabel: str) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib not installed (pip install 'cycler-cli[plot]')")
    from cycler_cli.analysis import analyze
    from cycler_cli.io import read
    from cycler_cli.plot import plot_run

    data = read(SAMPLES / name)
    info = plot_run(data, analyze(data).to_dict(), tmp_path / "k.png", kind=kind, width_px=640, height_px=480)
    first = info["axes"][0]
    assert (first["xlabel"], first["ylabel"]) == (xlabel, ylabel)
    assert name in first["title"]
    assert _image(tmp_path / "k.png").shape == (480, 640, 3)
    if kind == "capacity":
        assert info["axes"][1]["ylabel"] == "coulombic efficiency (%)"


def test_plot_svg_and_errors(cli, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib not installed (pip install 'cycler-cli[plot]')")
    svg = tmp_path / "a.svg"
    assert cli("plot", SAMPLES / "li-lzp-ltp_50C.mpr", "-o", svg, "--kind", "capacity").exit_code == 0
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    bad_kind = cli("plot", SAMPLES / "li-lzp-li_80C_40uA.mpr", "-o", tmp_path / "b.png", "--kind", "capacity")
    assert bad_kind.exit_code == 2 and "full cells" in bad_kind.stderr
    bad_suffix = cli("plot", SAMPLES / "li-lzp-li_80C_40uA.mpr", "-o", tmp_path / "b.jpg")
    assert bad_suffix.exit_code == 2 and ".png" in bad_suffix.stderr
    missing = cli("plot", tmp_path / "nope.mpr", "-o", tmp_path / "c.png")
    assert missing.exit_code == 3 and "no such file" in missing.stderr
    assert not (tmp_path / "b.png").exists()


def test_half_cycle_capacity_matches_the_table() -> None:
    """The per-point charge in voltage-capacity ends each half-cycle at the table's capacity."""
    from cycler_cli.analysis import analyze, segment_run
    from cycler_cli.io import read
    from cycler_cli.plot import half_cycle_capacity_ah

    data = read(SAMPLES / "li-lzp-ltp_80C.mpr")
    seg = segment_run(data.column("time_s"), data.column("voltage_v"), data.column("current_a"))
    q = half_cycle_capacity_ah(seg)
    rows = analyze(data).to_dict()["cycles"]
    ends_mah = q[seg.last_on] * 1000.0
    table_mah = [r[f"{half}_mah"] for r in rows for half in ("discharge", "charge")]
    np.testing.assert_allclose(ends_mah, table_mah, rtol=1e-9)
