"""Novonix CSV: the [Summary]/[Protocol]/[Data] layout with every line quoted, hours, step-type signs."""

from __future__ import annotations

import numpy as np
import pytest

from cycler_cli.io import registry

HEADER = "Date and Time,Cycle Number,Step Type,Run Time (h),Step Time (h),Current (A),Potential (V),Capacity (Ah),Temperature (°C),Step Number"
ROWS = [
    "2022-04-11 10:58:07 AM,1,0,0.0,0.0,0.0,3.0,0.0,25.0,1",
    "2022-04-11 11:58:07 AM,1,1,1.0,1.0,0.1,3.9,0.1,25.0,2",
    "2022-04-11 12:28:07 PM,1,8,1.5,0.5,0.05,4.2,0.125,25.0,3",
    "2022-04-11 01:28:07 PM,1,2,2.5,1.0,0.1,3.5,0.1,25.0,4",
]


def write(path, rows, quoted=True):
    q = (lambda s: f'"{s}"') if quoted else (lambda s: s)
    text = "[Summary]\nNovonix HPC data file\nMass (g): 1.000\nStarted: 2022-04-11 10:58:07 AM\nVersion: 2.2.1.6\n[End Summary]\n"
    text += "[Protocol]\n[0: Open_circuit_storage:]\n[End Protocol]\n[Data]\n"
    text += "\n".join(q(r) for r in [HEADER] + rows) + "\n"
    path.write_text(text, encoding="utf-8")


def test_novonix_quoted_lines_hours_and_signs(tmp_path):
    path = tmp_path / "n.csv"
    write(path, ROWS)
    data = registry.read(path)
    assert data.meta.reader == "novonix-csv"
    frame = data.frame
    np.testing.assert_allclose(frame.time_s, [0, 3600, 5400, 9000])
    # the discharge step (type 2) has a magnitude-only current in this file: negated
    np.testing.assert_allclose(frame.current_a, [0, 0.1, 0.05, -0.1])
    # Capacity counts on over CC (type 1) and CV (type 8) of one charge, restarts on discharge
    np.testing.assert_allclose(frame.charge_ah, [0, 0.1, 0.125, 0.025])
    np.testing.assert_array_equal(frame.control_mode, [3, 1, 2, 1])
    assert data.meta.extra["summary"]["Mass (g)"] == "1.000"
    assert data.meta.start_time.isoformat() == "2022-04-11T10:58:07"


def test_novonix_unquoted_lines(tmp_path):
    path = tmp_path / "n.csv"
    write(path, ROWS, quoted=False)
    data = registry.read(path)
    assert len(data) == 4 and data.meta.reader == "novonix-csv"


def test_novonix_real_file_figures(realdata):
    """The short BEEP sample: one formation charge, 3942 rows, 17.43 h."""
    data = registry.read(realdata / "beep/test_Nova_Form-CH01-01_short.csv")
    assert len(data) == 3942
    assert data.frame.time_s.iloc[-1] == pytest.approx(17.4345750 * 3600)  # last Run Time (h)
    # the file's last Capacity (Ah) is 0.0294679161, the charge of that step
    assert abs(data.frame.charge_ah.iloc[-1] - 0.0294679161) < 1e-9


def test_novonix_long_protocol_before_data(tmp_path):
    """A [Protocol] block longer than the 64 kB sniffing window."""
    path = tmp_path / "n.csv"
    write(path, ROWS)
    text = path.read_text(encoding="utf-8")
    filler = "".join(f"[{k}: Constant_current_charge: 20 C/xx to 3.9 V]\n   [StepLimits 0 60 0 50]\n" for k in range(2000))
    path.write_text(text.replace("[Protocol]\n", "[Protocol]\n" + filler), encoding="utf-8")
    assert path.stat().st_size > 100_000
    data = registry.read(path)
    assert data.meta.reader == "novonix-csv" and len(data) == 4
