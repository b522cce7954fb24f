"""Cross-format agreement: the same BioLogic run read from its ``.mpr`` (binary, reader
``biologic-mpr``) and from EC-Lab's own ``.mpt`` export (reader ``biologic-mpt``) must give the
same :class:`~cycler_cli.model.CyclingData`.

The pairs are yadg's test files (``yadg/<name>.mpr`` + ``yadg/<name>.mpt``).

Tolerances, and why: ``time/s`` is float64 in the ``.mpr`` and printed with 16 significant
digits in the ``.mpt``; ``Ewe/V``, ``I/mA`` and most other columns are float32 in the ``.mpr``
and printed with 8 significant digits (``%.7E``), so a printed value is within 5e-8 relative of
the stored one. ``rtol = 1e-6`` therefore leaves a 20x margin and still catches any unit,
scaling or alignment error; ``atol = 0`` (zeros are printed as exact zeros).

Where a pair genuinely differs, it is because EC-Lab computes a column on export that the
``.mpr`` does not store; each such case is a rule below, keyed by the pair of source columns
the two readers used (``meta.columns``), and asserted specifically. A pair of sources no rule
explains fails the test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cycler_cli.errors import InputError
from cycler_cli.io import biologic_mpt, read

RTOL = 1e-6
#: ``Ewe - Ece`` computed from two float32 values (each within 5e-8 relative of the printed
#: ones, |E| < 10 V) against EC-Lab's printed difference: an absolute bound, since the
#: difference can be near zero while the potentials are not.
ATOL_DIFFERENCE_V = 2e-6


def _yadg(realdata: Path) -> Path:
    return realdata / "yadg"


def _stems() -> list[str]:
    """Pair names, from the real data folder when present (else none; the test then skips)."""
    root = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "yadg"  # as tests/conftest.py
    if not root.is_dir():
        return ["(real data absent)"]
    return sorted(p.name[:-4] for p in root.glob("*.mpt") if (root / (p.name[:-4] + ".mpr")).is_file())


def _mpr_reader_ready() -> bool:
    return importlib.util.find_spec("cycler_cli.io.biologic_mpr") is not None


def _sources(data) -> dict[str, str]:
    return {c.canonical: c.source for c in data.meta.columns}


@pytest.mark.parametrize("stem", _stems())
def test_mpr_and_mpt_give_the_same_run(realdata, stem):
    if not _mpr_reader_ready():
        pytest.skip("the .mpr reader (cycler_cli/io/biologic_mpr.py) does not exist yet")
    root = _yadg(realdata)
    mpr_path, mpt_path = root / f"{stem}.mpr", root / f"{stem}.mpt"
    mpt = read(mpt_path)
    assert mpt.meta.reader == "biologic-mpt"
    try:
        mpr = read(mpr_path)
    except InputError as exc:
        pytest.skip(f"the .mpr reader cannot read {mpr_path.name} yet: {exc.one_line()}")
    assert mpr.meta.reader == "biologic-mpr"
    raw, _ = biologic_mpt.read_columns(mpt_path)  # the .mpt's own columns, for the known differences
    a, b = _sources(mpr), _sources(mpt)
    applied: list[str] = []

    assert len(mpr) == len(mpt)
    # time: the same float64 column on both sides
    np.testing.assert_allclose(mpr.column("time_s"), mpt.column("time_s"), rtol=RTOL, atol=0)
    _check_voltage(mpr, mpt, raw, a["voltage_v"], b["voltage_v"], applied)
    _check_current(mpr, mpt, raw, a["current_a"], b["current_a"], applied)
    _check_indices(mpr, mpt, a, b, applied)
    _check_meta(mpr, mpt, applied)
    print(f"\n{stem}: {len(mpt)} rows agree" + (f"; known differences: {'; '.join(applied)}" if applied else ""))


def _check_voltage(mpr, mpt, raw, sa: str, sb: str, applied: list[str]) -> None:
    if _same_name(sa, sb):
        np.testing.assert_allclose(mpr.column("voltage_v"), mpt.column("voltage_v"), rtol=RTOL, atol=0)
    elif sa.startswith("derived:") and "Ece" in sa and sb in ("Ewe-Ece/V", "Ecell/V"):
        # The .mpr stores Ewe and Ece; its reader subtracts them as EC-Lab's export does.
        np.testing.assert_allclose(mpr.column("voltage_v"), mpt.column("voltage_v"), rtol=RTOL, atol=ATOL_DIFFERENCE_V)
        applied.append(f"voltage {sa} vs printed {sb}")
    elif sb in ("Ewe-Ece/V", "Ecell/V") and sa in raw:
        # EC-Lab computed a cell voltage on export that the .mpr has no column for: the .mpt's
        # own copy of the column the .mpr reader used must match it.
        np.testing.assert_allclose(mpr.column("voltage_v"), raw[sa], rtol=RTOL, atol=0)
        applied.append(f"voltage: .mpt has {sb} (computed on export), .mpr only {sa}")
    else:
        pytest.fail(f"voltage from {sa!r} (.mpr) and {sb!r} (.mpt): no rule explains the difference")


def _check_current(mpr, mpt, raw, sa: str, sb: str, applied: list[str]) -> None:
    ia, ib = mpr.column("current_a"), mpt.column("current_a")
    if sa == sb:
        np.testing.assert_allclose(ia, ib, rtol=RTOL, atol=0)
        return
    if not (sa.startswith("derived") and sb in ("<I>/mA", "I/mA")):
        pytest.fail(f"current from {sa!r} (.mpr) and {sb!r} (.mpt): no rule explains the difference")
    # Raw GCPL .mpr files have no current column: it is derived from the set point, mode and
    # dq/mA.h; the .mpt export carries EC-Lab's <I>/mA (charge since the previous point over
    # the time step). Where the .mpr reader used the set point, it must be the set point the
    # .mpt prints (control/V/mA); rest points are 0 in both; dq/Δt points agree with <I>/mA.
    mode = mpt.column("control_mode")
    np.testing.assert_array_equal(mpr.column("control_mode"), mode)
    rest = mode == 3
    assert np.all(ia[rest] == 0) and np.all(ib[rest] == 0)
    set_point = next((c for c in ("control/V/mA", "control/mA") if sa.startswith(f"derived: {c} where mode")), None)
    cc = mode == 1 if set_point else np.zeros(len(mode), dtype=bool)
    if set_point:
        np.testing.assert_allclose(ia[cc], raw[set_point][cc] / 1000, rtol=RTOL, atol=0)
    from_dq = ~rest & ~cc & np.isfinite(ia)
    assert np.count_nonzero(~rest & ~cc & ~np.isfinite(ia)) <= 1  # only a first point has no Δt
    np.testing.assert_allclose(ia[from_dq], ib[from_dq], rtol=1e-5, atol=1e-12)
    applied.append(f"current {sa[:60]}... vs printed {sb}")


def _check_indices(mpr, mpt, a, b, applied: list[str]) -> None:
    np.testing.assert_array_equal(mpr.column("half_cycle"), mpt.column("half_cycle"))
    np.testing.assert_array_equal(mpr.column("step"), mpt.column("step"))
    if a["cycle"] == b["cycle"]:
        np.testing.assert_array_equal(mpr.column("cycle"), mpt.column("cycle"))
    elif b["cycle"] == "cycle number" and a["cycle"].startswith("derived"):
        # EC-Lab's "cycle number" exists only in the export (computed by EC-Lab from its own
        # cycle definition); from the .mpr the cycle is ceil(half cycle / 2). The half-cycles
        # agree point by point (above); the cycle labels may not.
        np.testing.assert_array_equal(mpr.column("cycle"), (mpr.column("half_cycle") + 1) // 2)
        applied.append("cycle: EC-Lab's exported cycle number vs ceil(half cycle / 2)")
    else:
        pytest.fail(f"cycle from {a['cycle']!r} (.mpr) and {b['cycle']!r} (.mpt): no rule explains it")
    for name in ("control_mode", "charge_ah", "temperature_c"):
        if name in mpr.frame and name in mpt.frame and a.get(name) == b.get(name):
            np.testing.assert_allclose(mpr.column(name), mpt.column(name), rtol=RTOL, atol=1e-15, err_msg=name)


def _check_meta(mpr, mpt, applied: list[str]) -> None:
    if not mpt.meta.extra["header_block"]:
        # a 3-line-header export carries no metadata; the .mpr settings and log modules do
        assert mpt.meta.start_time is None and mpt.meta.electrode_area_cm2 is None
        assert mpt.meta.active_mass_mg is None
        applied.append("no header block in the .mpt: mass, area and start time only from the .mpr")
        return
    for field in ("active_mass_mg", "characteristic_mass_mg", "electrode_area_cm2"):
        got, want = getattr(mpr.meta, field), getattr(mpt.meta, field)
        assert (got is None) == (want is None), (field, got, want)
        if want is not None:
            assert got == pytest.approx(want, rel=RTOL), field  # float32 in the .mpr settings
    assert mpr.meta.start_time is not None and mpt.meta.start_time is not None
    assert abs((mpr.meta.start_time - mpt.meta.start_time).total_seconds()) <= 1e-3


def _same_name(mpr_name: str, mpt_name: str) -> bool:
    """EC-Lab versions spell the averaged potential ``<Ewe>/V`` or ``<Ewe/V>``."""
    spellings = {"<Ewe/V>": "<Ewe>/V"}
    return spellings.get(mpr_name, mpr_name) == spellings.get(mpt_name, mpt_name)


def test_every_yadg_mpt_has_its_pair_or_a_reason(realdata):
    """Every yadg .mpt is paired with its .mpr, except the re-exports with no .mpr of their own."""
    root = _yadg(realdata)
    unpaired = sorted(p.name for p in root.glob("*.mpt") if not (root / (p.name[:-4] + ".mpr")).is_file())
    # mb.issue_95.de.mpt is the German-locale twin of mb.issue_95 (tested in test_biologic_mpt);
    # *.old.mpt are older-EC-Lab exports of mb/ocv/wait.
    assert unpaired == ["mb.issue_95.de.mpt", "mb.old.mpt", "ocv.old.mpt", "wait.old.mpt"]
